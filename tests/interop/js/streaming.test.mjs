// Results stream from the plan (issue 12), through the stock neo4j-driver. Deterministic: the
// checks are on the server's peak memory and on queries that could never finish if they were
// materialized, never on timings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import neo4j from 'neo4j-driver';
import { startServer } from './server.mjs';

let server;
let driver;
before(async () => {
  server = await startServer();
  driver = neo4j.driver(`bolt://${server.host}:${server.port}`, neo4j.auth.basic('neo4j', 'password'));
});
after(async () => {
  await driver?.close();
  await server?.stop();
});

function statusKiB(field) {
  const line = readFileSync(`/proc/${server.pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(line.split(/\s+/)[1]);
}

test('first rows of a 1e8-row result arrive without materializing it', { skip: process.env.GRAPHWARD_BOLT_URI ? 'needs the server this test starts' : false }, async () => {
  const before = statusKiB('VmRSS');
  const session = driver.session({ fetchSize: 100 });
  try {
    const result = session.run('UNWIND range(1, 100000000) AS i RETURN i');
    const got = [];
    for await (const r of result) {
      got.push(r.get('i').toNumber());
      if (got.length === 5) break;
    }
    assert.deepEqual(got, [1, 2, 3, 4, 5]);
    const peak = statusKiB('VmHWM');
    assert.ok(peak - before < 128 * 1024, `server peak RSS grew by ${Math.round((peak - before) / 1024)} MiB`);
  } finally {
    await session.close();
  }
  const { records } = await driver.executeQuery('RETURN 1 AS one');
  assert.equal(records[0].get('one').toNumber(), 1);
});

test('a runtime error arrives after the rows before it', async () => {
  const session = driver.session({ fetchSize: 2 });
  const got = [];
  try {
    await assert.rejects(async () => {
      for await (const r of session.run('UNWIND [1, 2, 0, 4] AS x RETURN 10 / x AS y')) {
        got.push(r.get('y').toNumber());
      }
    }, (e) => {
      assert.equal(e.code, 'Neo.ClientError.Statement.ArithmeticError');
      return true;
    });
    assert.deepEqual(got, [10, 5]);
  } finally {
    await session.close();
  }
});

test('LIMIT stops pulling its input', async () => {
  const { records } = await driver.executeQuery(
    'UNWIND range(1, 1000000000000) AS i WITH i LIMIT 3 RETURN i');
  assert.deepEqual(records.map((r) => r.get('i').toNumber()), [1, 2, 3]);
});

function* walk(plan) {
  yield plan;
  for (const c of plan.children) yield* walk(c);
}

test('EXPLAIN and PROFILE report the plan', async () => {
  await driver.executeQuery('UNWIND range(1, 4) AS i CREATE (:JsStream {i: i})');
  const explained = await driver.executeQuery('EXPLAIN MATCH (n:JsStream) RETURN n.i AS i ORDER BY i LIMIT 2');
  assert.equal(explained.records.length, 0);
  const plan = explained.summary.plan;
  assert.ok(plan);
  assert.equal(plan.operatorType, 'ProduceResults');
  assert.deepEqual(plan.identifiers, ['i']);
  // The top rows are chosen before the projection (as Neo4j plans it).
  assert.deepEqual([...walk(plan)].map((p) => p.operatorType), ['ProduceResults', 'Limit', 'Projection', 'Top', 'NodeByLabelScan']);

  const profiled = await driver.executeQuery('PROFILE MATCH (n:JsStream) WITH n LIMIT 2 RETURN n.i AS i');
  assert.equal(profiled.records.length, 2);
  const profile = profiled.summary.profile;
  assert.ok(profile);
  assert.equal(profile.operatorType, 'ProduceResults');
  assert.equal(profile.rows, 2);
  const scan = [...walk(profile)].find((p) => p.operatorType === 'NodeByLabelScan');
  assert.equal(scan.rows, 2);
  assert.ok([...walk(profile)].reduce((s, p) => s + p.dbHits, 0) > 0);
});
