// Entry of a parse worker thread (see ParseWorkerPool): prepares documents posted by the pool.
import { parentPort } from 'node:worker_threads';
import { prepareDocument } from './document.preparer.ts';
import { serveParseJobs } from './parse-worker.protocol.ts';

if (!parentPort) throw new Error('parse.worker runs as a worker thread of ParseWorkerPool');
serveParseJobs(parentPort, prepareDocument);
