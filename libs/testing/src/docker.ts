import { request } from 'node:http';

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
