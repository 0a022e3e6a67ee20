import { chunkText } from './text.chunker.ts';
import { normaliseText } from './text.normaliser.ts';

const paragraph = (n: number) => `Paragraph ${n} talks about topic ${n}. `.repeat(6).trim();

describe('chunkText', () => {
  it('keeps a short document in one chunk', async () => {
    expect(await chunkText('A short note.', 'text', { chunkSize: 200, chunkOverlap: 20 })).toEqual(['A short note.']);
  });

  it('splits long text into chunks no larger than chunkSize, covering all of it, with overlap between neighbours', async () => {
    const text = Array.from({ length: 12 }, (_, i) => paragraph(i)).join('\n\n');
    const chunks = await chunkText(text, 'text', { chunkSize: 300, chunkOverlap: 60 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(300);
    for (let i = 0; i < 12; i++) expect(chunks.some((chunk) => chunk.includes(`Paragraph ${i} talks`))).toBe(true);
    // Splitting inside a paragraph repeats words across the boundary.
    const words = await chunkText('word '.repeat(200).trim(), 'text', { chunkSize: 100, chunkOverlap: 30 });
    expect(words.length).toBeGreaterThan(1);
    expect(words.join(' ').split(' ').length).toBeGreaterThan(200);
  });

  it('splits Markdown at headings before paragraphs', async () => {
    const markdown = normaliseText(`# Beijing\n\n${paragraph(1)}\n\n## Hotels\n\n${paragraph(2)}\n\n## Food\n\n${paragraph(3)}`);
    const chunks = await chunkText(markdown, 'markdown', { chunkSize: 260, chunkOverlap: 0 });
    expect(chunks.find((chunk) => chunk.includes('Paragraph 2'))).toMatch(/^## Hotels/);
    expect(chunks.find((chunk) => chunk.includes('Paragraph 3'))).toMatch(/^## Food/);
  });

  it('rejects an overlap as large as the chunk', async () => {
    await expect(chunkText('x', 'text', { chunkSize: 100, chunkOverlap: 100 })).rejects.toThrow(/chunkOverlap/);
  });
});

describe('normaliseText', () => {
  it('composes Unicode, unifies line ends, drops control characters and keeps indentation', () => {
    expect(normaliseText('e\u0301\u0007\r\n  - item   one\t\t \n\n\n\nend\u00A0here')).toBe('é\n  - item one\n\nend here');
  });
});
