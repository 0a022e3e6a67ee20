import type { AdmissionAttempt } from '@aip/rate-limit';
import type { Logger } from 'pino';
import { Counter, register } from 'prom-client';

/** What the limiter decides, for operators (`/metrics`); one instance per process. */
export const admissionMetrics = {
  decisions: new Counter({ name: 'aip_admission_decisions_total', help: 'Admission decisions by outcome and reason', labelNames: ['outcome', 'reason'], registers: [register] }),
  workerChoices: new Counter({ name: 'aip_affinity_choices_total', help: 'Session-affinity worker choices by reason (sticky, new, rebalanced, failover, none)', labelNames: ['reason'], registers: [register] }),
};

/** Session affinity's choice for an admitted request, counted, and logged when the session moved or choosing failed. */
export function countWorkerChoice(affinity: AdmissionAttempt['affinity'], request: { taskId: string; sessionId?: string | undefined }, logger: Logger): void {
  if (!affinity) return;
  const { worker, error } = affinity;
  admissionMetrics.workerChoices.inc({ reason: worker?.reason ?? 'none' });
  if (error !== undefined) logger.warn({ taskId: request.taskId, err: String(error) }, 'could not choose a worker: any worker may take the request');
  else if (worker && worker.reason !== 'sticky' && worker.reason !== 'new') logger.info({ ...request, ...worker }, 'session moved to another worker');
}
