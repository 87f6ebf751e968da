#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! `CALL { ... } IN TRANSACTIONS`: batches of the incoming rows, each committed in an inner
//! transaction of its own before the next starts; ON ERROR FAIL / CONTINUE / BREAK; REPORT
//! STATUS; only in an implicit (auto-commit) transaction.

mod common;
use common::implicit_tx;

use graphward_core::engine::{AccessMode, EngineConfig, Params, QueryEngine, TxOptions};
use graphward_core::{ErrorCode, Value};
use graphward_cypher::Engine;

fn engine() -> Engine {
    Engine::open_in_memory(EngineConfig::default()).unwrap()
}

fn count(e: &Engine, q: &str) -> i64 {
    match common::run(e, q).unwrap().first().and_then(|r| r.first()) {
        Some(Value::Int(n)) => *n,
        other => panic!("{other:?}"),
    }
}

/// Runs `q` in an auto-commit transaction; its rows and its summary's counters.
fn run_stats(
    e: &Engine,
    q: &str,
) -> Result<(Vec<Vec<Value>>, graphward_core::engine::Stats), graphward_core::Error> {
    let mut tx = implicit_tx(e, AccessMode::Write)?;
    let mut result = tx.run(q, Params::new())?;
    let mut rows = Vec::new();
    while let Some(row) = result.next_row() {
        rows.push(row?);
    }
    let stats = result.summary().stats;
    drop(result);
    tx.commit()?;
    Ok((rows, stats))
}

fn map_get<'a>(v: &'a Value, k: &str) -> &'a Value {
    match v {
        Value::Map(m) => m.get(k).unwrap(),
        other => panic!("not a map: {other:?}"),
    }
}

#[test]
fn rows_are_fed_in_batches_and_counters_add_up() {
    let e = engine();
    let (rows, stats) = run_stats(
        &e,
        "UNWIND range(1, 5) AS i CALL (i) { CREATE (:P {i: i}) } IN TRANSACTIONS OF 2 ROWS",
    )
    .unwrap();
    assert!(rows.is_empty());
    assert_eq!(stats.nodes_created, 5);
    assert_eq!(stats.properties_set, 5);
    assert_eq!(stats.labels_added, 5);
    assert_eq!(count(&e, "MATCH (p:P) RETURN count(p)"), 5);
    // The default batch (1000 rows), the importing-WITH form, and a parameter batch size.
    let (_, stats) = run_stats(
        &e,
        "MATCH (p:P) CALL { WITH p SET p.seen = true } IN TRANSACTIONS",
    )
    .unwrap();
    assert_eq!(stats.properties_set, 5);
    let mut params = Params::new();
    params.insert("n".to_string(), Value::Int(3));
    let (_, rows) = common::run_with(
        &e,
        "MATCH (p:P) CALL (p) { DETACH DELETE p } IN TRANSACTIONS OF $n ROWS RETURN count(*) AS c",
        params,
    )
    .unwrap();
    assert_eq!(rows, vec![vec![Value::Int(5)]]);
    assert_eq!(count(&e, "MATCH (p:P) RETURN count(p)"), 0);
}

#[test]
fn a_subquery_returns_rows_to_the_outer_query() {
    let e = engine();
    let rows = common::run(
        &e,
        "UNWIND [1, 2, 3] AS i CALL (i) { CREATE (n:N {v: i * 10}) RETURN n.v AS v } \
         IN TRANSACTIONS OF 2 ROWS RETURN i, v ORDER BY i",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Value::Int(1), Value::Int(10)],
            vec![Value::Int(2), Value::Int(20)],
            vec![Value::Int(3), Value::Int(30)],
        ]
    );
    // Each execution sees the commits of the batches before it.
    let rows = common::run(
        &e,
        "UNWIND [1, 2, 3] AS i CALL (i) { MATCH (n:N) WITH count(n) AS c CREATE (:N) RETURN c } \
         IN TRANSACTIONS OF 1 ROW RETURN c",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Value::Int(3)],
            vec![Value::Int(4)],
            vec![Value::Int(5)]
        ]
    );
}

