#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Reading clauses followed by CREATE, MERGE, SET, REMOVE and FOREACH clauses run row by row on the streaming
//! executor (see `runtime/pipelined.rs`): a load or a bulk update holds one row at a time, so
//! it passes under a memory budget that the whole table of its rows would exceed; the graph
//! it leaves is the one the clause runner leaves; shapes whose update could be read by their
//! own reading clauses (the Halloween problem) still end with the runner's result; an error
//! mid-way loses the statement's writes.

use graphward_core::engine::{AccessMode, EngineConfig, Params, QueryEngine, TxOptions};
use graphward_core::{ErrorCode, Value};
use graphward_cypher::Engine;

mod common;
use common::{drain, run};

fn engine(query_limit: u64) -> Engine {
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = query_limit;
    Engine::open_in_memory(config).unwrap()
}

fn count(e: &Engine, q: &str) -> i64 {
    match run(e, q).unwrap().as_slice() {
        [row] => match row.as_slice() {
            [Value::Int(n)] => *n,
            other => panic!("{q}: {other:?}"),
        },
        other => panic!("{q}: {other:?}"),
    }
}

/// Every node (labels, properties) and relationship (type, properties, its ends' properties),
/// sorted: the graph as a query sees it, without ids.
fn dump(e: &Engine) -> Vec<String> {
    let mut out: Vec<String> = run(
        e,
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p ORDER BY l, p",
    )
    .unwrap()
    .iter()
    .map(|r| format!("{r:?}"))
    .collect();
    out.extend(
        run(
            e,
            "MATCH (a)-[r]->(b) RETURN type(r), properties(r), labels(a), properties(a), labels(b), properties(b)",
        )
        .unwrap()
        .iter()
        .map(|r| format!("{r:?}")),
    );
    out.sort();
    out
}

