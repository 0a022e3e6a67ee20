// Jest global setup of every integration-test target: a real RocketMQ broker and a real Redis.
// The broker is chosen once and the choice printed (see chooseBroker and ADR 0010):
// ROCKETMQ_ENDPOINTS if set; containers (testcontainers: apache/rocketmq + redis) when a Docker
// engine answers; otherwise the local broker from Maven Central artifacts (@aip/rocketmq-local).
// The result is exported in the environment (ROCKETMQ_ENDPOINTS, ROCKETMQ_NAMESRV, REDIS_URL),
// which the test workers — and any nested run a test starts — inherit.
import { brokerTopology } from '@aip/contracts';
import { createGroups, createTopics, ensureBroker } from '@aip/rocketmq-local';
import { Redis } from 'ioredis';
import { awaitBrokerReady, chooseBroker, describeChoice } from './broker.ts';
import { dockerEngine, startContainerStack, type ContainerStack } from './docker.ts';
import { testRedisUrl } from './redis.ts';

const log = (line: string) => process.stderr.write(`[integration] ${line}\n`);

/** What the teardown needs to know (same process as the setup). */
export interface IntegrationState {
  aipBrokerStartedByUs?: boolean;
  aipContainers?: ContainerStack;
}

async function checkRedis(): Promise<void> {
  const redis = new Redis(testRedisUrl(), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`integration tests need Redis at ${testRedisUrl()} (set REDIS_URL): ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const state = globalThis as IntegrationState;
  const choice = await chooseBroker(process.env, () => dockerEngine());
  process.stderr.write('\n');
  log(describeChoice(choice));

  let endpoints: string;
  let namesrv: string;
  let source: string;
  if (choice.kind === 'external') {
    ({ endpoints, namesrv } = choice);
    source = 'from ROCKETMQ_ENDPOINTS';
  } else if (choice.kind === 'containers') {
    const stack = await startContainerStack({ redis: !process.env['REDIS_URL'], log });
    state.aipContainers = stack;
    ({ endpoints, namesrv } = stack);
    if (stack.redisUrl) process.env['REDIS_URL'] = stack.redisUrl;
    await awaitBrokerReady(namesrv, stack.brokerAddr, endpoints);
    source = 'containers (started now)';
  } else {
    const broker = await ensureBroker({ log: (line) => process.stderr.write(`[rocketmq] ${line}\n`) });
    state.aipBrokerStartedByUs = broker.startedByUs;
    ({ endpoints, namesrv } = broker);
    source = broker.startedByUs ? 'local broker (started now)' : 'local broker (already running)';
  }
  process.env['ROCKETMQ_ENDPOINTS'] = endpoints;
  if (namesrv) process.env['ROCKETMQ_NAMESRV'] = namesrv;

  await checkRedis();
  if (namesrv) {
    // Every topic and group of the contracts, so a new event declared there is on the broker.
    const { topics, groups } = brokerTopology();
    await createTopics([...topics], { namesrv });
    await createGroups([...groups], { namesrv });
  }
  log(`RocketMQ ${endpoints} — ${source}, ready in ${Date.now() - started} ms; Redis ${testRedisUrl()}`);
}
