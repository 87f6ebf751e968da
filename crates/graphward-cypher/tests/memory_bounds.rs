//! Hostile queries end with a clean error under small memory limits: values built inside
//! expressions, operator state and pattern enumeration are charged to the query's budget and
//! to the server-wide pool, and nothing a query controls recurses on the thread's stack.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use graphward_core::engine::{AccessMode, EngineConfig, QueryEngine, TxOptions};
use graphward_core::{Error, ErrorCode, Value};
use graphward_cypher::Engine;

mod common;
use common::run;

fn engine(query_limit: u64, total_limit: u64) -> Engine {
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = query_limit;
    config.limits.max_total_memory_bytes = total_limit;
    Engine::open_in_memory(config).unwrap()
}

fn assert_memory_error(e: &Engine, q: &str) -> Error {
    let err = run(e, q).unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimit, "{q}: {err:?}");
    assert_eq!(
        err.code.as_str(),
        "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
    );
    // Still answering afterwards.
    assert_eq!(run(e, "RETURN 1 AS x").unwrap(), vec![vec![Value::Int(1)]]);
    err
}

/// Run `f` on a thread with the stack of a server thread (2 MiB): anything recursing per element of the data
/// overflows it (and aborts the test binary), iterative code does not.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    on_stack(2 << 20, f)
}

fn on_stack<T: Send + 'static>(size: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(size)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn values_built_in_expressions_are_charged() {
    let e = engine(16 << 20, 1 << 40);
    let err = assert_memory_error(
        &e,
        "RETURN size(reduce(s = 'x', i IN range(1, 40) | s + s))",
    );
    assert!(err.message.contains("max_query_memory"), "{}", err.message);
    assert!(err.message.contains("16 MiB"), "{}", err.message);
    assert_memory_error(&e, "RETURN size(range(1, 50000000))");
    assert_memory_error(
        &e,
        "RETURN size([i IN range(1, 10000) | [j IN range(1, 10000) | j]])",
    );
    assert_memory_error(
        &e,
        "RETURN size(reduce(acc = [], i IN range(1, 100000) | acc + range(1, 1000)))",
    );
    assert_memory_error(
        &e,
        "RETURN size(replace(reduce(s = 'x', i IN range(1, 20) | s + s), 'x', 'yyyyyyyyyyyyyyyy'))",
    );
    assert_memory_error(&e, "UNWIND range(1, 5000000) AS i RETURN collect(i)");
    assert_memory_error(
        &e,
        // (aggregation no longer buffers its input rows: only the collected list counts)
        "UNWIND range(1, 400000) AS i RETURN collect(toString(i) + 'some padding text')",
    );
    // Small work is unaffected, and temporaries given back: a long reduce whose accumulator
    // stays small succeeds although it builds far more than the limit in total.
    assert_eq!(
        run(
            &e,
            "RETURN reduce(n = 0, i IN range(1, 20000) | n + size(toString(i) + 'padding padding'))"
        )
        .unwrap()[0][0],
        Value::Int(20000 * 15 + 88894)
    );
    assert_eq!(
        run(
            &e,
            "RETURN size([i IN range(1, 1000) | [j IN range(1, 10) | j]]) AS n"
        )
        .unwrap()[0][0],
        Value::Int(1000)
    );
}

#[test]
fn deep_values_are_refused_not_recursed() {
    let e = engine(1 << 30, 1 << 40);
    let err = on_small_stack(move || {
        let err = run(
            &e,
            "RETURN size(reduce(a = [], i IN range(1, 1000000) | [a]))",
        )
        .unwrap_err();
        assert_eq!(run(&e, "RETURN 1 AS x").unwrap(), vec![vec![Value::Int(1)]]);
        err
    });
    assert_eq!(err.code, ErrorCode::ResourceLimit, "{err:?}");
    // 100 deep is fine.
    let e = engine(1 << 30, 1 << 40);
    assert_eq!(
        run(
            &e,
            "RETURN size(reduce(a = [], i IN range(1, 100) | [a])) AS n"
        )
        .unwrap()[0][0],
        Value::Int(1)
    );
}

