// Apache mqadmin (org.apache.rocketmq.tools.command.MQAdminStartup), run with the broker's own
// jars: for what the remoting requests of admin.ts do not cover (`cli.ts mqadmin <args>`), and for
// tests that exercise the real admin tool.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { resolveConfig, type BrokerOptions } from './config.ts';
import { resolveJars } from './jars.ts';
import { JAVA17_OPENS, javaBin } from './jvm.ts';

/** How to run mqadmin (org.apache.rocketmq.tools.command.MQAdminStartup) with the broker's jars. */
export function mqadminCommand(opts: BrokerOptions = {}): { file: string; jvmArgs: string[]; mainClass: string; env: NodeJS.ProcessEnv } {
  const cfg = resolveConfig(opts);
  resolveJars(cfg);
  fs.mkdirSync(cfg.homeDir, { recursive: true });
  const jvm = ['-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Duser.home=${cfg.homeDir}`,
    '-Drmq.logback.configurationFile=rmq.tools.logback.xml', ...JAVA17_OPENS, '-cp', `${cfg.libDir}${path.sep}*`];
  return { file: javaBin(), jvmArgs: jvm, mainClass: 'org.apache.rocketmq.tools.command.MQAdminStartup', env: { ...process.env, ROCKETMQ_HOME: cfg.homeDir } };
}

/** Runs mqadmin against the local name server. */
export function mqadmin(args: string[], opts: BrokerOptions = {}): number {
  const cfg = resolveConfig(opts);
  const command = mqadminCommand(opts);
  const hasN = args.includes('-n');
  const res = spawnSync(command.file, [...command.jvmArgs, command.mainClass, ...args, ...(hasN || args.length === 0 ? [] : ['-n', cfg.namesrvAddr])], {
    stdio: 'inherit', env: command.env,
  });
  return res.status ?? 1;
}
