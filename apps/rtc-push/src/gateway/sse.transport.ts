import type { ServerResponse } from 'node:http';
import type { ServerFrame } from '@aip/contracts';
import type { FrameTransport } from '../delivery/connection.ts';

/** How long an ended response may take to flush before it is destroyed (a client that stopped reading never drains). */
export const SSE_CLOSE_GRACE_MS = 5_000;

/**
 * The push stream of one SSE client. Writes stop once the response is ended or destroyed, and
 * `close` (slow consumer, shutdown) ends the response, then destroys it after a short grace: a
 * client that stopped reading would otherwise hold its buffer and the socket forever.
 */
export class SseTransport implements FrameTransport {
  readonly kind = 'sse' as const;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly raw: ServerResponse,
    private readonly graceMs = SSE_CLOSE_GRACE_MS,
  ) {
    // A write failing on a reset socket emits 'error'; unheard, it would take the process down.
    raw.on('error', () => undefined);
    raw.on('close', () => clearInterval(this.keepAlive));
  }

  /** Writes an SSE comment every `intervalMs` so proxies keep the idle stream open. */
  startKeepAlive(intervalMs: number): void {
    clearInterval(this.keepAlive);
    this.keepAlive = setInterval(() => this.writeRaw(': keep-alive\n\n'), intervalMs).unref();
  }

  write(frame: ServerFrame, text: string) {
    this.writeRaw(`${frame.type === 'push' ? `id: ${frame.id}\n` : ''}event: ${frame.type}\ndata: ${text}\n\n`);
  }

  bufferedBytes() {
    return this.raw.writableLength;
  }

  close() {
    clearInterval(this.keepAlive);
    if (this.raw.destroyed) return;
    if (!this.raw.writableEnded) this.raw.end();
    setTimeout(() => this.raw.destroy(), this.graceMs).unref();
  }

  private writeRaw(text: string) {
    if (this.raw.writableEnded || this.raw.destroyed) return;
    this.raw.write(text);
  }
}
