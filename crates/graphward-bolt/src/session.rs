//! One Bolt connection after the handshake: message decoding, the server state machine, and
//! the calls into the engine.
//!
//! Engine calls block, so they run on `spawn_blocking`. While one runs, the connection keeps
//! reading the socket (see [`Session::blocking`]): a RESET that arrives cancels the running
//! query through its [`CancelToken`], and every message queued before the RESET is answered
//! IGNORED (the INTERRUPTED state).
//!
//! One exception: a short read (see `graphward_core::engine::Prepared::parsed_short_read`)
//! whose PULL the client pipelined behind its RUN first runs right here, begin to commit in one
//! call, with a time limit of [`INLINE_BUDGET`]: no hand-off to a blocking thread and back for
//! the queries that are done in microseconds. It takes no lock that a writer holds and waits
//! for no fsync (the engine reads from a snapshot, and does not wait for a database file being
//! compacted when its time is that short); when the limit ends it, it is run again on the
//! blocking pool, like every other statement.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use graphward_core::auth::ClientInfo;
use graphward_core::commands::TxControl;
use graphward_core::engine::{
    AccessMode, CancelToken, CommitInfo, Prepared, Principal, QueryEngine, ResultStream, Summary,
    Transaction, TxOptions, MAX_BOOKMARKS,
};
use graphward_core::{Error, ErrorCode, Value};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::chunk::{self, Parsed};
use crate::handshake::Version;
use crate::msg;
use crate::packstream::{Decoder, Encoder, Flavor, PackError};
use crate::transport::Transport;
use crate::BoltContext;

/// Rows pulled per blocking call when a client asks for everything (`n = -1`).
const BATCH: usize = 1000;
/// Most messages read ahead while a query runs.
const MAX_QUEUE: usize = 1024;
/// Interval of NOOP keep-alive chunks while a 5.x client waits for the engine.
const KEEPALIVE: Duration = Duration::from_secs(20);
/// Encoded answers are written once this much is pending, even if more requests are waiting.
const FLUSH_AT: usize = 64 * 1024;
/// Encoded answers wait at most this long for an engine call to end before they are written.
const FLUSH_DELAY: Duration = Duration::from_millis(1);
/// Largest message accepted before authentication.
const PRE_AUTH_MAX_MESSAGE: usize = 64 * 1024;
/// The status code of protocol violations.
const REQUEST_INVALID: &str = "Neo.ClientError.Request.Invalid";

type Map = BTreeMap<String, Value>;

/// One request message, still encoded (decoded when processed, with the flavor in force).
struct RawMsg {
    tag: u8,
    payload: Vec<u8>,
}

enum Source {
    Live(Box<dyn ResultStream>),
    Buffered(VecDeque<Vec<Value>>, Summary),
}

struct OpenResult {
    qid: i64,
    source: Source,
    /// The first batch of a live result, made by the engine call that ran the query (the
    /// client pipelined its PULL behind the RUN); the PULL sends it.
    first: Option<FirstBatch>,
}

/// Rows (encoded RECORD messages) pulled by the engine call that ran an auto-commit query, and
/// its commit when they were all of them.
struct FirstBatch {
    bytes: Vec<u8>,
    exhausted: bool,
    error: Option<Error>,
    commit: Option<graphward_core::Result<CommitInfo>>,
}

/// An auto-commit query after its engine call: the transaction (`None` once committed), the
/// result, and its first batch if a PULL was pipelined.
struct AutoRun {
    /// The transaction's database.
    db: String,
    tx: Option<Box<dyn Transaction>>,
    stream: Box<dyn ResultStream>,
    first: Option<FirstBatch>,
}

/// Time a short read may take on the connection's own (async) thread: past it the engine ends
/// that run (it is the transaction's time limit), and the query runs again on a blocking
/// thread. A short read only reads from its snapshot, so the abandoned run leaves nothing.
const INLINE_BUDGET: Duration = Duration::from_millis(1);

fn is_timeout(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::TransactionTimedOut | ErrorCode::TransactionTimedOutClientConfiguration
    )
}

/// One engine call for an auto-commit query: bookmarks, begin, run and, when the client
/// pipelined a PULL (`pull`: its batch size), the first batch of rows, committed if they were
/// all of them.
#[allow(clippy::too_many_arguments)]
fn run_auto(
    engine: &dyn QueryEngine,
    marks: &[String],
    opts: TxOptions,
    prepared: Prepared,
    params: Map,
    pull: Option<usize>,
    flavor: Flavor,
) -> graphward_core::Result<AutoRun> {
    engine.check_bookmarks(marks)?;
    let mut tx = engine.begin(opts)?;
    let db = tx.database().to_string();
    let stream = match tx.run_prepared(prepared, params) {
        Ok(s) => s,
        Err(e) => {
            let _ = tx.rollback();
            return Err(e);
        }
    };
    let Some(want) = pull else {
        return Ok(AutoRun {
            db,
            tx: Some(tx),
            stream,
            first: None,
        });
    };
    let p = pull_rows(stream, want, flavor);
    let (tx, commit) = if p.exhausted && p.error.is_none() {
        (None, Some(tx.commit()))
    } else {
        (Some(tx), None)
    };
    Ok(AutoRun {
        db,
        tx,
        stream: p.stream,
        first: Some(FirstBatch {
            bytes: p.bytes,
            exhausted: p.exhausted,
            error: p.error,
            commit,
        }),
    })
}

struct TxCtx {
    /// `None` once committed/rolled back by a RUN "COMMIT"/"ROLLBACK" whose result is pending.
    tx: Option<Box<dyn Transaction>>,
    /// Opened by BEGIN (or RUN "BEGIN"); otherwise an auto-commit query.
    explicit: bool,
    results: Vec<OpenResult>,
    next_qid: i64,
    db: String,
    cancel: CancelToken,
    /// Bookmark of a commit made by RUN "COMMIT", reported on its last PULL.
    bookmark: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Negotiation,
    Authentication,
    Ready,
    Failed,
}

enum Flow {
    Continue,
    Close,
}

/// A failure to report to the client.
struct Failure {
    code: String,
    gql: String,
    message: String,
    /// Close the connection after sending it.
    fatal: bool,
}

impl Failure {
    fn from_error(e: &Error) -> Self {
        Failure {
            code: e.code.as_str().to_string(),
            gql: e.code.gql_status().to_string(),
            message: e.message.clone(),
            fatal: matches!(e.code, ErrorCode::Unauthorized | ErrorCode::TokenExpired),
        }
    }
    fn invalid(message: impl Into<String>) -> Self {
        Failure {
            code: REQUEST_INVALID.to_string(),
            gql: "50N42".to_string(),
            message: message.into(),
            fatal: true,
        }
    }
}

impl From<PackError> for Failure {
    fn from(e: PackError) -> Self {
        Failure::invalid(e.to_string())
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::from_error(&e)
    }
}

