//! # graphward-http: the HTTP(S) REST API
//!
//! * `GET /ping` (204, `X-Graphward-Version`), `GET /health` (the status only),
//!   `GET /openapi.json` (the OpenAPI 3 document in this crate, `openapi.json`): no auth.
//! * `GET /metrics` (Prometheus): the `METRICS` DBMS privilege (`GRANT METRICS ON DBMS TO
//!   prometheus`; ADMIN on every graph includes it).
//! * `POST /db/{graph}/query/v2` and explicit transactions under `.../query/v2/tx` in the JSON
//!   shape of Neo4j's Query API v2 (plain or typed JSON) — [`query`].
//! * Stored queries: `INSTALL QUERY` / `SHOW QUERIES` / `DROP QUERY` server commands,
//!   `PUT|GET|DELETE /queries/{graph}/{name}`, `GET|POST /restpp/query/{graph}/{name}` —
//!   [`stored`].
//! * `POST /admin/config/apply`: re-read the config file and apply what can change at runtime
//!   (ADMIN on every graph) — [`admin`].
//! * `POST /admin/tls/reload`: reload the TLS certificates (privilege `TLS MANAGEMENT`) —
//!   [`admin`].
//! * Server-issued tokens: `POST|DELETE /gsql/v1/tokens`, `POST /gsql/v1/tokens/check` —
//!   [`tokens`], reaching auth through `graphward_core::auth::TokenService`.
//!
//! Every error is `{"errors":[{"code","message"}]}` ([`error`]). The engine and the
//! authenticator are reached only through `graphward_core`'s traits; both block, so they run
//! on tokio's blocking pool. The entry point is [`serve`].
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod admin;
pub mod backup;
pub mod error;
pub mod json;
pub mod metrics;
pub mod query;
pub mod stored;
pub mod tokens;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use bytes::Bytes;
use graphward_core::auth::{Authenticator, ClientInfo, Credentials, TokenService};
use graphward_core::engine::{Principal, QueryEngine};
use graphward_core::preauth::{PreAuthGate, PreAuthLimits, PreAuthPermit};
use graphward_core::ErrorCode;
use graphward_tls::TlsManager;
use http_body_util::BodyExt;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::error::{codes, ApiError};
use crate::metrics::Metrics;

/// The version sent in `X-Graphward-Version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The OpenAPI 3 document describing this API.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// HTTP limits (all configurable: `http.*` settings).
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Largest request body accepted, in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Largest JSON result produced for one request, in bytes. A result that outgrows it
    /// before the response head is sent is refused with 400 `ResultTooLarge`; later, the
    /// stream is cut off.
    pub max_result_bytes: u64,
    /// An explicit transaction idle this long is rolled back.
    pub transaction_idle_timeout: Duration,
    /// Most explicit transactions open at once (429 beyond).
    pub max_transactions: usize,
    /// Most connections served at once; further ones are closed.
    pub max_connections: usize,
    /// Connections that have not sent a complete request head yet: deadline (TLS handshake
    /// included) and caps per client address and in total (503 beyond).
    pub preauth: PreAuthLimits,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_body_bytes: 10 * 1024 * 1024,
            max_result_bytes: 512 * 1024 * 1024,
            transaction_idle_timeout: Duration::from_secs(30),
            max_transactions: 1000,
            max_connections: 1024,
            preauth: PreAuthLimits::default(),
        }
    }
}

/// Everything the API needs.
#[derive(Clone)]
pub struct HttpState {
    pub engine: Arc<dyn QueryEngine>,
    pub authenticator: Arc<dyn Authenticator>,
    /// TLS managers of every listener, for `/health` and `/metrics`.
    pub tls_managers: Vec<Arc<TlsManager>>,
    pub limits: HttpLimits,
    pub started: Instant,
    /// The data directory (for the storage size metric).
    pub data_dir: Option<PathBuf>,
    /// Stored queries (`/restpp`, `/queries`); `None` disables those endpoints (404).
    pub stored: Option<Arc<stored::StoredQueries>>,
    /// `POST /admin/config/apply`; `None` answers 404.
    pub config_applier: Option<Arc<dyn admin::ConfigApplier>>,
    /// Server-issued tokens (`/gsql/v1/tokens`); `None` disables those endpoints (404).
    pub tokens: Option<Arc<dyn TokenService>>,
    /// Online backups (`/admin/backup`); `None` answers 404.
    pub backups: Option<Arc<backup::Backups>>,
}

