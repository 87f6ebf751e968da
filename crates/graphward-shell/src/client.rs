//! The Bolt client: handshake, HELLO/LOGON, RUN/PULL, transactions, RESET, GOODBYE.
//!
//! The wire format comes from `graphward-packstream` (PackStream, chunking, version numbers). The
//! client keeps a count of the requests whose summary (SUCCESS/FAILURE/IGNORED) is still due,
//! so that after a RESET sent in the middle of a query it can read exactly up to the RESET's
//! answer and leave the connection clean.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use bytes::{Buf, BytesMut};
use graphward_core::Value;
use graphward_packstream::chunk::{self, Parsed};
use graphward_packstream::handshake::{self, Version};
use graphward_packstream::msg;
use graphward_packstream::{Decoder, Encoder, Flavor};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};

use crate::error::ShellError;

pub type Map = BTreeMap<String, Value>;

/// Versions proposed in the handshake: 5.8-5.6, 5.4-5.0, 4.4-4.1 (`00 range minor major`).
pub const PROPOSALS: [[u8; 4]; 4] = [[0, 2, 8, 5], [0, 4, 4, 5], [0, 3, 4, 4], [0, 0, 0, 0]];

/// Largest message accepted from the server.
const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// The agent announced in HELLO.
pub fn user_agent() -> String {
    format!("graphward-shell/{}", env!("CARGO_PKG_VERSION"))
}

/// Credentials sent in HELLO (Bolt < 5.1) or LOGON (5.1+).
#[derive(Clone)]
pub enum Auth {
    None,
    Basic { user: String, password: String },
    Bearer { token: String },
}

impl fmt::Debug for Auth {
    // Never prints a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => write!(f, "Auth::None"),
            Auth::Basic { user, .. } => write!(f, "Auth::Basic({user})"),
            Auth::Bearer { token } => write!(
                f,
                "Auth::Bearer({})",
                graphward_core::auth::mask_token(token)
            ),
        }
    }
}

impl Auth {
    fn to_map(&self) -> Map {
        let mut m = Map::new();
        match self {
            Auth::None => {
                m.insert("scheme".into(), Value::from("none"));
            }
            Auth::Basic { user, password } => {
                m.insert("scheme".into(), Value::from("basic"));
                m.insert("principal".into(), Value::from(user.as_str()));
                m.insert("credentials".into(), Value::from(password.as_str()));
            }
            Auth::Bearer { token } => {
                m.insert("scheme".into(), Value::from("bearer"));
                m.insert("credentials".into(), Value::from(token.as_str()));
            }
        }
        m
    }
}

/// A FAILURE from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerError {
    pub code: String,
    pub message: String,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl ServerError {
    fn from_meta(meta: &Map) -> ServerError {
        let text = |k: &str| match meta.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        ServerError {
            code: text("neo4j_code")
                .or_else(|| text("code"))
                .unwrap_or_else(|| "Neo.DatabaseError.General.UnknownError".into()),
            message: text("message").unwrap_or_default(),
        }
    }
}

/// One response message.
#[derive(Debug)]
enum Response {
    Success(Map),
    Record(Vec<Value>),
    Ignored,
    Failure(ServerError),
}

/// Everything a query returned.
#[derive(Debug, Default, Clone)]
pub struct QueryResult {
    pub keys: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// The PULL summary (`type`, `stats`, `db`, `bookmark`...).
    pub summary: Map,
}

impl QueryResult {
    /// The update counters the server reported, e.g. `nodes-created: 1`, non-zero only.
    pub fn stats(&self) -> Vec<(String, i64)> {
        let mut out = Vec::new();
        if let Some(Value::Map(stats)) = self.summary.get("stats") {
            for (k, v) in stats {
                if let Value::Int(n) = v {
                    if *n != 0 {
                        out.push((k.clone(), *n));
                    }
                }
            }
        }
        out
    }
}

/// Any bidirectional byte stream (plain TCP or TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A connected, authenticated Bolt session.
pub struct Client {
    reader: ReadHalf<Box<dyn Io>>,
    writer: WriteHalf<Box<dyn Io>>,
    inbuf: BytesMut,
    out: Vec<u8>,
    version: Version,
    flavor: Flavor,
    /// Requests sent whose summary has not been read yet.
    pending: usize,
    /// The server's agent string (HELLO SUCCESS `server`).
    pub server_agent: String,
    /// Inside BEGIN ... COMMIT/ROLLBACK.
    pub in_transaction: bool,
}

