// A consumer process for the crash test: it takes messages with our transport's engine, reports
// each on stdout and never finishes, so the test can kill -9 it while it holds a lease.
// Runs from the built library (dist), as a deployed app would.
import { MessagingMetrics, RocketMQConsumer, Subscription } from '@aip/messaging';
import { pino } from 'pino';

const [endpoints, group, topic, leaseMs] = process.argv.slice(2);
const logger = pino({ level: 'silent' });
const subscription = new Subscription({
  group, topic, fifo: false, concurrency: 1, leaseMs: Number(leaseMs), maxAttempts: 5,
  backoff: { initialMs: 1000, multiplier: 2, maxMs: 10000 }, pollWaitMs: 5000, maxBatch: 1, drainTimeoutMs: 1000,
  logger, metrics: MessagingMetrics.for(),
  connect: () => RocketMQConsumer.start({ connection: { endpoints }, group, topic, filter: '*', pollWaitMs: 5000, startupTimeoutMs: 10000, logger }),
  dispatch: (message) => {
    process.stdout.write(`received ${message.messageId}\n`);
    return new Promise(() => undefined);
  },
});
subscription.start();
process.stdout.write('ready\n');
