import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, sql, type Generated } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import pg from 'pg';

/** The ledger's tables as Kysely sees them (columns in snake_case, as Postgres keeps them). */
export interface UsageSchema {
  usage_events: {
    event_id: string;
    occurred_at: Date;
    tenant_id: string;
    key_id: string;
    user_id: string | null;
    session_id: string | null;
    task_id: string;
    model: string | null;
    provider: string | null;
    provider_model: string | null;
    status: string;
    error_class: string | null;
    prompt_tokens: number;
    completion_tokens: number;
    cached_tokens: number;
    cost_nanos: Generated<string>;
    queue_ms: number | null;
    first_token_ms: number | null;
    duration_ms: number | null;
    trace_id: string | null;
  };
  feedback: {
    tenant_id: string;
    task_id: string;
    key_id: string;
    user_id: string | null;
    score: number;
    comment: string | null;
    created_at: Date;
    updated_at: Date;
  };
}

export type UsageDb = Kysely<UsageSchema>;

/**
 * Versioned migrations, run at start (Kysely's Migrator: each runs once, in order, under a lock,
 * recorded in `kysely_migration`). Never edit one that has shipped: add the next.
 */
const MIGRATIONS: Record<string, Migration> = {
  '0001_usage_events': {
    async up(db) {
      // Partitioned by month (usage_events_yYYYYmMM, made by the ledger as months come), so
      // retention drops a whole month at once instead of deleting rows.
      await sql`
        CREATE TABLE usage_events (
          event_id text NOT NULL,
          occurred_at timestamptz NOT NULL,
          tenant_id text NOT NULL,
          key_id text NOT NULL,
          user_id text,
          session_id text,
          task_id text NOT NULL,
          model text,
          provider text,
          provider_model text,
          status text NOT NULL,
          error_class text,
          prompt_tokens integer NOT NULL,
          completion_tokens integer NOT NULL,
          cached_tokens integer NOT NULL,
          cost_nanos bigint NOT NULL,
          queue_ms integer,
          first_token_ms integer,
          duration_ms integer,
          trace_id text,
          PRIMARY KEY (event_id, occurred_at)
        ) PARTITION BY RANGE (occurred_at)`.execute(db);
      await sql`CREATE INDEX usage_events_tenant_time ON usage_events (tenant_id, occurred_at)`.execute(db);
      await sql`CREATE INDEX usage_events_key_time ON usage_events (key_id, occurred_at)`.execute(db);
    },
  },
  '0002_feedback': {
    async up(db) {
      // One rating per answer (a later one replaces it); joined to the answer's usage row by task.
      await sql`
        CREATE TABLE feedback (
          tenant_id text NOT NULL,
          task_id text NOT NULL,
          key_id text NOT NULL,
          user_id text,
          score double precision NOT NULL,
          comment text,
          created_at timestamptz NOT NULL,
          updated_at timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, task_id)
        )`.execute(db);
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema to the newest migration; throws (and the app does not start) when one fails. */
export async function migrate(db: UsageDb): Promise<string[]> {
  const { error, results = [] } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}

/**
 * The ledger's database: PostgreSQL at `url` (production, `DATABASE_URL`), else PGlite — Postgres
 * in this process, in `dataDir` or in memory — with the same schema and queries.
 */
export async function openUsageDatabase(options: { url?: string | undefined; dataDir?: string | undefined }): Promise<UsageDb> {
  if (options.url) {
    // bigint sums come back as strings: the ledger converts them where it reads them.
    return new Kysely<UsageSchema>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: options.url, max: 4 }) }) });
  }
  const pglite = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
  await pglite.waitReady;
  return new Kysely<UsageSchema>({ dialect: new PGliteDialect({ pglite }) });
}
