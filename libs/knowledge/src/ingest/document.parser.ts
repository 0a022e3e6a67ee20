import { convert } from 'html-to-text';
import { extractText, getDocumentProxy, getMeta } from 'unpdf';
import { IngestError } from './ingest.errors.ts';
import { normaliseText } from './text.normaliser.ts';

export type DocumentFormat = 'text' | 'markdown' | 'html' | 'pdf';

export interface ParsedDocument {
  readonly format: DocumentFormat;
  /** Normalised text (see `normaliseText`); never empty. */
  readonly text: string;
  /** A title found in the document (Markdown `# heading`, HTML `<title>`, PDF metadata), if any. */
  readonly title?: string;
}

const FORMATS: Record<string, DocumentFormat> = {
  'text/plain': 'text',
  'text/markdown': 'markdown',
  'text/x-markdown': 'markdown',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/pdf': 'pdf',
};

/** Media types the parser accepts (any other `text/*` is read as plain text). */
export const SUPPORTED_MEDIA_TYPES = Object.keys(FORMATS);

/** `text/markdown; charset=utf-8` → format and charset; unsupported types fail with a clear reason. */
export function formatOf(mediaType: string): { format: DocumentFormat; charset?: string } {
  const [essence = '', ...params] = mediaType.split(';').map((part) => part.trim());
  const type = essence.toLowerCase();
  const format = FORMATS[type] ?? (type.startsWith('text/') ? 'text' : undefined);
  if (!format) throw new IngestError('unsupported_media_type', `media type "${essence}" is not supported (supported: ${SUPPORTED_MEDIA_TYPES.join(', ')}, text/*)`);
  const charset = params.map((p) => /^charset\s*=\s*"?([^";]+)"?$/i.exec(p)?.[1]).find(Boolean);
  return charset ? { format, charset: charset.toLowerCase() } : { format };
}

/**
 * Bytes (or already decoded text) of one document → normalised text. Poison input fails with an
 * `IngestError` naming the problem: undecodable bytes, a corrupt PDF, nothing to index.
 */
export async function parseDocument(content: Uint8Array | string, mediaType: string): Promise<ParsedDocument> {
  const { format, charset } = formatOf(mediaType);
  if (format === 'pdf') return parsePdf(content);
  const raw = typeof content === 'string' ? checkDecoded(content) : decode(content, charset);
  let text: string;
  let title: string | undefined;
  if (format === 'html') {
    title = htmlTitle(raw);
    text = convert(raw, {
      wordwrap: false,
      selectors: [
        { selector: 'a', options: { ignoreHref: true } },
        { selector: 'img', format: 'skip' },
        { selector: 'h1', options: { uppercase: false } },
        { selector: 'h2', options: { uppercase: false } },
        { selector: 'h3', options: { uppercase: false } },
        { selector: 'h4', options: { uppercase: false } },
        { selector: 'h5', options: { uppercase: false } },
        { selector: 'h6', options: { uppercase: false } },
        { selector: 'table', options: { uppercaseHeaderCells: false } },
      ],
    });
  } else {
    text = raw;
    if (format === 'markdown') title = /^#\s+(.+)$/m.exec(raw)?.[1]?.trim();
  }
  return result(format, normaliseText(text), title);
}

function result(format: DocumentFormat, text: string, title: string | undefined): ParsedDocument {
  if (!text) throw new IngestError('empty_document', 'the document has no text to index');
  const cleanTitle = title ? normaliseText(title).slice(0, 1_024) : '';
  return cleanTitle ? { format, text, title: cleanTitle } : { format, text };
}

function checkDecoded(text: string): string {
  // U+FFFD is what a lossy decoder leaves where bytes did not fit: the producer decoded with the wrong charset.
  if (text.includes('\uFFFD')) throw new IngestError('bad_encoding', 'the text contains U+FFFD replacement characters: it was decoded with the wrong character set before it reached us');
  if (text.includes('\u0000')) throw new IngestError('bad_encoding', 'the text contains NUL characters: binary data sent as text?');
  return text;
}

const BOMS = [
  { mark: [0xef, 0xbb, 0xbf], label: 'utf-8' },
  { mark: [0xff, 0xfe], label: 'utf-16le' },
  { mark: [0xfe, 0xff], label: 'utf-16be' },
];

function decode(bytes: Uint8Array, charset: string | undefined): string {
  // A byte-order mark wins over the declared charset: it is what the writer actually used.
  const bom = BOMS.find(({ mark }) => mark.every((byte, i) => bytes[i] === byte));
  const label = bom?.label ?? charset ?? 'utf-8';
  const body = bom ? bytes.subarray(bom.mark.length) : bytes;
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    throw new IngestError('bad_encoding', `unknown character set "${label}"`);
  }
  let text: string;
  try {
    text = decoder.decode(body);
  } catch {
    throw new IngestError('bad_encoding', `the bytes are not valid ${label}${charset ? '' : ' (declare the charset in the media type, e.g. "text/plain; charset=windows-1252")'}`);
  }
  return checkDecoded(text);
}

function htmlTitle(html: string): string | undefined {
  const inner = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1];
  return inner ? convert(inner, { wordwrap: false }) : undefined;
}

async function parsePdf(content: Uint8Array | string): Promise<ParsedDocument> {
  if (typeof content === 'string') throw new IngestError('corrupt_pdf', 'a PDF must be sent as bytes (upload it, or reference it with contentRef), not as inline text');
  const head = Buffer.from(content.subarray(0, 1_024)).toString('latin1');
  if (!head.includes('%PDF-')) throw new IngestError('corrupt_pdf', 'not a PDF: the "%PDF-" header is missing');
  try {
    // pdf.js takes ownership of the buffer it is given: hand it a copy.
    const pdf = await getDocumentProxy(new Uint8Array(content), { verbosity: 0 });
    try {
      const [{ text }, meta] = await Promise.all([extractText(pdf, { mergePages: true }), getMeta(pdf).catch(() => undefined)]);
      const info = meta?.info as { Title?: unknown } | undefined;
      return result('pdf', normaliseText(text), typeof info?.Title === 'string' ? info.Title : undefined);
    } finally {
      await pdf.destroy().catch(() => undefined);
    }
  } catch (error) {
    if (error instanceof IngestError) throw error;
    throw new IngestError('corrupt_pdf', `the PDF cannot be read: ${(error as Error).message ?? String(error)}`.slice(0, 500), { cause: error });
  }
}
