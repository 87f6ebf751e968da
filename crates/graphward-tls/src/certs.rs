//! Certificate tooling behind `graphward certs generate` and `graphward certs check`.

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, RootCertStore};
use serde::Serialize;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::config::load_client_roots;
use crate::error::{Result, TlsError};
use crate::load::{
    check_permissions, format_unix, key_matches_cert, load_signing_key, parse_certificates,
    parse_private_key, read_file, sha256_fingerprint, unix_secs, KeyMatch,
    DEFAULT_EXPIRY_WARNING_SECS,
};

/// A subject alternative name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum San {
    /// A DNS name (wildcards allowed: `*.example.com`).
    Dns(String),
    /// An IP address.
    Ip(IpAddr),
}

impl std::str::FromStr for San {
    type Err = String;
    /// Accepts `DNS:name`, `IP:addr`, or a bare name / address.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("ip:") {
            return rest
                .parse::<IpAddr>()
                .map(San::Ip)
                .map_err(|e| format!("invalid IP address '{rest}': {e}"));
        }
        let name = if lower.starts_with("dns:") {
            s.get(4..).unwrap_or("")
        } else {
            s
        };
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Ok(San::Ip(ip));
        }
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("invalid DNS name '{name}'"));
        }
        Ok(San::Dns(name.to_string()))
    }
}

impl fmt::Display for San {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            San::Dns(d) => write!(f, "DNS:{d}"),
            San::Ip(i) => write!(f, "IP:{i}"),
        }
    }
}

/// Files written by [`generate`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GeneratedFiles {
    /// CA certificate (absent for a self-signed server certificate).
    pub ca_cert: Option<PathBuf>,
    /// CA private key, mode 0600 (absent for a self-signed server certificate).
    pub ca_key: Option<PathBuf>,
    /// Server certificate chain (leaf, then CA).
    pub server_cert: PathBuf,
    /// Server private key, mode 0600, encrypted PKCS#8 when a password was given.
    pub server_key: PathBuf,
    /// SHA-256 fingerprint of the server certificate.
    pub fingerprint_sha256: String,
    /// Expiry of the server certificate, RFC 3339.
    pub not_after: String,
}

/// PBKDF2 iterations used when encrypting generated keys.
pub const PBKDF2_ITERATIONS: u32 = 100_000;

fn gen_err(e: impl fmt::Display) -> TlsError {
    TlsError::Generate(e.to_string())
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let werr = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(mode);
    }
    let file = opts.open(path).map_err(werr)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(werr)?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    use std::io::Write;
    let mut file = file;
    file.write_all(contents).map_err(werr)?;
    file.sync_all().map_err(werr)
}

/// Encrypts a PKCS#8 DER key with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and returns PEM
/// (`ENCRYPTED PRIVATE KEY`).
pub fn encrypt_pkcs8_pem(pkcs8_der: &[u8], password: &str, iterations: u32) -> Result<String> {
    use pkcs8::der::Decode;
    let rng = aws_lc_rs::rand::SystemRandom::new();
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    aws_lc_rs::rand::SecureRandom::fill(&rng, &mut salt).map_err(gen_err)?;
    aws_lc_rs::rand::SecureRandom::fill(&rng, &mut iv).map_err(gen_err)?;
    let params = pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(iterations, &salt, &iv)
        .map_err(gen_err)?;
    let info = pkcs8::PrivateKeyInfo::from_der(pkcs8_der).map_err(gen_err)?;
    let doc = info
        .encrypt_with_params(params, password.as_bytes())
        .map_err(gen_err)?;
    let pem = doc
        .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
        .map_err(gen_err)?;
    Ok(pem.to_string())
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "graphward");
    dn.push(DnType::CommonName, cn);
    dn
}

fn validity(params: &mut CertificateParams, days: u32) {
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(i64::from(days));
}

