#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A big label scan under an aggregation is read by two threads over the real storage
//! (`runtime/parallel.rs`): a label the node table is scanned for and a sparse one read
//! through its label chunks give the one-thread answer (the same aggregates made to take the
//! row-at-a-time path by a WHERE that holds), and a transaction that has written reads its
//! own writes (it is not a snapshot threads may share).

use graphward_core::engine::{AccessMode, EngineConfig, Params, QueryEngine, TxOptions};
use graphward_core::Value;
use graphward_cypher::Engine;

mod common;
use common::run;

const N: i64 = 100_000;

/// `N` `:P` nodes with `x` = 0..N; `i` = x except every 7th node, which has none; every 3rd
/// node also `:Q`, and every 3,000th `:R` (a label too sparse to be read in parallel).
fn loaded() -> Engine {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        &format!(
            "UNWIND range(0, {}) AS x \
             CREATE (n:P {{x: x}}) \
             SET n.i = CASE WHEN x % 7 = 0 THEN null ELSE x END \
             WITH n, x WHERE x % 3 = 0 SET n:Q \
             WITH n, x WHERE x % 3000 = 0 SET n:R",
            N - 1
        ),
    )
    .unwrap();
    e
}

fn aggregates(e: &Engine, label: &str, prop: &str) -> Vec<Vec<Value>> {
    let q = format!(
        "MATCH (n:{label}) RETURN count(*), count(n), count(n.{prop}), sum(n.{prop}), \
         min(n.{prop}), max(n.{prop}), avg(n.{prop})"
    );
    let rows = run(e, &q).unwrap();
    // The same on the row-at-a-time path.
    let slow = q.replace(
        &format!("MATCH (n:{label})"),
        &format!("MATCH (n:{label}) WHERE n.x >= 0"),
    );
    assert_eq!(run(e, &slow).unwrap(), rows, "{q}");
    rows
}

#[test]
fn parallel_scans_give_the_one_thread_answer() {
    let e = loaded();
    let all: Vec<i64> = (0..N).collect();
    for (label, prop, keep) in [
        ("P", "i", (|x: &i64| x % 7 != 0) as fn(&i64) -> bool),
        ("P", "x", |_| true),
        ("Q", "x", |x| x % 3 == 0),
        ("Q", "i", |x| x % 3 == 0 && x % 7 != 0),
        ("R", "x", |x| x % 3000 == 0),
    ] {
        let nodes = match label {
            "P" => N,
            "Q" => (N + 2) / 3,
            _ => (N + 2999) / 3000,
        };
        let vals: Vec<i64> = all.iter().copied().filter(keep).collect();
        let sum: i64 = vals.iter().sum();
        let want = vec![vec![
            Value::Int(nodes),
            Value::Int(nodes),
            Value::Int(vals.len() as i64),
            Value::Int(sum),
            Value::Int(*vals.first().unwrap()),
            Value::Int(*vals.last().unwrap()),
            Value::Float(sum as f64 / vals.len() as f64),
        ]];
        assert_eq!(aggregates(&e, label, prop), want, "{label}.{prop}");
    }
    // A label nothing carries, and every node.
    assert_eq!(
        run(&e, "MATCH (n:Nothing) RETURN count(n.x), sum(n.x)").unwrap(),
        vec![vec![Value::Int(0), Value::Int(0)]]
    );
    assert_eq!(
        run(&e, "MATCH (n) RETURN count(n.x), sum(n.x)").unwrap(),
        vec![vec![Value::Int(N), Value::Int(N * (N - 1) / 2)]]
    );
}

#[test]
fn a_transaction_that_wrote_reads_its_own_writes() {
    let e = loaded();
    let mut tx = e
        .begin(TxOptions {
            mode: AccessMode::Write,
            ..TxOptions::default()
        })
        .unwrap();
    let mut r = tx
        .run("CREATE (:P {x: -1, i: 1000000})", Params::new())
        .unwrap();
    while r.next_row().is_some() {}
    drop(r);
    let mut r = tx
        .run("MATCH (n:P) RETURN count(n), sum(n.x)", Params::new())
        .unwrap();
    let row = r.next_row().unwrap().unwrap();
    assert_eq!(
        row,
        vec![Value::Int(N + 1), Value::Int(N * (N - 1) / 2 - 1)]
    );
    drop(r);
    tx.rollback().unwrap();
    // Rolled back: the snapshot read in parallel does not have it.
    assert_eq!(
        run(&e, "MATCH (n:P) RETURN count(n), sum(n.x)").unwrap(),
        vec![vec![Value::Int(N), Value::Int(N * (N - 1) / 2)]]
    );
}
