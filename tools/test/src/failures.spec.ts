import { FailureReports } from './failures.ts';

const stream = [
  '\u001b[1m@aip/request-path-e2e:\u001b[22m  ● session affinity › moves a session off its worker',
  '@aip/request-path-e2e: ',
  '@aip/request-path-e2e:     expect(received).not.toBe(expected)',
  '@aip/request-path-e2e:     Expected: not "aff-2"',
  '@aip/request-path-e2e: Test Suites: 1 failed, 6 passed, 7 total',
  '@aip/fuzz:   hostile HTTP requests',
  '@aip/fuzz:     ✓ access answers every one',
].join('\n');

describe('FailureReports', () => {
  it('keeps each Jest failure report with its project and drops the passing output around it', () => {
    const reports = new FailureReports();
    // Chunks split mid-line, as a pipe delivers them.
    for (let i = 0; i < stream.length; i += 17) reports.write(stream.slice(i, i + 17));
    expect(reports.summary()).toEqual([
      '@aip/request-path-e2e ● session affinity › moves a session off its worker',
      '  ',
      '      expect(received).not.toBe(expected)',
      '      Expected: not "aff-2"',
      '',
    ]);
  });

  it('skips console blocks and cuts a long report to its first lines', () => {
    const reports = new FailureReports(3);
    reports.write(['  ● Console', '    console.log hi', '  ● a › b', 'one', 'two', 'three', 'four', ''].join('\n'));
    expect(reports.summary()).toEqual(['● a › b', '  one', '  two', '']);
  });

  it('has nothing to say when nothing failed', () => {
    const reports = new FailureReports();
    reports.write('@aip/fuzz: PASS tests/fuzz\n@aip/fuzz: Tests: 10 passed\n');
    expect(reports.summary()).toEqual([]);
  });
});
