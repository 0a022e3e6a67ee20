// An embedding session's worker thread (see EmbeddingSessions): loads the model in this thread as
// soon as it starts, and runs the calls Piscina gives it, one at a time. A load that failed is
// tried again by the next call (its error goes back with the call).
import { workerData } from 'node:worker_threads';
import type { SessionCall } from './embedding-sessions.ts';
import { MiniLmEmbeddings, type MiniLmEmbeddingsOptions } from './minilm.embeddings.ts';

// The pool passes options without `sessions`: in this thread the model runs in process.
const embeddings = new MiniLmEmbeddings(workerData as MiniLmEmbeddingsOptions);
embeddings.load().catch(() => undefined);

export default async function embed(call: SessionCall): Promise<number[][]> {
  await embeddings.load();
  return embeddings.embedDocuments([...call.texts]);
}