/// The first answer to the handshake, before any version is known.
pub enum HandshakeReply {
    Version(Version),
    /// `00 00 00 00`: no common version (graphward's TLS ports answer this to plaintext).
    NoVersion,
    /// The server answered with a TLS record (an alert or a handshake): it wants TLS.
    TlsRecord,
    /// The server closed the connection without answering.
    Closed,
    Other([u8; 4]),
}

/// Sends the preamble and the proposals and reads the answer.
pub async fn handshake(io: &mut Box<dyn Io>) -> std::io::Result<HandshakeReply> {
    let mut hello = handshake::MAGIC.to_vec();
    for p in PROPOSALS {
        hello.extend_from_slice(&p);
    }
    io.write_all(&hello).await?;
    io.flush().await?;
    let mut reply = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        let n = match io.read(&mut reply[got..]).await {
            Ok(n) => n,
            Err(e) if got == 0 && e.kind() == std::io::ErrorKind::ConnectionReset => 0,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        got += n;
        // A TLS record header (content type 0x15 alert / 0x16 handshake, version 3.x).
        if got >= 2 && matches!(reply[0], 0x15 | 0x16) && reply[1] == 0x03 {
            return Ok(HandshakeReply::TlsRecord);
        }
    }
    if got == 0 {
        return Ok(HandshakeReply::Closed);
    }
    if got < 4 {
        return Ok(HandshakeReply::Other(reply));
    }
    Ok(match reply {
        [0, 0, 0, 0] => HandshakeReply::NoVersion,
        [0, 0, minor, major] if handshake::is_supported(Version::new(major, minor)) => {
            HandshakeReply::Version(Version::new(major, minor))
        }
        other => HandshakeReply::Other(other),
    })
}

