#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The client against a scripted Bolt server over an in-memory pipe: the 4.x path (auth in
//! HELLO, 3-field nodes) and RESET after an interrupt, which a real graphward (5.x) does not
//! exercise the same way.

use std::collections::BTreeMap;

use bytes::BytesMut;
use graphward_core::{Node, Value};
use graphward_packstream::chunk::{self, Parsed};
use graphward_packstream::msg;
use graphward_packstream::{Decoder, Encoder, Flavor};
use graphward_shell::client::{self, Auth, Client, HandshakeReply, Io};
use graphward_shell::error::ShellError;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

struct FakeServer {
    io: DuplexStream,
    buf: BytesMut,
}

impl FakeServer {
    async fn handshake(&mut self, reply: [u8; 4]) -> Vec<u8> {
        let mut hello = [0u8; 20];
        self.io.read_exact(&mut hello).await.unwrap();
        self.io.write_all(&reply).await.unwrap();
        hello.to_vec()
    }

    async fn recv(&mut self) -> (u8, Vec<Value>) {
        loop {
            if let Parsed::Message { consumed, payload } =
                chunk::parse_message(&self.buf, 1 << 20).unwrap()
            {
                let _ = self.buf.split_to(consumed);
                let mut d = Decoder::new(&payload, Flavor::V4);
                let (n, tag) = d.struct_header().unwrap();
                let fields = (0..n).map(|_| d.value().unwrap()).collect();
                return (tag, fields);
            }
            assert!(
                self.io.read_buf(&mut self.buf).await.unwrap() > 0,
                "client hung up"
            );
        }
    }

    async fn send(&mut self, tag: u8, fields: &[Value]) {
        let mut payload = Vec::new();
        let mut e = Encoder::new(&mut payload, Flavor::V4);
        e.struct_header(fields.len(), tag).unwrap();
        for f in fields {
            e.value(f).unwrap();
        }
        let mut out = Vec::new();
        chunk::write_message(&mut out, &payload);
        self.io.write_all(&out).await.unwrap();
    }
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
    )
}

async fn connect() -> (Client, FakeServer) {
    let (a, b) = tokio::io::duplex(1 << 16);
    let mut server = FakeServer {
        io: b,
        buf: BytesMut::new(),
    };
    let mut io: Box<dyn Io> = Box::new(a);
    let (reply, hello) = tokio::join!(client::handshake(&mut io), server.handshake([0, 0, 4, 4]));
    assert_eq!(&hello[..4], &[0x60, 0x60, 0xB0, 0x17]);
    assert_eq!(&hello[4..8], &[0, 2, 8, 5], "5.x proposed first");
    let HandshakeReply::Version(v) = reply.unwrap() else {
        panic!("no version")
    };
    assert_eq!(v.to_string(), "4.4");
    (Client::new(io, v), server)
}

#[tokio::test]
async fn bolt4_hello_carries_auth_and_nodes_have_three_fields() {
    let (mut c, mut s) = connect().await;
    let auth = Auth::Basic {
        user: "neo4j".into(),
        password: "pw".into(),
    };
    let server = async {
        let (tag, fields) = s.recv().await;
        assert_eq!(tag, msg::HELLO);
        let Some(Value::Map(extra)) = fields.first() else {
            panic!("HELLO map")
        };
        assert_eq!(extra.get("scheme"), Some(&Value::from("basic")));
        assert_eq!(extra.get("credentials"), Some(&Value::from("pw")));
        s.send(msg::SUCCESS, &[map(&[("server", Value::from("Fake/4.4"))])])
            .await;
        let (tag, fields) = s.recv().await;
        assert_eq!(tag, msg::RUN);
        assert_eq!(fields.first(), Some(&Value::from("MATCH (n) RETURN n")));
        assert_eq!(fields.get(2), Some(&map(&[("db", Value::from("other"))])));
        assert_eq!(s.recv().await.0, msg::PULL);
        s.send(
            msg::SUCCESS,
            &[map(&[("fields", Value::List(vec![Value::from("n")]))])],
        )
        .await;
        let node = Node {
            id: 7,
            element_id: "7".into(),
            labels: vec!["L".into()],
            properties: BTreeMap::new(),
        };
        s.send(
            msg::RECORD,
            &[Value::List(vec![Value::Node(Box::new(node))])],
        )
        .await;
        s.send(msg::SUCCESS, &[map(&[])]).await;
        s
    };
    let client = async {
        c.hello(&auth).await.unwrap();
        assert_eq!(c.server_agent, "Fake/4.4");
        let r = c
            .run(
                "MATCH (n) RETURN n",
                Some("other"),
                std::future::pending(),
                std::future::pending(),
            )
            .await
            .unwrap();
        assert_eq!(r.keys, vec!["n".to_string()]);
        assert_eq!(graphward_shell::render::cypher(&r.rows[0][0]), "(:L)");
    };
    let _ = tokio::join!(server, client);
}

#[tokio::test]
async fn interrupt_sends_reset_and_reads_up_to_its_answer() {
    let (mut c, mut s) = connect().await;
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let server = async {
        assert_eq!(s.recv().await.0, msg::HELLO);
        s.send(msg::SUCCESS, &[map(&[])]).await;
        assert_eq!(s.recv().await.0, msg::RUN);
        assert_eq!(s.recv().await.0, msg::PULL);
        let _ = go_tx.send(()); // "Ctrl-C" while the query runs
        assert_eq!(s.recv().await.0, msg::RESET);
        s.send(
            msg::FAILURE,
            &[map(&[
                (
                    "code",
                    Value::from("Neo.TransientError.Transaction.Terminated"),
                ),
                ("message", Value::from("interrupted")),
            ])],
        )
        .await;
        s.send(msg::IGNORED, &[]).await;
        s.send(msg::SUCCESS, &[map(&[])]).await;
        // The connection is clean: the next query works.
        assert_eq!(s.recv().await.0, msg::RUN);
        assert_eq!(s.recv().await.0, msg::PULL);
        s.send(
            msg::SUCCESS,
            &[map(&[("fields", Value::List(vec![Value::from("x")]))])],
        )
        .await;
        s.send(msg::RECORD, &[Value::List(vec![Value::Int(1)])])
            .await;
        s.send(msg::SUCCESS, &[map(&[])]).await;
        s
    };
    let client = async {
        c.hello(&Auth::None).await.unwrap();
        let cancel = async {
            let _ = go_rx.await;
        };
        let r = c
            .run(
                "UNWIND range(1, 1000000000) AS x RETURN x",
                None,
                cancel,
                std::future::pending(),
            )
            .await;
        assert!(matches!(r, Err(ShellError::Interrupted)), "{r:?}");
        let r = c
            .run(
                "RETURN 1 AS x",
                None,
                std::future::pending(),
                std::future::pending(),
            )
            .await
            .unwrap();
        assert_eq!(r.rows, vec![vec![Value::Int(1)]]);
    };
    let _ = tokio::join!(server, client);
}

#[tokio::test]
async fn plaintext_refusal_reads_as_requires_tls() {
    let (a, mut b) = tokio::io::duplex(1024);
    let mut io: Box<dyn Io> = Box::new(a);
    let server = async {
        let mut hello = [0u8; 20];
        b.read_exact(&mut hello).await.unwrap();
        // A TLS alert record, as a TLS-only port may send.
        b.write_all(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])
            .await
            .unwrap();
    };
    let (reply, ()) = tokio::join!(client::handshake(&mut io), server);
    assert!(matches!(reply.unwrap(), HandshakeReply::TlsRecord));
}
