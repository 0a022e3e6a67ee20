import type { ExecutionContext } from '@nestjs/common';
import type { ApiKeyRecord, ApiKeyStore } from '@aip/keys';
import { ApiError } from './api-error.ts';
import { ApiKeyGuard } from './api-key.guard.ts';

function contextWith(authorization?: string) {
  const request: Record<string, unknown> = { headers: authorization ? { authorization } : {} };
  return { request, context: { switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext };
}

const record: ApiKeyRecord = { id: 'k1', tenantId: 'acme', status: 'active', createdAt: 0, hint: 'sk-aip-abcd' };
const store = (authenticate: (secret: string) => Promise<ApiKeyRecord | undefined>) => ({ authenticate, byId: async () => undefined }) as unknown as ApiKeyStore;

describe('ApiKeyGuard', () => {
  it('attaches the key record of a valid key', async () => {
    const presented: string[] = [];
    const guard = new ApiKeyGuard(store(async (secret) => (presented.push(secret), record)));
    const { request, context } = contextWith('Bearer  sk-aip-good ');
    await expect(guard.canActivate(context)).resolves.toBe(true);
    expect(request['apiKey']).toBe(record);
    expect(presented).toEqual(['sk-aip-good']);
  });

  it('answers 401 in the standard shape without a key, with another scheme and for an unknown key', async () => {
    const guard = new ApiKeyGuard(store(async () => undefined));
    for (const header of [undefined, 'Basic dXNlcjpwYXNz', 'Bearer ']) {
      await expect(guard.canActivate(contextWith(header).context)).rejects.toMatchObject({ status: 401, response: { error: { type: 'authentication_error', code: 'missing_api_key', param: null } } });
    }
    await expect(guard.canActivate(contextWith('Bearer sk-aip-bad').context)).rejects.toMatchObject({ status: 401, response: { error: { type: 'authentication_error', code: 'invalid_api_key' } } });
  });

  it('answers 503 (not 401, not a hang) when the key store is down', async () => {
    const guard = new ApiKeyGuard(store(async () => { throw new Error('ECONNREFUSED'); }));
    const failure = guard.canActivate(contextWith('Bearer sk-aip-good').context);
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    await expect(failure).rejects.toMatchObject({ status: 503, response: { error: { type: 'service_unavailable', code: 'service_unavailable' } } });
  });

  it('asks the key store once for repeated requests with the same key', async () => {
    let lookups = 0;
    const guard = new ApiKeyGuard(store(async () => (lookups++, record)));
    for (let i = 0; i < 3; i++) await guard.canActivate(contextWith('Bearer sk-aip-good').context);
    expect(lookups).toBe(1);
  });

  it('does not remember an outage: the next request asks again and succeeds', async () => {
    let down = true;
    const guard = new ApiKeyGuard(store(async () => { if (down) throw new Error('ECONNREFUSED'); return record; }));
    await expect(guard.canActivate(contextWith('Bearer sk-aip-good').context)).rejects.toMatchObject({ status: 503 });
    down = false;
    await expect(guard.canActivate(contextWith('Bearer sk-aip-good').context)).resolves.toBe(true);
  });
});