#[test]
fn operator_state_and_pattern_enumeration_are_charged() {
    let e = engine(8 << 20, 1 << 40);
    run(&e, "UNWIND range(1, 200) AS i CREATE (:P {i: i})").unwrap();
    // A cartesian product streams (one scan per pattern part): its 40,000 rows of two nodes
    // each leave as they are pulled, more than the 8 MiB budget would hold materialized.
    assert_eq!(
        run(&e, "MATCH (a:P), (b:P) RETURN a, b").unwrap().len(),
        40_000
    );
    assert_memory_error(&e, "MATCH (a:P), (b:P), (c:P) RETURN a.i AS x ORDER BY x");
    assert_memory_error(
        &e,
        "MATCH (a:P), (b:P), (c:P) RETURN DISTINCT a.i + b.i * 1000 + c.i * 1000000 AS x",
    );
    // A complete graph: every relationship-unique path is a match.
    run(&e, "UNWIND range(1, 40) AS i CREATE (:K {i: i})").unwrap();
    run(&e, "MATCH (a:K), (b:K) WHERE a <> b CREATE (a)-[:E]->(b)").unwrap();
    assert_memory_error(&e, "MATCH p = (a:K)-[:E*]->(b:K) RETURN count(p)");
    assert_memory_error(
        &e,
        "MATCH (a:K), (b:K) MATCH p = allShortestPaths((a)-[:E*]-(b)) WITH collect(p) AS ps RETURN size(ps)",
    );
}

#[test]
fn server_wide_pool_bounds_a_query_below_its_own_limit() {
    let e = engine(1 << 30, 4 << 20);
    let err = assert_memory_error(&e, "RETURN size(range(1, 1000000))");
    assert!(
        err.message.contains("max_total_query_memory"),
        "{}",
        err.message
    );
    // The pool was given back: the next query gets it.
    assert_eq!(
        run(&e, "RETURN size(range(1, 1000)) AS n").unwrap()[0][0],
        Value::Int(1000)
    );
}

#[test]
fn long_paths_do_not_recurse() {
    // A chain of 3000 relationships: a variable-length match walks a path that long.
    let e = engine(1 << 30, 1 << 40);
    run(&e, "UNWIND range(0, 3000) AS i CREATE (:C {i: i})").unwrap();
    run(&e, "CREATE INDEX FOR (n:C) ON (n.i)").unwrap();
    run(
        &e,
        "UNWIND range(0, 2999) AS i MATCH (a:C {i: i}), (b:C {i: i + 1}) CREATE (a)-[:N]->(b)",
    )
    .unwrap();
    // 512 KiB: a few hundred bytes per hop of recursion would overflow it.
    let rows = on_stack(512 << 10, move || {
        run(
            &e,
            "MATCH (a:C {i: 0})-[:N*]->(b:C {i: 3000}) RETURN b.i AS i",
        )
        .unwrap()
    });
    assert_eq!(rows, vec![vec![Value::Int(3000)]]);
}

#[test]
fn aggregation_consumes_its_input_without_buffering_it() {
    // 200k input rows would take megabytes if they were buffered before aggregating; the
    // groups fit in 1 MiB. Grouping keys and DISTINCT state stay charged.
    let e = engine(1 << 20, 4 << 20);
    let rows = run(
        &e,
        "UNWIND range(1, 200000) AS i RETURN count(i) AS c, sum(i) AS s, min(i) AS lo, max(i) AS hi",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![vec![
            Value::Int(200000),
            Value::Int(200000 * 200001 / 2),
            Value::Int(1),
            Value::Int(200000)
        ]]
    );
    let rows = run(
        &e,
        "UNWIND range(1, 200000) AS i RETURN i % 3 AS k, count(*) AS c ORDER BY k",
    )
    .unwrap();
    assert_eq!(rows.len(), 3);
    assert_memory_error(&e, "UNWIND range(1, 200000) AS i RETURN count(DISTINCT i)");
    assert_memory_error(&e, "UNWIND range(1, 200000) AS i RETURN i AS k, count(*)");
}

/// A complete graph of `n` nodes `:K`, one `:R` relationship per ordered pair.
fn complete_graph(e: &Engine, n: u32) {
    run(
        e,
        &format!(
            "UNWIND range(1, {n}) AS i CREATE (:K {{i: i}}) WITH count(*) AS c \
             MATCH (a:K), (b:K) WHERE a <> b CREATE (a)-[:R]->(b)"
        ),
    )
    .unwrap();
}

