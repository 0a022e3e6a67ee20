import { createServer } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { isOperatorPath, serveAdminPort } from './admin-port.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startApp(adminPort: number | undefined): Promise<{ app: FastifyInstance; publicUrl: string; adminUrl: string }> {
  const app = Fastify();
  const publicPort = await freePort();
  serveAdminPort(app, { adminPort, publicPort, host: '127.0.0.1' });
  for (const path of ['/admin/keys', '/metrics', '/health/ready', '/v1/models']) app.get(path, async () => ({ path }));
  await app.listen({ port: publicPort, host: '127.0.0.1' });
  return { app, publicUrl: `http://127.0.0.1:${publicPort}`, adminUrl: `http://127.0.0.1:${adminPort ?? publicPort}` };
}

const status = async (url: string) => (await fetch(url)).status;

describe('the operators\' port', () => {
  it('knows which paths are for operators only', () => {
    expect(['/metrics', '/metrics?x=1', '/admin', '/admin/keys', '/admin/config/routing?v=2'].every(isOperatorPath)).toBe(true);
    expect(['/v1/models', '/administrator', '/metricsx', '/health/ready', '/v1/admin/keys'].some(isOperatorPath)).toBe(false);
  });

  it('with ADMIN_PORT: the admin API and metrics answer there only, the public API on the public port only, health on both', async () => {
    const { app, publicUrl, adminUrl } = await startApp(await freePort());
    try {
      expect(await status(`${publicUrl}/admin/keys`)).toBe(404);
      expect(await status(`${publicUrl}/metrics`)).toBe(404);
      expect(await status(`${publicUrl}/v1/models`)).toBe(200);
      expect(await status(`${adminUrl}/admin/keys`)).toBe(200);
      expect(await status(`${adminUrl}/metrics`)).toBe(200);
      expect(await status(`${adminUrl}/v1/models`)).toBe(404);
      expect(await status(`${publicUrl}/health/ready`)).toBe(200);
      expect(await status(`${adminUrl}/health/ready`)).toBe(200);
      // A hidden path looks like any unknown one.
      expect(await (await fetch(`${publicUrl}/admin/keys`)).json()).toEqual({ error: { message: 'Cannot GET /admin/keys', type: 'not_found_error', param: null, code: null } });
    } finally {
      await app.close();
    }
    // Closing the app closes the operators' port too.
    await expect(fetch(`${adminUrl}/metrics`)).rejects.toThrow();
  });

  it('without ADMIN_PORT: everything on the one port (a developer\'s machine)', async () => {
    const { app, publicUrl } = await startApp(undefined);
    try {
      expect(await status(`${publicUrl}/admin/keys`)).toBe(200);
      expect(await status(`${publicUrl}/metrics`)).toBe(200);
      expect(await status(`${publicUrl}/v1/models`)).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('refuses an ADMIN_PORT equal to PORT', () => {
    expect(() => serveAdminPort(Fastify(), { adminPort: 3000, publicPort: 3000 })).toThrow('ADMIN_PORT (3000) must differ from PORT');
  });
});
