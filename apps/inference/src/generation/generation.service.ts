import { Inject, Injectable, Optional } from '@nestjs/common';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Envelope } from '@aip/contracts';
import { capabilityNeeds, LlmError, ModelRouter, needsImages, UnknownModelError, UnsupportedRequestError, type ChatChunk, type ChatMessage, type ChatStreamRequest, type FallbackChain, type LlmErrorKind, type MessagePart, type ToolCall } from '@aip/llm';
import { EventPublisher } from '@aip/messaging';
import { ENV, LOGGER, ROUTING_WATCH, type DocumentWatch } from '@aip/runtime';
import { ClaimCheck, ClaimCheckError, ProfileStore, ConversationStore, chatTurnsOf, itemsOfExchange, textTurnsOf, StaleRunError, TaskStore, ToolCallAssembly, type TaskEvent, type TaskRun, type Turn } from '@aip/tasks';
import type { Logger } from 'pino';
import type { InferenceEnv } from '../inference.config.ts';
import { KNOWLEDGE, lastUserTurn, NO_GROUNDING, searchQuery, toGrounding, usedSources, type Grounding, type KnowledgeSearch } from './grounding.ts';
import { assemblePrompt, historyWindow } from './prompt.ts';
import { summarise } from './summary.ts';
import { generationMetrics } from './generation.metrics.ts';


type Admitted = Envelope<'ai.request.admitted'>;

/** Which delivery of its message a run is: the broker repeats all but the last. */
export interface Delivery {
  attempt: number;
  last: boolean;
}

/** A finished stream: the run that wrote it, the text, the model's final chunk. */
interface Streamed {
  run: TaskRun;
  text: string;
  toolCalls: ToolCall[];
  done: Extract<ChatChunk, { type: 'done' }>;
  provider: string;
  firstTokenAt?: number;
}

const tracer = trace.getTracer('@aip/inference');

/** A run's start: the task's (`owned`), then also its `started` event sent (`announced`). */
interface RunStart {
  owned: Promise<TaskRun>;
  announced: Promise<TaskRun>;
}

/** The newest items a prompt is built from (the token budget then keeps what fits; the rest is counted in its marker). */
const HISTORY_ITEMS = 50;

/** The lifecycle event's common part: what the limiter needs to reconcile the reservation. */
const lifecycleOf = ({ data: { request, reservationId } }: Admitted) => ({ taskId: request.taskId, apiKeyId: request.apiKeyId, model: request.model, ...(reservationId ? { reservationId } : {}) });

/** What a client is told when the model fails, by kind: actionable, and free of provider details. */
const CLIENT_MESSAGES: Record<LlmErrorKind, string> = {
  timeout: 'The model did not answer in time; retry later.',
  rate_limited: 'The model provider is rate limiting requests; retry later.',
  server_error: 'The model provider failed; retry later.',
  network: 'The model provider could not be reached; retry later.',
  context_length: 'The conversation is too long for this model.',
  content_policy: 'The model provider refused this content.',
  auth: 'The platform could not authenticate with the model provider.',
  bad_request: 'The model provider rejected the request.',
};

/**
 * Runs one admitted request: prompt assembly, the model's fallback chain, token deltas to the
 * task stream in small batches, result and history, lifecycle events. Throwing means "retry the
 * message" (infrastructure trouble); model failures end the task instead (the chain already fell
 * back), so they are not retried.
 */
@Injectable()
export class GenerationService {
  constructor(
    @Inject(TaskStore) private readonly tasks: TaskStore,
    @Inject(ConversationStore) private readonly conversations: ConversationStore,
    @Inject(ProfileStore) private readonly profiles: ProfileStore,
    @Inject(ModelRouter) private readonly models: ModelRouter,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
    @Inject(ENV) private readonly env: InferenceEnv,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(ROUTING_WATCH) private readonly routing: Pick<DocumentWatch, 'catchUp'>,
    @Optional() @Inject(KNOWLEDGE) private readonly knowledge?: KnowledgeSearch,
    // The images access stored for requests (ADR 0028); a request that has some fails without it.
    @Optional() @Inject(ClaimCheck) private readonly claims?: ClaimCheck,
  ) {}

