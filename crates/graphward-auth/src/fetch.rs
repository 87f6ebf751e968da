//! HTTP(S) client side, on `ureq` (rustls with the aws-lc provider, as everywhere else): the
//! blocking HTTPS GET for key material (a PEM key, an HMAC secret, a JWKS), and the agent the
//! administration commands (`graphward config apply`, `backup`, `compact`) talk to a running
//! server with.
//!
//! Servers are verified against the system roots, or against a CA file (given explicitly, or,
//! for key material, named by `SSL_CA_CERT`). Bounded in time and size; redirects are not
//! followed (a key URL that moves is a configuration change, not something to chase).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

pub use ureq;

/// Largest response body accepted for key material.
pub const MAX_BODY: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);

/// The CA bundle environment variable.
pub const CA_ENV: &str = "SSL_CA_CERT";

/// The CA certificates of a PEM file.
pub fn ca_file_roots(path: &Path) -> Result<Vec<Certificate<'static>>, String> {
    let mut roots = Vec::new();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("CA file {}: {e}", path.display()))?;
    for c in certs {
        let c = c.map_err(|e| format!("CA file {}: {e}", path.display()))?;
        roots.push(Certificate::from_der(c.as_ref()).to_owned());
    }
    if roots.is_empty() {
        return Err(format!("CA file {} holds no certificate", path.display()));
    }
    Ok(roots)
}

/// The system's CA certificates.
pub fn system_roots() -> Result<Vec<Certificate<'static>>, String> {
    let found = rustls_native_certs::load_native_certs();
    let roots: Vec<Certificate<'static>> = found
        .certs
        .iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if roots.is_empty() {
        return Err("no system CA certificates found; set SSL_CA_CERT to a CA file".to_string());
    }
    Ok(roots)
}

/// How an [`agent`] behaves.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The roots servers are verified against (empty: plain HTTP only).
    pub roots: Vec<Certificate<'static>>,
    /// Refuse `http://` URLs.
    pub https_only: bool,
    /// Connecting (resolution, TCP, TLS handshake) may take this long.
    pub connect_timeout: Duration,
    /// Each read and write may wait this long (a large download is not limited as a whole).
    pub io_timeout: Duration,
    pub user_agent: &'static str,
}

/// An agent: every HTTP status is an answer (not an error), no redirect is followed, rustls
/// with the aws-lc provider verifies servers against `roots`.
pub fn agent(o: AgentOptions) -> ureq::Agent {
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(RootCerts::Specific(Arc::new(o.roots)))
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .max_redirects(0)
        .https_only(o.https_only)
        .timeout_connect(Some(o.connect_timeout))
        .timeout_per_read(Some(o.io_timeout))
        .timeout_per_write(Some(o.io_timeout))
        .user_agent(o.user_agent)
        .build()
        .into()
}

/// Fetch `url` (https only); `ca_file` (else `SSL_CA_CERT`) overrides the system roots.
pub fn get(url: &str, ca_file: Option<&Path>) -> Result<Vec<u8>, String> {
    if !url.starts_with("https://") {
        return Err(format!("only https:// URLs are fetched, not {url:?}"));
    }
    let env_ca = std::env::var_os(CA_ENV).filter(|v| !v.is_empty());
    let roots = match ca_file
        .map(Path::to_path_buf)
        .or_else(|| env_ca.map(std::path::PathBuf::from))
    {
        Some(path) => ca_file_roots(&path)?,
        None => system_roots()?,
    };
    let agent = agent(AgentOptions {
        roots,
        https_only: true,
        connect_timeout: TIMEOUT,
        io_timeout: TIMEOUT,
        user_agent: "graphward",
    });
    let mut response = agent
        .get(url)
        .config()
        .timeout_global(Some(TIMEOUT * 3))
        .build()
        .call()
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(format!("{url}: HTTP status {status}"));
    }
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY as u64)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                format!("{url}: response larger than {MAX_BODY} bytes")
            }
            e => format!("{url}: {e}"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_is_fetched() {
        assert!(get("http://example.com/key", None).is_err());
        assert!(get("ftp://example.com/key", None).is_err());
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("gw-fetch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("empty.pem");
        std::fs::write(&f, b"nothing here\n").unwrap();
        assert!(ca_file_roots(&f).unwrap_err().contains("no certificate"));
        assert!(ca_file_roots(&dir.join("missing.pem")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
