#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The server state machine against a mock engine, over an in-memory pipe.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use graphward_bolt::BoltConfig;
use graphward_core::temporal::{DateTime, Zone};
use graphward_core::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HELLO: u8 = 0x01;
const GOODBYE: u8 = 0x02;
const RESET: u8 = 0x0F;
const RUN: u8 = 0x10;
const BEGIN: u8 = 0x11;
const COMMIT: u8 = 0x12;
const ROLLBACK: u8 = 0x13;
const DISCARD: u8 = 0x2F;
const PULL: u8 = 0x3F;
const TELEMETRY: u8 = 0x54;
const ROUTE: u8 = 0x66;
const LOGON: u8 = 0x6A;
const LOGOFF: u8 = 0x6B;

fn ctx() -> (Arc<MockEngine>, Arc<graphward_bolt::BoltContext>) {
    context(Arc::new(Password), BoltConfig::default())
}

fn pull(n: i64) -> Value {
    map(&[("n", Value::Int(n))])
}

fn s(v: &str) -> Value {
    Value::from(v)
}

#[tokio::test]
async fn manifest_handshake_then_pipelined_hello_logon_run_pull() {
    let (engine, ctx) = ctx();
    let mut c = spawn(ctx);
    let mut hs = vec![0x60, 0x60, 0xB0, 0x17];
    hs.extend_from_slice(&[0, 0, 1, 0xFF, 0, 8, 8, 5, 0, 2, 4, 4, 0, 0, 0, 3]);
    c.send_raw(&hs).await;
    let mut reply = [0u8; 18];
    c.io.read_exact(&mut reply).await.unwrap();
    assert_eq!(
        reply,
        [0, 0, 1, 0xFF, 3, 0, 2, 8, 5, 0, 4, 4, 5, 0, 3, 4, 4, 0]
    );
    c.send_raw(&[0, 0, 8, 5, 0]).await;
    c.send(HELLO, &[map(&[("user_agent", s("t"))])]).await;
    c.send(
        LOGON,
        &[map(&[
            ("scheme", s("basic")),
            ("principal", s("bob")),
            ("credentials", s("secret")),
        ])],
    )
    .await;
    c.send(
        RUN,
        &[
            s("ECHO"),
            map(&[("a", Value::Int(1)), ("b", s("x"))]),
            empty(),
        ],
    )
    .await;
    c.send(PULL, &[pull(1000)]).await;
    let hello = c.recv().await;
    let m = hello.meta();
    assert!(matches!(m.get("server"), Some(Value::String(a)) if a.starts_with("Neo4j/")));
    assert!(m.contains_key("connection_id"));
    assert_eq!(m.get("protocol_version"), Some(&s("5.8")));
    assert!(c.recv().await.is_success());
    let run = c.recv().await;
    assert_eq!(
        run.meta().get("fields"),
        Some(&Value::List(vec![s("a"), s("b")]))
    );
    assert!(run.meta().contains_key("t_first"));
    assert!(!run.meta().contains_key("qid"));
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(1), s("x")]));
    let done = c.recv().await;
    let m = done.meta();
    assert_eq!(m.get("has_more"), Some(&Value::Bool(false)));
    assert_eq!(m.get("type"), Some(&s("r")));
    assert_eq!(m.get("db"), Some(&s("neo4j")));
    assert_eq!(m.get("bookmark"), Some(&s("bm-1")));
    assert!(m.contains_key("t_last"));
    c.send(GOODBYE, &[]).await;
    assert!(c.recv_opt().await.is_none());
    let log = engine.log.lock().unwrap().clone();
    assert_eq!(log, vec!["begin neo4j", "run neo4j ECHO", "commit neo4j"]);
}

#[tokio::test]
async fn no_common_version_gets_zeros_and_close() {
    let (_e, ctx) = ctx();
    let mut c = spawn(ctx);
    let r = c
        .handshake([[0, 0, 0, 3], [0, 0, 0, 1], [0; 4], [0; 4]])
        .await;
    assert_eq!(r, [0, 0, 0, 0]);
    let mut b = [0u8; 1];
    assert_eq!(c.io.read(&mut b).await.unwrap(), 0);
}

#[tokio::test]
async fn bad_preamble_is_dropped() {
    let (_e, ctx) = ctx();
    let mut c = spawn(ctx);
    c.send_raw(b"HELO there, not bolt at all").await;
    let mut b = [0u8; 1];
    assert_eq!(c.io.read(&mut b).await.unwrap(), 0);
}

