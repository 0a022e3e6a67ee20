import type { SearchMode } from '../store/store.port.ts';
import { disagreements, evaluateRetrieval, formatRecallTable, parseLabelledSet, recallAtK, type LabelledQuestion } from './retrieval-quality.ts';

describe('recallAtK', () => {
  it('is the fraction of expected documents among the first k results, each document counted once', () => {
    expect(recallAtK(['a'], ['b', 'a', 'c'], 2)).toBe(1);
    expect(recallAtK(['a'], ['b', 'c', 'a'], 2)).toBe(0);
    expect(recallAtK(['a', 'b'], ['a', 'a', 'a', 'c', 'd', 'b'], 5)).toBe(0.5);
    expect(recallAtK(['a', 'b', 'c'], ['c', 'b', 'a'], 5)).toBe(1);
    expect(recallAtK(['a'], [], 5)).toBe(0);
  });

  it('refuses a k below 1 and a question without expected documents', () => {
    expect(() => recallAtK(['a'], ['a'], 0)).toThrow(RangeError);
    expect(() => recallAtK([], ['a'], 5)).toThrow(RangeError);
  });
});

describe('parseLabelledSet', () => {
  const question = { id: 'q1', kind: 'keyword', question: 'E-317', expected: ['errors'] };

  it('accepts a well-formed set', () => {
    expect(parseLabelledSet({ questions: [question] }, new Set(['errors'])).questions).toEqual([question]);
  });

  it('names what is wrong: unknown kind, duplicate id, no expected document, unknown document', () => {
    expect(() => parseLabelledSet({ questions: [{ ...question, kind: 'fuzzy' }] })).toThrow(/kind/);
    expect(() => parseLabelledSet({ questions: [question, question] })).toThrow(/duplicate question id 'q1'/);
    expect(() => parseLabelledSet({ questions: [{ ...question, expected: [] }] })).toThrow(/expected/);
    expect(() => parseLabelledSet({ questions: [question] }, new Set(['other']))).toThrow(/q1 → errors/);
  });
});

describe('evaluateRetrieval', () => {
  const questions: LabelledQuestion[] = [
    { id: 'p1', kind: 'paraphrase', question: 'stay home with a baby', expected: ['leave'] },
    { id: 'k1', kind: 'keyword', question: 'E-317', expected: ['errors'] },
    { id: 'm1', kind: 'mixed', question: 'error E-204 fix', expected: ['errors', 'manual'] },
  ];
  // A fake engine: dense understands paraphrases, full text matches codes, hybrid does both.
  const answers: Record<SearchMode, Record<string, string[]>> = {
    dense: { p1: ['leave', 'x'], k1: ['x', 'y'], m1: ['errors', 'x'] },
    fulltext: { p1: [], k1: ['errors'], m1: ['manual', 'errors'] },
    hybrid: { p1: ['leave'], k1: ['errors', 'x'], m1: ['errors', 'manual'] },
  };
  const search = async (text: string, mode: SearchMode) => answers[mode][questions.find((q) => q.question === text)!.id]!;

  it('averages recall@k per mode, overall and per kind', async () => {
    const report = await evaluateRetrieval({ questions, modes: ['dense', 'fulltext', 'hybrid'], k: 5, search });
    expect(report.figures.dense).toEqual({ overall: (1 + 0 + 0.5) / 3, byKind: { paraphrase: 1, keyword: 0, mixed: 0.5 }, questions: 3 });
    expect(report.figures.fulltext).toEqual({ overall: 2 / 3, byKind: { paraphrase: 0, keyword: 1, mixed: 1 }, questions: 3 });
    expect(report.figures.hybrid!.overall).toBe(1);
    expect(report.results).toHaveLength(9);
  });

  it('passes k to the search and counts only the first k results', async () => {
    const seen: number[] = [];
    const report = await evaluateRetrieval({
      questions: [questions[1]!],
      modes: ['fulltext'],
      k: 1,
      search: async (_text, _mode, k) => {
        seen.push(k);
        return ['x', 'errors'];
      },
    });
    expect(seen).toEqual([1]);
    expect(report.figures.fulltext!.overall).toBe(0);
  });

  it('prints a table with one row per mode and lists the questions where modes disagree', async () => {
    const report = await evaluateRetrieval({ questions, modes: ['dense', 'fulltext', 'hybrid'], k: 5, search });
    const lines = formatRecallTable(report).split('\n');
    expect(lines[0]).toMatch(/^\| mode +\| overall \(3\) \| paraphrase \(1\) \| keyword \(1\) \| mixed \(1\) \|$/);
    expect(lines.slice(2).map((line) => line.split('|').map((cell) => cell.trim()).filter(Boolean))).toEqual([
      ['dense', '0.500', '1.000', '0.000', '0.500'],
      ['fulltext', '0.667', '0.000', '1.000', '1.000'],
      ['hybrid', '1.000', '1.000', '1.000', '1.000'],
    ]);
    expect(disagreements(report).map((d) => [d.id, d.recall])).toEqual([
      ['p1', { dense: 1, fulltext: 0, hybrid: 1 }],
      ['k1', { dense: 0, fulltext: 1, hybrid: 1 }],
      ['m1', { dense: 0.5, fulltext: 1, hybrid: 1 }],
    ]);
  });
});
