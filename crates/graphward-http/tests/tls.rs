//! `serve` with a TlsManager: HTTPS answers, plaintext HTTP is refused with 400, the TLS status
//! shows in /health and /metrics. And without TLS: a TLS ClientHello on the plaintext port is
//! closed and counted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;

use graphward_core::auth::AllowAll;
use graphward_core::engine::{DatabaseInfo, QueryEngine, Transaction, TxOptions};
use graphward_core::{Error, ErrorCode};
use graphward_http::{serve, HttpState};
use graphward_tls::rustls::{self, pki_types::CertificateDer, ClientConfig, RootCertStore};
use graphward_tls::{San, TlsManager, TlsSettings};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An engine without databases (these tests do not query).
struct NoEngine;
impl QueryEngine for NoEngine {
    fn begin(&self, _: TxOptions) -> graphward_core::Result<Box<dyn Transaction>> {
        Err(Error::new(ErrorCode::DatabaseNotFound, "no databases"))
    }
    fn default_database(&self) -> String {
        "neo4j".into()
    }
    fn databases(&self) -> Vec<DatabaseInfo> {
        Vec::new()
    }
    /// Everything is allowed: these tests read `/metrics` (which needs the METRICS privilege)
    /// without an authorization table.
    fn authorize(
        &self,
        _: &graphward_core::engine::Principal,
        _: &graphward_core::commands::Command,
    ) -> graphward_core::Result<()> {
        Ok(())
    }
}

async fn start(tls: Option<Arc<TlsManager>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut state = HttpState::new(Arc::new(NoEngine), Arc::new(AllowAll));
    state.tls_managers = tls.iter().cloned().collect();
    tokio::spawn(serve(listener, tls, state));
    addr
}

async fn get<S: AsyncRead + AsyncWrite + Unpin>(mut s: S, path: &str) -> String {
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn https_serves_and_plaintext_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = graphward_tls::generate(
        dir.path(),
        vec![San::Dns("localhost".into())],
        30,
        false,
        None,
    )
    .unwrap();
    let settings = TlsSettings::new(&files.server_cert, &files.server_key);
    let (manager, _) = TlsManager::new("http", settings).unwrap();
    let manager = Arc::new(manager);
    let addr = start(Some(manager.clone())).await;

    let ca = std::fs::read(files.ca_cert.as_ref().unwrap()).unwrap();
    let mut roots = RootCertStore::empty();
    use rustls::pki_types::pem::PemObject;
    for c in CertificateDer::pem_slice_iter(&ca) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let connector = graphward_tls::tokio_rustls::TlsConnector::from(config);
    let tls_get = |path: &'static str| {
        let connector = connector.clone();
        async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            get(connector.connect(name, tcp).await.unwrap(), path).await
        }
    };

    let ping = tls_get("/ping").await;
    assert!(ping.starts_with("HTTP/1.1 204"), "{ping}");
    assert!(
        ping.to_ascii_lowercase().contains("x-graphward-version"),
        "{ping}"
    );

    let plain = get(TcpStream::connect(addr).await.unwrap(), "/ping").await;
    assert!(plain.starts_with("HTTP/1.1 400"), "{plain}");
    assert!(plain.contains("requires TLS"), "{plain}");

    let health = tls_get("/health").await;
    assert!(health.contains("\"listener\":\"http\""), "{health}");
    assert!(health.contains("\"expires_in_seconds\":"), "{health}");
    assert!(health.contains(&files.fingerprint_sha256), "{health}");

    let metrics = tls_get("/metrics").await;
    assert!(
        metrics.contains(
            "graphward_tls_handshake_failures_total{listener=\"http\",reason=\"plaintext_http\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("graphward_tls_certificate_not_after_seconds{listener=\"http\"}"),
        "{metrics}"
    );
    assert!(!metrics.contains("graphward_tls_handshakes_total{listener=\"http\",result=\"ok\"} 0"));
}

#[tokio::test]
async fn tls_client_hello_on_the_plaintext_port_is_closed() {
    let addr = start(None).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    // The start of a TLS 1.2 ClientHello record.
    s.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00])
        .await
        .unwrap();
    let mut buf = Vec::new();
    let n = s.read_to_end(&mut buf).await.unwrap_or(0);
    assert_eq!(
        n, 0,
        "expected the connection to be closed without an answer"
    );
    let metrics = get(TcpStream::connect(addr).await.unwrap(), "/metrics").await;
    assert!(
        metrics.contains("graphward_http_tls_on_plaintext_port_total 1"),
        "{metrics}"
    );
}
