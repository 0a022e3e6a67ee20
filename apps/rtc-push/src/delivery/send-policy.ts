/**
 * Bounded per-connection buffers: a frame is queued only while the bytes already waiting for the
 * client plus the frame stay within the bound. Past it the connection is closed (4503) instead of
 * growing memory without limit, so one slow client never holds up the process or other clients.
 */
export function admitFrame(bufferedBytes: number, frameBytes: number, maxBufferedBytes: number): 'send' | 'close' {
  return bufferedBytes + frameBytes > maxBufferedBytes ? 'close' : 'send';
}
