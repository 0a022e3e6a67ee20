// Where the services are: `/config.json` (served by rtc-push next to the page) when there is one,
// else the ports of the local platform on this page's host.

export interface PageConfig {
  accessUrl: string;
  knowledgeUrl: string;
  realtimeUrl: string;
  model: string;
  tokenTtlSeconds: number;
}

/** The page's configuration from what the server said (possibly nothing) and the page's own URL. */
export function resolvePageConfig(served: Partial<PageConfig>, pageUrl: string): PageConfig {
  const here = new URL(pageUrl);
  const local = (port: number) => `${here.protocol}//${here.hostname}:${port}`;
  const socketBase = `${here.protocol === 'https:' ? 'wss' : 'ws'}://${here.host}/v1/ws`;
  return {
    accessUrl: trimSlash(served.accessUrl ?? local(3000)),
    knowledgeUrl: trimSlash(served.knowledgeUrl ?? local(3003)),
    realtimeUrl: served.realtimeUrl ?? socketBase,
    model: served.model ?? 'extractive',
    tokenTtlSeconds: served.tokenTtlSeconds ?? 300,
  };
}

export async function loadPageConfig(pageUrl: string): Promise<PageConfig> {
  let served: Partial<PageConfig> = {};
  try {
    // Relative to the page, so the page also works below a path prefix (an ingress route).
    const response = await fetch(new URL('config.json', pageUrl), { cache: 'no-store' });
    if (response.ok) served = (await response.json()) as Partial<PageConfig>;
  } catch {
    // No config endpoint: fall back to the ports of the local platform.
  }
  return resolvePageConfig(served, pageUrl);
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');
