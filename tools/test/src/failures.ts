import { stripVTControlCharacters } from 'node:util';

// What a long run printed is read from its end (a CI log shows its tail): the failures of a suite
// that ran twenty minutes earlier are gone from it. This keeps Jest's failure reports ("● suite ›
// test" and the lines under it) as they stream by, so the runner can print them again at the end.
const NX_PREFIX = /^@[\w./-]+:\s?/;
const HEADER = /^\s*● /;
const BLOCK_END = /^\s*(Test Suites:|Tests:|●\s*Console|PASS |FAIL )/;

export class FailureReports {
  private readonly reports: string[][] = [];
  private current: string[] | undefined;
  private pending = '';
  private readonly linesPerReport: number;

  constructor(linesPerReport = 40) {
    this.linesPerReport = linesPerReport;
  }

  /** Feeds a chunk of the stream; lines may be split across chunks. */
  write(chunk: string): void {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** The reports seen so far, each headed by its project. */
  summary(): string[] {
    if (this.pending) this.line(this.pending);
    this.pending = '';
    return this.reports.flatMap((report) => [...report, '']);
  }

  private line(raw: string): void {
    const plain = stripVTControlCharacters(raw).replace(/\r$/, '');
    const project = NX_PREFIX.exec(plain)?.[0].replace(/:\s?$/, '') ?? '';
    const text = plain.replace(NX_PREFIX, '');
    if (HEADER.test(text) && !/^\s*●\s*Console/.test(text)) {
      this.current = [`${project ? `${project} ` : ''}${text.trim()}`];
      this.reports.push(this.current);
      return;
    }
    if (!this.current) return;
    if (BLOCK_END.test(text)) {
      this.current = undefined;
      return;
    }
    if (this.current.length < this.linesPerReport) this.current.push(`  ${text.trimEnd()}`);
  }
}
