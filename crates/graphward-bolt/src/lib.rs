//! graphward-bolt: the Bolt protocol server (4.1-4.4, 5.0-5.4, 5.6-5.8).
//!
//! The wire format (PackStream values, chunks, the version handshake, message tags) is the
//! `graphward-packstream` crate, re-exported here as [`packstream`], [`chunk`], [`handshake`]
//! and [`msg`].
//! * [`transport`]: plain streams and Bolt over WebSocket on the same port.
//! * `session`: the server state machine over a [`QueryEngine`].

pub use graphward_packstream as packstream;
pub use graphward_packstream::{chunk, handshake, msg};
mod session;
pub mod transport;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use graphward_core::auth::{Authenticator, Credentials};
use graphward_core::engine::QueryEngine;
use graphward_core::preauth::{PreAuthGate, PreAuthLimits, PreAuthPermit, PreAuthRefusal};
use graphward_core::Value;
use graphward_core::{Error, ErrorCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use crate::handshake::Negotiation;
use crate::transport::{Transport, Upgrade};
use tokio::net::TcpListener;

/// Configuration of the Bolt server.
#[derive(Debug, Clone)]
pub struct BoltConfig {
    /// Server agent sent in the HELLO SUCCESS (`server`).
    pub server_agent: String,
    /// Largest accepted message (sum of its chunks), in bytes.
    pub max_message_size: usize,
    /// Most concurrent connections; further connections are refused.
    pub max_connections: usize,
    /// A connection idle (no message) for longer than this is closed.
    pub idle_timeout: Duration,
    /// An explicit transaction whose client sends nothing for longer than this is rolled
    /// back; the client's next message gets `TransactionTimedOut`.
    pub transaction_idle_timeout: Duration,
    /// Address (`host:port`) announced in routing tables; `None` echoes the client's address.
    pub advertised_address: Option<String>,
    /// The address (`host:port`) this server listens on for Bolt, announced in routing
    /// tables when there is no advertised address and the client sent none.
    pub listen_address: String,
    /// Allowed WebSocket `Origin` values; empty allows all.
    pub ws_allowed_origins: Vec<String>,
    /// Routing table time-to-live, in seconds.
    pub routing_ttl_secs: i64,
    /// Connections that have not authenticated yet: deadline from accept to a successful
    /// HELLO/LOGON (TLS and version handshakes included) and caps per client address and in
    /// total, apart from `max_connections`.
    pub preauth: PreAuthLimits,
}

impl Default for BoltConfig {
    fn default() -> Self {
        BoltConfig {
            server_agent: format!(
                "Neo4j/5.26.0 compatible graphward/{}",
                env!("CARGO_PKG_VERSION")
            ),
            max_message_size: 16 * 1024 * 1024,
            max_connections: 1000,
            idle_timeout: Duration::from_secs(3600),
            transaction_idle_timeout: Duration::from_secs(60),
            advertised_address: None,
            listen_address: "localhost:7687".to_string(),
            ws_allowed_origins: Vec::new(),
            routing_ttl_secs: 300,
            preauth: PreAuthLimits::default(),
        }
    }
}

/// The credentials a HELLO/LOGON auth map carries (scheme `none`, `basic`, `bearer`; no scheme
/// is `none`), for the server's [`Authenticator`]; an unknown scheme or a malformed map is
/// refused.
pub fn credentials(auth: &BTreeMap<String, Value>) -> graphward_core::Result<Credentials> {
    let text = |k: &str| match auth.get(k) {
        Some(Value::String(s)) => Ok(s.clone()),
        _ => Err(Error::new(
            ErrorCode::Unauthorized,
            format!("the auth map needs a string '{k}'"),
        )),
    };
    match auth.get("scheme") {
        None => Ok(Credentials::None),
        Some(Value::String(s)) => match s.as_str() {
            "none" => Ok(Credentials::None),
            "basic" => Ok(Credentials::Basic {
                user: text("principal")?,
                password: text("credentials")?,
            }),
            "bearer" => Ok(Credentials::Bearer {
                token: text("credentials")?,
            }),
            other => Err(Error::new(
                ErrorCode::Unauthorized,
                format!("unsupported authentication scheme {other:?} (use basic or bearer)"),
            )),
        },
        Some(_) => Err(Error::new(
            ErrorCode::Unauthorized,
            "the auth scheme must be a string",
        )),
    }
}

/// Everything a connection needs: the engine, the authenticator, the configuration.
pub struct BoltContext {
    pub engine: Arc<dyn QueryEngine>,
    pub auth: Arc<dyn Authenticator>,
    pub config: BoltConfig,
    active: AtomicUsize,
    next_id: AtomicU64,
    preauth: Arc<PreAuthGate>,
    /// Connections over the pre-authentication caps that are being told so (a Bolt FAILURE
    /// needs the version handshake and the HELLO first): bounded, each for at most
    /// [`REFUSAL_BUDGET`].
    refusals: Arc<tokio::sync::Semaphore>,
}

/// How long a connection refused for the pre-authentication caps may take to send its
/// handshake and HELLO (it then gets a FAILURE saying why).
const REFUSAL_BUDGET: Duration = Duration::from_secs(1);
/// Refused connections being answered at once; beyond, they are closed without a word.
const MAX_REFUSALS: usize = 64;

/// Where a new connection stands with the pre-authentication budgets.
pub(crate) struct PreAuth {
    /// Authenticate by then or be closed.
    pub deadline: tokio::time::Instant,
    /// Counts the connection as unauthenticated until dropped.
    pub _permit: Option<PreAuthPermit>,
    /// Over a cap: the HELLO gets this refusal.
    pub refusal: Option<(PreAuthRefusal, tokio::sync::OwnedSemaphorePermit)>,
}

impl BoltContext {
    pub fn new(
        engine: Arc<dyn QueryEngine>,
        auth: Arc<dyn Authenticator>,
        config: BoltConfig,
    ) -> Self {
        let preauth = PreAuthGate::new(config.preauth);
        BoltContext {
            engine,
            auth,
            config,
            active: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            preauth,
            refusals: Arc::new(tokio::sync::Semaphore::new(MAX_REFUSALS)),
        }
    }

    /// Admit a new connection under the pre-authentication budgets; `None`: close it now.
    pub(crate) fn admit(&self, peer: SocketAddr) -> Option<PreAuth> {
        let now = tokio::time::Instant::now();
        match self.preauth.admit(peer.ip()) {
            Ok(permit) => Some(PreAuth {
                deadline: now + self.config.preauth.timeout,
                _permit: Some(permit),
                refusal: None,
            }),
            Err(refusal) => {
                tracing::debug!(%peer, "Bolt: {}", refusal.message());
                let slot = self.refusals.clone().try_acquire_owned().ok()?;
                Some(PreAuth {
                    deadline: now + REFUSAL_BUDGET.min(self.config.preauth.timeout),
                    _permit: None,
                    refusal: Some((refusal, slot)),
                })
            }
        }
    }

    /// Connections admitted and not authenticated yet.
    pub fn unauthenticated_connections(&self) -> usize {
        self.preauth.count()
    }

    /// Connections being served right now.
    pub fn active_connections(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }
}

/// Counts a connection while it is alive.
struct ConnGuard<'a>(&'a AtomicUsize);

