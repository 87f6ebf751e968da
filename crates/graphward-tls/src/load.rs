//! Reading and validating certificate chains and private keys.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pkcs8::der::zeroize::Zeroizing;
use pkcs8::der::Decode;
use rustls::crypto::CryptoProvider;
use rustls::sign::{CertifiedKey, SigningKey};
use rustls_pki_types::pem::{self, PemObject, SectionKind};
use rustls_pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use serde::Serialize;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::{Result, TlsError};
use crate::settings::TlsSettings;

/// Largest certificate or key file we read (a chain of a few certificates is a few KiB).
pub const MAX_PEM_FILE_SIZE: u64 = 1024 * 1024;

/// Non-fatal findings of a load, to be logged by the caller at WARN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// Human-readable warnings (expiry horizon, unverifiable key match, ...).
    pub warnings: Vec<String>,
}

/// Facts about the served certificate, for `SHOW TLS`, `/health` and metrics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertInfo {
    /// Leaf subject distinguished name (RFC 4514 style).
    pub subject: String,
    /// Leaf issuer distinguished name.
    pub issuer: String,
    /// Subject alternative names, as `DNS:name` / `IP:addr` / `EMAIL:x` / `URI:x`.
    pub sans: Vec<String>,
    /// Serial number, hex.
    pub serial: String,
    /// X.509 version (1 or 3 in practice).
    pub x509_version: u32,
    /// Validity start, seconds since the Unix epoch.
    pub not_before_unix: i64,
    /// Validity end, seconds since the Unix epoch.
    pub not_after_unix: i64,
    /// Validity start, RFC 3339.
    pub not_before: String,
    /// Validity end, RFC 3339.
    pub not_after: String,
    /// SHA-256 of the leaf's DER, upper-case hex separated by ':' (as `openssl x509 -fingerprint -sha256`).
    pub fingerprint_sha256: String,
    /// Key algorithm: "RSA", "ECDSA", "ED25519".
    pub key_algorithm: String,
    /// Number of certificates in the served chain.
    pub chain_len: usize,
    /// Whether the leaf is self-signed (subject == issuer).
    pub self_signed: bool,
}

/// A validated certificate chain and key, ready to be served.
#[derive(Debug, Clone)]
pub struct LoadedCert {
    /// The chain and signing key handed to rustls.
    pub certified_key: Arc<CertifiedKey>,
    /// Metadata about the leaf.
    pub info: CertInfo,
    /// Warnings found while loading.
    pub report: LoadReport,
}

/// Formats seconds since the epoch as RFC 3339 (UTC).
pub fn format_unix(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{ts}"))
}

/// Seconds since the epoch for a `SystemTime` (negative before 1970).
pub fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Upper-case hex SHA-256 fingerprint with ':' separators.
pub fn sha256_fingerprint(der: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    let parts: Vec<String> = d.as_ref().iter().map(|b| format!("{b:02X}")).collect();
    parts.join(":")
}

/// Reads a whole (small) file, mapping errors to [`TlsError::Read`].
pub fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>> {
    let err = |source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(err)?;
    if !meta.is_file() {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    if meta.len() > MAX_PEM_FILE_SIZE {
        return Err(err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("file is larger than {MAX_PEM_FILE_SIZE} bytes"),
        )));
    }
    std::fs::read(path).map_err(err)
}

/// Checks that a secret file (key, password) is not accessible by group/others.
pub fn check_secret_file_mode(what: &'static str, path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .map_err(|source| TlsError::Read {
                what,
                path: path.to_path_buf(),
                source,
            })?;
        if mode & 0o077 != 0 {
            return Err(TlsError::Permissions {
                what,
                path: path.to_path_buf(),
                mode,
                fix: 0o600,
            });
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (what, path);
    }
    Ok(())
}

/// Checks file modes: the key must not be accessible by group/others (0600 or less), the
/// certificate must not be writable by group/others (0644 or less). Symlinks are followed.
pub fn check_permissions(cert: &Path, key: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode_of = |what: &'static str, p: &Path| -> Result<u32> {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o7777)
                .map_err(|source| TlsError::Read {
                    what,
                    path: p.to_path_buf(),
                    source,
                })
        };
        let key_mode = mode_of("private key", key)?;
        if key_mode & 0o077 != 0 {
            return Err(TlsError::Permissions {
                what: "private key",
                path: key.to_path_buf(),
                mode: key_mode,
                fix: 0o600,
            });
        }
        let cert_mode = mode_of("certificate", cert)?;
        if cert_mode & 0o022 != 0 {
            return Err(TlsError::Permissions {
                what: "certificate",
                path: cert.to_path_buf(),
                mode: cert_mode,
                fix: 0o644,
            });
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (cert, key);
    }
    Ok(())
}

