//! Shared by the engine's integration tests (`mod common;`): run one statement in its own
//! auto-commit transaction through the `QueryEngine` trait, as a protocol does.
#![allow(dead_code)]

use graphward_core::engine::{AccessMode, Params, QueryEngine, Transaction, TxOptions};
use graphward_core::{Error, Value};
use graphward_cypher::Engine;

/// The rows of `query`, run and committed in an auto-commit write transaction.
pub fn run(engine: &Engine, query: &str) -> Result<Vec<Vec<Value>>, Error> {
    run_with(engine, query, Params::new()).map(|(_, rows)| rows)
}

/// The columns and rows of `query` with `params`, run and committed in an auto-commit write
/// transaction.
pub fn run_with(
    engine: &Engine,
    query: &str,
    params: Params,
) -> Result<(Vec<String>, Vec<Vec<Value>>), Error> {
    let mut tx = implicit_tx(engine, AccessMode::Write)?;
    let mut result = tx.run(query, params)?;
    let columns = result.columns().to_vec();
    let mut rows = Vec::new();
    while let Some(row) = result.next_row() {
        rows.push(row?);
    }
    drop(result);
    tx.commit()?;
    Ok((columns, rows))
}

/// An auto-commit (implicit) transaction in `mode`, as a protocol opens one for a statement.
pub fn implicit_tx(engine: &Engine, mode: AccessMode) -> Result<Box<dyn Transaction>, Error> {
    engine.begin(TxOptions {
        mode,
        implicit: true,
        ..TxOptions::default()
    })
}

/// Run `query` in `tx` and pull every row: the first error, at the run or at any row.
pub fn drain(tx: &mut dyn Transaction, query: &str, params: Params) -> Result<(), Error> {
    let mut s = tx.run(query, params)?;
    while let Some(r) = s.next_row() {
        r?;
    }
    Ok(())
}

/// The error a query over its transaction's time limit ends with.
pub fn assert_timed_out(err: &Error) {
    assert!(
        matches!(
            err.code,
            graphward_core::ErrorCode::TransactionTimedOut
                | graphward_core::ErrorCode::TransactionTimedOutClientConfiguration
        ),
        "{err:?}"
    );
}
