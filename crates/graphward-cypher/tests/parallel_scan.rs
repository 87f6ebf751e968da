#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A big label scan under an aggregation or a top-k sort is read by two threads over the
//! real storage (`runtime/parallel.rs`): a label the node table is scanned for and a sparse
//! one read through its label chunks give the one-thread answer (PROFILE reads on one
//! thread: its view counts reads), with grouping keys, WHERE, collect()'s order, ties of
//! ORDER BY, SKIP; a transaction that has written reads its own writes (it is not a
//! snapshot threads may share); the memory budget holds across both threads.

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
    let rows = same_on_one_thread(e, &q);
    // The same through the frame (a WHERE that holds).
    let slow = q.replace(
        &format!("MATCH (n:{label})"),
        &format!("MATCH (n:{label}) WHERE n.x >= 0"),
    );
    assert_eq!(same_on_one_thread(e, &slow), rows, "{q}");
    rows
}

/// The rows of `q`, checked equal to PROFILE's (read on one thread).
fn same_on_one_thread(e: &Engine, q: &str) -> Vec<Vec<Value>> {
    let rows = run(e, q).unwrap();
    assert_eq!(run(e, &format!("PROFILE {q}")).unwrap(), rows, "{q}");
    rows
}

fn int(i: i64) -> Value {
    Value::Int(i)
}

#[test]
fn grouped_collected_and_sorted_rows_are_the_one_thread_rows() {
    let e = loaded();
    // Grouping keys; the groups in the order first seen; collect() in the scan's order.
    let rows = same_on_one_thread(
        &e,
        "MATCH (n:P) RETURN n.x % 4 AS k, count(*), sum(n.i), min(n.i), \
         collect(n.x)[0..3] AS first, size(collect(n.i)) AS c",
    );
    let keys: Vec<Value> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(keys, vec![int(0), int(1), int(2), int(3)]);
    assert_eq!(
        rows[1][4],
        Value::List(vec![int(1), int(5), int(9)]),
        "{rows:?}"
    );
    // A WHERE, a sparse label, an aggregate over the node itself.
    let rows = same_on_one_thread(
        &e,
        "MATCH (n:Q) WHERE n.x % 1000 < 3 RETURN n.x % 2 AS odd, count(n), collect(n.x)",
    );
    assert_eq!(rows.len(), 2);
    let evens: Vec<Value> = (0..N)
        .filter(|x| x % 3 == 0 && x % 1000 < 3 && x % 2 == 0)
        .map(int)
        .collect();
    assert_eq!(rows[0][2], Value::List(evens));
    assert_eq!(
        same_on_one_thread(&e, "MATCH (n:P) RETURN collect(n.x) AS all")[0][0],
        Value::List((0..N).map(int).collect())
    );
    // The top k: ties in the scan's order, nulls first when descending, SKIP.
    for q in [
        "MATCH (n:P) RETURN n.x ORDER BY n.x % 10 LIMIT 25",
        "MATCH (n:P) RETURN n.x ORDER BY n.x % 10 DESC LIMIT 25",
        "MATCH (n:P) RETURN n.x, n.i ORDER BY n.i DESC LIMIT 20",
        "MATCH (n:P) RETURN n.x ORDER BY -n.x SKIP 10 LIMIT 5",
        "MATCH (n:Q) WHERE n.x % 2 = 1 RETURN n ORDER BY n.x DESC LIMIT 3",
    ] {
        same_on_one_thread(&e, q);
    }
    // Through projections and filters between the scan and the aggregation or the sort.
    for q in [
        "MATCH (n:P) WITH n, n.x % 5 AS m WHERE m < 2 RETURN m, count(*), collect(n.x)[0..3]",
        "MATCH (n:P) WITH n.i AS i WHERE i IS NOT NULL RETURN count(i), sum(i), max(i)",
        "MATCH (n:Q) WITH n.x AS x WHERE x % 2 = 0 RETURN x ORDER BY x % 7 DESC, x LIMIT 5",
        // DISTINCT: a later part's value counts, or is kept, only when not seen before.
        "MATCH (n:P) RETURN count(DISTINCT n.x % 1000), collect(DISTINCT n.x % 7), \
         min(DISTINCT n.i), max(DISTINCT n.i % 13), percentileDisc(DISTINCT n.x % 50, 0.3)",
        "MATCH (n:Q) RETURN n.x % 3 AS k, count(DISTINCT n.i % 10), collect(DISTINCT n.x % 4)",
        // (sum and avg of DISTINCT stay on one thread)
        "MATCH (n:P) RETURN sum(DISTINCT n.x % 100), avg(DISTINCT n.i % 10)",
        // A whole sort: each thread's rows with their keys, sorted once merged.
        "MATCH (n:P) RETURN n.x, n.i ORDER BY n.i DESC, n.x % 3",
    ] {
        same_on_one_thread(&e, q);
    }
    let rows = run(&e, "MATCH (n:P) RETURN n.x ORDER BY n.x % 10 LIMIT 3").unwrap();
    assert_eq!(rows, vec![vec![int(0)], vec![int(10)], vec![int(20)]]);
    let rows = run(&e, "MATCH (n:P) RETURN n.x ORDER BY -n.x SKIP 10 LIMIT 2").unwrap();
    assert_eq!(rows, vec![vec![int(N - 11)], vec![int(N - 12)]]);
}

