// The container path of the integration tests: RocketMQ (name server + broker with its proxy in
// LOCAL mode, the official `apache/rocketmq` image) and Redis, started with testcontainers when a
// Docker engine answers. The configuration is a plain value (`rocketmqContainerPlan`) so it is
// unit-tested on machines without Docker; `startContainerStack` only turns it into containers.
import { lookup } from 'node:dns/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { isIP } from 'node:net';

/**
 * Whether a Docker engine answers (`GET /_ping` on DOCKER_HOST or the default socket). A `docker`
 * client alone is not enough: our CI machines have the client and no engine.
 */
export function dockerEngine(timeoutMs = 1_000): Promise<{ available: boolean; reason: string }> {
  const host = process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
  const target = host.startsWith('unix://') ? { socketPath: host.slice('unix://'.length) } : { host: new URL(host.replace(/^tcp:/, 'http:')).hostname, port: Number(new URL(host.replace(/^tcp:/, 'http:')).port || 2375) };
  return new Promise((resolve) => {
    const req = request({ ...target, path: '/_ping', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? { available: true, reason: `engine at ${host}` } : { available: false, reason: `${host} answered ${res.statusCode}` });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ available: false, reason: `no Docker engine at ${host} (${error.code ?? error.message})` }));
    req.end();
  });
}

/** The documented image of the RocketMQ Docker quick start; override with ROCKETMQ_IMAGE. */
export const ROCKETMQ_IMAGE = 'apache/rocketmq:5.3.2';
export const REDIS_IMAGE = 'redis:7-alpine';
const CLUSTER = 'DefaultCluster';
const NAMESRV_ALIAS = 'namesrv';
const BROKER_CONF = '/tmp/aip-broker.conf';
const PROXY_CONF = '/tmp/aip-proxy.json';

export interface ContainerSpec {
  image: string;
  command: string[];
  environment: Record<string, string>;
  networkAliases: string[];
  /** A number: mapped to a random host port. `{ container, host }`: the same port on the host. */
  exposedPorts: (number | { container: number; host: number })[];
  files: { target: string; content: string }[];
  /** Log line that says the service is up. */
  readyLog: RegExp;
}

export interface RocketMQContainerPlan {
  namesrv: ContainerSpec;
  broker: ContainerSpec;
  /** What clients use once it runs: the proxy's gRPC address. */
  endpoints: string;
  /** The broker's address as registered at the name server (admin requests go there). */
  brokerAddr: string;
}

export interface RocketMQContainerOptions {
  /** The address the test process reaches the Docker host at, as an IP (brokerIP1). */
  hostAddress: string;
  /** Proxy gRPC port, the same inside the container and on the host. */
  grpcPort: number;
  /** Broker remoting port, the same inside the container and on the host. */
  brokerPort: number;
  image?: string;
}

/**
 * Name server + broker with proxy. What makes it reachable from the host: in LOCAL mode the proxy
 * answers every route query with `brokerIP1:grpcServerPort` (it ignores the address the client
 * used, see LocalTopicRouteService), and the name server hands out `brokerIP1:listenPort` to
 * admin clients. So brokerIP1 is the Docker host's address as the tests see it, and both ports
 * are bound 1:1 on the host (a randomly mapped port would be advertised wrongly). Only the name
 * server, which the broker reaches over the container network, is mapped to a random port.
 */