#[tokio::test]
async fn pull_n_streams_in_pages_and_discard() {
    let (_e, ctx) = ctx();
    let mut c = Client::connect(ctx, 5, 4).await;
    c.send(RUN, &[s("ROWS 5"), empty(), empty()]).await;
    assert!(c.recv().await.is_success());
    c.send(PULL, &[pull(2)]).await;
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(0)]));
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(1)]));
    let m = c.recv().await;
    assert_eq!(m.meta().get("has_more"), Some(&Value::Bool(true)));
    assert_eq!(m.meta().len(), 1);
    c.send(PULL, &[pull(-1)]).await;
    for i in 2..5 {
        assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(i)]));
    }
    assert_eq!(
        c.recv().await.meta().get("has_more"),
        Some(&Value::Bool(false))
    );
    // DISCARD everything.
    c.send(RUN, &[s("ROWS 3000"), empty(), empty()]).await;
    c.send(DISCARD, &[pull(-1)]).await;
    assert!(c.recv().await.is_success());
    let m = c.recv().await;
    assert_eq!(m.meta().get("has_more"), Some(&Value::Bool(false)));
    assert!(m.meta().contains_key("bookmark"));
    // Large pull across several internal batches.
    c.send(RUN, &[s("ROWS 2500"), empty(), empty()]).await;
    c.send(PULL, &[pull(-1)]).await;
    assert!(c.recv().await.is_success());
    for i in 0..2500 {
        assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(i)]));
    }
    assert_eq!(
        c.recv().await.meta().get("has_more"),
        Some(&Value::Bool(false))
    );
}

#[tokio::test]
async fn explicit_transaction_with_several_results() {
    let (engine, ctx) = ctx();
    let mut c = Client::connect(ctx, 4, 4).await;
    c.send(BEGIN, &[map(&[("db", s("other"))])]).await;
    c.send(RUN, &[s("ROWS 2"), empty(), empty()]).await;
    c.send(RUN, &[s("CREATE (n)"), empty(), empty()]).await;
    c.send(
        PULL,
        &[map(&[("n", Value::Int(-1)), ("qid", Value::Int(0))])],
    )
    .await;
    c.send(
        PULL,
        &[map(&[("n", Value::Int(-1)), ("qid", Value::Int(1))])],
    )
    .await;
    c.send(COMMIT, &[]).await;
    assert!(c.recv().await.is_success());
    assert_eq!(c.recv().await.meta().get("qid"), Some(&Value::Int(0)));
    assert_eq!(c.recv().await.meta().get("qid"), Some(&Value::Int(1)));
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(0)]));
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(1)]));
    let first = c.recv().await;
    assert_eq!(first.meta().get("has_more"), Some(&Value::Bool(false)));
    assert!(!first.meta().contains_key("bookmark"));
    let second = c.recv().await;
    assert_eq!(second.meta().get("type"), Some(&s("w")));
    assert_eq!(second.meta().get("db"), Some(&s("other")));
    let Some(Value::Map(stats)) = second.meta().get("stats") else {
        panic!("{second:?}")
    };
    assert_eq!(stats.get("nodes-created"), Some(&Value::Int(1)));
    assert_eq!(stats.get("contains-updates"), Some(&Value::Bool(true)));
    let commit = c.recv().await;
    assert_eq!(commit.meta().get("bookmark"), Some(&s("bm-1")));
    // Rollback.
    c.send(BEGIN, &[empty()]).await;
    c.send(RUN, &[s("CREATE (n)"), empty(), empty()]).await;
    c.send(ROLLBACK, &[]).await;
    assert!(c.recv().await.is_success());
    assert!(c.recv().await.is_success());
    assert!(c.recv().await.is_success());
    let log = engine.log.lock().unwrap().clone();
    assert_eq!(log.last().map(String::as_str), Some("rollback neo4j"));
    assert!(log.contains(&"run other CREATE (n)".to_string()));
}