impl HttpState {
    pub fn new(engine: Arc<dyn QueryEngine>, authenticator: Arc<dyn Authenticator>) -> Self {
        HttpState {
            engine,
            authenticator,
            tls_managers: Vec::new(),
            limits: HttpLimits::default(),
            started: Instant::now(),
            data_dir: None,
            stored: None,
            config_applier: None,
            tokens: None,
            backups: None,
        }
    }
}

/// Shared by every request.
pub(crate) struct App {
    pub state: HttpState,
    pub metrics: Metrics,
    pub txs: query::TxRegistry,
}

pub(crate) type Shared = Arc<App>;

/// Who is on the other end of a connection, put into each request's extensions: the remote
/// address and, on a TLS connection, the names of the client certificate rustls verified.
#[derive(Debug, Clone, Default)]
pub(crate) struct Peer {
    pub addr: Option<SocketAddr>,
    pub client_certificate: Option<Arc<Vec<String>>>,
    /// The connection's pre-authentication slot, freed by the first request that
    /// authenticates (anonymous requests such as `/ping` keep it).
    pub unauthenticated: Option<Arc<std::sync::Mutex<Option<PreAuthPermit>>>>,
}

/// Serve the API on `listener` until the task is aborted. With `tls`, every connection must
/// complete a TLS handshake (plaintext HTTP gets 400 "this port requires TLS"); without, a
/// TLS ClientHello is logged and the connection closed.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<TlsManager>>,
    state: HttpState,
) -> std::io::Result<()> {
    let app = Arc::new(App {
        metrics: Metrics::default(),
        txs: query::TxRegistry::default(),
        state,
    });
    let reaper = tokio::spawn(query::reap_expired(app.clone()));
    let _reaper = AbortOnDrop(reaper);
    let router = router(app.clone());
    let permits = Arc::new(Semaphore::new(app.state.limits.max_connections.max(1)));
    let handshakes = Arc::new(Semaphore::new(256));
    let preauth = PreAuthGate::new(app.state.limits.preauth);
    // Connections refused for the pre-authentication caps that are still being answered 503.
    let refusals = Arc::new(Semaphore::new(64));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "http: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let unauthenticated = match preauth.admit(peer.ip()) {
            Ok(p) => p,
            Err(refusal) => {
                app.metrics.record_auth_refusal("preauth_limit");
                tracing::debug!(%peer, "http: {}", refusal.message());
                // Plaintext clients are told why (bounded: at most 64 answers in flight, each
                // at most one second); a TLS port cannot answer without a handshake.
                // When all 64 are busy (a flood of silent sockets holds them for their second),
                // the answer is written at once without waiting: one non-blocking write into
                // the fresh socket's empty send buffer, no task, nothing held.
                if tls.is_none() {
                    match refusals.clone().try_acquire_owned() {
                        Ok(slot) => {
                            tokio::spawn(async move {
                                let _slot = slot;
                                refuse_raw(stream, &refusal.message()).await;
                            });
                        }
                        Err(_) => refuse_now(stream, &refusal.message()),
                    }
                }
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "http: too many connections, closing");
            continue;
        };
        let (app, router, tls, handshakes) =
            (app.clone(), router.clone(), tls.clone(), handshakes.clone());
        let deadline = tokio::time::Instant::now() + preauth.limits().timeout;
        tokio::spawn(async move {
            let _permit = permit;
            app.metrics.connection_opened();
            let _open = ConnectionGuard(app.clone());
            let unauthenticated = Some(unauthenticated);
            match tls {
                Some(m) => {
                    let Ok(Ok((stream, identity))) = tokio::time::timeout_at(
                        deadline,
                        graphward_tls::accept_client(&m, stream, &handshakes),
                    )
                    .await
                    else {
                        return;
                    };
                    serve_connection(
                        stream,
                        peer,
                        identity.map(Arc::new),
                        router,
                        unauthenticated,
                        deadline,
                    )
                    .await;
                }
                None => {
                    let wait = deadline.saturating_duration_since(tokio::time::Instant::now());
                    if let graphward_tls::FirstBytes::TlsClientHello =
                        graphward_tls::sniff(&stream, wait).await
                    {
                        app.metrics.plaintext_tls_refused();
                        tracing::warn!(%peer, "http: TLS ClientHello on the plaintext HTTP port (TLS is not configured for HTTP; use http://); closing");
                        drop(stream);
                        return;
                    }
                    serve_connection(stream, peer, None, router, unauthenticated, deadline).await;
                }
            }
        });
    }
}

