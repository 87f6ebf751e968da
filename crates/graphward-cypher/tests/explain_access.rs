#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! EXPLAIN and PROFILE name the access path the matcher really takes (one decision,
//! `matcher::access_path`, for both): a node index seek, a unique one, a relationship index
//! seek (directed or not), a label scan, every node; with and without the index.

use std::collections::BTreeMap;

use graphward_core::engine::{AccessMode, PlanDescription, QueryEngine};
use graphward_core::engine::{EngineConfig, Params};
use graphward_core::Value;
use graphward_cypher::Engine;

mod common;
use common::{implicit_tx, run};

fn plan_of(e: &Engine, query: &str, params: Params) -> PlanDescription {
    let mut tx = implicit_tx(e, AccessMode::Read).unwrap();
    let s = tx.run(query, params).unwrap();
    let plan = *s.summary().plan.unwrap();
    drop(s);
    tx.commit().unwrap();
    plan
}

/// The operators from the root down the first children, with the leaf's details.
fn shape(p: &PlanDescription) -> (Vec<String>, String) {
    let mut ops = vec![p.operator_type.clone()];
    let mut p = p;
    while let Some(c) = p.children.first() {
        ops.push(c.operator_type.clone());
        p = c;
    }
    let details = match p.arguments.get("Details") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    (ops, details)
}

fn y(v: i64) -> Params {
    let mut p = BTreeMap::new();
    p.insert("y".to_string(), Value::Int(v));
    p
}

fn graph() -> Engine {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(1, 20) AS i CREATE (:P {name: 'p' + i})-[:KNOWS {since: 2000 + i}]->(:Q {id: i})",
    )
    .unwrap();
    e
}

#[test]
fn node_patterns_name_the_scan_or_the_seek() {
    let e = graph();
    let q = "EXPLAIN MATCH (n:P {name: $y}) RETURN n";
    let (ops, details) = shape(&plan_of(&e, q, y(1)));
    assert_eq!(ops.last().unwrap(), "NodeByLabelScan", "{ops:?}");
    assert_eq!(details, "n:P");
    let (ops, details) = shape(&plan_of(&e, "EXPLAIN MATCH (n) RETURN n", y(1)));
    assert_eq!(ops.last().unwrap(), "AllNodesScan", "{ops:?}");
    assert_eq!(details, "n");

    run(&e, "CREATE INDEX FOR (n:P) ON (n.name)").unwrap();
    let (ops, details) = shape(&plan_of(&e, q, y(1)));
    assert_eq!(ops.last().unwrap(), "NodeIndexSeek", "{ops:?}");
    assert_eq!(details, "RANGE INDEX n:P(name) WHERE name = $y");

    run(&e, "CREATE CONSTRAINT FOR (q:Q) REQUIRE q.id IS UNIQUE").unwrap();
    let (ops, details) = shape(&plan_of(
        &e,
        "EXPLAIN MATCH (a)-[:KNOWS]->(b:Q {id: $y}) RETURN a",
        y(1),
    ));
    assert_eq!(ops[ops.len() - 2], "Expand(All)", "{ops:?}");
    assert_eq!(ops.last().unwrap(), "NodeUniqueIndexSeek", "{ops:?}");
    assert_eq!(details, "UNIQUE b:Q(id) WHERE id = $y");
}

#[test]
fn a_relationship_index_seek_is_named_with_its_index() {
    let e = graph();
    let queries = [
        "EXPLAIN MATCH (a)-[r:KNOWS {since: $y}]->(b) RETURN a",
        "EXPLAIN MATCH (a)-[r:KNOWS]->(b) WHERE r.since = $y RETURN a",
    ];
    for q in queries {
        let (ops, _) = shape(&plan_of(&e, q, y(2003)));
        assert_eq!(ops[ops.len() - 2], "Expand(All)", "{ops:?}");
        assert_eq!(ops.last().unwrap(), "AllNodesScan", "{q}: {ops:?}");
    }
    run(&e, "CREATE INDEX FOR ()-[r:KNOWS]-() ON (r.since)").unwrap();
    for q in queries {
        let (ops, details) = shape(&plan_of(&e, q, y(2003)));
        assert_eq!(ops[ops.len() - 2], "Expand(All)", "{ops:?}");
        assert_eq!(
            ops.last().unwrap(),
            "DirectedRelationshipIndexSeek",
            "{q}: {ops:?}"
        );
        assert_eq!(
            details,
            "RANGE INDEX (a)-[r:KNOWS(since)]->(b) WHERE since = $y"
        );
    }
    let (ops, details) = shape(&plan_of(
        &e,
        "EXPLAIN MATCH (a)-[r:KNOWS {since: $y}]-(b) RETURN a",
        y(2003),
    ));
    assert_eq!(
        ops.last().unwrap(),
        "UndirectedRelationshipIndexSeek",
        "{ops:?}"
    );
    assert_eq!(
        details,
        "RANGE INDEX (a)-[r:KNOWS(since)]-(b) WHERE since = $y"
    );

    // PROFILE shows the same access path, and the query finds its one row.
    let mut tx = implicit_tx(&e, AccessMode::Read).unwrap();
    let mut s = tx
        .run(
            "PROFILE MATCH (a)-[r:KNOWS {since: $y}]->(b) RETURN a.name AS n",
            y(2003),
        )
        .unwrap();
    assert_eq!(s.next_row().unwrap().unwrap(), vec![Value::from("p3")]);
    assert!(s.next_row().is_none());
    let (ops, _) = shape(&s.summary().profile.unwrap());
    assert_eq!(
        ops.last().unwrap(),
        "DirectedRelationshipIndexSeek",
        "{ops:?}"
    );
}

