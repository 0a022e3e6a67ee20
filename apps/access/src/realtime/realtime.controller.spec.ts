import type { ApiKeyRecord } from '@aip/keys';
import type { AuthenticatedRequest } from '@aip/runtime';
import { ModelCatalog } from '@aip/chat-policy';
import { RealtimeController } from './realtime.controller.ts';
import type { RealtimeTokenService } from './realtime-token.service.ts';

function setup(keyModels?: string[]) {
  const issued: Record<string, unknown>[] = [];
  const tokens = { issue: async (claims: Record<string, unknown>) => (issued.push(claims), { token: 'rtt_x', expiresAt: Date.now() + 300_000 }) } as unknown as RealtimeTokenService;
  const controller = new RealtimeController(tokens, new ModelCatalog(['extractive', 'gpt-4o', 'gpt-mini']));
  const request = { apiKey: { id: 'k1', tenantId: 'acme', status: 'active', ...(keyModels ? { models: keyModels } : {}) } as ApiKeyRecord } as AuthenticatedRequest;
  const issue = (body: unknown) => controller.issue(request, body);
  return { issue, issued };
}

const status = (promise: Promise<unknown>) => promise.then(() => 201, (error: { getStatus(): number; getResponse(): { error: { code: string } } }) => `${error.getStatus()} ${error.getResponse().error.code}`);

describe('RealtimeController', () => {
  it("issues tokens narrower than the key: its models (or fewer) and a max-tokens cap, stored with the claims", async () => {
    const { issue, issued } = setup(['extractive', 'gpt-4o', 'retired']);
    expect(await issue({ user: 'u1' })).toMatchObject({ models: ['extractive', 'gpt-4o'], maxTokens: 1_024 });
    expect(await issue({ user: 'u1', models: ['extractive'], maxTokens: 200 })).toMatchObject({ models: ['extractive'], maxTokens: 200 });
    expect(issued).toEqual([
      { tenantId: 'acme', keyId: 'k1', userId: 'u1', models: ['extractive', 'gpt-4o'], maxTokens: 1_024 },
      { tenantId: 'acme', keyId: 'k1', userId: 'u1', models: ['extractive'], maxTokens: 200 },
    ]);
  });

  it('gives a key without a model list the models served now, never more', async () => {
    const { issue } = setup();
    expect(await issue({ user: 'u1' })).toMatchObject({ models: ['extractive', 'gpt-4o', 'gpt-mini'] });
  });

  it('refuses models the key may not use or nobody serves, and caps beyond the limit', async () => {
    const { issue } = setup(['extractive']);
    expect(await status(issue({ user: 'u1', models: ['gpt-4o'] }))).toBe('403 model_not_allowed');
    expect(await status(issue({ user: 'u1', models: ['nope'] }))).toBe('404 model_not_found');
    expect(await status(issue({ user: 'u1', maxTokens: 32_768 }))).toBe('400 invalid_value');
  });
});