#[test]
fn path_selector_searches_are_charged_to_the_memory_budget() {
    // SHORTEST k over trails of a complete graph: the number of trails explodes with their
    // length; every hop kept by the search is charged, so it ends with the memory error,
    // on a server thread's stack (the search does not recurse per hop).
    let e = engine(8 << 20, 1 << 40);
    complete_graph(&e, 12);
    on_small_stack(move || {
        for q in [
            "MATCH p = SHORTEST 1000000 (a:K {i: 1})-[:R]-+(b:K {i: 2}) RETURN count(p)",
            "MATCH p = SHORTEST 50 GROUPS (a:K {i: 1})-[:R]->+(b:K) RETURN count(p)",
            "MATCH SHORTEST 100000000 ((a:K {i: 1}) ((x)-[r:R]->(y) WHERE x.i < 100)+ (b:K {i: 2}) \
             WHERE size(r) > 0) RETURN count(*)",
            // Without a selector: the matches of one start node, found with an inner
            // predicate evaluated on every hop, stay charged while they are collected.
            "MATCH (a:K {i: 1}) ((x)-[r:R]->(y) WHERE x.i < 100){1,} (b) RETURN count(*)",
        ] {
            assert_memory_error(&e, q);
        }
        // The searches that only need shortest paths expand each node once and finish:
        // one relationship between distinct nodes, a 2-cycle from a node back to itself.
        let rows = run(
            &e,
            "MATCH p = ALL SHORTEST (a:K)-[:R]-+(b:K) RETURN max(length(p)) AS l",
        )
        .unwrap();
        assert_eq!(rows, vec![vec![Value::Int(2)]]);
    });
}

#[test]
fn path_selector_searches_end_at_the_deadline() {
    // With memory to spare the same explosion ends at the transaction's time limit instead.
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = 1 << 40;
    config.limits.max_total_memory_bytes = 1 << 40;
    let e = Engine::open_in_memory(config).unwrap();
    complete_graph(&e, 40);
    let mut tx = e
        .begin(TxOptions {
            mode: AccessMode::Read,
            implicit: true,
            timeout: Some(std::time::Duration::from_millis(200)),
            ..TxOptions::default()
        })
        .unwrap();
    let err = common::drain(
        tx.as_mut(),
        "MATCH p = SHORTEST 1000000000 (a:K {i: 1})-[:R]-{1,6}(b:K {i: 2}) RETURN count(p)",
        BTreeMap::new(),
    )
    .unwrap_err();
    common::assert_timed_out(&err);
}

#[test]
fn quantified_groups_of_several_relationships_are_charged() {
    // Quantified path patterns of several relationships per iteration on a complete graph,
    // with and without a path selector, and SHORTEST $k with a huge k from a parameter: the
    // walks and searches are iterative and charged, so each ends with the memory error on
    // a server thread's stack.
    let e = engine(8 << 20, 1 << 40);
    complete_graph(&e, 12);
    on_small_stack(move || {
        for q in [
            "MATCH (a:K {i: 1}) ((x)-[:R]->(y)-[:R]->(z) WHERE x.i < 100){1,} (b) RETURN count(*)",
            "MATCH (a:K {i: 1}) ((x)-[:R]->(y)<-[:R]-(z)){1,} (b)-[:R]->(c:K {i: 2}) RETURN count(*)",
            "MATCH p = SHORTEST 100000000 (a:K {i: 1}) ((x)-[:R]->(y)<-[:R]-(z)){1,} (b)-[:R]->(c:K {i: 2}) \
             RETURN count(p)",
        ] {
            assert_memory_error(&e, q);
        }
        let mut params = graphward_core::engine::Params::new();
        params.insert("k".to_string(), Value::Int(i64::MAX));
        let err = common::run_with(
            &e,
            "MATCH p = SHORTEST $k (a:K {i: 1})-[:R]-+(b:K {i: 2}) RETURN count(p)",
            params,
        )
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::MemoryLimit, "{err:?}");
        // A small k from a parameter finishes: the shortest path is the one relationship.
        let mut params = graphward_core::engine::Params::new();
        params.insert("k".to_string(), Value::Int(1));
        let (_, rows) = common::run_with(
            &e,
            "MATCH p = SHORTEST $k (a:K {i: 1})-[:R]->+(b:K {i: 2}) RETURN length(p)",
            params,
        )
        .unwrap();
        assert_eq!(rows, vec![vec![Value::Int(1)]]);
    });
}

#[test]
fn selector_count_from_a_parameter_ends_at_the_deadline() {
    // SHORTEST $k with a huge k and memory to spare: the search ends at the time limit.
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = 1 << 40;
    config.limits.max_total_memory_bytes = 1 << 40;
    let e = Engine::open_in_memory(config).unwrap();
    complete_graph(&e, 40);
    let mut tx = e
        .begin(TxOptions {
            mode: AccessMode::Read,
            implicit: true,
            timeout: Some(std::time::Duration::from_millis(200)),
            ..TxOptions::default()
        })
        .unwrap();
    let mut params = BTreeMap::new();
    params.insert("k".to_string(), Value::Int(i64::MAX));
    let err = common::drain(
        tx.as_mut(),
        "MATCH p = SHORTEST $k (a:K {i: 1}) ((x)-[:R]-(y)-[:R]-(z)){1,3} (b:K {i: 2}) \
         RETURN count(p)",
        params,
    )
    .unwrap_err();
    common::assert_timed_out(&err);
}
