import WebSocket from 'ws';
import type { Figures } from './figures.ts';

export interface WellBehavedTargets {
  access: string;
  accessAdmin: string;
  knowledge: string;
  rtcPush: string;
  intentScheduler: string;
  adminToken: string;
  /** A key of its own tenant: nothing the fuzz does with its key can touch this tenant's data. */
  key: string;
  kbId: string;
}

/**
 * A client that does everything right, on the same instances the fuzz hits, in rounds: a chat
 * completion with the `extractive` model (access → rate-limiter → inference and back), a
 * knowledge-base read, a ping over a WebSocket that stays open the whole run, a settings read on
 * intent-scheduler and a config read on the admin instance. Every failure is kept with its time.
 */
export class WellBehavedClient {
  private socket?: WebSocket;
  private pongs = new Map<string, () => void>();
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly targets: WellBehavedTargets,
    private readonly figures: Figures,
  ) {}

  /** Opens the WebSocket that stays open for the whole run. */
  async connect(): Promise<void> {
    await this.openSocket();
  }

  /** Runs rounds in the background until stop(). */
  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.round();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    })();
  }

  /** Stops the background rounds; the socket stays open for a last round. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  close(): void {
    this.socket?.close(1000);
  }

  /** One round; returns the failures of this round (also recorded). */
  async round(): Promise<string[]> {
    const { targets } = this;
    const auth = { authorization: `Bearer ${targets.key}` };
    const checks: [string, () => Promise<string | undefined>][] = [
      [
        'access chat completion',
        async () => {
          const response = await fetch(`${targets.access}/v1/chat/completions`, {
            method: 'POST',
            headers: { ...auth, 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'extractive', messages: [{ role: 'user', content: 'Which sights are in Beijing?' }] }),
            signal: AbortSignal.timeout(30_000),
          });
          const body = (await response.json()) as { choices?: { message?: { content?: string } }[] };
          return response.status === 200 && body.choices?.[0]?.message?.content ? undefined : `${response.status} ${JSON.stringify(body).slice(0, 300)}`;
        },
      ],
      ['knowledge base read', async () => this.expect200(`${targets.knowledge}/v1/knowledge-bases/${targets.kbId}`, auth)],
      ['intent-scheduler settings read', async () => this.expect200(`${targets.intentScheduler}/v1/users/good-user/proactive-settings`, auth)],
      ['admin config read', async () => this.expect200(`${targets.accessAdmin}/admin/config/words`, { authorization: `Bearer ${targets.adminToken}` })],
      ['WebSocket ping', async () => this.ping()],
    ];
    const failures: string[] = [];
    await Promise.all(
      checks.map(async ([name, check]) => {
        const problem = await check().catch((error: unknown) => String(error));
        if (problem) failures.push(`${new Date().toISOString()} ${name}: ${problem}`);
      }),
    );
    this.figures.wellBehaved.rounds++;
    this.figures.wellBehaved.failures.push(...failures);
    return failures;
  }

  private async expect200(url: string, headers: Record<string, string>): Promise<string | undefined> {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(15_000) });
    return response.status === 200 ? undefined : `${response.status} ${(await response.text()).slice(0, 300)}`;
  }

  private async openSocket(): Promise<void> {
    const socket = new WebSocket(`${this.targets.rtcPush.replace('http', 'ws')}/v1/ws?user=good-user`, { headers: { authorization: `Bearer ${this.targets.key}` } });
    const welcomed = new Promise<void>((resolve, reject) => {
      socket.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string; t?: string };
        if (frame.type === 'welcome') resolve();
        if (frame.type === 'pong' && frame.t) this.pongs.get(frame.t)?.();
      });
      socket.once('close', (code) => reject(new Error(`the well-behaved socket closed with ${code}`)));
      socket.once('error', reject);
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'hello', v: 1 })));
    await welcomed;
    this.socket = socket;
  }

  private async ping(): Promise<string | undefined> {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return `the socket is ${this.socket ? `closed (readyState ${this.socket.readyState})` : 'not open'}`;
    const t = `good-${Date.now()}-${Math.random()}`;
    const answered = new Promise<boolean>((resolve) => {
      this.pongs.set(t, () => resolve(true));
      setTimeout(() => resolve(false), 10_000);
    });
    this.socket.send(JSON.stringify({ type: 'ping', t }));
    if (!(await answered)) {
      this.pongs.delete(t);
      return 'no pong within 10 s';
    }
    this.pongs.delete(t);
    return undefined;
  }
}
