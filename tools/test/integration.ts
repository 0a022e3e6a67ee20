// Runs every integration-test target against one broker: starts the local RocketMQ broker if none
// is running (or uses ROCKETMQ_ENDPOINTS), runs `nx run-many -t int-test` serially, and stops
// the broker again if this script started it.
import { spawnSync } from 'node:child_process';
import { ensureBroker, stopBroker } from '@aip/rocketmq-local';

const broker = await ensureBroker({ log: (line) => process.stderr.write(`[rocketmq] ${line}\n`) });
let status = 1;
try {
  const result = spawnSync('nx', ['run-many', '-t', 'int-test', '--parallel=1', '--outputStyle=stream', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, AIP_KEEP_BROKER: '1' },
  });
  status = result.status ?? 1;
} finally {
  if (broker.startedByUs) await stopBroker();
}
process.exit(status);
