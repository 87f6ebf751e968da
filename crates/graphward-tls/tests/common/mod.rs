//! Test helpers: certificates with rcgen, files with modes, TLS clients, an echo server.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use graphward_tls::rustls;
use graphward_tls::{TlsManager, TlsSettings};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

pub fn openssl(args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

pub fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub struct Ca {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub pem: String,
    pub der: CertificateDer<'static>,
}

pub fn make_ca(name: &str) -> Ca {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        der: cert.der().clone(),
        params,
        key,
    }
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A leaf for `localhost`/127.0.0.1 signed by `ca`; returns the chain PEM (leaf + CA).
pub fn leaf_pem(
    ca: &Ca,
    key: &KeyPair,
    cn: &str,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
) -> String {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, cn);
    params.subject_alt_names = vec![
        SanType::DnsName("localhost".try_into().unwrap()),
        SanType::IpAddress("127.0.0.1".parse().unwrap()),
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.not_before = not_before;
    params.not_after = not_after;
    let issuer = Issuer::from_params(&ca.params, &ca.key);
    let cert = params.signed_by(key, &issuer).unwrap();
    format!("{}{}", cert.pem(), ca.pem)
}

pub fn valid_leaf(ca: &Ca, key: &KeyPair, cn: &str) -> String {
    leaf_pem(
        ca,
        key,
        cn,
        now() - time::Duration::hours(1),
        now() + time::Duration::days(90),
    )
}

pub fn pem(label: &str, der: &[u8]) -> String {
    pkcs8::der::pem::encode_string(label, pkcs8::LineEnding::LF, der).unwrap()
}

/// A fresh directory with ca.pem, server.pem (chain) and server.key (PKCS#8, 0600).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub ca: Ca,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca_file: PathBuf,
}

pub fn fixture(cn: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_ca("test CA");
    let key = KeyPair::generate().unwrap();
    let chain = valid_leaf(&ca, &key, cn);
    let cert = write(dir.path(), "server.pem", chain, 0o644);
    let keyf = write(dir.path(), "server.key", key.serialize_pem(), 0o600);
    let ca_file = write(dir.path(), "ca.pem", &ca.pem, 0o644);
    Fixture {
        dir,
        ca,
        cert,
        key: keyf,
        ca_file,
    }
}

impl Fixture {
    pub fn settings(&self) -> TlsSettings {
        TlsSettings::new(&self.cert, &self.key)
    }

    /// Replaces server.pem/server.key with a new leaf from the same CA.
    pub fn rotate(&self, cn: &str) {
        let key = KeyPair::generate().unwrap();
        let chain = valid_leaf(&self.ca, &key, cn);
        write(self.dir.path(), "server.pem", chain, 0o644);
        write(self.dir.path(), "server.key", key.serialize_pem(), 0o600);
    }
}

pub fn client_config(ca_pem: &str) -> Arc<ClientConfig> {
    client_config_versions(ca_pem, rustls::ALL_VERSIONS)
}

pub fn client_config_versions(
    ca_pem: &str,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// Accepts any server certificate (for X.509 v1, which webpki refuses on the client side).
#[derive(Debug)]
pub struct AcceptAnything(pub Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    // webpki refuses to parse X.509 v1 certificates even for signature checks, so this test
    // client accepts handshake signatures too; the openssl s_client test covers verification.
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

pub fn insecure_client_config() -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider)))
            .with_no_client_auth(),
    )
}

/// An echo server over `manager` using `accept_tls`; returns its address.
pub async fn echo_server(manager: Arc<TlsManager>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sem = Arc::new(tokio::sync::Semaphore::new(16));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let m = Arc::clone(&manager);
            let sem = Arc::clone(&sem);
            tokio::spawn(async move {
                let Ok(mut tls) =
                    graphward_tls::accept_tls(&m, stream, Duration::from_secs(5), &sem).await
                else {
                    return;
                };
                let mut buf = [0u8; 1024];
                loop {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => {
                            if tls.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                            let _ = tls.flush().await;
                        }
                    }
                }
            });
        }
    });
    addr
}

pub type ClientStream = graphward_tls::tokio_rustls::client::TlsStream<TcpStream>;

pub async fn connect(addr: SocketAddr, config: Arc<ClientConfig>) -> std::io::Result<ClientStream> {
    let tcp = TcpStream::connect(addr).await?;
    let connector = graphward_tls::tokio_rustls::TlsConnector::from(config);
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

pub fn peer_fingerprint(s: &ClientStream) -> String {
    let (_, conn) = s.get_ref();
    let leaf = conn.peer_certificates().unwrap().first().unwrap();
    graphward_tls::load::sha256_fingerprint(leaf.as_ref())
}

pub async fn echo(s: &mut ClientStream, msg: &[u8]) -> Vec<u8> {
    s.write_all(msg).await.unwrap();
    s.flush().await.unwrap();
    let mut buf = vec![0u8; msg.len()];
    s.read_exact(&mut buf).await.unwrap();
    buf
}

/// An X.509 v1 self-signed certificate made with `openssl x509 -req` (no extensions).
pub fn v1_cert(dir: &Path) -> (PathBuf, PathBuf) {
    let key = write(
        dir,
        "v1.key",
        KeyPair::generate().unwrap().serialize_pem(),
        0o600,
    );
    let csr = dir.join("v1.csr");
    let cert = dir.join("v1.pem");
    openssl(&[
        "req",
        "-new",
        "-key",
        key.to_str().unwrap(),
        "-subj",
        "/CN=localhost",
        "-out",
        csr.to_str().unwrap(),
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        csr.to_str().unwrap(),
        "-signkey",
        key.to_str().unwrap(),
        "-days",
        "30",
        "-out",
        cert.to_str().unwrap(),
    ]);
    chmod(&cert, 0o644);
    let text = openssl(&["x509", "-in", cert.to_str().unwrap(), "-noout", "-text"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("Version: 1"),
        "openssl did not make a v1 certificate"
    );
    (cert, key)
}
