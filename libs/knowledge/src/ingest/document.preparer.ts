import { parseDocument } from './document.parser.ts';
import { IngestError } from './ingest.errors.ts';
import type { IngestLimits } from './ingest.limits.ts';
import { extractKeywords } from './keywords.ts';
import { chunkText, type ChunkSettings } from './text.chunker.ts';

export interface PrepareInput {
  readonly content: Uint8Array | string;
  readonly mediaType: string;
  readonly settings: ChunkSettings;
  /** The source's title; wins over one found in the document. */
  readonly title?: string;
  readonly limits: IngestLimits;
}

/** A document ready to embed: the CPU-heavy part of ingestion, done in one place (and one thread). */
export interface PreparedDocument {
  readonly title?: string;
  /** The document's most telling words (title first). */
  readonly keywords: string[];
  /** Never empty, never more than `limits.maxChunks`. */
  readonly chunks: string[];
}

/** Runs `prepareDocument` somewhere: in this thread, or in a worker (`ParseWorkerPool`). */
export type DocumentPreparer = (input: PrepareInput) => Promise<PreparedDocument>;

/**
 * parse → normalise → keywords → chunk, within the limits: poison input and documents beyond a
 * limit fail with an `IngestError`.
 */
export async function prepareDocument(input: PrepareInput): Promise<PreparedDocument> {
  const { limits } = input;
  const parsed = await parseDocument(input.content, input.mediaType, { maxPdfPages: limits.maxPdfPages });
  // Stored and sent as JSON: an unpaired surrogate (a name cut mid-pair) would be refused by Qdrant.
  const title = (input.title ?? parsed.title)?.toWellFormed();
  const keywords = extractKeywords(parsed.text, title ? { title } : {});
  const chunks = await chunkText(parsed.text, parsed.format, input.settings);
  if (chunks.length === 0) throw new IngestError('empty_document', 'the document has no text to index');
  if (chunks.length > limits.maxChunks) throw new IngestError('too_large', `the document makes ${chunks.length} chunks of at most ${input.settings.chunkSize} characters; the limit is ${limits.maxChunks}`);
  return title ? { title, keywords, chunks } : { keywords, chunks };
}