/// Describes a version the server chose that we did not propose.
pub fn describe_reply(bytes: [u8; 4]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Client {
    /// Wraps a stream on which the handshake chose `version`.
    pub fn new(io: Box<dyn Io>, version: Version) -> Client {
        let (reader, writer) = tokio::io::split(io);
        let flavor = if version.major >= 5 {
            Flavor::V5
        } else {
            Flavor::V4
        };
        Client {
            reader,
            writer,
            inbuf: BytesMut::with_capacity(64 * 1024),
            out: Vec::new(),
            version,
            flavor,
            pending: 0,
            server_agent: String::new(),
            in_transaction: false,
        }
    }

    pub fn version(&self) -> Version {
        self.version
    }

    // -----------------------------------------------------------------------------------------
    // Wire
    // -----------------------------------------------------------------------------------------

    /// Queues one message (`tag` with `fields`); [`Client::flush`] sends it.
    fn queue(&mut self, tag: u8, fields: &[Value]) -> Result<(), ShellError> {
        let mut payload = Vec::new();
        let mut e = Encoder::new(&mut payload, self.flavor);
        e.struct_header(fields.len(), tag)
            .map_err(|e| ShellError::Protocol(e.to_string()))?;
        for f in fields {
            e.value(f)
                .map_err(|e| ShellError::Protocol(e.to_string()))?;
        }
        chunk::write_message(&mut self.out, &payload);
        if tag != msg::GOODBYE {
            self.pending += 1;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ShellError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.out);
        self.writer
            .write_all(&out)
            .await
            .map_err(ShellError::lost)?;
        self.writer.flush().await.map_err(ShellError::lost)?;
        Ok(())
    }

    /// Reads one response. Cancel-safe: bytes read are kept in `inbuf`.
    async fn recv(&mut self) -> Result<Response, ShellError> {
        loop {
            match chunk::parse_message(&self.inbuf, MAX_MESSAGE)
                .map_err(|e| ShellError::Protocol(e.to_string()))?
            {
                Parsed::Message { consumed, payload } => {
                    self.inbuf.advance(consumed);
                    let resp = self.decode(&payload)?;
                    if !matches!(resp, Response::Record(_)) {
                        self.pending = self.pending.saturating_sub(1);
                    }
                    return Ok(resp);
                }
                Parsed::Noop { consumed } => {
                    self.inbuf.advance(consumed);
                }
                Parsed::Incomplete => {
                    let n = self
                        .reader
                        .read_buf(&mut self.inbuf)
                        .await
                        .map_err(ShellError::lost)?;
                    if n == 0 {
                        return Err(ShellError::ConnectionLost(
                            "the server closed the connection".into(),
                        ));
                    }
                }
            }
        }
    }

    fn decode(&self, payload: &[u8]) -> Result<Response, ShellError> {
        let bad = |e: graphward_packstream::PackError| ShellError::Protocol(e.to_string());
        let mut d = Decoder::new(payload, self.flavor);
        let (n, tag) = d.struct_header().map_err(bad)?;
        let mut fields = Vec::with_capacity(n.min(16));
        for _ in 0..n {
            fields.push(d.value().map_err(bad)?);
        }
        let meta = |fields: Vec<Value>| match fields.into_iter().next() {
            Some(Value::Map(m)) => m,
            _ => Map::new(),
        };
        Ok(match tag {
            msg::SUCCESS => Response::Success(meta(fields)),
            msg::FAILURE => Response::Failure(ServerError::from_meta(&meta(fields))),
            msg::IGNORED => Response::Ignored,
            msg::RECORD => match fields.into_iter().next() {
                Some(Value::List(values)) => Response::Record(values),
                _ => {
                    return Err(ShellError::Protocol(
                        "RECORD without a list of values".into(),
                    ))
                }
            },
            other => {
                return Err(ShellError::Protocol(format!(
                    "unexpected response message 0x{other:02X}"
                )))
            }
        })
    }

    /// Reads one summary (skipping nothing): SUCCESS metadata or the server's error.
    async fn summary(&mut self) -> Result<Map, ShellError> {
        match self.recv().await? {
            Response::Success(m) => Ok(m),
            Response::Failure(e) => Err(ShellError::Server(e)),
            Response::Ignored => Err(ShellError::Protocol(
                "the server ignored the request".into(),
            )),
            Response::Record(_) => Err(ShellError::Protocol("unexpected RECORD".into())),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Session
    // -----------------------------------------------------------------------------------------

    /// HELLO (and LOGON on 5.1+).
    pub async fn hello(&mut self, auth: &Auth) -> Result<(), ShellError> {
        let mut extra = Map::new();
        extra.insert("user_agent".into(), Value::from(user_agent()));
        if self.version.at_least(5, 3) {
            let mut agent = Map::new();
            agent.insert("product".into(), Value::from(user_agent()));
            agent.insert(
                "platform".into(),
                Value::from(format!(
                    "{} {}",
                    std::env::consts::OS,
                    std::env::consts::ARCH
                )),
            );
            agent.insert("language".into(), Value::from("Rust"));
            extra.insert("bolt_agent".into(), Value::Map(agent));
        }
        let logon = self.version.at_least(5, 1);
        if !logon {
            extra.extend(auth.to_map());
        }
        self.queue(msg::HELLO, &[Value::Map(extra)])?;
        if logon {
            self.queue(msg::LOGON, &[Value::Map(auth.to_map())])?;
        }
        self.flush().await?;
        let meta = self.summary().await.map_err(ShellError::into_auth)?;
        if let Some(Value::String(s)) = meta.get("server") {
            self.server_agent = s.clone();
        }
        if logon {
            self.summary().await.map_err(ShellError::into_auth)?;
        }
        Ok(())
    }

    /// Runs one statement and pulls all of its rows. Auto-commit unless a transaction is open
    /// (then `database` is ignored: BEGIN named it).
    ///
    /// When `cancel` completes first, sends RESET, reads up to its answer and returns
    /// [`ShellError::Interrupted`]; if `abandon` then completes too (a second Ctrl-C), the
    /// connection is given up ([`ShellError::ConnectionLost`]).
    pub async fn run(
        &mut self,
        query: &str,
        database: Option<&str>,
        cancel: impl Future<Output = ()>,
        abandon: impl Future<Output = ()>,
    ) -> Result<QueryResult, ShellError> {
        let mut extra = Map::new();
        if !self.in_transaction {
            if let Some(db) = database {
                extra.insert("db".into(), Value::from(db));
            }
        }
        self.queue(
            msg::RUN,
            &[
                Value::from(query),
                Value::Map(Map::new()),
                Value::Map(extra),
            ],
        )?;
        let mut pull = Map::new();
        pull.insert("n".into(), Value::Int(-1));
        self.queue(msg::PULL, &[Value::Map(pull)])?;
        self.flush().await?;

        let mut result = QueryResult::default();
        let mut failure: Option<ServerError> = None;
        let mut ran = false;
        tokio::pin!(cancel);
        tokio::pin!(abandon);
        let interrupted = loop {
            if self.pending == 0 {
                break false;
            }
            let resp = tokio::select! {
                r = self.recv() => r?,
                _ = &mut cancel => break true,
            };
            match resp {
                Response::Record(values) => result.rows.push(values),
                Response::Success(meta) if !ran => {
                    ran = true;
                    if let Some(Value::List(fields)) = meta.get("fields") {
                        result.keys = fields
                            .iter()
                            .map(|f| match f {
                                Value::String(s) => s.clone(),
                                other => crate::render::cypher(other),
                            })
                            .collect();
                    }
                }
                Response::Success(meta) => result.summary = meta,
                Response::Failure(e) => {
                    ran = true;
                    failure.get_or_insert(e);
                }
                Response::Ignored => ran = true,
            }
        };
        if interrupted {
            self.queue(msg::RESET, &[])?;
            self.flush().await?;
            self.drain(abandon).await?;
            self.in_transaction = false;
            return Err(ShellError::Interrupted);
        }
        if let Some(e) = failure {
            // The server rolled back any transaction and is FAILED until RESET.
            self.reset().await?;
            return Err(ShellError::Server(e));
        }
        Ok(result)
    }

    /// Reads everything up to the last outstanding summary (the RESET's SUCCESS).
    async fn drain(&mut self, abandon: impl Future<Output = ()>) -> Result<(), ShellError> {
        tokio::pin!(abandon);
        while self.pending > 0 {
            tokio::select! {
                r = self.recv() => { r?; }
                _ = &mut abandon => {
                    return Err(ShellError::ConnectionLost(
                        "gave up waiting for the server to stop the query".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    /// RESET: back to a clean, READY connection (rolls back an open transaction).
    pub async fn reset(&mut self) -> Result<(), ShellError> {
        self.queue(msg::RESET, &[])?;
        self.flush().await?;
        let mut last = None;
        while self.pending > 0 {
            last = Some(self.recv().await?);
        }
        self.in_transaction = false;
        match last {
            Some(Response::Failure(e)) => Err(ShellError::Server(e)),
            _ => Ok(()),
        }
    }

    /// BEGIN an explicit transaction on `database` (the server default when `None`).
    pub async fn begin(&mut self, database: Option<&str>) -> Result<(), ShellError> {
        if self.in_transaction {
            return Err(ShellError::Usage(
                "a transaction is already open: :commit or :rollback it first".into(),
            ));
        }
        let mut extra = Map::new();
        if let Some(db) = database {
            extra.insert("db".into(), Value::from(db));
        }
        self.queue(msg::BEGIN, &[Value::Map(extra)])?;
        self.flush().await?;
        match self.summary().await {
            Ok(_) => {
                self.in_transaction = true;
                Ok(())
            }
            Err(e) => {
                self.reset().await?;
                Err(e)
            }
        }
    }

    /// COMMIT the open transaction.
    pub async fn commit(&mut self) -> Result<(), ShellError> {
        self.end_transaction(msg::COMMIT).await
    }

    /// ROLLBACK the open transaction.
    pub async fn rollback(&mut self) -> Result<(), ShellError> {
        self.end_transaction(msg::ROLLBACK).await
    }

    async fn end_transaction(&mut self, tag: u8) -> Result<(), ShellError> {
        if !self.in_transaction {
            return Err(ShellError::Usage(
                "no transaction is open (start one with :begin)".into(),
            ));
        }
        self.queue(tag, &[])?;
        self.flush().await?;
        let r = self.summary().await;
        self.in_transaction = false;
        if r.is_err() {
            self.reset().await?;
        }
        r.map(|_| ())
    }

    /// GOODBYE and close.
    pub async fn goodbye(mut self) {
        if self.queue(msg::GOODBYE, &[]).is_ok() {
            let _ = self.flush().await;
        }
        let _ = self.writer.shutdown().await;
    }
}