/// The 503 of [`refuse_raw`] for a connection over every cap, without waiting: drain what the
/// client already sent (so closing does not reset the answer away), write the answer if the
/// socket takes it now, and close the sending side.
fn refuse_now(stream: tokio::net::TcpStream, message: &str) {
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match stream.try_read(&mut sink) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    let _ = stream.try_write(refusal_answer(message).as_bytes());
    if let Ok(std_stream) = stream.into_std() {
        let _ = std_stream.shutdown(std::net::Shutdown::Write);
    }
}

/// The whole HTTP answer to a connection refused before its request was read.
fn refusal_answer(message: &str) -> String {
    let body = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::AuthBusy.as_str(),
        message,
    )
    .body();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Answer a connection refused before its request was read: 503 with the JSON error shape,
/// then read (and drop) what the client sent for up to a second, so the answer is not lost
/// to a reset.
async fn refuse_raw(mut stream: tokio::net::TcpStream, message: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let answer_text = refusal_answer(message);
    let answer = async {
        stream.write_all(answer_text.as_bytes()).await?;
        stream.shutdown().await?;
        let mut sink = [0u8; 4096];
        let mut total = 0usize;
        while total < 64 * 1024 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok::<(), std::io::Error>(())
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), answer).await;
}

async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    client_certificate: Option<Arc<Vec<String>>>,
    router: Router,
    unauthenticated: Option<PreAuthPermit>,
    deadline: tokio::time::Instant,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    // The deadline holds until the first complete request head arrives; the slot until a
    // request authenticates, so anonymous keep-alive connections stay within the
    // per-address cap.
    let unauthenticated = Arc::new(std::sync::Mutex::new(unauthenticated));
    let first_request = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let waiting = first_request.clone();
    let service = tower::service_fn(move |mut req: Request<hyper::body::Incoming>| {
        first_request.store(true, std::sync::atomic::Ordering::SeqCst);
        req.extensions_mut().insert(Peer {
            unauthenticated: Some(unauthenticated.clone()),
            addr: Some(peer),
            client_certificate: client_certificate.clone(),
        });
        let mut router = router.clone();
        async move {
            let req = req.map(Body::new);
            tower::Service::call(&mut router, req).await
        }
    });
    let service = hyper_util::service::TowerToHyperService::new(service);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .max_buf_size(64 * 1024);
    builder.http2().max_concurrent_streams(64);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = tokio::time::sleep_until(deadline) => {
            if !waiting.load(std::sync::atomic::Ordering::SeqCst) {
                // No complete request head within the pre-authentication deadline.
                tracing::debug!(%peer, "http: no request within the deadline, closing");
                return;
            }
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "http: connection ended with an error");
    }
}

struct ConnectionGuard(Shared);
impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.metrics.connection_closed();
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The API's routes.
pub(crate) fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(discovery))
        .route("/ping", get(ping))
        .route("/health", get(health))
        .route("/metrics", get(metrics_text))
        .route("/openapi.json", get(openapi))
        .route("/db/{graph}/query/v2", post(query::autocommit))
        .route("/db/{graph}/query/v2/tx", post(query::open_tx))
        .route(
            "/db/{graph}/query/v2/tx/{id}",
            post(query::run_in_tx).delete(query::rollback_tx),
        )
        .route(
            "/db/{graph}/query/v2/tx/{id}/commit",
            post(query::commit_tx),
        )
        .route("/queries/{graph}", get(stored::list))
        .route(
            "/queries/{graph}/{name}",
            put(stored::install)
                .get(stored::show)
                .delete(stored::drop_query),
        )
        .route(
            "/restpp/query/{graph}/{name}",
            get(stored::run_get).post(stored::run_post),
        )
        .route("/admin/config/apply", post(admin::config_apply))
        .route("/admin/tls/reload", post(admin::tls_reload))
        .route("/admin/backup", post(backup::create))
        .route("/admin/backup/{id}", axum::routing::delete(backup::remove))
        .route("/admin/backup/{id}/file", get(backup::file))
        .route("/admin/compact/{database}", post(backup::compact))
        .route(
            "/gsql/v1/tokens",
            post(tokens::issue).delete(tokens::drop_tokens),
        )
        .route("/gsql/v1/tokens/check", post(tokens::check))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// Counts and times every request; adds the security headers every answer carries.
