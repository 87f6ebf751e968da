#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Aggregation over a plain label scan takes the scan's rows a page at a time
//! (`Node::scan_page`): straight into the accumulators when every aggregate reads the node or
//! the property read with it, through the frame otherwise. Its answers must be the ones of
//! the row-at-a-time path over pages of every size, with input rows, OPTIONAL, other labels,
//! nulls, mixed number types, DISTINCT, PROFILE's row counts and the memory budget.

use std::collections::BTreeMap;

use graphward_core::engine::{EngineConfig, PlanDescription};
use graphward_core::{ErrorCode, Value};
use graphward_cypher::Engine;

mod common;
use common::run;

/// 3,000 `:P` nodes (more than the scan's doubling pages up to 1,024 hold): `i` = 0..2999
/// except every 7th node, which has none; every 5th node a float `f`; every 3rd node also `:Q`.
fn loaded() -> Engine {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(0, 2999) AS x \
         CREATE (n:P {x: x}) \
         SET n.i = CASE WHEN x % 7 = 0 THEN null ELSE x END, \
             n.f = CASE WHEN x % 5 = 0 THEN x / 2.0 ELSE null END \
         WITH n, x WHERE x % 3 = 0 SET n:Q",
    )
    .unwrap();
    e
}

fn ints(xs: impl Iterator<Item = i64>) -> Vec<i64> {
    xs.collect()
}

#[test]
fn direct_aggregates_equal_the_row_path() {
    let e = loaded();
    let is = ints((0..3000).filter(|x| x % 7 != 0));
    let sum: i64 = is.iter().sum();
    let q = "MATCH (n:P) RETURN count(*), count(n), count(n.i), sum(n.i), min(n.i), max(n.i), \
             avg(n.i), size(collect(n.i)), count(DISTINCT n.i)";
    let want = vec![
        Value::Int(3000),
        Value::Int(3000),
        Value::Int(is.len() as i64),
        Value::Int(sum),
        Value::Int(1),
        Value::Int(2999),
        Value::Float(sum as f64 / is.len() as f64),
        Value::Int(is.len() as i64),
        Value::Int(is.len() as i64),
    ];
    assert_eq!(run(&e, q).unwrap(), vec![want.clone()]);
    // The same aggregates, made to take the row-at-a-time path by a WHERE that holds.
    let slow = q.replace("MATCH (n:P)", "MATCH (n:P) WHERE n.x >= 0");
    assert_eq!(run(&e, &slow).unwrap(), vec![want]);
}

#[test]
fn aggregates_of_another_property_or_expression_go_through_the_frame() {
    let e = loaded();
    let fs: Vec<f64> = (0..3000)
        .filter(|x| x % 5 == 0)
        .map(|x| x as f64 / 2.0)
        .collect();
    let is = ints((0..3000).filter(|x| x % 7 != 0));
    let rows = run(
        &e,
        "MATCH (n:P) RETURN sum(n.f), sum(n.i), sum(n.x * 2), count(DISTINCT n.x % 10)",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![vec![
            Value::Float(fs.iter().sum()),
            Value::Int(is.iter().sum()),
            Value::Int((0..3000i64).map(|x| x * 2).sum()),
            Value::Int(10),
        ]]
    );
    // Grouped: every row through the frame.
    let rows = run(
        &e,
        "MATCH (n:P) RETURN n.x % 3 AS k, count(*) AS c, sum(n.i) AS s ORDER BY k",
    )
    .unwrap();
    let want: Vec<Vec<Value>> = (0..3)
        .map(|k| {
            let of_k = (0..3000i64).filter(|x| x % 3 == k);
            vec![
                Value::Int(k),
                Value::Int(1000),
                Value::Int(of_k.filter(|x| x % 7 != 0).sum()),
            ]
        })
        .collect();
    assert_eq!(rows, want);
}

#[test]
fn each_input_row_scans_again() {
    let e = loaded();
    let sum: i64 = (0..3000i64).filter(|x| x % 7 != 0).sum();
    let n = (0..3000).filter(|x| x % 7 != 0).count() as i64;
    let rows = run(
        &e,
        "UNWIND [1, 2, 3] AS y MATCH (n:P) RETURN y, count(*), sum(n.i) ORDER BY y",
    )
    .unwrap();
    let want: Vec<Vec<Value>> = (1..=3)
        .map(|y| vec![Value::Int(y), Value::Int(3000), Value::Int(sum)])
        .collect();
    assert_eq!(rows, want);
    // An input variable inside the aggregate: the frame holds it for every paged row.
    let rows = run(
        &e,
        "UNWIND [1, 2] AS y MATCH (n:P) RETURN count(*), sum(n.i + y)",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![vec![Value::Int(6000), Value::Int(2 * sum + 3 * n)]]
    );
}

