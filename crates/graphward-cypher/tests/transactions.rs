#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Explicit transactions: snapshot reads, the write lock taken at the first write, no lost
//! update, and the transaction's timeout bounding its wait for the lock.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use graphward_core::engine::{AccessMode, EngineConfig, QueryEngine, Transaction, TxOptions};
use graphward_core::{ErrorCode, Value};
use graphward_cypher::Engine;

fn begin(e: &Engine, timeout: Option<Duration>) -> Box<dyn Transaction> {
    e.begin(TxOptions {
        mode: AccessMode::Write,
        timeout,
        ..TxOptions::default()
    })
    .unwrap()
}

fn one(tx: &mut Box<dyn Transaction>, q: &str) -> Result<Value, graphward_core::Error> {
    let mut s = tx.run(q, BTreeMap::new())?;
    let v = match s.next_row() {
        Some(r) => r?.into_iter().next().unwrap_or(Value::Null),
        None => Value::Null,
    };
    Ok(v)
}

fn setup() -> Engine {
    let e = Engine::open_in_memory(EngineConfig::default()).unwrap();
    let mut tx = begin(&e, None);
    one(&mut tx, "CREATE (:C {v: 0})").unwrap();
    tx.commit().unwrap();
    e
}

#[test]
fn an_idle_write_mode_transaction_does_not_block_writers() {
    let e = setup();
    let mut idle = begin(&e, None);
    assert_eq!(
        one(&mut idle, "MATCH (c:C) RETURN c.v").unwrap(),
        Value::Int(0)
    );
    // Another writer commits while the first one is open and has only read.
    let mut w = begin(&e, Some(Duration::from_secs(2)));
    one(&mut w, "MATCH (c:C) SET c.v = c.v + 1").unwrap();
    w.commit().unwrap();
    // The first one still reads its snapshot...
    assert_eq!(
        one(&mut idle, "MATCH (c:C) RETURN c.v").unwrap(),
        Value::Int(0)
    );
    // ...and its write would be based on a stale read: refused, retryable.
    let err = one(&mut idle, "MATCH (c:C) SET c.v = c.v + 1").unwrap_err();
    assert_eq!(err.code, ErrorCode::Outdated);
    assert!(err.code.as_str().starts_with("Neo.TransientError."));
    assert!(idle.commit().is_err());
    let mut r = begin(&e, None);
    assert_eq!(
        one(&mut r, "MATCH (c:C) RETURN c.v").unwrap(),
        Value::Int(1)
    );
}

#[test]
fn read_then_write_without_concurrent_commit_succeeds() {
    let e = setup();
    let mut tx = begin(&e, None);
    let v = one(&mut tx, "MATCH (c:C) RETURN c.v").unwrap();
    assert_eq!(v, Value::Int(0));
    one(&mut tx, "MATCH (c:C) SET c.v = 10").unwrap();
    assert_eq!(
        one(&mut tx, "MATCH (c:C) RETURN c.v").unwrap(),
        Value::Int(10)
    );
    tx.commit().unwrap();
    let mut r = begin(&e, None);
    assert_eq!(
        one(&mut r, "MATCH (c:C) RETURN c.v").unwrap(),
        Value::Int(10)
    );
}