impl Drop for ConnGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How long the client may take to send its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// TLS handshakes in progress at once on a TLS Bolt port; further ones wait (within the
/// handshake timeout), so slow clients cannot starve the listener.
const MAX_CONCURRENT_HANDSHAKES: usize = 128;

/// Accept plaintext connections on `listener` until the task is dropped/aborted.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<dyn QueryEngine>,
    auth: Arc<dyn Authenticator>,
    config: BoltConfig,
) -> std::io::Result<()> {
    serve_with_tls(listener, None, engine, auth, config).await
}

/// Accept connections on `listener` until the task is dropped/aborted; with `tls`, the port
/// speaks TLS only.
///
/// On a TLS port every connection goes through [`graphward_tls::accept_on_tls_port`]: a
/// plaintext Bolt client gets `00 00 00 00` (no common version) and a WARN line naming the
/// client settings to use, a plaintext HTTP/WebSocket request gets `400` "this port requires
/// TLS", and the handshake is bounded by a timeout and a limit on concurrent handshakes. The
/// TLS stream then carries Bolt or Bolt over WebSocket (`wss://`) as on a plaintext port.
/// Each connection keeps the TLS configuration it was accepted with, so a reload
/// ([`graphward_tls::TlsManager::reload`]) affects new connections only.
pub async fn serve_with_tls(
    listener: TcpListener,
    tls: Option<Arc<graphward_tls::TlsManager>>,
    engine: Arc<dyn QueryEngine>,
    auth: Arc<dyn Authenticator>,
    config: BoltConfig,
) -> std::io::Result<()> {
    let ctx = Arc::new(BoltContext::new(engine, auth, config));
    let handshakes = Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_HANDSHAKES));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: keep serving the others.
                tracing::warn!("Bolt accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let ctx = ctx.clone();
        let Some(preauth) = ctx.admit(peer) else {
            continue;
        };
        match &tls {
            None => {
                tokio::spawn(async move {
                    if let Err(e) = serve_admitted(stream, peer, None, ctx, preauth).await {
                        tracing::debug!(%peer, "Bolt connection ended with an error: {e}");
                    }
                });
            }
            Some(manager) => {
                let (manager, handshakes) = (manager.clone(), handshakes.clone());
                tokio::spawn(async move {
                    // Refusals and handshake failures are counted and logged (rate-limited)
                    // by the TLS layer itself.
                    let Ok(Ok((stream, identity))) = tokio::time::timeout_at(
                        preauth.deadline,
                        graphward_tls::accept_client(&manager, stream, &handshakes),
                    )
                    .await
                    else {
                        return;
                    };
                    if let Err(e) = serve_admitted(stream, peer, identity, ctx, preauth).await {
                        tracing::debug!(%peer, "Bolt connection ended with an error: {e}");
                    }
                });
            }
        }
    }
}

