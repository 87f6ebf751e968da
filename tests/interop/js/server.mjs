// Starts a real `graphward serve` on free ports for the JS interop tests (like conftest.py).
// Set GRAPHWARD_BOLT_URI to test an already running server instead.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, openSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

function canConnect(port) {
  return new Promise((res) => {
    const c = connect({ host: '127.0.0.1', port }, () => { c.destroy(); res(true); });
    c.on('error', () => res(false));
  });
}

export async function startServer() {
  if (process.env.GRAPHWARD_BOLT_URI) {
    const u = new URL(process.env.GRAPHWARD_BOLT_URI);
    return { host: u.hostname, port: Number(u.port), stop: async () => {} };
  }
  const bin = process.env.GRAPHWARD_BIN || join(ROOT, 'target', 'debug', 'graphward');
  const dir = mkdtempSync(join(tmpdir(), 'graphward-js-'));
  const boltPort = await freePort();
  const httpPort = await freePort();
  const log = openSync(join(dir, 'server.log'), 'a');
  const proc = spawn(bin, [
    'serve', '--data-dir', dir,
    '--bolt-address', '127.0.0.1', '--bolt-port', String(boltPort),
    '--http-address', '127.0.0.1', '--http-port', String(httpPort),
  ], { stdio: ['ignore', log, log], env: { ...process.env, GRAPHWARD_INITIAL_PASSWORD: 'password' } });
  let exited = false;
  proc.on('exit', () => { exited = true; });
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`graphward exited early; log in ${dir}/server.log`);
    if (await canConnect(boltPort)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host: '127.0.0.1',
    port: boltPort,
    pid: proc.pid,
    stop: async () => {
      if (!exited) {
        const done = new Promise((r) => proc.on('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([done, new Promise((r) => setTimeout(r, 10000))]);
        if (!exited) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
