import { admissionKeys, decodeReservationId, encodeReservationId, globalInflightKey } from './rate-limit.keys.ts';

describe('admission key layout', () => {
  it('puts all of one API key under one Cluster hash tag and the global set under its own', () => {
    const keys = admissionKeys('aip:rl:', 'key_1', 'req-9');
    for (const name of [keys.state, keys.inflight, keys.reservation]) expect(name.startsWith('aip:rl:{k:key_1}:')).toBe(true);
    expect(keys.reservation).toBe('aip:rl:{k:key_1}:res:req-9');
    expect(keys.globalInflight).toBe(globalInflightKey('aip:rl:'));
    expect(keys.globalInflight).toBe('aip:rl:{global}:inflight');
  });
});

describe('reservation ids', () => {
  it.each([
    ['key_1', 'req-1'],
    ['tenant:acme/key.2', 'a.b.c'],
    ['ключ', 'id with spaces'],
  ])('round-trip key %s and request %s', (keyId, requestId) => {
    expect(decodeReservationId(encodeReservationId(keyId, requestId))).toEqual({ keyId, requestId });
  });

  it.each(['', 'no-dot', '.req', 'aw.', 'not base64!.req', 'a.req'])('reject %j', (id) => {
    expect(decodeReservationId(id)).toBeUndefined();
  });
});