/// Serve one already-accepted connection (so a TLS layer can wrap the stream later).
///
/// Detects Bolt (`60 60 B0 17`) or a WebSocket upgrade (`GET `), negotiates the version and
/// serves Bolt messages until the client leaves. Protocol errors are logged and end only this
/// connection.
pub async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    ctx: Arc<BoltContext>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    serve_connection_with_identity(stream, peer, None, ctx).await
}

/// [`serve_connection`] for a connection whose TLS layer verified a client certificate:
/// `client_certificate` holds its names ([`graphward_tls::client_identity`]), offered to the
/// authenticator when the client logs on with scheme `none`.
pub async fn serve_connection_with_identity<S>(
    stream: S,
    peer: SocketAddr,
    client_certificate: Option<Vec<String>>,
    ctx: Arc<BoltContext>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let Some(preauth) = ctx.admit(peer) else {
        return Ok(());
    };
    serve_admitted(stream, peer, client_certificate, ctx, preauth).await
}

/// Serve a connection admitted under the pre-authentication budgets.
async fn serve_admitted<S>(
    stream: S,
    peer: SocketAddr,
    client_certificate: Option<Vec<String>>,
    ctx: Arc<BoltContext>,
    preauth: PreAuth,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    // Connections being refused are bounded by their own budget, not counted here.
    let counted = preauth.refusal.is_none();
    let active = if counted {
        ctx.active.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        0
    };
    let _guard = counted.then(|| ConnGuard(&ctx.active));
    if active > ctx.config.max_connections {
        tracing::warn!(%peer, max = ctx.config.max_connections, "refusing Bolt connection: too many connections");
        return Ok(());
    }
    let id = ctx.next_id.fetch_add(1, Ordering::SeqCst);
    let conn_id = format!("bolt-{id}");
    let handshake_deadline = preauth
        .deadline
        .min(tokio::time::Instant::now() + HANDSHAKE_TIMEOUT);
    let negotiated =
        match tokio::time::timeout_at(handshake_deadline, open(stream, peer, &ctx)).await {
            Ok(r) => r?,
            Err(_) => {
                tracing::info!(%peer, "Bolt handshake timed out");
                return Ok(());
            }
        };
    let Some((io, inbuf, version, manifest)) = negotiated else {
        return Ok(());
    };
    tracing::debug!(%peer, conn = %conn_id, %version, manifest, "Bolt connection open");
    let session = session::Session::new(io, inbuf, ctx.clone(), peer, conn_id, version, manifest)
        .with_client_certificate(client_certificate)
        .with_preauth(preauth);
    session.run().await
}

