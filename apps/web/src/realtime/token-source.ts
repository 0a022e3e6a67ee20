// Short-lived realtime tokens from access, reused until shortly before they expire: the API key
// itself never goes over the socket.
import type { PageConfig } from '../settings/page-config.ts';
import type { Credentials } from '../settings/credentials.ts';
import { HttpError, httpError } from '../settings/http-error.ts';

interface Token {
  token: string;
  userId: string;
  expiresAt: number;
}

export class TokenSource {
  private cached: Token | undefined;

  constructor(
    private readonly config: Pick<PageConfig, 'accessUrl' | 'realtimeUrl' | 'tokenTtlSeconds'>,
    private readonly credentials: Pick<Credentials, 'apiKey' | 'userId'>,
  ) {}

  invalidate(): void {
    this.cached = undefined;
  }

  async token(): Promise<Token> {
    const key = this.credentials.apiKey;
    if (!key) throw new HttpError(401, 'no API key');
    if (this.cached && this.cached.expiresAt - Date.now() > 30_000) return this.cached;
    const response = await fetch(`${this.config.accessUrl}/v1/realtime/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: this.credentials.userId, ttlSeconds: this.config.tokenTtlSeconds }),
    });
    if (!response.ok) throw await httpError(response);
    const body = (await response.json()) as { token: string; userId: string; expiresAt: string };
    this.cached = { token: body.token, userId: body.userId, expiresAt: Date.parse(body.expiresAt) };
    return this.cached;
  }

  async socketUrl(): Promise<string> {
    const { token } = await this.token();
    const url = new URL(this.config.realtimeUrl);
    url.searchParams.set('token', token);
    return url.toString();
  }
}