#[test]
fn concurrent_increments_with_retry_lose_nothing() {
    let e = setup();
    let (writers, each) = (4, 25);
    let handles: Vec<_> = (0..writers)
        .map(|_| {
            let e = e.clone();
            std::thread::spawn(move || {
                for _ in 0..each {
                    loop {
                        let mut tx = begin(&e, Some(Duration::from_secs(20)));
                        let read = one(&mut tx, "MATCH (c:C) RETURN c.v");
                        let Ok(Value::Int(v)) = read else {
                            panic!("read failed: {read:?}")
                        };
                        let q = format!("MATCH (c:C) SET c.v = {}", v + 1);
                        match one(&mut tx, &q).and_then(|_| tx.commit().map(|_| Value::Null)) {
                            Ok(_) => break,
                            Err(err) if err.code == ErrorCode::Outdated => continue,
                            Err(err) => panic!("unexpected error: {err:?}"),
                        }
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let mut r = begin(&e, None);
    assert_eq!(
        one(&mut r, "MATCH (c:C) RETURN c.v").unwrap(),
        Value::Int(writers * each)
    );
}

#[test]
fn waiting_for_the_lock_ends_at_the_transaction_timeout_and_names_the_holder() {
    let e = setup();
    let mut holder = begin(&e, None);
    one(&mut holder, "CREATE (:X)").unwrap();
    let mut waiter = begin(&e, Some(Duration::from_millis(300)));
    let start = Instant::now();
    let err = one(&mut waiter, "CREATE (:Y)").unwrap_err();
    let waited = start.elapsed();
    assert_eq!(err.code, ErrorCode::TransactionTimedOutClientConfiguration);
    assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    assert!(err.message.contains("-transaction-"), "{}", err.message);
    drop(waiter);
    holder.commit().unwrap();
}

#[test]
fn a_first_statement_that_writes_needs_no_fresh_snapshot() {
    let e = setup();
    // BEGIN takes a snapshot; another transaction commits before the first statement.
    let mut tx = begin(&e, None);
    let mut other = begin(&e, None);
    one(&mut other, "MATCH (c:C) SET c.v = c.v + 1").unwrap();
    other.commit().unwrap();
    // Nothing was read from the old snapshot: the write runs on the current state.
    one(&mut tx, "MATCH (c:C) SET c.v = c.v + 1").unwrap();
    tx.commit().unwrap();
    let mut r = begin(&e, None);
    assert_eq!(
        one(&mut r, "MATCH (c:C) RETURN c.v").unwrap(),
        Value::Int(2)
    );
}

#[test]
fn prepared_statements_are_cached_and_classified() {
    let e = setup();
    // A query is kept: the next prepare of the same text shares what the engine learned.
    let q = "MATCH (c:C) RETURN c.v";
    let a = e.prepare(q).unwrap();
    assert!(a.is_short_read());
    assert!(!a.is_checked());
    let mut tx = e
        .begin(TxOptions {
            implicit: true,
            ..TxOptions::default()
        })
        .unwrap();
    let mut s = tx.run_prepared(a, BTreeMap::new()).unwrap();
    assert_eq!(s.next_row().unwrap().unwrap(), vec![Value::Int(0)]);
    drop(s);
    tx.commit().unwrap();
    let b = e.prepare(q).unwrap();
    assert!(b.is_checked(), "checked once, for every copy");
    // Updates, procedure calls and subqueries are not short reads; commands are not kept.
    for q in [
        "CREATE (:C)",
        "MATCH (c:C) SET c.v = 1",
        "CALL db.labels()",
        "MATCH (c) CALL { RETURN 1 AS x } RETURN x",
        "MATCH (c) WHERE EXISTS { MATCH (c)-->() } RETURN c",
        "CREATE INDEX FOR (c:C) ON (c.v)",
        "SHOW DATABASES",
    ] {
        assert!(!e.prepare(q).unwrap().is_short_read(), "{q}");
    }
    assert!(e
        .prepare("UNWIND [1, 2] AS x WITH x RETURN x")
        .unwrap()
        .is_short_read());
    // A schema change empties the cache.
    let mut tx = begin(&e, None);
    one(&mut tx, "CREATE INDEX FOR (c:C) ON (c.v)").unwrap();
    tx.commit().unwrap();
    assert!(!e.prepare(q).unwrap().is_checked());
    // A semantic error is still reported on every run.
    let bad = "MATCH (c:C) RETURN nope";
    for _ in 0..2 {
        let p = e.prepare(bad).unwrap();
        let mut tx = begin(&e, None);
        assert!(tx.run_prepared(p, BTreeMap::new()).is_err());
    }
}

#[test]
fn a_short_read_over_its_time_limit_fails_and_writes_nothing() {
    let e = setup();
    let p = e
        .prepare("UNWIND range(1, 3000) AS a UNWIND range(1, 3000) AS b RETURN count(*)")
        .unwrap();
    assert!(p.is_short_read());
    let mut tx = e
        .begin(TxOptions {
            implicit: true,
            timeout: Some(Duration::from_millis(1)),
            ..TxOptions::default()
        })
        .unwrap();
    let r = tx
        .run_prepared(p, BTreeMap::new())
        .and_then(|mut s| s.next_row().unwrap_or(Ok(vec![])));
    let err = r.unwrap_err();
    assert!(
        matches!(
            err.code,
            ErrorCode::TransactionTimedOut | ErrorCode::TransactionTimedOutClientConfiguration
        ),
        "{err:?}"
    );
}
