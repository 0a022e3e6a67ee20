import { WorkerRegistry, type WorkerChoice } from '@aip/rate-limit';
import type { Logger } from 'pino';
import { admissionMetrics } from './admission.metrics.ts';

/**
 * Session affinity (SESSION_AFFINITY): the worker for a session's request, routed through its
 * lane. Without a live worker holding a lane, or with Redis failing here, the request goes to the
 * shared group instead, where any worker takes it: affinity is an optimisation, never a reason to
 * hold a request back.
 */
export async function chooseWorker(workers: WorkerRegistry, request: { taskId: string; tenantId: string; sessionId: string; maxLoadGap: number }, logger: Logger): Promise<WorkerChoice | undefined> {
  const { taskId, tenantId, sessionId } = request;
  try {
    // Session ids are the tenant's own: two tenants may use the same one.
    const choice = await workers.chooseWorker(`${tenantId}/${sessionId}`, { maxLoadGap: request.maxLoadGap });
    admissionMetrics.workerChoices.inc({ reason: choice?.reason ?? 'none' });
    if (choice && choice.reason !== 'sticky' && choice.reason !== 'new') logger.info({ taskId, sessionId, ...choice }, 'session moved to another worker');
    return choice;
  } catch (error) {
    admissionMetrics.workerChoices.inc({ reason: 'none' });
    logger.warn({ taskId, err: String(error) }, 'could not choose a worker: any worker may take the request');
    return undefined;
  }
}
