// A parse worker for the pool's unit spec: the real preparer, except for three media types that
// stand for documents a parser cannot survive — one that never finishes, one that needs unbounded
// memory, and one whose parser takes the worker down.
import { parentPort } from 'node:worker_threads';
import { prepareDocument } from '../document.preparer.ts';
import { serveParseJobs } from '../parse-worker.protocol.ts';

if (!parentPort) throw new Error('a worker thread only');
serveParseJobs(parentPort, async (input) => {
  if (input.mediaType === 'application/x-spin') {
    // Synchronous: no timer, message or termination request is handled by this thread while it runs.
    let spins = 0;
    while (input.mediaType) spins += 1;
    throw new Error(`unreachable after ${spins} spins`);
  }
  if (input.mediaType === 'application/x-balloon') {
    const hoard: number[][] = [];
    while (input.mediaType) hoard.push(Array.from({ length: 100_000 }, (_, i) => i * Math.random()));
  }
  if (input.mediaType === 'application/x-crash') process.exit(3);
  return prepareDocument(input);
});
