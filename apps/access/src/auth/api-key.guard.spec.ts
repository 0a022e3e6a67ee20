import type { ExecutionContext } from '@nestjs/common';
import type { ApiKeyRecord, ApiKeyStore } from '@aip/keys';
import { OpenAIError } from '../common/openai-error.ts';
import { ApiKeyGuard } from './api-key.guard.ts';

function contextWith(authorization?: string) {
  const request: Record<string, unknown> = { headers: authorization ? { authorization } : {} };
  return { request, context: { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext };
}

const record: ApiKeyRecord = { id: 'k1', tenantId: 'acme', status: 'active', createdAt: 0, hint: 'sk-aip-abcd' };

describe('ApiKeyGuard', () => {
  it('attaches the key record of a valid key', async () => {
    const guard = new ApiKeyGuard({ authenticate: async () => record } as unknown as ApiKeyStore);
    const { request, context } = contextWith('Bearer sk-aip-good');
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request['apiKey']).toBe(record);
  });

  it('answers 401 without a key and for an unknown one', async () => {
    const guard = new ApiKeyGuard({ authenticate: async () => undefined } as unknown as ApiKeyStore);
    await expect(guard.canActivate(contextWith().context)).rejects.toMatchObject({ status: 401 });
    await expect(guard.canActivate(contextWith('Bearer sk-aip-bad').context)).rejects.toMatchObject({ status: 401, response: { error: { code: 'invalid_api_key' } } });
  });

  it('answers 503 (not 401, not a hang) when the key store is down', async () => {
    const guard = new ApiKeyGuard({ authenticate: async () => { throw new Error('ECONNREFUSED'); } } as unknown as ApiKeyStore);
    const failure = guard.canActivate(contextWith('Bearer sk-aip-good').context);
    await expect(failure).rejects.toBeInstanceOf(OpenAIError);
    await expect(failure).rejects.toMatchObject({ status: 503 });
  });
});