pub(crate) struct Session<S> {
    io: Transport<S>,
    inbuf: BytesMut,
    ctx: Arc<BoltContext>,
    peer: SocketAddr,
    conn_id: String,
    version: Version,
    manifest: bool,
    flavor: Flavor,
    phase: Phase,
    principal: Option<Principal>,
    /// Names of the verified TLS client certificate, if the client sent one.
    client_certificate: Option<Vec<String>>,
    queue: VecDeque<RawMsg>,
    eof: bool,
    /// RESETs read from the socket but not yet processed: messages before them are IGNORED.
    pending_resets: usize,
    /// The explicit transaction was rolled back while the client was silent (idle past
    /// `transaction_idle_timeout`, or terminated by `TERMINATE TRANSACTION`); the client's
    /// next message in it is answered with this error.
    tx_expired: Option<Error>,
    out: Vec<u8>,
    tx: Option<TxCtx>,
    /// Until the client authenticates: the deadline, the pre-authentication slot, or the
    /// refusal its HELLO gets (the connection was over a cap).
    preauth: Option<crate::PreAuth>,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn get_str<'m>(m: &'m Map, key: &str) -> Option<&'m str> {
    match m.get(key) {
        Some(Value::String(s)) => Some(s.as_str()),
        _ => None,
    }
}

/// The `bookmarks` of a BEGIN or auto-commit RUN: a list of strings (absent or null: none).
fn bookmarks(m: &Map) -> Result<Vec<String>, Failure> {
    let invalid = |what: &str| {
        Failure::from_error(&Error::new(
            ErrorCode::InvalidBookmark,
            format!("bookmarks must be a list of strings, got {what}"),
        ))
    };
    match m.get("bookmarks") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => {
            if items.len() > MAX_BOOKMARKS {
                return Err(Failure::from_error(&Error::new(
                    ErrorCode::InvalidBookmark,
                    format!(
                        "{} bookmarks, more than the limit of {MAX_BOOKMARKS}",
                        items.len()
                    ),
                )));
            }
            items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(invalid("a list with something else")),
                })
                .collect()
        }
        Some(_) => Err(invalid("something else")),
    }
}

/// How often a silent client's open transaction is checked for `TERMINATE TRANSACTION`.
const TERMINATE_POLL: Duration = Duration::from_millis(100);

