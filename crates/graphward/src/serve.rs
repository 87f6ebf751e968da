//! `graphward serve`: logging, the data directory, the engine, the Bolt and HTTP listeners, and
//! a graceful shutdown on SIGINT / SIGTERM.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use graphward_core::engine::{EngineConfig, QueryEngine};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::cli::ServeArgs;
use crate::config::{self, Config};
use crate::reload::{ConfigCommands, ConfigReloader};
use crate::tls::{Listeners, TlsCommands};

/// How long shutdown waits for in-flight work (e.g. a running query) before giving up on it.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot set up logging: {0}")]
    Logging(String),
    #[error("data directory {path}: {error}")]
    DataDir { path: PathBuf, error: io::Error },
    #[error("cannot open the databases in {path}: {message}")]
    Engine { path: PathBuf, message: String },
    #[error("configuration: {0}")]
    Config(String),
    #[error("cannot set up authentication: {message}")]
    Auth { message: String },
    #[error("cannot start the async runtime: {0}")]
    Runtime(io::Error),
    #[error("cannot install the {signal} handler: {error}")]
    Signal {
        signal: &'static str,
        error: io::Error,
    },
    #[error("cannot listen for {listener} on {address}: {error}")]
    Bind {
        listener: &'static str,
        address: String,
        error: io::Error,
    },
    #[error("TLS for the {listener} listener: {message}")]
    Tls {
        listener: &'static str,
        message: String,
    },
    #[error("the {listener} listener failed: {error}")]
    Listener {
        listener: &'static str,
        error: io::Error,
    },
}

/// Run the server until SIGINT / SIGTERM (then `Ok`) or a fatal error. `args` are kept for
/// `config apply` (flags and environment still win over the re-read file).
pub fn run(config: Config, args: ServeArgs) -> Result<(), ServeError> {
    init_tracing(&config.log_filter)?;
    let unknown =
        config::unknown_env_vars(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok()));
    for var in unknown {
        tracing::warn!(variable = %var, "ignoring unknown environment variable (not a graphward setting)");
    }
    if let Some(file) = &config.config_file {
        tracing::info!(file = %file.display(), "configuration file read");
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "graphward starting");

    // Certificates first: a bad file refuses startup before anything else is touched.
    let tls = Listeners::start(&config.tls)
        .map_err(|(listener, message)| ServeError::Tls { listener, message })?;

    prepare_data_dir(&config.data_dir)?;
    let graph = open_engine(&config.data_dir, config.engine.clone())?;
    let cypher: Arc<dyn QueryEngine> = Arc::new(graph.clone());
    let stored = Arc::new(
        graphward_stored::StoredQueries::open(&config.data_dir).map_err(|message| {
            ServeError::Engine {
                path: config.data_dir.clone(),
                message,
            }
        })?,
    );
    let auth = open_auth(&config)?;
    // Online backups (`graphward backup`): staged under DATA_DIR/backup-staging.
    let backups = Arc::new(graphward_http::backup::Backups::new(
        &config.data_dir,
        Arc::new(crate::storage_cmd::ServerSnapshot {
            engine: graph,
            auth: auth.clone(),
        }),
    ));
    {
        let cypher = cypher.clone();
        auth.set_graph_lister(Arc::new(move || {
            cypher.databases().into_iter().map(|d| d.name).collect()
        }));
    }
    // `config apply` / RELOAD CONFIG: re-read the file, apply Security.JWT.* at runtime.
    let reloader = Arc::new(ConfigReloader::new(args, auth.clone()).map_err(ServeError::Config)?);
    // The front door: every statement is parsed once, authorized from its typed value
    // (graphward_auth::policy) and routed to the Cypher engine or to the handler of its family.
    let engine: Arc<dyn QueryEngine> = Arc::new(
        graphward_auth::front_door::FrontDoor::new(cypher.clone(), auth.clone())
            .with(Arc::new(TlsCommands::new(tls.clone())))
            .with(Arc::new(ConfigCommands::new(reloader.clone())))
            .with(Arc::new(graphward_auth::commands::AuthCommands::new(
                auth.clone(),
            )))
            .with(Arc::new(graphward_stored::StoredQueryCommands {
                store: stored.clone(),
                engine: cypher,
            })),
    );
    tracing::info!(
        data_dir = %config.data_dir.display(),
        default_database = %engine.default_database(),
        "storage opened"
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("graphward")
        .build()
        .map_err(ServeError::Runtime)?;
    let result = runtime.block_on(serve(
        &config,
        engine.clone(),
        stored,
        tls,
        auth,
        reloader,
        backups,
    ));
    // Connection tasks still running are dropped here; a blocking engine call in flight gets
    // the grace period to finish.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    if Arc::strong_count(&engine) == 1 {
        drop(engine);
        tracing::info!("storage closed");
    } else {
        tracing::warn!("work still in flight after the shutdown grace period; exiting anyway");
    }
    result
}