#[test]
fn a_bound_node_is_not_scanned_again() {
    let e = graph();
    run(&e, "CREATE INDEX FOR (n:P) ON (n.name)").unwrap();
    let (ops, _) = shape(&plan_of(
        &e,
        "EXPLAIN MATCH (a:P {name: $y}) MATCH (a)-[:KNOWS]->(b) RETURN b",
        y(1),
    ));
    // The second MATCH starts from `a`: its only leaf is the first MATCH's seek.
    assert_eq!(ops.last().unwrap(), "NodeIndexSeek", "{ops:?}");
    assert_eq!(
        ops.iter()
            .filter(|o| o.ends_with("Scan") || o.ends_with("Seek"))
            .count(),
        1,
        "{ops:?}"
    );
}

/// The PROFILE of `query`: its rows and the storage hits of the whole plan.
fn profile(e: &Engine, query: &str) -> (Vec<Vec<Value>>, u64, PlanDescription) {
    profile_with(e, query, &Params::new())
}

/// `WHERE n.p = value` seeks the index as `{p: value}` does; in a MATCH of several parts each
/// part seeks with the values of the parts before it, and the rows are the same as without
/// the index.
#[test]
fn where_equalities_seek_the_index() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(1, 2000) AS i CREATE (:N {id: i, half: i / 2})",
    )
    .unwrap();
    let queries = [
        "MATCH (n:N) WHERE n.id = 3 RETURN n.id",
        "MATCH (n:N) WHERE 3 = n.id AND n.half > 0 RETURN n.id",
        "MATCH (a:N), (b:N) WHERE a.id = 3 AND b.id = a.id + 1 RETURN a.id, b.id",
        "MATCH (a:N), (b:N) WHERE b.id = a.id * 2 AND a.id = 7 RETURN b.id",
        "MATCH (a:N {id: 10}), (b:N), (c:N) WHERE c.id = b.id + 1 AND b.id = a.id - 1 \
         RETURN a.id, b.id, c.id",
        "OPTIONAL MATCH (n:N) WHERE n.id = -1 RETURN n",
    ];
    let before: Vec<_> = queries.iter().map(|q| profile(&e, q).0).collect();
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    for (q, want) in queries.iter().zip(&before) {
        let (rows, hits, plan) = profile(&e, q);
        assert_eq!(&rows, want, "{q}");
        assert!(hits < 100, "{q}: {hits} db hits\n{plan:?}");
        let (ops, _) = shape(&plan);
        assert!(
            ops.last().unwrap().ends_with("NodeIndexSeek"),
            "{q}: {ops:?}"
        );
    }
    assert_eq!(before[2], vec![vec![Value::Int(3), Value::Int(4)]]);
    assert_eq!(
        before[4],
        vec![vec![Value::Int(10), Value::Int(9), Value::Int(10)]]
    );
    // A WHERE conjunct that is not a plain expression of variables stays on the last part;
    // the equality on the first part still seeks.
    let q = "MATCH (a:N), (b:N) WHERE a.id = 5 AND b.id = size([x IN range(1, 6) | x]) \
             RETURN b.id";
    let (rows, hits, _) = profile(&e, q);
    assert_eq!(rows, vec![vec![Value::Int(6)]]);
    assert!(hits < 10_000, "{hits}");
    // The clause runner (here for the subquery) matches the parts one after another too: it
    // materialized every pair (4M rows, out of memory at 2 GiB) before the WHERE.
    let q = "MATCH (a:N), (b:N) WHERE a.id = 5 AND exists { (b) } AND b.id < 4 \
             RETURN a.id, b.id ORDER BY b.id";
    let rows = run(&e, q).unwrap();
    assert_eq!(
        rows,
        (1..4)
            .map(|i| vec![Value::Int(5), Value::Int(i)])
            .collect::<Vec<_>>()
    );
}