fn get_int(m: &Map, key: &str) -> Option<i64> {
    match m.get(key) {
        Some(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

/// Impersonation (`imp_user`) is not supported: refuse it rather than silently running the
/// statement as the authenticated user.
fn refuse_impersonation(extra: &Map) -> Result<(), Failure> {
    match extra.get("imp_user") {
        None | Some(Value::Null) => Ok(()),
        Some(_) => Err(Failure {
            code: ErrorCode::NotSupported.as_str().to_string(),
            gql: ErrorCode::NotSupported.gql_status().to_string(),
            message: "impersonation (imp_user) is not supported".to_string(),
            fatal: false,
        }),
    }
}

/// Statements at most this long are parsed on the connection's task; longer ones (up to the
/// engine's query length limit) on the blocking pool.
const INLINE_PARSE_BYTES: usize = 16 * 1024;

/// The Bolt message a transaction-control statement stands for (`BEGIN`, `COMMIT` or
/// `ROLLBACK` sent as a query: pymgclient with autocommit off), as the parser typed it.
fn control_message(control: TxControl) -> u8 {
    match control {
        TxControl::Begin => msg::BEGIN,
        TxControl::Commit => msg::COMMIT,
        TxControl::Rollback => msg::ROLLBACK,
    }
}

/// Pulls up to `n` rows and encodes them as RECORD messages. Runs on a blocking thread.
struct Pulled {
    stream: Box<dyn ResultStream>,
    bytes: Vec<u8>,
    exhausted: bool,
    error: Option<Error>,
}

fn pull_rows(mut stream: Box<dyn ResultStream>, n: usize, flavor: Flavor) -> Pulled {
    let mut bytes = Vec::new();
    let mut msgbuf = Vec::new();
    for _ in 0..n {
        match stream.next_row() {
            None => {
                return Pulled {
                    stream,
                    bytes,
                    exhausted: true,
                    error: None,
                }
            }
            Some(Err(e)) => {
                return Pulled {
                    stream,
                    bytes,
                    exhausted: true,
                    error: Some(e),
                }
            }
            Some(Ok(row)) => {
                msgbuf.clear();
                if let Err(e) = encode_record(&mut msgbuf, &row, flavor) {
                    return Pulled {
                        stream,
                        bytes,
                        exhausted: true,
                        error: Some(Error::internal(e.to_string())),
                    };
                }
                chunk::write_message(&mut bytes, &msgbuf);
            }
        }
    }
    Pulled {
        stream,
        bytes,
        exhausted: false,
        error: None,
    }
}

fn encode_record(out: &mut Vec<u8>, row: &[Value], flavor: Flavor) -> Result<(), PackError> {
    let mut e = Encoder::new(out, flavor);
    e.struct_header(1, msg::RECORD)?;
    e.list_header(row.len())?;
    for v in row {
        e.value(v)?;
    }
    Ok(())
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    #[allow(clippy::too_many_arguments)]
    /// Records the names of the verified TLS client certificate (see
    /// [`graphward_core::auth::ClientInfo::client_certificate`]).
    pub(crate) fn with_client_certificate(mut self, names: Option<Vec<String>>) -> Self {
        self.client_certificate = names;
        self
    }

    /// Applies the pre-authentication budget (deadline, slot or refusal).
    pub(crate) fn with_preauth(mut self, preauth: crate::PreAuth) -> Self {
        self.preauth = Some(preauth);
        self
    }

    pub(crate) fn new(
        io: Transport<S>,
        inbuf: BytesMut,
        ctx: Arc<BoltContext>,
        peer: SocketAddr,
        conn_id: String,
        version: Version,
        manifest: bool,
    ) -> Self {
        let flavor = if version.major >= 5 {
            Flavor::V5
        } else {
            Flavor::V4
        };
        Session {
            io,
            inbuf,
            ctx,
            peer,
            conn_id,
            version,
            manifest,
            flavor,
            phase: Phase::Negotiation,
            principal: None,
            client_certificate: None,
            queue: VecDeque::new(),
            eof: false,
            pending_resets: 0,
            tx_expired: None,
            out: Vec::new(),
            tx: None,
            preauth: None,
        }
    }

    /// Serves messages until the client leaves, a fatal error, or the idle timeout.
    pub(crate) async fn run(mut self) -> std::io::Result<()> {
        let result = self.main_loop().await;
        let _ = self.flush().await;
        self.abandon_tx().await;
        self.io.shutdown().await;
        result
    }

    async fn main_loop(&mut self) -> std::io::Result<()> {
        loop {
            // Answers are written when nothing more is waiting to be answered (or a lot is
            // pending): a pipelined RUN+PULL gets one write for all its responses.
            let ready = match self.queue.pop_front() {
                Some(m) => Some(m),
                None => self.parse_buffered(),
            };
            if ready.is_none() || self.out.len() >= FLUSH_AT {
                self.flush().await?;
            }
            let m = match ready {
                Some(m) => m,
                None => {
                    if self.eof {
                        return Ok(());
                    }
                    let idle = self.ctx.config.idle_timeout;
                    let tx_idle = self.ctx.config.transaction_idle_timeout;
                    let in_tx = self
                        .tx
                        .as_ref()
                        .is_some_and(|t| t.explicit && t.tx.is_some());
                    let wait = if in_tx { idle.min(tx_idle) } else { idle };
                    let cancel = self.tx.as_ref().map(|t| t.cancel.clone());
                    let mut until = Instant::now() + wait;
                    // Before authentication, the pre-authentication deadline is the limit.
                    let unauthenticated = self.principal.is_none() && self.preauth.is_some();
                    if let (true, Some(p)) = (unauthenticated, &self.preauth) {
                        until = until.min(p.deadline.into_std());
                    }
                    // An open transaction is looked at every TERMINATE_POLL while the client
                    // is silent: a terminated one is rolled back at once (its write lock and
                    // snapshot freed), not at the client's next message.
                    let read = loop {
                        let left = until.saturating_duration_since(Instant::now());
                        let step = if in_tx {
                            left.min(TERMINATE_POLL)
                        } else {
                            left
                        };
                        match tokio::time::timeout(step, self.read_msg()).await {
                            Err(_) if Instant::now() < until => {
                                if in_tx && cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
                                    break None;
                                }
                            }
                            other => break Some(other),
                        }
                    };
                    let Some(read) = read else {
                        tracing::info!(peer = %self.peer, conn = %self.conn_id, "rolling back a terminated transaction");
                        self.abandon_tx().await;
                        self.tx_expired = Some(Error::new(
                            ErrorCode::Terminated,
                            "the transaction was terminated (TERMINATE TRANSACTION) and rolled back",
                        ));
                        continue;
                    };
                    match read {
                        Err(_) if unauthenticated => {
                            tracing::info!(peer = %self.peer, conn = %self.conn_id, "closing Bolt connection: no authentication within the pre-authentication deadline");
                            return Ok(());
                        }
                        Err(_) if in_tx && tx_idle < idle => {
                            tracing::info!(peer = %self.peer, conn = %self.conn_id, "rolling back an explicit transaction idle for {} ms", tx_idle.as_millis());
                            self.abandon_tx().await;
                            self.tx_expired = Some(Error::new(
                                ErrorCode::TransactionTimedOut,
                                format!(
                                    "the transaction was idle for more than {} ms (the server's transaction idle timeout) and was rolled back",
                                    tx_idle.as_millis()
                                ),
                            ));
                            continue;
                        }
                        Err(_) => {
                            tracing::info!(peer = %self.peer, conn = %self.conn_id, "closing idle Bolt connection");
                            return Ok(());
                        }
                        Ok(Err(e)) => return Err(e),
                        Ok(Ok(None)) => return Ok(()),
                        Ok(Ok(Some(m))) => m,
                    }
                }
            };
            match self.handle(m).await? {
                Flow::Continue => {}
                Flow::Close => return Ok(()),
            }
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let r = self.io.write(&self.out).await;
        self.out.clear();
        // The buffer is reused for the next answers, unless a large result grew it.
        if self.out.capacity() > FLUSH_AT * 4 {
            self.out = Vec::new();
        }
        r
    }

    /// A whole message already in the input buffer, without reading the socket.
    fn parse_buffered(&mut self) -> Option<RawMsg> {
        loop {
            // Before authentication only small messages (a large JWT fits) are accepted.
            let limit = match self.phase {
                Phase::Negotiation | Phase::Authentication => {
                    self.ctx.config.max_message_size.min(PRE_AUTH_MAX_MESSAGE)
                }
                _ => self.ctx.config.max_message_size,
            };
            match chunk::parse_message(&self.inbuf, limit) {
                Ok(Parsed::Message { consumed, payload }) => {
                    self.inbuf.advance(consumed);
                    let tag = payload.get(1).copied().unwrap_or(0);
                    if tag == msg::RESET {
                        self.pending_resets += 1;
                    }
                    return Some(RawMsg { tag, payload });
                }
                Ok(Parsed::Noop { consumed }) => self.inbuf.advance(consumed),
                Ok(Parsed::Incomplete) => return None,
                Err(e) => {
                    tracing::warn!(peer = %self.peer, conn = %self.conn_id, "Bolt framing error: {e}");
                    self.inbuf.clear();
                    self.eof = true;
                    // Tag 0 is no valid request: it is answered with a protocol failure.
                    return Some(RawMsg {
                        tag: 0,
                        payload: Vec::new(),
                    });
                }
            }
        }
    }

    /// Reads one message (a RESET is counted in `pending_resets`). Cancel-safe. `Ok(None)` on
    /// EOF. A framing error is returned as an invalid message so that it is answered in order.
    async fn read_msg(&mut self) -> std::io::Result<Option<RawMsg>> {
        loop {
            if let Some(m) = self.parse_buffered() {
                return Ok(Some(m));
            }
            if self.eof {
                return Ok(None);
            }
            if self.io.read_into(&mut self.inbuf).await? == 0 {
                self.eof = true;
                return Ok(None);
            }
        }
    }

    /// The batch size of a PULL (not a DISCARD, of the last result) that the client pipelined
    /// right behind the message being handled, if no RESET is waiting. Every whole message
    /// already received is parsed first, so a RESET sent with them is seen here.
    fn pipelined_pull(&mut self) -> Option<usize> {
        while self.queue.len() < MAX_QUEUE {
            match self.parse_buffered() {
                Some(m) => self.queue.push_back(m),
                None => break,
            }
        }
        if self.pending_resets > 0 {
            return None;
        }
        let m = self.queue.front()?;
        if m.tag != msg::PULL {
            return None;
        }
        let fields = self.decode(m).ok()?;
        let empty = Map::new();
        let extra = match fields.first() {
            Some(Value::Map(x)) => x,
            None | Some(Value::Null) => &empty,
            Some(_) => return None,
        };
        if get_int(extra, "qid").is_some_and(|q| q != -1) {
            return None;
        }
        let n = get_int(extra, "n").unwrap_or(-1);
        // As `pull` computes its first batch.
        let want = if n < 0 {
            BATCH
        } else {
            usize::try_from(n).unwrap_or(usize::MAX).min(BATCH)
        };
        (want > 0).then_some(want)
    }

    /// Runs `f` on a blocking thread while reading ahead from the socket; a RESET (or the
    /// client going away) cancels `cancel`.
    async fn blocking<T: Send + 'static>(
        &mut self,
        cancel: Option<CancelToken>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<T> {
        // Answers already encoded wait for the end of a short call (the client that pipelined
        // this request waits for its answer anyway; one that did not was answered before it
        // sent it): one write instead of one per engine call. They go out after FLUSH_DELAY
        // if the call takes longer.
        let mut handle = tokio::task::spawn_blocking(f);
        let mut pending = !self.out.is_empty();
        let flush_after = tokio::time::sleep(FLUSH_DELAY);
        tokio::pin!(flush_after);
        // NOOP keep-alives while the engine works: 5.x only (mgclient cannot parse them).
        let keepalive = self.version.major >= 5;
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
        loop {
            let can_read = !self.eof && self.queue.len() < MAX_QUEUE;
            tokio::select! {
                r = &mut handle => {
                    return r.map_err(|e| std::io::Error::other(format!("engine task failed: {e}")));
                }
                _ = &mut flush_after, if pending && !self.eof => {
                    pending = false;
                    if self.flush().await.is_err() {
                        self.eof = true;
                        if let Some(c) = &cancel {
                            c.cancel();
                        }
                    }
                }
                _ = ticker.tick(), if keepalive && !self.eof => {
                    // Pending answers first, so this lands between messages.
                    if self.flush().await.is_err() || self.io.write(&[0, 0]).await.is_err() {
                        self.eof = true;
                        if let Some(c) = &cancel {
                            c.cancel();
                        }
                    }
                }
                m = self.read_msg(), if can_read => match m {
                    Ok(Some(m)) => {
                        if m.tag == msg::RESET {
                            if let Some(c) = &cancel {
                                c.cancel();
                            }
                        }
                        self.queue.push_back(m);
                    }
                    Ok(None) | Err(_) => {
                        self.eof = true;
                        if let Some(c) = &cancel {
                            c.cancel();
                        }
                    }
                },
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Responses
    // -----------------------------------------------------------------------------------------

    fn send_map(&mut self, tag: u8, meta: &Map) {
        let mut buf = Vec::new();
        let mut e = Encoder::new(&mut buf, self.flavor);
        let ok = e.struct_header(1, tag).and_then(|_| e.map(meta));
        if let Err(err) = ok {
            tracing::error!(conn = %self.conn_id, "cannot encode response metadata: {err}");
            buf.clear();
            let mut e = Encoder::new(&mut buf, self.flavor);
            let _ = e.struct_header(1, tag).and_then(|_| e.map(&Map::new()));
        }
        chunk::write_message(&mut self.out, &buf);
    }

    fn success(&mut self, meta: Map) {
        self.send_map(msg::SUCCESS, &meta);
    }

    fn ignored(&mut self) {
        chunk::write_message(&mut self.out, &[0xB0, msg::IGNORED]);
    }

    fn failure_meta(&self, f: &Failure) -> Map {
        let mut m = Map::new();
        m.insert("code".into(), Value::from(f.code.as_str()));
        m.insert("neo4j_code".into(), Value::from(f.code.as_str()));
        m.insert("message".into(), Value::from(f.message.as_str()));
        if self.version.at_least(5, 7) {
            m.insert("gql_status".into(), Value::from(f.gql.as_str()));
            m.insert(
                "description".into(),
                Value::from(format!("error: {}", f.message)),
            );
            let mut diag = Map::new();
            diag.insert("OPERATION".into(), Value::from(""));
            diag.insert("OPERATION_CODE".into(), Value::from("0"));
            diag.insert("CURRENT_SCHEMA".into(), Value::from("/"));
            m.insert("diagnostic_record".into(), Value::Map(diag));
        }
        m
    }

    /// Sends FAILURE, rolls back any transaction and enters FAILED (or closes).
    async fn fail(&mut self, f: Failure) -> std::io::Result<Flow> {
        let meta = self.failure_meta(&f);
        self.send_map(msg::FAILURE, &meta);
        self.abandon_tx().await;
        if f.fatal {
            tracing::warn!(peer = %self.peer, conn = %self.conn_id, code = %f.code, "closing Bolt connection: {}", f.message);
            return Ok(Flow::Close);
        }
        if self.phase == Phase::Ready {
            self.phase = Phase::Failed;
        }
        Ok(Flow::Continue)
    }

    /// Rolls back and forgets the open transaction, if any.
    async fn abandon_tx(&mut self) {
        if let Some(ctx) = self.tx.take() {
            let TxCtx { tx, results, .. } = ctx;
            let _ = self
                .blocking(None, move || {
                    drop(results);
                    if let Some(tx) = tx {
                        let _ = tx.rollback();
                    }
                })
                .await;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Dispatch
    // -----------------------------------------------------------------------------------------

    fn decode(&self, m: &RawMsg) -> Result<Vec<Value>, PackError> {
        let mut d = Decoder::new(&m.payload, self.flavor);
        let (n, _tag) = d.struct_header()?;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            fields.push(d.value()?);
        }
        if !d.is_empty() {
            return Err(PackError("trailing bytes after message".into()));
        }
        Ok(fields)
    }

    async fn handle(&mut self, m: RawMsg) -> std::io::Result<Flow> {
        if m.tag == msg::RESET {
            self.pending_resets = self.pending_resets.saturating_sub(1);
        } else if self.pending_resets > 0 && m.tag != msg::GOODBYE {
            // INTERRUPTED: a RESET is queued behind this message.
            self.ignored();
            return Ok(Flow::Continue);
        }
        if m.tag == 0 && m.payload.is_empty() {
            return self
                .fail(Failure::invalid("malformed Bolt message framing"))
                .await;
        }
        let fields = match self.decode(&m) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(peer = %self.peer, conn = %self.conn_id, "malformed Bolt message: {e}");
                return self.fail(e.into()).await;
            }
        };
        if m.tag == msg::GOODBYE {
            return Ok(Flow::Close);
        }
        match self.phase {
            Phase::Negotiation => {
                if m.tag != msg::HELLO {
                    return self
                        .fail(Failure::invalid(format!(
                            "expected HELLO, got message {:#04x}",
                            m.tag
                        )))
                        .await;
                }
                return self.hello(fields).await;
            }
            Phase::Authentication => {
                return match m.tag {
                    msg::LOGON => self.logon(fields).await,
                    msg::RESET => {
                        self.success(Map::new());
                        Ok(Flow::Continue)
                    }
                    other => {
                        self.fail(Failure::invalid(format!(
                            "message {other:#04x} before LOGON"
                        )))
                        .await
                    }
                };
            }
            Phase::Failed => {
                if m.tag == msg::RESET {
                    return self.reset().await;
                }
                self.ignored();
                return Ok(Flow::Continue);
            }
            Phase::Ready => {}
        }
        if let Some(error) = self.tx_expired.take() {
            match m.tag {
                // Already rolled back: RESET and ROLLBACK are answered as usual.
                msg::RESET => {}
                msg::ROLLBACK => {
                    self.success(Map::new());
                    return Ok(Flow::Continue);
                }
                _ => {
                    return self.fail(Failure::from_error(&error)).await;
                }
            }
        }
        match self.dispatch(m.tag, fields).await {
            Ok(flow) => Ok(flow),
            Err(DispatchError::Io(e)) => Err(e),
            Err(DispatchError::Fail(f)) => self.fail(f).await,
        }
    }

    async fn dispatch(&mut self, tag: u8, fields: Vec<Value>) -> Result<Flow, DispatchError> {
        let v = self.version;
        // LOGOFF stays possible with an expired token: it is how the client re-authenticates.
        if tag != msg::RESET && tag != msg::LOGOFF {
            self.check_token_expiry()?;
        }
        match tag {
            msg::RESET => Ok(self.reset().await?),
            msg::RUN => {
                // Every statement, inside an explicit transaction too: a revoked, dropped or
                // blocked login is refused at its next statement.
                self.recheck()?;
                self.run_msg(fields).await
            }
            msg::PULL => self.pull(fields, false).await,
            msg::DISCARD => self.pull(fields, true).await,
            msg::BEGIN => {
                self.recheck()?;
                self.begin(fields).await
            }
            msg::COMMIT => self.commit().await,
            msg::ROLLBACK => self.rollback().await,
            msg::ROUTE if v.at_least(4, 3) => self.route(fields).await,
            msg::TELEMETRY if v.at_least(5, 4) => {
                if self.tx.is_some() {
                    return Err(Failure::invalid("TELEMETRY inside a transaction").into());
                }
                self.success(Map::new());
                Ok(Flow::Continue)
            }
            msg::LOGOFF if v.at_least(5, 1) => {
                if self.tx.is_some() {
                    return Err(Failure::invalid("LOGOFF inside a transaction").into());
                }
                self.principal = None;
                self.phase = Phase::Authentication;
                self.success(Map::new());
                Ok(Flow::Continue)
            }
            msg::HELLO => Err(Failure::invalid("HELLO sent twice").into()),
            other => Err(
                Failure::invalid(format!("unsupported message {other:#04x} on Bolt {v}")).into(),
            ),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Connection setup
    // -----------------------------------------------------------------------------------------

    async fn hello(&mut self, fields: Vec<Value>) -> std::io::Result<Flow> {
        if let Some((refusal, _)) = self.preauth.as_ref().and_then(|p| p.refusal.as_ref()) {
            tracing::debug!(peer = %self.peer, conn = %self.conn_id, "Bolt HELLO refused: {}", refusal.message());
            let mut f = Failure::from_error(&Error::new(ErrorCode::AuthBusy, refusal.message()));
            f.fatal = true;
            return self.fail(f).await;
        }
        let Some(Value::Map(extra)) = fields.into_iter().next() else {
            return self.fail(Failure::invalid("HELLO needs a map")).await;
        };
        let mut meta = Map::new();
        meta.insert(
            "server".into(),
            Value::from(self.ctx.config.server_agent.as_str()),
        );
        meta.insert("connection_id".into(), Value::from(self.conn_id.as_str()));
        if self.version.at_least(4, 3) {
            meta.insert("hints".into(), Value::Map(Map::new()));
        }
        if self.version.major == 4 && self.version.at_least(4, 3) {
            let wants_utc = matches!(extra.get("patch_bolt"), Some(Value::List(l))
                if l.iter().any(|p| matches!(p, Value::String(s) if s == "utc")));
            if wants_utc {
                self.flavor.utc = true;
                meta.insert("patch_bolt".into(), Value::List(vec![Value::from("utc")]));
            }
        }
        if self.manifest {
            meta.insert(
                "protocol_version".into(),
                Value::from(self.version.to_string()),
            );
        }
        tracing::debug!(peer = %self.peer, conn = %self.conn_id, version = %self.version,
            agent = get_str(&extra, "user_agent").unwrap_or(""), "Bolt HELLO");
        if self.version.at_least(5, 1) {
            self.phase = Phase::Authentication;
            self.success(meta);
            return Ok(Flow::Continue);
        }
        match self.authenticate(extra).await? {
            Ok(p) => {
                self.principal = Some(p);
                self.preauth = None;
                self.phase = Phase::Ready;
                self.success(meta);
                Ok(Flow::Continue)
            }
            Err(f) => self.fail(f).await,
        }
    }

    async fn logon(&mut self, fields: Vec<Value>) -> std::io::Result<Flow> {
        let Some(Value::Map(auth)) = fields.into_iter().next() else {
            return self.fail(Failure::invalid("LOGON needs a map")).await;
        };
        match self.authenticate(auth).await? {
            Ok(p) => {
                self.principal = Some(p);
                self.preauth = None;
                self.phase = Phase::Ready;
                self.success(Map::new());
                Ok(Flow::Continue)
            }
            Err(f) => self.fail(f).await,
        }
    }

    async fn authenticate(&mut self, mut auth: Map) -> std::io::Result<Result<Principal, Failure>> {
        auth.remove("user_agent");
        auth.remove("bolt_agent");
        auth.remove("routing");
        auth.remove("patch_bolt");
        auth.retain(|k, _| !k.starts_with("notifications"));
        if !auth.contains_key("scheme") {
            auth.insert("scheme".into(), Value::from("none"));
        }
        let authn = self.ctx.auth.clone();
        let peer = self.peer;
        let client_certificate = self.client_certificate.clone();
        let res = self
            .blocking(None, move || {
                let client = ClientInfo {
                    client_certificate,
                    peer: Some(peer),
                    protocol: "bolt",
                };
                crate::credentials(&auth).and_then(|c| authn.authenticate(&c, &client))
            })
            .await?;
        Ok(res.map_err(|e| {
            tracing::warn!(peer = %peer, "Bolt authentication failed: {}", e.message);
            let mut f = Failure::from_error(&e);
            if !matches!(
                e.code,
                ErrorCode::TokenExpired | ErrorCode::AuthRateLimit | ErrorCode::AuthBusy
            ) {
                f.code = ErrorCode::Unauthorized.as_str().to_string();
                f.gql = ErrorCode::Unauthorized.gql_status().to_string();
            }
            f.fatal = true;
            f
        }))
    }

    /// A principal authenticated by a token that has since expired gets `TokenExpired`. On
    /// Bolt 5.1+ the connection goes to FAILED (RESET, then LOGOFF/LOGON with a fresh token
    /// continues on the same connection); older versions, which cannot re-authenticate, close.
    fn check_token_expiry(&self) -> Result<(), Failure> {
        let Some(token) = self.principal.as_ref().and_then(|p| p.token.as_ref()) else {
            return Ok(());
        };
        if token.expires_at <= 0 {
            return Ok(());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        if now >= token.expires_at {
            let mut f = Failure::from_error(&Error::new(
                ErrorCode::TokenExpired,
                "Token refused (Expiration, JWT-EXPIRATION): the token has expired.",
            ));
            f.fatal = !self.can_reauthenticate();
            return Err(f);
        }
        Ok(())
    }

    /// Ask the authenticator whether the principal still holds (token expired or blocked,
    /// user dropped): called at BEGIN and at an auto-commit RUN. Cheap (in memory).
    fn recheck(&self) -> Result<(), Failure> {
        let Some(p) = self.principal.as_ref() else {
            return Ok(());
        };
        self.ctx.auth.recheck(p).map_err(|e| {
            tracing::warn!(peer = %self.peer, conn = %self.conn_id, "Bolt re-check refused: {}", e.message);
            let mut f = Failure::from_error(&e);
            if e.code != ErrorCode::TokenExpired {
                f.code = ErrorCode::Unauthorized.as_str().to_string();
                f.gql = ErrorCode::Unauthorized.gql_status().to_string();
            }
            // Every later BEGIN/RUN is re-checked too, so keeping the connection open gives
            // nothing away; on Bolt 5.1+ it lets the client LOGOFF/LOGON with fresh credentials.
            f.fatal = !self.can_reauthenticate();
            f
        })
    }

    /// Bolt 5.1+ has LOGOFF/LOGON.
    fn can_reauthenticate(&self) -> bool {
        self.version.at_least(5, 1)
    }

    async fn reset(&mut self) -> std::io::Result<Flow> {
        self.abandon_tx().await;
        if self.phase == Phase::Failed {
            self.phase = Phase::Ready;
        }
        self.success(Map::new());
        Ok(Flow::Continue)
    }

    // -----------------------------------------------------------------------------------------
    // Transactions and queries
    // -----------------------------------------------------------------------------------------

    fn tx_options(&self, extra: &Map, implicit: bool) -> Result<TxOptions, Failure> {
        refuse_impersonation(extra)?;
        let database = match extra.get("db") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) | Some(Value::Null) | None => self.ctx.engine.default_database(),
            Some(_) => return Err(Failure::invalid("db must be a string")),
        };
        let mode = match get_str(extra, "mode") {
            Some("r") | Some("R") => AccessMode::Read,
            _ => AccessMode::Write,
        };
        let timeout = get_int(extra, "tx_timeout")
            .filter(|t| *t > 0)
            .map(|t| Duration::from_millis(t as u64));
        let metadata = match extra.get("tx_metadata") {
            Some(Value::Map(m)) => m.clone(),
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(Failure::invalid("tx_metadata must be a map")),
        };
        Ok(TxOptions {
            database: Some(database),
            mode,
            timeout,
            principal: self.principal.clone().unwrap_or_default(),
            cancel: CancelToken::new(),
            implicit,
            metadata,
        })
    }

    async fn begin(&mut self, fields: Vec<Value>) -> Result<Flow, DispatchError> {
        if self.tx.is_some() {
            return Err(Failure::invalid("BEGIN inside an open transaction or result").into());
        }
        let extra = match fields.into_iter().next() {
            Some(Value::Map(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(Failure::invalid("BEGIN needs a map").into()),
        };
        self.open_explicit(&extra).await?;
        let mut meta = Map::new();
        if self.version.at_least(5, 8) {
            if let Some(t) = &self.tx {
                meta.insert("db".into(), Value::from(t.db.as_str()));
            }
        }
        self.success(meta);
        Ok(Flow::Continue)
    }

    async fn open_explicit(&mut self, extra: &Map) -> Result<(), DispatchError> {
        let opts = self.tx_options(extra, false)?;
        let marks = bookmarks(extra)?;
        let cancel = opts.cancel.clone();
        let engine = self.ctx.engine.clone();
        let tx = self
            .blocking(Some(cancel.clone()), move || {
                engine.check_bookmarks(&marks)?;
                engine.begin(opts)
            })
            .await??;
        let db = tx.database().to_string();
        self.tx = Some(TxCtx {
            tx: Some(tx),
            explicit: true,
            results: Vec::new(),
            next_qid: 0,
            db,
            cancel,
            bookmark: None,
        });
        Ok(())
    }

    /// Turns every live result of the open transaction into a buffered one (the engine needs
    /// each stream drained before the next statement or the commit).
    async fn buffer_live_results(&mut self) -> Result<(), DispatchError> {
        let Some(ctx) = self.tx.as_mut() else {
            return Ok(());
        };
        let cancel = ctx.cancel.clone();
        let live: Vec<(usize, Box<dyn ResultStream>)> = ctx
            .results
            .iter_mut()
            .enumerate()
            .filter_map(|(i, r)| match &mut r.source {
                Source::Live(_) => {
                    let s = std::mem::replace(
                        &mut r.source,
                        Source::Buffered(VecDeque::new(), Summary::default()),
                    );
                    match s {
                        Source::Live(s) => Some((i, s)),
                        Source::Buffered(..) => None,
                    }
                }
                Source::Buffered(..) => None,
            })
            .collect();
        if live.is_empty() {
            return Ok(());
        }
        let drained = self
            .blocking(Some(cancel), move || {
                let mut out = Vec::new();
                for (i, mut s) in live {
                    let mut rows = VecDeque::new();
                    loop {
                        match s.next_row() {
                            None => break,
                            Some(Ok(r)) => rows.push_back(r),
                            Some(Err(e)) => return Err(e),
                        }
                    }
                    out.push((i, rows, s.summary()));
                }
                Ok(out)
            })
            .await??;
        if let Some(ctx) = self.tx.as_mut() {
            for (i, rows, summary) in drained {
                if let Some(r) = ctx.results.get_mut(i) {
                    r.source = Source::Buffered(rows, summary);
                }
            }
        }
        Ok(())
    }

    async fn run_msg(&mut self, fields: Vec<Value>) -> Result<Flow, DispatchError> {
        let mut it = fields.into_iter();
        let query = match it.next() {
            Some(Value::String(q)) => q,
            _ => return Err(Failure::invalid("RUN needs a query string").into()),
        };
        let params = match it.next() {
            Some(Value::Map(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(Failure::invalid("RUN parameters must be a map").into()),
        };
        let extra = match it.next() {
            Some(Value::Map(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(Failure::invalid("RUN extra must be a map").into()),
        };
        let started = Instant::now();

        // Parsed once, here: the typed statement says whether it is transaction control, and
        // the engine runs the same parsed statement.
        let prepared = if query.len() <= INLINE_PARSE_BYTES {
            self.ctx.engine.prepare(&query)
        } else {
            let engine = self.ctx.engine.clone();
            self.blocking(None, move || engine.prepare(&query)).await?
        }?;
        if let Some(control) = prepared.control() {
            return self
                .run_control(control_message(control), &extra, started)
                .await;
        }

        let in_explicit = self.tx.as_ref().is_some_and(|t| t.explicit);
        if self.tx.is_some() && !in_explicit {
            return Err(Failure::invalid("RUN while a result is still open").into());
        }
        if in_explicit {
            self.buffer_live_results().await?;
            let Some(ctx) = self.tx.as_mut() else {
                return Err(Failure::invalid("no transaction").into());
            };
            let Some(mut tx) = ctx.tx.take() else {
                return Err(Error::new(
                    ErrorCode::TransactionInvalid,
                    "the transaction is already closed",
                )
                .into());
            };
            let cancel = ctx.cancel.clone();
            let (tx, res) = self
                .blocking(Some(cancel), move || {
                    let r = tx.run_prepared(prepared, params);
                    (tx, r)
                })
                .await?;
            let Some(ctx) = self.tx.as_mut() else {
                return Err(Failure::invalid("no transaction").into());
            };
            ctx.tx = Some(tx);
            let stream = res?;
            let qid = ctx.next_qid;
            ctx.next_qid += 1;
            let fields: Vec<Value> = stream
                .columns()
                .iter()
                .map(|c| Value::from(c.as_str()))
                .collect();
            ctx.results.push(OpenResult {
                qid,
                source: Source::Live(stream),
                first: None,
            });
            let mut meta = Map::new();
            meta.insert("fields".into(), Value::List(fields));
            meta.insert("t_first".into(), Value::Int(ms(started.elapsed())));
            meta.insert("qid".into(), Value::Int(qid));
            self.success(meta);
            return Ok(Flow::Continue);
        }

        // Auto-commit.
        let opts = self.tx_options(&extra, true)?;
        let marks = bookmarks(&extra)?;
        let cancel = opts.cancel.clone();
        let engine = self.ctx.engine.clone();
        let flavor = self.flavor;
        let mut done = None;
        // A short read with its PULL pipelined behind it first runs here, on the connection's
        // thread, with a time limit of INLINE_BUDGET: begin, run, the PULL's rows and the
        // commit in one call, no hand-off to a blocking thread and back. One that overruns the
        // budget (or has more rows than the PULL's batch) is given up, having written nothing,
        // and runs again on a blocking thread below, as every other statement does.
        let fused = if prepared.may_run_inline() {
            self.pipelined_pull()
        } else {
            None
        };
        if fused.is_some()
            && opts.timeout.is_none_or(|t| t > INLINE_BUDGET)
            && matches!(engine.bookmarks_reached(&marks), Ok(true))
        {
            let mut o = opts.clone();
            o.timeout = Some(INLINE_BUDGET);
            o.cancel = CancelToken::new();
            match run_auto(
                &*engine,
                &[],
                o,
                prepared.clone(),
                params.clone(),
                fused,
                flavor,
            ) {
                Ok(run)
                    if run.first.as_ref().is_some_and(|f| {
                        f.exhausted
                            && !f.error.as_ref().is_some_and(is_timeout)
                            && !matches!(&f.commit, Some(Err(e)) if is_timeout(e))
                    }) =>
                {
                    prepared.inline_ended();
                    done = Some(Ok(run));
                }
                Err(e) if !is_timeout(&e) => done = Some(Err(e)),
                // Over the budget, or more rows than the first batch: run it on a blocking
                // thread (and after several such runs in a row, always).
                _ => prepared.inline_overran(),
            }
        }
        let res = match done {
            Some(r) => r,
            None => {
                // RUN answers before the rows are made (a slow query's fields come first).
                self.blocking(Some(cancel.clone()), move || {
                    run_auto(&*engine, &marks, opts, prepared, params, None, flavor)
                })
                .await?
            }
        };
        let AutoRun {
            db,
            tx,
            stream,
            first,
        } = res?;
        let fields: Vec<Value> = stream
            .columns()
            .iter()
            .map(|c| Value::from(c.as_str()))
            .collect();
        let mut meta = Map::new();
        meta.insert("fields".into(), Value::List(fields));
        meta.insert("t_first".into(), Value::Int(ms(started.elapsed())));
        if self.version.at_least(5, 8) && !extra.contains_key("db") {
            meta.insert("db".into(), Value::from(db.as_str()));
        }
        self.tx = Some(TxCtx {
            tx,
            explicit: false,
            results: vec![OpenResult {
                qid: 0,
                source: Source::Live(stream),
                first,
            }],
            next_qid: 1,
            db,
            cancel,
            bookmark: None,
        });
        self.success(meta);
        Ok(Flow::Continue)
    }

    /// RUN "BEGIN" / "COMMIT" / "ROLLBACK" (Memgraph-style explicit transactions in Cypher).
    async fn run_control(
        &mut self,
        ctl: u8,
        extra: &Map,
        started: Instant,
    ) -> Result<Flow, DispatchError> {
        let mut meta = Map::new();
        meta.insert("fields".into(), Value::List(Vec::new()));
        let empty = |db: &str| {
            Source::Buffered(
                VecDeque::new(),
                Summary {
                    database: db.to_string(),
                    ..Summary::default()
                },
            )
        };
        match ctl {
            msg::BEGIN => {
                if self.tx.is_some() {
                    return Err(Error::new(
                        ErrorCode::TransactionInvalid,
                        "a transaction is already open",
                    )
                    .into());
                }
                self.open_explicit(extra).await?;
                if let Some(ctx) = self.tx.as_mut() {
                    let qid = ctx.next_qid;
                    ctx.next_qid += 1;
                    let src = empty(&ctx.db);
                    ctx.results.push(OpenResult {
                        qid,
                        source: src,
                        first: None,
                    });
                }
            }
            _ => {
                let explicit = self.tx.as_ref().is_some_and(|t| t.explicit);
                if !explicit {
                    return Err(Error::new(
                        ErrorCode::TransactionInvalid,
                        "there is no open transaction",
                    )
                    .into());
                }
                self.buffer_live_results().await?;
                let Some(ctx) = self.tx.take() else {
                    return Err(Failure::invalid("no transaction").into());
                };
                let db = ctx.db.clone();
                let cancel = ctx.cancel.clone();
                let bookmark = match ctx.tx {
                    Some(tx) if ctl == msg::COMMIT => {
                        self.blocking(Some(cancel.clone()), move || tx.commit())
                            .await??
                            .bookmark
                    }
                    Some(tx) => {
                        self.blocking(Some(cancel.clone()), move || tx.rollback())
                            .await??;
                        None
                    }
                    None => None,
                };
                self.tx = Some(TxCtx {
                    tx: None,
                    explicit: false,
                    results: vec![OpenResult {
                        qid: 0,
                        source: empty(&db),
                        first: None,
                    }],
                    next_qid: 1,
                    db,
                    cancel,
                    bookmark,
                });
            }
        }
        meta.insert("t_first".into(), Value::Int(ms(started.elapsed())));
        self.success(meta);
        Ok(Flow::Continue)
    }

    async fn pull(&mut self, fields: Vec<Value>, discard: bool) -> Result<Flow, DispatchError> {
        let extra = match fields.into_iter().next() {
            Some(Value::Map(m)) => m,
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(Failure::invalid("PULL/DISCARD needs a map").into()),
        };
        let n = get_int(&extra, "n").unwrap_or(-1);
        let qid = get_int(&extra, "qid").unwrap_or(-1);
        let started = Instant::now();
        let flavor = self.flavor;
        let Some(ctx) = self.tx.as_mut() else {
            return Err(Failure::invalid("PULL/DISCARD without an open result").into());
        };
        let idx = if qid < 0 {
            ctx.results.len().checked_sub(1)
        } else {
            ctx.results.iter().position(|r| r.qid == qid)
        };
        let Some(idx) = idx else {
            return Err(Failure::invalid(format!("no open result with qid {qid}")).into());
        };
        let cancel = ctx.cancel.clone();
        let mut remaining: Option<usize> = if n < 0 {
            None
        } else {
            Some(usize::try_from(n).unwrap_or(usize::MAX))
        };
        let mut summary: Option<Summary> = None;
        // An auto-commit result is committed by the engine call that exhausts it.
        let mut committed = None;

        loop {
            if self.pending_resets > 0 {
                // A RESET is waiting: stop streaming; the request is interrupted.
                self.ignored();
                return Ok(Flow::Continue);
            }
            let want = remaining.map_or(BATCH, |r| r.min(BATCH));
            if want == 0 {
                break;
            }
            let Some(ctx) = self.tx.as_mut() else {
                return Err(Failure::invalid("no open result").into());
            };
            let Some(res) = ctx.results.get_mut(idx) else {
                return Err(Failure::invalid("no open result").into());
            };
            match &mut res.source {
                Source::Buffered(rows, s) => {
                    let mut taken = 0;
                    let mut buf = Vec::new();
                    while taken < want {
                        let Some(row) = rows.pop_front() else {
                            break;
                        };
                        taken += 1;
                        if !discard {
                            buf.clear();
                            encode_record(&mut buf, &row, flavor)?;
                            chunk::write_message(&mut self.out, &buf);
                        }
                    }
                    if rows.is_empty() {
                        summary = Some(s.clone());
                    }
                    if let Some(r) = remaining.as_mut() {
                        *r -= taken;
                    }
                    if summary.is_some() {
                        break;
                    }
                }
                Source::Live(_) => {
                    let Source::Live(stream) = std::mem::replace(
                        &mut res.source,
                        Source::Buffered(VecDeque::new(), Summary::default()),
                    ) else {
                        return Err(Failure::invalid("no open result").into());
                    };
                    if discard && remaining.is_none() {
                        // DISCARD of everything: the rows are not wanted, so none are made
                        // (a streaming result stops where it is; its summary is complete).
                        let done = self
                            .blocking(Some(cancel.clone()), move || {
                                let summary = stream.summary();
                                drop(stream);
                                summary
                            })
                            .await?;
                        summary = Some(done);
                        break;
                    }
                    let first = res.first.take();
                    let auto_tx = match self.tx.as_mut() {
                        Some(c) if !c.explicit => c.tx.take(),
                        _ => None,
                    };
                    let (pulled, tx_back, commit) = match first {
                        // Made with the RUN (with the same batch size): a committed result
                        // left no transaction behind.
                        Some(f) => (
                            Pulled {
                                stream,
                                bytes: if discard { Vec::new() } else { f.bytes },
                                exhausted: f.exhausted,
                                error: f.error,
                            },
                            auto_tx,
                            f.commit,
                        ),
                        None => {
                            self.blocking(Some(cancel.clone()), move || {
                                let mut p = pull_rows(stream, want, flavor);
                                if discard {
                                    p.bytes.clear();
                                }
                                match auto_tx {
                                    Some(tx) if p.exhausted && p.error.is_none() => {
                                        (p, None, Some(tx.commit()))
                                    }
                                    tx => (p, tx, None),
                                }
                            })
                            .await?
                        }
                    };
                    if let Some(tx) = tx_back {
                        if let Some(c) = self.tx.as_mut() {
                            c.tx = Some(tx);
                        }
                    }
                    committed = commit;
                    self.out.extend_from_slice(&pulled.bytes);
                    if let Some(e) = pulled.error {
                        return Err(e.into());
                    }
                    if let Some(r) = remaining.as_mut() {
                        *r -= want.min(*r);
                    }
                    if pulled.exhausted {
                        summary = Some(pulled.stream.summary());
                        // The stream is done: keep nothing but the (now empty) buffered slot.
                    } else if let Some(res) = self.tx.as_mut().and_then(|c| c.results.get_mut(idx))
                    {
                        res.source = Source::Live(pulled.stream);
                    }
                    if summary.is_some() {
                        break;
                    }
                    // Send what we have before pulling the next batch.
                    self.flush().await?;
                }
            }
        }

        let mut meta = Map::new();
        let Some(summary) = summary else {
            meta.insert("has_more".into(), Value::Bool(true));
            self.success(meta);
            return Ok(Flow::Continue);
        };
        // The result is complete.
        let Some(mut ctx) = self.tx.take() else {
            return Err(Failure::invalid("no open result").into());
        };
        if idx < ctx.results.len() {
            ctx.results.remove(idx);
        }
        meta.insert("has_more".into(), Value::Bool(false));
        meta.insert("type".into(), Value::from(summary.query_type.as_bolt()));
        meta.insert("t_last".into(), Value::Int(ms(started.elapsed())));
        let db = if summary.database.is_empty() {
            ctx.db.clone()
        } else {
            summary.database.clone()
        };
        meta.insert("db".into(), Value::from(db));
        let nz = summary.stats.nonzero();
        if !nz.is_empty() {
            let mut stats = Map::new();
            for (k, v) in nz {
                stats.insert(
                    k.to_string(),
                    Value::Int(i64::try_from(v).unwrap_or(i64::MAX)),
                );
            }
            stats.insert("contains-updates".into(), Value::Bool(true));
            if summary.stats.system_updates > 0 {
                stats.insert("contains-system-updates".into(), Value::Bool(true));
            }
            meta.insert("stats".into(), Value::Map(stats));
        }
        if let Some(plan) = &summary.plan {
            meta.insert("plan".into(), plan.to_value(false));
        }
        if let Some(profile) = &summary.profile {
            meta.insert("profile".into(), profile.to_value(true));
        }
        if ctx.explicit {
            self.tx = Some(ctx);
        } else {
            // Auto-commit: committed with the last rows, or now.
            if let Some(info) = committed {
                ctx.bookmark = info?.bookmark;
            } else if let Some(tx) = ctx.tx.take() {
                let info = self
                    .blocking(Some(ctx.cancel.clone()), move || tx.commit())
                    .await??;
                ctx.bookmark = info.bookmark;
            }
            if let Some(b) = ctx.bookmark {
                meta.insert("bookmark".into(), Value::from(b));
            }
        }
        self.success(meta);
        Ok(Flow::Continue)
    }

    async fn commit(&mut self) -> Result<Flow, DispatchError> {
        if !self.tx.as_ref().is_some_and(|t| t.explicit) {
            return Err(Failure::invalid("COMMIT without an explicit transaction").into());
        }
        self.buffer_live_results().await?;
        let Some(ctx) = self.tx.take() else {
            return Err(Failure::invalid("no transaction").into());
        };
        let mut meta = Map::new();
        if let Some(tx) = ctx.tx {
            let info = self
                .blocking(Some(ctx.cancel.clone()), move || tx.commit())
                .await??;
            if let Some(b) = info.bookmark {
                meta.insert("bookmark".into(), Value::from(b));
            }
        }
        self.success(meta);
        Ok(Flow::Continue)
    }

    async fn rollback(&mut self) -> Result<Flow, DispatchError> {
        if !self.tx.as_ref().is_some_and(|t| t.explicit) {
            return Err(Failure::invalid("ROLLBACK without an explicit transaction").into());
        }
        let Some(ctx) = self.tx.take() else {
            return Err(Failure::invalid("no transaction").into());
        };
        let TxCtx { tx, results, .. } = ctx;
        self.blocking(None, move || {
            drop(results);
            match tx {
                Some(tx) => tx.rollback(),
                None => Ok(()),
            }
        })
        .await??;
        self.success(Map::new());
        Ok(Flow::Continue)
    }

    // -----------------------------------------------------------------------------------------
    // Routing
    // -----------------------------------------------------------------------------------------

    async fn route(&mut self, fields: Vec<Value>) -> Result<Flow, DispatchError> {
        if self.tx.is_some() {
            return Err(Failure::invalid("ROUTE inside a transaction").into());
        }
        let mut it = fields.into_iter();
        let routing = match it.next() {
            Some(Value::Map(m)) => m,
            _ => Map::new(),
        };
        let _bookmarks = it.next();
        let db = match it.next() {
            Some(Value::String(s)) => Some(s),
            Some(Value::Map(extra)) => {
                refuse_impersonation(&extra)?;
                get_str(&extra, "db").map(str::to_string)
            }
            _ => None,
        };
        let engine = self.ctx.engine.clone();
        let (default, names) = self
            .blocking(None, move || {
                let names: Vec<String> = engine.databases().into_iter().map(|d| d.name).collect();
                (engine.default_database(), names)
            })
            .await?;
        let db = db
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| default.clone());
        let known = db == "system" || db == default || names.iter().any(|n| n == &db);
        if !known {
            return Err(Error::new(
                ErrorCode::DatabaseNotFound,
                format!("Database does not exist. Database name: '{db}'."),
            )
            .into());
        }
        let address = self
            .ctx
            .config
            .advertised_address
            .clone()
            .or_else(|| get_str(&routing, "address").map(str::to_string))
            .unwrap_or_else(|| self.ctx.config.listen_address.clone());
        let server = |role: &str| {
            let mut m = Map::new();
            m.insert(
                "addresses".into(),
                Value::List(vec![Value::from(address.as_str())]),
            );
            m.insert("role".into(), Value::from(role));
            Value::Map(m)
        };
        let mut rt = Map::new();
        rt.insert("ttl".into(), Value::Int(self.ctx.config.routing_ttl_secs));
        rt.insert("db".into(), Value::from(db.as_str()));
        rt.insert(
            "servers".into(),
            Value::List(vec![server("ROUTE"), server("READ"), server("WRITE")]),
        );
        let mut meta = Map::new();
        meta.insert("rt".into(), Value::Map(rt));
        self.success(meta);
        Ok(Flow::Continue)
    }
}

enum DispatchError {
    Io(std::io::Error),
    Fail(Failure),
}

impl From<std::io::Error> for DispatchError {
    fn from(e: std::io::Error) -> Self {
        DispatchError::Io(e)
    }
}

impl From<Failure> for DispatchError {
    fn from(f: Failure) -> Self {
        DispatchError::Fail(f)
    }
}

impl From<Error> for DispatchError {
    fn from(e: Error) -> Self {
        DispatchError::Fail(Failure::from_error(&e))
    }
}

impl From<PackError> for DispatchError {
    fn from(e: PackError) -> Self {
        DispatchError::Fail(Failure::from_error(&Error::internal(e.to_string())))
    }
}