export function rocketmqContainerPlan(options: RocketMQContainerOptions): RocketMQContainerPlan {
  if (!isIP(options.hostAddress)) throw new Error(`hostAddress must be an IP address (brokerIP1), got "${options.hostAddress}"`);
  const image = options.image ?? ROCKETMQ_IMAGE;
  const namesrvAddr = `${NAMESRV_ALIAS}:9876`;
  const brokerConf = [
    `brokerClusterName=${CLUSTER}`,
    'brokerName=broker-a',
    'brokerId=0',
    'brokerRole=ASYNC_MASTER',
    'flushDiskType=ASYNC_FLUSH',
    `namesrvAddr=${namesrvAddr}`,
    `brokerIP1=${options.hostAddress}`,
    `listenPort=${options.brokerPort}`,
    // Same behaviour as the local broker (@aip/rocketmq-local): topics are created explicitly.
    'autoCreateTopicEnable=false',
    'autoCreateSubscriptionGroup=true',
    'enablePropertyFilter=true',
    'traceTopicEnable=false',
    'diskMaxUsedSpaceRatio=98',
    'waitTimeMillsInSendQueue=3000',
    '',
  ].join('\n');
  const proxyConf = JSON.stringify({
    rocketMQClusterName: CLUSTER,
    proxyMode: 'LOCAL',
    namesrvAddr,
    grpcServerPort: options.grpcPort,
    // Same as the local broker: do not cache "topic not found" for 20 s.
    topicRouteServiceCacheRefreshSeconds: 2,
  });
  return {
    namesrv: {
      image,
      command: ['sh', 'mqnamesrv'],
      environment: { JAVA_OPT_EXT: '-Xms128m -Xmx128m -Xmn64m' },
      networkAliases: [NAMESRV_ALIAS],
      exposedPorts: [9876],
      files: [],
      readyLog: /The Name Server boot success/,
    },
    broker: {
      image,
      command: ['sh', 'mqbroker', '--enable-proxy', '-c', BROKER_CONF, '-pc', PROXY_CONF],
      environment: { NAMESRV_ADDR: namesrvAddr, JAVA_OPT_EXT: '-Xms256m -Xmx256m -Xmn128m' },
      networkAliases: ['broker'],
      exposedPorts: [
        { container: options.grpcPort, host: options.grpcPort },
        { container: options.brokerPort, host: options.brokerPort },
      ],
      files: [
        { target: BROKER_CONF, content: brokerConf },
        { target: PROXY_CONF, content: proxyConf },
      ],
      readyLog: /rocketmq-proxy startup successfully/,
    },
    endpoints: `${options.hostAddress}:${options.grpcPort}`,
    brokerAddr: `${options.hostAddress}:${options.brokerPort}`,
  };
}

/** A TCP port free on this machine now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface ContainerStack {
  endpoints: string;
  namesrv: string;
  brokerAddr: string;
  /** Set when Redis was started here (REDIS_URL was not given). */
  redisUrl?: string;
  stop(): Promise<void>;
}

/**
 * Starts the plan's containers on a fresh network (and Redis unless `redis: false`). Testcontainers'
 * reaper removes them if this process dies; `stop()` removes them at once.
 */
export async function startContainerStack(options: { redis: boolean; log: (line: string) => void }): Promise<ContainerStack> {
  const { GenericContainer, Network, Wait } = await import('testcontainers');
  const started: { stop(): Promise<unknown> }[] = [];
  const stop = async () => {
    for (const container of started.reverse()) await container.stop().catch(() => undefined);
  };
  try {
    const network = await new Network().start();
    started.push(network);
    const build = (spec: ContainerSpec) =>
      new GenericContainer(spec.image)
        .withNetwork(network)
        .withNetworkAliases(...spec.networkAliases)
        .withCommand(spec.command)
        .withEnvironment(spec.environment)
        .withExposedPorts(...spec.exposedPorts)
        .withCopyContentToContainer(spec.files)
        .withWaitStrategy(Wait.forLogMessage(spec.readyLog))
        .withStartupTimeout(180_000);

    const redisUrl = options.redis
      ? await (async () => {
          const redis = await new GenericContainer(REDIS_IMAGE).withExposedPorts(6379).withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/)).start();
          started.push(redis);
          return `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
        })()
      : undefined;

    // The plan needs the host's address before the broker starts: take it from the first container.
    const [grpcPort, brokerPort] = [await freePort(), await freePort()];
    const draft = rocketmqContainerPlan({ hostAddress: '127.0.0.1', grpcPort, brokerPort, image: process.env['ROCKETMQ_IMAGE'] });
    const namesrv = await build(draft.namesrv).start();
    started.push(namesrv);
    const host = namesrv.getHost();
    const hostAddress = isIP(host) ? host : (await lookup(host, { family: 4 })).address;
    const plan = rocketmqContainerPlan({ hostAddress, grpcPort, brokerPort, image: process.env['ROCKETMQ_IMAGE'] });
    options.log(`starting ${plan.broker.image} (broker ${plan.brokerAddr}, proxy ${plan.endpoints})`);
    started.push(await build(plan.broker).start());
    return { endpoints: plan.endpoints, namesrv: `${hostAddress}:${namesrv.getMappedPort(9876)}`, brokerAddr: plan.brokerAddr, ...(redisUrl ? { redisUrl } : {}), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
