// Bolt over WebSocket on the Bolt port, spoken raw through the `ws` package (the browser build
// of neo4j-driver does the same: binary messages, path "/", no subprotocol).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startServer } from './server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

// ---- a tiny PackStream v1 codec (enough for this test) ----
function packString(s) {
  const b = Buffer.from(s, 'utf8');
  if (b.length < 16) return Buffer.concat([Buffer.from([0x80 | b.length]), b]);
  if (b.length < 256) return Buffer.concat([Buffer.from([0xd0, b.length]), b]);
  const h = Buffer.alloc(3); h[0] = 0xd1; h.writeUInt16BE(b.length, 1);
  return Buffer.concat([h, b]);
}
function pack(v) {
  if (v === null || v === undefined) return Buffer.from([0xc0]);
  if (v === true) return Buffer.from([0xc3]);
  if (v === false) return Buffer.from([0xc2]);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -16 && v < 128) return Buffer.from([v & 0xff]);
    const b = Buffer.alloc(9); b[0] = 0xcb; b.writeBigInt64BE(BigInt(v), 1); return b;
  }
  if (typeof v === 'string') return packString(v);
  if (Array.isArray(v)) return Buffer.concat([Buffer.from([0x90 | v.length]), ...v.map(pack)]);
  const keys = Object.keys(v);
  return Buffer.concat([Buffer.from([0xa0 | keys.length]), ...keys.flatMap((k) => [packString(k), pack(v[k])])]);
}
function message(tag, ...fields) {
  const body = Buffer.concat([Buffer.from([0xb0 | fields.length, tag]), ...fields.map(pack)]);
  const h = Buffer.alloc(2); h.writeUInt16BE(body.length);
  return Buffer.concat([h, body, Buffer.from([0, 0])]);
}
function unpack(buf, pos) {
  const m = buf[pos++];
  const sized = (n, f) => f(n);
  if (m < 0x80) return [m, pos];
  if (m >= 0xf0) return [m - 256, pos];
  if (m >= 0x80 && m <= 0x8f) return [buf.toString('utf8', pos, pos + (m & 15)), pos + (m & 15)];
  if (m === 0xd0) { const n = buf[pos]; return [buf.toString('utf8', pos + 1, pos + 1 + n), pos + 1 + n]; }
  if (m === 0xd1) { const n = buf.readUInt16BE(pos); return [buf.toString('utf8', pos + 2, pos + 2 + n), pos + 2 + n]; }
  if (m === 0xc0) return [null, pos];
  if (m === 0xc2) return [false, pos];
  if (m === 0xc3) return [true, pos];
  if (m === 0xc1) return [buf.readDoubleBE(pos), pos + 8];
  if (m === 0xc8) return [buf.readInt8(pos), pos + 1];
  if (m === 0xc9) return [buf.readInt16BE(pos), pos + 2];
  if (m === 0xca) return [buf.readInt32BE(pos), pos + 4];
  if (m === 0xcb) return [Number(buf.readBigInt64BE(pos)), pos + 8];
  const list = (n) => { const out = []; for (let i = 0; i < n; i++) { let v; [v, pos] = unpack(buf, pos); out.push(v); } return [out, pos]; };
  const map = (n) => { const out = {}; for (let i = 0; i < n; i++) { let k, v; [k, pos] = unpack(buf, pos); [v, pos] = unpack(buf, pos); out[k] = v; } return [out, pos]; };
  if (m >= 0x90 && m <= 0x9f) return sized(m & 15, list);
  if (m === 0xd4) { const n = buf[pos++]; return list(n); }
  if (m >= 0xa0 && m <= 0xaf) return sized(m & 15, map);
  if (m === 0xd8) { const n = buf[pos++]; return map(n); }
  if (m >= 0xb0 && m <= 0xbf) { const tag = buf[pos++]; let f; [f, pos] = list(m & 15); return [{ tag, fields: f }, pos]; }
  throw new Error(`marker 0x${m.toString(16)} not handled by the test codec`);
}