/// A value made with functions of their arguments alone (`toInteger($id)`, `range(a, b)`)
/// seeks as a literal does (it is the same wherever it is evaluated); one that calls a
/// function that is not (`rand()`) does not, and the rows are the same as without the index.
#[test]
fn values_of_pure_functions_seek_the_index() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(1, 2000) AS i CREATE (:N {id: i, name: 'n' + i})",
    )
    .unwrap();
    let mut params = Params::new();
    params.insert("id".to_string(), Value::String("42".into()));
    params.insert("name".to_string(), Value::String("N7".into()));
    let queries = [
        "MATCH (n:N) WHERE n.id = toInteger($id) RETURN n.id",
        "MATCH (n:N) WHERE n.id IN range(10, 14) RETURN n.id",
        "MATCH (n:N) WHERE n.id IN [abs(-5), toInteger('300')] + range(100, 101) RETURN n.id",
        "MATCH (n:N) WHERE n.name = toLower($name) RETURN n.id",
        "MATCH (n:N) WHERE n.id >= size(split('a,b,c', ',')) * 600 RETURN count(n)",
    ];
    let before: Vec<_> = queries
        .iter()
        .map(|q| profile_with(&e, q, &params).0)
        .collect();
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    run(&e, "CREATE INDEX FOR (n:N) ON (n.name)").unwrap();
    for (q, want) in queries.iter().zip(&before) {
        let (rows, hits, plan) = profile_with(&e, q, &params);
        assert_eq!(&rows, want, "{q}");
        let (ops, _) = shape(&plan);
        let leaf = ops.last().unwrap();
        assert!(leaf.contains("NodeIndexSeek"), "{q}: {ops:?}");
        assert!(hits < 2000, "{q}: {hits} db hits\n{plan:?}");
    }
    assert_eq!(before[0], vec![vec![Value::Int(42)]]);
    assert_eq!(before[1].len(), 5);
    assert_eq!(before[2].len(), 4);
    assert_eq!(before[3], vec![vec![Value::Int(7)]]);
    assert_eq!(before[4], vec![vec![Value::Int(201)]]);
    // A list of literals is one value (read in place, row after row): the same three-valued
    // answers, with and without a seek.
    for (q, want) in [
        (
            "MATCH (n:N) WHERE n.id IN [3, 4, 'x', null, [5]] RETURN n.id",
            vec![vec![Value::Int(3)], vec![Value::Int(4)]],
        ),
        (
            "MATCH (n:N) WHERE NOT n.id IN [1, null] RETURN count(n)",
            vec![vec![Value::Int(0)]],
        ),
        (
            "MATCH (n:N) WITH n WHERE n.id + 0 IN [7, 2000, 2001] RETURN n.id",
            vec![vec![Value::Int(7)], vec![Value::Int(2000)]],
        ),
    ] {
        assert_eq!(profile_with(&e, q, &params).0, want, "{q}");
    }
    // rand() gives another value at every call: the WHERE decides, row by row.
    let q = "MATCH (n:N) WHERE n.id = toInteger(rand() * 0) + 1 RETURN n.id";
    let (rows, _, plan) = profile_with(&e, q, &params);
    assert_eq!(rows, vec![vec![Value::Int(1)]]);
    let (ops, _) = shape(&plan);
    assert!(ops.last().unwrap().contains("Scan"), "{ops:?}");
}

/// A property map whose value reads another variable of the same pattern is not an index
/// seek that starts the match: the value is not known until that variable is bound (the
/// seek read it as null and found nothing).
#[test]
fn a_map_reading_the_pattern_itself_does_not_start_the_match() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(1, 10) AS i CREATE (:N {id: i}) WITH i WHERE i > 1 \
         MATCH (a:N {id: i - 1}), (b:N {id: i}) CREATE (a)-[:R]->(b)",
    )
    .unwrap();
    assert_eq!(
        run(&e, "MATCH ()-[r:R]->() RETURN count(r)").unwrap(),
        vec![vec![Value::Int(9)]]
    );
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    let want: Vec<Vec<Value>> = (1..4)
        .map(|i| vec![Value::Int(i), Value::Int(i + 1)])
        .collect();
    for q in [
        "MATCH (b:N {id: a.id + 1})<-[:R]-(a:N) WHERE a.id < 4 RETURN a.id, b.id ORDER BY a.id",
        "MATCH (a:N)-[:R]->(b:N {id: a.id + 1}) WHERE a.id < 4 RETURN a.id, b.id ORDER BY a.id",
        "MATCH (b:N {id: toInteger(a.id) + 1})<-[:R]-(a:N) WHERE a.id < 4 \
         RETURN a.id, b.id ORDER BY a.id",
    ] {
        assert_eq!(run(&e, q).unwrap(), want, "{q}");
    }
}

