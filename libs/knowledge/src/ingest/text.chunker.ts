import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';
import type { DocumentFormat } from './document.parser.ts';

export interface ChunkSettings {
  /** Largest chunk, in characters. */
  readonly chunkSize: number;
  /** Characters shared by neighbouring chunks (< chunkSize). */
  readonly chunkOverlap: number;
}

export const DEFAULT_CHUNK_SETTINGS: ChunkSettings = { chunkSize: 1_000, chunkOverlap: 150 };

/**
 * Normalised text → chunks, with LangChain's recursive splitter: Markdown-aware (headings, code
 * fences, lists first) for Markdown, paragraphs → lines → sentences → words otherwise.
 */
export async function chunkText(text: string, format: DocumentFormat, settings: ChunkSettings): Promise<string[]> {
  if (settings.chunkOverlap >= settings.chunkSize) throw new RangeError(`chunkOverlap (${settings.chunkOverlap}) must be smaller than chunkSize (${settings.chunkSize})`);
  const options = { chunkSize: settings.chunkSize, chunkOverlap: settings.chunkOverlap };
  const splitter = format === 'markdown' ? RecursiveCharacterTextSplitter.fromLanguage('markdown', options) : new RecursiveCharacterTextSplitter(options);
  const chunks = await splitter.splitText(text);
  return chunks.map((chunk) => chunk.trim()).filter((chunk) => chunk.length > 0);
}