// ---- a byte stream over WebSocket messages ----
class WsBolt {
  constructor(url, origin) {
    this.buf = Buffer.alloc(0);
    this.waiters = [];
    this.frames = 0;
    this.ws = new WebSocket(url, origin ? { origin } : {});
    this.ws.binaryType = 'nodebuffer';
    this.opened = new Promise((res, rej) => { this.ws.on('open', res); this.ws.on('error', rej); this.ws.on('unexpected-response', (_q, r) => rej(new Error(`HTTP ${r.statusCode}`))); });
    this.ws.on('message', (data) => { this.frames++; this.buf = Buffer.concat([this.buf, data]); this.wake(); });
    this.ws.on('close', () => { this.closed = true; this.wake(); });
  }
  wake() { const w = this.waiters; this.waiters = []; w.forEach((f) => f()); }
  async read(n) {
    while (this.buf.length < n) {
      if (this.closed) throw new Error('closed');
      await new Promise((r) => this.waiters.push(r));
    }
    const out = this.buf.subarray(0, n); this.buf = this.buf.subarray(n); return out;
  }
  send(b) { this.ws.send(b); }
  async recv() {
    const parts = [];
    for (;;) {
      const n = (await this.read(2)).readUInt16BE(0);
      if (n === 0) { if (parts.length) break; else continue; }
      parts.push(Buffer.from(await this.read(n)));
    }
    const [v] = unpack(Buffer.concat(parts), 0);
    return v;
  }
}

test('Bolt over WebSocket: manifest handshake in one message, HELLO/LOGON, RUN/PULL', async () => {
  const c = new WsBolt(`ws://${server.host}:${server.port}/`);
  try {
    await wsSession(c);
  } finally {
    c.ws.terminate();
  }
});

async function wsSession(c) {
  await c.opened;
  c.send(Buffer.from([0x60, 0x60, 0xb0, 0x17, 0, 0, 1, 0xff, 0, 8, 8, 5, 0, 2, 4, 4, 0, 0, 0, 3]));
  const head = await c.read(4);
  assert.deepEqual([...head], [0, 0, 1, 0xff]);
  assert.equal(c.frames, 1, 'the handshake reply must arrive as one WebSocket message');
  const count = (await c.read(1))[0];
  const offers = await c.read(4 * count);
  await c.read(1); // capabilities
  assert.ok(count >= 1);
  assert.deepEqual([...offers.subarray(0, 4)], [0, 2, 8, 5]);
  c.send(Buffer.concat([
    Buffer.from([0, 0, 4, 5, 0]),
    message(0x01, { user_agent: 'ws-test/1' }),
    message(0x6a, { scheme: 'basic', principal: 'neo4j', credentials: 'password' }),
    message(0x10, 'RETURN $x AS x, "ws" AS y', { x: 7 }, {}),
    message(0x3f, { n: -1 }),
  ]));
  const hello = await c.recv();
  assert.equal(hello.tag, 0x70);
  assert.match(hello.fields[0].server, /^Neo4j\//);
  assert.equal((await c.recv()).tag, 0x70); // LOGON
  const run = await c.recv();
  assert.equal(run.tag, 0x70, JSON.stringify(run));
  assert.deepEqual(run.fields[0].fields, ['x', 'y']);
  const rec = await c.recv();
  assert.equal(rec.tag, 0x71);
  assert.deepEqual(rec.fields[0], [7, 'ws']);
  const done = await c.recv();
  assert.equal(done.tag, 0x70);
  assert.equal(done.fields[0].has_more, false);
  c.send(message(0x02));
}

test('neo4j-driver browser build (WebSocket channel): params, nodes, errors', async () => {
  // The browser bundle opens `new WebSocket("ws://host:port")`; `ws` stands in for the browser.
  const saved = globalThis.WebSocket;
  globalThis.WebSocket = WebSocket;
  const neo4j = (await import('neo4j-driver/lib/browser/neo4j-web.esm.js')).default;
  const driver = neo4j.driver(`bolt://${server.host}:${server.port}`, neo4j.auth.basic('neo4j', 'password'));
  try {
    const { records } = await driver.executeQuery('RETURN $x AS x, $s AS s', { x: neo4j.int(9), s: 'über' });
    assert.equal(records[0].get('x').toNumber(), 9);
    assert.equal(records[0].get('s'), 'über');
    const res = await driver.executeQuery('CREATE (n:WsNode:Browser {v: 1}) RETURN n');
    assert.deepEqual([...res.records[0].get('n').labels].sort(), ['Browser', 'WsNode']);
    await assert.rejects(driver.executeQuery('RETURN RETURN'), (e) => e.code === 'Neo.ClientError.Statement.SyntaxError');
  } finally {
    await driver.close();
    globalThis.WebSocket = saved;
  }
});

test('plain HTTP on the Bolt port is refused', async () => {
  const res = await fetch(`http://${server.host}:${server.port}/`).catch((e) => e);
  if (res instanceof Response) {
    assert.equal(res.status, 400);
  }
});
