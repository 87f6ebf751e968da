#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! A small mock engine and a raw Bolt test client.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use graphward_bolt::chunk::{self, Parsed};
use graphward_bolt::packstream::{Decoder, Encoder, Flavor};
use graphward_bolt::{serve_connection, BoltConfig, BoltContext};
use graphward_core::auth::{AllowAll, Authenticator, ClientInfo, Credentials};
use graphward_core::commands::TxControl;
use graphward_core::engine::{
    CommitInfo, DatabaseInfo, Params, Prepared, Principal, QueryEngine, QueryType, ResultStream,
    Stats, Summary, Transaction, TxOptions,
};
use graphward_core::{Error, ErrorCode, Result, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

#[derive(Default)]
pub struct MockEngine {
    pub log: Mutex<Vec<String>>,
    pub commits: AtomicU64,
    /// The thread each transaction began on.
    pub begun_on: Mutex<Vec<std::thread::ThreadId>>,
    /// Short reads (`READ ...`) prepared so far, handed out again as an engine's cache does.
    pub short_reads: Mutex<std::collections::HashMap<String, Prepared>>,
}

pub struct MockTx {
    engine: Arc<MockEngine>,
    db: String,
    opts: TxOptions,
}

pub struct Rows {
    cols: Vec<String>,
    rows: std::vec::IntoIter<Vec<Value>>,
    summary: Summary,
    sleep: Option<graphward_core::engine::CancelToken>,
}

impl ResultStream for Rows {
    fn columns(&self) -> &[String] {
        &self.cols
    }
    fn next_row(&mut self) -> Option<Result<Vec<Value>>> {
        if let Some(c) = &self.sleep {
            for _ in 0..500 {
                if c.is_cancelled() {
                    return Some(Err(Error::new(ErrorCode::Terminated, "terminated")));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        self.rows.next().map(Ok)
    }
    fn summary(&self) -> Summary {
        self.summary.clone()
    }
}

impl Transaction for MockTx {
    fn run(&mut self, query: &str, params: Params) -> Result<Box<dyn ResultStream>> {
        self.engine
            .log
            .lock()
            .unwrap()
            .push(format!("run {} {query}", self.db));
        let mut summary = Summary {
            database: self.db.clone(),
            ..Summary::default()
        };
        let mut q = query.trim();
        if let Some(rest) = q.strip_prefix("READ ") {
            // A short read: `READ SLOW` overruns a time limit of 1 ms or less.
            q = rest;
            if q == "SLOW"
                && self
                    .opts
                    .timeout
                    .is_some_and(|t| t <= Duration::from_millis(1))
            {
                return Err(Error::new(ErrorCode::TransactionTimedOut, "over the limit"));
            }
        }
        if q.starts_with("FAIL") {
            return Err(Error::syntax("Invalid input 'FAIL'"));
        }
        if q.starts_with("SLEEP") {
            return Ok(Box::new(Rows {
                cols: vec!["x".into()],
                rows: vec![vec![Value::Int(1)]].into_iter(),
                summary,
                sleep: Some(self.opts.cancel.clone()),
            }));
        }
        if let Some(n) = q.strip_prefix("ROWS ") {
            let n: i64 = n.trim().parse().unwrap_or(0);
            return Ok(Box::new(Rows {
                cols: vec!["i".into()],
                rows: (0..n)
                    .map(|i| vec![Value::Int(i)])
                    .collect::<Vec<_>>()
                    .into_iter(),
                summary,
                sleep: None,
            }));
        }
        if q.starts_with("CREATE") {
            summary.query_type = QueryType::Write;
            summary.stats = Stats {
                nodes_created: 1,
                ..Stats::default()
            };
            return Ok(Box::new(Rows {
                cols: vec![],
                rows: Vec::new().into_iter(),
                summary,
                sleep: None,
            }));
        }
        if q.starts_with("GRAPH") {
            let node = |id: i64, label: &str| graphward_core::Node {
                id,
                element_id: format!("4:mock:{id}"),
                labels: vec![label.to_string()],
                properties: [("name".to_string(), Value::from(format!("n{id}")))]
                    .into_iter()
                    .collect(),
            };
            let rel = graphward_core::Relationship {
                id: 7,
                element_id: "5:mock:7".into(),
                start: 1,
                end: 2,
                start_element_id: "4:mock:1".into(),
                end_element_id: "4:mock:2".into(),
                rel_type: "KNOWS".into(),
                properties: [("since".to_string(), Value::Int(2020))]
                    .into_iter()
                    .collect(),
            };
            let path = graphward_core::Path {
                nodes: vec![node(1, "Person"), node(2, "Person")],
                relationships: vec![rel.clone()],
            };
            return Ok(Box::new(Rows {
                cols: vec!["n".into(), "r".into(), "p".into()],
                rows: vec![vec![
                    Value::Node(Box::new(node(1, "Person"))),
                    Value::Relationship(Box::new(rel)),
                    Value::Path(path),
                ]]
                .into_iter(),
                summary,
                sleep: None,
            }));
        }
        if q.starts_with("WHOAMI") {
            let user = self
                .opts
                .principal
                .user
                .clone()
                .map(Value::String)
                .unwrap_or(Value::Null);
            return Ok(Box::new(Rows {
                cols: vec!["user".into()],
                rows: vec![vec![user]].into_iter(),
                summary,
                sleep: None,
            }));
        }
        // ECHO: one row with the parameters, columns sorted by name.
        let cols: Vec<String> = params.keys().cloned().collect();
        let row: Vec<Value> = params.values().cloned().collect();
        Ok(Box::new(Rows {
            cols,
            rows: vec![row].into_iter(),
            summary,
            sleep: None,
        }))
    }
    fn commit(self: Box<Self>) -> Result<CommitInfo> {
        let n = self.engine.commits.fetch_add(1, Ordering::SeqCst) + 1;
        self.engine
            .log
            .lock()
            .unwrap()
            .push(format!("commit {}", self.db));
        Ok(CommitInfo {
            bookmark: Some(format!("bm-{n}")),
        })
    }
    fn rollback(self: Box<Self>) -> Result<()> {
        self.engine
            .log
            .lock()
            .unwrap()
            .push(format!("rollback {}", self.db));
        Ok(())
    }
    fn database(&self) -> &str {
        &self.db
    }
}

pub struct Engine(pub Arc<MockEngine>);

impl QueryEngine for Engine {
    /// The test double knows one piece of syntax: a transaction-control statement alone.
    fn prepare(&self, text: &str) -> Result<Prepared> {
        let control = match text
            .trim()
            .trim_end_matches(';')
            .trim()
            .to_ascii_uppercase()
            .as_str()
        {
            "BEGIN" => Some(TxControl::Begin),
            "COMMIT" => Some(TxControl::Commit),
            "ROLLBACK" => Some(TxControl::Rollback),
            _ => None,
        };
        if text.starts_with("READ ") {
            let mut cache = self.0.short_reads.lock().unwrap();
            let p = cache
                .entry(text.to_string())
                .or_insert_with(|| Prepared::parsed_short_read(text, ()));
            return Ok(p.clone());
        }
        Ok(match control {
            Some(c) => Prepared::parsed_as(text, Some(c), ()),
            None => Prepared::unparsed(text),
        })
    }

    fn begin(&self, options: TxOptions) -> Result<Box<dyn Transaction>> {
        let db = options.database.clone().unwrap_or_else(|| "neo4j".into());
        if db != "neo4j" && db != "other" && db != "system" {
            return Err(Error::new(
                ErrorCode::DatabaseNotFound,
                format!("no database {db}"),
            ));
        }
        self.0.log.lock().unwrap().push(format!("begin {db}"));
        self.0
            .begun_on
            .lock()
            .unwrap()
            .push(std::thread::current().id());
        Ok(Box::new(MockTx {
            engine: self.0.clone(),
            db,
            opts: options,
        }))
    }
    fn default_database(&self) -> String {
        "neo4j".into()
    }
    fn databases(&self) -> Vec<DatabaseInfo> {
        vec![
            DatabaseInfo {
                name: "neo4j".into(),
                default: true,
                ..DatabaseInfo::default()
            },
            DatabaseInfo {
                name: "other".into(),
                default: false,
                ..DatabaseInfo::default()
            },
        ]
    }
}

/// Accepts basic auth with password "secret" only.
pub struct Password;

impl Authenticator for Password {
    fn authenticate(&self, credentials: &Credentials, _client: &ClientInfo) -> Result<Principal> {
        match credentials {
            Credentials::Basic { user, password } if password == "secret" => Ok(Principal {
                user: Some(user.clone()),
                ..Principal::default()
            }),
            _ => Err(Error::new(ErrorCode::Unauthorized, "bad credentials")),
        }
    }
}

pub fn context(
    auth: Arc<dyn Authenticator>,
    config: BoltConfig,
) -> (Arc<MockEngine>, Arc<BoltContext>) {
    let m = Arc::new(MockEngine::default());
    let ctx = Arc::new(BoltContext::new(Arc::new(Engine(m.clone())), auth, config));
    (m, ctx)
}

pub fn allow_all() -> Arc<dyn Authenticator> {
    Arc::new(AllowAll)
}

/// A raw Bolt client over an in-memory pipe.
pub struct Client<T = DuplexStream> {
    pub io: T,
    pub buf: Vec<u8>,
    pub flavor: Flavor,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

pub fn spawn(ctx: Arc<BoltContext>) -> Client {
    let (a, b) = tokio::io::duplex(1 << 20);
    let peer = "127.0.0.1:5555".parse().unwrap();
    let server = tokio::spawn(async move { serve_connection(b, peer, ctx).await });
    Client {
        io: a,
        buf: Vec::new(),
        flavor: Flavor::V5,
        server: Some(server),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    Success(BTreeMap<String, Value>),
    Record(Vec<Value>),
    Ignored,
    Failure(BTreeMap<String, Value>),
}

impl Msg {
    pub fn meta(&self) -> &BTreeMap<String, Value> {
        match self {
            Msg::Success(m) | Msg::Failure(m) => m,
            other => panic!("not a summary: {other:?}"),
        }
    }
    pub fn is_success(&self) -> bool {
        matches!(self, Msg::Success(_))
    }
    pub fn code(&self) -> String {
        match self.meta().get("code") {
            Some(Value::String(s)) => s.clone(),
            other => panic!("no code: {other:?}"),
        }
    }
}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Client<T> {
    pub fn over(io: T) -> Self {
        Client {
            io,
            buf: Vec::new(),
            flavor: Flavor::V5,
            server: None,
        }
    }

    pub async fn handshake(&mut self, proposals: [[u8; 4]; 4]) -> [u8; 4] {
        let mut out = vec![0x60, 0x60, 0xB0, 0x17];
        for p in proposals {
            out.extend_from_slice(&p);
        }
        self.io.write_all(&out).await.unwrap();
        let mut r = [0u8; 4];
        self.io.read_exact(&mut r).await.unwrap();
        if r[3] >= 5 {
            self.flavor = Flavor::V5;
        } else {
            self.flavor = Flavor::V4;
        }
        r
    }

    pub async fn send(&mut self, tag: u8, fields: &[Value]) {
        let out = self.message_bytes(tag, fields);
        self.io.write_all(&out).await.unwrap();
    }

    /// One message, chunked, as `send` writes it.
    pub fn message_bytes(&self, tag: u8, fields: &[Value]) -> Vec<u8> {
        let mut payload = Vec::new();
        {
            let mut e = Encoder::new(&mut payload, self.flavor);
            e.struct_header(fields.len(), tag).unwrap();
            for f in fields {
                e.value(f).unwrap();
            }
        }
        let mut out = Vec::new();
        chunk::write_message(&mut out, &payload);
        out
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
    }

    /// Reads one message; `None` if the server closed.
    pub async fn recv_opt(&mut self) -> Option<Msg> {
        loop {
            match chunk::parse_message(&self.buf, 1 << 30).unwrap() {
                Parsed::Message { consumed, payload } => {
                    self.buf.drain(..consumed);
                    let mut d = Decoder::new(&payload, self.flavor);
                    let (n, tag) = d.struct_header().unwrap();
                    let mut fields = Vec::new();
                    for _ in 0..n {
                        fields.push(d.value().unwrap());
                    }
                    let first = fields.into_iter().next();
                    return Some(match (tag, first) {
                        (0x70, Some(Value::Map(m))) => Msg::Success(m),
                        (0x7F, Some(Value::Map(m))) => Msg::Failure(m),
                        (0x71, Some(Value::List(l))) => Msg::Record(l),
                        (0x7E, None) => Msg::Ignored,
                        other => panic!("unexpected message {other:?}"),
                    });
                }
                Parsed::Noop { consumed } => {
                    self.buf.drain(..consumed);
                }
                Parsed::Incomplete => {}
            }
            let mut tmp = [0u8; 8192];
            let n = tokio::time::timeout(Duration::from_secs(10), self.io.read(&mut tmp))
                .await
                .expect("timed out waiting for the server")
                .unwrap_or(0);
            if n == 0 {
                return None;
            }
            self.buf.extend_from_slice(&tmp[..n]);
        }
    }

    pub async fn recv(&mut self) -> Msg {
        self.recv_opt().await.expect("server closed the connection")
    }
}

impl Client<DuplexStream> {
    /// Handshake on `version`, HELLO (+ LOGON on 5.1+).
    pub async fn connect(ctx: Arc<BoltContext>, major: u8, minor: u8) -> Client {
        let mut c = spawn(ctx);
        c.open(major, minor).await;
        c
    }
}

impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Client<T> {
    /// Handshake on `version`, HELLO (+ LOGON on 5.1+) over an existing stream.
    pub async fn open(&mut self, major: u8, minor: u8) {
        let c = self;
        let r = c
            .handshake([[0, 0, minor, major], [0; 4], [0; 4], [0; 4]])
            .await;
        assert_eq!(r, [0, 0, minor, major]);
        c.flavor = if major >= 5 { Flavor::V5 } else { Flavor::V4 };
        let mut hello = map(&[("user_agent", Value::from("test/1"))]);
        if (major, minor) < (5, 1) {
            if let Value::Map(m) = &mut hello {
                m.insert("scheme".into(), "basic".into());
                m.insert("principal".into(), "alice".into());
                m.insert("credentials".into(), "secret".into());
            }
        }
        c.send(0x01, &[hello]).await;
        let r = c.recv().await;
        assert!(r.is_success(), "{r:?}");
        if (major, minor) >= (5, 1) {
            c.send(
                0x6A,
                &[map(&[
                    ("scheme", "basic".into()),
                    ("principal", "alice".into()),
                    ("credentials", "secret".into()),
                ])],
            )
            .await;
            let r = c.recv().await;
            assert!(r.is_success(), "{r:?}");
        }
    }
}

pub fn map(kv: &[(&str, Value)]) -> Value {
    Value::Map(kv.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

pub fn empty() -> Value {
    Value::Map(BTreeMap::new())
}