  /**
   * Runs the request. Throws StaleRunError when another delivery of it took the task over
   * mid-way: that run answers, and this delivery's message is left to it (not acknowledged, so
   * nothing is lost if that run fails too; a redelivery then finds the request done).
   */
  async run(event: Envelope<'ai.request.admitted'>, delivery: Delivery): Promise<void> {
    const { attempt } = delivery;
    const { request } = event.data;
    // The run's span (its retrieval and each provider attempt are its children); a no-op while tracing is off.
    const span = tracer.startSpan(`generate ${request.model}`, { attributes: { 'aip.task.id': request.taskId, 'aip.tenant.id': event.tenantId, 'aip.model.alias': request.model, 'aip.delivery.attempt': attempt, 'aip.worker.id': this.env.WORKER_ID } });
    try {
      await context.with(trace.setSpan(context.active(), span), () => this.generate(event, delivery));
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      if (!(error instanceof StaleRunError)) throw error;
      generationMetrics.generations.inc({ model: event.data.request.model, provider: 'none', outcome: error.reason });
      this.logger.warn({ taskId: error.taskId, attempt, reason: error.reason }, 'generation stopped: the task is no longer this run\'s');
      if (error.reason === 'superseded') throw error;
    } finally {
      span.end();
    }
  }

  /** The steps of one run, top to bottom. */
  private async generate(event: Admitted, delivery: Delivery): Promise<void> {
    // The conversation and profile are read while the task is checked: one round trip, not two.
    const history = this.history(event);
    history.catch(() => undefined); // unused when the task is not wanted; awaited otherwise
    if (!(await this.stillWanted(event))) return;
    const chain = await this.chainFor(event);
    if (!chain) return;
    if (!(await this.readsImages(event, chain))) return;
    const startedAt = Date.now();
    const started = this.begin(event, delivery, startedAt);
    const heartbeat = this.keepAlive(started.owned);
    try {
      let context: Awaited<ReturnType<GenerationService['context']>>;
      try {
        context = await this.context(event, chain, await history);
      } catch (error) {
        if (!(error instanceof ClaimCheckError)) throw error;
        // Not the client's doing (access stored the images): a store workers do not share, or a forged reference.
        this.logger.error({ taskId: event.data.request.taskId, reason: error.reason, err: error.message }, 'an image of the request could not be read');
        await this.fail(event, await started.announced, { code: 'image_unavailable', message: 'The platform could not read an image of this request; retry later.' }, 502);
        return;
      }
      const { messages, grounding, leaving } = context;
      const streamed = await this.stream(event, chain, { messages, passages: grounding.passages }, started);
      if (streamed) await this.complete(event, streamed, grounding, startedAt);
      if (streamed && leaving) this.summariseLater(event, chain, leaving);
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * False when the request has images and no provider of its model reads them: the task fails
   * with 400 `unsupported_capability` before anything is read or tried (as the chain would refuse).
   */
  private async readsImages(event: Admitted, chain: FallbackChain): Promise<boolean> {
    const { messages } = event.data.request;
    if (!needsImages(messages) || chain.images) return true;
    await this.fail(event, undefined, { code: 'unsupported_capability', message: new UnsupportedRequestError(chain.name, capabilityNeeds(messages)).message }, 400);
    return false;
  }

  /** The request's turns as the model port takes them, claim-checked images redeemed as data URIs. */
  private async turnsOf(event: Admitted): Promise<ChatMessage[]> {
    const { request } = event.data;
    const partOf = async (part: NonNullable<(typeof request.messages)[number]['parts']>[number]): Promise<MessagePart> => {
      if (part.type === 'text') return part;
      const detail = part.detail ? { detail: part.detail } : {};
      if (part.url !== undefined) return { type: 'image', url: part.url, ...detail };
      if (!part.ref || !this.claims) throw new ClaimCheckError('gone', 'this worker has no object store for images');
      return { type: 'image', url: ClaimCheck.dataUri(part.ref, await this.claims.redeem(event.tenantId, request.taskId, part.ref)), ...detail };
    };
    return Promise.all(
      request.messages.map(async ({ role, content, parts, name, toolCalls, toolCallId }) => ({
        role,
        content,
        ...(parts ? { parts: await Promise.all(parts.map(partOf)) } : {}),
        ...(name ? { name } : {}),
        ...(toolCalls ? { toolCalls } : {}),
        ...(toolCallId ? { toolCallId } : {}),
      })),
    );
  }

  /** False when the task was cancelled, has ended or expired before it got here (each settled here). */
  private async stillWanted(event: Admitted): Promise<boolean> {
    const { taskId } = event.data.request;
    const [task, cancelled] = await Promise.all([this.tasks.get(taskId), this.tasks.isCancelled(taskId)]);
    if (!task || task.status === 'cancelled') {
      // Cancelled (or expired) before it got here: the limiter reserved for it all the same, and
      // only a lifecycle event gives that back. Reconciling is idempotent, so a repeat is harmless.
      // No task at all is worth a word: expired, or a request of another deployment whose workers
      // share these topics with another Redis (prefix) — then this worker takes its requests away.
      if (!task) this.logger.warn({ taskId, tenantId: event.tenantId }, 'admitted request for a task this worker cannot find (expired, or another deployment on the same topics): not run');
      await this.publisher.publish('ai.inference.cancelled', lifecycleOf(event), { tenantId: event.tenantId });
      return false;
    }
    if (['completed', 'failed', 'rejected'].includes(task.status)) return false;
    if (cancelled) {
      if (await this.tasks.finish(taskId, 'cancelled', {}, { type: 'status', status: 'cancelled' })) {
        await this.publisher.publish('ai.inference.cancelled', lifecycleOf(event), { tenantId: event.tenantId });
      }
      return false;
    }
    return true;
  }

  /**
   * The model's fallback chain; an unknown alias ends the task (404) instead — once this worker has
   * the newest routing: an alias added a moment ago reaches the edge and this worker within the
   * same second but not at the same instant, and its first request must not be a 404.
   */
  private async chainFor(event: Admitted): Promise<FallbackChain | undefined> {
    const { model } = event.data.request;
    if (!this.models.has(model)) await this.routing.catchUp();
    try {
      return this.models.resolve(model);
    } catch (error) {
      if (!(error instanceof UnknownModelError)) throw error;
      await this.fail(event, undefined, { code: 'model_not_found', message: error.message });
      return undefined;
    }
  }

  /**
   * The run's start and its lifecycle event, not awaited here: they go on while the context is
   * read. The first delta waits for the run (`owned`: the task's `running` status precedes it on
   * the stream); the run's end waits for the event too (`announced`), so consumers see `started`
   * before `completed` — a broker send (~3 ms here) is not on the way to the first token. The run
   * is the task's one writer from here: a redelivery that overlaps this one (a worker thought dead)
   * takes the task over, and this run's writes are refused.
   */
  private begin(event: Admitted, { attempt, last }: Delivery, startedAt: number): RunStart {
    const { request, reservationId } = event.data;
    const { taskId } = request;
    // Should this worker die, the run is orphaned one lease after its last heartbeat, plus time
    // for the broker's redelivery unless this is the last delivery (OrphanedRunSweep ends it).
    const liveness = { ttlMs: this.env.LEASE_MS, graceMs: last ? 0 : this.env.RUN_REDELIVERY_GRACE_MS };
    const owned = this.tasks
      .beginRun(taskId, { startedAt, workerId: this.env.WORKER_ID, attempt }, { liveness, ...(reservationId ? { reservationId } : {}), ...(event.data.limits ? { limits: event.data.limits } : {}) })
      .then((run) => run ?? Promise.reject(new StaleRunError(taskId, 'ended')));
    const published = this.publisher.publish('ai.inference.started', { taskId, apiKeyId: request.apiKeyId, ...(request.sessionId ? { sessionId: request.sessionId } : {}), ...(request.userId ? { userId: request.userId } : {}), workerId: this.env.WORKER_ID, model: request.model, attempt }, { tenantId: event.tenantId });
    const announced = Promise.all([owned, published]).then(([run]) => run);
    // Awaited later; avoid an unhandled rejection meanwhile.
    owned.catch(() => undefined);
    announced.catch(() => undefined);
    return { owned, announced };
  }

  /**
   * The run's heartbeat, every third of a lease (as often as the message's lease is renewed):
   * while it beats, nobody ends the task as orphaned. A failed beat is retried on the next tick.
   */
  private keepAlive(started: Promise<TaskRun>): NodeJS.Timeout {
    return setInterval(() => {
      void started.then((run) => run.heartbeat()).catch(() => undefined);
    }, Math.floor(this.env.LEASE_MS / 3));
  }

  /** What the prompt is built from besides the request: the user's profile and the session's recent items. */
  private async history(event: Admitted) {
    const { request } = event.data;
    const [profile, recent] = await Promise.all([
      this.profiles.forPrompt(event.tenantId, request.userId),
      request.sessionId ? this.conversations.recent(event.tenantId, request.sessionId, HISTORY_ITEMS) : Promise.resolve(undefined),
    ]);
    return { profile, recent };
  }

  /** The prompt (profile, history within its budget, the request's turns) and the passages that ground it. */
  private async context(event: Admitted, chain: FallbackChain, { profile, recent }: Awaited<ReturnType<GenerationService['history']>>) {
    const { request } = event.data;
    const tenantId = event.tenantId;
    const items = recent?.items ?? [];
    const first = historyWindow(items, this.env.HISTORY_TOKEN_BUDGET);
    const messages = assemblePrompt({
      user: { ...(request.metadata ? { tags: request.metadata } : {}), ...(profile ? { profile } : {}), now: new Date() },
      ...(recent?.summary ? { summary: recent.summary.text } : {}),
      history: chatTurnsOf(items.slice(first)),
      omitted: first + (recent?.older ?? 0),
      messages: await this.turnsOf(event),
    });
    // The items neither shown nor summarised (cut by the budget, or older than this read), for the
    // conversation's summary once the answer is out: after the summary's last item, up to the last one left out.
    const shownFrom = recent?.seqs[first];
    const leaving =
      recent && first + recent.older > 0 && this.env.HISTORY_SUMMARY === 'model' && this.usesLanguageModel(request.model)
        ? { after: recent.summary?.through ?? 0, through: first > 0 ? (recent.seqs[first - 1] ?? 0) : (shownFrom ?? 1) - 1, previous: recent.summary?.text }
        : undefined;
    return { messages, leaving, grounding: await this.ground(tenantId, request, textTurnsOf(items), chain) };
  }

  private usesLanguageModel(model: string): boolean {
    return this.models.current().models[model]?.providers.some((provider) => provider.kind !== 'extractive') ?? false;
  }

  /**
   * Folds the turns that left the prompt's window into the conversation's summary, with the
   * request's model, after the answer (off the request's path: nobody waits for it). A failure
   * leaves the marker in place of those turns, and the next long answer tries again.
   */
  private summariseLater(event: Admitted, chain: FallbackChain, leaving: { after: number; through: number; previous?: string | undefined }): void {
    const { taskId, sessionId } = event.data.request;
    if (!sessionId || leaving.through <= leaving.after) return;
    void (async () => {
      const turns = textTurnsOf(await this.conversations.between(event.tenantId, sessionId, leaving.after, leaving.through));
      const text = await summarise(chain, { previous: leaving.previous, turns, maxTokens: 400, signal: AbortSignal.timeout(this.env.HISTORY_SUMMARY_TIMEOUT_MS) });
      if (!text) throw new Error('the model wrote an empty summary');
      const kept = await this.conversations.setSummary(event.tenantId, sessionId, { text, through: leaving.through });
      generationMetrics.summaries.inc({ outcome: kept ? 'kept' : 'superseded' });
    })().catch((error: unknown) => {
      generationMetrics.summaries.inc({ outcome: 'failed' });
      this.logger.warn({ taskId, sessionId, err: String(error) }, 'conversation summary not written: the older turns stay out of prompts with a marker');
    });
  }

  /**
   * The model's answer into the task stream: the first delta at once (time to first token is
   * what users feel), later ones in small batches. Undefined when the run ended otherwise
   * (cancelled, the model failed, or stopped without finishing), each settled here.
   */
  private async stream(event: Admitted, chain: FallbackChain, prompt: Pick<ChatStreamRequest, 'messages' | 'passages'>, started: RunStart): Promise<Streamed | undefined> {
    const { request } = event.data;
    const { taskId } = request;
    const abort = new AbortController();
    const cancelWatch = setInterval(() => {
      void this.tasks.isCancelled(taskId).then((cancelled) => cancelled && abort.abort(new Error('cancelled')), () => undefined);
    }, 100);
    const batch: TaskEvent[] = [];
    let run: TaskRun | undefined;
    let lastFlush = Date.now();
    let text = '';
    const toolCalls = new ToolCallAssembly();
    let firstTokenAt: number | undefined;
    let done: Extract<ChatChunk, { type: 'done' }> | undefined;
    let provider = request.model;
    try {
      // A conversation's turns stay on one weighted variant when its alias is sticky.
      const routingKey = request.sessionId ? `${event.tenantId}/${request.sessionId}` : request.taskId;
      const options = { maxTokens: request.maxTokens, routingKey, ...(request.temperature !== undefined ? { temperature: request.temperature } : {}), ...(request.forward ? { forward: request.forward } : {}) };
      for await (const chunk of chain.stream({ ...prompt, ...options, signal: abort.signal }, (name) => (provider = name))) {
        if (chunk.type === 'done') {
          done = chunk;
          break;
        }
        const first = firstTokenAt === undefined;
        firstTokenAt ??= Date.now();
        run ??= await started.owned; // the `running` status precedes the first delta on the stream
        if (chunk.type === 'tool_call') {
          toolCalls.add(chunk);
          batch.push(chunk);
        } else {
          text += chunk.text;
          batch.push({ type: 'delta', text: chunk.text, ...(chunk.logprobs ? { logprobs: chunk.logprobs } : {}) });
        }
        // A fast model must not cost one Redis write per token.
        if (first || Date.now() - lastFlush >= this.env.DELTA_FLUSH_MS || batch.length >= 64) {
          await run.append(batch.splice(0));
          lastFlush = Date.now();
        }
      }
    } catch (error) {
      run = await started.announced;
      await run.append(batch.splice(0));
      if (abort.signal.aborted) {
        if (await run.finish('cancelled', { result: text }, { type: 'status', status: 'cancelled' })) {
          await this.publisher.publish('ai.inference.cancelled', lifecycleOf(event), { tenantId: event.tenantId });
        }
        return undefined;
      }
      if (error instanceof UnsupportedRequestError) {
        await this.fail(event, run, { code: 'unsupported_capability', message: error.message }, 400);
        return undefined;
      }
      if (error instanceof LlmError) {
        // The provider's own words (hosts, ports, upstream bodies) go to the log, not to the client.
        this.logger.warn({ taskId, err: error.message, attempts: error.attempts }, 'model call failed');
        // The provider refused the request itself (a field it cannot take, too long): the client's to fix.
        const clientFault = error.kind === 'bad_request' || error.kind === 'context_length';
        await this.fail(event, run, { code: error.kind, message: CLIENT_MESSAGES[error.kind] }, clientFault ? 400 : 502);
        return undefined;
      }
      throw error;
    } finally {
      clearInterval(cancelWatch);
    }
    run = await started.announced;
    await run.append(batch.splice(0));
    if (!done) {
      await this.fail(event, run, { code: 'incomplete', message: 'the model ended the stream without finishing' });
      return undefined;
    }
    return { run, text, toolCalls: toolCalls.calls(), done, provider, ...(firstTokenAt ? { firstTokenAt } : {}) };
  }

  /** History, the task's result and final event, the lifecycle event and the metrics. */
  private async complete(event: Admitted, streamed: Streamed, grounding: Grounding, startedAt: number): Promise<void> {
    const { request, queuedMs } = event.data;
    const { run, text, toolCalls, done, provider, firstTokenAt } = streamed;
    const tenantId = event.tenantId;
    const timings = { queueMs: queuedMs, totalMs: Date.now() - startedAt, ...(firstTokenAt ? { firstTokenMs: firstTokenAt - startedAt } : {}) };
    const { promptTokens, completionTokens, totalTokens, cachedTokens, reasoningTokens } = done.usage;
    const usage = { promptTokens, completionTokens, totalTokens, ...(cachedTokens !== undefined ? { cachedTokens } : {}), ...(reasoningTokens !== undefined ? { reasoningTokens } : {}) };
    // History before the terminal event: a client that sees "done" and asks again finds the turn.
    // What the client said this time (its message, or its tools' results) and the answer, with the
    // calls it made: the next request brings their results. A conversation deleted meanwhile stays so.
    if (request.sessionId) {
      const kept = await this.conversations.append(tenantId, request.sessionId, itemsOfExchange(request.messages, { text, toolCalls }));
      if (!kept) this.logger.info({ taskId: request.taskId, sessionId: request.sessionId }, 'conversation gone (deleted or expired) before the answer ended: the turn is not kept');
    }
    const used = usedSources(grounding, text, done.citedPassages);
    const sources = used.length ? { sources: used } : {};
    const finished = await run.finish(
      'completed',
      { result: text, ...(toolCalls.length ? { toolCalls } : {}), usage, finishReason: done.finishReason, providerModel: provider, ...(firstTokenAt ? { firstTokenAt } : {}), ...sources },
      { type: 'done', usage, finishReason: done.finishReason, model: request.model, ...sources, ...(done.systemFingerprint ? { systemFingerprint: done.systemFingerprint } : {}), ...(done.refusal ? { refusal: done.refusal } : {}) },
    );
    if (!finished) {
      // Ended meanwhile (cancelled, or taken for orphaned): whoever ended it told the limiter.
      this.logger.warn({ taskId: request.taskId }, 'the task ended before this run could complete it: answer dropped');
      return;
    }
    await this.publisher.publish(
      'ai.inference.completed',
      {
        ...lifecycleOf(event),
        ...(request.sessionId ? { sessionId: request.sessionId } : {}),
        ...(request.userId ? { userId: request.userId } : {}),
        workerId: this.env.WORKER_ID,
        model: request.model,
        provider,
        usage,
        timings,
        finishReason: done.finishReason,
      },
      { tenantId },
    );
    generationMetrics.generations.inc({ model: request.model, provider, outcome: 'completed' });
    generationMetrics.tokens.inc({ model: request.model, provider, kind: 'prompt' }, usage.promptTokens);
    generationMetrics.tokens.inc({ model: request.model, provider, kind: 'completion' }, usage.completionTokens);
    if (timings.firstTokenMs !== undefined) generationMetrics.timeToFirstToken.observe({ model: request.model, provider }, timings.firstTokenMs / 1_000);
    this.logger.info({ taskId: request.taskId, model: request.model, provider, usage, timings }, 'generation completed');
  }

  /**
   * Retrieval-augmented generation: passages for the last user turn (rewritten into a standalone
   * query when a language model is in the chain). The knowledge base being down degrades the
   * answer, it does not fail it: the model answers without passages and the worker logs why.
   */
  private async ground(tenantId: string, request: Envelope<'ai.request.admitted'>['data']['request'], turns: Turn[], chain: FallbackChain): Promise<Grounding> {
    const question = lastUserTurn(request.messages);
    if (!this.knowledge || !question || this.env.RAG_TOP_K === 0 || request.knowledgeBases?.length === 0) return NO_GROUNDING;
    const usesLanguageModel = this.usesLanguageModel(request.model);
    const span = tracer.startSpan('retrieval', { attributes: { 'aip.task.id': request.taskId, 'aip.retrieval.top_k': this.env.RAG_TOP_K } });
    try {
      const query = await searchQuery({ question, history: turns, ...(usesLanguageModel ? { model: chain } : {}), signal: AbortSignal.timeout(this.env.RAG_REWRITE_TIMEOUT_MS) });
      const found = await this.knowledge.search({ tenantId, ...(request.knowledgeBases ? { kbIds: request.knowledgeBases } : {}), query, limit: this.env.RAG_TOP_K });
      span.setAttribute('aip.retrieval.passages', found.length);
      return toGrounding(found);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      this.logger.warn({ taskId: request.taskId, err: String(error) }, 'knowledge search failed: answering without passages');
      return NO_GROUNDING;
    } finally {
      span.end();
    }
  }

  /**
   * The last delivery failed on infrastructure (Redis, the broker, a crash-free bug): the message
   * is about to be dead-lettered, so the task ends as failed, with a retryable status, and the
   * reservation is reconciled. Best effort: with Redis down this cannot succeed either.
   */
  async giveUp(event: Envelope<'ai.request.admitted'>, cause: unknown): Promise<void> {
    this.logger.error({ taskId: event.data.request.taskId, err: String(cause) }, 'last attempt failed: ending the task');
    await this.fail(event, undefined, { code: 'worker_failed', message: 'the request failed on every attempt; retry later' }, 503);
  }

  /** Ends the task as failed (through `run` while it still owns the task) and tells the limiter. */
  private async fail(event: Envelope<'ai.request.admitted'>, run: TaskRun | undefined, error: { code: string; message: string }, status = error.code === 'model_not_found' ? 404 : 502) {
    const { request, reservationId } = event.data;
    const fields = { error };
    const final = { type: 'error' as const, ...error, status };
    await (run ? run.finish('failed', fields, final) : this.tasks.finish(request.taskId, 'failed', fields, final));
    await this.publisher.publish(
      'ai.inference.failed',
      { taskId: request.taskId, apiKeyId: request.apiKeyId, model: request.model, workerId: this.env.WORKER_ID, ...(reservationId ? { reservationId } : {}), error },
      { tenantId: event.tenantId },
    );
    generationMetrics.generations.inc({ model: request.model, provider: 'none', outcome: 'failed' });
    this.logger.warn({ taskId: request.taskId, error }, 'generation failed');
  }
}
