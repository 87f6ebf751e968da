//! Real handshakes over loopback: reload, policies, client auth, X.509 v1, hygiene helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use graphward_tls::rustls;
use graphward_tls::{
    accept_tls, refuse_plain_bolt, refuse_plain_http, sniff, ClientAuth, FirstBytes,
    HandshakeReason, TlsManager, TlsVersion,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::test]
async fn reload_serves_new_certificate_and_keeps_live_connections() {
    let f = fixture("first");
    let (manager, report) = TlsManager::new("bolt", f.settings()).unwrap();
    assert!(report.warnings.is_empty());
    let manager = Arc::new(manager);
    let fp1 = manager.status().certificate.fingerprint_sha256.clone();
    let addr = echo_server(Arc::clone(&manager)).await;
    let cfg = client_config(&f.ca.pem);

    let mut c1 = connect(addr, Arc::clone(&cfg)).await.unwrap();
    assert_eq!(peer_fingerprint(&c1), fp1);
    assert_eq!(echo(&mut c1, b"hello").await, b"hello");

    // Rotate the files and reload.
    f.rotate("second");
    manager.reload_async().await.unwrap();
    let st = manager.status();
    let fp2 = st.certificate.fingerprint_sha256.clone();
    assert_ne!(fp1, fp2);
    assert!(st.certificate.subject.contains("second"));
    assert_eq!(
        (st.reloads_started, st.reloads_succeeded, st.reloads_failed),
        (1, 1, 0)
    );
    assert!(st.last_reload_error.is_none());

    // New connections see the new certificate...
    let mut c2 = connect(addr, Arc::clone(&cfg)).await.unwrap();
    assert_eq!(peer_fingerprint(&c2), fp2);
    assert_eq!(echo(&mut c2, b"new").await, b"new");
    // ...and the connection accepted before the reload still works.
    assert_eq!(echo(&mut c1, b"still alive").await, b"still alive");
    assert_eq!(peer_fingerprint(&c1), fp1);

    // A broken reload (key of another pair) keeps the current configuration.
    let other = rcgen::KeyPair::generate().unwrap();
    write(f.dir.path(), "server.key", other.serialize_pem(), 0o600);
    let err = manager.reload_async().await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
    let st = manager.status();
    assert_eq!(st.certificate.fingerprint_sha256, fp2);
    assert_eq!(
        (st.reloads_started, st.reloads_succeeded, st.reloads_failed),
        (2, 1, 1)
    );
    assert!(st
        .last_reload_error
        .as_deref()
        .unwrap()
        .contains("does not match"));
    assert!(st.last_reload_error_at.is_some());
    let mut c3 = connect(addr, Arc::clone(&cfg)).await.unwrap();
    assert_eq!(peer_fingerprint(&c3), fp2);
    assert_eq!(echo(&mut c3, b"x").await, b"x");

    // Missing file: same.
    std::fs::remove_file(&f.cert).unwrap();
    let err = manager.reload().unwrap_err();
    assert!(err.to_string().contains("server.pem"), "{err}");
    assert_eq!(manager.status().certificate.fingerprint_sha256, fp2);

    // Fixing the files clears the error.
    f.rotate("third");
    manager.reload().unwrap();
    let st = manager.status();
    assert!(st.last_reload_error.is_none());
    assert!(st.certificate.subject.contains("third"));
    let ok = st.handshakes["ok"];
    assert!(ok >= 3, "{:?}", st.handshakes);
    // The status serializes.
    let json = serde_json::to_string(&st).unwrap();
    assert!(json.contains("fingerprint_sha256"));
}

#[tokio::test]
async fn concurrent_reloads_are_serialized() {
    let f = fixture("conc");
    let (manager, _) = TlsManager::new("http", f.settings()).unwrap();
    let manager = Arc::new(manager);
    let mut handles = Vec::new();
    for _ in 0..8 {
        let m = Arc::clone(&manager);
        handles.push(tokio::task::spawn_blocking(move || m.reload()));
    }
    for h in handles {
        h.await.unwrap().unwrap();
    }
    assert_eq!(manager.reload_counters(), (8, 8, 0));
}

