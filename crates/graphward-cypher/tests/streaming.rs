#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Results pulled from the plan one row at a time: LIMIT stops its input, a runtime error
//! comes after the rows before it and fails the transaction, the storage transaction comes
//! back to the transaction when the result ends, EXPLAIN/PROFILE describe the plan.

use std::collections::BTreeMap;

use graphward_core::engine::{AccessMode, EngineConfig, QueryEngine, TxOptions};
use graphward_core::{ErrorCode, Value};
use graphward_cypher::Engine;

mod common;

fn engine() -> Engine {
    Engine::open_in_memory(EngineConfig::default()).unwrap()
}

fn explicit(e: &Engine) -> Box<dyn graphward_core::engine::Transaction> {
    e.begin(TxOptions {
        mode: AccessMode::Write,
        ..TxOptions::default()
    })
    .unwrap()
}

#[test]
fn rows_are_pulled_lazily_and_limit_stops_upstream() {
    let e = engine();
    let mut tx = explicit(&e);
    // 1e12 rows: only a lazy plan can hand out the first ones.
    let mut s = tx
        .run(
            "UNWIND range(1, 1000000000000) AS i RETURN i",
            BTreeMap::new(),
        )
        .unwrap();
    for want in 1..=3 {
        assert_eq!(s.next_row().unwrap().unwrap(), vec![Value::Int(want)]);
    }
    drop(s);
    let mut s = tx
        .run(
            "UNWIND range(1, 1000000000000) AS i WITH i LIMIT 2 RETURN i",
            BTreeMap::new(),
        )
        .unwrap();
    let mut rows = Vec::new();
    while let Some(r) = s.next_row() {
        rows.push(r.unwrap());
    }
    assert_eq!(rows, vec![vec![Value::Int(1)], vec![Value::Int(2)]]);
    drop(s);
    // The storage transaction came back: the transaction writes and commits.
    tx.run("CREATE (:S)", BTreeMap::new()).unwrap();
    tx.commit().unwrap();
}

#[test]
fn an_error_comes_after_the_rows_before_it_and_fails_the_transaction() {
    let e = engine();
    let mut tx = explicit(&e);
    let mut s = tx
        .run(
            "UNWIND [1, 2, 0, 4] AS x RETURN 10 / x AS y",
            BTreeMap::new(),
        )
        .unwrap();
    assert_eq!(s.next_row().unwrap().unwrap(), vec![Value::Int(10)]);
    assert_eq!(s.next_row().unwrap().unwrap(), vec![Value::Int(5)]);
    let err = s.next_row().unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::ArithmeticError);
    assert!(s.next_row().is_none());
    drop(s);
    let again = tx.run("RETURN 1", BTreeMap::new()).err().unwrap();
    assert_eq!(again.code, ErrorCode::TransactionInvalid);
}

#[test]
fn top_k_and_sort_match_the_materialized_order() {
    let e = engine();
    let mut tx = explicit(&e);
    let q = "UNWIND range(1, 5000) AS i RETURN i % 10 AS k, i ORDER BY k DESC, i SKIP 1 LIMIT 3";
    let mut s = tx.run(q, BTreeMap::new()).unwrap();
    let mut rows = Vec::new();
    while let Some(r) = s.next_row() {
        rows.push(r.unwrap());
    }
    let int = Value::Int;
    assert_eq!(
        rows,
        vec![
            vec![int(9), int(19)],
            vec![int(9), int(29)],
            vec![int(9), int(39)]
        ]
    );
}

