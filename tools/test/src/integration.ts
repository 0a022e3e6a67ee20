// Runs every integration-test target against one broker, chosen once for the whole run (and
// printed): ROCKETMQ_ENDPOINTS if set; containers (testcontainers: RocketMQ, Redis) when a Docker
// engine answers; otherwise the local RocketMQ broker from Maven Central, started if none is
// running and stopped again at the end if this script started it. Targets run serially; when one
// fails, its Jest failure reports are printed again at the end, where a CI log's tail shows them.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ensureBroker, stopBroker } from '@aip/rocketmq-local';
import { awaitBrokerReady, chooseBroker, describeChoice, dockerEngine, startContainerStack } from '@aip/testing';
import { FailureReports } from './failures.ts';

const log = (line: string) => process.stderr.write(`[integration] ${line}\n`);
const choice = await chooseBroker(process.env, () => dockerEngine());
log(describeChoice(choice));

let env: Record<string, string> = {};
let cleanup = async () => {};
if (choice.kind === 'containers') {
  const stack = await startContainerStack({ redis: !process.env['REDIS_URL'], log });
  cleanup = stack.stop;
  await awaitBrokerReady(stack.namesrv, stack.brokerAddr, stack.endpoints);
  env = { ROCKETMQ_ENDPOINTS: stack.endpoints, ROCKETMQ_NAMESRV: stack.namesrv, ...(stack.redisUrl ? { REDIS_URL: stack.redisUrl } : {}) };
} else if (choice.kind === 'local') {
  const broker = await ensureBroker({ log: (line) => process.stderr.write(`[rocketmq] ${line}\n`) });
  env = { ROCKETMQ_ENDPOINTS: broker.endpoints, ...(broker.namesrv ? { ROCKETMQ_NAMESRV: broker.namesrv } : {}) };
  if (broker.startedByUs) cleanup = async () => void (await stopBroker());
}

let status = 1;
// One collector per stream: a line may arrive in pieces, and the two streams interleave.
const [fromStdout, fromStderr] = [new FailureReports(), new FailureReports()];
try {
  const nx = spawn('nx', ['run-many', '-t', 'int-test', '--parallel=1', '--outputStyle=stream', ...process.argv.slice(2)], {
    stdio: ['inherit', 'pipe', 'pipe'],
    env: { ...process.env, ...env, AIP_KEEP_BROKER: '1' },
  });
  for (const [from, to, failures] of [[nx.stdout, process.stdout, fromStdout], [nx.stderr, process.stderr, fromStderr]] as const) {
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      to.write(chunk);
      failures.write(chunk);
    });
  }
  const [code] = (await once(nx, 'close')) as [number | null];
  status = code ?? 1;
} finally {
  await cleanup();
}
const reports = [...fromStdout.summary(), ...fromStderr.summary()];
if (status !== 0 && reports.length > 0) {
  log('the failures above, again:');
  process.stderr.write(`${reports.join('\n')}\n`);
}
process.exit(status);