#[tokio::test]
async fn failure_then_ignored_until_reset() {
    let (_e, ctx) = ctx();
    for (major, minor) in [(4, 4), (5, 7)] {
        let mut c = Client::connect(ctx.clone(), major, minor).await;
        c.send(RUN, &[s("FAIL"), empty(), empty()]).await;
        c.send(PULL, &[pull(-1)]).await;
        c.send(RUN, &[s("ECHO"), empty(), empty()]).await;
        c.send(RESET, &[]).await;
        c.send(RUN, &[s("ROWS 1"), empty(), empty()]).await;
        c.send(PULL, &[pull(-1)]).await;
        let f = c.recv().await;
        assert_eq!(f.code(), "Neo.ClientError.Statement.SyntaxError");
        assert_eq!(
            f.meta().get("neo4j_code"),
            Some(&s("Neo.ClientError.Statement.SyntaxError"))
        );
        assert!(f.meta().contains_key("message"));
        if minor == 7 {
            assert_eq!(f.meta().get("gql_status"), Some(&s("42001")));
            assert!(f.meta().contains_key("description"));
            assert!(f.meta().contains_key("diagnostic_record"));
        } else {
            assert!(!f.meta().contains_key("gql_status"));
        }
        assert_eq!(c.recv().await, Msg::Ignored);
        assert_eq!(c.recv().await, Msg::Ignored);
        assert!(c.recv().await.is_success()); // RESET
        assert!(c.recv().await.is_success()); // RUN
        assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(0)]));
        assert!(c.recv().await.is_success());
    }
}

#[tokio::test]
async fn reset_interrupts_a_running_query() {
    let (_e, ctx) = ctx();
    let mut c = Client::connect(ctx, 5, 0).await;
    c.send(RUN, &[s("SLEEP"), empty(), empty()]).await;
    c.send(PULL, &[pull(-1)]).await;
    assert!(c.recv().await.is_success());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    c.send(RESET, &[]).await;
    let interrupted = c.recv().await;
    assert!(
        matches!(interrupted, Msg::Ignored | Msg::Failure(_)),
        "{interrupted:?}"
    );
    assert!(c.recv().await.is_success());
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "RESET took {:?}",
        t.elapsed()
    );
    c.send(RUN, &[s("ROWS 1"), empty(), empty()]).await;
    c.send(PULL, &[pull(-1)]).await;
    assert!(c.recv().await.is_success());
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(0)]));
}

#[tokio::test]
async fn bad_credentials_fail_and_close() {
    let (_e, ctx) = ctx();
    // 5.x: LOGON.
    let mut c = spawn(ctx.clone());
    c.handshake([[0, 0, 4, 5], [0; 4], [0; 4], [0; 4]]).await;
    c.send(HELLO, &[map(&[("user_agent", s("t"))])]).await;
    c.send(
        LOGON,
        &[map(&[
            ("scheme", s("basic")),
            ("principal", s("x")),
            ("credentials", s("no")),
        ])],
    )
    .await;
    assert!(c.recv().await.is_success());
    let f = c.recv().await;
    assert_eq!(f.code(), "Neo.ClientError.Security.Unauthorized");
    assert!(c.recv_opt().await.is_none());
    // 4.x: auth inside HELLO; a missing scheme means "none" and is refused by this authenticator.
    let mut c = spawn(ctx);
    c.handshake([[0, 0, 1, 4], [0; 4], [0; 4], [0; 4]]).await;
    c.flavor = graphward_bolt::packstream::Flavor::V4;
    c.send(HELLO, &[map(&[("user_agent", s("t"))])]).await;
    assert_eq!(
        c.recv().await.code(),
        "Neo.ClientError.Security.Unauthorized"
    );
    assert!(c.recv_opt().await.is_none());
}

#[tokio::test]
async fn logoff_logon_reauth_and_telemetry() {
    let (_e, ctx) = ctx();
    let mut c = Client::connect(ctx, 5, 4).await;
    c.send(TELEMETRY, &[Value::Int(1)]).await;
    assert!(c.recv().await.is_success());
    c.send(LOGOFF, &[]).await;
    c.send(
        LOGON,
        &[map(&[
            ("scheme", s("basic")),
            ("principal", s("carol")),
            ("credentials", s("secret")),
        ])],
    )
    .await;
    c.send(RUN, &[s("WHOAMI"), empty(), empty()]).await;
    c.send(PULL, &[pull(-1)]).await;
    assert!(c.recv().await.is_success());
    assert!(c.recv().await.is_success());
    assert!(c.recv().await.is_success());
    assert_eq!(c.recv().await, Msg::Record(vec![s("carol")]));
}

