import { useTestRedis } from '@aip/testing';
import { textItem } from './conversation-items.ts';
import { ConversationStore, titleOf } from './conversation.store.ts';

describe('ConversationStore (real Redis)', () => {
  const redis = useTestRedis('it-conversations-');
  const store = (options: { maxItems?: number; retentionMs?: (tenantId: string) => number } = {}) => new ConversationStore(redis.redis, { prefix: redis.prefix, ...options });

  it('makes a conversation with its first items, titled from the first user message, in order', async () => {
    const { conversation, items } = await store().create('acme', 'user:ada', { metadata: { topic: 'trip' }, items: [textItem('user', 'Plan a   weekend in Lisbon'), textItem('assistant', 'Sure.')] });
    expect(conversation).toMatchObject({ id: expect.stringMatching(/^conv_[0-9a-f]{32}$/), owner: 'user:ada', metadata: { topic: 'trip' }, title: 'Plan a weekend in Lisbon', itemCount: 2, trimmed: 0 });
    expect(items.map((item) => item.id)).toEqual([expect.stringMatching(/^msg_/), expect.stringMatching(/^msg_/)]);
    expect((await store().recent('acme', conversation.id)).items).toEqual(items);
    // Another tenant has no such conversation.
    expect(await store().get('globex', conversation.id)).toBeUndefined();
  });

  it('pages items newest first (or oldest first) after a cursor, and says whether there are more', async () => {
    const { conversation } = await store().create('acme', 'user:ada');
    const added = (await store().append('acme', conversation.id, Array.from({ length: 5 }, (_, i) => textItem('user', `m${i}`))))!;
    const text = (page: { data: { type: string }[] }) => page.data.map((item) => (item.type === 'message' ? (item as ReturnType<typeof textItem> & { content: { text: string }[] }).content[0]!.text : item.type));
    const first = (await store().items('acme', conversation.id, { limit: 2 }))!;
    expect([text(first), first.hasMore]).toEqual([['m4', 'm3'], true]);
    const next = (await store().items('acme', conversation.id, { limit: 2, after: first.data[1]!.id }))!;
    expect(text(next)).toEqual(['m2', 'm1']);
    const last = (await store().items('acme', conversation.id, { limit: 2, after: next.data[1]!.id }))!;
    expect([text(last), last.hasMore]).toEqual([['m0'], false]);
    expect(text((await store().items('acme', conversation.id, { limit: 10, order: 'asc', after: added[2]!.id }))!)).toEqual(['m3', 'm4']);
    expect(await store().items('acme', 'conv_missing', { limit: 2 })).toBeUndefined();
  });

  it('keeps at most maxItems, counting the removed ones for the prompt marker', async () => {
    const small = store({ maxItems: 3 });
    const { conversation } = await small.create('acme', 'key:k1');
    await small.append('acme', conversation.id, [textItem('user', 'a'), textItem('assistant', 'b')]);
    await small.append('acme', conversation.id, [textItem('user', 'c'), textItem('assistant', 'd')]);
    const recent = await small.recent('acme', conversation.id, 2);
    expect(recent.items.map((item) => item.type === 'message' && item.content[0]!.type !== 'input_image' && item.content[0]!.text)).toEqual(['c', 'd']);
    // One removed by the bound, one more not returned by this read.
    expect(recent.older).toBe(2);
    expect(await small.get('acme', conversation.id)).toMatchObject({ itemCount: 3, trimmed: 1, title: 'a' });
  });

  it('keeps a summary of the older items: later reads start after it, a summary covering less does not replace it', async () => {
    const { conversation } = await store().create('acme', 'user:ada', { items: ['a', 'b', 'c', 'd'].map((text) => textItem('user', text)) });
    const before = await store().recent('acme', conversation.id, 3);
    expect([before.seqs, before.older, before.summary]).toEqual([[2, 3, 4], 1, undefined]);
    expect(await store().setSummary('acme', conversation.id, { text: 'a and b', through: 2 })).toBe(true);
    expect(await store().setSummary('acme', conversation.id, { text: 'only a', through: 1 })).toBe(false);
    const after = await store().recent('acme', conversation.id, 3);
    expect([after.seqs, after.older, after.summary]).toEqual([[3, 4], 0, { text: 'a and b', through: 2 }]);
    // An analysis of the conversation reads the newest items, summary or not.
    expect((await store().latest('acme', conversation.id, 3)).length).toBe(3);
    // Items after the summary that this read did not return are counted as older.
    expect((await store().recent('acme', conversation.id, 1)).older).toBe(1);
    expect(await store().setSummary('acme', 'conv_gone', { text: 'x', through: 9 })).toBe(false);
    // What a summary job reads: the items after one sequence number, up to another.
    const texts = (await store().between('acme', conversation.id, 1, 3)).map((item) => item.type === 'message' && item.content[0]?.type === 'input_text' && item.content[0].text);
    expect(texts).toEqual(['b', 'c']);
    // Deleting an item the summary was written from deletes the summary; a newer item leaves it.
    const [a, , c] = (await store().items('acme', conversation.id, { limit: 4, order: 'asc' }))!.data;
    expect(await store().deleteItem('acme', conversation.id, c!.id)).toBe(true);
    expect((await store().recent('acme', conversation.id)).summary).toEqual({ text: 'a and b', through: 2 });
    expect(await store().deleteItem('acme', conversation.id, a!.id)).toBe(true);
    expect((await store().recent('acme', conversation.id)).summary).toBeUndefined();
    expect(await store().deleteItem('acme', conversation.id, a!.id)).toBe(false);
  });

  it('is claimed by its first user; another owner is refused; a deleted one takes no more turns', async () => {
    expect(await store().claim('acme', 'chosen-by-client', 'user:ada')).toBe(true);
    expect(await store().claim('acme', 'chosen-by-client', 'user:ada')).toBe(true);
    expect(await store().claim('acme', 'chosen-by-client', 'user:mallory')).toBe(false);
    await store().link('acme', 'chosen-by-client', 'response:resp_1');
    await store().link('acme', 'chosen-by-client', 'task:t1');
    const deleted = await store().delete('acme', 'chosen-by-client');
    expect(deleted).toMatchObject({ conversation: { owner: 'user:ada' } });
    expect(deleted?.linked.sort()).toEqual(['response:resp_1', 'task:t1']);
    // An answer that ends after the deletion does not bring the conversation back.
    expect(await store().append('acme', 'chosen-by-client', [textItem('assistant', 'late')])).toBeUndefined();
    expect(await store().get('acme', 'chosen-by-client')).toBeUndefined();
    expect(await redis.redis.keys(`${redis.prefix}conversation:{acme:chosen-by-client}*`)).toEqual([]);
    expect(await store().delete('acme', 'chosen-by-client')).toBeUndefined();
  });

  it("lists an owner's conversations by last change, newest first, and only theirs", async () => {
    const s = store();
    const a = (await s.create('acme', 'user:lin')).conversation;
    const b = (await s.create('acme', 'user:lin')).conversation;
    await s.create('acme', 'user:other');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await s.append('acme', a.id, [textItem('user', 'back to this one')]);
    const page = await s.list('acme', 'user:lin', { limit: 1 });
    expect([page.data.map((c) => c.id), page.hasMore]).toEqual([[a.id], true]);
    expect((await s.list('acme', 'user:lin', { limit: 5, after: a.id })).data.map((c) => c.id)).toEqual([b.id]);
    // A conversation that expired (or was deleted elsewhere) leaves the list when met.
    await redis.redis.del(`${redis.prefix}conversation:{acme:${b.id}}`);
    expect((await s.list('acme', 'user:lin', { limit: 5 })).data.map((c) => c.id)).toEqual([a.id]);
    expect(await redis.redis.zcard(`${redis.prefix}conversations:{acme:user:lin}`)).toBe(1);
  });

  it("expires after the tenant's retention since the last change", async () => {
    const s = store({ retentionMs: (tenantId) => (tenantId === 'brief' ? 60_000 : 3_600_000) });
    const { conversation } = await s.create('brief', 'user:u', { items: [textItem('user', 'hi')] });
    const ttl = await redis.redis.pttl(`${redis.prefix}conversation:{brief:${conversation.id}}:items`);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('updates metadata only of a conversation that exists', async () => {
    const { conversation } = await store().create('acme', 'user:ada');
    expect(await store().setMetadata('acme', conversation.id, { pinned: 'yes' })).toBe(true);
    expect((await store().get('acme', conversation.id))?.metadata).toEqual({ pinned: 'yes' });
    expect(await store().setMetadata('acme', 'conv_gone', { pinned: 'yes' })).toBe(false);
    expect(await store().get('acme', 'conv_gone')).toBeUndefined();
  });

  it('titles a long first message by its first words', () => {
    expect(titleOf('word '.repeat(40))).toMatch(/^(word ){10,}word…$/);
    expect(titleOf('word '.repeat(40)).length).toBeLessThanOrEqual(80);
  });
});