/// A filter few nodes (or none) pass, under an aggregation or a sort: the scan is opened
/// without pulling a first row (which would read on one thread up to the first node that
/// passes), then read by both threads; the answer is the one-thread answer, an OPTIONAL
/// MATCH that matches nothing still gives its one null row.
#[test]
fn a_filter_few_nodes_pass_gives_the_one_thread_answer() {
    let e = loaded();
    let rows = same_on_one_thread(
        &e,
        &format!(
            "MATCH (n:P) WHERE n.x + 0 >= {} RETURN count(*), sum(n.x)",
            N - 3
        ),
    );
    assert_eq!(rows, vec![vec![int(3), int(3 * N - 6)]]);
    let rows = same_on_one_thread(
        &e,
        "MATCH (n:P) WHERE n.x + 0 < 0 RETURN count(*), max(n.x)",
    );
    assert_eq!(rows, vec![vec![int(0), Value::Null]]);
    let rows = same_on_one_thread(
        &e,
        "OPTIONAL MATCH (n:P) WHERE n.x + 0 < 0 RETURN count(*), count(n)",
    );
    assert_eq!(rows, vec![vec![int(1), int(0)]]);
    for q in [
        format!(
            "MATCH (n:P) WITH n WHERE n.x * 2 > {} RETURN n.x % 2 AS k, count(*)",
            2 * N - 9
        ),
        format!(
            "MATCH (n:Q) WHERE n.x + 1 > {} RETURN n.x ORDER BY n.x DESC LIMIT 2",
            N - 10
        ),
        format!("MATCH (n:P) WHERE n.i + 0 > {} RETURN collect(n.x)", N - 9),
        "MATCH (n:R) WHERE n.x + 0 > 90000 RETURN count(*)".to_string(),
    ] {
        same_on_one_thread(&e, &q);
    }
}

#[test]
fn the_memory_budget_holds_across_both_threads() {
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = 4 << 20;
    let e = Engine::open_in_memory(config).unwrap();
    run(
        &e,
        &format!("UNWIND range(0, {}) AS x CREATE (:P {{x: x}})", N - 1),
    )
    .unwrap();
    for q in [
        "MATCH (n:P) RETURN n.x AS k, count(*)",
        "MATCH (n:P) RETURN collect(n.x + 0.5)",
        "MATCH (n:P) RETURN n.x ORDER BY n.x LIMIT 100000",
        "MATCH (n:P) RETURN n.x ORDER BY n.x DESC",
    ] {
        let err = run(&e, q).unwrap_err();
        assert_eq!(
            err.code,
            graphward_core::ErrorCode::MemoryLimit,
            "{q}: {err:?}"
        );
    }
    // Nothing is left charged: a small query runs.
    assert_eq!(
        run(&e, "MATCH (n:P) RETURN n.x % 2 AS k, count(*)")
            .unwrap()
            .len(),
        2
    );
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

/// Aggregates of a property a parallel scan takes as each page's totals when its values are
/// integers (no row made, `GraphRead::node_property_stats`) give what feeding every row
/// gives: with floats, a string (the page read row by row then: the same type error), a
/// property no node has, sums that overflow, negative values for min and max.
#[test]
fn page_totals_give_the_rows_answer() {
    let e = loaded();
    run(
        &e,
        "MATCH (n:P) WHERE n.x % 10000 = 5 SET n.f = n.x + 0.5, n.m = n.x \
         WITH n WHERE n.x = 50005 SET n.s = 'text'",
    )
    .unwrap();
    run(
        &e,
        "MATCH (n:P) SET n.neg = -n.x, n.big = 4611686018427387904 + n.x",
    )
    .unwrap();
    let q = |prop: &str| {
        format!(
            "MATCH (n:P) RETURN count(*), count(n.{prop}), sum(n.{prop}), min(n.{prop}), \
             max(n.{prop}), avg(n.{prop})"
        )
    };
    // Mostly integers, a few floats: the pages with a float are read row by row.
    let rows = same_on_one_thread(&e, &q("f"));
    assert_eq!(rows[0][1], int(10));
    let rows = same_on_one_thread(&e, &q("neg"));
    assert_eq!(rows[0][3], int(-(N - 1)));
    assert_eq!(rows[0][4], int(0));
    let rows = same_on_one_thread(&e, &q("nokey"));
    assert_eq!(
        rows,
        vec![vec![
            int(N),
            int(0),
            int(0),
            Value::Null,
            Value::Null,
            Value::Null
        ]]
    );
    // Mixed with the integers of `m` on some pages: floats only where set.
    let rows = same_on_one_thread(
        &e,
        "MATCH (n:P) RETURN count(n.m), sum(n.m), sum(n.x), min(n.m)",
    );
    assert_eq!(rows[0][0], int(10));
    // A sum that overflows: floats then, added in another order than one thread adds them
    // (equal to 1e-12 of each other), the rest the same.
    let one = run(&e, &format!("PROFILE {}", q("big"))).unwrap();
    let two = run(&e, &q("big")).unwrap();
    for (a, b) in one[0].iter().zip(&two[0]) {
        match (a, b) {
            (Value::Float(a), Value::Float(b)) => {
                assert!((a - b).abs() <= a.abs() * 1e-12, "{a} {b}")
            }
            _ => assert_eq!(a, b),
        }
    }
    assert!(matches!(two[0][2], Value::Float(_)), "{two:?}");
    // A string among the values: sum's type error, from the page read row by row.
    let err = run(&e, "MATCH (n:P) RETURN sum(n.s)").unwrap_err();
    let one = run(&e, "PROFILE MATCH (n:P) RETURN sum(n.s)").unwrap_err();
    assert_eq!(err.code, one.code, "{err:?}");
    // min and max of mixed types follow the rows (a string beside integers).
    same_on_one_thread(
        &e,
        "MATCH (n:P) RETURN min(coalesce(n.s, n.x)), max(n.s), count(n.s)",
    );
}