async fn observe(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().as_str().to_string();
    let mut response = next.run(req).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if response.status().as_u16() >= 400 && !is_json {
        // Rejections from extractors (a path that is not valid UTF-8, a malformed query
        // string) come as text: give them the API's one error shape.
        response = as_json_error(response).await;
    }
    let h = response.headers_mut();
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    app.metrics.record_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

async fn as_json_error(response: Response) -> Response {
    let (parts, body) = response.into_parts();
    let text = match http_body_util::Limited::new(body, 4096).collect().await {
        Ok(c) => String::from_utf8_lossy(&c.to_bytes()).trim().to_string(),
        Err(_) => String::new(),
    };
    let code = match parts.status {
        StatusCode::NOT_FOUND => codes::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => codes::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE => codes::PAYLOAD_TOO_LARGE,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => codes::UNSUPPORTED_MEDIA_TYPE,
        s if s.is_server_error() => codes::INTERNAL,
        _ => codes::INVALID,
    };
    let message = if text.is_empty() {
        parts
            .status
            .canonical_reason()
            .unwrap_or("error")
            .to_string()
    } else {
        text
    };
    let mut r = ApiError::new(parts.status, code, message).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            r.headers_mut().insert(name, v.clone());
        }
    }
    r
}

async fn not_found() -> ApiError {
    ApiError::not_found(codes::NOT_FOUND, "no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        "method not allowed on this endpoint",
    )
}

async fn discovery() -> Response {
    json_response(
        StatusCode::OK,
        &serde_json::json!({
            "graphward": VERSION,
            "query": "/db/{databaseName}/query/v2",
            "transaction": "/db/{databaseName}/query/v2/tx",
            "restpp": "/restpp/query/{graph}/{query}",
            "openapi": "/openapi.json",
        }),
    )
}

async fn ping() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert("x-graphward-version", HeaderValue::from_static(VERSION));
    r
}

async fn openapi() -> Response {
    let mut r = (StatusCode::OK, OPENAPI).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Run a blocking closure on the blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("worker failed: {e}")))
}

/// `GET /health`: anonymous clients (and failed credentials) get the status only; an
/// authenticated client also gets the storage details (database names) and TLS status.
async fn health(State(app): State<Shared>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let peer = peer_of(&parts.extensions);
    // Probes without credentials are not counted as authentication refusals.
    let offers_credentials =
        parts.headers.contains_key(header::AUTHORIZATION) || peer.client_certificate.is_some();
    let detailed = offers_credentials && authenticate(&app, &parts.headers, peer).await.is_ok()
        || !offers_credentials
            && app
                .state
                .authenticator
                .authenticate(&Credentials::None, &ClientInfo::default())
                .is_ok();
    let engine = app.state.engine.clone();
    // Storage is healthy when the default database opens a read transaction.
    let storage = blocking(move || {
        let infos = engine.databases();
        let databases: Vec<String> = infos.iter().map(|d| d.name.clone()).collect();
        let state = match engine.health() {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("error: {}", e.message),
        };
        // Databases that are not online (storage failed, or failed their startup check).
        let degraded: Vec<serde_json::Value> = infos
            .iter()
            .filter(|d| d.status != graphward_core::engine::DatabaseStatus::Online)
            .map(|d| {
                serde_json::json!({
                    "name": d.name,
                    "status": d.status.as_str(),
                    "reason": d.status_message,
                })
            })
            .collect();
        (state, engine.default_database(), databases, degraded)
    })
    .await;
    let (state, default_database, databases, degraded) = match storage {
        Ok(s) => s,
        Err(e) => (
            format!("error: {}", e.message),
            String::new(),
            Vec::new(),
            Vec::new(),
        ),
    };
    let ok = state == "ok";
    let tls: Vec<serde_json::Value> = app
        .state
        .tls_managers
        .iter()
        .map(|m| {
            let s = m.status();
            serde_json::json!({
                "listener": s.listener,
                "not_after": s.certificate.not_after,
                "expires_in_seconds": s.expires_in_secs,
                "fingerprint_sha256": s.certificate.fingerprint_sha256,
                "last_reload_error": s.last_reload_error,
            })
        })
        .collect();
    // `degraded`: the default database serves, but some database is not online.
    let status = match (ok, degraded.is_empty()) {
        (false, _) => "unavailable",
        (true, true) => "ok",
        (true, false) => "degraded",
    };
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    if !detailed {
        // Anonymous: the status only (no database names, versions or certificates).
        return json_response(code, &serde_json::json!({ "status": status }));
    }
    let body = serde_json::json!({
        "status": status,
        "version": VERSION,
        "uptime_seconds": app.state.started.elapsed().as_secs(),
        "storage": {
            "state": state,
            "default_database": default_database,
            "databases": databases,
            "not_online": degraded,
        },
        "tls": tls,
    });
    json_response(code, &body)
}

