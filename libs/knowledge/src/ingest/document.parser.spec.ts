import { formatOf, MAX_HTML_DEPTH, parseDocument } from './document.parser.ts';
import { IngestError } from './ingest.errors.ts';
import { pdfWithPages, pdfWithText } from './testing/pdf.fixture.ts';

const bytes = (text: string, encoding: BufferEncoding = 'utf8') => new Uint8Array(Buffer.from(text, encoding));

async function failure(promise: Promise<unknown>): Promise<IngestError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(IngestError);
  return error as IngestError;
}

describe('parseDocument', () => {
  it('reads plain text as UTF-8 and normalises it', async () => {
    const parsed = await parseDocument(bytes('  Caf\u0065\u0301 au lait\r\n\r\n\r\n\r\nsecond   paragraph  \n'), 'text/plain');
    expect(parsed).toEqual({ format: 'text', text: 'Café au lait\n\nsecond paragraph' });
    expect(parsed.text.includes('\u0301')).toBe(false);
  });

  it('takes the title of a Markdown document from its first heading and keeps the markup for the splitter', async () => {
    const parsed = await parseDocument('# Travel guide\n\n## Beijing\n\n- Forbidden City\n- Great Wall\n', 'text/markdown; charset=utf-8');
    expect(parsed.format).toBe('markdown');
    expect(parsed.title).toBe('Travel guide');
    expect(parsed.text).toContain('- Forbidden City');
  });

  it('turns HTML into readable text without scripts, styles or link targets, and takes <title>', async () => {
    const html = '<html><head><title>Hotel &amp; travel</title><style>p{color:red}</style><script>alert(1)</script></head><body><h1>Hotels</h1><p>Book a <a href="https://x.example">room</a> near the lake.</p></body></html>';
    const parsed = await parseDocument(bytes(html), 'text/html');
    expect(parsed.title).toBe('Hotel & travel');
    expect(parsed.text).toContain('Hotels');
    expect(parsed.text).toContain('Book a room near the lake.');
    expect(parsed.text).not.toMatch(/alert|color:red|x\.example/);
  });

  // Regression (issue 11): the <title> regex was quadratic on repeated '<title' (96 KB took 1.5 s,
  // 5 MiB would take hours, freezing the event loop); html-to-text's parser is quadratic in the
  // nesting depth. Each input here would run far past Jest's timeout on those paths.
  it('parses multi-MiB adversarial HTML in linear time (repeated "<title", unclosed <title>)', async () => {
    const repeatedOpen = await failure(parseDocument('<title'.repeat(1_000_000), 'text/html'));
    expect(repeatedOpen.code).toBe('empty_document');
    const afterText = await parseDocument(`<html><body><p>Opening hours</p>${'<title'.repeat(1_000_000)}</body></html>`, 'text/html');
    expect(afterText).toEqual({ format: 'html', text: 'Opening hours' });
    const unclosed = await parseDocument(`<p>Menu</p>${'<title>x'.repeat(700_000)}`, 'text/html');
    expect(unclosed.text).toContain('Menu');
    expect(unclosed.title).toMatch(/^x<title>x<title>/);
  });

  it('fails HTML that nests deeper than the parser can take, and reads deep but sane nesting', async () => {
    const nested = await failure(parseDocument(`<title>Deep</title><body>${'<div>'.repeat(1_000_000)}bottom</body>`, 'text/html'));
    expect(nested.code).toBe('too_large');
    expect(nested.message).toContain(`${MAX_HTML_DEPTH} levels`);
    const sane = await parseDocument(`<title>Deep</title><body>${'<div>'.repeat(MAX_HTML_DEPTH - 5)}bottom</body>`, 'text/html');
    expect(sane).toEqual({ format: 'html', text: 'bottom', title: 'Deep' });
    // Unclosed <p>, <li> and <td> close themselves: a long sloppy page is not deep.
    const sloppy = await parseDocument(`${'<p>para'.repeat(50_000)}<ul>${'<li>item'.repeat(50_000)}</ul><table>${'<tr><td>cell'.repeat(50_000)}</table>`, 'text/html');
    expect(sloppy.text).toContain('item');
  });

  it('takes the first <title> element only, as an HTML parser reads it', async () => {
    expect((await parseDocument('<title>Guide &lt;2025&gt;</title><body>x</body>', 'text/html')).title).toBe('Guide <2025>');
    expect((await parseDocument('<body><!-- <title>no</title> --><p>x</p></body>', 'text/html')).title).toBeUndefined();
    expect((await parseDocument('<TITLE lang="en">First</TITLE><title>Second</title><p>x</p>', 'text/html')).title).toBe('First');
  });

  it('takes a Markdown title from a heading line only, in linear time on hostile input', async () => {
    expect((await parseDocument('#\n\nnot a heading\n# Real title\n', 'text/markdown')).title).toBe('Real title');
    expect((await parseDocument('#no space\ntext', 'text/markdown')).title).toBeUndefined();
    const hostile = await parseDocument(`text\n${'#\t \n'.repeat(1_000_000)}${'# '.repeat(1_000_000)}`, 'text/markdown');
    expect(hostile.title).toMatch(/^# # # /);
  });

  it('reads the charset parameter of a media type, quoted or not', async () => {
    expect(formatOf('text/plain; charset="windows-1252"')).toEqual({ format: 'text', charset: 'windows-1252' });
    expect(formatOf('text/plain;CHARSET = UTF-8 ; format=flowed')).toEqual({ format: 'text', charset: 'utf-8' });
    expect(formatOf(`text/plain; charset=${' '.repeat(100_000)}"x"`)).toEqual({ format: 'text', charset: 'x' });
  });

  it('refuses media types named like members of Object.prototype, as unsupported', () => {
    for (const type of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) expect(() => formatOf(type)).toThrow(/not supported/);
  });

  it('extracts the text and title of a PDF', async () => {
    const parsed = await parseDocument(pdfWithText(['The Great Wall is long.', 'Visit it in spring.'], 'Wall facts'), 'application/pdf');
    expect(parsed.format).toBe('pdf');
    expect(parsed.text).toContain('The Great Wall is long.');
    expect(parsed.text).toContain('Visit it in spring.');
    expect(parsed.title).toBe('Wall facts');
  });

  it('fails a PDF with more pages than the limit as too_large, and reads one within it', async () => {
    const threePages = pdfWithPages([['First page.'], ['Second page.'], ['Third page.']]);
    const tooLong = await failure(parseDocument(threePages, 'application/pdf', { maxPdfPages: 2 }));
    expect(tooLong.code).toBe('too_large');
    expect(tooLong.message).toBe('the PDF has 3 pages; the limit is 2');
    const parsed = await parseDocument(threePages, 'application/pdf', { maxPdfPages: 3 });
    expect(parsed.text).toContain('Third page.');
  });

  it('fails a corrupt PDF with a reason, not an exception from the PDF library', async () => {
    const truncated = pdfWithText(['some text']).subarray(0, 60);
    expect((await failure(parseDocument(truncated, 'application/pdf'))).code).toBe('corrupt_pdf');
    const notPdf = await failure(parseDocument(bytes('hello, I am not a PDF'), 'application/pdf'));
    expect(notPdf.code).toBe('corrupt_pdf');
    expect(notPdf.reason).toMatch(/^corrupt_pdf: not a PDF/);
  });

  it('fails empty documents (empty bytes, whitespace only, markup only, a PDF without text)', async () => {
    expect((await failure(parseDocument(new Uint8Array(), 'text/plain'))).code).toBe('empty_document');
    expect((await failure(parseDocument(' \n\t\r\n ', 'text/markdown'))).code).toBe('empty_document');
    expect((await failure(parseDocument(bytes('<html><body><img src="a.png"></body></html>'), 'text/html'))).code).toBe('empty_document');
    expect((await failure(parseDocument(pdfWithText([]), 'application/pdf'))).code).toBe('empty_document');
  });

  it('fails bytes that are not valid in their declared (or default UTF-8) character set', async () => {
    const latin1 = bytes('Café crème', 'latin1');
    const error = await failure(parseDocument(latin1, 'text/plain'));
    expect(error.code).toBe('bad_encoding');
    expect(error.message).toMatch(/charset/);
    // Declared correctly, the same bytes are fine.
    expect((await parseDocument(latin1, 'text/plain; charset=windows-1252')).text).toBe('Café crème');
  });

  it('honours a UTF-16 byte-order mark', async () => {
    const utf16 = new Uint8Array([0xff, 0xfe, ...Buffer.from('Hello wall', 'utf16le')]);
    expect((await parseDocument(utf16, 'text/plain')).text).toBe('Hello wall');
  });

  it('fails text that was already mangled by a wrong decode upstream, and binary sent as text', async () => {
    expect((await failure(parseDocument('half a pair \uD83D here', 'text/plain'))).code).toBe('bad_encoding');
    expect((await failure(parseDocument('Caf\uFFFD cr\uFFFDme', 'text/plain'))).code).toBe('bad_encoding');
    expect((await failure(parseDocument(new Uint8Array([0x48, 0x00, 0x49, 0x00]), 'text/plain'))).code).toBe('bad_encoding');
    expect((await failure(parseDocument(bytes('hi'), 'text/plain; charset=klingon'))).code).toBe('bad_encoding');
  });

  it('refuses media types it cannot parse, naming the supported ones', async () => {
    const error = await failure(parseDocument(bytes('PK...'), 'application/zip'));
    expect(error.code).toBe('unsupported_media_type');
    expect(error.message).toContain('application/pdf');
  });
});
