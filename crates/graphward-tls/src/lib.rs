//! TLS foundation for graphward listeners (Bolt and HTTP). See the crate docs at the end.
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
    accept_tls, format_bolt_proposals, refuse_plain_bolt, refuse_plain_http, sniff, FirstBytes,
    HandshakeFailure, HandshakeReason, HandshakeStats, RateLimitedLog,
};
pub use load::{load, load_at, CertInfo, LoadReport, LoadedCert};
pub use manager::{TlsManager, TlsStatus};
pub use resolver::FixedCertResolver;
pub use settings::{ClientAuth, TlsSettings, TlsVersion, DEFAULT_EXPIRY_WARNING};
pub use watch::watch;

/// Re-exports so that listeners need no direct dependency on these crates.
pub use rustls;
pub use tokio_rustls;