#[tokio::test]
async fn min_version_1_3_refuses_tls12_client() {
    let f = fixture("v13");
    let mut s = f.settings();
    s.min_version = TlsVersion::V1_3;
    let (manager, _) = TlsManager::new("bolt", s).unwrap();
    let manager = Arc::new(manager);
    let addr = echo_server(Arc::clone(&manager)).await;

    let only12 = client_config_versions(&f.ca.pem, &[&rustls::version::TLS12]);
    assert!(connect(addr, only12).await.is_err());
    let only13 = client_config_versions(&f.ca.pem, &[&rustls::version::TLS13]);
    let mut c = connect(addr, only13).await.unwrap();
    assert_eq!(echo(&mut c, b"13").await, b"13");
    // Give the server a moment to count the failure.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        manager
            .handshake_stats()
            .failures(HandshakeReason::Incompatible),
        1
    );

    // The default (1.2) accepts a TLS 1.2-only client.
    let (m12, _) = TlsManager::new("bolt", f.settings()).unwrap();
    let addr = echo_server(Arc::new(m12)).await;
    let only12 = client_config_versions(&f.ca.pem, &[&rustls::version::TLS12]);
    let mut c = connect(addr, only12).await.unwrap();
    assert_eq!(
        c.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    assert_eq!(echo(&mut c, b"12").await, b"12");
}

/// A hand-made TLS 1.2 ClientHello offering exactly `suites`.
fn client_hello(suites: &[u16]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&u16::try_from(suites.len() * 2).unwrap().to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut ext = Vec::new();
    // supported_groups: secp256r1, x25519
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x17, 0x00, 0x1d]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    ext.extend_from_slice(&[
        0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
    ]);
    // extended_master_secret
    ext.extend_from_slice(&[0x00, 0x17, 0x00, 0x00]);
    body.extend_from_slice(&u16::try_from(ext.len()).unwrap().to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&u16::try_from(hs.len()).unwrap().to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

async fn first_record_type(addr: std::net::SocketAddr, hello: &[u8]) -> (u8, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(hello).await.unwrap();
    let mut head = [0u8; 5];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
    let mut body = vec![0u8; len.min(4096)];
    s.read_exact(&mut body).await.unwrap();
    (head[0], body)
}

#[tokio::test]
async fn strict_ciphers_refuse_cbc_suites() {
    let f = fixture("strict");
    let s = f.settings();
    assert!(s.strict_ciphers);
    let names = graphward_tls::cipher_suite_names(&s);
    assert!(names.iter().all(|n| !n.contains("CBC")), "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("TLS13_")), "{names:?}");
    assert!(names
        .iter()
        .filter(|n| !n.starts_with("TLS13_"))
        .all(|n| n.starts_with("TLS_ECDHE_") && (n.contains("GCM") || n.contains("CHACHA20"))));
    let (manager, _) = TlsManager::new("bolt", s).unwrap();
    let manager = Arc::new(manager);
    let addr = echo_server(Arc::clone(&manager)).await;

    // Only CBC suites (ECDHE-ECDSA-AES128-SHA, ECDHE-ECDSA-AES128-SHA256): handshake_failure.
    let (ty, body) = first_record_type(addr, &client_hello(&[0xc009, 0xc023])).await;
    assert_eq!(ty, 0x15, "expected an alert");
    assert_eq!(body, vec![2, 40], "expected fatal handshake_failure");
    // Only a static-RSA GCM suite (no forward secrecy): refused too.
    let (ty, _) = first_record_type(addr, &client_hello(&[0x009c])).await;
    assert_eq!(ty, 0x15);
    // Control: ECDHE-ECDSA-AES128-GCM-SHA256 gets a ServerHello.
    let (ty, body) = first_record_type(addr, &client_hello(&[0xc02b])).await;
    assert_eq!(ty, 0x16, "expected a handshake record");
    assert_eq!(body[0], 2, "expected ServerHello");

    if openssl_available() {
        let a = addr.to_string();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new("openssl")
                .args([
                    "s_client",
                    "-connect",
                    &a,
                    "-tls1_2",
                    "-cipher",
                    "ECDHE-ECDSA-AES128-SHA",
                ])
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(!out.status.success(), "openssl negotiated a CBC suite");
    }
}

#[tokio::test]
async fn openssl_s_client_sees_reloaded_certificate() {
    if !openssl_available() {
        eprintln!("openssl not found: skipping");
        return;
    }
    let f = fixture("ossl-one");
    let (manager, _) = TlsManager::new("bolt", f.settings()).unwrap();
    let manager = Arc::new(manager);
    let addr = echo_server(Arc::clone(&manager)).await;
    let run = |addr: std::net::SocketAddr, ca: std::path::PathBuf, extra: Vec<&'static str>| {
        tokio::task::spawn_blocking(move || {
            let a = addr.to_string();
            let mut args = vec![
                "s_client",
                "-connect",
                &a,
                "-servername",
                "localhost",
                "-verify_return_error",
                "-CAfile",
                ca.to_str().unwrap(),
            ];
            args.extend(extra);
            let out = std::process::Command::new("openssl")
                .args(&args)
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).to_string(),
            )
        })
    };
    let (ok, out) = run(addr, f.ca_file.clone(), vec![]).await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("ossl-one"), "{out}");
    f.rotate("ossl-two");
    manager.reload().unwrap();
    let (ok, out) = run(addr, f.ca_file.clone(), vec!["-tls1_2"]).await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("ossl-two"), "{out}");
    let (ok, out) = run(addr, f.ca_file.clone(), vec!["-tls1_3"]).await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("TLSv1.3"), "{out}");
}