/// `WHERE n.p IN list`, `n.p > x` (with `>=`, `<`, `<=`, either way round, two bounds
/// together) and `n.p STARTS WITH s` seek the index; the rows are the same as without it on
/// properties of every type (a seek finds candidates, the WHERE still decides).
#[test]
fn in_lists_ranges_and_prefixes_seek_the_index() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(1, 3000) AS i CREATE (:N {id: i, s: 'k' + toString(i)})",
    )
    .unwrap();
    // Values of other types and missing properties, which no range or prefix holds.
    run(
        &e,
        "CREATE (:N {id: 2.5, s: 7}), (:N {id: 'x', s: 'k1x'}), (:N {id: -0.5}), \
         (:N {id: [1], s: ['k1']}), (:N {id: true}), (:N), (:N {id: 1.0e300, s: ''})",
    )
    .unwrap();
    let queries = [
        ("MATCH (n:N) WHERE n.id IN [3, 5, 99, 3, null, 'x', 2.5] RETURN n.id", "NodeIndexSeek", "RANGE INDEX n:N(id) WHERE id IN [3, 5, 99, 3, null, 'x', 2.5]"),
        ("MATCH (n:N) WHERE n.id IN $list RETURN n.id", "NodeIndexSeek", "RANGE INDEX n:N(id) WHERE id IN $list"),
        ("MATCH (n:N) WHERE n.id > 2995 RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id > 2995"),
        ("MATCH (n:N) WHERE n.id >= 2.5 AND n.id < 4 RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id >= 2.5 AND id < 4"),
        ("MATCH (n:N) WHERE 3 >= n.id AND -1 < n.id RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id > -1 AND id <= 3"),
        ("MATCH (n:N) WHERE n.id <= 1 RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id <= 1"),
        ("MATCH (n:N) WHERE n.id > 'w' RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id > 'w'"),
        ("MATCH (n:N) WHERE n.id > 3 AND n.id < 'z' RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id > 3 AND id < 'z'"),
        ("MATCH (n:N) WHERE n.id > $none RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id > $none"),
        ("MATCH (n:N) WHERE n.id < 2 AND n.id > 0.0 AND n.id < 9 RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id > 0.0 AND id < 2"),
        ("MATCH (n:N) WHERE n.s STARTS WITH 'k299' RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(s) WHERE s STARTS WITH 'k299'"),
        ("MATCH (n:N) WHERE n.s STARTS WITH '' AND n.id < 3 RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(id) WHERE id < 3"),
        ("MATCH (n:N) WHERE n.s STARTS WITH $none RETURN n.id", "NodeIndexSeekByRange", "RANGE INDEX n:N(s) WHERE s STARTS WITH $none"),
        ("MATCH (a:N), (b:N) WHERE a.id = 10 AND b.id > a.id AND b.id <= a.id + 2 RETURN a.id, b.id", "NodeIndexSeekByRange", ""),
        ("MATCH (a:N), (b:N) WHERE a.id IN [1, 2] AND b.id IN [a.id * 10] RETURN a.id, b.id", "NodeIndexSeek", ""),
        ("OPTIONAL MATCH (n:N) WHERE n.id > 5000 RETURN n.id", "OptionalNodeIndexSeekByRange", ""),
        ("UNWIND [1, 2999] AS x MATCH (n:N) WHERE n.id >= x AND n.id < x + 2 RETURN x, n.id", "NodeIndexSeekByRange", ""),
    ];
    let mut params = Params::new();
    params.insert(
        "list".to_string(),
        Value::List(vec![Value::Int(7), Value::Float(8.0), Value::from("k1")]),
    );
    params.insert("none".to_string(), Value::Null);
    let rows_of = |q: &str, sort: bool| {
        let mut rows = common::run_with(&e, q, params.clone()).unwrap().1;
        if sort {
            rows.sort_by_key(|r| format!("{r:?}"));
        }
        rows
    };
    let before: Vec<_> = queries.iter().map(|(q, _, _)| rows_of(q, true)).collect();
    assert_eq!(
        before[0],
        vec![
            vec![Value::Float(2.5)],
            vec![Value::Int(3)],
            vec![Value::Int(5)],
            vec![Value::Int(99)],
            vec![Value::from("x")]
        ]
    );
    assert_eq!(
        before[3],
        vec![vec![Value::Float(2.5)], vec![Value::Int(3)]]
    );
    assert_eq!(before[10].len(), 11, "{:?}", before[10]); // k299 and k2990..k2999
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    run(&e, "CREATE INDEX FOR (n:N) ON (n.s)").unwrap();
    for ((q, op, details), want) in queries.iter().zip(&before) {
        assert_eq!(&rows_of(q, true), want, "{q}");
        let (rows, hits, plan) = profile_with(&e, q, &params);
        assert_eq!(rows.len(), want.len(), "{q}");
        assert!(hits < 200, "{q}: {hits} db hits\n{plan:?}");
        let (ops, leaf) = shape(&plan);
        if details.is_empty() {
            // Several parts: one of them seeks this way.
            assert!(ops.iter().any(|o| o == op), "{q}: {ops:?}");
        } else {
            assert_eq!(ops.last().unwrap(), op, "{q}: {ops:?}");
            assert_eq!(&leaf, details, "{q}");
        }
    }
    // Without the WHERE deciding, a list that is not a list is the same error either way.
    let err = common::run(&e, "MATCH (n:N) WHERE n.id IN 5 RETURN n").unwrap_err();
    assert!(err.message.contains("IN"), "{err:?}");
}

/// [`profile`] with parameters.
fn profile_with(
    e: &Engine,
    query: &str,
    params: &Params,
) -> (Vec<Vec<Value>>, u64, PlanDescription) {
    let mut tx = implicit_tx(e, AccessMode::Read).unwrap();
    let mut s = tx.run(&format!("PROFILE {query}"), params.clone()).unwrap();
    let mut rows = Vec::new();
    while let Some(r) = s.next_row() {
        rows.push(r.unwrap());
    }
    let p = *s.summary().profile.unwrap();
    drop(s);
    tx.commit().unwrap();
    fn total(p: &PlanDescription) -> u64 {
        p.db_hits + p.children.iter().map(total).sum::<u64>()
    }
    (rows, total(&p), p)
}

