//! [`TlsManager`]: the live TLS configuration of one listener, with serialized hot reload.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use arc_swap::ArcSwap;
use rustls::ServerConfig;
use serde::Serialize;
use tokio_rustls::TlsAcceptor;

use crate::config::{build_server_config, cipher_suite_names};
use crate::error::Result;
use crate::hygiene::{HandshakeStats, RateLimitedLog};
use crate::load::{format_unix, load, unix_secs, CertInfo, LoadReport};
use crate::settings::TlsSettings;

/// What is being served right now: swapped as one unit.
#[derive(Debug)]
pub struct ActiveConfig {
    /// The rustls configuration new connections are accepted with.
    pub config: Arc<ServerConfig>,
    /// Metadata of the served certificate.
    pub info: CertInfo,
    /// Warnings found when it was loaded.
    pub report: LoadReport,
    /// When it was loaded.
    pub loaded_at: SystemTime,
}

#[derive(Debug, Clone)]
struct ReloadError {
    message: String,
    at: SystemTime,
}

/// The TLS state of one listener.
///
/// * [`TlsManager::acceptor`] gives a `TlsAcceptor` over the current configuration; each
///   connection keeps the `Arc<ServerConfig>` it was accepted with, so a reload never drops
///   a live session.
/// * [`TlsManager::reload`] rebuilds everything from the configured paths and publishes it
///   with a single atomic swap; on error the old configuration stays.
#[derive(Debug)]
pub struct TlsManager {
    listener: String,
    settings: TlsSettings,
    active: ArcSwap<ActiveConfig>,
    reload_lock: Mutex<()>,
    last_error: Mutex<Option<ReloadError>>,
    reloads_started: AtomicU64,
    reloads_succeeded: AtomicU64,
    reloads_failed: AtomicU64,
    handshakes: HandshakeStats,
    log_limiter: RateLimitedLog,
}

/// Serializable snapshot for `SHOW TLS` and `/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TlsStatus {
    /// Listener name ("bolt", "http", ...).
    pub listener: String,
    /// Served certificate.
    pub certificate: CertInfo,
    /// Seconds until the leaf expires (negative once expired).
    pub expires_in_secs: i64,
    /// Configured certificate path.
    pub cert_file: String,
    /// Configured key path.
    pub key_file: String,
    /// Configured client CA path.
    pub client_ca_file: Option<String>,
    /// "none", "optional" or "require".
    pub client_auth: String,
    /// "1.2" or "1.3".
    pub min_version: String,
    /// Whether the strict cipher policy is on.
    pub strict_ciphers: bool,
    /// Enabled cipher suites.
    pub cipher_suites: Vec<String>,
    /// When the served certificate was loaded (RFC 3339).
    pub loaded_at: String,
    /// Warnings from the last successful load.
    pub warnings: Vec<String>,
    /// The last reload error, if the last reload failed.
    pub last_reload_error: Option<String>,
    /// When that error happened (RFC 3339).
    pub last_reload_error_at: Option<String>,
    /// Reloads started.
    pub reloads_started: u64,
    /// Reloads that published a new configuration.
    pub reloads_succeeded: u64,
    /// Reloads that failed (old configuration kept).
    pub reloads_failed: u64,
    /// Handshake outcomes by reason.
    pub handshakes: std::collections::BTreeMap<String, u64>,
}

impl TlsManager {
    /// Loads the certificate and builds the first configuration. A failure here is a startup
    /// error. The returned report's warnings should be logged at WARN by the caller.
    pub fn new(listener: impl Into<String>, settings: TlsSettings) -> Result<(Self, LoadReport)> {
        let active = Self::build(&settings)?;
        let report = active.report.clone();
        Ok((
            TlsManager {
                listener: listener.into(),
                settings,
                active: ArcSwap::from_pointee(active),
                reload_lock: Mutex::new(()),
                last_error: Mutex::new(None),
                reloads_started: AtomicU64::new(0),
                reloads_succeeded: AtomicU64::new(0),
                reloads_failed: AtomicU64::new(0),
                handshakes: HandshakeStats::default(),
                log_limiter: RateLimitedLog::new(10),
            },
            report,
        ))
    }

    fn build(settings: &TlsSettings) -> Result<ActiveConfig> {
        let loaded = load(settings)?;
        let config = build_server_config(settings, &loaded)?;
        Ok(ActiveConfig {
            config: Arc::new(config),
            info: loaded.info,
            report: loaded.report,
            loaded_at: SystemTime::now(),
        })
    }

