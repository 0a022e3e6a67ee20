import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { jest } from '@jest/globals';
import { SseTransport } from './sse.transport.ts';

/** A response whose client stopped reading: nothing written is ever flushed. */
function stalledResponse() {
  const written: string[] = [];
  const errors: Error[] = [];
  const raw = new Writable({ highWaterMark: 16, write: (chunk: Buffer, _encoding, _callback) => void written.push(String(chunk)) });
  return { raw, written, errors, transport: () => new SseTransport(raw as unknown as ServerResponse, 5_000) };
}

describe('SseTransport', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('writes frames as SSE events, with the push id as event id', () => {
    const { written, transport } = stalledResponse();
    transport().write({ type: 'pong' }, '{"type":"pong"}');
    expect(written).toEqual(['event: pong\ndata: {"type":"pong"}\n\n']);
  });

  it('on close ends the stream, then destroys it when the client never drains, releasing its buffer', () => {
    const { raw, transport } = stalledResponse();
    const sse = transport();
    sse.write({ type: 'pong' }, 'x'.repeat(100));
    sse.write({ type: 'pong' }, 'y'.repeat(100));
    expect(sse.bufferedBytes()).toBeGreaterThan(0);
    sse.close();
    expect(raw.writableEnded).toBe(true);
    expect(raw.destroyed).toBe(false);
    jest.runOnlyPendingTimers();
    expect(raw.destroyed).toBe(true);
  });

  it('stops the keep-alive on close and never writes after the end (no write-after-end error)', () => {
    const { raw, written, transport } = stalledResponse();
    const failures: Error[] = [];
    raw.on('error', (error) => failures.push(error));
    const sse = transport();
    sse.startKeepAlive(1_000);
    jest.advanceTimersByTime(1_000);
    expect(written).toEqual([': keep-alive\n\n']);
    sse.close();
    sse.write({ type: 'pong' }, '{"type":"pong"}');
    jest.advanceTimersByTime(10_000);
    expect(written).toEqual([': keep-alive\n\n']);
    expect(failures).toEqual([]);
  });

  it('survives a transport error with no other listener', () => {
    const { raw, transport } = stalledResponse();
    transport();
    expect(() => raw.emit('error', new Error('ECONNRESET'))).not.toThrow();
  });
});
