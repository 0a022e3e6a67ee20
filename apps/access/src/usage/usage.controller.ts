import { Controller, Get, Header, Inject, Query, Req, Res, UseGuards } from '@nestjs/common';
import { idProblem } from '@aip/contracts';
import { ApiError, ApiKeyGuard, LOGGER, type AuthenticatedRequest } from '@aip/runtime';
import { USAGE_DIMENSIONS, UsageLedger, type UsageDimension, type UsageFilter, type UsageLine } from '@aip/usage';
import { PolicyBook, SpendBudgets } from '@aip/rate-limit';
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { AdminGuard } from '../admin/admin.guard.ts';

const DAY_MS = 86_400_000;
/** The widest window one report may cover. */
const MAX_RANGE_DAYS = 400;

type UsageQuery = Record<string, string | undefined>;

function invalid(message: string, param: string): ApiError {
  return new ApiError(400, message, 'invalid_request_error', 'invalid_value', param);
}

/** The query as one string per parameter: a parameter given twice is refused, not guessed at. */
function once(query: Record<string, unknown>): UsageQuery {
  for (const [param, value] of Object.entries(query)) {
    if (typeof value !== 'string') throw invalid(`give ${param} once`, param);
  }
  return query as UsageQuery;
}

/** Years a report may name: what every store keeps as a timestamp, and then some. */
const EARLIEST = Date.UTC(2000, 0, 1);
const LATEST = Date.UTC(9999, 11, 31);

function timeOf(value: string | undefined, param: string, fallback: Date): Date {
  if (value === undefined || value === '') return fallback;
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw invalid(`${param} must be an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T00:00:00Z`, param);
  if (at.getTime() < EARLIEST || at.getTime() > LATEST) throw invalid(`${param} must lie between the years 2000 and 9999`, param);
  return at;
}

/** A filter's value: an id as every id of the platform is (or absent). */
export function filterOf(query: UsageQuery, param: string): string | undefined {
  const value = query[param];
  if (value === undefined || value === '') return undefined;
  const problem = idProblem(value);
  if (problem) throw invalid(`${param} ${problem}`, param);
  return value;
}

/** A model alias filter: the alias rule of the routing document (letters, digits, . _ : / -). */
function modelOf(query: UsageQuery): string | undefined {
  const value = query['model'];
  if (value === undefined || value === '') return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/.test(value)) throw invalid('model must be a model alias (letters, digits and . _ : / -, at most 128)', 'model');
  return value;
}

/** The window and the grouping of a usage query: last 7 days by day unless asked otherwise. */
export function reportQuery(query: UsageQuery, allowed: readonly UsageDimension[]): { filter: Pick<UsageFilter, 'from' | 'to' | 'model' | 'provider' | 'userId'>; by: UsageDimension[] } {
  const to = timeOf(query['to'], 'to', new Date());
  const from = timeOf(query['from'], 'from', new Date(to.getTime() - 7 * DAY_MS));
  if (from >= to) throw invalid('from must be before to', 'from');
  if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY_MS) throw invalid(`a report covers at most ${MAX_RANGE_DAYS} days`, 'from');
  const by = (query['group_by'] ?? 'day').split(',').map((d) => d.trim()).filter(Boolean);
  const unknown = by.filter((d) => !allowed.includes(d as UsageDimension));
  if (unknown.length > 0) throw invalid(`group_by takes ${allowed.join(', ')}; not ${unknown.join(', ')}`, 'group_by');
  if (by.includes('day') && by.includes('hour')) throw invalid('group_by takes day or hour, not both', 'group_by');
  return { filter: { from, to, model: modelOf(query), provider: filterOf(query, 'provider'), userId: filterOf(query, 'user') }, by: by as UsageDimension[] };
}

