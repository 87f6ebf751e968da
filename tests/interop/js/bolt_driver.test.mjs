// neo4j-driver (Node, plain sockets) against graphward over bolt:// and neo4j://.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import neo4j from 'neo4j-driver';
import { startServer } from './server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server?.stop(); });

for (const scheme of ['bolt', 'neo4j']) {
  test(`${scheme}: connect and query with parameters`, async () => {
    const driver = neo4j.driver(`${scheme}://${server.host}:${server.port}`, neo4j.auth.basic('neo4j', 'password'));
    try {
      await driver.verifyConnectivity();
      const { records, keys } = await driver.executeQuery(
        'RETURN $x AS x, $s AS s, $l AS l', { x: neo4j.int(41), s: 'héllo', l: [1, 2, 3] });
      assert.deepEqual(keys, ['x', 's', 'l']);
      assert.equal(records[0].get('x').toNumber(), 41);
      assert.equal(records[0].get('s'), 'héllo');
      assert.equal(records[0].get('l').length, 3);
    } finally {
      await driver.close();
    }
  });
}

test('node labels, relationship type and element ids', async () => {
  const driver = neo4j.driver(`bolt://${server.host}:${server.port}`, neo4j.auth.basic('neo4j', 'password'));
  try {
    const { records } = await driver.executeQuery(
      'CREATE (a:JsPerson:Tagged {name: $name})-[r:JS_KNOWS {since: 2020}]->(b:JsPerson {name: "b"}) RETURN a, r, b',
      { name: 'alice' });
    const a = records[0].get('a');
    const r = records[0].get('r');
    const b = records[0].get('b');
    assert.deepEqual([...a.labels].sort(), ['JsPerson', 'Tagged']);
    assert.equal(a.properties.name, 'alice');
    assert.equal(typeof a.elementId, 'string');
    assert.equal(r.type, 'JS_KNOWS');
    assert.equal(r.startNodeElementId, a.elementId);
    assert.equal(r.endNodeElementId, b.elementId);
  } finally {
    await driver.close();
  }
});

test('syntax errors carry the Neo4j code', async () => {
  const driver = neo4j.driver(`bolt://${server.host}:${server.port}`, neo4j.auth.basic('neo4j', 'password'));
  try {
    await assert.rejects(driver.executeQuery('RETURN RETURN'), (e) => {
      assert.equal(e.code, 'Neo.ClientError.Statement.SyntaxError');
      return true;
    });
    // The connection is usable afterwards.
    const { records } = await driver.executeQuery('RETURN 1 AS one');
    assert.equal(records[0].get('one').toNumber(), 1);
  } finally {
    await driver.close();
  }
});

test('explicit transaction commit and rollback', async () => {
  const driver = neo4j.driver(`bolt://${server.host}:${server.port}`, neo4j.auth.basic('neo4j', 'password'));
  const session = driver.session();
  try {
    const tx = await session.beginTransaction();
    await tx.run('CREATE (:JsTx {v: 1})');
    await tx.commit();
    const tx2 = await session.beginTransaction();
    await tx2.run('CREATE (:JsTx {v: 2})');
    await tx2.rollback();
    const res = await session.run('MATCH (n:JsTx) RETURN n.v AS v');
    assert.deepEqual(res.records.map((r) => r.get('v').toNumber()), [1]);
  } finally {
    await session.close();
    await driver.close();
  }
});
