import type { StateDetail } from './realtime.client.ts';

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** What the connection indicator says for a state of the realtime client. */
export function connectionLabel(detail: StateDetail): string {
  switch (detail.state) {
    case 'idle':
      return 'not connected';
    case 'connecting':
      return detail.retryInMs !== undefined ? `connecting — retry in ${seconds(detail.retryInMs)}` : 'connecting…';
    case 'open':
      return detail.reconnects > 0 ? `connected (reconnected${detail.reconnects > 1 ? ` ×${detail.reconnects}` : ''})` : 'connected';
    case 'reconnecting':
      return detail.retryInMs !== undefined
        ? `connection lost — reconnecting in ${seconds(detail.retryInMs)} (attempt ${detail.attempt})`
        : `reconnecting… (attempt ${detail.attempt})`;
    case 'offline':
      return 'offline — will reconnect when the network is back';
    case 'unauthorized':
      return `not authorised${detail.reason ? `: ${detail.reason}` : ''} — check the API key`;
    case 'failed':
      return `stopped: ${detail.reason ?? 'protocol error'}`;
  }
}