#[test]
fn a_load_holds_one_row_at_a_time() {
    // 256 KiB: 20,000 rows of the runner's table (a map each) are several times that.
    let e = engine(1 << 18);
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    run(
        &e,
        "UNWIND range(1, 20000) AS i CREATE (:N {id: i, name: 'n' + i})",
    )
    .unwrap();
    assert_eq!(count(&e, "MATCH (n:N) RETURN count(n)"), 20000);
    let mut tx = common::implicit_tx(&e, AccessMode::Write).unwrap();
    let mut params = Params::new();
    params.insert(
        "rows".to_string(),
        Value::List(
            (1..=7000i64)
                .map(|i| {
                    let mut m = graphward_core::value::Map::new();
                    m.insert("s".to_string(), Value::Int(i));
                    m.insert("d".to_string(), Value::Int(i % 20000 + 1));
                    Value::Map(m)
                })
                .collect(),
        ),
    );
    drain(
        &mut *tx,
        "UNWIND $rows AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R {w: r.s}]->(b)",
        params,
    )
    .unwrap();
    tx.commit().unwrap();
    assert_eq!(count(&e, "MATCH (:N)-[r:R]->(:N) RETURN count(r)"), 7000);
    assert_eq!(
        count(
            &e,
            "MATCH (a:N)-[r:R]->(b:N) WHERE b.id = a.id + 1 AND r.w = a.id RETURN count(r)"
        ),
        7000
    );
    // Relationships between the new ones and new nodes off them, by a match over R.
    run(
        &e,
        "MATCH (a:N)-[:R]->(b:N) WHERE a.id <= 5000 CREATE (b)-[:S]->(:M {of: a.id})",
    )
    .unwrap();
    assert_eq!(count(&e, "MATCH (:N)-[:S]->(m:M) RETURN count(m)"), 5000);
    // A bulk update of every node, and a MERGE load half of which finds its node.
    run(&e, "MATCH (n:N) SET n.touched = n.id % 7, n:Seen").unwrap();
    assert_eq!(
        count(
            &e,
            "MATCH (n:Seen) WHERE n.touched = n.id % 7 RETURN count(n)"
        ),
        20000
    );
    run(&e, "MATCH (n:N) REMOVE n.touched").unwrap();
    assert_eq!(
        count(&e, "MATCH (n:N) WHERE n.touched IS NULL RETURN count(n)"),
        20000
    );
    run(
        &e,
        "UNWIND range(15001, 25000) AS i MERGE (n:N {id: i}) ON CREATE SET n.late = true \
         ON MATCH SET n.again = true",
    )
    .unwrap();
    assert_eq!(count(&e, "MATCH (n:N) RETURN count(n)"), 25000);
    assert_eq!(count(&e, "MATCH (n:N {late: true}) RETURN count(n)"), 5000);
    assert_eq!(count(&e, "MATCH (n:N {again: true}) RETURN count(n)"), 5000);
    // With a RETURN: its aggregate is fed as the rows come.
    assert_eq!(
        run(
            &e,
            "UNWIND range(1, 20000) AS i CREATE (n:X {i: i}) RETURN count(n), sum(n.i)"
        )
        .unwrap(),
        vec![vec![Value::Int(20000), Value::Int(200010000)]]
    );
    // Several update clauses, row by row: a MERGE load with a SET, a node, its group and
    // a relationship between them.
    run(&e, "CREATE INDEX FOR (n:P) ON (n.id)").unwrap();
    run(&e, "CREATE INDEX FOR (n:Grp) ON (n.id)").unwrap();
    run(
        &e,
        "UNWIND range(1, 10000) AS i MERGE (p:P {id: i}) SET p.name = 'p' + i, p:Person",
    )
    .unwrap();
    run(
        &e,
        "UNWIND range(1, 10000) AS i MERGE (p:P {id: i}) MERGE (g:Grp {id: i % 10}) \
         MERGE (p)-[:IN]->(g)",
    )
    .unwrap();
    assert_eq!(
        count(
            &e,
            "MATCH (p:Person)-[:IN]->(g:Grp) WHERE g.id = p.id % 10 RETURN count(p)"
        ),
        10000
    );
    // A WITH between updates, keeping or dropping each row on its own.
    run(
        &e,
        "UNWIND range(1, 10000) AS i MERGE (p:P {id: i}) WITH p, i WHERE i % 2 = 0 \
         SET p.even = true",
    )
    .unwrap();
    assert_eq!(count(&e, "MATCH (p:P {even: true}) RETURN count(p)"), 5000);
    // A FOREACH per row: a tag list's MERGEs.
    run(&e, "CREATE INDEX FOR (n:Tag) ON (n.name)").unwrap();
    run(
        &e,
        "UNWIND range(1, 10000) AS i MATCH (p:P {id: i}) \
         FOREACH (t IN ['t' + (i % 7), 't' + (i % 11)] | MERGE (g:Tag {name: t}) \
         MERGE (p)-[:TAGGED]->(g))",
    )
    .unwrap();
    // Two tags a node, one when i % 7 = i % 11 (909 of them).
    assert_eq!(
        count(&e, "MATCH (:P)-[t:TAGGED]->(:Tag) RETURN count(t)"),
        19091
    );
    assert_eq!(
        count(
            &e,
            "MATCH (p:P)-[:TAGGED]->(t:Tag) \
             WHERE NOT t.name IN ['t' + p.id % 7, 't' + p.id % 11] RETURN count(*)"
        ),
        0
    );
    // Bulk deletes: every :X node, and every :M node with its relationship.
    run(&e, "MATCH (x:X) DELETE x").unwrap();
    assert_eq!(count(&e, "MATCH (x:X) RETURN count(x)"), 0);
    run(&e, "MATCH (m:M) DETACH DELETE m").unwrap();
    assert_eq!(count(&e, "MATCH (m:M) RETURN count(m)"), 0);
    // A bulk delete of relationships: each row's own.
    run(&e, "MATCH (a:N)-[r:R]->(b:N) WHERE r.w > 0 DELETE r").unwrap();
    assert_eq!(count(&e, "MATCH ()-[r:R]->() RETURN count(r)"), 0);
    assert_eq!(count(&e, "MATCH (n:N) RETURN count(n)"), 25000);
    assert_eq!(count(&e, "MATCH ()-[s:S]->() RETURN count(s)"), 0);
}

