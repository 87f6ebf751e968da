//! End-to-end checks of the engine through the `QueryEngine` trait.

use std::collections::BTreeMap;

use graphward_core::engine::{AccessMode, EngineConfig, QueryEngine, TxOptions};
use graphward_core::{ErrorCode, Value};
use graphward_cypher::Engine;

mod common;
use common::{run, run_with};

#[test]
fn create_match_return() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "CREATE (a:Person {name: 'Ann', age: 30})-[:KNOWS {since: 2020}]->(b:Person {name: 'Bob'})",
    )
    .unwrap();
    let (cols, rows) = run_with(
        &e,
        "MATCH (a:Person)-[r:KNOWS]->(b) RETURN a.name, r.since, b.name",
        BTreeMap::new(),
    )
    .unwrap();
    assert_eq!(cols, vec!["a.name", "r.since", "b.name"]);
    assert_eq!(
        rows,
        vec![vec![
            Value::from("Ann"),
            Value::Int(2020),
            Value::from("Bob")
        ]]
    );
    let rows = run(
        &e,
        "MATCH (n) RETURN count(*) AS c, collect(n.name) AS names",
    )
    .unwrap();
    assert_eq!(rows[0][0], Value::Int(2));
    let rows = run(&e, "MATCH p = (:Person)-->() RETURN p").unwrap();
    match &rows[0][0] {
        Value::Path(p) => {
            assert_eq!(p.nodes.len(), 2);
            assert_eq!(p.nodes[0].labels, vec!["Person".to_string()]);
            assert_eq!(p.relationships[0].rel_type, "KNOWS");
        }
        other => panic!("expected a path, got {other:?}"),
    }
}

#[test]
fn index_seek_unwind_and_two_hops() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(&e, "CREATE INDEX n_id FOR (n:N) ON (n.id)").unwrap();
    let batch = Value::List((0..100).map(Value::Int).collect());
    run_with(
        &e,
        "UNWIND $b AS r CREATE (:N {id: r})",
        BTreeMap::from([("b".into(), batch)]),
    )
    .unwrap();
    let rels = Value::List(
        (0..100)
            .map(|i| {
                Value::Map(BTreeMap::from([
                    ("s".to_string(), Value::Int(i)),
                    ("d".to_string(), Value::Int((i + 1) % 100)),
                ]))
            })
            .collect(),
    );
    run_with(
        &e,
        "UNWIND $b AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R]->(b)",
        BTreeMap::from([("b".into(), rels)]),
    )
    .unwrap();
    let (_, rows) = run_with(
        &e,
        "MATCH (a:N {id:$id})-[:R]->()-[:R]->(c) RETURN count(c), collect(c.id)",
        BTreeMap::from([("id".into(), Value::Int(5))]),
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![vec![Value::Int(1), Value::List(vec![Value::Int(7)])]]
    );
}

#[test]
fn errors_have_codes() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    let err = run(&e, "MATCH (n RETURN n").unwrap_err();
    assert_eq!(err.code, ErrorCode::SyntaxError);
    let err = run(&e, "RETURN $missing").unwrap_err();
    assert_eq!(err.code, ErrorCode::ParameterMissing);
    let err = run(&e, "RETURN 1 / 0").unwrap_err();
    assert_eq!(err.code, ErrorCode::ArithmeticError);
}

#[test]
fn databases_and_failed_statement_rolls_back() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(&e, "CREATE DATABASE other").unwrap();
    let mut tx = e
        .begin(TxOptions {
            database: Some("other".into()),
            ..TxOptions::default()
        })
        .unwrap();
    tx.run("CREATE (:X)", BTreeMap::new()).unwrap();
    // A runtime error arrives in the result (after the rows before it, none here), and
    // fails the transaction.
    let mut s = tx.run("RETURN 1/0", BTreeMap::new()).unwrap();
    assert!(s.next_row().unwrap().is_err());
    drop(s);
    assert!(tx.commit().is_err());
    let mut tx = e
        .begin(TxOptions {
            database: Some("other".into()),
            mode: AccessMode::Read,
            ..TxOptions::default()
        })
        .unwrap();
    let mut s = tx
        .run("MATCH (n) RETURN count(n)", BTreeMap::new())
        .unwrap();
    assert_eq!(s.next_row().unwrap().unwrap(), vec![Value::Int(0)]);
    let err = e
        .begin(TxOptions {
            database: Some("nope".into()),
            ..TxOptions::default()
        })
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::DatabaseNotFound);
}

