//! neo4rs 0.8 (Bolt 4.1 / 4.0 only) against an in-process Bolt server over the mock engine,
//! and against a real `graphward serve` when `GRAPHWARD_NEO4RS_URI` names one
//! (e.g. `127.0.0.1:7687`; user `neo4j`, password `password`).
#![cfg(feature = "neo4rs")]

#[path = "../../graphward-bolt/tests/common/mod.rs"]
mod common;

use std::sync::Arc;

use neo4rs::{query, Graph, Node, Relation};

async fn mock_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let m = Arc::new(common::MockEngine::default());
    tokio::spawn(graphward_bolt::serve(
        listener,
        Arc::new(common::Engine(m)),
        Arc::new(graphward_core::auth::AllowAll),
        graphward_bolt::BoltConfig::default(),
    ));
    addr
}

#[tokio::test]
async fn neo4rs_against_mock_engine() {
    let addr = mock_server().await;
    let graph = Graph::new(&addr, "neo4j", "pw").await.unwrap();

    let mut rows = graph
        .execute(query("ECHO").param("a", 5i64).param("b", "hé"))
        .await
        .unwrap();
    let row = rows.next().await.unwrap().unwrap();
    assert_eq!(row.get::<i64>("a").unwrap(), 5);
    assert_eq!(row.get::<String>("b").unwrap(), "hé");
    assert!(rows.next().await.unwrap().is_none());

    let mut rows = graph.execute(query("GRAPH")).await.unwrap();
    let row = rows.next().await.unwrap().unwrap();
    let n: Node = row.get("n").unwrap();
    assert_eq!(n.labels(), vec!["Person".to_string()]);
    assert_eq!(n.get::<String>("name").unwrap(), "n1");
    let r: Relation = row.get("r").unwrap();
    assert_eq!(r.typ(), "KNOWS");
    assert_eq!(r.start_node_id(), n.id());

    // Paged pulls (neo4rs fetches 200 at a time).
    let mut rows = graph.execute(query("ROWS 450")).await.unwrap();
    let mut count = 0i64;
    while let Some(row) = rows.next().await.unwrap() {
        assert_eq!(row.get::<i64>("i").unwrap(), count);
        count += 1;
    }
    assert_eq!(count, 450);

    // Explicit transaction.
    let mut txn = graph.start_txn().await.unwrap();
    txn.run_queries([query("CREATE (n)"), query("CREATE (m)")])
        .await
        .unwrap();
    txn.commit().await.unwrap();

    // Errors surface and the pool recovers.
    assert!(graph.run(query("FAIL")).await.is_err());
    let mut rows = graph.execute(query("ROWS 1")).await.unwrap();
    assert!(rows.next().await.unwrap().is_some());
}

#[tokio::test]
async fn neo4rs_against_real_server() {
    let Ok(addr) = std::env::var("GRAPHWARD_NEO4RS_URI") else {
        eprintln!("GRAPHWARD_NEO4RS_URI not set; skipping");
        return;
    };
    let graph = Graph::new(&addr, "neo4j", "password").await.unwrap();
    let mut rows = graph
        .execute(query("CREATE (p:RsPerson {name: $name}) RETURN p").param("name", "ferris"))
        .await
        .unwrap();
    let row = rows.next().await.unwrap().unwrap();
    let p: Node = row.get("p").unwrap();
    assert_eq!(p.labels(), vec!["RsPerson".to_string()]);
    assert_eq!(p.get::<String>("name").unwrap(), "ferris");
    let mut txn = graph.start_txn().await.unwrap();
    txn.run(query("CREATE (:RsTx {v: 1})")).await.unwrap();
    txn.commit().await.unwrap();
    let mut rows = graph
        .execute(query("MATCH (n:RsTx) RETURN count(n) AS c"))
        .await
        .unwrap();
    let row = rows.next().await.unwrap().unwrap();
    assert_eq!(row.get::<i64>("c").unwrap(), 1);
}