#[tokio::test]
async fn x509_v1_certificate_is_served() {
    if !openssl_available() {
        eprintln!("openssl not found: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = v1_cert(dir.path());
    // rustls' own single-cert path refuses it...
    {
        use rustls::pki_types::pem::PemObject;
        let chain: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(&cert)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let k = rustls::pki_types::PrivateKeyDer::from_pem_file(&key).unwrap();
        let r = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, k);
        assert!(r.is_err(), "with_single_cert accepted a v1 certificate");
    }
    // ...ours serves it.
    let (manager, _) =
        TlsManager::new("bolt", graphward_tls::TlsSettings::new(&cert, &key)).unwrap();
    let manager = Arc::new(manager);
    assert_eq!(manager.status().certificate.x509_version, 1);
    let addr = echo_server(Arc::clone(&manager)).await;
    let mut c = connect(addr, insecure_client_config()).await.unwrap();
    assert_eq!(
        peer_fingerprint(&c),
        manager.status().certificate.fingerprint_sha256
    );
    assert_eq!(echo(&mut c, b"v1").await, b"v1");
    // OpenSSL verifies the v1 certificate (trusted directly) and the handshake signature.
    let a = addr.to_string();
    let (ok, out) = tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("openssl")
            .args([
                "s_client",
                "-connect",
                &a,
                "-verify_return_error",
                "-CAfile",
                cert.to_str().unwrap(),
            ])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    })
    .await
    .unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("Verify return code: 0"), "{out}");
}

fn client_cert_config(
    ca_pem: &str,
    client: Option<(&common::Ca, &rcgen::KeyPair)>,
) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    Arc::new(match client {
        None => b.with_no_client_auth(),
        Some((ca, key)) => {
            let chain = valid_leaf(ca, key, "client");
            let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_slice_iter(chain.as_bytes())
                .collect::<Result<_, _>>()
                .unwrap();
            let k =
                rustls::pki_types::PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())
                    .unwrap();
            b.with_client_auth_cert(certs, k).unwrap()
        }
    })
}