fn init_tracing(filter: &str) -> Result<(), ServeError> {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .map_err(|e| ServeError::Logging(e.to_string()))?;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .try_init()
        .map_err(|e| ServeError::Logging(e.to_string()))
}

/// Every file the server creates from now on is owner-only (0600, directories 0700),
/// whichever library creates it (the storage engine, the user store, backups, logs).
#[cfg(unix)]
fn private_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

#[cfg(not(unix))]
fn private_umask() {}

/// Remove group/other permission bits from what an older version left in the data
/// directory (bounded: at most 10,000 entries, 4 levels deep; symbolic links are skipped).
#[cfg(unix)]
fn tighten_existing(root: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > 10_000 {
                return;
            }
            let path = entry.path();
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.file_type().is_symlink() {
                continue;
            }
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                let tight = std::fs::Permissions::from_mode(mode & 0o7700);
                if let Err(e) = std::fs::set_permissions(&path, tight) {
                    tracing::warn!(path = %path.display(), "cannot make private: {e}");
                }
            }
            if meta.is_dir() && depth < 4 {
                stack.push((path, depth + 1));
            }
        }
    }
}

#[cfg(not(unix))]
fn tighten_existing(_root: &Path) {}

/// Create the data directory if missing (owner-only permissions), and check it is one.
fn prepare_data_dir(path: &Path) -> Result<(), ServeError> {
    let err = |error| ServeError::DataDir {
        path: path.to_path_buf(),
        error,
    };
    private_umask();
    if !path.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(path).map_err(err)?;
        tracing::info!(path = %path.display(), "created data directory");
    }
    let meta = std::fs::metadata(path).map_err(err)?;
    if !meta.is_dir() {
        return Err(err(io::Error::other("exists but is not a directory")));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", mode & 0o777),
                "data directory is accessible to other users; consider chmod 700"
            );
        }
    }
    tighten_existing(path);
    Ok(())
}

/// Open the user store (creating the administrator at the first start).
fn open_auth(config: &Config) -> Result<Arc<graphward_auth::AuthService>, ServeError> {
    let auth_err = |message: String| ServeError::Auth { message };
    let initial_password = match &config.auth.initial_password_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                auth_err(format!(
                    "cannot read the initial password file {}: {e}",
                    path.display()
                ))
            })?;
            Some(text.trim_end_matches(['\r', '\n']).to_string())
        }
        None => config.auth.initial_password.clone(),
    };
    let options = graphward_auth::AuthOptions {
        disabled: config.auth.disabled,
        initial_password,
    };
    let (auth, first) = graphward_auth::AuthService::open_with_limits(
        &config.data_dir,
        options,
        config.auth.hash_limits,
    )
    .map_err(|e| auth_err(e.into_data().message))?;
    match first {
        graphward_auth::FirstStart::No => {}
        graphward_auth::FirstStart::ConfiguredPassword => tracing::info!(
            user = graphward_auth::service::ADMIN_USER,
            "first start: created the administrator with the configured initial password"
        ),
        graphward_auth::FirstStart::GeneratedPassword(path) => tracing::warn!(
            user = graphward_auth::service::ADMIN_USER,
            file = %path.display(),
            "first start: created the administrator with a generated password; read it from the file (mode 0600), then change it and delete the file"
        ),
    }
    if config.auth.jwt.is_configured() {
        let verifier = graphward_auth::jwt::JwtVerifier::new(config.auth.jwt.clone())
            .map_err(|e| ServeError::Auth { message: e.message })?;
        auth.set_jwt(Some(Arc::new(verifier)));
        tracing::info!(jwt = ?config.auth.jwt, "JWT bearer tokens accepted");
    }
    auth.set_token_settings(config.auth.tokens.clone())
        .map_err(|message| ServeError::Auth { message })?;
    if config.auth.disabled {
        tracing::warn!(
            "authentication is DISABLED (--auth-disabled): every client is an administrator; use this for local experiments only"
        );
    } else {
        tracing::info!(store = %auth.store().path().display(), "authentication enabled");
    }
    Ok(auth)
}

