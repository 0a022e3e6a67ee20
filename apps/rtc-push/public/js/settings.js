// Where the services are (`/config.json`, served by rtc-push), the user's API key and user id
// (localStorage), and short-lived realtime tokens from access.

const KEY = 'aip.apiKey';
const USER = 'aip.userId';

/**
 * @typedef {{ accessUrl: string, knowledgeUrl: string, realtimeUrl: string, model: string, tokenTtlSeconds: number }} PageConfig
 */

/** The page's configuration: `/config.json` when the server has one, else the local defaults. */
export async function loadConfig() {
  const here = new URL(location.href);
  const local = (port) => `${here.protocol}//${here.hostname}:${port}`;
  /** @type {Partial<PageConfig>} */
  let served = {};
  try {
    const response = await fetch(new URL('config.json', here), { cache: 'no-store' });
    if (response.ok) served = await response.json();
  } catch {
    // No config endpoint: fall back to the ports of the local platform.
  }
  const socketBase = `${here.protocol === 'https:' ? 'wss' : 'ws'}://${here.host}/v1/ws`;
  return /** @type {PageConfig} */ ({
    accessUrl: trimSlash(served.accessUrl ?? local(3000)),
    knowledgeUrl: trimSlash(served.knowledgeUrl ?? local(3003)),
    realtimeUrl: served.realtimeUrl ?? socketBase,
    model: served.model ?? 'extractive',
    tokenTtlSeconds: served.tokenTtlSeconds ?? 300,
  });
}

/** @param {string} url */
const trimSlash = (url) => url.replace(/\/+$/, '');

export const credentials = {
  get apiKey() {
    return localStorage.getItem(KEY) ?? '';
  },
  set apiKey(value) {
    if (value) localStorage.setItem(KEY, value);
    else localStorage.removeItem(KEY);
  },
  /** The user this browser speaks for; chosen once, kept across reloads. */
  get userId() {
    let user = localStorage.getItem(USER);
    if (!user) {
      user = `web-${crypto.randomUUID().slice(0, 8)}`;
      localStorage.setItem(USER, user);
    }
    return user;
  },
  set userId(value) {
    if (value) localStorage.setItem(USER, value);
  },
};

export class HttpError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Turns an error response (OpenAI shape or ours) into an HttpError with a readable message. @param {Response} response */
export async function httpError(response) {
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = await response.json();
    message = body?.error?.message ?? body?.message ?? message;
  } catch {
    // not JSON
  }
  return new HttpError(response.status, message);
}

/** Realtime tokens from access, reused until shortly before they expire. */
export class TokenSource {
  /** @param {PageConfig} config */
  constructor(config) {
    this.config = config;
    /** @type {{ token: string, userId: string, expiresAt: number } | undefined} */
    this.cached = undefined;
  }

  invalidate() {
    this.cached = undefined;
  }

  async token() {
    const key = credentials.apiKey;
    if (!key) throw new HttpError(401, 'no API key');
    if (this.cached && this.cached.expiresAt - Date.now() > 30_000) return this.cached;
    const response = await fetch(`${this.config.accessUrl}/v1/realtime/tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user: credentials.userId, ttlSeconds: this.config.tokenTtlSeconds }),
    });
    if (!response.ok) throw await httpError(response);
    const body = await response.json();
    this.cached = { token: body.token, userId: body.userId, expiresAt: Date.parse(body.expiresAt) };
    return this.cached;
  }

  async socketUrl() {
    const { token } = await this.token();
    const url = new URL(this.config.realtimeUrl);
    url.searchParams.set('token', token);
    return url.toString();
  }
}
