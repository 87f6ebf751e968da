//! Opening the connection: TCP, optional TLS (rustls, aws-lc-rs), the Bolt handshake, and
//! turning every way this can fail into a sentence that says what to do.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use graphward_packstream::handshake::Version;
use graphward_tls::rustls;
use graphward_tls::tokio_rustls::TlsConnector;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use tokio::net::TcpStream;

use crate::client::{self, HandshakeReply, Io};
use crate::error::ShellError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// How the server's certificate is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Against the operating system's trusted roots.
    SystemRoots,
    /// Against the CA certificates in this PEM file.
    CaFile(PathBuf),
    /// Any certificate is accepted (encryption without authentication, like `bolt+ssc`).
    Insecure,
}

/// Where to connect.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: Option<TlsMode>,
}

impl Target {
    fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// TCP (+ TLS) + Bolt handshake. Returns the stream and the version the server chose.
pub async fn open(target: &Target) -> Result<(Box<dyn Io>, Version), ShellError> {
    let addr = target.address();
    // Resolve first, so a name that does not resolve is told apart by where it failed (never
    // by the error's text).
    let resolved: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::lookup_host(&addr)).await {
            Err(_) => {
                return Err(ShellError::Connect(format!(
                    "timed out resolving the host in {addr}"
                )))
            }
            Ok(Err(e)) => {
                return Err(ShellError::Connect(format!(
                    "cannot resolve the host in {addr}: {e}"
                )))
            }
            Ok(Ok(found)) => found.collect(),
        };
    if resolved.is_empty() {
        return Err(ShellError::Connect(format!(
            "cannot resolve the host in {addr}: no address found"
        )));
    }
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&resolved[..])).await {
        Err(_) => {
            return Err(ShellError::Connect(format!(
                "timed out connecting to {addr}: check --host/--port and any firewall"
            )))
        }
        Ok(Err(e)) => return Err(ShellError::Connect(tcp_error(&addr, &e))),
        Ok(Ok(s)) => s,
    };
    let _ = tcp.set_nodelay(true);
    let mut io: Box<dyn Io> = match &target.tls {
        None => Box::new(tcp),
        Some(mode) => Box::new(tls_connect(target, mode, tcp).await?),
    };
    let reply = client::handshake(&mut io)
        .await
        .map_err(|e| ShellError::Connect(format!("Bolt handshake with {addr} failed: {e}")))?;
    let plain = target.tls.is_none();
    match reply {
        HandshakeReply::Version(v) => Ok((io, v)),
        HandshakeReply::TlsRecord => Err(ShellError::Connect(format!(
            "server requires TLS: add --use-ssl (the server at {addr} answered with TLS)"
        ))),
        HandshakeReply::NoVersion if plain => Err(ShellError::Connect(format!(
            "server requires TLS: add --use-ssl (the server at {addr} refused the plaintext \
             Bolt handshake)"
        ))),
        HandshakeReply::NoVersion => Err(ShellError::Connect(format!(
            "the server at {addr} speaks none of the Bolt versions this shell offers \
             (4.1-4.4, 5.0-5.8)"
        ))),
        HandshakeReply::Closed if plain => Err(ShellError::Connect(format!(
            "the server at {addr} closed the connection during the Bolt handshake; if it \
             requires TLS, add --use-ssl"
        ))),
        HandshakeReply::Closed => Err(ShellError::Connect(format!(
            "the server at {addr} closed the connection during the Bolt handshake"
        ))),
        HandshakeReply::Other(bytes) => Err(ShellError::Connect(format!(
            "{addr} is not a Bolt server (handshake answer {})",
            client::describe_reply(bytes)
        ))),
    }
}

fn tcp_error(addr: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => format!(
            "connection refused: nothing listens on {addr}; is graphward running? check \
             --host/--port"
        ),
        TimedOut => format!("timed out connecting to {addr}: check --host/--port and any firewall"),
        _ => format!("cannot connect to {addr}: {e}"),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The rustls client configuration for `mode`.
pub fn client_config(mode: &TlsMode) -> Result<rustls::ClientConfig, ShellError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| ShellError::Connect(format!("TLS setup failed: {e}")))?;
    let config = match mode {
        TlsMode::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
            .with_no_client_auth(),
        TlsMode::CaFile(path) => builder
            .with_root_certificates(roots_from_file(path)?)
            .with_no_client_auth(),
        TlsMode::SystemRoots => builder
            .with_root_certificates(system_roots()?)
            .with_no_client_auth(),
    };
    Ok(config)
}

fn roots_from_file(path: &Path) -> Result<RootCertStore, ShellError> {
    let shown = path.display();
    let data = std::fs::read(path)
        .map_err(|e| ShellError::Connect(format!("cannot read --ca-file {shown}: {e}")))?;
    let mut roots = RootCertStore::empty();
    let mut found = 0usize;
    for cert in CertificateDer::pem_slice_iter(&data) {
        let cert = cert
            .map_err(|e| ShellError::Connect(format!("--ca-file {shown} is not valid PEM: {e}")))?;
        found += 1;
        roots.add(cert).map_err(|e| {
            ShellError::Connect(format!(
                "--ca-file {shown} holds a certificate that cannot be used as a CA: {e}"
            ))
        })?;
    }
    if found == 0 {
        return Err(ShellError::Connect(format!(
            "--ca-file {shown} holds no CERTIFICATE block (expected PEM)"
        )));
    }
    Ok(roots)
}

