import { SchedulerClosedError, TenantFairScheduler } from './tenant-fair.scheduler.ts';

/** Tasks that record when they start and finish only when the test says so. */
function harness(scheduler: TenantFairScheduler) {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  const settled = new Map<string, Promise<string>>();
  const submit = (tenant: string, name: string, fail = false) => {
    const done = scheduler.run(tenant, async () => {
      started.push(name);
      await new Promise<void>((resolve) => gates.set(name, resolve));
      if (fail) throw new Error(`${name} failed`);
      return name;
    });
    settled.set(name, done);
    return done;
  };
  /** Lets a running task finish and waits until the scheduler has started whatever comes next. */
  const finish = async (name: string) => {
    const gate = gates.get(name);
    if (!gate) throw new Error(`${name} is not running (started: ${started.join(', ')})`);
    gate();
    await settled.get(name)!.catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
  };
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  return { started, submit, finish, flush };
}

describe('TenantFairScheduler', () => {
  it("starts another tenant's task before the rest of a flood that came first", async () => {
    const { started, submit, finish, flush } = harness(new TenantFairScheduler({ concurrency: 1 }));
    for (let i = 1; i <= 5; i++) void submit('flood', `flood-${i}`);
    void submit('quiet', 'quiet-1');
    await flush();
    expect(started).toEqual(['flood-1']);
    await finish('flood-1');
    // First-come-first-served would run flood-2..flood-5 first.
    expect(started).toEqual(['flood-1', 'quiet-1']);
    await finish('quiet-1');
    for (const name of ['flood-2', 'flood-3', 'flood-4']) await finish(name);
    expect(started).toEqual(['flood-1', 'quiet-1', 'flood-2', 'flood-3', 'flood-4', 'flood-5']);
  });

  it('alternates between tenants that both have work waiting, each in its own order', async () => {
    const { started, submit, finish, flush } = harness(new TenantFairScheduler({ concurrency: 1 }));
    for (let i = 1; i <= 3; i++) void submit('a', `a-${i}`);
    for (let i = 1; i <= 3; i++) void submit('b', `b-${i}`);
    void submit('c', 'c-1');
    await flush();
    for (const name of ['a-1', 'b-1', 'c-1', 'a-2', 'b-2', 'a-3']) await finish(name);
    expect(started).toEqual(['a-1', 'b-1', 'c-1', 'a-2', 'b-2', 'a-3', 'b-3']);
  });

  it('uses every slot for a tenant alone (no slot kept idle), and keeps it to perTenant when set', async () => {
    const alone = harness(new TenantFairScheduler({ concurrency: 3 }));
    for (let i = 1; i <= 4; i++) void alone.submit('a', `a-${i}`);
    await alone.flush();
    expect(alone.started).toEqual(['a-1', 'a-2', 'a-3']);

    const capped = harness(new TenantFairScheduler({ concurrency: 3, perTenant: 2 }));
    for (let i = 1; i <= 4; i++) void capped.submit('a', `a-${i}`);
    await capped.flush();
    expect(capped.started).toEqual(['a-1', 'a-2']);
    // The slot held back for others is taken at once by another tenant.
    void capped.submit('b', 'b-1');
    await capped.flush();
    expect(capped.started).toEqual(['a-1', 'a-2', 'b-1']);
    await capped.finish('a-1');
    expect(capped.started).toEqual(['a-1', 'a-2', 'b-1', 'a-3']);
  });

  it('passes results and failures through, and a failure frees its slot', async () => {
    const scheduler = new TenantFairScheduler({ concurrency: 1 });
    const { submit, finish, started } = harness(scheduler);
    const failing = submit('a', 'a-1', true);
    const next = submit('a', 'a-2');
    await finish('a-1');
    await expect(failing).rejects.toThrow('a-1 failed');
    expect(started).toEqual(['a-1', 'a-2']);
    await finish('a-2');
    await expect(next).resolves.toBe('a-2');
    await expect(scheduler.run('b', () => Promise.reject(new TypeError('sync')))).rejects.toThrow('sync');
    expect(scheduler.stats).toEqual({ running: 0, waiting: 0, tenants: 0 });
  });

  it('on close, fails the waiting tasks and new ones, and lets running tasks finish', async () => {
    const scheduler = new TenantFairScheduler({ concurrency: 1 });
    const { submit, finish, flush } = harness(scheduler);
    const running = submit('a', 'a-1');
    const waiting = submit('b', 'b-1');
    await flush();
    scheduler.close();
    await expect(waiting).rejects.toBeInstanceOf(SchedulerClosedError);
    await expect(scheduler.run('c', async () => 'late')).rejects.toBeInstanceOf(SchedulerClosedError);
    await finish('a-1');
    await expect(running).resolves.toBe('a-1');
    expect(scheduler.stats).toEqual({ running: 0, waiting: 0, tenants: 0 });
  });
});
