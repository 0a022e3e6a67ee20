// The chaos suite's own platform: its own RocketMQ (name server + proxy from Maven Central, on
// ports and a runtime folder of its own) and its own Redis (append-only file on, so a restart
// keeps what was written), so that stopping them cannot disturb any other test or developer.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brokerTopology } from '@aip/contracts';
import { createGroups, createTopics, ensureBroker, stopBroker, type BrokerOptions } from '@aip/rocketmq-local';
import { eventually, freePort, startApp, stopApp, type RunningApp } from '@aip/testing';
import { Redis } from 'ioredis';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Ports and folder of the chaos broker (override with CHAOS_ROCKETMQ_PORT_BASE if they are taken). */
export function chaosBrokerOptions(): BrokerOptions {
  const base = Number(process.env['CHAOS_ROCKETMQ_PORT_BASE'] ?? 19_000);
  return {
    runtimeDir: join(root, '.runtime', 'rocketmq-chaos'),
    namesrvPort: base + 876,
    proxyPort: base + 81,
    remotingPort: base + 80,
    brokerPort: base + 1_911,
    log: (line) => process.stderr.write(`[chaos rocketmq] ${line}\n`),
  };
}

export class ChaosBroker {
  endpoints = '';
  namesrv = '';
  private readonly options = chaosBrokerOptions();

  /** Starts (or finds running) the chaos broker and applies the platform's topology. */
  async start(): Promise<void> {
    // ensureBroker answers with ROCKETMQ_ENDPOINTS when it is set: that is the shared broker.
    const shared = process.env['ROCKETMQ_ENDPOINTS'];
    delete process.env['ROCKETMQ_ENDPOINTS'];
    try {
      const broker = await ensureBroker(this.options);
      this.endpoints = broker.endpoints;
      this.namesrv = broker.namesrv;
    } finally {
      if (shared !== undefined) process.env['ROCKETMQ_ENDPOINTS'] = shared;
    }
    const { topics, groups } = brokerTopology();
    await createTopics([...topics], { namesrv: this.namesrv });
    await createGroups([...groups], { namesrv: this.namesrv });
  }

  /** Name server and proxy stopped with SIGKILL: what a crashed node looks like. */
  async kill(): Promise<void> {
    await stopBroker({ ...this.options, force: true });
  }

  async stop(): Promise<void> {
    await stopBroker(this.options);
  }
}

export class ChaosRedis {
  port = 0;
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'aip-chaos-redis-'));

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    mkdirSync(this.dir, { recursive: true });
    this.process = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
    await eventually(async () => {
      const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    }, 'the chaos Redis to answer', 20_000);
  }

  /** Redis answers nothing for `ms` (CLIENT PAUSE): a stall, as under a long fork or a slow disk. */
  async pause(ms: number): Promise<void> {
    const client = new Redis(this.url);
    try {
      await client.call('CLIENT', 'PAUSE', String(ms), 'ALL');
    } finally {
      client.disconnect();
    }
  }

  /** SIGKILL, then start again from the append-only file. */
  async restart(downMs: number): Promise<void> {
    const exited = new Promise((resolve) => this.process?.once('exit', resolve));
    this.process?.kill('SIGKILL');
    await exited;
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
  }

  stop(): void {
    this.process?.kill('SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One app of the stack, restartable on the same port with the same settings. */
export class ChaosApp {
  app: RunningApp | undefined;
  restarts = 0;
  /** What every process of this app printed, the killed ones included (to follow a lost request). */
  private readonly earlier: string[] = [];

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
  ) {}

  get url(): string {
    if (!this.app) throw new Error(`${this.name} is not started`);
    return this.app.url;
  }

  async start(): Promise<void> {
    this.app = await startApp(this.name, { ...this.env, ...(this.app ? { PORT: String(this.app.port) } : {}) });
  }

  /** kill -9, then start it again (same port, same settings). */
  async killAndRestart(): Promise<void> {
    const running = this.app;
    if (!running) throw new Error(`${this.name} is not started`);
    const exited = new Promise((resolve) => running.process.once('exit', resolve));
    running.process.kill('SIGKILL');
    await exited;
    this.earlier.push(...running.output, `\n--- killed (restart ${this.restarts + 1}) ---\n`);
    this.restarts += 1;
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.app) await stopApp(this.app);
  }

  /** Everything this app's processes printed, oldest first. */
  get output(): string {
    return [...this.earlier, ...(this.app?.output ?? [])].join('');
  }
}