type Opened<S> = Option<(Transport<S>, BytesMut, handshake::Version, bool)>;

/// Reads exactly `n` bytes into `buf` (beyond what it holds) through the transport.
async fn fill<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut Transport<S>,
    buf: &mut BytesMut,
    n: usize,
) -> std::io::Result<bool> {
    while buf.len() < n {
        if io.read_into(buf).await? == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn open<S: AsyncRead + AsyncWrite + Unpin + Send>(
    mut stream: S,
    peer: SocketAddr,
    ctx: &BoltContext,
) -> std::io::Result<Opened<S>> {
    let mut first = [0u8; 4];
    if let Err(e) = stream.read_exact(&mut first).await {
        tracing::debug!(%peer, "connection closed before the Bolt preamble: {e}");
        return Ok(None);
    }
    let mut buf = BytesMut::new();
    let mut io = if first == handshake::MAGIC {
        Transport::Plain(stream)
    } else if &first == b"GET " {
        let max_frame = ctx.config.max_message_size.saturating_mul(2).max(1 << 20);
        match transport::accept_websocket(stream, &first, &ctx.config.ws_allowed_origins, max_frame)
            .await?
        {
            Upgrade::Accepted(ws) => {
                let mut io = Transport::Ws(ws);
                if !fill(&mut io, &mut buf, 4).await? {
                    return Ok(None);
                }
                if buf.get(..4) != Some(&handshake::MAGIC[..]) {
                    tracing::warn!(%peer, "WebSocket client did not send the Bolt preamble");
                    io.shutdown().await;
                    return Ok(None);
                }
                let _ = buf.split_to(4);
                io
            }
            Upgrade::Refused(why) => {
                tracing::warn!(%peer, "WebSocket upgrade refused: {why}");
                return Ok(None);
            }
        }
    } else if first[0] == 0x16 {
        tracing::warn!(
            %peer,
            "TLS handshake on a plaintext Bolt port; closing. This server has no Bolt \
             certificate (--bolt-cert-file/--bolt-key-file): connect with bolt:// or neo4j://, \
             or configure TLS"
        );
        return Ok(None);
    } else {
        tracing::warn!(%peer, preamble = ?first, "not a Bolt client (bad preamble); closing");
        return Ok(None);
    };
    if !fill(&mut io, &mut buf, 16).await? {
        return Ok(None);
    }
    let mut proposals = [0u8; 16];
    proposals.copy_from_slice(&buf.split_to(16));
    match handshake::negotiate(&proposals) {
        Negotiation::Version(v) => {
            io.write(&v.to_bytes()).await?;
            Ok(Some((io, buf, v, false)))
        }
        Negotiation::Manifest => {
            io.write(&handshake::manifest_reply()).await?;
            // Chosen version (4 bytes) + capabilities varint.
            if !fill(&mut io, &mut buf, 4).await? {
                return Ok(None);
            }
            let mut choice = [0u8; 4];
            choice.copy_from_slice(&buf.split_to(4));
            let mut varint_len = 0;
            loop {
                if !fill(&mut io, &mut buf, varint_len + 1).await? {
                    return Ok(None);
                }
                let b = buf.get(varint_len).copied().unwrap_or(0);
                varint_len += 1;
                if b & 0x80 == 0 {
                    break;
                }
                if varint_len >= 10 {
                    tracing::warn!(%peer, "malformed capabilities varint in manifest handshake");
                    io.shutdown().await;
                    return Ok(None);
                }
            }
            let _ = buf.split_to(varint_len);
            match handshake::manifest_choice(choice) {
                Some(v) => Ok(Some((io, buf, v, true))),
                None => {
                    tracing::warn!(%peer, choice = ?choice, "client chose a Bolt version that was not offered; closing");
                    io.shutdown().await;
                    Ok(None)
                }
            }
        }
        Negotiation::NoMatch => {
            io.write(&[0, 0, 0, 0]).await?;
            tracing::warn!(%peer, proposals = %handshake::describe_proposals(&proposals),
                "no common Bolt version with client");
            io.shutdown().await;
            Ok(None)
        }
    }
}
