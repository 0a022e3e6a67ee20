import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';

// The element-stack rules of htmlparser2's Parser (v10), which html-to-text parses with. They are
// repeated here so the depth this scan measures is the depth that parser will build: a subset of
// them would under-count, and a document could then pass the check and still nest deeply.
const P = new Set(['p']);
const FORM = new Set(['input', 'option', 'optgroup', 'select', 'button', 'datalist', 'textarea']);
const TABLE_SECTION = new Set(['thead', 'tbody']);
const DD_DT = new Set(['dd', 'dt']);
const RT_RP = new Set(['rt', 'rp']);
const OPEN_IMPLIES_CLOSE = new Map<string, ReadonlySet<string>>([
  ['tr', new Set(['tr', 'th', 'td'])],
  ['th', new Set(['th'])],
  ['td', new Set(['thead', 'th', 'td'])],
  ['body', new Set(['head', 'link', 'script'])],
  ['li', new Set(['li'])],
  ...['p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((tag) => [tag, P] as const),
  ...['select', 'input', 'output', 'button', 'datalist', 'textarea'].map((tag) => [tag, FORM] as const),
  ['option', new Set(['option'])],
  ['optgroup', new Set(['optgroup', 'option'])],
  ['dd', DD_DT],
  ['dt', DD_DT],
  ...['address', 'article', 'aside', 'blockquote', 'details', 'div', 'dl', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'header', 'hr', 'main', 'nav', 'ol', 'pre', 'section', 'table', 'ul'].map((tag) => [tag, P] as const),
  ['rt', RT_RP],
  ['rp', RT_RP],
  ['tbody', TABLE_SECTION],
  ['tfoot', TABLE_SECTION],
]);
const VOID = new Set(['area', 'base', 'basefont', 'br', 'col', 'command', 'embed', 'frame', 'hr', 'img', 'input', 'isindex', 'keygen', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/** Inside these, `<x/>` closes itself (SVG, MathML) ... */
const FOREIGN = new Set(['math', 'svg']);
/** ... and inside these (HTML islands in SVG/MathML) it does not. */
const INTEGRATION = new Set(['mi', 'mo', 'mn', 'ms', 'mtext', 'annotation-xml', 'foreignobject', 'desc', 'title']);

/** Characters of a <title> kept: far more than the 1 024 a title is cut to after normalising. */
const MAX_TITLE_CHARS = 64 * 1_024;

export interface HtmlOutline {
  /** The text of the first <title> element, entities decoded; undefined when there is none. */
  readonly title?: string;
  /** Deepest element nesting the parser builds, up to the first level beyond `maxDepth`. */
  readonly depth: number;
}

class TooDeep extends Error {}

/**
 * One linear pass over the HTML with htmlparser2's tokenizer (a state machine, no backtracking):
 * the document's <title> and how deeply its elements nest. The parser html-to-text uses keeps its
 * open elements in an array it `unshift`s into, so its cost grows with the square of the nesting
 * depth (400 000 nested <div>s, 2 MB, took 90 s): documents that nest deeper than `maxDepth` must
 * not reach it. The scan stops at the first element beyond `maxDepth`.
 */
export function scanHtml(html: string, maxDepth: number): HtmlOutline {
  const stack: string[] = [];
  // Whether a self-closing tag closes itself here; the parser starts (and may end up) at [false].
  const foreign: boolean[] = [false];
  let depth = 0;
  let tag = '';
  let title: string | undefined;
  let inTitle = false;
  const name = (start: number, end: number) => html.slice(start, end).toLowerCase();
  const appendTitle = (text: string) => {
    const sofar = title ?? '';
    if (sofar.length < MAX_TITLE_CHARS) title = sofar + text.slice(0, MAX_TITLE_CHARS - sofar.length);
  };
  // An element at this level, inside the open ones: a void element is a level too, without children.
  const reach = (level: number) => {
    depth = Math.max(depth, level);
    if (depth > maxDepth) throw new TooDeep();
  };
  const open = (element: string) => {
    tag = element;
    const implied = OPEN_IMPLIES_CLOSE.get(element);
    while (implied && stack.length > 0 && implied.has(stack[stack.length - 1] ?? '')) stack.pop();
    if (VOID.has(element)) return reach(stack.length + 1);
    stack.push(element);
    if (FOREIGN.has(element)) foreign.push(true);
    else if (INTEGRATION.has(element)) foreign.push(false);
    reach(stack.length);
  };
  const closeCurrent = () => {
    if (stack[stack.length - 1] === tag) stack.pop();
  };
  const callbacks: TokenizerCallbacks = {
    onopentagname(start, end) {
      const element = name(start, end);
      open(element);
      if (element === 'title' && title === undefined) {
        title = '';
        inTitle = true;
      }
    },
    onselfclosingtag() {
      if (foreign[foreign.length - 1]) closeCurrent();
    },
    onclosetag(start, end) {
      const element = name(start, end);
      if (element === 'title') inTitle = false;
      if (FOREIGN.has(element) || INTEGRATION.has(element)) foreign.pop();
      // `</br>` is read as <br>; other void end tags are ignored.
      if (VOID.has(element)) return element === 'br' ? reach(stack.length + 1) : undefined;
      const at = stack.lastIndexOf(element);
      if (at >= 0) stack.length = at;
      else if (element === 'p') {
        // `</p>` without an open <p>: the parser opens an empty one and closes it at once.
        open('p');
        closeCurrent();
      }
    },
    ontext(start, end) {
      if (inTitle) appendTitle(html.slice(start, end));
    },
    ontextentity(codepoint) {
      if (inTitle) appendTitle(String.fromCodePoint(codepoint));
    },
    onopentagend() {},
    onattribdata() {},
    onattribentity() {},
    onattribend() {},
    onattribname() {},
    oncdata() {},
    oncomment() {},
    ondeclaration() {},
    onend() {},
    onprocessinginstruction() {},
  };
  const tokenizer = new Tokenizer({ decodeEntities: true }, callbacks);
  try {
    tokenizer.write(html);
    tokenizer.end();
  } catch (error) {
    if (!(error instanceof TooDeep)) throw error;
  }
  return title === undefined ? { depth } : { depth, title };
}
