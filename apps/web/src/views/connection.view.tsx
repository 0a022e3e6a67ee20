import { connectionLabel } from '../realtime/connection-label.ts';
import type { StateDetail } from '../realtime/realtime.client.ts';

/** The realtime connection's state in the header (the dot's colour comes from data-state). */
export function ConnectionIndicator({ detail }: { detail: StateDetail }) {
  return (
    <output id="connection" class="connection" data-state={detail.state} data-reconnects={String(detail.reconnects)} role="status" aria-live="polite" title="Realtime connection">
      <span class="dot" aria-hidden="true"></span>
      <span class="label">{connectionLabel(detail)}</span>
    </output>
  );
}
