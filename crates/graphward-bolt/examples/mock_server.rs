//! A Bolt server over the test mock engine, for trying real drivers before the Cypher engine
//! exists: `cargo run -p graphward-bolt --example mock_server -- 127.0.0.1:7687`.
//! Queries: `ROWS n`, `CREATE ...`, `FAIL`, `SLEEP`, `GRAPH`, `WHOAMI`; anything else echoes
//! its parameters as one row.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber_init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7687".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("mock Bolt server on {addr}");
    let m = Arc::new(common::MockEngine::default());
    graphward_bolt::serve(
        listener,
        Arc::new(common::Engine(m)),
        Arc::new(graphward_core::auth::AllowAll),
        graphward_bolt::BoltConfig::default(),
    )
    .await
}

fn tracing_subscriber_init() {}
