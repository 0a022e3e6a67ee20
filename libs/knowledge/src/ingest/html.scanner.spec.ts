import { parseDocument } from 'htmlparser2';
import { scanHtml } from './html.scanner.ts';

type Node = { children?: Node[] };
/** Deepest element nesting of the DOM htmlparser2 (the parser html-to-text uses) builds. */
function parserDepth(html: string): number {
  const deepest = (nodes: Node[] | undefined, level: number): number => Math.max(level, ...(nodes ?? []).filter((n) => 'name' in n).map((n) => deepest(n.children, level + 1)));
  return deepest(parseDocument(html).children as Node[], 0);
}

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const PIECES = ['<div>', '</div>', '<p>', '</p>', '<li>', '</li>', '<ul>', '<table>', '<tr>', '<td>', '<th>', '</tr>', '<tbody>', '<tfoot>', '<svg>', '</svg>', '<path d="x"/>', '<g/>', '<foreignObject>', '</foreignObject>', '<math>', '<mi>', '</mi>', '<br>', '</br>', '<img src=a>', '<span/>', '<b>', '</b>', '<dd>', '<dt>', '<option>', '<select>', '<h1>', '<body>', '<head>', '<title>t</title>', '<script><div></script>', '<!-- <div> -->', '<DIV class="a>b">', 'text', '<input>', '<rt>', '<rp>', '</nope>', '<a href=x>', '</a>'];

describe('scanHtml', () => {
  it('measures the same nesting depth as the parser html-to-text uses', () => {
    const next = random(7);
    for (let doc = 0; doc < 2_000; doc++) {
      const html = Array.from({ length: 5 + Math.floor(next() * 60) }, () => PIECES[Math.floor(next() * PIECES.length)]).join('');
      expect({ html, depth: scanHtml(html, 10_000).depth }).toEqual({ html, depth: parserDepth(html) });
    }
  });

  it('stops at the first element beyond the limit', () => {
    expect(scanHtml('<div>'.repeat(1_000), 10).depth).toBe(11);
    expect(scanHtml('<div></div>'.repeat(1_000), 10).depth).toBe(1);
  });

  it('reads the first <title>, entities decoded, wherever it is', () => {
    expect(scanHtml('<html><head><title>A &amp; B &#x263A;</title></head></html>', 10).title).toBe('A & B \u263A');
    expect(scanHtml('<body><svg><title>icon</title></svg></body><title>late</title>', 10).title).toBe('icon');
    expect(scanHtml('<script>"<title>no</title>"</script><p>x', 10).title).toBeUndefined();
    expect(scanHtml(`<title>${'x'.repeat(100_000)}`, 10).title).toHaveLength(64 * 1_024);
  });
});