#[test]
fn the_graph_is_the_runners() {
    // The same statements, each once as it is (pipelined where it can be) and once with a
    // `WITH * SKIP 0` and a RETURN after the update (which the clause runner runs): the
    // graphs must not differ.
    let statements = [
        "UNWIND range(1, 50) AS i CREATE (:N {id: i, sq: i * i})",
        "MATCH (a:N) WHERE a.id % 2 = 0 MATCH (b:N {id: a.id - 1}) CREATE (a)-[:R {w: a.id}]->(b)",
        "MATCH (a:N) WITH a ORDER BY a.id DESC LIMIT 5 CREATE (a)<-[:T]-(:M {of: a.id})",
        "OPTIONAL MATCH (a:N {id: 1000}) WITH a UNWIND [1, 2] AS k CREATE (:O {k: k, a: a.id})",
        "MATCH (a:N)-[:R]->(b) CREATE p = (a)-[:S]->(:P {x: b.id}), (:Q {y: length(p)})",
        "MATCH (a:N) WITH a.id % 5 AS g, count(*) AS c CREATE (:G {g: g, c: c})",
        "MATCH (a:N {id: 3}), (b:N {id: 4}) CREATE (a)-[:U]->(x:X)-[:U]->(b), (x)-[:V]->(a)",
        "UNWIND [[1, 2], [3, 4]] AS pair MATCH (a:N {id: pair[0]}) CREATE (a)-[:W {p: pair}]->(a)",
        "UNWIND range(1, 60) AS i MERGE (n:N {id: i % 55}) ON CREATE SET n.new = true \
         ON MATCH SET n.seen = coalesce(n.seen, 0) + 1",
        "MATCH (n:N) WHERE n.id < 10 SET n.tag = 'low', n.half = n.id / 2",
        "MATCH (n:N) WHERE n.id > 40 SET n:Seen",
        "UNWIND [1, 2, 2] AS i MERGE (m:M2 {k: i})-[:HAS]->(:Leaf)",
        "MATCH (a:N) WHERE a.id <= 3 MERGE (a)-[:MR]->(b:MB {of: a.id})",
        "MATCH (a:N)-[:MR]->(b:MB) SET b.back = a.id",
        "MATCH (n:N) WHERE n.id < 5 REMOVE n.tag, n:Seen",
        // Halloween shapes (the runner's result, whatever runs them): new nodes a match reads,
        // new relationships an expansion reads, a pattern predicate, a property or a label
        // the match reads set, any property set.
        "MATCH (n) CREATE (:Copy)",
        "MATCH (n:N) WHERE n.id < 5 CREATE (:N {id: n.id + 100})",
        "MATCH (a)-[r]->(b) CREATE (a)-[:R2]->(b)",
        "MATCH (a:N)-[:R]->(b) CREATE (a)-[:R]->(b)",
        "MATCH (a:N) WHERE NOT (a)-[:Z]->() AND a.id < 4 CREATE (a)-[:Z]->(:Zed)",
        "MATCH (a:N)-[:R*0..1]->(b) WHERE a.id < 3 CREATE (:Len)",
        "MATCH (n:N) WHERE n.id < 10 SET n.id = n.id + 1000",
        "MATCH (n:N) WHERE NOT n:Seen2 AND n.id % 3 = 0 SET n:Seen2",
        "MATCH (n:N {id: 3}) SET n += {extra: 1}",
        "MATCH (n:N) WHERE n.half IS NOT NULL REMOVE n.half",
        "MATCH (n:Seen) REMOVE n:Seen",
        "MATCH (n:N) WHERE n.id > 1000 SET n = {id: n.id - 1000, back: true}",
        "MATCH (a:N) WHERE a.id = 1 MERGE (b:N {id: 1001})",
        "MATCH (a:N)-[:MR]->(b) MERGE (a)-[:MR]->(:MB {of: -1})",
        // Several update clauses, each applied to a row before the next row's: none reads
        // what another writes (a load's MERGE of a node, then its SET; two MERGEs of
        // different labels and one of a relationship between them; SET then REMOVE).
        "UNWIND range(1, 30) AS i MERGE (p:Pp {id: i % 25}) SET p.name = 'p' + i",
        "UNWIND range(1, 30) AS i MERGE (p:Pp {id: i % 25}) MERGE (c:Cc {id: i % 4}) \
         MERGE (p)-[:IN]->(c)",
        "UNWIND range(1, 5) AS i CREATE (a:Ca {i: i}) CREATE (b:Cb {i: i}) \
         CREATE (a)-[:AB]->(b) SET a.done = true",
        "MATCH (n:N) WHERE n.id < 20 SET n.mark = n.id % 3 REMOVE n.sq SET n:Marked",
        "MATCH (p:Pp) MERGE (p)-[:OWN]->(w:Wal {of: p.id}) ON CREATE SET w.new = 1 \
         CREATE (w)-[:LOG]->(:Entry)",
        "UNWIND [[1, ['a', 'b']], [2, ['b']], [3, []], [4, null]] AS r \
         MERGE (p:Pp {id: r[0]}) FOREACH (t IN r[1] | MERGE (g:Tg {name: t}) \
         MERGE (p)-[:TAGGED]->(g) SET g.last = r[0])",
        "MATCH (a:N)-[:R]->(b:N) WHERE a.id < 12 \
         FOREACH (n IN [a, b] | SET n.touched = coalesce(n.touched, 0) + 1)",
        // A WITH between updates keeping or dropping each row on its own.
        "UNWIND [[1, 'x'], [2, null], [3, 'y'], [4, 'x']] AS r MERGE (p:Wp {id: r[0]}) \
         WITH p, r WHERE r[1] IS NOT NULL MERGE (c:Wc {name: r[1]}) MERGE (p)-[:IN]->(c)",
        "MATCH (p:Wp) SET p.seen = true WITH p, p.id * 10 AS big CREATE (p)-[:BIG]->(:Wb {v: big})",
        // ... and ones where one does (the runner's result, whatever runs them): MERGEs of
        // the same label, a SET of a key a later MERGE matches on, a CREATE of a type a
        // later MERGE matches, a SET reading a key another sets, a REMOVE of a label a later
        // MERGE reads.
        "UNWIND [[1, 2], [2, 1], [3, 3]] AS r MERGE (a:Mm {id: r[0]}) ON CREATE SET a.by = 'a' \
         MERGE (b:Mm {id: r[1]}) ON CREATE SET b.by = 'b' MERGE (a)-[:K]->(b)",
        "UNWIND [1, 2, 3] AS i MERGE (a:Sk {id: i}) SET a.id = i + 1",
        "UNWIND [1, 2] AS i MATCH (a:Mm {id: i}), (b:Mm {id: 3}) CREATE (a)-[:K]->(b) \
         MERGE (b)-[:K]->(a)",
        "UNWIND [1, 2, 3] AS i MATCH (n:Mm {id: 3}) SET n.c = coalesce(n.c, 0) + i \
         SET n.d = n.c",
        "MATCH (n:Marked) WHERE n.id < 6 REMOVE n:Marked MERGE (m:Marked {id: n.id})",
        "UNWIND [5, 6, 7] AS i MERGE (p:Fp {id: i}) FOREACH (x IN [i + 1] | CREATE (:Fp {id: x}))",
        "MATCH (p:Wp) SET p.n = p.id WITH p WHERE p.n > 1 SET p.n = 0",
        "MATCH (p:Wp) SET p.k = 1 WITH p AS q CREATE (p:Wp {id: 100 + q.id})",
        // Rows handed to the updates carry only the variables the updates name: the others
        // (c, the map r, the path p) are left out, the bound ends still used, not made anew.
        "MATCH (a:N {id: 5}), (b:N {id: 6}), (c:N {id: 7}) CREATE (a)-[:PR]->(b)",
        "UNWIND [{s: 8, d: 9, w: 2}] AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) \
         MATCH p = (a)-[*0..1]-() CREATE (a)-[:PW {w: r.w}]->(b)",
        "MATCH (a:N {id: 11}), (b:N {id: 12}) MERGE (a)-[:PM]->(b) ON CREATE SET b.from = a.id",
        // Deleting the node of a lone match, as each row comes: with and without DETACH.
        "MATCH (n:Len) DELETE n",
        "MATCH (n:Zed) DETACH DELETE n",
        "MATCH (n:Copy) WHERE n.x IS NULL AND id(n) % 2 = 0 DETACH DELETE n",
        "MATCH (n {back: true}) DETACH DELETE n",
        // ... and the relationship of a lone directed match (undirected: the runner's).
        "MATCH (a:N)-[r:R]->(b) WHERE a.id % 4 = 0 DELETE r",
        "MATCH (a)<-[r:IN]-(b:Pp) WHERE b.id > 20 DETACH DELETE r",
        "MATCH (a)-[r:K]-(b) WHERE a.id = 1 DELETE r",
        "MATCH (a)-[r:AB]-(b) WHERE r.x IS NULL AND b.i > 0 DELETE r",
        "MATCH ()-[r]->() WHERE type(r) = 'AB' DELETE r",
    ];
    let piped = Engine::open_in_memory(EngineConfig::default()).unwrap();
    let ran = Engine::open_in_memory(EngineConfig::default()).unwrap();
    for s in statements {
        run(&piped, s).unwrap();
        run(&ran, &format!("{s} WITH * SKIP 0 RETURN 1 AS one")).unwrap();
        assert_eq!(dump(&piped), dump(&ran), "after {s}");
    }
}