#[test]
fn explain_and_profile_describe_the_plan() {
    let e = engine();
    let mut tx = explicit(&e);
    drop(
        tx.run(
            "UNWIND range(1, 10) AS i CREATE (:P {i: i})",
            BTreeMap::new(),
        )
        .unwrap(),
    );
    let s = tx
        .run(
            "EXPLAIN MATCH (n:P) WHERE n.i > 2 RETURN n.i AS i LIMIT 3",
            BTreeMap::new(),
        )
        .unwrap();
    let plan = s.summary().plan.unwrap();
    assert_eq!(plan.operator_type, "ProduceResults");
    assert_eq!(plan.children[0].operator_type, "Limit");
    drop(s);
    let mut s = tx
        .run(
            "PROFILE MATCH (n:P) WHERE n.i > 2 RETURN n.i AS i LIMIT 3",
            BTreeMap::new(),
        )
        .unwrap();
    let mut n = 0;
    while let Some(r) = s.next_row() {
        r.unwrap();
        n += 1;
    }
    assert_eq!(n, 3);
    let profile = s.summary().profile.unwrap();
    assert_eq!(profile.rows, 3);
    let mut p: &graphward_core::engine::PlanDescription = &profile;
    while p.operator_type != "NodeByLabelScan" {
        p = &p.children[0];
    }
    assert_eq!(p.rows, 3);
    assert!(p.db_hits > 0);
}

#[test]
fn profile_counts_lazy_scans_and_property_reads() {
    let e = engine();
    let mut tx = explicit(&e);
    tx.run(
        "UNWIND range(1, 50) AS i CREATE (:Q {i: i})",
        BTreeMap::new(),
    )
    .unwrap();
    let q = "MATCH (n:Q) RETURN count(n) AS c, sum(n.i) AS s";
    let mut s = tx.run(q, BTreeMap::new()).unwrap();
    let plain = s.next_row().unwrap().unwrap();
    drop(s);
    let mut s = tx.run(&format!("PROFILE {q}"), BTreeMap::new()).unwrap();
    let profiled = s.next_row().unwrap().unwrap();
    assert!(s.next_row().is_none());
    assert_eq!(plain, profiled);
    assert_eq!(plain, vec![Value::Int(50), Value::Int(1275)]);
    let profile = s.summary().profile.unwrap();
    fn total(p: &graphward_core::engine::PlanDescription) -> u64 {
        p.db_hits + p.children.iter().map(total).sum::<u64>()
    }
    let mut p: &graphward_core::engine::PlanDescription = &profile;
    while p.operator_type != "NodeByLabelScan" {
        p = &p.children[0];
    }
    assert_eq!(p.rows, 50);
    // One per scanned node: `n.i` (an aggregate's argument) is read along with the scan,
    // never again per node.
    assert!((50..100).contains(&total(&profile)), "{}", total(&profile));
}

/// A scan is read from the storage a page at a time: LIMIT 1 after it reads a handful of
/// records (PROFILE's storage hits), however many nodes the label has.
#[test]
fn limit_after_a_scan_reads_a_handful_of_records() {
    let e = engine();
    let mut tx = explicit(&e);
    tx.run(
        "UNWIND range(1, 5000) AS i CREATE (:L {i: i})",
        BTreeMap::new(),
    )
    .unwrap();
    fn total(p: &graphward_core::engine::PlanDescription) -> u64 {
        p.db_hits + p.children.iter().map(total).sum::<u64>()
    }
    for q in [
        "MATCH (n:L) WITH n LIMIT 1 RETURN 1",
        "MATCH (n:L) RETURN n.i LIMIT 1",
        "MATCH (n) RETURN n.i LIMIT 2",
    ] {
        let mut s = tx.run(&format!("PROFILE {q}"), BTreeMap::new()).unwrap();
        let mut n = 0;
        while let Some(r) = s.next_row() {
            r.unwrap();
            n += 1;
        }
        assert!(n >= 1, "{q}");
        let hits = total(&s.summary().profile.unwrap());
        assert!(hits < 40, "{q}: {hits} storage hits");
    }
}