/// Open the engine (embedded redb storage) on `data_dir`.
fn open_engine(
    data_dir: &Path,
    config: EngineConfig,
) -> Result<graphward_cypher::Engine, ServeError> {
    match graphward_cypher::Engine::open(data_dir, config) {
        Ok(engine) => Ok(engine),
        Err(e) => Err(ServeError::Engine {
            path: data_dir.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// `host:port`, with brackets around an IPv6 address.
fn show_addr(address: &str, port: u16) -> String {
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{port}"),
        _ => format!("{address}:{port}"),
    }
}

fn is_loopback(address: &str) -> bool {
    match address.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => address == "localhost",
    }
}

async fn bind(listener: &'static str, address: &str, port: u16) -> Result<TcpListener, ServeError> {
    TcpListener::bind((address, port))
        .await
        .map_err(|error| ServeError::Bind {
            listener,
            address: show_addr(address, port),
            error,
        })
}

async fn serve(
    config: &Config,
    engine: Arc<dyn QueryEngine>,
    stored: Arc<graphward_stored::StoredQueries>,
    tls: Listeners,
    auth: Arc<graphward_auth::AuthService>,
    reloader: Arc<ConfigReloader>,
    backups: Arc<graphward_http::backup::Backups>,
) -> Result<(), ServeError> {
    // Install the signal handlers before the ports open, so a signal sent as soon as the
    // server is reachable is handled gracefully.
    let mut shutdown = Shutdown::install()?;
    let mut background = reload_on_sighup(tls.clone())?;
    background.extend(tls.spawn_background(config.tls.watch));

    let bolt_listener = bind("Bolt", &config.bolt.address, config.bolt.port).await?;
    let http_listener = bind("HTTP", &config.http.address, config.http.port).await?;
    let bolt_addr = bolt_listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| show_addr(&config.bolt.address, config.bolt.port));
    let http_addr = http_listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| show_addr(&config.http.address, config.http.port));

    if !is_loopback(&config.bolt.address) && tls.bolt.is_none() {
        tracing::warn!(address = %bolt_addr, "Bolt is reachable from the network without TLS (set --bolt-cert-file and --bolt-key-file)");
    }
    if !is_loopback(&config.http.address) && tls.http.is_none() {
        tracing::warn!(address = %http_addr, "HTTP is reachable from the network without TLS (set --tls-cert and --tls-key)");
    }

    // HTTP authenticates `Authorization: Basic/Bearer` with the same authenticator as Bolt.
    let mut http_state = graphward_http::HttpState::new(engine.clone(), auth.clone());
    http_state.limits = config.http.limits.clone();
    http_state.data_dir = Some(config.data_dir.clone());
    http_state.stored = Some(stored);
    http_state.config_applier = Some(reloader);
    http_state.tokens = Some(auth.clone());
    http_state.backups = Some(backups);
    // /health and /metrics report the certificates (not_after, reload counters) per listener.
    http_state.tls_managers = tls.all().cloned().collect();
    let bolt_scheme = if tls.bolt.is_some() { "bolt+s" } else { "bolt" };
    let http_scheme = if tls.http.is_some() { "https" } else { "http" };
    let bolt: JoinHandle<io::Result<()>> = tokio::spawn(graphward_bolt::serve_with_tls(
        bolt_listener,
        tls.bolt.clone(),
        engine,
        auth,
        config.bolt.config.clone(),
    ));
    let http: JoinHandle<io::Result<()>> = tokio::spawn(graphward_http::serve(
        http_listener,
        tls.http.clone(),
        http_state,
    ));
    tracing::info!("Bolt listening on {bolt_scheme}://{bolt_addr}");
    tracing::info!("HTTP listening on {http_scheme}://{http_addr}");

    let mut bolt = Task::new("Bolt", bolt);
    let mut http = Task::new("HTTP", http);
    let result = tokio::select! {
        signal = shutdown.recv() => {
            tracing::info!(signal, "shutting down");
            Ok(())
        }
        r = bolt.wait() => r,
        r = http.wait() => r,
    };
    // Stop accepting: dropping the accept loops closes the listening sockets.
    bolt.stop().await;
    http.stop().await;
    for task in background {
        task.abort();
    }
    result
}