/// A composite index (or node key) is sought when the pattern's map (or the WHERE's
/// equalities) give every one of its properties; with some of them only, the label is scanned.
#[test]
fn composite_indexes_are_sought_with_every_property() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(
        &e,
        "UNWIND range(1, 3000) AS i CREATE (:C {a: i % 50, b: i % 7, i: i}), (:K {x: i, y: 'y' + toString(i % 3)})",
    )
    .unwrap();
    let queries = [
        (
            "MATCH (n:C {a: 1, b: 2}) RETURN n.i ORDER BY n.i",
            "NodeIndexSeek",
            "RANGE INDEX n:C(a, b) WHERE a = 1 AND b = 2",
        ),
        (
            "MATCH (n:C) WHERE n.b = $y AND n.a = 1 RETURN n.i ORDER BY n.i",
            "NodeIndexSeek",
            "RANGE INDEX n:C(a, b) WHERE a = 1 AND b = $y",
        ),
        (
            "MATCH (n:C {a: 1}) RETURN n.i ORDER BY n.i",
            "NodeByLabelScan",
            "n:C",
        ),
        (
            "MATCH (n:C {a: 1, b: null}) RETURN n.i",
            "NodeIndexSeek",
            "RANGE INDEX n:C(a, b) WHERE a = 1 AND b = null",
        ),
        (
            "MATCH (k:K {y: 'y1', x: 10}) RETURN k.x",
            "NodeUniqueIndexSeek",
            "UNIQUE k:K(x, y) WHERE x = 10 AND y = 'y1'",
        ),
    ];
    let before: Vec<_> = queries
        .iter()
        .map(|(q, _, _)| common::run_with(&e, q, y(2)).unwrap().1)
        .collect();
    assert_eq!(before[0].len(), 9, "{:?}", before[0]);
    assert_eq!(before[4], vec![vec![Value::Int(10)]]);
    run(&e, "CREATE INDEX FOR (n:C) ON (n.a, n.b)").unwrap();
    run(
        &e,
        "CREATE CONSTRAINT FOR (k:K) REQUIRE (k.x, k.y) IS NODE KEY",
    )
    .unwrap();
    for ((q, op, details), want) in queries.iter().zip(&before) {
        let (rows, hits, plan) = profile_with(&e, q, &y(2));
        assert_eq!(&rows, want, "{q}");
        let (ops, leaf) = shape(&plan);
        assert_eq!(ops.last().unwrap(), op, "{q}: {ops:?}");
        assert_eq!(&leaf, details, "{q}");
        if op.ends_with("Seek") {
            assert!(hits < 100, "{q}: {hits}");
        }
    }
}

/// A range seek wider than a sixth of the smallest label's scan (counted in the index), or,
/// when its size cannot be counted, taken to keep 30% of its label: a much smaller label
/// elsewhere in the pattern is scanned instead; an equality or an IN list is still sought.
#[test]
fn a_small_label_beats_a_wide_range() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(&e, "UNWIND range(1, 3000) AS i CREATE (:Big {id: i})").unwrap();
    run(
        &e,
        "UNWIND range(1, 5) AS i MATCH (b:Big {id: i * 100}) CREATE (b)-[:R]->(:Small {i: i})",
    )
    .unwrap();
    run(&e, "CREATE INDEX FOR (n:Big) ON (n.id)").unwrap();
    let q = "MATCH (a:Big)-[:R]->(b:Small) WHERE a.id > 150 RETURN b.i ORDER BY b.i";
    let (rows, hits, plan) = profile_with(&e, q, &Params::new());
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(hits < 100, "{hits}");
    assert_eq!(shape(&plan).0.last().unwrap(), "NodeByLabelScan");
    let q = "MATCH (a:Big)-[:R]->(b:Small) WHERE a.id IN [100, 300, 301] RETURN b.i ORDER BY b.i";
    let (rows, _, plan) = profile_with(&e, q, &Params::new());
    assert_eq!(rows, vec![vec![Value::Int(1)], vec![Value::Int(3)]]);
    assert_eq!(shape(&plan).0.last().unwrap(), "NodeIndexSeek");
    // Alone, the range is sought.
    let q = "MATCH (a:Big) WHERE a.id > 2990 RETURN count(*)";
    let (rows, _, plan) = profile_with(&e, q, &Params::new());
    assert_eq!(rows, vec![vec![Value::Int(10)]]);
    assert_eq!(shape(&plan).0.last().unwrap(), "NodeIndexSeekByRange");
}