fn pem_error(what: &'static str, path: &Path, e: pem::Error) -> TlsError {
    match e {
        pem::Error::Io(source) => TlsError::Read {
            what,
            path: path.to_path_buf(),
            source,
        },
        other => TlsError::Pem {
            what,
            path: path.to_path_buf(),
            detail: match other {
                pem::Error::MissingSectionEnd { end_marker } => format!(
                    "missing '-----END {}-----' line (truncated file?)",
                    String::from_utf8_lossy(&end_marker)
                ),
                pem::Error::IllegalSectionStart { line } => format!(
                    "illegal BEGIN line '{}'",
                    String::from_utf8_lossy(&line)
                        .chars()
                        .take(80)
                        .collect::<String>()
                ),
                pem::Error::Base64Decode(d) => format!("invalid base64 ({d})"),
                o => o.to_string(),
            },
        },
    }
}

/// Parses every `CERTIFICATE` block of a PEM file and checks that each one is valid X.509.
/// `what` names the file in errors ("server certificate", "client CA", ...).
pub fn parse_certificates(
    what: &'static str,
    path: &Path,
    pem_bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>> {
    let mut certs = Vec::new();
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem_bytes) {
        let (kind, der) = item.map_err(|e| pem_error(what, path, e))?;
        if kind == SectionKind::Certificate {
            certs.push(CertificateDer::from(der));
        }
    }
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    for (i, c) in certs.iter().enumerate() {
        parse_x509(path, i, c)?;
    }
    Ok(certs)
}

fn parse_x509<'a>(path: &Path, index: usize, der: &'a [u8]) -> Result<X509Certificate<'a>> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        Ok(_) => Err(TlsError::BadCertificate {
            path: path.to_path_buf(),
            index: index + 1,
            detail: "trailing data after the certificate".into(),
        }),
        Err(e) => Err(TlsError::BadCertificate {
            path: path.to_path_buf(),
            index: index + 1,
            detail: e.to_string(),
        }),
    }
}

const ENC_BEGIN: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENC_END: &str = "-----END ENCRYPTED PRIVATE KEY-----";

fn find_encrypted_block(pem_bytes: &[u8]) -> Option<std::result::Result<&str, ()>> {
    let start = find(pem_bytes, ENC_BEGIN.as_bytes())?;
    let rest = pem_bytes.get(start..)?;
    let Some(end_rel) = find(rest, ENC_END.as_bytes()) else {
        return Some(Err(()));
    };
    let block = rest.get(..end_rel + ENC_END.len())?;
    Some(std::str::from_utf8(block).map_err(|_| ()))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether the PEM text holds an encrypted key (PKCS#8 `ENCRYPTED PRIVATE KEY` or legacy
/// OpenSSL `Proc-Type: 4,ENCRYPTED`).
pub fn is_encrypted_key(pem_bytes: &[u8]) -> bool {
    find(pem_bytes, ENC_BEGIN.as_bytes()).is_some()
        || find(pem_bytes, b"Proc-Type: 4,ENCRYPTED").is_some()
}

/// Parses a private key: PKCS#8, PKCS#1, SEC1, or encrypted PKCS#8 (PBES2) with `password`.
pub fn parse_private_key(
    path: &Path,
    pem_bytes: &[u8],
    password: Option<&[u8]>,
) -> Result<PrivateKeyDer<'static>> {
    let p = || path.to_path_buf();
    if find(pem_bytes, b"Proc-Type: 4,ENCRYPTED").is_some() {
        return Err(TlsError::UnsupportedEncryption {
            path: p(),
            detail: "legacy OpenSSL PEM encryption (Proc-Type: 4,ENCRYPTED)".into(),
        });
    }
    if let Some(block) = find_encrypted_block(pem_bytes) {
        let block = block.map_err(|()| TlsError::Pem {
            what: "private key",
            path: p(),
            detail: format!("missing '{ENC_END}' line (truncated file?)"),
        })?;
        let Some(password) = password else {
            return Err(TlsError::PasswordRequired { path: p() });
        };
        return decrypt_pkcs8(path, block, password);
    }
    for item in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem_bytes) {
        let (kind, der) = item.map_err(|e| pem_error("private key", path, e))?;
        match kind {
            SectionKind::PrivateKey => return Ok(PrivatePkcs8KeyDer::from(der).into()),
            SectionKind::RsaPrivateKey => return Ok(PrivatePkcs1KeyDer::from(der).into()),
            SectionKind::EcPrivateKey => return Ok(PrivateSec1KeyDer::from(der).into()),
            _ => {}
        }
    }
    Err(TlsError::NoKey { path: p() })
}