#[test]
fn limits_are_enforced() {
    let mut config = EngineConfig::default();
    config.limits.max_rows = 1000;
    config.limits.max_query_length = 100;
    let e = Engine::open_in_memory(config).unwrap();
    let err = run(&e, "UNWIND range(1, 5000) AS i RETURN i").unwrap_err();
    assert_eq!(err.code, ErrorCode::ResourceLimit);
    let long = format!("RETURN '{}'", "x".repeat(200));
    assert_eq!(run(&e, &long).unwrap_err().code, ErrorCode::ResourceLimit);

    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = 1_000_000;
    let e = Engine::open_in_memory(config).unwrap();
    let err = run(
        &e,
        // Streamed rows are not held; the sort holds them all.
        "UNWIND range(1, 100) AS i RETURN i, [x IN range(1, 1000) | 'some text'] AS l ORDER BY i",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimit);

    let mut config = EngineConfig::default();
    config.limits.query_timeout = Some(std::time::Duration::from_millis(200));
    let e = Engine::open_in_memory(config).unwrap();
    run(&e, "UNWIND range(1, 300) AS i CREATE (:P {i: i})").unwrap();
    let err = run(&e, "MATCH (a:P), (b:P), (c:P) RETURN count(*)").unwrap_err();
    assert_eq!(err.code, ErrorCode::TransactionTimedOut);
    // The timed-out transaction left nothing behind; a cancelled write rolls back.
    let err = run(&e, "MATCH (a:P), (b:P), (c:P) CREATE (:Q) RETURN count(*)").unwrap_err();
    assert_eq!(err.code, ErrorCode::TransactionTimedOut);
    let rows = run(&e, "MATCH (q:Q) RETURN count(q)").unwrap();
    assert_eq!(rows[0][0], Value::Int(0));
}

/// A WHERE's parts that are the same for every row (`range(...)`, `date('...')`,
/// `toInteger($p)`) are evaluated once per query and kept: the rows are those of the same
/// query with the values written out, and an error they give still comes only when a row is
/// filtered (none for no rows), as before.
#[test]
fn row_independent_where_parts_give_the_same_rows() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(0, 199) AS i CREATE (:P {x: i, d: date('2020-01-01') + duration({days: i})})",
    )
    .unwrap();
    let params = BTreeMap::from([("p".to_string(), Value::from("150"))]);
    for (q, same) in [
        (
            "MATCH (n:P) WHERE n.x + 0 IN range(10, 14) RETURN n.x",
            "MATCH (n:P) WHERE n.x + 0 IN [10, 11, 12, 13, 14] RETURN n.x",
        ),
        (
            "MATCH (n:P) WHERE n.d >= date('2020-07-10') RETURN count(*)",
            "MATCH (n:P) WHERE n.x >= 191 RETURN count(*)",
        ),
        (
            "MATCH (n:P) WHERE n.x > toInteger($p) + 40 RETURN n.x",
            "MATCH (n:P) WHERE n.x > 190 RETURN n.x",
        ),
        (
            "MATCH (n:P) WITH n WHERE n.x * 2 = size(range(1, 20)) RETURN n.x",
            "MATCH (n:P) WHERE n.x = 10 RETURN n.x",
        ),
    ] {
        let got = run_with(&e, q, params.clone()).unwrap().1;
        let want = run_with(&e, same, params.clone()).unwrap().1;
        assert!(!want.is_empty(), "{same}");
        assert_eq!(got, want, "{q}");
    }
    // An error of a constant part: none without rows, the error with them.
    assert_eq!(
        run(&e, "MATCH (n:Nobody) WHERE n.x > 1 / 0 RETURN n").unwrap(),
        Vec::<Vec<Value>>::new()
    );
    let err = run(&e, "MATCH (n:P) WHERE n.x > 1 / 0 RETURN n").unwrap_err();
    assert_eq!(err.code, ErrorCode::ArithmeticError);
    // rand() is drawn for every row (it is not kept): about half of 200 rows pass.
    let n = run(&e, "MATCH (n:P) WHERE rand() < 0.5 RETURN count(*)").unwrap();
    let Value::Int(n) = n[0][0] else {
        panic!("{n:?}")
    };
    assert!((40..160).contains(&n), "{n}");
}