#[tokio::test]
async fn v4_shapes_and_utc_patch() {
    let (_e, ctx) = ctx();
    let dt = Value::DateTime(DateTime {
        seconds: 0,
        nanos: 0,
        zone: Zone::Offset(3600),
    });
    // 4.1: legacy 'F'.
    let mut c = Client::connect(ctx.clone(), 4, 1).await;
    c.send(RUN, &[s("ECHO"), map(&[("d", dt.clone())]), empty()])
        .await;
    c.send(PULL, &[pull(-1)]).await;
    assert!(c.recv().await.is_success());
    assert_eq!(c.recv().await, Msg::Record(vec![dt.clone()]));
    let done = c.recv().await;
    assert_eq!(done.meta().get("has_more"), Some(&Value::Bool(false)));
    // 4.4 with the utc patch echoes it and then uses 'I'.
    let mut c = spawn(ctx);
    c.handshake([[0, 0, 4, 4], [0; 4], [0; 4], [0; 4]]).await;
    c.flavor = graphward_bolt::packstream::Flavor::V4;
    c.send(
        HELLO,
        &[map(&[
            ("user_agent", s("t")),
            ("patch_bolt", Value::List(vec![s("utc")])),
            ("scheme", s("basic")),
            ("principal", s("a")),
            ("credentials", s("secret")),
        ])],
    )
    .await;
    let h = c.recv().await;
    assert_eq!(
        h.meta().get("patch_bolt"),
        Some(&Value::List(vec![s("utc")]))
    );
    c.flavor = graphward_bolt::packstream::Flavor {
        element_ids: false,
        utc: true,
    };
    c.send(RUN, &[s("ECHO"), map(&[("d", dt.clone())]), empty()])
        .await;
    c.send(PULL, &[pull(-1)]).await;
    assert!(c.recv().await.is_success());
    assert_eq!(c.recv().await, Msg::Record(vec![dt]));
}

#[tokio::test]
async fn route_answers_with_this_server() {
    let (_e, ctx) = ctx();
    let mut c = Client::connect(ctx, 5, 8).await;
    c.send(
        ROUTE,
        &[
            map(&[("address", s("db.example:7687"))]),
            Value::List(vec![]),
            map(&[("db", Value::Null)]),
        ],
    )
    .await;
    let r = c.recv().await;
    let Some(Value::Map(rt)) = r.meta().get("rt") else {
        panic!("{r:?}")
    };
    assert_eq!(rt.get("db"), Some(&s("neo4j")));
    assert_eq!(rt.get("ttl"), Some(&Value::Int(300)));
    let Some(Value::List(servers)) = rt.get("servers") else {
        panic!()
    };
    assert_eq!(servers.len(), 3);
    for srv in servers {
        let Value::Map(m) = srv else { panic!() };
        assert_eq!(
            m.get("addresses"),
            Some(&Value::List(vec![s("db.example:7687")]))
        );
    }
    c.send(
        ROUTE,
        &[empty(), Value::List(vec![]), map(&[("db", s("system"))])],
    )
    .await;
    assert!(c.recv().await.is_success());
    c.send(
        ROUTE,
        &[empty(), Value::List(vec![]), map(&[("db", s("nope"))])],
    )
    .await;
    assert_eq!(
        c.recv().await.code(),
        "Neo.ClientError.Database.DatabaseNotFound"
    );
    c.send(RESET, &[]).await;
    assert!(c.recv().await.is_success());
}

#[tokio::test]
async fn route_without_a_client_address_announces_the_listening_address() {
    // pymgclient and gqlalchemy send no address: the table names the port the server
    // listens on, not a fixed localhost:7687.
    let config = BoltConfig {
        listen_address: "127.0.0.1:17999".to_string(),
        ..BoltConfig::default()
    };
    let (_e, ctx) = context(Arc::new(Password), config);
    let mut c = Client::connect(ctx, 5, 8).await;
    c.send(
        ROUTE,
        &[empty(), Value::List(vec![]), map(&[("db", Value::Null)])],
    )
    .await;
    let r = c.recv().await;
    let Some(Value::Map(rt)) = r.meta().get("rt") else {
        panic!("{r:?}")
    };
    let Some(Value::List(servers)) = rt.get("servers") else {
        panic!()
    };
    for srv in servers {
        let Value::Map(m) = srv else { panic!() };
        assert_eq!(
            m.get("addresses"),
            Some(&Value::List(vec![s("127.0.0.1:17999")]))
        );
    }
}