/// `GET /metrics`: authorized as `Command::Maintenance(Metrics)` (the `METRICS` DBMS
/// privilege) before anything is measured.
async fn metrics_text(State(app): State<Shared>, req: Request) -> Result<Response, ApiError> {
    let (parts, _body) = req.into_parts();
    authorize(
        &app,
        &parts.headers,
        peer_of(&parts.extensions),
        graphward_core::commands::Command::Maintenance(
            graphward_core::commands::MaintenanceCommand::Metrics,
        ),
    )
    .await?;
    let dir = app.state.data_dir.clone();
    let size = match dir {
        Some(d) => blocking(move || metrics::dir_size(&d)).await.ok(),
        None => None,
    };
    let tls: Vec<_> = app.state.tls_managers.iter().map(|m| m.status()).collect();
    let databases = app.state.engine.databases();
    let text = app.metrics.render(&metrics::Scrape {
        tls: &tls,
        storage_bytes: size,
        open_http_transactions: app.txs.len(),
        uptime: app.state.started.elapsed(),
        databases: &databases,
        transactions: app.state.engine.transaction_metrics(),
    });
    let mut r = (StatusCode::OK, text).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(metrics::CONTENT_TYPE),
    );
    Ok(r)
}

/// Read a request body up to the configured limit.
pub(crate) async fn read_body(app: &App, body: Body) -> Result<Bytes, ApiError> {
    let limit = app.state.limits.max_body_bytes;
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    codes::PAYLOAD_TOO_LARGE,
                    format!("request body larger than {limit} bytes (http.max_body_size)"),
                ))
            } else {
                Err(ApiError::bad_request(format!(
                    "cannot read the request body: {e}"
                )))
            }
        }
    }
}

/// Parse a JSON request body (empty means `{}`), checking the content type; the body must be a
/// JSON object.
pub(crate) fn parse_json_body(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, ApiError> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
        if !(ct.starts_with("application/json")
            || ct.starts_with(json::TYPED_MEDIA_TYPE)
            || ct.contains("+json")
            // curl's default for `-d`: accepted so that `curl -d '{...}'` works.
            || ct.starts_with("application/x-www-form-urlencoded"))
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "the request body must be JSON (Content-Type: application/json)",
            ));
        }
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_format(format!("invalid JSON: {e}")))?;
    // Every endpoint documents an object; anything else is refused here, once, whatever the
    // query string would make of the body (a number with `?all=true` must not revoke tokens).
    if !v.is_object() {
        return Err(ApiError::bad_request(
            "the request body must be a JSON object",
        ));
    }
    Ok(v)
}

/// The credentials in the `Authorization` header.
fn credentials(headers: &HeaderMap) -> Result<Credentials, &'static str> {
    use base64::Engine as _;
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Credentials::None);
    };
    let value = value.to_str().map_err(|_| "malformed_header")?.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|_| "malformed_header")?;
        let text = String::from_utf8(decoded).map_err(|_| "malformed_header")?;
        let (user, password) = text.split_once(':').ok_or("malformed_header")?;
        Ok(Credentials::Basic {
            user: user.to_string(),
            password: password.to_string(),
        })
    } else if scheme.eq_ignore_ascii_case("bearer") {
        if rest.is_empty() {
            return Err("malformed_header");
        }
        Ok(Credentials::Bearer {
            token: rest.to_string(),
        })
    } else {
        Err("unsupported_scheme")
    }
}

