//! `generate` / `check` tooling and the polling watcher.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use graphward_tls::certs::{check_at, GeneratedFiles};
use graphward_tls::{check, check_with_password, generate, San, TlsManager, TlsSettings};

fn sans() -> Vec<San> {
    vec![
        "localhost".parse().unwrap(),
        "IP:127.0.0.1".parse().unwrap(),
        "DNS:db.example.com".parse().unwrap(),
    ]
}

fn mode(p: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn line<'a>(lines: &'a [graphward_tls::CheckLine], name: &str) -> &'a graphward_tls::CheckLine {
    lines
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no line {name} in {lines:#?}"))
}

#[test]
fn san_parsing() {
    assert_eq!(
        "localhost".parse::<San>().unwrap(),
        San::Dns("localhost".into())
    );
    assert_eq!(
        "ip:::1".parse::<San>().unwrap(),
        San::Ip("::1".parse().unwrap())
    );
    assert_eq!(
        "10.0.0.1".parse::<San>().unwrap(),
        San::Ip("10.0.0.1".parse().unwrap())
    );
    assert!("IP:nope".parse::<San>().is_err());
    assert!("".parse::<San>().is_err());
    assert_eq!(San::Dns("a".into()).to_string(), "DNS:a");
}

#[test]
fn generate_with_ca_then_check() {
    let dir = tempfile::tempdir().unwrap();
    let out: GeneratedFiles = generate(dir.path(), sans(), 30, false, None).unwrap();
    let ca = out.ca_cert.clone().unwrap();
    assert_eq!(mode(&out.server_key), 0o600);
    assert_eq!(mode(out.ca_key.as_ref().unwrap()), 0o600);
    assert_eq!(mode(&out.server_cert), 0o644);

    let lines = check(
        &out.server_cert,
        &out.server_key,
        Some(&ca),
        Some("localhost"),
    );
    assert!(lines.iter().all(|l| l.ok), "{lines:#?}");
    for name in [
        "certificate",
        "private key",
        "key match",
        "expiry",
        "subject alternative names",
        "chain",
        "hostname",
        "permissions",
    ] {
        line(&lines, name);
    }
    assert!(line(&lines, "subject alternative names")
        .detail
        .contains("IP:127.0.0.1"));
    // The expiry line warns inside 14 days only.
    assert!(!line(&lines, "expiry").detail.contains("WARNING"));
    let later = std::time::SystemTime::now() + Duration::from_secs(20 * 86_400);
    let lines = check_at(
        &out.server_cert,
        &out.server_key,
        Some(&ca),
        None,
        None,
        later,
    );
    assert!(
        line(&lines, "expiry").detail.contains("WARNING"),
        "{lines:#?}"
    );
    let much_later = std::time::SystemTime::now() + Duration::from_secs(40 * 86_400);
    let lines = check_at(
        &out.server_cert,
        &out.server_key,
        Some(&ca),
        None,
        None,
        much_later,
    );
    assert!(!line(&lines, "expiry").ok);
    assert!(!line(&lines, "chain").ok, "{lines:#?}");

    // IP hostname, wrong hostname.
    let lines = check(
        &out.server_cert,
        &out.server_key,
        Some(&ca),
        Some("127.0.0.1"),
    );
    assert!(line(&lines, "hostname").ok, "{lines:#?}");
    let lines = check(
        &out.server_cert,
        &out.server_key,
        Some(&ca),
        Some("evil.example"),
    );
    assert!(!line(&lines, "hostname").ok);

    // Wrong CA.
    let other = tempfile::tempdir().unwrap();
    let out2 = generate(other.path(), sans(), 30, false, None).unwrap();
    let lines = check(
        &out.server_cert,
        &out.server_key,
        out2.ca_cert.as_deref(),
        None,
    );
    assert!(!line(&lines, "chain").ok, "{lines:#?}");
    // Mismatched key.
    let lines = check(&out.server_cert, &out2.server_key, Some(&ca), None);
    assert!(!line(&lines, "key match").ok);
    // Permissions.
    chmod(&out.server_key, 0o644);
    let lines = check(&out.server_cert, &out.server_key, Some(&ca), None);
    assert!(!line(&lines, "permissions").ok);
    chmod(&out.server_key, 0o600);

    // Serve it and talk to it with a client trusting ca.pem.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (m, _) =
            TlsManager::new("bolt", TlsSettings::new(&out.server_cert, &out.server_key)).unwrap();
        let m = Arc::new(m);
        assert_eq!(
            m.status().certificate.fingerprint_sha256,
            out.fingerprint_sha256
        );
        assert_eq!(m.status().certificate.chain_len, 2);
        let addr = echo_server(m).await;
        let ca_pem = std::fs::read_to_string(&ca).unwrap();
        let mut c = connect(addr, client_config(&ca_pem)).await.unwrap();
        assert_eq!(echo(&mut c, b"generated").await, b"generated");
    });
}

