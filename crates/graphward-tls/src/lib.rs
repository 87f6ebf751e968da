//! # graphward-tls: the TLS foundation of graphward's listeners
//!
//! A self-contained library the Bolt and HTTP listeners build on. It loads and validates
//! certificates and keys, serves them with rustls 0.23 (aws-lc-rs provider), reloads them
//! without dropping live connections, keeps plaintext clients from producing cryptic errors,
//! and provides the functions behind `graphward certs generate|check`.
//!
//! ## Configuration: [`TlsSettings`]
//!
//! ```no_run
//! use graphward_tls::{ClientAuth, TlsSettings, TlsVersion};
//! let mut s = TlsSettings::new("/etc/graphward/server.pem", "/etc/graphward/server.key");
//! s.key_password_env = Some("GRAPHWARD_TLS_KEY_PASSWORD".into()); // or key_password_file
//! s.min_version = TlsVersion::V1_2;         // or V1_3 (Mozilla "modern")
//! s.strict_ciphers = true;                  // default: TLS 1.3 + ECDHE/AEAD TLS 1.2 suites
//! s.client_auth = ClientAuth::None;         // Optional / Require need client_ca_file
//! s.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()]; // optional
//! ```
//!
//! ## Loading and validation: [`load()`]
//!
//! [`load()`] (used by [`TlsManager::new`] and [`TlsManager::reload`]) reads the files and
//! returns a [`LoadedCert`] or a [`TlsError`] whose message names the file and the fix:
//!
//! * missing/unreadable/oversized file ([`TlsError::Read`]), malformed PEM, no `CERTIFICATE`
//!   block, certificates that are not X.509;
//! * keys: PKCS#8, PKCS#1 (`RSA PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) for RSA (>= 2048
//!   bits), ECDSA P-256/P-384/P-521 and Ed25519; encrypted PKCS#8 (PBES2 with PBKDF2 or
//!   scrypt, AES-CBC) decrypted with the configured password. Errors: "wrong password for key
//!   file X", "unsupported key encryption ..." (PBES1, 3DES, legacy `Proc-Type` PEM), "is
//!   encrypted but no password is configured";
//! * key/certificate mismatch, by comparing the certificate's SubjectPublicKeyInfo with the
//!   key's public key (this also works for X.509 v1 certificates);
//! * expired or not-yet-valid leaf;
//! * file modes: key (and password file) must not be accessible by group/others (0600 or
//!   less), the certificate not writable by group/others (0644 or less), unless
//!   `allow_insecure_key_permissions`.
//!
//! Non-fatal findings (leaf expiring within `expiry_warning`, 14 days by default; chain
//! certificates expiring) come back in a [`LoadReport`]: **log them at WARN**.
//!
//! ## Serving and reloading: [`TlsManager`] (one per listener)
//!
//! ```no_run
//! # async fn f(settings: graphward_tls::TlsSettings, listener: tokio::net::TcpListener) -> graphward_tls::Result<()> {
//! use std::sync::Arc;
//! use graphward_tls::{accept_on_tls_port, TlsManager, DEFAULT_HANDSHAKE_TIMEOUT};
//! let (manager, report) = TlsManager::new("bolt", settings)?;   // startup: errors are fatal
//! for w in &report.warnings { tracing::warn!("{w}"); }
//! let manager = Arc::new(manager);
//! let handshakes = Arc::new(tokio::sync::Semaphore::new(256));
//! loop {
//!     let Ok((tcp, _)) = listener.accept().await else { continue };
//!     let (m, sem) = (Arc::clone(&manager), Arc::clone(&handshakes));
//!     tokio::spawn(async move {
//!         // sniff + refuse plaintext Bolt/HTTP + handshake with timeout, counted and logged
//!         let Ok(tls) = accept_on_tls_port(&m, tcp, DEFAULT_HANDSHAKE_TIMEOUT, &sem).await else { return };
//!         // ... serve the session on `tls` ...
//!     });
//! }
//! # }
//! ```
//!
//! * [`TlsManager::reload`] (blocking; [`TlsManager::reload_async`] from async code) is what
//!   `RELOAD TLS`, `CALL dbms.security.reloadTLS()`, SIGHUP and the watcher call. Reloads are
//!   serialized by a mutex; each builds a complete new `rustls::ServerConfig` (chain, key,
//!   client-auth roots, versions, suites, ALPN, a fresh session cache) and publishes it with
//!   one `ArcSwap` store. On error the old configuration stays, the error is logged at ERROR,
//!   recorded (`last_reload_error`) and counted, and returned to the caller.
//!   The caller refuses the command inside an explicit transaction, checks the privilege, and
//!   for a listener without TLS answers [`NO_TLS_RELOAD_MESSAGE`].
//! * [`TlsManager::acceptor`] returns a `TlsAcceptor` over the *current* configuration; every
//!   connection keeps the `Arc<ServerConfig>` it was accepted with, so live sessions survive.
//! * [`TlsManager::status`] returns a serializable [`TlsStatus`] for `SHOW TLS` and `/health`:
//!   subject, issuer, SANs, validity (RFC 3339 and Unix seconds, for a `not_after` metric),
//!   SHA-256 fingerprint, paths, policy, enabled suites, loaded_at, warnings, the last reload
//!   error, reload counters and handshake outcome counters.
//! * The served certificate goes through [`FixedCertResolver`] (a
//!   `rustls::server::ResolvesServerCert`), which also lets X.509 v1 certificates work.
//!
//! ## Policy ([`build_server_config`])
//!
//! `min_version` 1.2 or 1.3. `strict_ciphers`: all TLS 1.3 suites and, for TLS 1.2, only
//! ECDHE with AES-GCM or ChaCha20-Poly1305 ([`is_strict_suite`]). rustls implements no CBC,
//! RC4 or static-RSA suites, no compression and no renegotiation, so its defaults already
//! satisfy this; the strict filter guards against a future change of provider defaults.
//! Server cipher order is preferred.
//!
//! ## Listener hygiene ([`hygiene`])
//!
//! [`sniff`] peeks (with a timeout) at the first bytes: [`FirstBytes::TlsClientHello`],
//! [`FirstBytes::BoltPreamble`] (`60 60 B0 17`), [`FirstBytes::Http`] or
//! [`FirstBytes::Unknown`]. [`refuse_plain_bolt`] answers `00 00 00 00` and returns the
//! version proposals ([`format_bolt_proposals`]); [`refuse_plain_http`] answers
//! `400 Bad Request` with "this port requires TLS: use https://". [`accept_tls`] bounds the
//! handshake by a timeout (10 s: [`DEFAULT_HANDSHAKE_TIMEOUT`]) and a semaphore, classifies
//! failures ([`HandshakeReason`]; EOF/reset is "eof" at debug level, the rest at warn through
//! a [`RateLimitedLog`] of 10 lines/s per listener) and counts them ([`HandshakeStats`]).
//! [`accept_on_tls_port`] chains all of them.
//!
//! ## File watching ([`watch()`])
//!
//! Optional: polls the content of the certificate, key, client CA and password files (this
//! follows Kubernetes' `..data` symlink swaps), debounces, reloads, and retries a
//! half-written or mismatched pair for a few seconds.
//!
//! ## Certificate tooling ([`certs`])
//!
//! [`generate`] writes `ca.pem`/`ca.key` (unless self-signed), `server.pem` (chain) and
//! `server.key` (0600, encrypted PKCS#8 when a password is given). [`check`] /
//! [`check_with_password`] return [`CheckLine`]s: certificate, private key, key match, expiry,
//! subject alternative names, chain (verified with rustls' `WebPkiServerVerifier` against the
//! CA), hostname and permissions.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod certs;
pub mod config;
pub mod error;
pub mod hygiene;
pub mod load;
pub mod manager;
pub mod resolver;
pub mod settings;
pub mod watch;