/// Generates a server certificate and key (ECDSA P-256) in `out_dir`, created if missing.
///
/// * `self_signed = false`: a CA (`ca.pem`, `ca.key`) and a server certificate signed by it;
///   `server.pem` holds the chain (leaf, then CA). Clients trust `ca.pem`.
/// * `self_signed = true`: `server.pem` is a self-signed leaf; clients trust it directly.
///
/// Keys are written mode 0600; `server.key` is encrypted PKCS#8 (PBES2, AES-256-CBC,
/// PBKDF2-SHA256) when `key_password` is given. `days` is the validity of both certificates.
pub fn generate(
    out_dir: &Path,
    sans: Vec<San>,
    days: u32,
    self_signed: bool,
    key_password: Option<String>,
) -> Result<GeneratedFiles> {
    if days == 0 {
        return Err(TlsError::Generate("validity must be at least 1 day".into()));
    }
    if sans.is_empty() {
        return Err(TlsError::Generate(
            "at least one subject alternative name is needed (e.g. DNS:localhost)".into(),
        ));
    }
    std::fs::create_dir_all(out_dir).map_err(|source| TlsError::Write {
        path: out_dir.to_path_buf(),
        source,
    })?;

    let mut san_types = Vec::new();
    for s in &sans {
        san_types.push(match s {
            San::Dns(d) => SanType::DnsName(d.clone().try_into().map_err(gen_err)?),
            San::Ip(ip) => SanType::IpAddress(*ip),
        });
    }
    let cn = match sans.first() {
        Some(San::Dns(d)) => d.clone(),
        Some(San::Ip(ip)) => ip.to_string(),
        None => "graphward".to_string(),
    };

    let mut leaf = CertificateParams::default();
    leaf.distinguished_name = dn(&cn);
    leaf.subject_alt_names = san_types;
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.use_authority_key_identifier_extension = !self_signed;
    validity(&mut leaf, days);
    let leaf_key = KeyPair::generate().map_err(gen_err)?;

    let server_cert = out_dir.join("server.pem");
    let server_key = out_dir.join("server.key");
    let mut ca_cert_path = None;
    let mut ca_key_path = None;

    let (leaf_der, chain_pem) = if self_signed {
        let cert = leaf.self_signed(&leaf_key).map_err(gen_err)?;
        (cert.der().clone(), cert.pem())
    } else {
        let mut ca = CertificateParams::default();
        ca.distinguished_name = dn("graphward local CA");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        validity(&mut ca, days);
        let ca_key = KeyPair::generate().map_err(gen_err)?;
        let ca_cert = ca.self_signed(&ca_key).map_err(gen_err)?;
        let ca_pem = ca_cert.pem();
        let issuer = Issuer::new(ca, &ca_key);
        let cert = leaf.signed_by(&leaf_key, &issuer).map_err(gen_err)?;
        let p = out_dir.join("ca.pem");
        write_file(&p, ca_pem.as_bytes(), 0o644)?;
        ca_cert_path = Some(p);
        let p = out_dir.join("ca.key");
        write_file(&p, ca_key.serialize_pem().as_bytes(), 0o600)?;
        ca_key_path = Some(p);
        (cert.der().clone(), format!("{}{}", cert.pem(), ca_pem))
    };

    let key_pem = match &key_password {
        Some(pw) => encrypt_pkcs8_pem(leaf_key.serialized_der(), pw, PBKDF2_ITERATIONS)?,
        None => leaf_key.serialize_pem(),
    };
    write_file(&server_cert, chain_pem.as_bytes(), 0o644)?;
    write_file(&server_key, key_pem.as_bytes(), 0o600)?;

    let not_after = X509Certificate::from_der(leaf_der.as_ref())
        .map(|(_, c)| format_unix(c.validity().not_after.timestamp()))
        .unwrap_or_default();
    Ok(GeneratedFiles {
        ca_cert: ca_cert_path,
        ca_key: ca_key_path,
        server_cert,
        server_key,
        fingerprint_sha256: sha256_fingerprint(leaf_der.as_ref()),
        not_after,
    })
}

