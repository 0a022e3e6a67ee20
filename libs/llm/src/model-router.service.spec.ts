import { ExtractiveResponder } from './extractive.adapter.ts';
import { ModelRouter } from './model-router.service.ts';
import { modelRoutingSchema } from './model-routing.schema.ts';
import { OpenAICompatibleAdapter } from './openai-compatible.adapter.ts';
import { UnknownModelError } from './unknown-model.error.ts';

const twoModels = {
  models: {
    chat: {
      providers: [
        { name: 'openai', kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', model: 'gpt-4o-mini', apiKey: 'k', firstTokenTimeoutMs: 2_000 },
        { name: 'extractive', kind: 'extractive' },
      ],
    },
    extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] },
  },
};

describe('ModelRouter', () => {
  it('defaults to the extractive model only', () => {
    const router = new ModelRouter();
    expect(router.aliases()).toEqual(['extractive']);
    expect(router.resolve('extractive').providerNames()).toEqual(['extractive']);
  });

  it('builds one chain per alias with the configured providers in order', () => {
    const ports: unknown[] = [];
    const router = new ModelRouter(twoModels, {
      createPort: (provider) => {
        const port = provider.kind === 'extractive' ? new ExtractiveResponder({ name: provider.name }) : new OpenAICompatibleAdapter(provider);
        ports.push(port);
        return port;
      },
    });
    expect(router.aliases()).toEqual(['chat', 'extractive']);
    expect(router.resolve('chat').providerNames()).toEqual(['openai', 'extractive']);
    expect(ports[0]).toBeInstanceOf(OpenAICompatibleAdapter);
  });

  it('gives the images capability to the providers that declare it, and only to those', () => {
    const router = new ModelRouter({
      models: {
        vision: { providers: [{ name: 'v', kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', model: 'gpt-4o', capabilities: ['images'] }, { name: 't', kind: 'openai-compatible', baseUrl: 'http://127.0.0.1:1/v1', model: 'qwen' }] },
        extractive: { providers: [{ name: 'extractive', kind: 'extractive' }] },
      },
    });
    expect(router.resolve('vision').images).toBe(true);
    expect(router.resolve('extractive').images).toBe(false);
    expect(modelRoutingSchema.safeParse({ models: { m: { providers: [{ name: 'p', kind: 'openai-compatible', baseUrl: 'http://x/v1', model: 'm', capabilities: ['telepathy'] }] } } }).success).toBe(false);
  });

  it('throws UnknownModelError listing the available models', () => {
    const router = new ModelRouter(twoModels);
    expect(() => router.resolve('gpt-9')).toThrow(UnknownModelError);
    expect(() => router.resolve('gpt-9')).toThrow('unknown model "gpt-9"; available: chat, extractive');
  });

  it('swaps the routing on update and keeps the old one when the new document is invalid', async () => {
    const router = new ModelRouter();
    const before = router.resolve('extractive');
    await router.update(twoModels);
    expect(router.aliases()).toEqual(['chat', 'extractive']);
    expect(router.resolve('extractive')).not.toBe(before);
    await expect(router.update({ models: { broken: { providers: [] } } })).rejects.toThrow();
    expect(router.aliases()).toEqual(['chat', 'extractive']);
  });
});

describe('modelRoutingSchema', () => {
  it('requires baseUrl and model for openai-compatible providers', () => {
    expect(modelRoutingSchema.safeParse({ models: { m: { providers: [{ name: 'p', kind: 'openai-compatible' }] } } }).success).toBe(false);
  });

  it('rejects duplicate provider names within a model', () => {
    const duplicate = { models: { m: { providers: [{ name: 'p', kind: 'extractive' }, { name: 'p', kind: 'extractive' }] } } };
    expect(modelRoutingSchema.safeParse(duplicate).success).toBe(false);
  });

  it('accepts the documented shape', () => {
    expect(modelRoutingSchema.parse(twoModels).models['chat']?.providers).toHaveLength(2);
  });
});
