//! Cypher over HTTP in the shape of Neo4j's Query API v2: auto-commit queries and explicit
//! transactions, with results streamed as they are produced.
//!
//! A request's engine work runs on the blocking pool ([`spawn_job`]). It writes the JSON
//! answer into a buffer that is handed to the response body in 64 KiB pieces. Until the
//! first piece leaves (small results: until the end), an error still becomes a proper error
//! answer with its status; after that, an error cuts the body off (the client sees an
//! incomplete chunked response, never a well-formed partial result).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use graphward_core::engine::{
    AccessMode, CancelToken, Params, Principal, Stats, Transaction, TxOptions,
};
use graphward_core::temporal::{DateTime, Zone};
use graphward_core::Value;
use serde_json::Value as J;
use tokio::sync::mpsc;

use crate::error::{codes, ApiError};
use crate::json::{self, Format};
use crate::{authenticate, parse_json_body, peer_of, read_body, App, Shared};

/// Size of the pieces a result is sent in (and of what is buffered before the head is sent).
const PIECE: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------------
// Output

pub(crate) enum Msg {
    Data(Bytes),
    /// An error before anything was sent: becomes the answer.
    Fail(ApiError),
    /// An error after the head was sent: cuts the body off.
    Abort(String),
}

/// Where a job writes its answer.
pub(crate) struct Out {
    tx: mpsc::Sender<Msg>,
    buf: Vec<u8>,
    sent_any: bool,
    total: u64,
    limit: u64,
}

/// Why writing stopped.
pub(crate) enum Stop {
    /// The client went away.
    Gone,
    Error(ApiError),
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Self {
        Stop::Error(e)
    }
}

impl From<graphward_core::Error> for Stop {
    fn from(e: graphward_core::Error) -> Self {
        Stop::Error(e.into())
    }
}

impl Out {
    pub(crate) fn write(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        self.total = self.total.saturating_add(bytes.len() as u64);
        if self.total > self.limit {
            return Err(Stop::Error(
                ApiError::bad_request(format!(
                    "the result is larger than {} bytes (http.max_result_size)",
                    self.limit
                ))
                .with_code(codes::RESULT_TOO_LARGE),
            ));
        }
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= PIECE {
            self.flush()?;
        }
        Ok(())
    }

    pub(crate) fn json(&mut self, v: &J) -> Result<(), Stop> {
        let text = serde_json::to_vec(v)
            .map_err(|e| Stop::Error(ApiError::internal(format!("cannot encode JSON: {e}"))))?;
        self.write(&text)
    }

    fn flush(&mut self) -> Result<(), Stop> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let data = Bytes::from(std::mem::take(&mut self.buf));
        self.sent_any = true;
        self.tx
            .blocking_send(Msg::Data(data))
            .map_err(|_| Stop::Gone)
    }

    /// Finish the job: flush, or report its error.
    pub(crate) fn finish(mut self, result: Result<(), Stop>, app: &App) {
        let result = result.and_then(|()| self.flush());
        match result {
            Ok(()) | Err(Stop::Gone) => {}
            Err(Stop::Error(e)) => {
                if self.sent_any {
                    app.metrics.streams_aborted.inc();
                    tracing::warn!(code = %e.code, "http: result stream cut off: {}", e.message);
                    let _ = self.tx.blocking_send(Msg::Abort(e.message));
                } else {
                    let _ = self.tx.blocking_send(Msg::Fail(e));
                }
            }
        }
    }
}

impl ApiError {
    pub(crate) fn with_code(mut self, code: &str) -> Self {
        self.code = code.to_string();
        self
    }
}