/// Authenticate the request (on the blocking pool: password hashing is slow by design).
/// Authenticate the request, then have the engine's authorization table decide `command`
/// (the HTTP admin endpoints carry out their work themselves, but are authorized from a typed
/// command like every statement: rights as stored now, the login re-checked).
pub(crate) async fn authorize(
    app: &Shared,
    headers: &HeaderMap,
    peer: Peer,
    command: graphward_core::commands::Command,
) -> Result<Principal, ApiError> {
    let principal = authenticate(app, headers, peer).await?;
    let engine = app.state.engine.clone();
    let p = principal.clone();
    blocking(move || engine.authorize(&p, &command)).await??;
    Ok(principal)
}

pub(crate) async fn authenticate(
    app: &Shared,
    headers: &HeaderMap,
    peer: Peer,
) -> Result<Principal, ApiError> {
    let creds = match credentials(headers) {
        Ok(c) => c,
        Err(reason) => {
            app.metrics.record_auth_refusal(reason);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                codes::UNAUTHORIZED,
                "malformed Authorization header: use `Basic <base64 user:password>` or `Bearer <token>`",
            ));
        }
    };
    let auth = app.state.authenticator.clone();
    let client = ClientInfo {
        client_certificate: peer.client_certificate.map(|names| names.as_ref().clone()),
        peer: peer.addr,
        protocol: "http",
    };
    let slot = peer.unauthenticated.clone();
    match blocking(move || auth.authenticate(&creds, &client)).await? {
        Ok(p) => {
            if let Some(slot) = slot {
                if let Ok(mut s) = slot.lock() {
                    s.take();
                }
            }
            Ok(p)
        }
        Err(e) => {
            let reason = match e.code {
                ErrorCode::TokenExpired => "token_expired",
                ErrorCode::Forbidden => "forbidden",
                ErrorCode::Unauthorized => "unauthorized",
                ErrorCode::AuthRateLimit => "rate_limited",
                ErrorCode::AuthBusy => "busy",
                _ => "error",
            };
            app.metrics.record_auth_refusal(reason);
            Err(e.into())
        }
    }
}

/// Who sent the request (address, verified client certificate), if known.
pub(crate) fn peer_of(req_ext: &axum::http::Extensions) -> Peer {
    req_ext.get::<Peer>().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_document_describes_every_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap_or_default();
        assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."));
        let routes = [
            "/",
            "/ping",
            "/health",
            "/metrics",
            "/openapi.json",
            "/db/{graph}/query/v2",
            "/db/{graph}/query/v2/tx",
            "/db/{graph}/query/v2/tx/{id}",
            "/db/{graph}/query/v2/tx/{id}/commit",
            "/queries/{graph}",
            "/queries/{graph}/{name}",
            "/restpp/query/{graph}/{name}",
            "/admin/config/apply",
            "/admin/tls/reload",
            "/admin/backup",
            "/admin/backup/{id}",
            "/admin/backup/{id}/file",
            "/admin/compact/{database}",
            "/gsql/v1/tokens",
            "/gsql/v1/tokens/check",
        ];
        for path in routes {
            assert!(
                doc["paths"][path].is_object(),
                "{path} missing from openapi.json"
            );
        }
        // openapi.json is the source of truth (edited by hand; there is no generator): it
        // describes exactly the routes the router serves, no more.
        let described: Vec<&str> = doc["paths"]
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        for path in described {
            assert!(
                routes.contains(&path),
                "openapi.json describes {path}, which the router does not serve"
            );
        }
    }

    #[test]
    fn authorization_header_parsing() {
        let mut h = HeaderMap::new();
        assert_eq!(credentials(&h), Ok(Credentials::None));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic bmVvNGo6cGFzczp3b3Jk"),
        );
        assert_eq!(
            credentials(&h),
            Ok(Credentials::Basic {
                user: "neo4j".into(),
                password: "pass:word".into()
            })
        );
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc.def"),
        );
        assert_eq!(
            credentials(&h),
            Ok(Credentials::Bearer {
                token: "abc.def".into()
            })
        );
        for bad in [
            "Basic ***",
            "Basic bm9jb2xvbg==",
            "Bearer ",
            "Digest x",
            "Basic",
        ] {
            h.insert(header::AUTHORIZATION, HeaderValue::from_static(bad));
            assert!(credentials(&h).is_err(), "{bad}");
        }
    }
}