#[test]
fn an_error_midway_loses_the_statements_writes() {
    let e = engine(1 << 20);
    run(&e, "CREATE (:Keep)").unwrap();
    let err = run(&e, "UNWIND [1, 2, 0, 4] AS i CREATE (:E {v: 10 / i})").unwrap_err();
    assert_eq!(err.code, ErrorCode::ArithmeticError, "{err:?}");
    assert_eq!(count(&e, "MATCH (n:E) RETURN count(n)"), 0);
    // In an explicit transaction: the failed statement's writes go with the transaction.
    let mut tx = e
        .begin(TxOptions {
            mode: AccessMode::Write,
            ..TxOptions::default()
        })
        .unwrap();
    drain(
        &mut *tx,
        "UNWIND range(1, 10) AS i CREATE (:T {i: i})",
        Params::new(),
    )
    .unwrap();
    assert!(drain(
        &mut *tx,
        "UNWIND [1, 0] AS i CREATE (:T {i: 1 / i})",
        Params::new()
    )
    .is_err());
    drop(tx);
    assert_eq!(count(&e, "MATCH (n:T) RETURN count(n)"), 0);
    assert_eq!(count(&e, "MATCH (n:Keep) RETURN count(n)"), 1);
}

#[test]
fn a_read_only_transaction_refuses_it() {
    let e = engine(1 << 20);
    let mut tx = common::implicit_tx(&e, AccessMode::Read).unwrap();
    let err = drain(&mut *tx, "UNWIND [1] AS i CREATE (:N)", Params::new()).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden, "{err:?}");
}