/// A range is sought when the index counts it smaller than a sixth of the label (a node
/// found through the index costs about six scanned ones), and the label scanned otherwise,
/// the WHERE deciding; the count stops there. Bounds from parameters are counted for
/// EXPLAIN too; a match read in the index's order keeps the seek of its range.
#[test]
fn a_range_is_sought_or_scanned_by_its_size() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(&e, "UNWIND range(1, 3000) AS i CREATE (:N {id: i})").unwrap();
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    let int = Value::Int;
    for (q, params, want, leaf) in [
        (
            "MATCH (n:N) WHERE n.id > 2900 RETURN count(*)",
            Params::new(),
            100,
            "NodeIndexSeekByRange",
        ),
        (
            "MATCH (n:N) WHERE n.id > 2600 RETURN count(*)",
            Params::new(),
            400,
            "NodeIndexSeekByRange",
        ),
        (
            "MATCH (n:N) WHERE n.id > 2400 RETURN count(*)",
            Params::new(),
            600,
            "NodeByLabelScan",
        ),
        (
            "MATCH (n:N) WHERE n.id > 1000 RETURN count(*)",
            Params::new(),
            2000,
            "NodeByLabelScan",
        ),
        (
            "MATCH (n:N) WHERE 10 <= n.id <= 1500 RETURN count(*)",
            Params::new(),
            1491,
            "NodeByLabelScan",
        ),
        (
            "MATCH (n:N) WHERE n.id > $y RETURN count(*)",
            y(2950),
            50,
            "NodeIndexSeekByRange",
        ),
        (
            "MATCH (n:N) WHERE n.id > $y RETURN count(*)",
            y(10),
            2990,
            "NodeByLabelScan",
        ),
        (
            "MATCH (n:N) WHERE n.id > null RETURN count(*)",
            Params::new(),
            0,
            "NodeIndexSeekByRange",
        ),
    ] {
        let (rows, hits, plan) = profile_with(&e, q, &params);
        assert_eq!(rows, vec![vec![int(want)]], "{q}");
        assert_eq!(shape(&plan).0.last().unwrap(), leaf, "{q}");
        // A scan reads the label once, after counting at most a sixth of it in the index.
        assert!(hits <= 3000 + 600, "{q}: {hits}");
        // EXPLAIN names the same access (literals and parameters are counted for it too).
        let (ops, _) = shape(&plan_of(&e, &format!("EXPLAIN {q}"), params));
        assert_eq!(ops.last().unwrap(), leaf, "EXPLAIN {q}");
    }
    // Bounds known only per input row are counted when the match starts.
    let rows = run(
        &e,
        "UNWIND [2990, 10] AS v MATCH (n:N) WHERE n.id > v RETURN v, count(*) ORDER BY v",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![vec![int(10), int(2990)], vec![int(2990), int(10)]]
    );
    // In the index's order, a wide range is still read from the index, from its start.
    let q = "MATCH (n:N) WHERE n.id > 1000 RETURN n.id ORDER BY n.id LIMIT 2";
    let (rows, hits, plan) = profile_with(&e, q, &Params::new());
    assert_eq!(rows, vec![vec![int(1001)], vec![int(1002)]]);
    assert_eq!(shape(&plan).0.last().unwrap(), "NodeIndexSeekByRange");
    assert!(hits < 100, "{hits}");
}

/// A long IN list is many seeks (here two million, none finding a node): the query ends with
/// the transaction's time-limit error, not a result. The seeks check the clock every 256
/// values; the test cannot tell that from the check after them without timing it.
#[test]
fn a_long_in_list_stops_at_the_deadline() {
    use graphward_core::engine::QueryEngine as _;
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(&e, "UNWIND range(1, 10) AS i CREATE (:N {id: i})").unwrap();
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    let mut tx = e
        .begin(graphward_core::engine::TxOptions {
            mode: AccessMode::Read,
            implicit: true,
            timeout: Some(std::time::Duration::from_millis(100)),
            ..Default::default()
        })
        .unwrap();
    // A parameter: the list is there before the clock starts (building it would take long).
    let mut params = Params::new();
    params.insert(
        "ids".to_string(),
        Value::List((1..=2_000_000).map(|i| Value::Int(-i)).collect()),
    );
    let err = common::drain(
        tx.as_mut(),
        "MATCH (n:N) WHERE n.id IN $ids RETURN count(n)",
        params,
    )
    .unwrap_err();
    common::assert_timed_out(&err);
}

/// `WHERE r.p IN list` seeks a relationship index (each value, the ends of what it finds);
/// the rows are those without the index.
#[test]
fn a_relationship_in_list_seeks_the_index() {
    let e = graph();
    let q = "MATCH (a)-[r:KNOWS]->(b) WHERE r.since IN [2003, 2005, 2005, null, 1999] \
             RETURN a.name ORDER BY a.name";
    let before = run(&e, q).unwrap();
    assert_eq!(
        before,
        vec![vec![Value::from("p3")], vec![Value::from("p5")]]
    );
    run(&e, "CREATE INDEX FOR ()-[r:KNOWS]-() ON (r.since)").unwrap();
    let (rows, hits, plan) = profile_with(&e, q, &Params::new());
    assert_eq!(rows, before);
    assert!(hits < 50, "{hits}");
    let (ops, details) = shape(&plan);
    assert_eq!(
        ops.last().unwrap(),
        "DirectedRelationshipIndexSeek",
        "{ops:?}"
    );
    assert_eq!(
        details,
        "RANGE INDEX (a)-[r:KNOWS(since)]->(b) WHERE since IN [2003, 2005, 2005, null, 1999]"
    );
    let (rows, _, _) = profile_with(
        &e,
        "MATCH (a)-[r:KNOWS]-(b) WHERE r.since IN [2004] RETURN a.name ORDER BY a.name",
        &Params::new(),
    );
    assert_eq!(rows, vec![vec![Value::from("p4")], vec![Value::Null]]);
}

