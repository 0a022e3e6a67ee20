/**
 * Reads a streamed chat completion (SSE) to its end: its whole text, and when its first answer chunk
 * (text, or a tool call) arrived — on `performance.now()`'s clock and on the wall clock (to compare
 * with timestamps other processes wrote). The time-to-first-token measure of the benches.
 */
export async function readStream(response: Response): Promise<{ text: string; firstAt: number; firstAtWall: number }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let firstAt = NaN;
  let firstAtWall = NaN;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    if (Number.isNaN(firstAt) && /"content":"[^"]|"tool_calls"/.test(text)) {
      firstAt = performance.now();
      firstAtWall = Date.now();
    }
  }
  return { text, firstAt, firstAtWall };
}