#[tokio::test]
async fn client_auth_require_and_optional() {
    let f = fixture("mtls");
    let client_ca = make_ca("client CA");
    let client_ca_file = write(f.dir.path(), "client-ca.pem", &client_ca.pem, 0o644);
    let client_key = rcgen::KeyPair::generate().unwrap();
    let stranger_ca = make_ca("stranger CA");

    // client_auth without a CA file is a configuration error.
    let mut s = f.settings();
    s.client_auth = ClientAuth::Require;
    let e = TlsManager::new("bolt", s.clone()).unwrap_err();
    assert!(e.to_string().contains("client_ca_file"), "{e}");

    s.client_ca_file = Some(client_ca_file.clone());
    let (m, _) = TlsManager::new("bolt", s.clone()).unwrap();
    let m = Arc::new(m);
    let addr = echo_server(Arc::clone(&m)).await;
    // With a good client certificate.
    let mut c = connect(
        addr,
        client_cert_config(&f.ca.pem, Some((&client_ca, &client_key))),
    )
    .await
    .unwrap();
    assert_eq!(echo(&mut c, b"mtls").await, b"mtls");
    // Without one: refused (TLS 1.3 reports it after the client's Finished).
    let r = async {
        let mut c = connect(addr, client_cert_config(&f.ca.pem, None)).await?;
        c.write_all(b"x").await?;
        let mut b = [0u8; 1];
        c.read_exact(&mut b).await?;
        Ok::<_, std::io::Error>(())
    }
    .await;
    assert!(r.is_err());
    // With one from another CA: refused.
    let r = async {
        let mut c = connect(
            addr,
            client_cert_config(&f.ca.pem, Some((&stranger_ca, &client_key))),
        )
        .await?;
        c.write_all(b"x").await?;
        let mut b = [0u8; 1];
        c.read_exact(&mut b).await?;
        Ok::<_, std::io::Error>(())
    }
    .await;
    assert!(r.is_err());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        m.handshake_stats()
            .failures(HandshakeReason::ClientCertificate)
            >= 2
    );

    // Optional: anonymous clients are accepted, bad certificates are not.
    s.client_auth = ClientAuth::Optional;
    let (m, _) = TlsManager::new("bolt", s).unwrap();
    let addr = echo_server(Arc::new(m)).await;
    let mut c = connect(addr, client_cert_config(&f.ca.pem, None))
        .await
        .unwrap();
    assert_eq!(echo(&mut c, b"anon").await, b"anon");

    // A bad CA file is reported with its name.
    let mut s = f.settings();
    s.client_auth = ClientAuth::Require;
    s.client_ca_file = Some(write(f.dir.path(), "bad-ca.pem", "garbage", 0o644));
    let e = TlsManager::new("bolt", s).unwrap_err();
    assert!(e.to_string().contains("bad-ca.pem"), "{e}");
}

async fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    let c = TcpStream::connect(a).await.unwrap();
    let (s, _) = l.accept().await.unwrap();
    (c, s)
}

