import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { ApiError, ApiKeyOrUserTokenGuard, LOGGER, type AuthenticatedRequest } from '@aip/runtime';
import { UsageLedger } from '@aip/usage';
import type { Logger } from 'pino';
import { ResponseStore } from '../responses/response.store.ts';
import { feedbackInputSchema } from './feedback.schema.ts';

const notFound = () => new ApiError(404, 'No finished answer with that id that this key or user may rate (an answer can be rated once it has ended).', 'not_found_error', 'answer_not_found');

/**
 * Ratings of answers, kept in the usage ledger beside the answer's usage row, so reports compare
 * models and providers (A/B variants) by score too. An API key rates its tenant's answers; a
 * realtime token's end user only their own. A later rating of the same answer replaces it.
 */
@Controller('v1/feedback')
@UseGuards(ApiKeyOrUserTokenGuard)
export class FeedbackController {
  constructor(
    @Inject(UsageLedger) private readonly ledger: UsageLedger,
    @Inject(ResponseStore) private readonly responses: ResponseStore,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Post()
  @HttpCode(201)
  async rate(@Req() request: AuthenticatedRequest, @Body() body: unknown) {
    const parsed = feedbackInputSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ApiError(400, parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '), 'invalid_request_error', 'invalid_value', issue.path.join('.') || null);
    }
    const input = parsed.data;
    const { tenantId, id: keyId } = request.apiKey;
    const taskId = input.task_id ?? (await this.responses.get(tenantId, input.response_id!))?.taskId;
    if (!taskId) throw notFound();
    try {
      const answer = await this.ledger.answer(tenantId, taskId);
      // An end user rates only answers given to them; another's is "not found", not "forbidden".
      if (!answer || (request.endUser !== undefined && answer.userId !== request.endUser)) throw notFound();
      if (answer.status !== 'completed') throw new ApiError(409, `This answer ended ${answer.status}: only completed answers are rated.`, 'invalid_request_error', 'answer_not_completed', 'task_id');
      await this.ledger.rate({ tenantId, taskId, keyId, userId: request.endUser ?? answer.userId, score: input.score, comment: input.comment ?? null, at: new Date() });
    } catch (error) {
      if (error instanceof ApiError) throw error;
      this.logger.warn({ err: String(error) }, 'feedback not stored');
      throw new ApiError(503, 'The usage ledger is unavailable; retry shortly.', 'service_unavailable', 'usage_unavailable');
    }
    return { object: 'feedback' as const, task_id: taskId, score: input.score, comment: input.comment ?? null };
  }
}