#[test]
fn optional_other_labels_and_empty_scans() {
    let e = loaded();
    let rows = run(
        &e,
        "OPTIONAL MATCH (n:Nope) RETURN count(n), count(*), sum(n.i)",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![vec![Value::Int(0), Value::Int(1), Value::Int(0)]]
    );
    let rows = run(&e, "OPTIONAL MATCH (n:P) RETURN count(n), sum(n.x)").unwrap();
    assert_eq!(
        rows,
        vec![vec![Value::Int(3000), Value::Int((0..3000i64).sum())]]
    );
    // A second label is checked per row (no page handed over).
    let rows = run(&e, "MATCH (n:P:Q) RETURN count(n), sum(n.x)").unwrap();
    assert_eq!(
        rows,
        vec![vec![
            Value::Int(1000),
            Value::Int((0..3000i64).filter(|x| x % 3 == 0).sum())
        ]]
    );
    let rows = run(&e, "MATCH (:P) RETURN count(*) + 1").unwrap();
    assert_eq!(rows, vec![vec![Value::Int(3001)]]);
    // A label written in the same transaction as the scan: read from its own writes.
    let rows = run(
        &e,
        "UNWIND range(1, 100) AS x CREATE (:Fresh {v: x}) \
         WITH count(*) AS made MATCH (n:Fresh) RETURN made, count(n), sum(n.v)",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![vec![Value::Int(100), Value::Int(100), Value::Int(5050)]]
    );
}

#[test]
fn profile_counts_every_paged_row() {
    let e = loaded();
    let mut tx = common::implicit_tx(&e, graphward_core::engine::AccessMode::Read).unwrap();
    let mut s = tx
        .run(
            "PROFILE MATCH (n:P) RETURN count(n), sum(n.i)",
            BTreeMap::new(),
        )
        .unwrap();
    assert!(s.next_row().unwrap().is_ok());
    assert!(s.next_row().is_none());
    let profile = s.summary().profile.unwrap();
    let mut p: &PlanDescription = &profile;
    while p.operator_type != "NodeByLabelScan" {
        p = &p.children[0];
    }
    assert_eq!(p.rows, 3000);
    // Every node read once, with its property, and no more (the page reads count as the
    // scan's).
    fn total(p: &PlanDescription) -> u64 {
        p.db_hits + p.children.iter().map(total).sum::<u64>()
    }
    assert!((3000..3100).contains(&total(p)), "{p:?}");
    assert!((3000..3100).contains(&total(&profile)), "{profile:?}");
}

#[test]
fn collecting_a_paged_scan_is_charged_to_the_budget() {
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = 4 << 20;
    let e = Engine::open_in_memory(config).unwrap();
    run(&e, "UNWIND range(1, 4000) AS x CREATE (:S {s: x + '' + x})").unwrap();
    run(
        &e,
        "MATCH (n:S) SET n.s = n.s + reduce(a = '', i IN range(1, 200) | a + 'xxxxx')",
    )
    .unwrap();
    // 4,000 strings of about 1 KB each kept by collect: past 4 MiB.
    let err = run(&e, "MATCH (n:S) RETURN size(collect(n.s))").unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimit, "{err:?}");
    assert_eq!(
        run(&e, "MATCH (n:S) RETURN count(n.s)").unwrap(),
        vec![vec![Value::Int(4000)]]
    );
}