/// SIGHUP reloads the certificates of every TLS listener (failures keep the running ones and
/// are logged).
#[cfg(unix)]
fn reload_on_sighup(tls: Listeners) -> Result<Vec<JoinHandle<()>>, ServeError> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).map_err(|error| ServeError::Signal {
        signal: "SIGHUP",
        error,
    })?;
    Ok(vec![tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading TLS certificates");
            tls.reload_all().await;
        }
    })])
}

#[cfg(not(unix))]
fn reload_on_sighup(_tls: Listeners) -> Result<Vec<JoinHandle<()>>, ServeError> {
    Ok(Vec::new())
}

/// A listener task; `wait` turns its ending (which only an error or a panic causes) into an
/// error naming it.
struct Task {
    name: &'static str,
    handle: JoinHandle<io::Result<()>>,
}

impl Task {
    fn new(name: &'static str, handle: JoinHandle<io::Result<()>>) -> Self {
        Task { name, handle }
    }

    async fn wait(&mut self) -> Result<(), ServeError> {
        let error = match (&mut self.handle).await {
            Ok(Ok(())) => io::Error::other("stopped unexpectedly"),
            Ok(Err(e)) => e,
            Err(e) => io::Error::other(e.to_string()),
        };
        Err(ServeError::Listener {
            listener: self.name,
            error,
        })
    }

    async fn stop(self) {
        self.handle.abort();
        let _ = self.handle.await;
    }
}

/// SIGINT and SIGTERM.
struct Shutdown {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Shutdown {
    #[cfg(unix)]
    fn install() -> Result<Self, ServeError> {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).map_err(|error| ServeError::Signal {
            signal: "SIGTERM",
            error,
        })?;
        let int = signal(SignalKind::interrupt()).map_err(|error| ServeError::Signal {
            signal: "SIGINT",
            error,
        })?;
        Ok(Shutdown { term, int })
    }

    #[cfg(not(unix))]
    fn install() -> Result<Self, ServeError> {
        Ok(Shutdown {})
    }

    /// The name of the signal received.
    #[cfg(unix)]
    async fn recv(&mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }

    #[cfg(not(unix))]
    async fn recv(&mut self) -> &'static str {
        let _ = tokio::signal::ctrl_c().await;
        "ctrl-c"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_shown_with_ports() {
        assert_eq!(show_addr("127.0.0.1", 7687), "127.0.0.1:7687");
        assert_eq!(show_addr("::1", 7687), "[::1]:7687");
        assert_eq!(show_addr("localhost", 1), "localhost:1");
        assert!(is_loopback("127.0.0.1") && is_loopback("::1") && is_loopback("localhost"));
        assert!(!is_loopback("0.0.0.0"));
    }
}
