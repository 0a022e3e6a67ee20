// A stand-in embedding session for EmbeddingSessions' unit spec (no model): a text's vector is
// [its length, this worker's thread id, the index of the call in this worker]. workerData picks the
// behaviour: `failLoad` (the model cannot be loaded), `holdMs` (each call takes this long, so calls
// overlap). A text "crash" ends the worker mid-call; a text "refuse" fails the call.
import { threadId, workerData } from 'node:worker_threads';
import type { SessionCall } from '../src/embedding-sessions.ts';

const options = (workerData ?? {}) as { failLoad?: string; holdMs?: number };
let calls = 0;

export default async function embed(call: SessionCall): Promise<number[][]> {
  if (options.failLoad) throw new Error(options.failLoad);
  const index = calls++;
  await new Promise((resolve) => setTimeout(resolve, options.holdMs ?? 0));
  if (call.texts.includes('crash')) process.exit(3);
  if (call.texts.includes('refuse')) throw new Error('refused a text');
  return call.texts.map((text) => [text.length, threadId, index]);
}