#[test]
fn on_error_fail_keeps_the_batches_committed_before() {
    let e = engine();
    // Batch 3 ([5, 0]) fails: batches 1 and 2 stay committed, batch 3 and 4 leave nothing.
    let err = common::run(
        &e,
        "UNWIND [1, 2, 3, 4, 5, 0, 6, 7] AS i CALL (i) { CREATE (:F {v: 100 / i}) } \
         IN TRANSACTIONS OF 2 ROWS",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::ArithmeticError, "{err:?}");
    assert!(
        err.message.ends_with("(Transactions committed: 2)"),
        "{err:?}"
    );
    assert_eq!(count(&e, "MATCH (f:F) RETURN count(f)"), 4);
    // The default is FAIL too, written or not.
    let err = common::run(
        &e,
        "UNWIND [1, 0] AS i CALL (i) { CREATE (:G {v: 100 / i}) } IN TRANSACTIONS OF 1 ROW ON ERROR FAIL",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::ArithmeticError);
    assert_eq!(count(&e, "MATCH (g:G) RETURN count(g)"), 1);
}

#[test]
fn on_error_continue_runs_the_remaining_batches() {
    let e = engine();
    let (rows, stats) = run_stats(
        &e,
        "UNWIND [1, 0, 2, 4] AS i CALL (i) { CREATE (n:Person {num: 100 / i}) RETURN n } \
         IN TRANSACTIONS OF 1 ROW ON ERROR CONTINUE REPORT STATUS AS s \
         RETURN n.num AS num, s",
    )
    .unwrap();
    let nums: Vec<Value> = rows.iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        nums,
        vec![Value::Int(100), Value::Null, Value::Int(50), Value::Int(25)]
    );
    assert_eq!(stats.nodes_created, 3, "the failed batch counts nothing");
    let failed = &rows[1][1];
    assert_eq!(map_get(failed, "started"), &Value::Bool(true));
    assert_eq!(map_get(failed, "committed"), &Value::Bool(false));
    assert!(matches!(map_get(failed, "errorMessage"), Value::String(m) if !m.is_empty()));
    assert!(matches!(map_get(failed, "transactionId"), Value::String(_)));
    for ok in [&rows[0][1], &rows[2][1], &rows[3][1]] {
        assert_eq!(map_get(ok, "committed"), &Value::Bool(true));
        assert_eq!(map_get(ok, "errorMessage"), &Value::Null);
    }
    // Each batch is a transaction of its own.
    assert_ne!(
        map_get(&rows[0][1], "transactionId"),
        map_get(&rows[2][1], "transactionId")
    );
    assert_eq!(count(&e, "MATCH (p:Person) RETURN count(p)"), 3);
    // Batches of two: the failed batch rolls back both of its rows.
    let rows = common::run(
        &e,
        "UNWIND [1, 0, 2, 4] AS i CALL (i) { CREATE (n:Q {num: 100 / i}) RETURN n } \
         IN TRANSACTIONS OF 2 ROWS ON ERROR CONTINUE RETURN n.num",
    )
    .unwrap();
    assert_eq!(
        rows,
        vec![
            vec![Value::Null],
            vec![Value::Null],
            vec![Value::Int(50)],
            vec![Value::Int(25)]
        ]
    );
    assert_eq!(count(&e, "MATCH (q:Q) RETURN count(q)"), 2);
}

#[test]
fn on_error_break_stops_after_the_failed_batch() {
    let e = engine();
    let rows = common::run(
        &e,
        "UNWIND [1, 0, 2, 4] AS i CALL (i) { CREATE (n:Person {num: 100 / i}) RETURN n } \
         IN TRANSACTIONS OF 1 ROW ON ERROR BREAK REPORT STATUS AS s \
         RETURN n.num, s.started, s.committed, s.errorMessage IS NULL",
    )
    .unwrap();
    let t = Value::Bool(true);
    let f = Value::Bool(false);
    assert_eq!(
        rows,
        vec![
            vec![Value::Int(100), t.clone(), t.clone(), t.clone()],
            vec![Value::Null, t.clone(), f.clone(), f.clone()],
            vec![Value::Null, f.clone(), f.clone(), t.clone()],
            vec![Value::Null, f.clone(), f, t],
        ]
    );
    assert_eq!(count(&e, "MATCH (p:Person) RETURN count(p)"), 1);
}