fn decrypt_pkcs8(path: &Path, block: &str, password: &[u8]) -> Result<PrivateKeyDer<'static>> {
    let p = || path.to_path_buf();
    let (label, doc) = pkcs8::der::Document::from_pem(block).map_err(|e| TlsError::Pem {
        what: "private key",
        path: p(),
        detail: e.to_string(),
    })?;
    if label != "ENCRYPTED PRIVATE KEY" {
        return Err(TlsError::NoKey { path: p() });
    }
    let info = pkcs8::EncryptedPrivateKeyInfo::from_der(doc.as_bytes()).map_err(|e| {
        TlsError::UnsupportedEncryption {
            path: p(),
            detail: format!("cannot parse the encryption parameters ({e}); PBES2 is required"),
        }
    })?;
    if !matches!(
        info.encryption_algorithm,
        pkcs8::pkcs5::EncryptionScheme::Pbes2(_)
    ) {
        return Err(TlsError::UnsupportedEncryption {
            path: p(),
            detail: "PBES1 (PKCS#5 v1.5) is not supported".into(),
        });
    }
    let plain = match info.decrypt(password) {
        Ok(doc) => doc,
        Err(pkcs8::Error::EncryptedPrivateKey(e)) => {
            return Err(match e {
                // pkcs5 reports a bad padding after decryption as "encryption failed".
                pkcs8::pkcs5::Error::DecryptFailed | pkcs8::pkcs5::Error::EncryptFailed => {
                    TlsError::WrongPassword { path: p() }
                }
                pkcs8::pkcs5::Error::UnsupportedAlgorithm { oid } => {
                    TlsError::UnsupportedEncryption {
                        path: p(),
                        detail: format!("algorithm {oid} is not supported"),
                    }
                }
                other => TlsError::UnsupportedEncryption {
                    path: p(),
                    detail: other.to_string(),
                },
            });
        }
        // Decryption "succeeded" but the plaintext is not DER: the password was wrong and the
        // padding happened to look valid.
        Err(_) => return Err(TlsError::WrongPassword { path: p() }),
    };
    let der = plain.as_bytes().to_vec();
    if pkcs8::PrivateKeyInfo::from_der(&der).is_err() {
        return Err(TlsError::WrongPassword { path: p() });
    }
    Ok(PrivatePkcs8KeyDer::from(der).into())
}