/// Cancels the engine work when the response (or the request) is dropped.
struct CancelOnDrop(CancelToken);
impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Run `job` on the blocking pool and turn what it writes into the response.
pub(crate) async fn spawn_job(
    app: &Shared,
    status: StatusCode,
    content_type: &'static str,
    cancel: CancelToken,
    job: impl FnOnce(&mut Out) -> Result<(), Stop> + Send + 'static,
) -> Response {
    let (tx, mut rx) = mpsc::channel::<Msg>(4);
    let mut out = Out {
        tx,
        buf: Vec::with_capacity(4096),
        sent_any: false,
        total: 0,
        limit: app.state.limits.max_result_bytes,
    };
    let guard = CancelOnDrop(cancel);
    let job_app = app.clone();
    tokio::task::spawn_blocking(move || {
        let result = job(&mut out);
        out.finish(result, &job_app);
    });
    let first = match rx.recv().await {
        Some(Msg::Data(d)) => d,
        Some(Msg::Fail(e)) => return e.into_response(),
        Some(Msg::Abort(m)) => return ApiError::internal(m).into_response(),
        None => return ApiError::internal("the request was interrupted").into_response(),
    };
    let stream = futures_util::stream::unfold(
        (Some(first), rx, guard),
        |(first, mut rx, guard)| async move {
            if let Some(d) = first {
                return Some((Ok::<Bytes, std::io::Error>(d), (None, rx, guard)));
            }
            match rx.recv().await {
                Some(Msg::Data(d)) => Some((Ok(d), (None, rx, guard))),
                Some(Msg::Fail(e)) => {
                    Some((Err(std::io::Error::other(e.message)), (None, rx, guard)))
                }
                Some(Msg::Abort(m)) => Some((Err(std::io::Error::other(m)), (None, rx, guard))),
                None => None,
            }
        },
    );
    let mut r = Response::new(Body::from_stream(stream));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

// ---------------------------------------------------------------------------------------------
// Statements

/// How rows are written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `"data":{"fields":[..],"values":[[..]]}` (Query API v2).
    QueryApi,
    /// `"results":[{field: value}]` (RESTPP).
    Objects,
}

fn counters(s: &Stats) -> J {
    serde_json::json!({
        "containsUpdates": s.contains_updates(),
        "nodesCreated": s.nodes_created,
        "nodesDeleted": s.nodes_deleted,
        "propertiesSet": s.properties_set,
        "relationshipsCreated": s.relationships_created,
        "relationshipsDeleted": s.relationships_deleted,
        "labelsAdded": s.labels_added,
        "labelsRemoved": s.labels_removed,
        "indexesAdded": s.indexes_added,
        "indexesRemoved": s.indexes_removed,
        "constraintsAdded": s.constraints_added,
        "constraintsRemoved": s.constraints_removed,
        "containsSystemUpdates": s.system_updates > 0,
        "systemUpdates": s.system_updates,
    })
}

/// A statement and its parameters.
pub(crate) struct Statement {
    pub text: String,
    pub params: Params,
}

/// The `data` (or `results`) and `counters` members of an answer without a statement.
pub(crate) fn write_empty(out: &mut Out, shape: Shape) -> Result<(), Stop> {
    let empty = match shape {
        Shape::QueryApi => r#""data":{"fields":[],"values":[]},"counters":"#,
        Shape::Objects => r#""results":[],"counters":"#,
    };
    out.write(empty.as_bytes())?;
    out.json(&counters(&Stats::default()))
}