/// The nodes an equality seek finds have the value sought (for integers, strings and
/// booleans, whose index keys are equal exactly when the values are), so the matcher does
/// not read that property again; the rows are the ones a scan gives, for values of every
/// type the index mixes (an integral float keys as an integer), other properties of the map,
/// and inside a write transaction that moved or removed an indexed value.
#[test]
fn an_equality_seek_is_not_read_again() {
    let make = || {
        let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
        run(
            &e,
            "UNWIND [3, 3.0, '3', true, 3.5, [3], 4, 'x', false] AS v
             UNWIND [0, 1] AS k CREATE (:N {v: v, k: k})",
        )
        .unwrap();
        e
    };
    let (plain, indexed) = (make(), make());
    run(&indexed, "CREATE INDEX FOR (n:N) ON (n.v)").unwrap();
    let queries = [
        "MATCH (n:N {v: 3}) RETURN n.v, n.k ORDER BY n.k, toString(n.v)",
        "MATCH (n:N {v: 3.0}) RETURN n.v, n.k ORDER BY n.k, toString(n.v)",
        "MATCH (n:N {v: '3'}) RETURN n.v, n.k ORDER BY n.k",
        "MATCH (n:N {v: true, k: 1}) RETURN n.v, n.k",
        "MATCH (n:N {k: 0, v: false}) RETURN n.v, n.k",
        "MATCH (n:N) WHERE n.v = 4 AND n.k = 1 RETURN n.v, n.k",
        "UNWIND [3, 'x', 4, null] AS x MATCH (n:N {v: x}) RETURN x, n.k ORDER BY toString(x), n.k",
        "MATCH (n:N {v: 3}) SET n.v = 5 WITH n MATCH (m:N {v: 3}) RETURN count(m)",
    ];
    for q in queries {
        let want = run(&plain, q).unwrap();
        assert_eq!(run(&indexed, q).unwrap(), want, "{q}");
    }
    // In one write transaction: the value moved and a node deleted are not found by it.
    for e in [&plain, &indexed] {
        let mut tx = e
            .begin(graphward_core::engine::TxOptions {
                mode: AccessMode::Write,
                ..Default::default()
            })
            .unwrap();
        common::drain(
            &mut *tx,
            "MATCH (n:N {v: 4, k: 0}) SET n.v = 6",
            Params::new(),
        )
        .unwrap();
        common::drain(
            &mut *tx,
            "MATCH (n:N {v: 'x', k: 1}) DELETE n",
            Params::new(),
        )
        .unwrap();
        let mut s = tx
            .run(
                "UNWIND [4, 6, 'x'] AS x MATCH (n:N {v: x}) RETURN x, n.k ORDER BY toString(x), n.k",
                Params::new(),
            )
            .unwrap();
        let mut rows = Vec::new();
        while let Some(r) = s.next_row() {
            rows.push(r.unwrap());
        }
        assert_eq!(
            rows,
            vec![
                vec![Value::Int(4), Value::Int(1)],
                vec![Value::Int(6), Value::Int(0)],
                vec![Value::String("x".into()), Value::Int(0)],
            ]
        );
    }
}

/// `MATCH (n[:L]) RETURN count(n)` and `MATCH ()-[r[:T]]->() RETURN count(r)` are answered from
/// the counts the storage keeps (NodeCountFromCountStore, RelationshipCountFromCountStore):
/// the same numbers as a scan gives (the same query with a WHERE that is always true), in a
/// read and inside a write transaction that created and deleted entities; any other shape
/// (two types, a label on a relationship's end, an undirected or self-loop pattern, DISTINCT,
/// a second clause) is scanned.
#[test]
fn counts_come_from_the_count_store_and_agree_with_a_scan() {
    let e = graph();
    run(&e, "CREATE (a:P:Q)-[:SELF]->(a), (:Lone)").unwrap();
    let stored = [
        (
            "MATCH (n) RETURN count(n)",
            "MATCH (n) WHERE true RETURN count(n)",
        ),
        (
            "MATCH (n:P) RETURN count(*) AS c, count(n)",
            "MATCH (n:P) WHERE true RETURN count(*) AS c, count(n)",
        ),
        (
            "MATCH (n:Nope) RETURN count(n)",
            "MATCH (n:Nope) WHERE true RETURN count(n)",
        ),
        (
            "MATCH ()-[r]->() RETURN count(r)",
            "MATCH ()-[r]->() WHERE true RETURN count(r)",
        ),
        (
            "MATCH (a)<-[r]-(b) RETURN count(a), count(b), count(*)",
            "MATCH (a)<-[r]-(b) WHERE true RETURN count(a), count(b), count(*)",
        ),
        (
            "MATCH ()-[r:KNOWS]->() RETURN count(r)",
            "MATCH ()-[r:KNOWS]->() WHERE true RETURN count(r)",
        ),
        (
            "MATCH ()<-[r:SELF]-() RETURN count(*)",
            "MATCH ()<-[r:SELF]-() WHERE true RETURN count(*)",
        ),
        (
            "MATCH ()-[r:NOPE]->() RETURN count(r)",
            "MATCH ()-[r:NOPE]->() WHERE true RETURN count(r)",
        ),
    ];
    for (q, scan) in stored {
        let (ops, _) = shape(&plan_of(&e, &format!("EXPLAIN {q}"), Params::new()));
        assert!(
            ops.iter().any(|o| o.ends_with("FromCountStore")),
            "{q}: {ops:?}"
        );
        let (ops, _) = shape(&plan_of(&e, &format!("EXPLAIN {scan}"), Params::new()));
        assert!(
            !ops.iter().any(|o| o.ends_with("FromCountStore")),
            "{scan}: {ops:?}"
        );
        assert_eq!(run(&e, q).unwrap(), run(&e, scan).unwrap(), "{q}");
    }
    for q in [
        "MATCH ()-[r:KNOWS|SELF]->() RETURN count(r)",
        "MATCH (:P)-[r]->() RETURN count(r)",
        "MATCH ()-[r]-() RETURN count(r)",
        "MATCH (a)-[r]->(a) RETURN count(r)",
        "MATCH (n:P:Q) RETURN count(n)",
        "MATCH (n:P) RETURN count(DISTINCT n)",
        "MATCH (n:P) RETURN count(n.name)",
        "OPTIONAL MATCH (n:P) RETURN count(n)",
        "MATCH (n:P) WITH n RETURN count(n)",
    ] {
        let (ops, _) = shape(&plan_of(&e, &format!("EXPLAIN {q}"), Params::new()));
        assert!(
            !ops.iter().any(|o| o.ends_with("FromCountStore")),
            "{q}: {ops:?}"
        );
    }
    // Own writes, before commit.
    let mut tx = implicit_tx(&e, AccessMode::Write).unwrap();
    common::drain(
        &mut *tx,
        "MATCH (n:Q {id: 1}) DETACH DELETE n",
        Params::new(),
    )
    .unwrap();
    common::drain(&mut *tx, "CREATE (:P)-[:KNOWS]->(:P)", Params::new()).unwrap();
    for (q, want) in [
        ("MATCH (n:P) RETURN count(n)", 23),
        ("MATCH (n) RETURN count(*)", 43),
        ("MATCH ()-[r]->() RETURN count(r)", 21),
        ("MATCH ()-[r:KNOWS]->() RETURN count(r)", 20),
        ("MATCH ()-[r:SELF]->() RETURN count(r)", 1),
    ] {
        let mut s = tx.run(q, Params::new()).unwrap();
        let row = s.next_row().unwrap().unwrap();
        assert_eq!(row, vec![Value::Int(want)], "{q}");
        drop(s);
    }
    tx.commit().unwrap();
}