/// Reads the key password from `key_password_file` (first line) or `key_password_env`.
/// The value is wiped from memory when dropped.
pub fn read_password(settings: &TlsSettings) -> Result<Option<Zeroizing<String>>> {
    if let Some(file) = &settings.key_password_file {
        let bytes = Zeroizing::new(read_file("key password", file)?);
        let text = std::str::from_utf8(&bytes).map_err(|_| TlsError::Password {
            detail: format!("key password file {} is not UTF-8", file.display()),
        })?;
        let line = Zeroizing::new(text.lines().next().unwrap_or("").to_string());
        return Ok(Some(line));
    }
    if let Some(var) = &settings.key_password_env {
        return match std::env::var(var) {
            Ok(v) => Ok(Some(Zeroizing::new(v))),
            Err(std::env::VarError::NotPresent) => Err(TlsError::Password {
                detail: format!("environment variable {var} (key_password_env) is not set"),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(TlsError::Password {
                detail: format!("environment variable {var} (key_password_env) is not UTF-8"),
            }),
        };
    }
    Ok(None)
}

/// The crypto provider used everywhere in this crate (aws-lc-rs).
pub fn provider() -> CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// Loads a signing key with the aws-lc-rs provider.
pub fn load_signing_key(path: &Path, der: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>> {
    provider()
        .key_provider
        .load_private_key(der)
        .map_err(|e| TlsError::BadKey {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
}

/// Outcome of comparing a key with a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMatch {
    /// Same public key.
    Match,
    /// Different public keys.
    Mismatch,
    /// The key could not produce its public key.
    Unknown,
}

/// Compares the certificate's SubjectPublicKeyInfo with the key's public key (algorithm OID and
/// key bits). Works for X.509 v1 certificates too (unlike `CertifiedKey::keys_match`, which
/// goes through webpki and refuses v1).
pub fn key_matches_cert(key: &dyn SigningKey, cert: &X509Certificate<'_>) -> KeyMatch {
    let Some(spki) = key.public_key() else {
        return KeyMatch::Unknown;
    };
    let Ok((_, key_spki)) = SubjectPublicKeyInfo::from_der(spki.as_ref()) else {
        return KeyMatch::Unknown;
    };
    let cert_spki = cert.public_key();
    if key_spki.algorithm.algorithm == cert_spki.algorithm.algorithm
        && key_spki.subject_public_key.data == cert_spki.subject_public_key.data
    {
        KeyMatch::Match
    } else {
        KeyMatch::Mismatch
    }
}

fn san_strings(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) => out.push(format!("DNS:{d}")),
                GeneralName::IPAddress(b) => {
                    let ip = match b.len() {
                        4 => <[u8; 4]>::try_from(*b)
                            .ok()
                            .map(|a| std::net::IpAddr::from(a).to_string()),
                        16 => <[u8; 16]>::try_from(*b)
                            .ok()
                            .map(|a| std::net::IpAddr::from(a).to_string()),
                        _ => None,
                    };
                    out.push(format!(
                        "IP:{}",
                        ip.unwrap_or_else(|| format!("<{} bytes>", b.len()))
                    ));
                }
                GeneralName::RFC822Name(e) => out.push(format!("EMAIL:{e}")),
                GeneralName::URI(u) => out.push(format!("URI:{u}")),
                _ => {}
            }
        }
    }
    out
}

/// Describes a parsed leaf certificate.
pub fn cert_info(
    der: &[u8],
    cert: &X509Certificate<'_>,
    key_algorithm: &str,
    chain_len: usize,
) -> CertInfo {
    let nb = cert.validity().not_before.timestamp();
    let na = cert.validity().not_after.timestamp();
    CertInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        sans: san_strings(cert),
        serial: cert.raw_serial_as_string(),
        x509_version: cert.version().0 + 1,
        not_before_unix: nb,
        not_after_unix: na,
        not_before: format_unix(nb),
        not_after: format_unix(na),
        fingerprint_sha256: sha256_fingerprint(der),
        key_algorithm: key_algorithm.to_string(),
        chain_len,
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
    }
}

