import type { AuthenticatedRequest } from '@aip/runtime';
import { actingFor, mayAccess } from './acting-user.ts';

const key = { id: 'k1', tenantId: 'acme', status: 'active', createdAt: 0, hint: 'sk-aip-xxxx' } as AuthenticatedRequest['apiKey'];
const request = (headers: Record<string, string | string[]> = {}, extra: Partial<AuthenticatedRequest> = {}) => ({ headers, apiKey: key, ...extra }) as unknown as AuthenticatedRequest;
const refusal = (act: () => unknown) => {
  try {
    act();
  } catch (error) {
    const { status, code } = error as { status: number; code: string };
    return `${status} ${code}`;
  }
  return 'accepted';
};

describe('actingFor', () => {
  it('acts for the user a backend names (header or body, agreeing), else for the key', () => {
    expect(actingFor(request({ 'x-user-id': 'ada' }))).toEqual({ tenantId: 'acme', user: 'ada', owner: 'user:ada' });
    expect(actingFor(request(), 'ada').owner).toBe('user:ada');
    expect(actingFor(request({ 'x-user-id': 'ada' }), 'ada').owner).toBe('user:ada');
    expect(actingFor(request()).owner).toBe('key:k1');
    expect(refusal(() => actingFor(request({ 'x-user-id': 'ada' }), 'bob'))).toBe('400 user_mismatch');
    expect(refusal(() => actingFor(request({ 'x-user-id': 'a'.repeat(200) })))).toBe('400 invalid_user_id');
    expect(refusal(() => actingFor(request({ 'x-user-id': ['a', 'b'] })))).toBe('400 invalid_user_id');
  });

  it("acts for a realtime token's own user only", () => {
    const token = request({}, { endUser: 'ada' });
    expect(actingFor(token).owner).toBe('user:ada');
    expect(refusal(() => actingFor(token, 'bob'))).toBe('403 user_mismatch');
    expect(refusal(() => actingFor(request({ 'x-user-id': 'bob' }, { endUser: 'ada' })))).toBe('403 user_mismatch');
  });

  it("lets the owner in, and the tenant's admin key only when it acts for nobody", () => {
    const plain = request();
    expect(mayAccess(plain, actingFor(plain), 'user:ada')).toBe(false);
    const admin = request({}, { apiKey: { ...key, admin: true } });
    expect(mayAccess(admin, actingFor(admin), 'user:ada')).toBe(true);
    const adminForBob = request({ 'x-user-id': 'bob' }, { apiKey: { ...key, admin: true } });
    expect(mayAccess(adminForBob, actingFor(adminForBob), 'user:ada')).toBe(false);
    const adminsToken = request({}, { apiKey: { ...key, admin: true }, endUser: 'bob' });
    expect(mayAccess(adminsToken, actingFor(adminsToken), 'user:ada')).toBe(false);
  });
});