/// A match under UNWIND (a load's `UNWIND $batch AS r MATCH (a:N {id: r.s}), ...`) decides
/// its access path for the first input row and keeps it for the rows after when nothing of
/// the decision changes from row to row (a seek on a property map's value): every row seeks
/// (its values evaluated per row: null, a string and a missing key find nothing), and the
/// rows are those of the same query without the index. A range from the WHERE is weighed
/// per row, with its own bound.
#[test]
fn per_row_seeks_decide_once_and_weigh_ranges_per_row() {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    run(&e, "UNWIND range(1, 3000) AS i CREATE (:N {id: i})").unwrap();
    let batch = Value::List(
        [
            Some((1, 2)),
            Some((2999, 3000)),
            None,
            Some((5, 3001)),
            Some((7, 8)),
        ]
        .into_iter()
        .map(|p| {
            let mut m = BTreeMap::new();
            if let Some((s, d)) = p {
                m.insert("s".to_string(), Value::Int(s));
                m.insert("d".to_string(), Value::Int(d));
            } else {
                m.insert("s".to_string(), Value::Null);
                m.insert("d".to_string(), Value::String("x".into()));
            }
            Value::Map(m)
        })
        .collect(),
    );
    let mut params = Params::new();
    params.insert("batch".to_string(), batch);
    let seeks = "UNWIND $batch AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) \
                 RETURN a.id, b.id";
    let ranges = "UNWIND [2990, 10, 2995, -5] AS lo MATCH (n:N) WHERE n.id > lo \
                  RETURN lo, count(n)";
    let (want_seeks, scanned, _) = profile_with(&e, seeks, &params);
    let (want_ranges, _, _) = profile_with(&e, ranges, &Params::new());
    assert_eq!(
        want_seeks,
        vec![
            vec![Value::Int(1), Value::Int(2)],
            vec![Value::Int(2999), Value::Int(3000)],
            vec![Value::Int(7), Value::Int(8)],
        ]
    );
    assert_eq!(
        want_ranges,
        [(2990, 10), (10, 2990), (2995, 5), (-5, 3000)]
            .iter()
            .map(|&(lo, c)| vec![Value::Int(lo), Value::Int(c)])
            .collect::<Vec<_>>()
    );
    run(&e, "CREATE INDEX FOR (n:N) ON (n.id)").unwrap();
    let (rows, hits, plan) = profile_with(&e, seeks, &params);
    assert_eq!(rows, want_seeks);
    assert!(
        hits * 100 < scanned,
        "{hits} vs {scanned} scanning\n{plan:?}"
    );
    let (ops, _) = shape(&plan);
    assert!(
        ops.iter().filter(|o| o.ends_with("NodeIndexSeek")).count() == 2,
        "{ops:?}"
    );
    // Each range is weighed with its own bound: the narrow ones seek their few nodes, the
    // wide ones read about the label once (7,076 hits here; four scans would be 12,000+).
    let (rows, hits, plan) = profile_with(&e, ranges, &Params::new());
    assert_eq!(rows, want_ranges);
    assert!(hits < 3 * 3000, "{hits}\n{plan:?}");
}