/// One line of `graphward certs check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckLine {
    /// What was checked.
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// Details or the reason of the failure.
    pub detail: String,
}

impl CheckLine {
    fn new(name: &str, ok: bool, detail: impl Into<String>) -> Self {
        CheckLine {
            name: name.to_string(),
            ok,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for CheckLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}: {}",
            if self.ok { " OK " } else { "FAIL" },
            self.name,
            self.detail
        )
    }
}

/// Checks a certificate/key pair: certificate, key, match, chain (against `ca`), expiry,
/// SANs, `host`name and permissions. Never fails: every problem is a `CheckLine` with
/// `ok = false`.
pub fn check(cert: &Path, key: &Path, ca: Option<&Path>, host: Option<&str>) -> Vec<CheckLine> {
    check_with_password(cert, key, ca, host, None)
}

/// [`check`] for an encrypted key.
pub fn check_with_password(
    cert: &Path,
    key: &Path,
    ca: Option<&Path>,
    host: Option<&str>,
    key_password: Option<&str>,
) -> Vec<CheckLine> {
    check_at(cert, key, ca, host, key_password, SystemTime::now())
}

/// [`check_with_password`] at a given time (for tests).
pub fn check_at(
    cert: &Path,
    key: &Path,
    ca: Option<&Path>,
    host: Option<&str>,
    key_password: Option<&str>,
    now: SystemTime,
) -> Vec<CheckLine> {
    let mut out = Vec::new();

    let chain = match read_file("certificate", cert)
        .and_then(|pem| parse_certificates("server certificate", cert, &pem))
    {
        Ok(c) => c,
        Err(e) => {
            out.push(CheckLine::new("certificate", false, e.to_string()));
            Vec::new()
        }
    };
    let leaf_der = chain.first().cloned();
    let leaf = leaf_der
        .as_ref()
        .and_then(|d| X509Certificate::from_der(d.as_ref()).ok().map(|(_, c)| c));
    if let Some(l) = &leaf {
        out.push(CheckLine::new(
            "certificate",
            true,
            format!(
                "{} certificate(s); leaf subject {}, issuer {}, X.509 v{}, SHA-256 {}",
                chain.len(),
                l.subject(),
                l.issuer(),
                l.version().0 + 1,
                leaf_der
                    .as_ref()
                    .map(|d| sha256_fingerprint(d.as_ref()))
                    .unwrap_or_default()
            ),
        ));
    }

    let signing_key = read_file("private key", key)
        .and_then(|pem| parse_private_key(key, &pem, key_password.map(str::as_bytes)))
        .and_then(|der| load_signing_key(key, der));
    match &signing_key {
        Ok(k) => out.push(CheckLine::new(
            "private key",
            true,
            format!("{:?} key", k.algorithm()),
        )),
        Err(e) => out.push(CheckLine::new("private key", false, e.to_string())),
    }

    if let (Some(l), Ok(k)) = (&leaf, &signing_key) {
        out.push(match key_matches_cert(k.as_ref(), l) {
            KeyMatch::Match => CheckLine::new("key match", true, "the key matches the certificate"),
            KeyMatch::Mismatch => CheckLine::new(
                "key match",
                false,
                TlsError::KeyMismatch {
                    cert: cert.to_path_buf(),
                    key: key.to_path_buf(),
                }
                .to_string(),
            ),
            KeyMatch::Unknown => {
                CheckLine::new("key match", false, "could not derive the key's public key")
            }
        });
    }

    if let Some(l) = &leaf {
        let now_s = unix_secs(now);
        let nb = l.validity().not_before.timestamp();
        let na = l.validity().not_after.timestamp();
        let line = if now_s > na {
            CheckLine::new("expiry", false, format!("expired at {}", format_unix(na)))
        } else if now_s < nb {
            CheckLine::new(
                "expiry",
                false,
                format!("not valid before {}", format_unix(nb)),
            )
        } else {
            let left = na.saturating_sub(now_s);
            let days = left / 86_400;
            let warn = left <= DEFAULT_EXPIRY_WARNING_SECS;
            CheckLine::new(
                "expiry",
                true,
                format!(
                    "valid until {} ({days} days left){}",
                    format_unix(na),
                    if warn { " WARNING: renew soon" } else { "" }
                ),
            )
        };
        out.push(line);

        let sans = crate::load::cert_info(&[], l, "", 0).sans;
        out.push(if sans.is_empty() {
            CheckLine::new(
                "subject alternative names",
                false,
                "none: clients verify names against SANs only, add DNS:/IP: names",
            )
        } else {
            CheckLine::new("subject alternative names", true, sans.join(", "))
        });
    }

    if let Some(leaf_der) = &leaf_der {
        out.push(check_chain(&chain, leaf_der, ca, leaf.as_ref(), now));
        if let Some(h) = host {
            out.push(check_host(leaf_der, h));
        }
    }

    out.push(match check_permissions(cert, key) {
        Ok(()) => CheckLine::new(
            "permissions",
            true,
            "key 0600 or stricter, certificate not writable by group/others",
        ),
        Err(e) => CheckLine::new("permissions", false, e.to_string()),
    });
    out
}