#[tokio::test]
async fn begin_commit_as_run_statements() {
    let (engine, ctx) = ctx();
    let mut c = Client::connect(ctx, 4, 4).await;
    for q in ["BEGIN", "CREATE (n)", "COMMIT"] {
        c.send(RUN, &[s(q), empty(), empty()]).await;
        let r = c.recv().await;
        assert!(r.is_success(), "{q}: {r:?}");
        c.send(PULL, &[pull(-1)]).await;
        let r = c.recv().await;
        assert_eq!(r.meta().get("has_more"), Some(&Value::Bool(false)), "{q}");
    }
    let log = engine.log.lock().unwrap().clone();
    assert_eq!(
        log,
        vec!["begin neo4j", "run neo4j CREATE (n)", "commit neo4j"]
    );
    c.send(RUN, &[s("COMMIT"), empty(), empty()]).await;
    assert_eq!(
        c.recv().await.code(),
        "Neo.ClientError.Transaction.TransactionNotFound"
    );
}

#[tokio::test]
async fn protocol_violation_fails_and_closes() {
    let (_e, ctx) = ctx();
    let mut c = Client::connect(ctx.clone(), 5, 0).await;
    c.send(COMMIT, &[]).await;
    assert_eq!(c.recv().await.code(), "Neo.ClientError.Request.Invalid");
    assert!(c.recv_opt().await.is_none());
    // Garbage inside a well-framed message.
    let mut c = Client::connect(ctx, 5, 0).await;
    c.send_raw(&[0, 3, 0xB1, 0x10, 0xC4, 0, 0]).await;
    assert_eq!(c.recv().await.code(), "Neo.ClientError.Request.Invalid");
    assert!(c.recv_opt().await.is_none());
}

