// Jest global setup of every integration-test target: a real RocketMQ broker and a real Redis.
// Broker choice, printed at the start: ROCKETMQ_ENDPOINTS if set, else the local broker started
// from Maven Central artifacts (tools/rocketmq). Containers (testcontainers) are the path for
// machines with a Docker engine; see docs/adr/0003-local-broker.md.
import { brokerTopology } from '@aip/contracts';
import { createGroups, createTopics, ensureBroker } from '@aip/rocketmq-local';
import { Redis } from 'ioredis';
import { dockerEngine } from './docker.ts';
import { testRedisUrl } from './redis.ts';

export default async function globalSetup(): Promise<void> {
  const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`integration tests need Redis at ${testRedisUrl()} (set REDIS_URL): ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }

  const started = Date.now();
  const external = Boolean(process.env['ROCKETMQ_ENDPOINTS']);
  if (!external) {
    // Containers are for machines with a Docker engine (deploy/compose, the deployment issue);
    // without one we say so and use the broker from Maven Central.
    const docker = await dockerEngine();
    process.stderr.write(
      docker.available
        ? `[integration] Docker engine found (${docker.reason}); set ROCKETMQ_ENDPOINTS to test against a containerised broker — using the local broker\n`
        : `[integration] container path skipped: ${docker.reason}; using the local broker from Maven Central\n`,
    );
  }
  const broker = await ensureBroker({ log: (line) => process.stderr.write(`[rocketmq] ${line}\n`) });
  process.env['ROCKETMQ_ENDPOINTS'] = broker.endpoints;
  if (broker.namesrv) {
    const { topics, groups } = brokerTopology();
    await createTopics([...topics]);
    await createGroups([...groups]);
  }
  (globalThis as { aipBrokerStartedByUs?: boolean }).aipBrokerStartedByUs = broker.startedByUs;
  const source = external ? 'from ROCKETMQ_ENDPOINTS' : broker.startedByUs ? 'local broker (started now)' : 'local broker (already running)';
  process.stderr.write(`\n[integration] RocketMQ ${broker.endpoints} — ${source}, ready in ${Date.now() - started} ms; Redis ${testRedisUrl()}\n`);
}