/// Slot frames: an operator that makes several rows from one input row (scan, unwind) keeps
/// its input while operators after it redefine names (each definition has a slot of its own).
#[test]
fn frames_keep_inputs_across_redefinitions() {
    let e = engine();
    let mut tx = explicit(&e);
    tx.run(
        "CREATE (:F {v: 10}), (:F {v: 20}), (:G {w: 1})",
        BTreeMap::new(),
    )
    .unwrap();
    let rows = |tx: &mut Box<dyn graphward_core::engine::Transaction>, q: &str| {
        let mut s = tx.run(q, BTreeMap::new()).unwrap();
        let mut out = Vec::new();
        while let Some(r) = s.next_row() {
            out.push(r.unwrap());
        }
        out
    };
    let ints = |v: &[i64]| v.iter().map(|i| vec![Value::Int(*i)]).collect::<Vec<_>>();
    // Unwind yields two rows per node; the projection redefines `n` in between.
    assert_eq!(
        rows(
            &mut tx,
            "MATCH (n:F) UNWIND [1, 2] AS x WITH n.v + x AS n RETURN n ORDER BY n"
        ),
        ints(&[11, 12, 21, 22])
    );
    // A scan under an unwind, a variable passed on under its own name, WHERE after WITH.
    assert_eq!(
        rows(
            &mut tx,
            "UNWIND [1, 2] AS x MATCH (n:F) WITH x, n WHERE n.v > 10 RETURN x * 100 + n.v AS r ORDER BY r"
        ),
        ints(&[120, 220])
    );
    // A name out of scope after WITH is new again in the next MATCH (not bound).
    assert_eq!(
        rows(
            &mut tx,
            "MATCH (n:G) WITH n.w AS w MATCH (n:F) RETURN w, n.v AS v ORDER BY v"
        ),
        vec![
            vec![Value::Int(1), Value::Int(10)],
            vec![Value::Int(1), Value::Int(20)]
        ]
    );
    // Aggregation over frames with a grouping key, and OPTIONAL MATCH leaving its slot null.
    assert_eq!(
        rows(
            &mut tx,
            "UNWIND [1, 1, 2] AS k MATCH (n:F) RETURN k, count(n) AS c, sum(n.v) AS s ORDER BY k"
        ),
        vec![
            vec![Value::Int(1), Value::Int(4), Value::Int(60)],
            vec![Value::Int(2), Value::Int(2), Value::Int(30)]
        ]
    );
    assert_eq!(
        rows(
            &mut tx,
            "UNWIND [1] AS k OPTIONAL MATCH (n:Missing) RETURN k, n IS NULL AS none"
        ),
        vec![vec![Value::Int(1), Value::Bool(true)]]
    );
    // Top-k over values replaced in place.
    assert_eq!(
        rows(
            &mut tx,
            "UNWIND range(1, 100) AS i RETURN i ORDER BY i DESC LIMIT 3"
        ),
        ints(&[100, 99, 98])
    );
}

/// `RETURN DISTINCT ... ORDER BY ... LIMIT` streams: the distinct keys are kept (charged),
/// then a top-k; the input rows are not materialized first. Under a 1 MiB budget, 300,000
/// rows with 7 distinct keys pass (a table of them would not), and the order is right.
#[test]
fn distinct_with_order_by_streams_under_a_small_budget() {
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = 1 << 20;
    let e = Engine::open_in_memory(config).unwrap();
    let mut tx = explicit(&e);
    let q =
        "UNWIND range(1, 300000) AS i RETURN DISTINCT i % 7 AS k ORDER BY k DESC SKIP 1 LIMIT 3";
    let mut s = tx.run(q, BTreeMap::new()).unwrap();
    let mut rows = Vec::new();
    while let Some(r) = s.next_row() {
        rows.push(r.unwrap());
    }
    let int = Value::Int;
    assert_eq!(rows, vec![vec![int(5)], vec![int(4)], vec![int(3)]]);
    drop(s);
    let s = tx.run(&format!("EXPLAIN {q}"), BTreeMap::new()).unwrap();
    let mut ops = Vec::new();
    let mut p = *s.summary().plan.unwrap();
    loop {
        ops.push(p.operator_type.clone());
        match p.children.into_iter().next() {
            Some(c) => p = c,
            None => break,
        }
    }
    assert!(ops.iter().any(|o| o == "Distinct"), "{ops:?}");
    assert!(ops.iter().any(|o| o.starts_with("Top")), "{ops:?}");
    drop(s);
    // Many distinct keys still fail cleanly under the budget (they are charged).
    let err = common::drain(
        tx.as_mut(),
        "UNWIND range(1, 300000) AS i RETURN DISTINCT i AS k ORDER BY k LIMIT 1",
        BTreeMap::new(),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimit, "{err:?}");
}