#[tokio::test]
async fn message_size_limit_and_idle_timeout() {
    let config = BoltConfig {
        max_message_size: 1000,
        idle_timeout: Duration::from_millis(300),
        ..BoltConfig::default()
    };
    let (_e, ctx) = context(Arc::new(Password), config);
    let mut c = Client::connect(ctx.clone(), 5, 0).await;
    c.send(RUN, &[s(&"x".repeat(5000)), empty(), empty()]).await;
    assert_eq!(c.recv().await.code(), "Neo.ClientError.Request.Invalid");
    assert!(c.recv_opt().await.is_none());
    let mut c = Client::connect(ctx, 5, 0).await;
    let t = Instant::now();
    assert!(c.recv_opt().await.is_none());
    assert!(t.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn preauth_deadline_and_per_address_cap() {
    let config = BoltConfig {
        preauth: graphward_core::preauth::PreAuthLimits {
            timeout: Duration::from_millis(300),
            max_per_address: 1,
            max_total: 10,
        },
        ..BoltConfig::default()
    };
    let (_e, ctx) = context(Arc::new(Password), config);
    // Handshake, then nothing: closed at the deadline.
    let mut silent = spawn(ctx.clone());
    assert_eq!(
        silent
            .handshake([[0, 0, 4, 5], [0; 4], [0; 4], [0; 4]])
            .await,
        [0, 0, 4, 5]
    );
    // Meanwhile a second unauthenticated connection from the same address is over the cap:
    // its HELLO gets a FAILURE saying so.
    let mut over = spawn(ctx.clone());
    over.handshake([[0, 0, 4, 5], [0; 4], [0; 4], [0; 4]]).await;
    over.send(0x01, &[map(&[("user_agent", Value::from("test/1"))])])
        .await;
    assert_eq!(
        over.recv().await.code(),
        "Neo.TransientError.Security.AuthenticationBusy"
    );
    let t = Instant::now();
    assert!(silent.recv_opt().await.is_none());
    assert!(t.elapsed() < Duration::from_secs(2));
    // Once the slot is free a client authenticates, and the deadline no longer applies.
    let mut c = Client::connect(ctx.clone(), 5, 4).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    c.send(RUN, &[s("RETURN 1"), empty(), empty()]).await;
    assert!(c.recv().await.is_success());
    assert_eq!(ctx.unauthenticated_connections(), 0);
}

#[tokio::test]
async fn max_connections_is_enforced() {
    let config = BoltConfig {
        max_connections: 1,
        ..BoltConfig::default()
    };
    let (_e, ctx) = context(Arc::new(Password), config);
    let _first = Client::connect(ctx.clone(), 5, 0).await;
    let mut second = spawn(ctx);
    second
        .send_raw(&[
            0x60, 0x60, 0xB0, 0x17, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ])
        .await;
    let mut b = [0u8; 4];
    assert_eq!(second.io.read(&mut b).await.unwrap(), 0);
}

fn ws_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [1u8, 2, 3, 4];
    let mut f = vec![0x82];
    if payload.len() < 126 {
        f.push(0x80 | payload.len() as u8);
    } else {
        f.push(0x80 | 126);
        f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    }
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

async fn read_ws_frame(io: &mut tokio::io::DuplexStream) -> Vec<u8> {
    let mut h = [0u8; 2];
    io.read_exact(&mut h).await.unwrap();
    assert_eq!(h[0], 0x82);
    let len = match h[1] {
        126 => {
            let mut l = [0u8; 2];
            io.read_exact(&mut l).await.unwrap();
            u16::from_be_bytes(l) as usize
        }
        n => n as usize,
    };
    let mut p = vec![0u8; len];
    io.read_exact(&mut p).await.unwrap();
    p
}

#[tokio::test]
async fn bolt_over_websocket() {
    let (_e, ctx) = ctx();
    let mut c = spawn(ctx);
    c.io.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    )
    .await
    .unwrap();
    let mut resp = Vec::new();
    while !resp.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        c.io.read_exact(&mut b).await.unwrap();
        resp.push(b[0]);
    }
    let resp = String::from_utf8(resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 101"), "{resp}");
    assert!(resp.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    // Handshake split over two frames; manifest answer comes back as ONE frame.
    let mut hs = vec![0x60, 0x60, 0xB0, 0x17, 0, 0, 1, 0xFF];
    c.io.write_all(&ws_frame(&hs)).await.unwrap();
    hs = vec![0, 8, 8, 5, 0, 2, 4, 4, 0, 0, 0, 3];
    c.io.write_all(&ws_frame(&hs)).await.unwrap();
    let reply = read_ws_frame(&mut c.io).await;
    assert_eq!(reply.len(), 18);
    assert_eq!(&reply[..4], &[0, 0, 1, 0xFF]);
    // Choose 5.4, HELLO + LOGON in one frame.
    let mut payload = vec![0, 0, 4, 5, 0];
    for (tag, m) in [
        (HELLO, map(&[("user_agent", s("ws"))])),
        (
            LOGON,
            map(&[
                ("scheme", s("basic")),
                ("principal", s("w")),
                ("credentials", s("secret")),
            ]),
        ),
    ] {
        let mut body = Vec::new();
        let mut e = graphward_bolt::packstream::Encoder::new(
            &mut body,
            graphward_bolt::packstream::Flavor::V5,
        );
        e.struct_header(1, tag).unwrap();
        e.value(&m).unwrap();
        graphward_bolt::chunk::write_message(&mut payload, &body);
    }
    c.io.write_all(&ws_frame(&payload)).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 2 {
        let f = read_ws_frame(&mut c.io).await;
        let mut rest = &f[..];
        while let graphward_bolt::chunk::Parsed::Message { consumed, payload } =
            graphward_bolt::chunk::parse_message(rest, 1 << 20).unwrap()
        {
            got.push(payload[1]);
            rest = &rest[consumed..];
        }
    }
    assert_eq!(got, vec![0x70, 0x70]);
}

#[tokio::test]
async fn websocket_origin_allow_list_and_plain_http() {
    let config = BoltConfig {
        ws_allowed_origins: vec!["https://good.example".into()],
        ..BoltConfig::default()
    };
    let (_e, ctx) = context(Arc::new(Password), config);
    let mut c = spawn(ctx.clone());
    c.io.write_all(
        b"GET / HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: https://evil.example\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    )
    .await
    .unwrap();
    let mut resp = String::new();
    c.io.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 403"), "{resp}");
    let mut c = spawn(ctx);
    c.io.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut resp = String::new();
    c.io.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 400"), "{resp}");
    assert!(resp.contains("missing upgrade"));
}

#[tokio::test]
async fn impersonation_is_refused_not_ignored() {
    let (engine, ctx) = ctx();
    let mut c = Client::connect(ctx, 5, 4).await;
    c.send(RUN, &[s("ECHO"), empty(), map(&[("imp_user", s("root"))])])
        .await;
    assert_eq!(
        c.recv().await.code(),
        "Neo.ClientError.Statement.FeatureNotSupported"
    );
    c.send(RESET, &[]).await;
    assert!(c.recv().await.is_success());
    c.send(BEGIN, &[map(&[("imp_user", s("root"))])]).await;
    assert_eq!(
        c.recv().await.code(),
        "Neo.ClientError.Statement.FeatureNotSupported"
    );
    assert!(engine.log.lock().unwrap().is_empty());
}

/// Accepts everything with a token that has already expired, except principal `fresh`.
struct Expired;

impl graphward_core::auth::Authenticator for Expired {
    fn authenticate(
        &self,
        credentials: &graphward_core::auth::Credentials,
        _client: &graphward_core::auth::ClientInfo,
    ) -> graphward_core::Result<graphward_core::engine::Principal> {
        let fresh = matches!(
            credentials,
            graphward_core::auth::Credentials::Basic { user, .. } if user == "fresh"
        );
        Ok(graphward_core::engine::Principal {
            user: Some("t".into()),
            token: (!fresh).then(|| graphward_core::engine::TokenRef {
                digest: "d".into(),
                issued_at: 1,
                expires_at: 2,
            }),
            ..Default::default()
        })
    }
}

#[tokio::test]
async fn expired_token_fails_next_request_and_closes_before_bolt_5_1() {
    let (_e, ctx) = context(Arc::new(Expired), BoltConfig::default());
    let mut c = Client::connect(ctx, 4, 4).await;
    c.send(RUN, &[s("ECHO"), empty(), empty()]).await;
    assert_eq!(
        c.recv().await.code(),
        "Neo.ClientError.Security.TokenExpired"
    );
    assert!(c.recv_opt().await.is_none());
}

#[tokio::test]
async fn expired_token_fails_then_logoff_logon_continues_on_the_same_connection() {
    let (_e, ctx) = context(Arc::new(Expired), BoltConfig::default());
    let mut c = Client::connect(ctx, 5, 4).await;
    c.send(RUN, &[s("ECHO"), empty(), empty()]).await;
    assert_eq!(
        c.recv().await.code(),
        "Neo.ClientError.Security.TokenExpired"
    );
    // FAILED: ignored until RESET; still expired after it.
    c.send(RUN, &[s("ECHO"), empty(), empty()]).await;
    assert_eq!(c.recv().await, Msg::Ignored);
    c.send(RESET, &[]).await;
    assert!(c.recv().await.is_success());
    c.send(RUN, &[s("ECHO"), empty(), empty()]).await;
    assert_eq!(
        c.recv().await.code(),
        "Neo.ClientError.Security.TokenExpired"
    );
    c.send(RESET, &[]).await;
    assert!(c.recv().await.is_success());
    c.send(LOGOFF, &[]).await;
    assert!(c.recv().await.is_success());
    c.send(
        LOGON,
        &[map(&[
            ("scheme", "basic".into()),
            ("principal", "fresh".into()),
            ("credentials", "secret".into()),
        ])],
    )
    .await;
    assert!(c.recv().await.is_success());
    c.send(RUN, &[s("ECHO"), empty(), empty()]).await;
    assert!(c.recv().await.is_success());
}

#[tokio::test]
async fn serve_over_tcp_with_concurrent_clients() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let m = Arc::new(MockEngine::default());
    let server = tokio::spawn(graphward_bolt::serve(
        listener,
        Arc::new(Engine(m.clone())),
        Arc::new(Password),
        BoltConfig::default(),
    ));
    let mut tasks = Vec::new();
    for i in 0..20u8 {
        tasks.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
            let mut c = Client::over(tcp);
            let (major, minor) = if i % 2 == 0 { (4, 4) } else { (5, 8) };
            c.open(major, minor).await;
            c.send(RUN, &[s("ROWS 50"), empty(), empty()]).await;
            c.send(PULL, &[pull(-1)]).await;
            assert!(c.recv().await.is_success());
            let mut n = 0;
            loop {
                match c.recv().await {
                    Msg::Record(_) => n += 1,
                    Msg::Success(m) => {
                        assert_eq!(m.get("has_more"), Some(&Value::Bool(false)));
                        break;
                    }
                    other => panic!("{other:?}"),
                }
            }
            c.send(GOODBYE, &[]).await;
            n
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 50);
    }
    assert_eq!(m.commits.load(std::sync::atomic::Ordering::SeqCst), 20);
    server.abort();
}

#[tokio::test]
async fn run_begin_then_bolt_commit_message() {
    let (engine, ctx) = ctx();
    let mut c = Client::connect(ctx, 4, 1).await;
    c.send(RUN, &[s("begin;"), empty(), empty()]).await;
    c.send(PULL, &[pull(-1)]).await;
    c.send(RUN, &[s("CREATE (x)"), empty(), empty()]).await;
    c.send(PULL, &[pull(-1)]).await;
    c.send(COMMIT, &[]).await;
    for _ in 0..4 {
        assert!(c.recv().await.is_success());
    }
    assert_eq!(c.recv().await.meta().get("bookmark"), Some(&s("bm-1")));
    let log = engine.log.lock().unwrap().clone();
    assert_eq!(
        log,
        vec!["begin neo4j", "run neo4j CREATE (x)", "commit neo4j"]
    );
}

#[tokio::test]
async fn short_reads_run_on_the_connection_thread_and_fall_back_to_a_blocking_thread() {
    let (engine, ctx) = ctx();
    let here = std::thread::current().id();
    let mut c = Client::connect(ctx, 5, 4).await;
    let begun = |engine: &MockEngine| std::mem::take(&mut *engine.begun_on.lock().unwrap());
    begun(&engine);

    // RUN+PULL pipelined: begin, run, rows and commit in one call on the connection's thread.
    for _ in 0..2 {
        c.send(RUN, &[s("READ ROWS 3"), empty(), empty()]).await;
        c.send(PULL, &[pull(-1)]).await;
        assert!(c.recv().await.is_success());
        for i in 0..3 {
            assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(i)]));
        }
        let m = c.recv().await;
        assert_eq!(m.meta().get("has_more"), Some(&Value::Bool(false)));
        assert!(m.meta().contains_key("bookmark"), "{m:?}");
        assert_eq!(begun(&engine), vec![here]);
    }

    // Over the time limit there: given up and run again on a blocking thread; after eight
    // such runs in a row the statement is not tried there any more.
    for round in 0..9 {
        c.send(RUN, &[s("READ SLOW"), empty(), empty()]).await;
        c.send(PULL, &[pull(-1)]).await;
        assert!(c.recv().await.is_success());
        assert_eq!(c.recv().await, Msg::Record(vec![]));
        assert!(c.recv().await.is_success());
        let threads = begun(&engine);
        if round < 8 {
            assert_eq!(threads.len(), 2, "round {round}: {threads:?}");
            assert_eq!(threads[0], here);
            assert_ne!(threads[1], here);
        } else {
            assert_eq!(threads.len(), 1);
            assert_ne!(threads[0], here);
        }
    }

    // More rows than the PULL's batch: run again on a blocking thread, streamed in batches.
    c.send(RUN, &[s("READ ROWS 2500"), empty(), empty()]).await;
    c.send(PULL, &[pull(-1)]).await;
    assert!(c.recv().await.is_success());
    for i in 0..2500 {
        assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(i)]));
    }
    assert!(c.recv().await.is_success());
    let threads = begun(&engine);
    assert_eq!(threads.len(), 2);
    assert_ne!(threads[1], here);

    // RUN alone (no PULL behind it), and a RESET sent with RUN+PULL: on a blocking thread,
    // as every other statement.
    c.send(RUN, &[s("READ ROWS 1"), empty(), empty()]).await;
    assert!(c.recv().await.is_success());
    c.send(PULL, &[pull(-1)]).await;
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(0)]));
    assert!(c.recv().await.is_success());
    let threads = begun(&engine);
    assert_eq!(threads.len(), 1);
    assert_ne!(threads[0], here);
    // A PULL with a batch of 1 leaves more to pull: not exhausted there, so run again.
    c.send(RUN, &[s("READ ROWS 2"), empty(), empty()]).await;
    c.send(PULL, &[pull(1)]).await;
    assert!(c.recv().await.is_success());
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(0)]));
    let m = c.recv().await;
    assert_eq!(m.meta().get("has_more"), Some(&Value::Bool(true)));
    c.send(PULL, &[pull(-1)]).await;
    assert_eq!(c.recv().await, Msg::Record(vec![Value::Int(1)]));
    assert!(c.recv().await.is_success());
}

#[tokio::test]
async fn reset_sent_with_a_short_read_interrupts_it() {
    let (engine, ctx) = ctx();
    let mut c = Client::connect(ctx, 5, 4).await;
    engine.log.lock().unwrap().clear();
    // RUN, PULL and RESET in one write: the RESET is seen before the rows are made, so the
    // PULL is answered IGNORED and nothing is committed.
    let mut bytes = Vec::new();
    for (tag, fields) in [
        (RUN, vec![s("READ ROWS 3"), empty(), empty()]),
        (PULL, vec![pull(-1)]),
        (RESET, vec![]),
    ] {
        bytes.extend(c.message_bytes(tag, &fields));
    }
    c.send_raw(&bytes).await;
    let first = c.recv().await;
    assert!(
        matches!(first, Msg::Ignored) || first.is_success(),
        "{first:?}"
    );
    assert!(matches!(c.recv().await, Msg::Ignored));
    assert!(c.recv().await.is_success());
    let log = engine.log.lock().unwrap().clone();
    assert!(!log.iter().any(|l| l.starts_with("commit")), "{log:?}");
}