#[tokio::test]
async fn sniff_classifies_first_bytes() {
    let t = Duration::from_millis(500);
    let (mut c, s) = pair().await;
    c.write_all(&client_hello(&[0xc02b])).await.unwrap();
    assert_eq!(sniff(&s, t).await, FirstBytes::TlsClientHello);

    let (mut c, s) = pair().await;
    c.write_all(&[0x60, 0x60, 0xB0, 0x17, 0, 0, 0, 5])
        .await
        .unwrap();
    assert_eq!(sniff(&s, t).await, FirstBytes::BoltPreamble);

    // Split writes: the sniffer waits for enough bytes.
    let (mut c, s) = pair().await;
    c.write_all(b"GE").await.unwrap();
    let h = tokio::spawn(async move { sniff(&s, Duration::from_secs(2)).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    c.write_all(b"T / HTTP/1.1\r\n").await.unwrap();
    assert_eq!(h.await.unwrap(), FirstBytes::Http);

    let (mut c, s) = pair().await;
    c.write_all(b"SSH-2.0-OpenSSH\r\n").await.unwrap();
    assert_eq!(sniff(&s, t).await, FirstBytes::Unknown);

    // Silence: timeout.
    let (_c, s) = pair().await;
    assert_eq!(
        sniff(&s, Duration::from_millis(100)).await,
        FirstBytes::Unknown
    );

    // EOF.
    let (c, s) = pair().await;
    drop(c);
    assert_eq!(sniff(&s, t).await, FirstBytes::Unknown);
}

#[tokio::test]
async fn plaintext_bolt_and_http_are_refused_clearly() {
    let (mut c, s) = pair().await;
    let mut hello = vec![0x60, 0x60, 0xB0, 0x17];
    for v in [0x0004_0805u32, 0x0000_0404, 0, 0] {
        hello.extend_from_slice(&v.to_be_bytes());
    }
    c.write_all(&hello).await.unwrap();
    assert_eq!(
        sniff(&s, Duration::from_secs(1)).await,
        FirstBytes::BoltPreamble
    );
    let proposals = refuse_plain_bolt(s).await.unwrap();
    assert_eq!(proposals, [0x0004_0805, 0x0000_0404, 0, 0]);
    assert_eq!(
        graphward_tls::format_bolt_proposals(&proposals),
        "5.8-5.4, 4.4"
    );
    let mut reply = Vec::new();
    c.read_to_end(&mut reply).await.unwrap();
    assert_eq!(reply, vec![0, 0, 0, 0]);

    let (mut c, s) = pair().await;
    c.write_all(b"GET /db/neo4j/tx HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(sniff(&s, Duration::from_secs(1)).await, FirstBytes::Http);
    let line = refuse_plain_http(s).await.unwrap();
    assert_eq!(line, "GET /db/neo4j/tx HTTP/1.1");
    let mut reply = String::new();
    c.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{reply}");
    assert!(
        reply.ends_with("this port requires TLS: use https://\n"),
        "{reply}"
    );
}

#[tokio::test]
async fn accept_tls_classifies_failures() {
    let f = fixture("hyg");
    let (m, _) = TlsManager::new("bolt", f.settings()).unwrap();
    let sem = tokio::sync::Semaphore::new(4);

    // EOF before any byte: "eof".
    let (c, s) = pair().await;
    drop(c);
    let e = accept_tls(&m, s, Duration::from_secs(2), &sem)
        .await
        .unwrap_err();
    assert_eq!(e.reason, HandshakeReason::Eof);

    // Plain HTTP into rustls: corrupt message.
    let (mut c, s) = pair().await;
    c.write_all(b"GET / HTTP/1.1\r\n\r\n").await.unwrap();
    let e = accept_tls(&m, s, Duration::from_secs(2), &sem)
        .await
        .unwrap_err();
    assert_eq!(e.reason, HandshakeReason::CorruptMessage, "{e}");

    // Silent client: timeout.
    let (_c, s) = pair().await;
    let e = accept_tls(&m, s, Duration::from_millis(200), &sem)
        .await
        .unwrap_err();
    assert_eq!(e.reason, HandshakeReason::Timeout);

    // No permit within the timeout: busy.
    let zero = tokio::sync::Semaphore::new(0);
    let (_c, s) = pair().await;
    let e = accept_tls(&m, s, Duration::from_millis(100), &zero)
        .await
        .unwrap_err();
    assert_eq!(e.reason, HandshakeReason::Busy);

    let st = m.handshake_stats();
    assert_eq!(st.failures(HandshakeReason::Eof), 1);
    assert_eq!(st.failures(HandshakeReason::CorruptMessage), 1);
    assert_eq!(st.failures(HandshakeReason::Timeout), 1);
    assert_eq!(st.failures(HandshakeReason::Busy), 1);
}

#[test]
fn rate_limited_log() {
    let l = graphward_tls::RateLimitedLog::new(3);
    let allowed: Vec<_> = (0..10).map(|_| l.allow()).collect();
    assert_eq!(allowed.iter().filter(|a| a.is_some()).count(), 3);
    assert_eq!(l.suppressed_total(), 7);
    std::thread::sleep(Duration::from_millis(1050));
    assert_eq!(l.allow(), Some(7));
    assert_eq!(l.allow(), Some(0));
}

#[tokio::test]
async fn accept_on_tls_port_handles_all_kinds() {
    let f = fixture("port");
    let (m, _) = TlsManager::new("bolt", f.settings()).unwrap();
    let m = Arc::new(m);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = Arc::clone(&m);
    tokio::spawn(async move {
        let sem = Arc::new(tokio::sync::Semaphore::new(4));
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (m, sem) = (Arc::clone(&server), Arc::clone(&sem));
            tokio::spawn(async move {
                if let Ok(mut tls) =
                    graphward_tls::accept_on_tls_port(&m, tcp, Duration::from_secs(3), &sem).await
                {
                    let mut b = [0u8; 4];
                    if tls.read_exact(&mut b).await.is_ok() {
                        let _ = tls.write_all(&b).await;
                        let _ = tls.flush().await;
                    }
                }
            });
        }
    });

    // TLS works.
    let mut c = connect(addr, client_config(&f.ca.pem)).await.unwrap();
    assert_eq!(echo(&mut c, b"ping").await, b"ping");
    // Plain Bolt gets 00 00 00 00.
    let mut c = TcpStream::connect(addr).await.unwrap();
    let mut hello = vec![0x60, 0x60, 0xB0, 0x17];
    hello.extend_from_slice(&[0, 0, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    c.write_all(&hello).await.unwrap();
    let mut reply = Vec::new();
    c.read_to_end(&mut reply).await.unwrap();
    assert_eq!(reply, vec![0, 0, 0, 0]);
    // Plain HTTP gets a 400.
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"POST /db/x HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    c.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 400 "), "{reply}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let st = m.handshake_stats();
    assert_eq!(st.ok(), 1);
    assert_eq!(st.failures(HandshakeReason::PlaintextBolt), 1);
    assert_eq!(st.failures(HandshakeReason::PlaintextHttp), 1);
}

#[tokio::test]
async fn sessions_do_not_resume_across_a_reload() {
    let f = fixture("resume");
    let (m, _) = TlsManager::new("bolt", f.settings()).unwrap();
    let m = Arc::new(m);
    let addr = echo_server(Arc::clone(&m)).await;
    let cfg = client_config(&f.ca.pem);

    let mut c = connect(addr, Arc::clone(&cfg)).await.unwrap();
    assert_eq!(echo(&mut c, b"a").await, b"a"); // also reads the session ticket
    assert_eq!(
        c.get_ref().1.handshake_kind(),
        Some(rustls::HandshakeKind::Full)
    );
    let mut c = connect(addr, Arc::clone(&cfg)).await.unwrap();
    assert_eq!(echo(&mut c, b"b").await, b"b");
    assert_eq!(
        c.get_ref().1.handshake_kind(),
        Some(rustls::HandshakeKind::Resumed)
    );

    m.reload().unwrap();
    let mut c = connect(addr, Arc::clone(&cfg)).await.unwrap();
    assert_eq!(echo(&mut c, b"c").await, b"c");
    assert_eq!(
        c.get_ref().1.handshake_kind(),
        Some(rustls::HandshakeKind::Full),
        "a session from before the reload was resumed"
    );
}
