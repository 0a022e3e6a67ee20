// The generated topology script, run by sh with a stand-in for mqadmin that records its calls:
// it waits for the broker to register, then creates every topic and group of libs/contracts with
// the mqadmin options verified against RocketMQ 5.5.0 (updateTopic -a +message.type=…,
// updateSubGroup -o <orderly> -r <retries>).
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { brokerRights, brokerTopology, MAX_NAMESPACE_LENGTH } from '@aip/contracts';
import { brokerSecretVariable, TOPOLOGY_SCRIPT_PATH, USERS_SCRIPT_PATH } from '@aip/deploy-tools';
import { root } from './support/workspace.ts';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'aip-topology-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A fake mqadmin: logs its argv; `clusterList` shows the broker once `registered` exists. */
function fakeMqadmin(): string {
  const path = join(dir, 'mqadmin');
  writeFileSync(
    path,
    `#!/bin/sh
echo "$*" >> "${dir}/calls"
if [ "$1" = clusterList ]; then
  echo "#Cluster Name     #Broker Name            #BID  #Addr"
  if [ -e "${dir}/registered" ]; then echo "DefaultCluster     broker-a                0     10.0.0.7:10911"; else touch "${dir}/registered"; fi
else
  echo "create to 10.0.0.7:10911 success."
fi
`,
  );
  chmodSync(path, 0o755);
  return path;
}

const runScript = (path: string, env: Record<string, string>) =>
  promisify(execFile)('sh', [join(root, path)], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } });
const run = (env: Record<string, string>) => runScript(TOPOLOGY_SCRIPT_PATH, env);