/// Sorts and aggregations above a scan's WHERE, projections and filters take its pages
/// pushed through them (`Node::drain_page`); each operator still counts its rows.
#[test]
fn pages_pushed_through_where_projection_and_filter() {
    let e = loaded();
    let evens = || (0..3000i64).filter(|x| x % 2 == 0);
    let rows = run(
        &e,
        "MATCH (n:P) WHERE n.x % 2 = 0 RETURN n.x AS x ORDER BY -x LIMIT 5",
    )
    .unwrap();
    let want: Vec<Vec<Value>> = evens().rev().take(5).map(|x| vec![Value::Int(x)]).collect();
    assert_eq!(rows, want);
    // A full sort, with ties broken by input order (x % 10, then the scan's order).
    let rows = run(
        &e,
        "MATCH (n:P) WITH n.x AS x, n.x % 10 AS d WHERE d < 3 RETURN d, x ORDER BY d",
    )
    .unwrap();
    let mut want: Vec<(i64, i64)> = (0..3000i64)
        .map(|x| (x % 10, x))
        .filter(|p| p.0 < 3)
        .collect();
    want.sort_by_key(|p| p.0);
    let want: Vec<Vec<Value>> = want
        .into_iter()
        .map(|(d, x)| vec![Value::Int(d), Value::Int(x)])
        .collect();
    assert_eq!(rows, want);
    let rows = run(
        &e,
        "MATCH (n:P) WHERE n.i > 100 WITH n, n.x * 2 AS y WHERE y % 3 = 0 \
         RETURN count(*), sum(y), max(n.i)",
    )
    .unwrap();
    let ys: Vec<i64> = (0..3000i64)
        .filter(|x| x % 7 != 0 && *x > 100 && (x * 2) % 3 == 0)
        .map(|x| x * 2)
        .collect();
    assert_eq!(
        rows,
        vec![vec![
            Value::Int(ys.len() as i64),
            Value::Int(ys.iter().sum()),
            Value::Int(2997)
        ]]
    );
    // PROFILE: the scan counts the rows its WHERE passes, the projection every row it
    // made, the filter the ones it passed.
    let mut tx = common::implicit_tx(&e, graphward_core::engine::AccessMode::Read).unwrap();
    let mut s = tx
        .run(
            "PROFILE MATCH (n:P) WHERE n.x % 2 = 0 WITH n.x AS x WHERE x % 3 = 0 RETURN count(*)",
            BTreeMap::new(),
        )
        .unwrap();
    let r = s.next_row().unwrap().unwrap();
    assert_eq!(r, vec![Value::Int(500)]);
    assert!(s.next_row().is_none());
    let profile = s.summary().profile.unwrap();
    let mut seen = Vec::new();
    let mut p: &PlanDescription = &profile;
    loop {
        seen.push((p.operator_type.clone(), p.rows));
        match p.children.first() {
            Some(c) => p = c,
            None => break,
        }
    }
    let rows_of = |op: &str| seen.iter().find(|(o, _)| o == op).map(|(_, r)| *r);
    assert_eq!(rows_of("NodeByLabelScan"), Some(1500), "{seen:?}");
    assert_eq!(rows_of("Filter"), Some(500), "{seen:?}");
    assert_eq!(rows_of("EagerAggregation"), Some(1), "{seen:?}");
}

/// The operators of a plan from the top, first child each.
fn ops_and_rows(e: &Engine, q: &str) -> Vec<(String, u64)> {
    let mut tx = common::implicit_tx(e, graphward_core::engine::AccessMode::Read).unwrap();
    let mut s = tx.run(&format!("PROFILE {q}"), BTreeMap::new()).unwrap();
    while let Some(r) = s.next_row() {
        r.unwrap();
    }
    let profile = s.summary().profile.unwrap();
    let mut out = Vec::new();
    let mut p: &PlanDescription = &profile;
    loop {
        out.push((p.operator_type.clone(), p.rows));
        match p.children.first() {
            Some(c) => p = c,
            None => break,
        }
    }
    out
}

