/** A document as knowledge-ingest reports it, as far as the page reads it. */
export interface DocumentView {
  id: string;
  status: string;
  progress?: unknown;
  stage?: string;
  chunks?: number;
  error?: { message?: string } | string;
}

/**
 * A document's indexing progress as a fraction 0..1, whatever unit the service reports it in
 * (a fraction, a percentage, or processed/total counts).
 */
export function indexingFraction(doc: Pick<DocumentView, 'status' | 'progress'>): number {
  if (doc.status === 'indexed') return 1;
  const progress = doc.progress;
  if (typeof progress === 'number') return progress > 1 ? Math.min(1, progress / 100) : progress;
  if (progress && typeof progress === 'object') {
    const counts = progress as Record<string, unknown>;
    const number = (...names: string[]) => names.map((name) => counts[name]).find((value): value is number => typeof value === 'number');
    if (typeof counts['fraction'] === 'number') return counts['fraction'];
    if (typeof counts['percent'] === 'number') return counts['percent'] / 100;
    const done = number('done', 'processed', 'embedded') ?? 0;
    const total = number('total', 'chunks') ?? 0;
    if (total > 0) return Math.min(1, done / total);
  }
  return 0;
}