describe('create-topology.sh', () => {
  it('waits for the broker, then creates every topic and group of the contracts', async () => {
    const { stdout } = await run({ NAMESRV_ADDR: 'namesrv:9876', MQADMIN: fakeMqadmin(), ROCKETMQ_WAIT_SECONDS: '30' });
    const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    // Not registered on the first look: it asked again before creating anything.
    expect(calls.slice(0, 2)).toEqual(['clusterList -n namesrv:9876', 'clusterList -n namesrv:9876']);
    const { topics, groups } = brokerTopology();
    expect(calls.filter((call) => call.startsWith('updateTopic')).sort()).toEqual(
      // 8 queues (ROCKETMQ_TOPIC_QUEUES' default here) unless the contracts ask for more (rtc-push: 16).
      topics.map(({ name, messageType, queues = 0 }) => `updateTopic -n namesrv:9876 -c DefaultCluster -t ${name} -r ${Math.max(8, queues)} -w ${Math.max(8, queues)} -a +message.type=${messageType}`).sort(),
    );
    expect(calls.filter((call) => call.startsWith('updateSubGroup')).sort()).toEqual(
      groups.map(({ name, orderly, retryMaxTimes }) => `updateSubGroup -n namesrv:9876 -c DefaultCluster -g ${name} -o ${orderly} -r ${retryMaxTimes}`).sort(),
    );
    expect(stdout).toContain(`topology applied: ${topics.length} topics, ${groups.length} groups`);
    expect(calls).toContain('updateTopic -n namesrv:9876 -c DefaultCluster -t rtc-push -r 16 -w 16 -a +message.type=FIFO');
  }, 30_000);

  it('fails with a clear message when no broker registers in time', async () => {
    writeFileSync(join(dir, 'mqadmin'), '#!/bin/sh\necho "#Cluster Name"\n');
    chmodSync(join(dir, 'mqadmin'), 0o755);
    await expect(run({ NAMESRV_ADDR: 'namesrv:9876', MQADMIN: join(dir, 'mqadmin'), ROCKETMQ_WAIT_SECONDS: '0' })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no broker of cluster DefaultCluster registered at namesrv:9876'),
    });
  });

  it('stops at a command mqadmin failed, although mqadmin exits 0 then', async () => {
    writeFileSync(
      join(dir, 'mqadmin'),
      `#!/bin/sh\nif [ "$1" = clusterList ]; then echo "DefaultCluster broker-a 0 10.0.0.7:10911"; else echo "org.apache.rocketmq.tools.command.SubCommandException: UpdateTopicSubCommand command failed"; fi\nexit 0\n`,
    );
    chmodSync(join(dir, 'mqadmin'), 0o755);
    await expect(run({ NAMESRV_ADDR: 'namesrv:9876', MQADMIN: join(dir, 'mqadmin') })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/topic \S+ failed:\n.*UpdateTopicSubCommand command failed/),
    });
  });

  it('signs mqadmin in as the admin user when the broker has access control on', async () => {
    // The stand-in records the credentials mqadmin would read: conf/tools.yml under rocketmq.home.dir.
    writeFileSync(
      join(dir, 'mqadmin'),
      `#!/bin/sh\nhome=$(printf '%s' "$JAVA_OPT" | sed -n 's/.*-Drocketmq.home.dir=\\([^ ]*\\).*/\\1/p')\ncp "$home/conf/tools.yml" "${dir}/tools.yml"\nif [ "$1" = clusterList ]; then echo "DefaultCluster"; else echo success; fi\n`,
    );
    chmodSync(join(dir, 'mqadmin'), 0o755);
    await run({ NAMESRV_ADDR: 'namesrv:9876', MQADMIN: join(dir, 'mqadmin'), ROCKETMQ_ADMIN_USER: 'ops', ROCKETMQ_ADMIN_SECRET: 's3cret-value' });
    expect(readFileSync(join(dir, 'tools.yml'), 'utf8')).toBe('accessKey: ops\nsecretKey: s3cret-value\n');
  });

  it('creates the same topics and groups in ROCKETMQ_NAMESPACE, as brokerTopology(namespace) names them', async () => {
    const { stdout } = await run({ NAMESRV_ADDR: 'namesrv:9876', MQADMIN: fakeMqadmin(), ROCKETMQ_NAMESPACE: 'tenant-7' });
    const calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
    const { topics, groups } = brokerTopology('tenant-7');
    expect(calls.filter((call) => call.startsWith('updateTopic')).map((call) => call.split(' ')[6]).sort()).toEqual(topics.map(({ name }) => name).sort());
    expect(calls.filter((call) => call.startsWith('updateSubGroup')).map((call) => call.split(' ')[6]).sort()).toEqual(groups.map(({ name }) => name).sort());
    expect(stdout).toContain(`topology applied: ${topics.length} topics, ${groups.length} groups in namespace tenant-7`);
  }, 30_000);

  it('refuses a namespace the apps would refuse, before touching the broker', async () => {
    for (const namespace of ['a.b', 'a b', 'x'.repeat(MAX_NAMESPACE_LENGTH + 1)]) {
      await expect(run({ NAMESRV_ADDR: 'namesrv:9876', MQADMIN: fakeMqadmin(), ROCKETMQ_NAMESPACE: namespace })).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('ROCKETMQ_NAMESPACE') });
    }
  });

  it('refuses to run without a name server address', async () => {
    await expect(run({ MQADMIN: fakeMqadmin() })).rejects.toMatchObject({ stderr: expect.stringContaining('NAMESRV_ADDR') });
  });
});

describe('create-users.sh', () => {
  it("grants each service its rights on the namespace's topics and groups", async () => {
    const secrets = Object.fromEntries(brokerRights().map(({ user }) => [brokerSecretVariable(user), 's3cret']));
    await runScript(USERS_SCRIPT_PATH, { NAMESRV_ADDR: 'namesrv:9876', MQADMIN: fakeMqadmin(), ROCKETMQ_ADMIN_SECRET: 'admin-secret', ROCKETMQ_NAMESPACE: 'tenant-7', ...secrets });
    const granted = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').filter((call) => call.startsWith('createAcl'));
    // createAcl -n N -c C -s User:<user> -r <resources> -a <actions> -d Allow
    const resources = (user: string) => granted.filter((call) => call.includes(`-s User:${user} `)).flatMap((call) => call.split(' ')[8]!.split(',')).sort();
    for (const { user, publish, subscribe } of brokerRights('tenant-7')) {
      const expected = [...new Set([...publish, ...subscribe.topics])].map((topic) => `Topic:${topic}`).concat(subscribe.groups.map((group) => `Group:${group}`)).sort();
      expect({ user, resources: resources(user) }).toEqual({ user, resources: expected });
    }
  }, 30_000);
});