/// A RETURN after the update: evaluated row by row after that row's update (aggregates fed
/// as rows come), the rows and the graph are the runner's (the same query with `WITH * SKIP 0`
/// before the RETURN, which only the runner runs); a RETURN reading what the update writes
/// goes to the runner.
#[test]
fn a_return_after_the_update_gives_the_runners_rows() {
    let statements = [
        "UNWIND range(1, 30) AS i CREATE (n:N {id: i}) RETURN count(n) AS c, sum(n.id) AS s",
        "UNWIND range(1, 5) AS i CREATE (n:N {id: 100 + i}) RETURN n.id AS id, n ORDER BY id DESC",
        "UNWIND range(1, 4) AS i CREATE p = (:A {i: i})-[:T {w: i}]->(:B) RETURN *",
        "MATCH (a:N) WHERE a.id <= 10 CREATE (a)-[r:R {w: a.id}]->(:M) \
         RETURN a.id % 3 AS k, collect(r.w) AS ws ORDER BY k",
        "UNWIND [3, 3, 40, 41] AS i MERGE (n:N {id: i}) ON CREATE SET n.fresh = true \
         RETURN i, n.id ORDER BY i",
        "MATCH (n:N) WHERE n.id > 100 SET n.tag = 'big' RETURN count(*) AS c",
        "MATCH (n:N) WHERE n.id < 4 SET n.v = n.id * 2 RETURN DISTINCT n.id % 2 AS parity \
         ORDER BY parity SKIP 0 LIMIT 5",
        // The RETURN reads what the update sets: the runner's rows, whatever runs it.
        "UNWIND [1, 2] AS i MATCH (n:N {id: 1}) SET n.last = i RETURN n.last AS last",
        "UNWIND [1, 2] AS i MERGE (n:Q {id: 1}) ON MATCH SET n.c = i RETURN n.c AS c",
        "UNWIND [1, 2] AS i CREATE (n:R2 {i: i}) RETURN COUNT { (:R2) } AS seen",
        // Several updates, then the RETURN.
        "UNWIND range(1, 6) AS i MERGE (p:Rp {id: i % 4}) MERGE (c:Rc {id: i % 2}) \
         MERGE (p)-[r:IN]->(c) RETURN i, p.id AS p, c.id AS c ORDER BY i",
        "UNWIND range(1, 6) AS i MERGE (p:Rp {id: i % 4}) SET p.seen = i \
         RETURN p.seen AS seen, count(*) AS c ORDER BY seen",
        "UNWIND range(1, 6) AS i MERGE (p:Rq {id: i % 4}) WITH p, i WHERE i > 2 \
         CREATE (p)-[:AT]->(t:Rt {i: i}) RETURN p.id AS p, t.i AS t ORDER BY t",
        "UNWIND range(1, 4) AS i CREATE (a:Rs {i: i}) WITH *, i * 2 AS j SET a.j = j RETURN *",
    ];
    let piped = Engine::open_in_memory(EngineConfig::default()).unwrap();
    let ran = Engine::open_in_memory(EngineConfig::default()).unwrap();
    for s in statements {
        let at = s.rfind(" RETURN ").unwrap();
        let runner = format!("{} WITH * SKIP 0{}", &s[..at], &s[at..]);
        let sort = |mut rows: Vec<Vec<Value>>| {
            if !s.contains("ORDER BY") {
                rows.sort_by_key(|r| format!("{r:?}"));
            }
            rows
        };
        let (cols_a, rows_a) = common::run_with(&piped, s, Params::new()).unwrap();
        let (cols_b, rows_b) = common::run_with(&ran, &runner, Params::new()).unwrap();
        assert_eq!(cols_a, cols_b, "{s}");
        assert_eq!(sort(rows_a), sort(rows_b), "{s}");
        assert_eq!(dump(&piped), dump(&ran), "after {s}");
    }
    assert_eq!(
        run(
            &piped,
            "UNWIND [1, 2] AS i MATCH (n:N {id: 1}) SET n.last = i RETURN n.last AS last"
        )
        .unwrap(),
        vec![vec![Value::Int(2)], vec![Value::Int(2)]]
    );
}

/// A DELETE without DETACH of a node that still has relationships fails as the runner's does,
/// and the statement's deletions before it are lost.
#[test]
fn deleting_a_connected_node_fails_and_loses_the_statement() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(1, 10) AS i CREATE (n:D {i: i}) WITH n WHERE n.i = 7 CREATE (n)-[:T]->(:E)",
    )
    .unwrap();
    let err = run(&e, "MATCH (n:D) DELETE n").unwrap_err();
    assert_eq!(err.code, ErrorCode::ConstraintValidationFailed, "{err:?}");
    assert_eq!(count(&e, "MATCH (n:D) RETURN count(n)"), 10);
    let summary = {
        let mut tx = common::implicit_tx(&e, AccessMode::Write).unwrap();
        let s = tx
            .run("MATCH (n:D) DETACH DELETE n", Params::new())
            .unwrap();
        let stats = s.summary().stats;
        drop(s);
        tx.commit().unwrap();
        stats
    };
    assert_eq!(summary.nodes_deleted, 10);
    assert_eq!(summary.relationships_deleted, 1);
    assert_eq!(count(&e, "MATCH (n) RETURN count(n)"), 1);
}
