// The two JVMs (name server; proxy with the broker embedded): their flags, how they are spawned
// detached with their output in logs/<role>.out, their pid files in run/, and the check that a pid
// is still ours (pids get reused).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedConfig } from './config.ts';

export type Role = 'namesrv' | 'proxy';
const MAIN_CLASS: Record<Role, string> = {
  namesrv: 'org.apache.rocketmq.namesrv.NamesrvStartup',
  proxy: 'org.apache.rocketmq.proxy.ProxyStartup',
};

export const JAVA17_OPENS = [
  'java.base/java.lang', 'java.base/java.lang.reflect', 'java.base/java.io', 'java.base/java.net', 'java.base/java.nio',
  'java.base/java.util', 'java.base/java.util.concurrent', 'java.base/sun.nio.ch', 'java.base/jdk.internal.ref',
  'java.base/jdk.internal.misc',
].flatMap((p) => ['--add-opens', `${p}=ALL-UNNAMED`]);
const JAVA17_EXPORTS = ['java.base/jdk.internal.ref', 'java.base/sun.nio.ch', 'java.base/jdk.internal.misc']
  .flatMap((p) => ['--add-exports', `${p}=ALL-UNNAMED`]);

export function javaBin(): string {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

export function jvmArgs(role: Role, cfg: ResolvedConfig): string[] {
  const heap = role === 'namesrv' ? ['-Xms64m', '-Xmx128m'] : ['-Xms128m', '-Xmx384m'];
  const extra = (process.env[role === 'namesrv' ? 'ROCKETMQ_NAMESRV_JAVA_OPTS' : 'ROCKETMQ_PROXY_JAVA_OPTS'] ?? '')
    .split(/\s+/).filter(Boolean);
  return [
    '-server', ...heap,
    '-XX:+UseSerialGC',
    // No -XX:TieredStopAtLevel=1: measured, C1-only made restarts slower (~22 s vs ~9 s) and the
    // idle broker busier (its background loops stay in slow C1 code).
    '-XX:MaxMetaspaceSize=160m',
    '-XX:ReservedCodeCacheSize=64m',
    `-XX:MaxDirectMemorySize=${role === 'namesrv' ? '64m' : '256m'}`,
    '-Xss512k',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.net.preferIPv4Stack=true',
    '-Dfile.encoding=UTF-8',
    `-Duser.home=${cfg.homeDir}`,
    `-Drocketmq.home.dir=${cfg.homeDir}`,
    `-Drmq.logback.configurationFile=rmq.${role}.logback.xml`,
    ...JAVA17_OPENS, ...JAVA17_EXPORTS,
    ...extra,
    '-cp', `${cfg.libDir}${path.sep}*`,
  ];
}

export function pidFile(cfg: ResolvedConfig, role: Role): string {
  return path.join(cfg.runDir, `${role}.pid`);
}

export function readPid(cfg: ResolvedConfig, role: Role): number | undefined {
  try {
    const n = Number(fs.readFileSync(pidFile(cfg, role), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** True when pid is alive and is our JVM for `role` (guards against pid reuse). */
export function isOurProcess(pid: number, role: Role): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes(MAIN_CLASS[role]);
  } catch {
    return true; // no /proc (macOS): trust kill(0)
  }
}

export function runningPid(cfg: ResolvedConfig, role: Role): number | undefined {
  const pid = readPid(cfg, role);
  return pid !== undefined && isOurProcess(pid, role) ? pid : undefined;
}

export function spawnJvm(role: Role, cfg: ResolvedConfig, appArgs: string[]): number {
  const outPath = path.join(cfg.logDir, `${role}.out`);
  const fd = fs.openSync(outPath, 'a');
  fs.writeSync(fd, `\n===== ${new Date().toISOString()} starting ${role} (RocketMQ ${cfg.version}) =====\n`);
  const child = spawn(javaBin(), [...jvmArgs(role, cfg), MAIN_CLASS[role], ...appArgs], {
    cwd: cfg.runtimeDir,
    detached: true,
    stdio: ['ignore', fd, fd],
    // MALLOC_ARENA_MAX: ~250 JVM threads would otherwise get up to 8 x cores glibc malloc arenas.
    env: { MALLOC_ARENA_MAX: '2', ...process.env, ROCKETMQ_HOME: cfg.homeDir, NAMESRV_ADDR: cfg.namesrvAddr },
  });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not spawn ${javaBin()} for ${role}`);
  child.unref();
  fs.writeFileSync(pidFile(cfg, role), `${child.pid}\n`);
  return child.pid;
}

function tail(file: string, lines = 25): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

export function startFailure(cfg: ResolvedConfig, role: Role, why: string): Error {
  const out = path.join(cfg.logDir, `${role}.out`);
  const main = path.join(cfg.rocketmqLogDir, role === 'namesrv' ? 'namesrv.log' : 'proxy.log');
  return new Error(`RocketMQ ${role} did not become ready: ${why}\n` +
    `  stdout/stderr: ${out}\n  logs: ${main}${role === 'proxy' ? `, ${path.join(cfg.rocketmqLogDir, 'broker.log')}` : ''}\n` +
    `--- tail of ${out} ---\n${tail(out)}`);
}