fn check_chain(
    chain: &[CertificateDer<'static>],
    leaf_der: &CertificateDer<'static>,
    ca: Option<&Path>,
    leaf: Option<&X509Certificate<'_>>,
    now: SystemTime,
) -> CheckLine {
    let Some(ca) = ca else {
        let self_signed = leaf.is_some_and(|l| l.subject().as_raw() == l.issuer().as_raw());
        return CheckLine::new(
            "chain",
            true,
            if self_signed {
                "self-signed: clients must trust this certificate itself (no CA given)"
            } else {
                "skipped (no CA given)"
            },
        );
    };
    let roots: RootCertStore = match load_client_roots(ca) {
        Ok(r) => r,
        Err(e) => return CheckLine::new("chain", false, e.to_string().replace("client CA", "CA")),
    };
    let verifier = match WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(crate::load::provider()),
    )
    .build()
    {
        Ok(v) => v,
        Err(e) => return CheckLine::new("chain", false, e.to_string()),
    };
    let intermediates = chain.get(1..).unwrap_or(&[]);
    let name = ServerName::try_from("chain-check.invalid").map(|n| n.to_owned());
    let Ok(name) = name else {
        return CheckLine::new("chain", false, "internal error: bad placeholder name");
    };
    let when = UnixTime::since_unix_epoch(
        now.duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO),
    );
    use rustls::client::danger::ServerCertVerifier;
    match verifier.verify_server_cert(leaf_der, intermediates, &name, &[], when) {
        Ok(_) => CheckLine::new("chain", true, format!("verified against {}", ca.display())),
        Err(rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => CheckLine::new("chain", true, format!("verified against {}", ca.display())),
        Err(e) => CheckLine::new(
            "chain",
            false,
            format!("does not verify against {}: {e}", ca.display()),
        ),
    }
}

fn check_host(leaf_der: &CertificateDer<'static>, host: &str) -> CheckLine {
    let name = match ServerName::try_from(host.to_string()) {
        Ok(n) => n,
        Err(e) => {
            return CheckLine::new(
                "hostname",
                false,
                format!("'{host}' is not a valid name: {e}"),
            )
        }
    };
    let parsed = match ParsedCertificate::try_from(leaf_der) {
        Ok(p) => p,
        Err(e) => {
            return CheckLine::new(
                "hostname",
                false,
                format!("cannot check names on this certificate: {e}"),
            )
        }
    };
    match rustls::client::verify_server_name(&parsed, &name) {
        Ok(()) => CheckLine::new("hostname", true, format!("valid for {host}")),
        Err(e) => CheckLine::new("hostname", false, format!("not valid for {host}: {e}")),
    }
}