/// Checks validity of the leaf at `now`; returns warnings for the expiry horizon.
fn check_validity(
    path: &Path,
    chain: &[CertificateDer<'static>],
    now: SystemTime,
    horizon: Duration,
    report: &mut LoadReport,
) -> Result<()> {
    let now_s = unix_secs(now);
    let horizon_s = i64::try_from(horizon.as_secs()).unwrap_or(i64::MAX);
    for (i, der) in chain.iter().enumerate() {
        let cert = parse_x509(path, i, der)?;
        let nb = cert.validity().not_before.timestamp();
        let na = cert.validity().not_after.timestamp();
        if i == 0 {
            if now_s > na {
                return Err(TlsError::Expired {
                    path: path.to_path_buf(),
                    not_after: format_unix(na),
                });
            }
            if now_s < nb {
                return Err(TlsError::NotYetValid {
                    path: path.to_path_buf(),
                    not_before: format_unix(nb),
                });
            }
            if na.saturating_sub(now_s) <= horizon_s {
                let days = na.saturating_sub(now_s) / 86_400;
                report.warnings.push(format!(
                    "certificate in {} expires at {} (in {days} days): renew it",
                    path.display(),
                    format_unix(na)
                ));
            }
        } else if now_s > na {
            report.warnings.push(format!(
                "chain certificate #{} ({}) in {} expired at {}",
                i + 1,
                cert.subject(),
                path.display(),
                format_unix(na)
            ));
        } else if na.saturating_sub(now_s) <= horizon_s {
            report.warnings.push(format!(
                "chain certificate #{} ({}) in {} expires at {}",
                i + 1,
                cert.subject(),
                path.display(),
                format_unix(na)
            ));
        }
    }
    Ok(())
}

/// Loads and validates the certificate and key named by `settings`, at the current time.
pub fn load(settings: &TlsSettings) -> Result<LoadedCert> {
    load_at(settings, SystemTime::now())
}

/// [`load`] at a given time (for tests).
pub fn load_at(settings: &TlsSettings, now: SystemTime) -> Result<LoadedCert> {
    if let (Some(pw_file), false) = (
        &settings.key_password_file,
        settings.allow_insecure_key_permissions,
    ) {
        check_secret_file_mode("key password", pw_file)?;
    }
    let password = read_password(settings)?;
    load_files(
        &settings.cert_file,
        &settings.key_file,
        password.as_ref().map(|p| p.as_bytes()),
        !settings.allow_insecure_key_permissions,
        settings.expiry_warning,
        now,
    )
}

/// Loads and validates a certificate chain and key from explicit paths.
pub fn load_files(
    cert_file: &Path,
    key_file: &Path,
    password: Option<&[u8]>,
    check_perms: bool,
    expiry_warning: Duration,
    now: SystemTime,
) -> Result<LoadedCert> {
    let cert_pem = read_file("certificate", cert_file)?;
    let key_pem = read_file("private key", key_file)?;
    if check_perms {
        check_permissions(cert_file, key_file)?;
    }
    let chain = parse_certificates("server certificate", cert_file, &cert_pem)?;
    let key_der = parse_private_key(key_file, &key_pem, password)?;
    let key = load_signing_key(key_file, key_der)?;

    let mut report = LoadReport::default();
    let leaf_der = chain.first().ok_or_else(|| TlsError::NoCertificate {
        path: cert_file.to_path_buf(),
    })?;
    let leaf = parse_x509(cert_file, 0, leaf_der)?;
    match key_matches_cert(key.as_ref(), &leaf) {
        KeyMatch::Match => {}
        KeyMatch::Mismatch => {
            return Err(TlsError::KeyMismatch {
                cert: cert_file.to_path_buf(),
                key: key_file.to_path_buf(),
            })
        }
        KeyMatch::Unknown => report.warnings.push(format!(
            "could not verify that the key in {} matches the certificate in {}",
            key_file.display(),
            cert_file.display()
        )),
    }
    check_validity(cert_file, &chain, now, expiry_warning, &mut report)?;
    let key_alg = format!("{:?}", key.algorithm());
    let info = cert_info(leaf_der.as_ref(), &leaf, &key_alg, chain.len());
    let certified_key = Arc::new(CertifiedKey::new(chain, key));
    Ok(LoadedCert {
        certified_key,
        info,
        report,
    })
}

/// Paths a loader depends on (for watching).
pub fn watched_paths(settings: &TlsSettings) -> Vec<PathBuf> {
    let mut v = vec![settings.cert_file.clone(), settings.key_file.clone()];
    if let Some(ca) = &settings.client_ca_file {
        v.push(ca.clone());
    }
    if let Some(pw) = &settings.key_password_file {
        v.push(pw.clone());
    }
    v
}

/// The names a verified client certificate gives for its holder, to map it to a user: the
/// subject's common names, then the DNS and e-mail SANs (bare, without a `DNS:` prefix).
/// `None` when the client sent no certificate (or it does not parse). Call it only on a
/// connection whose handshake completed: rustls has then verified the chain against the
/// client CA (`--tls-client-ca-file`).
pub fn client_identity(conn: &rustls::ServerConnection) -> Option<Vec<String>> {
    let leaf = conn.peer_certificates()?.first()?;
    let (_, cert) = X509Certificate::from_der(leaf.as_ref()).ok()?;
    let mut names: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .map(str::to_string)
        .collect();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(d) | GeneralName::RFC822Name(d) => names.push(d.to_string()),
                _ => {}
            }
        }
    }
    names.dedup();
    Some(names)
}

/// [`crate::DEFAULT_EXPIRY_WARNING`] in seconds.
pub const DEFAULT_EXPIRY_WARNING_SECS: i64 = 14 * 86_400;

/// Describes any DER certificate (for example a client certificate from
/// `ServerConnection::peer_certificates()`, to log or map the client identity).
pub fn describe_certificate(der: &CertificateDer<'_>) -> Option<CertInfo> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let alg = cert.public_key().algorithm.algorithm.to_id_string();
    let alg = match alg.as_str() {
        "1.2.840.113549.1.1.1" => "RSA".to_string(),
        "1.2.840.10045.2.1" => "ECDSA".to_string(),
        "1.3.101.112" => "ED25519".to_string(),
        _ => alg,
    };
    Some(cert_info(der.as_ref(), &cert, &alg, 1))
}
