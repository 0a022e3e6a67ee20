import { encodeQueueMember, encodeQueueOrder } from './deadline-queue.codec.ts';

describe('deadline queue member encoding', () => {
  it('orders members of one key by priority, then deadline, by plain byte order', () => {
    const members = [
      encodeQueueMember('k', 'late-urgent', 0, 9_000_000_000_000),
      encodeQueueMember('k', 'early-lax', 10, 1_000),
      encodeQueueMember('k', 'early-urgent', 0, 5),
      encodeQueueMember('k', 'mid-lax', 2, 2_000),
    ];
    const sorted = [...members].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(sorted.map((member) => member.split('\0')[2])).toEqual(['early-urgent', 'late-urgent', 'mid-lax', 'early-lax']);
  });

  it('pads to fixed widths', () => {
    expect(encodeQueueOrder(7, 42)).toEqual({ priority: '07', deadline: '000000000000042' });
  });

  it.each([
    [-1, 1],
    [100, 1],
    [1.5, 1],
    [1, -1],
    [1, 1.5],
    [1, 1e15],
  ])('rejects priority %p / deadline %p', (priority, deadline) => {
    expect(() => encodeQueueOrder(priority, deadline)).toThrow(RangeError);
  });

  it('rejects ids that would break the member or key format', () => {
    expect(() => encodeQueueMember('a\0b', 'r', 0, 1)).toThrow(TypeError);
    expect(() => encodeQueueMember('k', '{r}', 0, 1)).toThrow(TypeError);
  });
});
