//! Error type: every variant names the file concerned and, where there is one, the fix.

use std::path::PathBuf;

/// Everything that can go wrong while loading, validating or serving TLS material.
///
/// The `Display` text is meant to be shown to an operator as is (log line, `RELOAD TLS`
/// error, `graphward certs check`): it names the file, says what is wrong and how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be opened or read.
    #[error("Couldn't read {what} file {path}: {source}. Check that the path is right and readable by the server's user.")]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The PEM text itself is malformed (bad base64, missing END line, ...).
    #[error("Couldn't load {what} from file {path}. Error: malformed PEM: {detail}")]
    Pem {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    /// The certificate file holds no `CERTIFICATE` block.
    #[error("Couldn't load server certificate from file {path}. Error: no certificate found (expected a '-----BEGIN CERTIFICATE-----' block; is this the key file?)")]
    NoCertificate { path: PathBuf },
    /// A certificate could not be parsed as X.509.
    #[error("Couldn't load certificate from file {path}. Error: certificate #{index} is not valid X.509: {detail}")]
    BadCertificate {
        path: PathBuf,
        index: usize,
        detail: String,
    },
    /// The key file holds no private key block.
    #[error("Couldn't load private key from file {path}. Error: no private key found (expected 'PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY' or 'ENCRYPTED PRIVATE KEY'; is this the certificate file?)")]
    NoKey { path: PathBuf },
    /// The key is of a type or size rustls cannot use.
    #[error("Couldn't load private key from file {path}. Error: unsupported or invalid key: {detail} (supported: RSA >= 2048 bits, ECDSA P-256/P-384/P-521, Ed25519)")]
    BadKey { path: PathBuf, detail: String },
    /// The key is encrypted but no password was configured.
    #[error("private key file {path} is encrypted but no password is configured: set key_password_file or key_password_env")]
    PasswordRequired { path: PathBuf },
    /// The configured password does not decrypt the key.
    #[error("wrong password for key file {path}")]
    WrongPassword { path: PathBuf },
    /// The key uses an encryption scheme we cannot decrypt.
    #[error("unsupported key encryption in key file {path}: {detail}. Re-encrypt it with: openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in key.pem -out key.enc.pem")]
    UnsupportedEncryption { path: PathBuf, detail: String },
    /// The password source is unusable.
    #[error("Couldn't read the key password: {detail}")]
    Password { detail: String },
    /// Key and certificate do not belong together.
    #[error("private key in {key} does not match the certificate in {cert} (their public keys differ): check that both files come from the same issuance")]
    KeyMismatch { cert: PathBuf, key: PathBuf },
    /// The leaf certificate has expired.
    #[error("certificate in {path} expired at {not_after}: renew it")]
    Expired { path: PathBuf, not_after: String },
    /// The leaf certificate is not valid yet.
    #[error("certificate in {path} is not valid before {not_before}: check the server clock or the certificate")]
    NotYetValid { path: PathBuf, not_before: String },
    /// File permissions are too open.
    #[error("file permissions are too open on {what} file {path} (mode {mode:04o}): run `chmod {fix:o} {path}` or set allow_insecure_key_permissions")]
    Permissions {
        what: &'static str,
        path: PathBuf,
        mode: u32,
        fix: u32,
    },
    /// The client CA file is unusable.
    #[error("Couldn't load client CA certificates from file {path}. Error: {detail}")]
    ClientCa { path: PathBuf, detail: String },
    /// The configuration is inconsistent (for example client auth without a CA file).
    #[error("invalid TLS configuration: {0}")]
    Config(String),
    /// rustls refused the configuration.
    #[error("rustls refused the configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Generate(String),
    /// Writing a file failed.
    #[error("Couldn't write file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl TlsError {
    /// Short machine-friendly category, for metrics labels and counters.
    pub fn kind(&self) -> &'static str {
        match self {
            TlsError::Read { .. } => "read",
            TlsError::Pem { .. } => "pem",
            TlsError::NoCertificate { .. } => "no_certificate",
            TlsError::BadCertificate { .. } => "bad_certificate",
            TlsError::NoKey { .. } => "no_key",
            TlsError::BadKey { .. } => "bad_key",
            TlsError::PasswordRequired { .. } => "password_required",
            TlsError::WrongPassword { .. } => "wrong_password",
            TlsError::UnsupportedEncryption { .. } => "unsupported_encryption",
            TlsError::Password { .. } => "password",
            TlsError::KeyMismatch { .. } => "key_mismatch",
            TlsError::Expired { .. } => "expired",
            TlsError::NotYetValid { .. } => "not_yet_valid",
            TlsError::Permissions { .. } => "permissions",
            TlsError::ClientCa { .. } => "client_ca",
            TlsError::Config(_) => "config",
            TlsError::Rustls(_) => "rustls",
            TlsError::Generate(_) => "generate",
            TlsError::Write { .. } => "write",
        }
    }
}

/// Result alias.
pub type Result<T, E = TlsError> = std::result::Result<T, E>;
