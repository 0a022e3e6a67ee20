// Control characters other than tab and newline (C0, DEL, C1) and the BOM, which parsers leave behind.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFEFF]/g;

/**
 * Text as it is chunked, hashed and stored: Unicode NFC (so the same words always hash the same,
 * whatever the source's composition), LF line ends, no control characters, no trailing spaces,
 * runs of spaces and tabs collapsed inside lines, at most one blank line in a row.
 * Leading indentation is kept: it carries meaning in Markdown (lists, code).
 */
export function normaliseText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\u2028\u2029\u0085]/g, '\n')
    .replace(CONTROL, '')
    .replace(/\u00A0/g, ' ')
    .split('\n')
    .map((line) => {
      const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
      return indent + line.slice(indent.length).replace(/[ \t]+/g, ' ').trimEnd();
    })
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
