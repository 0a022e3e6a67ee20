import { chooseBroker, describeChoice } from './broker.ts';
import { rocketmqContainerPlan } from './docker.ts';

const noEngine = async () => ({ available: false, reason: 'no Docker engine at unix:///var/run/docker.sock (ENOENT)' });
const engine = async () => ({ available: true, reason: 'engine at unix:///var/run/docker.sock' });
const unreachable = async (): Promise<never> => {
  throw new Error('the Docker engine must not be probed when the environment decides');
};

describe('chooseBroker', () => {
  it('takes ROCKETMQ_ENDPOINTS first, without probing Docker, and creates topics only with a name server', async () => {
    expect(await chooseBroker({ ROCKETMQ_ENDPOINTS: 'mq.example:8081', ROCKETMQ_NAMESRV: 'mq.example:9876' }, unreachable)).toMatchObject({
      kind: 'external', endpoints: 'mq.example:8081', namesrv: 'mq.example:9876',
    });
    const withoutNamesrv = await chooseBroker({ ROCKETMQ_ENDPOINTS: 'mq.example:8081' }, unreachable);
    expect(withoutNamesrv).toMatchObject({ kind: 'external', namesrv: '' });
    expect(describeChoice(withoutNamesrv)).toContain('topics are not created');
  });

  it('uses containers when a Docker engine answers', async () => {
    const choice = await chooseBroker({}, engine);
    expect(choice.kind).toBe('containers');
    expect(describeChoice(choice)).toMatch(/containers \(apache\/rocketmq \+ redis, testcontainers\) — Docker engine at/);
  });

  it('falls back to the local broker and says why the container path was skipped', async () => {
    const choice = await chooseBroker({ ROCKETMQ_ENDPOINTS: '  ' }, noEngine);
    expect(choice.kind).toBe('local');
    expect(describeChoice(choice)).toBe('broker: local broker from Maven Central (libs/rocketmq-local) — container path skipped: no Docker engine at unix:///var/run/docker.sock (ENOENT)');
  });

  it('lets AIP_TEST_CONTAINERS=0 force the local broker on a machine with Docker', async () => {
    expect(await chooseBroker({ AIP_TEST_CONTAINERS: '0' }, unreachable)).toMatchObject({ kind: 'local', reason: expect.stringContaining('AIP_TEST_CONTAINERS=0') });
  });
});

describe('rocketmqContainerPlan', () => {
  const plan = rocketmqContainerPlan({ hostAddress: '192.168.5.2', grpcPort: 41081, brokerPort: 41911 });
  const file = (target: string) => plan.broker.files.find((f) => f.target === target)?.content ?? '';
  const brokerConf = () => file(plan.broker.command[plan.broker.command.indexOf('-c') + 1]!);
  const proxyConf = () => JSON.parse(file(plan.broker.command[plan.broker.command.indexOf('-pc') + 1]!));

  it('runs a name server and a broker with its proxy in LOCAL mode from the official image', () => {
    expect(plan.namesrv).toMatchObject({ image: 'apache/rocketmq:5.3.2', command: ['sh', 'mqnamesrv'], networkAliases: ['namesrv'] });
    expect(plan.broker.command.slice(0, 3)).toEqual(['sh', 'mqbroker', '--enable-proxy']);
    expect(plan.broker.environment['NAMESRV_ADDR']).toBe('namesrv:9876');
    expect(proxyConf()).toMatchObject({ proxyMode: 'LOCAL', namesrvAddr: 'namesrv:9876' });
  });

  it('advertises an address the tests can reach: brokerIP1 is the Docker host, ports bound 1:1', () => {
    // In LOCAL mode routes are brokerIP1:grpcServerPort, whatever address the client used.
    expect(brokerConf()).toContain('brokerIP1=192.168.5.2\n');
    expect(brokerConf()).toContain('listenPort=41911\n');
    expect(proxyConf().grpcServerPort).toBe(41081);
    expect(plan.broker.exposedPorts).toEqual([{ container: 41081, host: 41081 }, { container: 41911, host: 41911 }]);
    expect(plan).toMatchObject({ endpoints: '192.168.5.2:41081', brokerAddr: '192.168.5.2:41911' });
  });

  it('behaves like the local broker: explicit topics, property filters', () => {
    expect(brokerConf()).toContain('autoCreateTopicEnable=false\n');
    expect(brokerConf()).toContain('enablePropertyFilter=true\n');
  });

  it('refuses a host name for brokerIP1 and takes another image', () => {
    expect(() => rocketmqContainerPlan({ hostAddress: 'localhost', grpcPort: 1, brokerPort: 2 })).toThrow(/must be an IP address/);
    expect(rocketmqContainerPlan({ hostAddress: '127.0.0.1', grpcPort: 1, brokerPort: 2, image: 'apache/rocketmq:5.4.0' }).broker.image).toBe('apache/rocketmq:5.4.0');
  });
});