/// A `CALL { }` subquery of reading clauses runs for each input row as it comes (`Apply`):
/// its rows are the runner's (the same query with a write before it, which only the runner
/// runs), a LIMIT stops the input, and a top-k over it holds k rows, not the input's table.
#[test]
fn a_reading_subquery_is_applied_row_by_row() {
    let e = engine();
    common::run(
        &e,
        "UNWIND range(1, 200) AS i CREATE (:P {id: i, g: i % 10})",
    )
    .unwrap();
    common::run(
        &e,
        "MATCH (a:P) WHERE a.id <= 40 MATCH (b:P) WHERE b.id = a.id * 2 OR b.id = a.id * 3 \
         CREATE (a)-[:K]->(b)",
    )
    .unwrap();
    let queries = [
        "MATCH (n:P) WHERE n.id <= 50 CALL (n) { MATCH (n)-[:K]->(m) RETURN count(m) AS c } \
         RETURN n.id, c ORDER BY n.id",
        "MATCH (n:P) WHERE n.id <= 20 OPTIONAL CALL (n) { MATCH (n)-[:K]->(m) WHERE m.id > 30 \
         RETURN m.id AS m } RETURN n.id, m ORDER BY n.id, m",
        "MATCH (n:P) WHERE n.id <= 10 CALL { WITH n MATCH (n)-->(m) RETURN m.id AS m \
         UNION MATCH (n)<--(m) RETURN m.id AS m } RETURN n.id, m ORDER BY n.id, m",
        "UNWIND [1, 2, 3] AS x CALL (x) { UNWIND range(1, x) AS y RETURN y } RETURN x, y \
         ORDER BY x, y",
        "MATCH (n:P) WHERE n.id <= 5 CALL () { RETURN 1 AS one } RETURN n.id, one ORDER BY n.id",
    ];
    for q in queries {
        let streamed = common::run(&e, q).unwrap();
        let ran = common::run(&e, &format!("CREATE (:Marker) WITH 1 AS ignored {q}")).unwrap();
        assert_eq!(streamed, ran, "{q}");
        assert!(!streamed.is_empty(), "{q}");
        let mut tx = explicit(&e);
        let s = tx.run(&format!("EXPLAIN {q}"), BTreeMap::new()).unwrap();
        let plan = format!("{:?}", s.summary().plan);
        assert!(plan.contains("\"Apply\""), "{plan}");
    }
    // A top-k over 30,000 subquery rows under a 1 MiB budget (the runner's table of the
    // input and the subquery's rows exceeds it), and a LIMIT that stops the input.
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = 1 << 20;
    let e = Engine::open_in_memory(config).unwrap();
    common::run(
        &e,
        "UNWIND range(1, 30000) AS i CREATE (:P {id: i, g: i % 10})",
    )
    .unwrap();
    common::run(
        &e,
        "MATCH (a:P {id: 1}), (b:P {id: 2}) CREATE (a)-[:K]->(b)",
    )
    .unwrap();
    let q = "MATCH (n:P) CALL (n) { RETURN n.id * 2 AS d, n.g AS g } \
             RETURN d, g ORDER BY d DESC LIMIT 2";
    let int = Value::Int;
    assert_eq!(
        common::run(&e, q).unwrap(),
        vec![vec![int(60000), int(0)], vec![int(59998), int(9)]]
    );
    let err = common::run(&e, &format!("CREATE (:Marker) WITH 1 AS ignored {q}")).unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimit, "{err:?}");
    assert_eq!(
        common::run(
            &e,
            "MATCH (n:P) CALL (n) { MATCH (n)-[:K]->(m) RETURN m } RETURN n.id, m.id LIMIT 1"
        )
        .unwrap()
        .len(),
        1
    );
}
