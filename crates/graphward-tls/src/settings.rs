//! Listener TLS settings.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Lowest protocol version a listener accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum TlsVersion {
    /// TLS 1.2 and 1.3 (passes Mozilla "intermediate").
    #[default]
    #[serde(rename = "1.2")]
    V1_2,
    /// TLS 1.3 only (Mozilla "modern").
    #[serde(rename = "1.3")]
    V1_3,
}

impl TlsVersion {
    /// "1.2" or "1.3".
    pub fn as_str(&self) -> &'static str {
        match self {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
    }
}

impl std::str::FromStr for TlsVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s
            .trim()
            .to_ascii_lowercase()
            .trim_start_matches("tls")
            .trim()
        {
            "1.2" | "v1.2" | "1_2" => Ok(TlsVersion::V1_2),
            "1.3" | "v1.3" | "1_3" => Ok(TlsVersion::V1_3),
            other => Err(format!(
                "unsupported TLS minimum version '{other}': use 1.2 or 1.3"
            )),
        }
    }
}

/// Client certificate (mutual TLS) policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuth {
    /// Do not ask for a client certificate.
    #[default]
    None,
    /// Ask; verify it against `client_ca_file` when one is sent, accept clients without one.
    Optional,
    /// Require a client certificate that chains to `client_ca_file`.
    Require,
}

impl ClientAuth {
    /// "none", "optional" or "require".
    pub fn as_str(&self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::Optional => "optional",
            ClientAuth::Require => "require",
        }
    }
}

impl std::str::FromStr for ClientAuth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "off" | "false" => Ok(ClientAuth::None),
            "optional" | "request" => Ok(ClientAuth::Optional),
            "require" | "required" | "true" => Ok(ClientAuth::Require),
            other => Err(format!(
                "unknown client_auth '{other}': use none, optional or require"
            )),
        }
    }
}

/// Default expiry warning horizon: 14 days.
pub const DEFAULT_EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);

/// TLS settings of one listener (Bolt or HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key: PKCS#8, PKCS#1 (RSA), SEC1 (EC) or encrypted PKCS#8 (PBES2).
    pub key_file: PathBuf,
    /// File whose first line is the key password (trailing newline stripped).
    pub key_password_file: Option<PathBuf>,
    /// Environment variable holding the key password (read at each load/reload).
    pub key_password_env: Option<String>,
    /// Lowest accepted protocol version.
    pub min_version: TlsVersion,
    /// Only TLS 1.3 suites plus ECDHE + AEAD (AES-GCM, ChaCha20-Poly1305) for TLS 1.2.
    pub strict_ciphers: bool,
    /// PEM bundle of CAs trusted for client certificates.
    pub client_ca_file: Option<PathBuf>,
    /// Client certificate policy.
    pub client_auth: ClientAuth,
    /// Skip the permission checks (key 0600 or less, certificate not group/other writable).
    pub allow_insecure_key_permissions: bool,
    /// Certificates expiring within this horizon produce a warning in the [`crate::LoadReport`].
    pub expiry_warning: Duration,
    /// ALPN protocols offered by the server (empty: no ALPN).
    pub alpn_protocols: Vec<Vec<u8>>,
}

impl TlsSettings {
    /// Settings with the given certificate and key and every other field at its default.
    pub fn new(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> Self {
        TlsSettings {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
            key_password_file: None,
            key_password_env: None,
            min_version: TlsVersion::V1_2,
            strict_ciphers: true,
            client_ca_file: None,
            client_auth: ClientAuth::None,
            allow_insecure_key_permissions: false,
            expiry_warning: DEFAULT_EXPIRY_WARNING,
            alpn_protocols: Vec::new(),
        }
    }
}
