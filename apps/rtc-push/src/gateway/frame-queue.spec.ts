import { FrameQueue } from './frame-queue.ts';

describe('FrameQueue', () => {
  it('runs frames one at a time, in arrival order, after the start gate', async () => {
    let open!: () => void;
    const queue = new FrameQueue(new Promise<void>((resolve) => (open = resolve)), 8);
    const order: string[] = [];
    let release!: () => void;
    queue.push(() => new Promise<void>((resolve) => (release = () => (order.push('a'), resolve()))));
    const done = new Promise<void>((resolve) => queue.push(async () => (order.push('b'), resolve())));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    open();
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await done;
    expect(order).toEqual(['a', 'b']);
  });

  it('refuses frames past its bound while earlier ones wait, and accepts again once they are handled', async () => {
    let release!: () => void;
    let drained!: () => void;
    const allHandled = new Promise<void>((resolve) => (drained = resolve));
    const queue = new FrameQueue(Promise.resolve(), 3);
    const handled: number[] = [];
    const handle = (n: number) => async () => {
      if (n === 1) await new Promise<void>((resolve) => (release = resolve));
      handled.push(n);
      if (n === 3) drained();
    };
    expect([1, 2, 3, 4, 5].map((n) => queue.push(handle(n)))).toEqual([true, true, true, false, false]);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await allHandled;
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.size).toBe(0);
    expect(queue.push(handle(6))).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(handled).toEqual([1, 2, 3, 6]);
  });

  it('keeps going after a frame handler fails', async () => {
    const queue = new FrameQueue(Promise.resolve(), 4);
    queue.push(() => Promise.reject(new Error('boom')));
    await expect(new Promise<string>((resolve) => queue.push(async () => resolve('next')))).resolves.toBe('next');
  });
});
