import { compareIds, nextId } from './inbox.store.ts';
import { PendingPushes } from './pending.ts';
import { admitFrame } from './send-policy.ts';

describe('PendingPushes', () => {
  it('makes an unacked push due after the resend interval and counts its sends', () => {
    const pending = new PendingPushes(1_000);
    expect(pending.sent('1-0', 0)).toBe(0);
    expect(pending.due(999)).toEqual([]);
    expect(pending.due(1_000)).toEqual(['1-0']);
    expect(pending.sent('1-0', 1_000)).toBe(1);
    expect(pending.due(1_500)).toEqual([]);
    expect(pending.sent('1-0', 2_000)).toBe(2);
  });

  it('backs off each unacked push exponentially, up to the cap, and keeps re-sending at the cap', () => {
    const pending = new PendingPushes(10_000, 300_000);
    let now = 0;
    pending.sent('1-0', now);
    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      let next = now + 1_000;
      while (pending.due(next).length === 0) next += 1_000;
      gaps.push(next - now);
      now = next;
      pending.sent('1-0', now);
    }
    expect(gaps).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  });

  it('backs off per push: a new push is due after the base interval even when an old one waits longer', () => {
    const pending = new PendingPushes(1_000);
    pending.sent('1-0', 0);
    pending.sent('1-0', 1_000);
    pending.sent('2-0', 1_000);
    expect(pending.due(2_000)).toEqual(['2-0']);
    expect(pending.due(3_000)).toEqual(['1-0', '2-0']);
  });

  it('stops re-sending what was acked', () => {
    const pending = new PendingPushes(10);
    pending.sent('1-0', 0);
    pending.sent('2-0', 0);
    expect(pending.acked(['1-0', '9-0'])).toBe(1);
    expect(pending.due(100)).toEqual(['2-0']);
  });

  it('forgets pushes no longer in the inbox', () => {
    const pending = new PendingPushes(10);
    pending.sent('1-0', 0);
    pending.sent('2-0', 0);
    pending.retainOnly(new Set(['2-0']));
    expect(pending.has('1-0')).toBe(false);
    expect(pending.size).toBe(1);
  });
});

describe('push ids', () => {
  it('order numerically, not as text', () => {
    expect(compareIds('9-0', '10-0')).toBe(-1);
    expect(compareIds('10-2', '10-10')).toBe(-1);
    expect(compareIds('10-1', '10-1')).toBe(0);
    expect(compareIds('1764000000001-0', '1764000000000-99')).toBe(1);
  });

  it('have a successor used for cumulative acks', () => {
    expect(nextId('1764000000000-0')).toBe('1764000000000-1');
    expect(compareIds(nextId('5-9')!, '5-9')).toBe(1);
  });

  it('have a successor at the top of the sequence too, and none after the largest id', () => {
    expect(nextId('5-18446744073709551615')).toBe('6-0');
    expect(nextId('18446744073709551615-18446744073709551615')).toBeUndefined();
  });
});

describe('admitFrame (bounded send buffer)', () => {
  it('sends while the buffer plus the frame stay within the bound, closes past it', () => {
    expect(admitFrame(0, 100, 1_000)).toBe('send');
    expect(admitFrame(900, 100, 1_000)).toBe('send');
    expect(admitFrame(901, 100, 1_000)).toBe('close');
  });
});