#[test]
fn only_an_implicit_transaction_may_run_it() {
    let e = engine();
    let mut tx = e
        .begin(TxOptions {
            mode: AccessMode::Write,
            implicit: false,
            ..TxOptions::default()
        })
        .unwrap();
    let err = tx
        .run(
            "UNWIND [1, 2] AS i CALL (i) { CREATE (:X) } IN TRANSACTIONS",
            Params::new(),
        )
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::TransactionStartFailed);
    assert_eq!(
        err.code.as_str(),
        "Neo.DatabaseError.Transaction.TransactionStartFailed"
    );
    drop(tx);
    assert_eq!(count(&e, "MATCH (x:X) RETURN count(x)"), 0);
    // EXPLAIN touches no data: it describes the plan anywhere.
    let mut tx = e
        .begin(TxOptions {
            mode: AccessMode::Write,
            implicit: false,
            ..TxOptions::default()
        })
        .unwrap();
    assert!(tx
        .run(
            "EXPLAIN UNWIND [1, 2] AS i CALL (i) { CREATE (:X) } IN TRANSACTIONS",
            Params::new(),
        )
        .is_ok());
    // A read-mode auto-commit transaction may not write, in batches or not.
    let mut tx = implicit_tx(&e, AccessMode::Read).unwrap();
    let err = tx
        .run("CALL { CREATE (:X) } IN TRANSACTIONS", Params::new())
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::Forbidden);
}

#[test]
fn misuse_is_refused_at_compile_time() {
    let e = engine();
    for (q, want) in [
        (
            "CALL { CALL { CREATE (x) } IN TRANSACTIONS } IN TRANSACTIONS RETURN 1 AS result",
            "Nested CALL { ... } IN TRANSACTIONS is not supported",
        ),
        (
            "CALL { CALL { CREATE (x) } IN TRANSACTIONS } RETURN 1 AS result",
            "CALL { ... } IN TRANSACTIONS nested in a regular CALL is not supported",
        ),
        (
            "CALL { CREATE (x) } IN TRANSACTIONS RETURN 1 AS result UNION RETURN 2 AS result",
            "CALL { ... } IN TRANSACTIONS in a UNION is not supported",
        ),
        (
            "CREATE (foo) WITH foo AS foo CALL { CREATE (x) } IN TRANSACTIONS RETURN foo AS foo",
            "CALL { ... } IN TRANSACTIONS after a write clause is not supported",
        ),
        (
            "CALL { CREATE (x) } WITH 1 AS foo CALL { CREATE (x) } IN TRANSACTIONS RETURN foo AS foo",
            "CALL { ... } IN TRANSACTIONS after a write clause is not supported",
        ),
        (
            "CALL { CREATE () } IN TRANSACTIONS OF 0 ROWS",
            "Invalid input. '0' is not a valid value. Must be a positive integer.",
        ),
        (
            "CALL { CREATE () } IN TRANSACTIONS OF -1 ROWS",
            "Invalid input. '-1' is not a valid value. Must be a positive integer.",
        ),
        (
            "CALL { CREATE () } IN TRANSACTIONS OF 1.5 ROWS",
            "Invalid input. '1.5' is not a valid value. Must be a positive integer.",
        ),
        (
            "WITH 1 AS b CALL { CREATE () } IN TRANSACTIONS OF b ROWS",
            "It is not allowed to refer to variables in OF ... ROWS",
        ),
        (
            "CALL { RETURN 1 AS v } IN TRANSACTIONS REPORT STATUS AS s RETURN v, s",
            "REPORT STATUS can only be used when specifying ON ERROR CONTINUE or ON ERROR BREAK",
        ),
        (
            "CALL { RETURN 1 AS v } IN TRANSACTIONS ON ERROR FAIL REPORT STATUS AS s RETURN v, s",
            "REPORT STATUS can only be used when specifying ON ERROR CONTINUE or ON ERROR BREAK",
        ),
        (
            "WITH {} AS v CALL { CREATE () } IN TRANSACTIONS ON ERROR CONTINUE REPORT STATUS AS v RETURN v",
            "Variable `v` already declared",
        ),
    ] {
        // EXPLAIN raises it too: nothing is read or written.
        for text in [q.to_string(), format!("EXPLAIN {q}")] {
            let err = common::run(&e, &text).unwrap_err();
            assert_eq!(err.code, ErrorCode::SyntaxError, "{text}: {err:?}");
            assert!(err.message.starts_with(want), "{text}: {err:?}");
        }
    }
    // A batch size from a parameter is checked when the query runs.
    let mut params = Params::new();
    params.insert("n".to_string(), Value::Int(0));
    let err =
        common::run_with(&e, "CALL { CREATE () } IN TRANSACTIONS OF $n ROWS", params).unwrap_err();
    assert_eq!(err.code, ErrorCode::ArgumentError);
    assert_eq!(count(&e, "MATCH (n) RETURN count(n)"), 0);
    // Refused by name.
    let err = common::run(&e, "CALL { CREATE () } IN TRANSACTIONS ON ERROR RETRY").unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSupported);
    // Several in a row, and a write after one, are allowed.
    let rows = common::run(
        &e,
        "CALL { CREATE (:A) } IN TRANSACTIONS WITH 1 AS foo \
         CALL { CREATE (:B) } IN TRANSACTIONS CREATE (:C) RETURN foo",
    )
    .unwrap();
    assert_eq!(rows, vec![vec![Value::Int(1)]]);
    assert_eq!(count(&e, "MATCH (n) RETURN count(n)"), 3);
}