fn system_roots() -> Result<RootCertStore, ShellError> {
    let loaded = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(loaded.certs);
    if added == 0 {
        return Err(ShellError::Connect(
            "no trusted root certificates found on this system: pass --ca-file (or --insecure)"
                .into(),
        ));
    }
    Ok(roots)
}

async fn tls_connect(
    target: &Target,
    mode: &TlsMode,
    tcp: TcpStream,
) -> Result<graphward_tls::tokio_rustls::client::TlsStream<TcpStream>, ShellError> {
    let config = client_config(mode)?;
    let host = target.host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string()).map_err(|_| {
        ShellError::Connect(format!(
            "--host {host} is neither a DNS name nor an IP address usable with TLS"
        ))
    })?;
    let connector = TlsConnector::from(Arc::new(config));
    let handshake = connector.connect(name, tcp);
    match tokio::time::timeout(CONNECT_TIMEOUT, handshake).await {
        Err(_) => Err(ShellError::Connect(format!(
            "TLS handshake with {} timed out; is the port serving TLS? try without --use-ssl",
            target.address()
        ))),
        Ok(Err(e)) => Err(ShellError::Connect(tls_error(target, mode, &e))),
        Ok(Ok(s)) => Ok(s),
    }
}

/// Turns a failed TLS handshake into an actionable sentence.
fn tls_error(target: &Target, mode: &TlsMode, e: &std::io::Error) -> String {
    let addr = target.address();
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    let trust_hint = match mode {
        TlsMode::CaFile(p) => format!(
            "certificate is not trusted: it is not signed by a CA in --ca-file {}; pass the CA \
             that signed the server's certificate, or --insecure",
            p.display()
        ),
        _ => "certificate is not trusted: pass --ca-file or --insecure".to_string(),
    };
    match inner {
        Some(rustls::Error::InvalidCertificate(ce)) => match ce {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => trust_hint,
            CertificateError::NotValidForNameContext { presented, .. } => {
                let names: Vec<String> = presented.iter().map(|n| clean_name(n)).collect();
                let names = if names.is_empty() {
                    "no host name at all (it has no subjectAltName)".to_string()
                } else {
                    names.join(", ")
                };
                format!(
                    "certificate is for {names}, not {}: connect with --host set to a name \
                     the certificate carries, or fix the certificate",
                    target.host
                )
            }
            CertificateError::NotValidForName => format!(
                "certificate is not for {}: connect with --host set to a name the \
                 certificate carries, or fix the certificate",
                target.host
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "the server's certificate has expired: the operator must renew it \
                 (or pass --insecure)"
                    .to_string()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "the server's certificate is not valid yet: check the clocks (or pass --insecure)"
                    .to_string()
            }
            other => format!("the server's certificate was refused: {other}"),
        },
        Some(rustls::Error::AlertReceived(alert)) => format!(
            "the server at {addr} aborted the TLS handshake ({alert:?}); it may require a \
             client certificate or a newer TLS version"
        ),
        Some(other) => format!("TLS handshake with {addr} failed: {other}"),
        None => match e.kind() {
            std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::BrokenPipe => format!(
                "TLS handshake with {addr} failed: the server closed the connection; it probably \
                 does not use TLS on this port: try without --use-ssl"
            ),
            _ => format!("TLS handshake with {addr} failed: {e}"),
        },
    }
}

/// `DnsName("a.example")` -> `a.example`, `IpAddress(127.0.0.1)` -> `127.0.0.1`.
fn clean_name(n: &str) -> String {
    for prefix in ["DnsName(", "IpAddress(", "UniformResourceIdentifier("] {
        if let Some(rest) = n.strip_prefix(prefix) {
            return rest.trim_end_matches(')').trim_matches('"').to_string();
        }
    }
    n.to_string()
}

/// `--insecure`: any certificate is accepted, but the handshake signatures are still checked
/// (the session is encrypted, just not authenticated), as Neo4j's `bolt+ssc` does.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_names_are_cleaned() {
        assert_eq!(clean_name("DnsName(\"db.example\")"), "db.example");
        assert_eq!(clean_name("IpAddress(10.0.0.1)"), "10.0.0.1");
        assert_eq!(clean_name("weird"), "weird");
    }

    #[test]
    fn ca_file_errors_are_clear() {
        let dir = std::env::temp_dir().join(format!("gw-shell-ca-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let missing = dir.join("missing.pem");
        let e = client_config(&TlsMode::CaFile(missing))
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("cannot read --ca-file"));
        let empty = dir.join("empty.pem");
        let _ = std::fs::write(&empty, "not pem at all\n");
        let e = client_config(&TlsMode::CaFile(empty))
            .err()
            .map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("no CERTIFICATE block"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn insecure_config_builds() {
        assert!(client_config(&TlsMode::Insecure).is_ok());
    }
}
