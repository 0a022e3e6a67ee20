import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** The admin API and Prometheus metrics: for operators, never for the public. */
export function isOperatorPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path === '/metrics' || path === '/admin' || path.startsWith('/admin/');
}

const isHealthPath = (url: string) => (url.split('?', 1)[0] ?? '').startsWith('/health');

/**
 * Serves the operators' paths (`/admin/...`, `/metrics`) on `adminPort` only, and everything else on
 * the public port only; `/health/*` answers on both (probes may use either). Without `adminPort`
 * both share the public port, as on a developer's machine. One Fastify instance serves both ports,
 * so every hook, guard and error shape is the same on each; a path on the wrong port is a 404 in the
 * platform's error shape, as if it did not exist.
 */
export function serveAdminPort(fastify: FastifyInstance, options: { adminPort: number | undefined; publicPort: number; host?: string }): void {
  const { adminPort, publicPort, host = '0.0.0.0' } = options;
  if (adminPort === undefined) return;
  if (adminPort === publicPort) throw new Error(`ADMIN_PORT (${adminPort}) must differ from PORT`);
  let server: Server | undefined;
  fastify.addHook('onRequest', async (request, reply) => {
    if (isHealthPath(request.url)) return;
    const onAdminPort = request.raw.socket.localPort === adminPort;
    if (isOperatorPath(request.url) !== onAdminPort) {
      // The body Nest gives an unknown route: the port does not reveal what it hides.
      return reply.status(404).send({ error: { message: `Cannot ${request.method} ${request.url.split('?', 1)[0]}`, type: 'not_found_error', param: null, code: null } });
    }
  });
  fastify.addHook('onReady', async () => {
    const admin = createServer((req, res) => fastify.routing(req, res));
    await new Promise<void>((resolve, reject) => {
      admin.once('error', reject);
      admin.listen(adminPort, host, () => resolve());
    });
    server = admin;
  });
  fastify.addHook('onClose', async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  });
}

/** What `listenApp` needs of a Nest application on Fastify. */
export interface FastifyApp {
  getHttpAdapter(): { getInstance(): FastifyInstance };
  listen(port: number, host: string): Promise<unknown>;
}

/** Every app listens this way: the public port, and the operators' port when `ADMIN_PORT` is set. */
export async function listenApp(app: FastifyApp, env: { PORT: number; ADMIN_PORT?: number | undefined }, host = '0.0.0.0'): Promise<void> {
  serveAdminPort(app.getHttpAdapter().getInstance(), { adminPort: env.ADMIN_PORT, publicPort: env.PORT, host });
  await app.listen(env.PORT, host);
}
