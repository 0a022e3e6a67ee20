// The start lock (run/start.lock, holding the pid of the process that is starting the broker):
// `ensureBroker` calls from several processes at once (say a CLI beside a test run) start the
// broker only once; the others wait for it. A lock whose holder died is taken over.

import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from './config.ts';

export function acquireLock(cfg: ResolvedConfig): (() => void) | undefined {
  fs.mkdirSync(cfg.runDir, { recursive: true });
  const lock = path.join(cfg.runDir, 'start.lock');
  try {
    fs.writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
    return () => fs.rmSync(lock, { force: true });
  } catch {
    const holder = Number(fs.readFileSync(lock, 'utf8').trim());
    let alive = false;
    try {
      process.kill(holder, 0);
      alive = true;
    } catch {
      alive = false;
    }
    if (!alive) {
      fs.rmSync(lock, { force: true });
      return acquireLock(cfg);
    }
    return undefined;
  }
}
