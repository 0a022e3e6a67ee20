import { ClaimCheck } from './claim-check.ts';
import { ClaimCheckError } from './claim-check.error.ts';
import type { ObjectStore } from './object-store.port.ts';

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);

/** The port in memory, expiry included (RedisObjectStore itself: redis-object-store.adapter.int-spec.ts). */
function memoryStore(): ObjectStore & { keys: () => string[] } {
  const objects = new Map<string, { bytes: Uint8Array; expiresAt: Date }>();
  return {
    keys: () => [...objects.keys()],
    put: async (key, bytes, expiresAt) => void objects.set(key, { bytes, expiresAt }),
    get: async (key) => {
      const object = objects.get(key);
      return object && object.expiresAt.getTime() > Date.now() ? object.bytes : undefined;
    },
  };
}

const refusal = (promise: Promise<unknown>) => promise.then(() => 'redeemed', (error: unknown) => (error instanceof ClaimCheckError ? error.reason : String(error)));

describe('ClaimCheck', () => {
  it('stores an image under its tenant and task and gives back the same bytes for them', async () => {
    const claims = new ClaimCheck(memoryStore());
    const ref = await claims.check('acme', 'task-1', 0, { bytes: png, mediaType: 'image/png' });
    expect(ref).toEqual({ key: expect.stringMatching(/^[0-9a-f]{32}\/task-1\/0$/), mediaType: 'image/png', bytes: png.byteLength });
    expect(await claims.redeem('acme', 'task-1', ref)).toEqual(png);
    expect(ClaimCheck.dataUri(ref, png)).toBe(`data:image/png;base64,${Buffer.from(png).toString('base64')}`);
  });

  it("refuses another tenant's or another task's reference, even for a key that exists", async () => {
    const claims = new ClaimCheck(memoryStore());
    const ref = await claims.check('acme', 'task-1', 0, { bytes: png, mediaType: 'image/png' });
    expect(await refusal(claims.redeem('globex', 'task-1', ref))).toBe('forbidden');
    expect(await refusal(claims.redeem('acme', 'task-2', ref))).toBe('forbidden');
  });

  it('says an image is gone once it expired with its task', async () => {
    const claims = new ClaimCheck(memoryStore(), { ttlMs: 0 });
    const ref = await claims.check('acme', 'task-1', 0, { bytes: png, mediaType: 'image/png' });
    expect(await refusal(claims.redeem('acme', 'task-1', ref))).toBe('gone');
  });
});