/// Run `statement` (if any) in `tx` and write the `data` (or `results`) and `counters`
/// members, without the surrounding braces.
pub(crate) fn write_statement(
    out: &mut Out,
    tx: &mut dyn Transaction,
    statement: Option<Statement>,
    format: Format,
    shape: Shape,
) -> Result<(), Stop> {
    let Some(st) = statement else {
        return write_empty(out, shape);
    };
    let mut stream = tx.run(&st.text, st.params)?;
    let fields: Vec<String> = stream.columns().to_vec();
    match shape {
        Shape::QueryApi => {
            out.write(br#""data":{"fields":"#)?;
            out.json(&J::from(fields.clone()))?;
            out.write(br#","values":["#)?;
        }
        Shape::Objects => out.write(br#""results":["#)?,
    }
    let mut first = true;
    while let Some(row) = stream.next_row() {
        let row: Vec<Value> = row?;
        if !first {
            out.write(b",")?;
        }
        first = false;
        let encoded = match shape {
            Shape::QueryApi => J::Array(row.iter().map(|v| format.encode(v)).collect()),
            Shape::Objects => J::Object(
                fields
                    .iter()
                    .cloned()
                    .zip(row.iter().map(|v| format.encode(v)))
                    .collect(),
            ),
        };
        out.json(&encoded)?;
    }
    match shape {
        Shape::QueryApi => out.write(b"]},\"counters\":")?,
        Shape::Objects => out.write(b"],\"counters\":")?,
    }
    out.json(&counters(&stream.summary().stats))
}

fn bookmarks(b: Option<String>) -> J {
    J::Array(b.into_iter().map(J::String).collect())
}

/// What a Query API request body says.
pub(crate) struct QueryRequest {
    pub statement: Option<Statement>,
    pub mode: AccessMode,
    pub format: Format,
    /// The transaction metadata (`metadata`), when the body has one.
    pub metadata: Option<graphward_core::value::Map>,
}

/// Most bytes the `metadata` object may take, as compact JSON.
pub(crate) const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Most nesting of maps and lists in `metadata` (the object itself is level 1).
pub(crate) const MAX_METADATA_DEPTH: usize = 8;

/// Counts bytes written and fails past a limit (sizing `metadata` without building it).
struct SizeCap(usize);

impl std::io::Write for SizeCap {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        if self.0 > MAX_METADATA_BYTES {
            return Err(std::io::Error::other("too large"));
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Whether `j` nests deeper than `max` levels (scalars are level 0).
fn deeper_than(j: &J, max: usize) -> bool {
    let children: Box<dyn Iterator<Item = &J>> = match j {
        J::Array(a) => Box::new(a.iter()),
        J::Object(o) => Box::new(o.values()),
        _ => return false,
    };
    max == 0 || children.into_iter().any(|c| deeper_than(c, max - 1))
}

/// The transaction metadata of a request: a JSON object, at most [`MAX_METADATA_BYTES`] as
/// JSON and [`MAX_METADATA_DEPTH`] levels deep; values decode as parameters do (typed values
/// in the typed format). Shown by `CALL tx.getMetaData()` and `SHOW TRANSACTIONS`.
fn parse_metadata(
    j: Option<&J>,
    format: Format,
) -> Result<Option<graphward_core::value::Map>, ApiError> {
    let o = match j {
        None | Some(J::Null) => return Ok(None),
        Some(o @ J::Object(_)) => o,
        Some(_) => return Err(ApiError::bad_request("`metadata` must be a JSON object")),
    };
    if serde_json::to_writer(SizeCap(0), o).is_err() {
        return Err(ApiError::bad_request(format!(
            "`metadata` is larger than {MAX_METADATA_BYTES} bytes as JSON"
        )));
    }
    if deeper_than(o, MAX_METADATA_DEPTH) {
        return Err(ApiError::bad_request(format!(
            "`metadata` is nested more than {MAX_METADATA_DEPTH} levels deep"
        )));
    }
    match json::param(o, format)? {
        Value::Map(m) => Ok(Some(m)),
        // A typed-format `{"$type": .., "_value": ..}` object decodes to another value.
        _ => Err(ApiError::bad_request("`metadata` must be a JSON object")),
    }
}

pub(crate) fn parse_query_request(
    headers: &HeaderMap,
    body: &[u8],
    statement_required: bool,
) -> Result<QueryRequest, ApiError> {
    let v = parse_json_body(headers, body)?;
    let J::Object(o) = v else {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    };
    let in_format = Format::from_media(
        headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
    );
    let format = Format::from_media(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let text = match o.get("statement") {
        None => None,
        Some(J::String(s)) if s.trim().is_empty() => None,
        Some(J::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::bad_request("`statement` must be a string")),
    };
    if statement_required && text.is_none() {
        return Err(ApiError::bad_request(
            "the request body needs a `statement` (a Cypher query)",
        ));
    }
    // Parameters without a statement are ignored (there is nothing to bind them to).
    let params = match text {
        Some(_) => json::params(o.get("parameters"), in_format)?,
        None => Params::new(),
    };
    match o.get("includeCounters") {
        None | Some(J::Bool(_)) => {}
        Some(_) => return Err(ApiError::bad_request("`includeCounters` must be a boolean")),
    }
    match o.get("bookmarks") {
        None => {}
        Some(J::Array(items)) if items.iter().all(J::is_string) => {}
        Some(_) => {
            return Err(ApiError::bad_request(
                "`bookmarks` must be an array of strings",
            ))
        }
    }
    if !matches!(o.get("parameters"), None | Some(J::Object(_))) {
        return Err(ApiError::bad_request("`parameters` must be a JSON object"));
    }
    let mode = match o.get("accessMode") {
        None => AccessMode::Write,
        Some(J::String(s)) if s.eq_ignore_ascii_case("read") => AccessMode::Read,
        Some(J::String(s)) if s.eq_ignore_ascii_case("write") => AccessMode::Write,
        Some(_) => return Err(ApiError::bad_request("`accessMode` must be READ or WRITE")),
    };
    if matches!(o.get("impersonatedUser"), Some(J::String(_))) {
        return Err(ApiError::bad_request("impersonation is not supported"));
    }
    let metadata = parse_metadata(o.get("metadata"), in_format)?;
    Ok(QueryRequest {
        statement: text.map(|text| Statement { text, params }),
        mode,
        format,
        metadata,
    })
}

pub(crate) fn content_type(format: Format) -> &'static str {
    match format {
        Format::Plain => "application/json",
        Format::Typed => "application/vnd.neo4j.query",
    }
}

/// Authenticate and read the body: what every query endpoint does.
pub(crate) async fn prelude(
    app: &Shared,
    req: Request,
) -> Result<(Principal, HeaderMap, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    // The graph (and a token's graph scope) is authorized by the front door, with the
    // statement.
    let principal = authenticate(app, &parts.headers, peer_of(&parts.extensions)).await?;
    let body = read_body(app, body).await?;
    Ok((principal, parts.headers, body))
}

/// Begin, run one statement, commit: the job behind auto-commit endpoints.
pub(crate) fn autocommit_job(
    app: Shared,
    options: TxOptions,
    statement: Option<Statement>,
    format: Format,
    shape: Shape,
) -> impl FnOnce(&mut Out) -> Result<(), Stop> + Send + 'static {
    move |out| {
        let mut tx = app.state.engine.begin(options)?;
        app.metrics.tx_begun.inc();
        out.write(b"{")?;
        if shape == Shape::Objects {
            out.write(br#""error":false,"message":"","#)?;
        }
        if let Err(e) = write_statement(out, tx.as_mut(), statement, format, shape) {
            app.metrics.tx_rolled_back.inc();
            return Err(e);
        }
        let info = tx.commit()?;
        app.metrics.tx_committed.inc();
        out.write(br#","bookmarks":"#)?;
        out.json(&bookmarks(info.bookmark))?;
        out.write(b"}")
    }
}

/// `POST /db/{graph}/query/v2`
pub(crate) async fn autocommit(
    State(app): State<Shared>,
    Path(graph): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (principal, headers, body) = prelude(&app, req).await?;
    let q = parse_query_request(&headers, &body, true)?;
    let cancel = CancelToken::new();
    let options = TxOptions {
        database: Some(graph),
        mode: q.mode,
        principal,
        cancel: cancel.clone(),
        implicit: true,
        metadata: q.metadata.unwrap_or_default(),
        ..TxOptions::default()
    };
    let job = autocommit_job(app.clone(), options, q.statement, q.format, Shape::QueryApi);
    Ok(spawn_job(
        &app,
        StatusCode::ACCEPTED,
        content_type(q.format),
        cancel,
        job,
    )
    .await)
}

// ---------------------------------------------------------------------------------------------
// Explicit transactions

pub(crate) struct TxSlot {
    tx: Option<Box<dyn Transaction>>,
    expires: Instant,
    expires_wall: SystemTime,
}

#[derive(Clone)]
pub(crate) struct TxEntry {
    owner: Option<String>,
    database: String,
    slot: Arc<tokio::sync::Mutex<TxSlot>>,
}

/// Open explicit transactions by id.
#[derive(Default)]
pub(crate) struct TxRegistry {
    map: Mutex<HashMap<String, TxEntry>>,
}

impl TxRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, TxEntry>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
    fn get(&self, id: &str) -> Option<TxEntry> {
        self.lock().get(id).cloned()
    }
    fn insert(&self, id: String, entry: TxEntry) {
        self.lock().insert(id, entry);
    }
    fn remove(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// A random transaction id (128 bits, hex).
fn new_tx_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes)
        .map_err(|_| ApiError::internal("cannot generate a transaction id"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn http_time(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    DateTime {
        seconds: secs,
        nanos: 0,
        zone: Zone::Offset(0),
    }
    .to_string()
}

fn tx_info(id: &str, expires: SystemTime) -> J {
    serde_json::json!({"id": id, "expires": http_time(expires)})
}

fn owner_of(p: &Principal) -> Option<String> {
    p.user.clone()
}

/// Roll back an explicit transaction on the blocking pool.
fn rollback_later(app: &Shared, tx: Box<dyn Transaction>) {
    app.metrics.tx_rolled_back.inc();
    tokio::task::spawn_blocking(move || {
        let _ = tx.rollback();
    });
}

/// Every second, roll back explicit transactions idle past the timeout.
pub(crate) async fn reap_expired(app: Shared) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tick.tick().await;
        let entries: Vec<(String, TxEntry)> = app
            .txs
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let now = Instant::now();
        for (id, entry) in entries {
            let Ok(mut slot) = entry.slot.try_lock() else {
                continue; // in use: not idle
            };
            if slot.expires <= now {
                app.txs.remove(&id);
                if let Some(tx) = slot.tx.take() {
                    app.metrics.tx_expired.inc();
                    rollback_later(&app, tx);
                }
                tracing::debug!("http: transaction expired after being idle");
            }
        }
    }
}

/// `POST /db/{graph}/query/v2/tx`
pub(crate) async fn open_tx(
    State(app): State<Shared>,
    Path(graph): Path<String>,
    req: Request,
) -> Result<Response, ApiError> {
    let (principal, headers, body) = prelude(&app, req).await?;
    let q = parse_query_request(&headers, &body, false)?;
    if app.txs.len() >= app.state.limits.max_transactions {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::TOO_MANY_TRANSACTIONS,
            format!(
                "too many open transactions ({}, http.max_transactions); commit or roll back some first",
                app.state.limits.max_transactions
            ),
        ));
    }
    let id = new_tx_id()?;
    let owner = owner_of(&principal);
    let options = TxOptions {
        database: Some(graph),
        mode: q.mode,
        principal,
        cancel: CancelToken::new(),
        implicit: false,
        metadata: q.metadata.unwrap_or_default(),
        ..TxOptions::default()
    };
    let japp = app.clone();
    let idle = app.state.limits.transaction_idle_timeout;
    let format = q.format;
    let statement = q.statement;
    let job = move |out: &mut Out| -> Result<(), Stop> {
        let mut tx = japp.state.engine.begin(options)?;
        japp.metrics.tx_begun.inc();
        let database = tx.database().to_string();
        out.write(b"{")?;
        if let Err(e) = write_statement(out, tx.as_mut(), statement, format, Shape::QueryApi) {
            japp.metrics.tx_rolled_back.inc();
            return Err(e);
        }
        let expires_wall = SystemTime::now() + idle;
        japp.txs.insert(
            id.clone(),
            TxEntry {
                owner,
                database,
                slot: Arc::new(tokio::sync::Mutex::new(TxSlot {
                    tx: Some(tx),
                    expires: Instant::now() + idle,
                    expires_wall,
                })),
            },
        );
        out.write(br#","bookmarks":[],"transaction":"#)?;
        out.json(&tx_info(&id, expires_wall))?;
        out.write(b"}")
    };
    // The transaction outlives this request: the request's cancel token is not its own.
    Ok(spawn_job(
        &app,
        StatusCode::ACCEPTED,
        content_type(format),
        CancelToken::new(),
        job,
    )
    .await)
}

/// Find an open transaction the principal may use, and lock it.
async fn claim(
    app: &Shared,
    graph: &str,
    id: &str,
    principal: &Principal,
) -> Result<tokio::sync::OwnedMutexGuard<TxSlot>, ApiError> {
    let not_found = || {
        ApiError::not_found(
            codes::TRANSACTION_NOT_FOUND,
            "unknown transaction id; the transaction may have expired or ended",
        )
    };
    let entry = app.txs.get(id).ok_or_else(not_found)?;
    if entry.database != graph {
        return Err(not_found());
    }
    if entry.owner != owner_of(principal) {
        return Err(ApiError::forbidden(
            "this transaction belongs to another user",
        ));
    }
    let slot = entry.slot.clone().try_lock_owned().map_err(|_| {
        ApiError::new(
            StatusCode::CONFLICT,
            codes::TRANSACTION_IN_USE,
            "another request is running in this transaction",
        )
    })?;
    if slot.tx.is_none() || slot.expires <= Instant::now() {
        return Err(not_found());
    }
    Ok(slot)
}

#[derive(Clone, Copy)]
enum TxAction {
    Run,
    Commit,
    Rollback,
}

async fn tx_request(
    app: Shared,
    graph: String,
    id: String,
    req: Request,
    action: TxAction,
) -> Result<Response, ApiError> {
    let (principal, headers, body) = prelude(&app, req).await?;
    let q = match action {
        TxAction::Rollback => QueryRequest {
            statement: None,
            mode: AccessMode::Write,
            format: Format::from_media(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok())),
            metadata: None,
        },
        _ => parse_query_request(&headers, &body, false)?,
    };
    if q.metadata.is_some() {
        // Bolt takes it at BEGIN only, too: the transaction's metadata does not change.
        return Err(ApiError::bad_request(
            "`metadata` is given when the transaction begins (POST /db/{graph}/query/v2/tx), not on a later request",
        ));
    }
    let mut slot = claim(&app, &graph, &id, &principal).await?;
    let japp = app.clone();
    let idle = app.state.limits.transaction_idle_timeout;
    let format = q.format;
    let statement = q.statement;
    let job = move |out: &mut Out| -> Result<(), Stop> {
        let Some(mut tx) = slot.tx.take() else {
            return Err(Stop::Error(ApiError::not_found(
                codes::TRANSACTION_NOT_FOUND,
                "unknown transaction id",
            )));
        };
        out.write(b"{")?;
        if let TxAction::Rollback = action {
            japp.txs.remove(&id);
            japp.metrics.tx_rolled_back.inc();
            tx.rollback()?;
            write_empty(out, Shape::QueryApi)?;
            return out.write(br#","bookmarks":[]}"#);
        }
        if let Err(e) = write_statement(out, tx.as_mut(), statement, format, Shape::QueryApi) {
            // A failed statement ends the transaction (Neo4j does the same).
            japp.txs.remove(&id);
            japp.metrics.tx_rolled_back.inc();
            drop(tx);
            return Err(e);
        }
        match action {
            TxAction::Commit => {
                japp.txs.remove(&id);
                let info = match tx.commit() {
                    Ok(i) => i,
                    Err(e) => {
                        japp.metrics.tx_rolled_back.inc();
                        return Err(e.into());
                    }
                };
                japp.metrics.tx_committed.inc();
                out.write(br#","bookmarks":"#)?;
                out.json(&bookmarks(info.bookmark))?;
                out.write(b"}")
            }
            _ => {
                slot.tx = Some(tx);
                slot.expires = Instant::now() + idle;
                slot.expires_wall = SystemTime::now() + idle;
                let info = tx_info(&id, slot.expires_wall);
                drop(slot);
                out.write(br#","bookmarks":[],"transaction":"#)?;
                out.json(&info)?;
                out.write(b"}")
            }
        }
    };
    Ok(spawn_job(
        &app,
        StatusCode::ACCEPTED,
        content_type(format),
        CancelToken::new(),
        job,
    )
    .await)
}

/// `POST /db/{graph}/query/v2/tx/{id}`
pub(crate) async fn run_in_tx(
    State(app): State<Shared>,
    Path((graph, id)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    tx_request(app, graph, id, req, TxAction::Run).await
}

/// `POST /db/{graph}/query/v2/tx/{id}/commit`
pub(crate) async fn commit_tx(
    State(app): State<Shared>,
    Path((graph, id)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    tx_request(app, graph, id, req, TxAction::Commit).await
}

/// `DELETE /db/{graph}/query/v2/tx/{id}`
pub(crate) async fn rollback_tx(
    State(app): State<Shared>,
    Path((graph, id)): Path<(String, String)>,
    req: Request,
) -> Result<Response, ApiError> {
    tx_request(app, graph, id, req, TxAction::Rollback).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> Result<QueryRequest, ApiError> {
        parse_query_request(&HeaderMap::new(), body.as_bytes(), false)
    }

    #[test]
    fn metadata_is_an_object_of_parameter_values() {
        let q = request(r#"{"statement": "RETURN 1", "metadata": {"app": "etl", "run": 7, "tags": ["a", "b"]}}"#)
            .map_err(|e| e.message)
            .unwrap_or_else(|m| panic!("{m}"));
        let m = q.metadata.unwrap_or_default();
        assert_eq!(m.get("app"), Some(&Value::String("etl".into())));
        assert_eq!(m.get("run"), Some(&Value::Int(7)));
        assert_eq!(
            m.get("tags"),
            Some(&Value::List(vec![
                Value::String("a".into()),
                Value::String("b".into())
            ]))
        );
        assert!(request(r#"{"statement": "RETURN 1"}"#)
            .map(|q| q.metadata.is_none())
            .unwrap_or(false));
        assert!(request(r#"{"metadata": null}"#)
            .map(|q| q.metadata.is_none())
            .unwrap_or(false));
    }

    #[test]
    fn metadata_is_bounded_with_a_clear_error() {
        for (body, says) in [
            (r#"{"metadata": [1]}"#.to_string(), "must be a JSON object"),
            (r#"{"metadata": "x"}"#.to_string(), "must be a JSON object"),
            (
                format!(
                    r#"{{"metadata": {{"k": "{}"}}}}"#,
                    "x".repeat(MAX_METADATA_BYTES)
                ),
                "larger than",
            ),
            (
                format!(
                    r#"{{"metadata": {}1{}}}"#,
                    "{\"a\":".repeat(MAX_METADATA_DEPTH + 1),
                    "}".repeat(MAX_METADATA_DEPTH + 1)
                ),
                "nested more than",
            ),
        ] {
            match request(&body) {
                Ok(_) => panic!("accepted: {body:.80}"),
                Err(e) => {
                    assert_eq!(e.status, StatusCode::BAD_REQUEST, "{}", e.message);
                    assert!(e.message.contains(says), "{}", e.message);
                }
            }
        }
        // Exactly the depth allowed is accepted.
        let ok = format!(
            r#"{{"metadata": {}1{}}}"#,
            "{\"a\":".repeat(MAX_METADATA_DEPTH),
            "}".repeat(MAX_METADATA_DEPTH)
        );
        assert!(request(&ok).is_ok(), "{ok}");
    }
}