    /// Listener name.
    pub fn listener(&self) -> &str {
        &self.listener
    }

    /// Settings this manager was created with.
    pub fn settings(&self) -> &TlsSettings {
        &self.settings
    }

    /// Re-reads the configured files and swaps in a new configuration.
    ///
    /// Reloads are serialized. Blocking (file I/O, key decryption): from async code call it
    /// through `tokio::task::spawn_blocking` or use [`TlsManager::reload_async`].
    /// On error the current configuration is kept, the error is recorded in the status, logged
    /// at ERROR and returned.
    pub fn reload(&self) -> Result<LoadReport> {
        let _guard = self
            .reload_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.reloads_started.fetch_add(1, Ordering::Relaxed);
        match Self::build(&self.settings) {
            Ok(active) => {
                let report = active.report.clone();
                let old = self.active.swap(Arc::new(active));
                self.reloads_succeeded.fetch_add(1, Ordering::Relaxed);
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = None;
                let new = self.active.load();
                tracing::info!(
                    listener = %self.listener,
                    old_fingerprint = %old.info.fingerprint_sha256,
                    new_fingerprint = %new.info.fingerprint_sha256,
                    not_after = %new.info.not_after,
                    "TLS configuration reloaded"
                );
                for w in &report.warnings {
                    tracing::warn!(listener = %self.listener, "{w}");
                }
                Ok(report)
            }
            Err(e) => {
                self.reloads_failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(listener = %self.listener, error = %e, "TLS reload failed; keeping the previous configuration");
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(ReloadError {
                    message: e.to_string(),
                    at: SystemTime::now(),
                });
                Err(e)
            }
        }
    }

    /// [`TlsManager::reload`] on the blocking thread pool.
    pub async fn reload_async(self: &Arc<Self>) -> Result<LoadReport> {
        let me = Arc::clone(self);
        match tokio::task::spawn_blocking(move || me.reload()).await {
            Ok(r) => r,
            Err(e) => Err(crate::TlsError::Config(format!("reload task failed: {e}"))),
        }
    }

    /// The current configuration (what new connections get).
    pub fn current(&self) -> Arc<ActiveConfig> {
        self.active.load_full()
    }

    /// The current rustls configuration.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.active.load().config)
    }

    /// An acceptor over the current configuration.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.server_config())
    }

    /// Handshake counters.
    pub fn handshake_stats(&self) -> &HandshakeStats {
        &self.handshakes
    }

    /// The rate limiter for per-connection log lines of this listener.
    pub fn log_limiter(&self) -> &RateLimitedLog {
        &self.log_limiter
    }

    /// (started, succeeded, failed) reload counters.
    pub fn reload_counters(&self) -> (u64, u64, u64) {
        (
            self.reloads_started.load(Ordering::Relaxed),
            self.reloads_succeeded.load(Ordering::Relaxed),
            self.reloads_failed.load(Ordering::Relaxed),
        )
    }

    /// The last reload error, if the most recent reload failed.
    pub fn last_reload_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|e| e.message.clone())
    }

    /// A serializable snapshot.
    pub fn status(&self) -> TlsStatus {
        let active = self.active.load_full();
        let (started, ok, failed) = self.reload_counters();
        let err = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let now = unix_secs(SystemTime::now());
        TlsStatus {
            listener: self.listener.clone(),
            certificate: active.info.clone(),
            expires_in_secs: active.info.not_after_unix.saturating_sub(now),
            cert_file: self.settings.cert_file.display().to_string(),
            key_file: self.settings.key_file.display().to_string(),
            client_ca_file: self
                .settings
                .client_ca_file
                .as_ref()
                .map(|p| p.display().to_string()),
            client_auth: self.settings.client_auth.as_str().to_string(),
            min_version: self.settings.min_version.as_str().to_string(),
            strict_ciphers: self.settings.strict_ciphers,
            cipher_suites: cipher_suite_names(&self.settings),
            loaded_at: format_unix(unix_secs(active.loaded_at)),
            warnings: active.report.warnings.clone(),
            last_reload_error: err.as_ref().map(|e| e.message.clone()),
            last_reload_error_at: err.as_ref().map(|e| format_unix(unix_secs(e.at))),
            reloads_started: started,
            reloads_succeeded: ok,
            reloads_failed: failed,
            handshakes: self.handshakes.snapshot(),
        }
    }
}
