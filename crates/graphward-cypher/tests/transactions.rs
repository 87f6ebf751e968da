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
