import { compile } from 'html-to-text';
import { extractText, getDocumentProxy, getMeta } from 'unpdf';
import { scanHtml } from './html.scanner.ts';
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
  // Own properties only: a media type "__proto__" or "constructor" is no format of Object.prototype's.
  const format = (Object.hasOwn(FORMATS, type) ? FORMATS[type] : undefined) ?? (type.startsWith('text/') ? 'text' : undefined);
  if (!format) throw new IngestError('unsupported_media_type', `media type "${essence}" is not supported (supported: ${SUPPORTED_MEDIA_TYPES.join(', ')}, text/*)`);
  const charset = params.map(charsetOf).find(Boolean);
  return charset ? { format, charset: charset.toLowerCase() } : { format };
}

/** `charset = "utf-8"` → `utf-8`; any other parameter → undefined. */
function charsetOf(param: string): string | undefined {
  const eq = param.indexOf('=');
  if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'charset') return undefined;
  const value = param.slice(eq + 1).trim();
  const unquoted = value.slice(value.startsWith('"') ? 1 : 0, value.length > 1 && value.endsWith('"') ? -1 : undefined);
  return unquoted && !/[";]/.test(unquoted) ? unquoted : undefined;
}

/*
 * Everything below reads untrusted documents of up to tens of MiB on the event loop, so every
 * step must be linear in the input: no backtracking regular expression runs over a document (a
 * lazy `<title[^>]*>([\s\S]*?)<\/title>` was quadratic on repeated '<title': 96 KB took 1.5 s, 5 MiB
 * would take hours). HTML is read by htmlparser2's tokenizer (a state machine), Markdown line by line.
 */

/**
 * Deepest element nesting accepted in HTML. html-to-text's parser slows down with the square of
 * the depth and its walk recurses per level (200 000 nested <div>s overflowed the stack); real
 * documents nest a few dozen levels.
 */
export const MAX_HTML_DEPTH = 500;

const htmlToText = compile({
  wordwrap: false,
  limits: { maxDepth: MAX_HTML_DEPTH + 1 },
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

export interface ParseOptions {
  /** A PDF with more pages fails `too_large` before any text is extracted (default: no limit). */
  readonly maxPdfPages?: number;
}

/**
 * Bytes (or already decoded text) of one document → normalised text. Poison input fails with an
 * `IngestError` naming the problem: undecodable bytes, a corrupt PDF, nothing to index, a PDF
 * with more pages than `maxPdfPages`.
 */
export async function parseDocument(content: Uint8Array | string, mediaType: string, options: ParseOptions = {}): Promise<ParsedDocument> {
  const { format, charset } = formatOf(mediaType);
  if (format === 'pdf') return parsePdf(content, options.maxPdfPages ?? Infinity);
  const raw = typeof content === 'string' ? checkDecoded(content) : decode(content, charset);
  let text: string;
  let title: string | undefined;
  if (format === 'html') {
    // The scan first: only a document that nests no deeper than the limit reaches the parser.
    const outline = scanHtml(raw, MAX_HTML_DEPTH);
    if (outline.depth > MAX_HTML_DEPTH) throw new IngestError('too_large', `the HTML nests elements more than ${MAX_HTML_DEPTH} levels deep`);
    title = outline.title;
    text = htmlToText(raw);
  } else {
    text = raw;
    if (format === 'markdown') title = markdownTitle(raw);
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
  // Only a string handed over as such (inline JSON content) can hold one; no byte sequence decodes to it.
  if (!text.isWellFormed()) throw new IngestError('bad_encoding', 'the text contains unpaired UTF-16 surrogates: it is not Unicode text');
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

/** The text of the first level-1 ATX heading (`# Title`) with any text, scanned line by line. */
function markdownTitle(markdown: string): string | undefined {
  for (let start = 0; start < markdown.length; ) {
    const newline = markdown.indexOf('\n', start);
    const end = newline < 0 ? markdown.length : newline;
    if (markdown[start] === '#' && (markdown[start + 1] === ' ' || markdown[start + 1] === '\t')) {
      const heading = markdown.slice(start + 2, end).trim();
      if (heading) return heading;
    }
    start = end + 1;
  }
  return undefined;
}

async function parsePdf(content: Uint8Array | string, maxPages: number): Promise<ParsedDocument> {
  if (typeof content === 'string') throw new IngestError('corrupt_pdf', 'a PDF must be sent as bytes (upload it, or reference it with contentRef), not as inline text');
  const head = Buffer.from(content.subarray(0, 1_024)).toString('latin1');
  if (!head.includes('%PDF-')) throw new IngestError('corrupt_pdf', 'not a PDF: the "%PDF-" header is missing');
  try {
    // pdf.js takes ownership of the buffer it is given: hand it a copy.
    const pdf = await getDocumentProxy(new Uint8Array(content), { verbosity: 0 });
    try {
      // The page count comes from the page tree: a huge PDF is refused before its pages are read.
      if (pdf.numPages > maxPages) throw new IngestError('too_large', `the PDF has ${pdf.numPages} pages; the limit is ${maxPages}`);
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