/// ORDER BY ... LIMIT of a projection chooses the top rows from its input and projects only
/// them; keys read columns through their items' expressions (renames and shadowing
/// included), and a projection the keys cannot be moved below keeps the sort above it.
#[test]
fn top_rows_are_chosen_before_the_projection() {
    let e = loaded();
    let q = "MATCH (n:P) RETURN n {.x, .f} AS m ORDER BY n.x DESC LIMIT 3";
    let ops = ops_and_rows(&e, q);
    let names: Vec<&str> = ops.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(
        names,
        [
            "ProduceResults",
            "Limit",
            "Projection",
            "Top",
            "NodeByLabelScan"
        ],
        "{ops:?}"
    );
    // Three maps built, not 3,000.
    assert_eq!(ops[2].1, 3, "{ops:?}");
    assert_eq!(ops[4].1, 3000, "{ops:?}");
    let rows = run(&e, q).unwrap();
    let xs: Vec<Value> = rows
        .iter()
        .map(|r| match &r[0] {
            Value::Map(m) => m.get("x").cloned().unwrap(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        xs,
        vec![Value::Int(2999), Value::Int(2998), Value::Int(2997)]
    );
    let int = Value::Int;
    for (q, want) in [
        // An alias that shadows the variable its item reads.
        (
            "MATCH (n:P) RETURN n.x AS n ORDER BY n DESC LIMIT 2",
            vec![vec![int(2999)], vec![int(2998)]],
        ),
        (
            "MATCH (n:P) RETURN n.x % 10 AS d, n.x AS x ORDER BY d DESC, x SKIP 1 LIMIT 2",
            vec![vec![int(9), int(19)], vec![int(9), int(29)]],
        ),
        (
            "MATCH (n:P) WITH n AS m ORDER BY m.x LIMIT 2 RETURN m.x",
            vec![vec![int(0)], vec![int(1)]],
        ),
        (
            "MATCH (n:P) WITH n.x * 2 AS y ORDER BY -y LIMIT 2 WHERE y % 4 = 0 RETURN y",
            vec![vec![int(5996)]],
        ),
        // The keys read `x` through `toString(n.x)`: string order.
        (
            "MATCH (n:P) RETURN toString(n.x) AS x ORDER BY x DESC LIMIT 2",
            vec![
                vec![Value::String("999".into())],
                vec![Value::String("998".into())],
            ],
        ),
    ] {
        assert_eq!(run(&e, q).unwrap(), want, "{q}");
    }
    // Random values: the sort stays above the projection, and orders what is returned.
    let q = "MATCH (n:P) RETURN rand() AS r ORDER BY r LIMIT 5";
    let names: Vec<String> = ops_and_rows(&e, q).into_iter().map(|(o, _)| o).collect();
    let top = names.iter().position(|o| o == "Top").unwrap();
    let proj = names.iter().position(|o| o == "Projection").unwrap();
    assert!(top < proj, "{names:?}");
    let rs: Vec<f64> = run(&e, q)
        .unwrap()
        .into_iter()
        .map(|r| match r[0] {
            Value::Float(f) => f,
            ref other => panic!("{other:?}"),
        })
        .collect();
    assert!(rs.windows(2).all(|w| w[0] <= w[1]), "{rs:?}");
    // A DISTINCT projection is made before its sort, as before.
    let names: Vec<String> = ops_and_rows(
        &e,
        "MATCH (n:P) RETURN DISTINCT n.x % 3 AS k ORDER BY k LIMIT 2",
    )
    .into_iter()
    .map(|(o, _)| o)
    .collect();
    let top = names.iter().position(|o| o == "Top").unwrap();
    let proj = names.iter().position(|o| o == "Projection").unwrap();
    assert!(top < proj, "{names:?}");
}

/// A seek of a node pattern with labels at most writes the node's slot itself, as a scan
/// does (no row built for the matcher): its other labels, the WHERE, OPTIONAL and the
/// transaction's own writes still decide.
#[test]
fn a_seek_of_one_node_writes_its_slot() {
    use graphward_core::engine::{AccessMode, QueryEngine, TxOptions};
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(1, 3000) AS i CREATE (n:N {id: i}) WITH n, i WHERE i % 3 = 0 SET n:M",
    )
    .unwrap();
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    let int = Value::Int;
    let m_over = |x: i64| (x + 1..=3000).filter(|i| i % 3 == 0).count() as i64;
    for (q, want) in [
        (
            "MATCH (n:N) WHERE n.id > 2900 RETURN count(*)",
            vec![vec![int(100)]],
        ),
        (
            "MATCH (n:N:M) WHERE n.id > 2900 RETURN count(*)",
            vec![vec![int(m_over(2900))]],
        ),
        (
            "MATCH (n:N) WHERE n.id IN [5, 6, 7, 5000] AND n.id <> 6 RETURN n.id ORDER BY n.id",
            vec![vec![int(5)], vec![int(7)]],
        ),
        (
            "MATCH (n:M:N) WHERE n.id IN [5, 6, 7] RETURN n.id",
            vec![vec![int(6)]],
        ),
        (
            "OPTIONAL MATCH (n:N) WHERE n.id > 5000 RETURN count(n), count(*)",
            vec![vec![int(0), int(1)]],
        ),
        (
            "UNWIND [2995, 2998] AS v MATCH (n:N) WHERE n.id > v RETURN v, count(n) ORDER BY v",
            vec![vec![int(2995), int(5)], vec![int(2998), int(2)]],
        ),
    ] {
        assert_eq!(run(&e, q).unwrap(), want, "{q}");
        // Through the index, not a scan.
        let names = ops_and_rows(&e, q);
        assert!(
            names.iter().any(|(o, _)| o.contains("IndexSeek")),
            "{q}: {names:?}"
        );
    }
    // The transaction's own writes: a label removed and nodes deleted are not found.
    let mut tx = e
        .begin(TxOptions {
            mode: AccessMode::Write,
            ..TxOptions::default()
        })
        .unwrap();
    common::drain(
        tx.as_mut(),
        "MATCH (n:N) WHERE n.id > 2990 REMOVE n:N",
        BTreeMap::new(),
    )
    .unwrap();
    common::drain(
        tx.as_mut(),
        "MATCH (n:N) WHERE 2980 < n.id <= 2985 DETACH DELETE n",
        BTreeMap::new(),
    )
    .unwrap();
    let mut s = tx
        .run(
            "MATCH (n:N) WHERE n.id > 2970 RETURN count(*)",
            BTreeMap::new(),
        )
        .unwrap();
    assert_eq!(s.next_row().unwrap().unwrap(), vec![int(15)]);
    drop(s);
    tx.rollback().unwrap();
}