/** A report as CSV: one header line, then one line per row (RFC 4180 quoting). */
export function usageCsv(lines: readonly UsageLine[], by: readonly UsageDimension[]): string {
  const columns = [...by, 'requests', 'failed', 'promptTokens', 'completionTokens', 'cachedTokens', 'cost', 'firstTokenMsP50', 'durationMsP50', 'feedbackScore', 'feedbackCount'];
  const cell = (value: unknown) => {
    const text = value === null || value === undefined ? '' : String(value);
    // A leading = + - @ would be a formula to a spreadsheet: quoted and prefixed so it stays text.
    const safe = /^[=+\-@]/.test(text) && Number.isNaN(Number(text)) ? `'${text}` : text;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  return `${[columns.join(','), ...lines.map((line) => columns.map((column) => cell((line as unknown as Record<string, unknown>)[column])).join(','))].join('\r\n')}\r\n`;
}

/** What a client is told while the ledger's database cannot answer (the cause goes to the log). */
export const ledgerUnavailable = () => new ApiError(503, 'The usage ledger is unavailable; retry shortly.', 'service_unavailable', 'usage_unavailable');

/** A report, or 503 while the ledger's database cannot answer. */
async function reportOf(ledger: UsageLedger, filter: UsageFilter, by: UsageDimension[], logger: Logger): Promise<UsageLine[]> {
  try {
    return await ledger.report(filter, by);
  } catch (error) {
    logger.warn({ err: String(error) }, 'usage report failed');
    throw ledgerUnavailable();
  }
}

const data = (lines: UsageLine[], filter: Pick<UsageFilter, 'from' | 'to'>, by: UsageDimension[]) => ({ object: 'usage_report', from: filter.from.toISOString(), to: filter.to.toISOString(), group_by: by, data: lines });

/** `GET /v1/usage`: the calling key's own usage (its tenant's rows of this key only). */
@Controller('v1/usage')
@UseGuards(ApiKeyGuard)
export class UsageController {
  constructor(
    @Inject(UsageLedger) private readonly ledger: UsageLedger,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get()
  async own(@Req() request: AuthenticatedRequest, @Query() raw: Record<string, unknown>) {
    const query = once(raw);
    const { filter, by } = reportQuery(query, ['model', 'provider', 'status', 'user', 'day', 'hour']);
    const lines = await reportOf(this.ledger, { ...filter, tenantId: request.apiKey.tenantId, keyId: request.apiKey.id }, by, this.logger);
    return data(lines, filter, by);
  }
}

/** `GET /admin/usage`: usage across tenants and keys, grouped and filtered, as JSON or CSV (`format=csv`). */
@Controller('admin/usage')
@UseGuards(AdminGuard)
export class AdminUsageController {
  constructor(
    @Inject(UsageLedger) private readonly ledger: UsageLedger,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  async report(@Query() raw: Record<string, unknown>, @Res({ passthrough: true }) reply: FastifyReply) {
    const query = once(raw);
    const { filter, by } = reportQuery(query, USAGE_DIMENSIONS);
    if (query['format'] !== undefined && query['format'] !== 'json' && query['format'] !== 'csv') throw invalid('format is json or csv', 'format');
    const lines = await reportOf(this.ledger, { ...filter, tenantId: filterOf(query, 'tenant_id'), keyId: filterOf(query, 'key_id') }, by, this.logger);
    if (query['format'] === 'csv') {
      void reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="usage.csv"');
      return usageCsv(lines, by);
    }
    return data(lines, filter, by);
  }
}

/**
 * `GET /admin/budgets`: every spend budget of the `policies` document (of one tenant with
 * `tenant_id`) and what it has spent in its current period, reservations of running requests included.
 */
@Controller('admin/budgets')
@UseGuards(AdminGuard)
export class AdminBudgetsController {
  constructor(
    @Inject(PolicyBook) private readonly policies: PolicyBook,
    @Inject(SpendBudgets) private readonly budgets: SpendBudgets,
  ) {}

  @Get()
  @Header('cache-control', 'no-store')
  async list(@Query() raw: Record<string, unknown>) {
    const query = once(raw);
    const standings = await this.budgets.standing(this.policies.budgets(filterOf(query, 'tenant_id')));
    return {
      object: 'list',
      data: standings.map(({ budget, period, spentNanos, resetsAt }) => ({
        ...budget,
        periodId: period,
        spentUsd: spentNanos / 1e9,
        remainingUsd: Math.max(0, budget.amountUsd - spentNanos / 1e9),
        softReached: spentNanos >= (budget.amountUsd * 1e9 * budget.softPercent) / 100,
        resetsAt: new Date(resetsAt).toISOString(),
      })),
    };
  }
}