pub use certs::{check, check_with_password, generate, CheckLine, GeneratedFiles, San};
pub use config::{build_server_config, cipher_suite_names, is_strict_suite};
pub use error::{Result, TlsError};
pub use hygiene::{
    accept_client, accept_on_tls_port, accept_tls, format_bolt_proposals, record_plaintext,
    refuse_plain_bolt, refuse_plain_http, sniff, FirstBytes, HandshakeFailure, HandshakeReason,
    HandshakeStats, RateLimitedLog, DEFAULT_HANDSHAKE_TIMEOUT,
};
pub use load::{client_identity, load, load_at, CertInfo, LoadReport, LoadedCert};
pub use manager::{TlsManager, TlsStatus};
pub use resolver::FixedCertResolver;
pub use settings::{ClientAuth, TlsSettings, TlsVersion, DEFAULT_EXPIRY_WARNING};
pub use watch::watch;

/// Re-exports so that listeners need no direct dependency on these crates.
pub use rustls;
pub use tokio_rustls;

/// The answer to a TLS reload command on a listener without TLS (Memgraph's wording).
pub const NO_TLS_RELOAD_MESSAGE: &str =
    "Unable to reload SSL configuration because key or certificate file aren't set.";

/// The refusal of a TLS reload or `SHOW TLS` to a principal without the `TLS MANAGEMENT`
/// privilege (every trigger says the same).
pub const TLS_PRIVILEGE_MESSAGE: &str = "Permission denied: managing TLS needs the TLS MANAGEMENT privilege (GRANT TLS MANAGEMENT ON DBMS TO <user or role>; ADMIN ON GRAPH * includes it).";
