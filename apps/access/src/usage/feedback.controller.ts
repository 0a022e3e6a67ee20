import { Body, Controller, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { ApiError, ApiKeyOrUserTokenGuard, LOGGER, parseRequest, type AuthenticatedRequest } from '@aip/runtime';
import { UsageLedger } from '@aip/usage';
import type { Logger } from 'pino';
import { ResponseStore } from '../responses/response.store.ts';
import { feedbackInputSchema } from './feedback.schema.ts';
import { ledgerUnavailable } from './usage.controller.ts';

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
    const input = parseRequest(feedbackInputSchema, body);
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
      throw ledgerUnavailable();
    }
    return { object: 'feedback' as const, task_id: taskId, score: input.score, comment: input.comment ?? null };
  }
}