#[test]
fn generate_self_signed_encrypted() {
    let dir = tempfile::tempdir().unwrap();
    let out = generate(dir.path(), sans(), 10, true, Some("pw".into())).unwrap();
    assert!(out.ca_cert.is_none() && out.ca_key.is_none());
    let key_text = std::fs::read_to_string(&out.server_key).unwrap();
    assert!(key_text.contains("ENCRYPTED PRIVATE KEY"));

    let lines = check(&out.server_cert, &out.server_key, None, None);
    assert!(!line(&lines, "private key").ok);
    let lines = check_with_password(
        &out.server_cert,
        &out.server_key,
        None,
        Some("localhost"),
        Some("pw"),
    );
    assert!(lines.iter().all(|l| l.ok), "{lines:#?}");
    assert!(line(&lines, "chain").detail.contains("self-signed"));
    // Self-signed cert used as its own CA.
    let lines = check_with_password(
        &out.server_cert,
        &out.server_key,
        Some(&out.server_cert),
        None,
        Some("pw"),
    );
    assert!(line(&lines, "chain").ok, "{lines:#?}");

    let mut s = TlsSettings::new(&out.server_cert, &out.server_key);
    s.key_password_file = Some(write(dir.path(), "pw.txt", "pw\n", 0o600));
    let (m, report) = TlsManager::new("http", s).unwrap();
    // 10 days < 14-day horizon.
    assert_eq!(report.warnings.len(), 1, "{report:?}");
    assert!(m.status().certificate.self_signed);

    if openssl_available() {
        // OpenSSL reads our encrypted key.
        openssl(&[
            "pkey",
            "-in",
            out.server_key.to_str().unwrap(),
            "-passin",
            "pass:pw",
            "-noout",
        ]);
    }
}

#[test]
fn generate_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    assert!(generate(dir.path(), vec![], 10, true, None).is_err());
    assert!(generate(dir.path(), sans(), 0, true, None).is_err());
}

#[test]
fn check_garbage_never_panics() {
    let dir = tempfile::tempdir().unwrap();
    let c = write(dir.path(), "c.pem", "garbage", 0o644);
    let k = write(dir.path(), "k.pem", "", 0o600);
    let lines = check(&c, &k, Some(&c), Some("localhost"));
    assert!(!line(&lines, "certificate").ok);
    assert!(!line(&lines, "private key").ok);
    let missing = dir.path().join("missing");
    let lines = check(&missing, &missing, Some(&missing), None);
    assert!(lines.iter().any(|l| !l.ok));
}

#[tokio::test]
async fn watch_reloads_on_change_and_retries_mismatch() {
    let f = fixture("watch-one");
    let (m, _) = TlsManager::new("bolt", f.settings()).unwrap();
    let m = Arc::new(m);
    let fp1 = m.status().certificate.fingerprint_sha256;
    let handle = graphward_tls::watch(Arc::clone(&m), Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(250)).await;

    // Write the certificate first and the key a second later: the watcher sees a mismatch,
    // retries, and succeeds once the key arrives.
    let key = rcgen::KeyPair::generate().unwrap();
    let chain = valid_leaf(&f.ca, &key, "watch-two");
    write(f.dir.path(), "server.pem", chain, 0o644);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    write(f.dir.path(), "server.key", key.serialize_pem(), 0o600);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
    loop {
        let st = m.status();
        if st.certificate.fingerprint_sha256 != fp1 {
            assert!(st.certificate.subject.contains("watch-two"));
            assert!(st.last_reload_error.is_none());
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "watcher did not reload: {st:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    handle.abort();
}

#[tokio::test]
async fn watch_follows_kubernetes_symlink_swap() {
    // Layout of a Kubernetes secret volume: files are symlinks through `..data`, which is
    // itself a symlink to a timestamped directory swapped atomically.
    let root = tempfile::tempdir().unwrap();
    let f = fixture("k8s-one");
    let v1 = root.path().join("..2026_01_01");
    std::fs::create_dir(&v1).unwrap();
    std::fs::copy(&f.cert, v1.join("tls.crt")).unwrap();
    std::fs::copy(&f.key, v1.join("tls.key")).unwrap();
    chmod(&v1.join("tls.key"), 0o600);
    std::os::unix::fs::symlink("..2026_01_01", root.path().join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/tls.crt", root.path().join("tls.crt")).unwrap();
    std::os::unix::fs::symlink("..data/tls.key", root.path().join("tls.key")).unwrap();

    let s = TlsSettings::new(root.path().join("tls.crt"), root.path().join("tls.key"));
    let (m, _) = TlsManager::new("bolt", s).unwrap();
    let m = Arc::new(m);
    let fp1 = m.status().certificate.fingerprint_sha256;
    let handle = graphward_tls::watch(Arc::clone(&m), Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(250)).await;

    f.rotate("k8s-two");
    let v2 = root.path().join("..2026_01_02");
    std::fs::create_dir(&v2).unwrap();
    std::fs::copy(&f.cert, v2.join("tls.crt")).unwrap();
    std::fs::copy(&f.key, v2.join("tls.key")).unwrap();
    chmod(&v2.join("tls.key"), 0o600);
    let tmp = root.path().join("..data_tmp");
    std::os::unix::fs::symlink("..2026_01_02", &tmp).unwrap();
    std::fs::rename(&tmp, root.path().join("..data")).unwrap();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while m.status().certificate.fingerprint_sha256 == fp1 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no reload after symlink swap"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(m.status().certificate.subject.contains("k8s-two"));
    handle.abort();
}
