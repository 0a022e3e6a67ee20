// Retrieval quality: recall@k of a labelled question set, per search mode and per question kind.
// Framework-free and independent of the store: the caller passes a `search` that returns the
// document ids of the ranked passages, so the same evaluation runs against any adapter or mode.
import { z } from 'zod';
import type { SearchMode } from '../store/store.port.ts';

export const QUESTION_KINDS = ['paraphrase', 'keyword', 'mixed'] as const;
/** `paraphrase`: no key word shared with the answer; `keyword`: identifiers only; `mixed`: both. */
export type QuestionKind = (typeof QUESTION_KINDS)[number];

export const labelledQuestionSchema = z.object({
  id: z.string().min(1),
  kind: z.enum(QUESTION_KINDS),
  question: z.string().trim().min(1),
  /** Document ids that answer the question (at least one). */
  expected: z.array(z.string().min(1)).min(1),
});
export type LabelledQuestion = z.infer<typeof labelledQuestionSchema>;

export const labelledSetSchema = z
  .object({ description: z.string().optional(), questions: z.array(labelledQuestionSchema).min(1) })
  .superRefine((set, ctx) => {
    const seen = new Set<string>();
    set.questions.forEach((q, index) => {
      if (seen.has(q.id)) ctx.addIssue({ code: 'custom', path: ['questions', index, 'id'], message: `duplicate question id '${q.id}'` });
      seen.add(q.id);
      if (new Set(q.expected).size !== q.expected.length) ctx.addIssue({ code: 'custom', path: ['questions', index, 'expected'], message: `question '${q.id}' lists a document twice` });
    });
  });
export type LabelledSet = z.infer<typeof labelledSetSchema>;

/**
 * Parses a labelled set; with `knownDocIds`, every expected id must be one of them (a typo would
 * otherwise silently count as a miss). Throws an Error naming every problem.
 */
export function parseLabelledSet(input: unknown, knownDocIds?: ReadonlySet<string>): LabelledSet {
  const parsed = labelledSetSchema.safeParse(input);
  if (!parsed.success) throw new Error(`invalid labelled set: ${z.prettifyError(parsed.error)}`);
  if (knownDocIds) {
    const unknown = parsed.data.questions.flatMap((q) => q.expected.filter((id) => !knownDocIds.has(id)).map((id) => `${q.id} → ${id}`));
    if (unknown.length > 0) throw new Error(`invalid labelled set: expected documents not in the corpus: ${unknown.join(', ')}`);
  }
  return parsed.data;
}

/**
 * Fraction of the expected documents found among the first `k` results (`ranked`: the document id
 * of each returned passage, best first; several passages of one document count once).
 */
export function recallAtK(expected: readonly string[], ranked: readonly string[], k: number): number {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (expected.length === 0) throw new RangeError('a question needs at least one expected document');
  const top = new Set(ranked.slice(0, k));
  const wanted = [...new Set(expected)];
  return wanted.filter((id) => top.has(id)).length / wanted.length;
}

export interface QuestionResult {
  readonly id: string;
  readonly kind: QuestionKind;
  readonly mode: SearchMode;
  readonly recall: number;
  /** Document id of each returned passage, best first. */
  readonly ranked: readonly string[];
  readonly expected: readonly string[];
}

export interface RecallFigures {
  /** Mean recall@k over every question. */
  readonly overall: number;
  /** Mean recall@k per question kind (kinds with no question are absent). */
  readonly byKind: Readonly<Partial<Record<QuestionKind, number>>>;
  readonly questions: number;
}

export interface QualityReport {
  readonly k: number;
  readonly modes: readonly SearchMode[];
  readonly figures: Readonly<Partial<Record<SearchMode, RecallFigures>>>;
  readonly results: readonly QuestionResult[];
}

export interface EvaluateOptions {
  readonly questions: readonly LabelledQuestion[];
  readonly modes: readonly SearchMode[];
  readonly k: number;
  /** Runs one question in one mode; returns the document id of each passage, best first. */
  readonly search: (question: string, mode: SearchMode, k: number) => Promise<readonly string[]>;
}

/** Runs every question in every mode (sequentially: the figures must not depend on load) and averages recall@k. */
export async function evaluateRetrieval(options: EvaluateOptions): Promise<QualityReport> {
  const results: QuestionResult[] = [];
  for (const q of options.questions) {
    for (const mode of options.modes) {
      const ranked = await options.search(q.question, mode, options.k);
      results.push({ id: q.id, kind: q.kind, mode, recall: recallAtK(q.expected, ranked, options.k), ranked: [...ranked], expected: q.expected });
    }
  }
  const figures: Partial<Record<SearchMode, RecallFigures>> = {};
  for (const mode of options.modes) {
    const ofMode = results.filter((r) => r.mode === mode);
    const byKind: Partial<Record<QuestionKind, number>> = {};
    for (const kind of QUESTION_KINDS) {
      const ofKind = ofMode.filter((r) => r.kind === kind);
      if (ofKind.length > 0) byKind[kind] = mean(ofKind.map((r) => r.recall));
    }
    figures[mode] = { overall: mean(ofMode.map((r) => r.recall)), byKind, questions: ofMode.length };
  }
  return { k: options.k, modes: [...options.modes], figures, results };
}

/** A plain-text table: one row per mode, columns overall and per kind (question counts in the header). */
export function formatRecallTable(report: QualityReport): string {
  const kinds = QUESTION_KINDS.filter((kind) => report.results.some((r) => r.kind === kind));
  const count = (kind: QuestionKind) => new Set(report.results.filter((r) => r.kind === kind).map((r) => r.id)).size;
  const total = new Set(report.results.map((r) => r.id)).size;
  const header = ['mode', `overall (${total})`, ...kinds.map((kind) => `${kind} (${count(kind)})`)];
  const rows = report.modes.map((mode) => {
    const f = report.figures[mode];
    return [mode, f?.overall.toFixed(3) ?? '-', ...kinds.map((kind) => f?.byKind[kind]?.toFixed(3) ?? '-')];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Questions whose recall differs between modes, for reading why a mode wins or loses. */
export function disagreements(report: QualityReport): { id: string; kind: QuestionKind; recall: Partial<Record<SearchMode, number>>; top: Partial<Record<SearchMode, readonly string[]>> }[] {
  const byId = new Map<string, { first: QuestionResult; rs: QuestionResult[] }>();
  for (const r of report.results) {
    const entry = byId.get(r.id);
    if (entry) entry.rs.push(r);
    else byId.set(r.id, { first: r, rs: [r] });
  }
  return [...byId.values()]
    .filter(({ rs }) => new Set(rs.map((r) => r.recall)).size > 1)
    .map(({ first, rs }) => ({
      id: first.id,
      kind: first.kind,
      recall: Object.fromEntries(rs.map((r) => [r.mode, r.recall])),
      top: Object.fromEntries(rs.map((r) => [r.mode, r.ranked.slice(0, report.k)])),
    }));
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, v) => sum + v, 0) / values.length;
}
