#!/usr/bin/env node
// The one entry point of every top-level command (`npm start`, `npm test`, ...).
// It must run on whatever Node the machine has (plain JS, no dependencies), because its job is
// to make sure the right Node and the project's dependencies are there before anything else runs:
//   1. Node older than 22 → fetch Node 24 from the npm registry (binary package) into
//      .runtime/node and re-run this script under it.
//   2. Dependencies missing or stale (package.json or package-lock.json changed) → npm install.
//   3. Run the npm script named on the command line under that Node.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MIN_MAJOR = 22;
const NODE_PACKAGE = `node-${process.platform}-${process.arch}@24`;
const nodeCache = join(root, '.runtime', 'node');
const cachedNode = join(nodeCache, 'node_modules', `node-${process.platform}-${process.arch}`, 'bin', 'node');

function log(message) {
  process.stderr.write(`[bootstrap] ${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** True when this Node is recent enough; otherwise re-runs this script under Node 24 and returns false. */
function ensureNode() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_MAJOR) return true;
  if (!existsSync(cachedNode)) {
    log(`Node ${process.versions.node} is older than ${MIN_MAJOR}: installing ${NODE_PACKAGE} into .runtime/node`);
    mkdirSync(nodeCache, { recursive: true });
    const status = run('npm', ['install', '--prefix', nodeCache, '--no-save', '--no-audit', '--no-fund', '--loglevel=error', NODE_PACKAGE]);
    if (status !== 0 || !existsSync(cachedNode)) {
      log(`could not install ${NODE_PACKAGE} from the npm registry (exit ${status})`);
      process.exit(1);
    }
  }
  // Re-run under Node 24 with its bin folder first on PATH, so npm and every child use it too.
  const env = { ...process.env, PATH: `${dirname(cachedNode)}:${process.env.PATH ?? ''}` };
  runForwardingSignals(cachedNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], env);
  return false;
}

/** Runs the rest of the command as a child and hands SIGINT/SIGTERM on, so the platform can drain. */
function runForwardingSignals(command, args, env) {
  const child = spawn(command, args, { stdio: 'inherit', cwd: root, env });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : signal ? 143 : 1)));
}

function fingerprint() {
  const lock = join(root, 'package-lock.json');
  return createHash('sha256')
    .update(readFileSync(join(root, 'package.json')))
    .update(existsSync(lock) ? readFileSync(lock) : '')
    .update(process.versions.node)
    .digest('hex');
}

function ensureDependencies() {
  const stamp = join(root, 'node_modules', '.aip-install-stamp');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === fingerprint()) return;
  log(existsSync(stamp) ? 'dependencies are stale: reinstalling' : 'installing dependencies');
  // `npm install`, not `npm ci`: with `omit-lockfile-registry-resolved` (set on our machines) the
  // lock file lacks other platforms' optional packages and `npm ci` refuses it as out of sync.
  const args = ['install'];
  // onnxruntime-node's install script would download GPU binaries from a host we cannot reach;
  // its CPU binaries ship inside the package.
  const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' };
  const status = run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { env });
  if (status !== 0) {
    log(`npm ${args[0]} failed (exit ${status})`);
    process.exit(status);
  }
  writeFileSync(stamp, fingerprint());
}

if (ensureNode()) {
  ensureDependencies();
  const [script, ...rest] = process.argv.slice(2);
  if (!script) process.exit(0);
  const env = { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  runForwardingSignals('npm', ['run', '--silent', script, ...(rest.length ? ['--', ...rest] : [])], env);
}