#[test]
fn concurrent_transactions_run_one_batch_after_the_other() {
    let e = engine();
    let (_, stats) = run_stats(
        &e,
        "UNWIND range(1, 7) AS i CALL (i) { CREATE (:K {i: i}) } IN 3 CONCURRENT TRANSACTIONS OF 2 ROWS",
    )
    .unwrap();
    assert_eq!(stats.nodes_created, 7);
    let (_, stats) = run_stats(
        &e,
        "MATCH (k:K) CALL (k) { DELETE k } IN CONCURRENT TRANSACTIONS",
    )
    .unwrap();
    assert_eq!(stats.nodes_deleted, 7);
}

#[test]
fn termination_stops_it_and_keeps_what_committed() {
    let e = engine();
    let cancel = graphward_core::engine::CancelToken::default();
    cancel.cancel();
    let mut tx = e
        .begin(TxOptions {
            mode: AccessMode::Write,
            implicit: true,
            cancel,
            ..TxOptions::default()
        })
        .unwrap();
    let err = tx
        .run(
            "UNWIND range(1, 10) AS i CALL (i) { CREATE (:T) } IN TRANSACTIONS OF 1 ROW ON ERROR CONTINUE",
            Params::new(),
        )
        .err()
        .unwrap();
    assert_eq!(err.code, ErrorCode::Terminated, "{err:?}");
    drop(tx);
    assert_eq!(count(&e, "MATCH (t:T) RETURN count(t)"), 0);
}

/// Reading clauses followed by `CALL { } IN TRANSACTIONS` and nothing else: the batches are
/// pulled from the streaming executor one after another, so the statement holds one batch,
/// not its whole input; a bulk delete reads the snapshot taken before the first batch, as
/// the runner's table was read. With a clause after it (the runner builds the input's table
/// first), the same input exceeds the budget.
#[test]
fn the_input_is_pulled_a_batch_at_a_time() {
    let mut config = EngineConfig::default();
    config.limits.max_memory_bytes = 1 << 19;
    let e = Engine::open_in_memory(config).unwrap();
    common::run(&e, "CREATE INDEX FOR (n:T) ON (n.i)").unwrap();
    let (_, stats) = run_stats(
        &e,
        "UNWIND range(1, 20000) AS i CALL (i) { CREATE (:T {i: i, name: 'n' + i}) } \
         IN TRANSACTIONS OF 500 ROWS",
    )
    .unwrap();
    assert_eq!(stats.nodes_created, 20000);
    assert_eq!(count(&e, "MATCH (n:T) RETURN count(n)"), 20000);
    let err = run_stats(
        &e,
        "UNWIND range(1, 20000) AS i CALL (i) { CREATE (:U {i: i, name: 'n' + i}) } \
         IN TRANSACTIONS OF 500 ROWS RETURN count(*) AS c",
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::MemoryLimit, "{err:?}");
    assert_eq!(count(&e, "MATCH (n:U) RETURN count(n)"), 0);
    // Each batch sees the ones before committed; the input, read from the snapshot, does not.
    let (_, stats) = run_stats(
        &e,
        "MATCH (n:T) WHERE n.i % 2 = 0 CALL (n) { MATCH (m:T {i: n.i - 1}) DETACH DELETE n, m } \
         IN TRANSACTIONS OF 200 ROWS",
    )
    .unwrap();
    assert_eq!(stats.nodes_deleted, 20000);
    assert_eq!(count(&e, "MATCH (n:T) RETURN count(n)"), 0);
    // ON ERROR CONTINUE goes on after a failed batch, as the runner does.
    let (_, stats) = run_stats(
        &e,
        "UNWIND range(1, 3000) AS i CALL (i) { CREATE (:V {v: 1 / (i - 1500)}) } \
         IN TRANSACTIONS OF 1000 ROWS ON ERROR CONTINUE",
    )
    .unwrap();
    assert_eq!(stats.nodes_created, 2000);
    assert_eq!(count(&e, "MATCH (n:V) RETURN count(n)"), 2000);
}
