import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createKey, provisionNamespace, type RunningApp, startApp, startApps, stopApp, uniqueName, uniqueNamespace } from '@aip/testing';

// Real answers of access hold to the OpenAPI document access serves: status and body of each
// request are validated against the document's response schema for that path, method and status
// (ADR 0027). Output schemas forbid undocumented fields, so a field added to an answer without
// its schema fails here too.
const ADMIN_TOKEN = 'e2e-admin-token-openapi-0123456789abcdef';
const apps: RunningApp[] = [];
let access: RunningApp;
let key: string;
let document: Record<string, unknown>;
const validators = new Map<string, ValidateFunction>();

/** The validator of a documented response; throws when the document has no such response. */
function responseValidator(path: string, method: string, status: number): ValidateFunction {
  const pointer = `#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses/${status}/content/application~1json/schema`;
  const operation = (document['paths'] as Record<string, Record<string, { responses: Record<string, unknown> }>>)[path]?.[method];
  if (!operation?.responses[String(status)]) throw new Error(`the document has no ${status} response for ${method.toUpperCase()} ${path}`);
  let validate = validators.get(pointer);
  if (!validate) {
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats.default(ajv);
    ajv.addSchema(document, 'openapi.json');
    validate = ajv.compile({ $ref: `openapi.json${pointer}` });
    validators.set(pointer, validate);
  }
  return validate;
}

/** Sends a request to access and checks the answer against the document: its status is documented and its body fits. */
async function call(method: string, documentedPath: string, url: string, options: { body?: unknown; key?: string | null } = {}) {
  const response = await fetch(`${access.url}${url}`, {
    method: method.toUpperCase(),
    headers: { ...(options.key === null ? {} : { authorization: `Bearer ${options.key ?? key}` }), ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const body: unknown = await response.json();
  const validate = responseValidator(documentedPath, method, response.status);
  expect({ status: response.status, body, errors: validate(body) ? null : validate.errors }).toEqual({ status: response.status, body, errors: null });
  return { status: response.status, body: body as Record<string, unknown> };
}

beforeAll(async () => {
  const namespace = uniqueNamespace('e2e-openapi');
  await provisionNamespace(namespace);
  const shared = { ROCKETMQ_NAMESPACE: namespace, REDIS_PREFIX: `${uniqueName('e2e-openapi')}:` };
  [, , access] = await startApps(apps, [startApp('rate-limiter', shared), startApp('inference', { ...shared, WORKER_ID: 'worker-openapi' }), startApp('access', { ...shared, ADMIN_TOKEN, MODELS: 'extractive' })]);
  ({ key } = await createKey(access, ADMIN_TOKEN, { models: ['extractive', 'all-minilm-l6-v2'] }));
  const served = await fetch(`${access.url}/openapi.json`);
  expect(served.status).toBe(200);
  document = (await served.json()) as Record<string, unknown>;
}, 180_000);

afterAll(async () => {
  await Promise.all(apps.map(stopApp));
});

describe('the OpenAPI document of access', () => {
  it('is served without a key at /openapi.json (OpenAPI 3.1) with its reference page at /docs, from local files', async () => {
    expect(document).toMatchObject({ openapi: '3.1.0', info: { title: 'access' } });
    const page = await fetch(`${access.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    // Every asset the page loads comes from access itself.
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset.startsWith('/')).toBe(true);
      const file = await fetch(`${access.url}${asset}`);
      expect({ asset, status: file.status }).toEqual({ asset, status: 200 });
      expect((await file.arrayBuffer()).byteLength).toBeGreaterThan(1_000);
    }
  });

  it('describes a non-streamed chat completion and the model list as they are answered', async () => {
    const completion = await call('post', '/v1/chat/completions', '/v1/chat/completions', { body: { model: 'extractive', messages: [{ role: 'user', content: 'What is in the knowledge base?' }] } });
    expect(completion).toMatchObject({ status: 200, body: { object: 'chat.completion', model: 'extractive' } });
    const models = await call('get', '/v1/models', '/v1/models');
    expect(models).toMatchObject({ status: 200, body: { object: 'list', data: expect.arrayContaining([expect.objectContaining({ id: 'extractive' })]) } });
  });

  it('describes a task as created (202) and as it is once finished', async () => {
    const created = await call('post', '/v1/tasks', '/v1/tasks', { body: { model: 'extractive', messages: [{ role: 'user', content: 'Hello there' }] } });
    expect(created).toMatchObject({ status: 202, body: { object: 'task', status: 'queued' } });
    const id = String(created.body['id']);
    // The event stream ends with the task's final event: then the task is finished.
    const events = await fetch(`${access.url}/v1/tasks/${id}/events`, { headers: { authorization: `Bearer ${key}` } });
    expect(await events.text()).toMatch(/event: (done|error)/);
    const finished = await call('get', '/v1/tasks/{id}', `/v1/tasks/${id}`);
    expect(finished).toMatchObject({ status: 200, body: { id, status: 'completed', usage: { total_tokens: expect.any(Number) } } });
  });

  it('describes embeddings as they are answered', async () => {
    const embeddings = await call('post', '/v1/embeddings', '/v1/embeddings', { body: { model: 'all-minilm-l6-v2', input: ['a first text', 'a second one'] } });
    expect(embeddings).toMatchObject({ status: 200, body: { object: 'list', data: [{ index: 0 }, { index: 1 }] } });
  }, 120_000);

  it('describes errors: a 400 for an invalid request, a 401 without a key', async () => {
    expect(await call('post', '/v1/chat/completions', '/v1/chat/completions', { body: { model: 'extractive', messages: [] } })).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', param: 'messages' } } });
    expect(await call('get', '/v1/models', '/v1/models', { key: null })).toMatchObject({ status: 401, body: { error: { type: 'authentication_error' } } });
    expect(await call('get', '/v1/tasks/{id}', '/v1/tasks/no-such-task')).toMatchObject({ status: 404, body: { error: { code: 'task_not_found' } } });
  });
});
