//! Loading and validation: key formats, encryption, mismatch, validity, permissions, bad PEM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use graphward_tls::{load, TlsError, TlsSettings};
use rcgen::KeyPair;

fn load_pair(chain: &str, key_pem: &str) -> Result<graphward_tls::LoadedCert, TlsError> {
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "c.pem", chain, 0o644);
    let key = write(dir.path(), "k.pem", key_pem, 0o600);
    load(&TlsSettings::new(cert, key))
}

fn check_alg(alg: &'static rcgen::SignatureAlgorithm, expect: &str) {
    let ca = make_ca("ca");
    let key = KeyPair::generate_for(alg).unwrap();
    let chain = valid_leaf(&ca, &key, "leaf");
    let loaded = load_pair(&chain, &key.serialize_pem()).unwrap();
    assert_eq!(loaded.info.key_algorithm, expect);
    assert_eq!(loaded.info.chain_len, 2);
    assert_eq!(loaded.info.x509_version, 3);
    assert!(loaded.info.sans.contains(&"DNS:localhost".to_string()));
    assert!(loaded.info.sans.contains(&"IP:127.0.0.1".to_string()));
    assert!(loaded.report.warnings.is_empty(), "{:?}", loaded.report);
}

#[test]
fn pkcs8_ecdsa_p256_p384_ed25519() {
    check_alg(&rcgen::PKCS_ECDSA_P256_SHA256, "ECDSA");
    check_alg(&rcgen::PKCS_ECDSA_P384_SHA384, "ECDSA");
    check_alg(&rcgen::PKCS_ED25519, "ED25519");
}

fn rsa_key() -> KeyPair {
    KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap()
}

#[test]
fn rsa_pkcs8_and_pkcs1() {
    use pkcs8::der::Decode;
    let ca = make_ca("ca");
    let key = rsa_key();
    let chain = valid_leaf(&ca, &key, "leaf");
    let loaded = load_pair(&chain, &key.serialize_pem()).unwrap();
    assert_eq!(loaded.info.key_algorithm, "RSA");
    // PKCS#1: the privateKey field of an RSA PKCS#8 structure is the RSAPrivateKey.
    let info = pkcs8::PrivateKeyInfo::from_der(key.serialized_der()).unwrap();
    let pkcs1 = pem("RSA PRIVATE KEY", info.private_key);
    let loaded = load_pair(&chain, &pkcs1).unwrap();
    assert_eq!(loaded.info.key_algorithm, "RSA");
}

#[test]
fn sec1_ec_key_via_openssl() {
    if !openssl_available() {
        eprintln!("openssl not found: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = make_ca("ca");
    let key = KeyPair::generate().unwrap();
    let chain = valid_leaf(&ca, &key, "leaf");
    let p8 = write(dir.path(), "p8.pem", key.serialize_pem(), 0o600);
    let sec1 = dir.path().join("sec1.pem");
    openssl(&[
        "ec",
        "-in",
        p8.to_str().unwrap(),
        "-out",
        sec1.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&sec1).unwrap();
    assert!(text.contains("BEGIN EC PRIVATE KEY"), "{text}");
    let loaded = load_pair(&chain, &text).unwrap();
    assert_eq!(loaded.info.key_algorithm, "ECDSA");
    // With an EC PARAMETERS block first (as `openssl ecparam -genkey` writes).
    let with_params = format!(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{text}"
    );
    load_pair(&chain, &with_params).unwrap();
}

#[test]
fn encrypted_pkcs8_right_and_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_ca("ca");
    let key = KeyPair::generate().unwrap();
    let chain = valid_leaf(&ca, &key, "leaf");
    let enc =
        graphward_tls::certs::encrypt_pkcs8_pem(key.serialized_der(), "s3cret", 2048).unwrap();
    assert!(enc.contains("BEGIN ENCRYPTED PRIVATE KEY"));
    let cert = write(dir.path(), "c.pem", &chain, 0o644);
    let keyf = write(dir.path(), "k.pem", &enc, 0o600);
    let pwf = write(dir.path(), "pw", "s3cret\n", 0o600);

    // No password configured.
    let mut s = TlsSettings::new(&cert, &keyf);
    let e = load(&s).unwrap_err();
    assert!(matches!(e, TlsError::PasswordRequired { .. }), "{e}");
    assert!(e.to_string().contains("k.pem"));

    // Right password from a file (trailing newline stripped).
    s.key_password_file = Some(pwf.clone());
    load(&s).unwrap();

    // Right password from the environment.
    s.key_password_file = None;
    std::env::set_var("GW_TLS_TEST_PW_OK", "s3cret");
    s.key_password_env = Some("GW_TLS_TEST_PW_OK".into());
    load(&s).unwrap();

    // Wrong password.
    std::env::set_var("GW_TLS_TEST_PW_BAD", "nope");
    s.key_password_env = Some("GW_TLS_TEST_PW_BAD".into());
    let e = load(&s).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("wrong password for key file {}", keyf.display())
    );

    // Unset variable.
    s.key_password_env = Some("GW_TLS_TEST_PW_UNSET_XYZ".into());
    let e = load(&s).unwrap_err();
    assert!(e.to_string().contains("GW_TLS_TEST_PW_UNSET_XYZ"), "{e}");
}

#[test]
fn openssl_encrypted_keys() {
    if !openssl_available() {
        eprintln!("openssl not found: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = make_ca("ca");
    let key = KeyPair::generate().unwrap();
    let chain = valid_leaf(&ca, &key, "leaf");
    let cert = write(dir.path(), "c.pem", &chain, 0o644);
    let plain = write(dir.path(), "plain.pem", key.serialize_pem(), 0o600);
    let pw = write(dir.path(), "pw", "pa55", 0o600);
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec!["pkcs8", "-topk8", "-in", plain.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-passout", "pass:pa55", "-out", out.to_str().unwrap()]);
        openssl(&args);
        common::chmod(&out, 0o600);
        let mut s = TlsSettings::new(&cert, &out);
        s.key_password_file = Some(pw.clone());
        load(&s)
    };
    // PBES2 with AES-256-CBC and PBKDF2-SHA256 (OpenSSL's default) works.
    run("aes.pem", &["-v2", "aes-256-cbc"]).unwrap();
    run(
        "aes128.pem",
        &["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"],
    )
    .unwrap();
    // PBES2 with scrypt works too.
    run("scrypt.pem", &["-scrypt"]).unwrap();
    // PBES1 / PKCS#12 3DES is refused with a clear error.
    let e = run("pbe1.pem", &["-v1", "PBE-SHA1-3DES"]).unwrap_err();
    assert!(matches!(e, TlsError::UnsupportedEncryption { .. }), "{e}");
    assert!(e.to_string().contains("unsupported key encryption"), "{e}");
    // PBES2 with 3DES is refused too.
    let e = run("des3.pem", &["-v2", "des3"]).unwrap_err();
    assert!(e.to_string().contains("unsupported key encryption"), "{e}");

    // Legacy OpenSSL "Proc-Type: 4,ENCRYPTED".
    let legacy = dir.path().join("legacy.pem");
    let rsa = dir.path().join("rsa.pem");
    std::fs::write(&rsa, rsa_key().serialize_pem()).unwrap();
    openssl(&[
        "rsa",
        "-in",
        rsa.to_str().unwrap(),
        "-traditional",
        "-aes256",
        "-passout",
        "pass:pa55",
        "-out",
        legacy.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&legacy).unwrap();
    if text.contains("Proc-Type") {
        common::chmod(&legacy, 0o600);
        let mut s = TlsSettings::new(&cert, &legacy);
        s.key_password_file = Some(pw.clone());
        let e = load(&s).unwrap_err();
        assert!(e.to_string().contains("unsupported key encryption"), "{e}");
    }
}

#[test]
fn key_certificate_mismatch() {
    let ca = make_ca("ca");
    let key = KeyPair::generate().unwrap();
    let other = KeyPair::generate().unwrap();
    let chain = valid_leaf(&ca, &key, "leaf");
    let e = load_pair(&chain, &other.serialize_pem()).unwrap_err();
    assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e}");
    assert!(e.to_string().contains("does not match"), "{e}");
    // Different algorithm altogether.
    let e = load_pair(&chain, &rsa_key().serialize_pem()).unwrap_err();
    assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e}");
}

#[test]
fn expired_not_yet_valid_and_expiring_soon() {
    let ca = make_ca("ca");
    let key = KeyPair::generate().unwrap();
    let expired = leaf_pem(
        &ca,
        &key,
        "old",
        now() - time::Duration::days(30),
        now() - time::Duration::days(1),
    );
    let e = load_pair(&expired, &key.serialize_pem()).unwrap_err();
    assert!(matches!(e, TlsError::Expired { .. }), "{e}");
    assert!(e.to_string().contains("expired"), "{e}");

    let future = leaf_pem(
        &ca,
        &key,
        "future",
        now() + time::Duration::days(1),
        now() + time::Duration::days(30),
    );
    let e = load_pair(&future, &key.serialize_pem()).unwrap_err();
    assert!(matches!(e, TlsError::NotYetValid { .. }), "{e}");

    let soon = leaf_pem(
        &ca,
        &key,
        "soon",
        now() - time::Duration::days(1),
        now() + time::Duration::days(3),
    );
    let loaded = load_pair(&soon, &key.serialize_pem()).unwrap();
    assert_eq!(loaded.report.warnings.len(), 1, "{:?}", loaded.report);
    assert!(loaded.report.warnings[0].contains("expires"));

    // A shorter horizon: no warning.
    let dir = tempfile::tempdir().unwrap();
    let cert = write(dir.path(), "c.pem", &soon, 0o644);
    let keyf = write(dir.path(), "k.pem", key.serialize_pem(), 0o600);
    let mut s = TlsSettings::new(cert, keyf);
    s.expiry_warning = Duration::from_secs(86_400);
    assert!(load(&s).unwrap().report.warnings.is_empty());
}

#[test]
fn permissions() {
    let f = fixture("perm");
    let s = f.settings();
    load(&s).unwrap();

    chmod(&f.key, 0o644);
    let e = load(&s).unwrap_err();
    assert!(matches!(e, TlsError::Permissions { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("too open") && msg.contains("chmod 600"),
        "{msg}"
    );
    chmod(&f.key, 0o640);
    assert!(load(&s).is_err());
    chmod(&f.key, 0o400);
    load(&s).unwrap();

    chmod(&f.cert, 0o664);
    let e = load(&s).unwrap_err();
    assert!(e.to_string().contains("chmod 644"), "{e}");
    chmod(&f.cert, 0o644);
    load(&s).unwrap();

    chmod(&f.key, 0o666);
    let mut s2 = s.clone();
    s2.allow_insecure_key_permissions = true;
    load(&s2).unwrap();
}

#[test]
fn missing_files_name_the_file() {
    let f = fixture("missing");
    let mut s = f.settings();
    s.cert_file = f.dir.path().join("nope.pem");
    let e = load(&s).unwrap_err();
    assert!(matches!(e, TlsError::Read { .. }), "{e}");
    assert!(e.to_string().contains("nope.pem"), "{e}");
    let mut s = f.settings();
    s.key_file = f.dir.path().join("nokey.pem");
    let e = load(&s).unwrap_err();
    assert!(e.to_string().contains("nokey.pem"), "{e}");
    // A directory instead of a file.
    let mut s = f.settings();
    s.cert_file = f.dir.path().to_path_buf();
    assert!(load(&s).is_err());
}

#[test]
fn malformed_pem_gives_errors_not_panics() {
    let ca = make_ca("ca");
    let key = KeyPair::generate().unwrap();
    let chain = valid_leaf(&ca, &key, "leaf");
    let key_pem = key.serialize_pem();

    let truncated_cert = &chain[..chain.len() / 3];
    let truncated_key = &key_pem[..key_pem.len() / 2];
    let bad_b64 = "-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n-----END CERTIFICATE-----\n";
    let bad_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let bad_key_der = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    let bad_enc =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    let trunc_enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n";
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();

    let cert_cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("garbage", b"hello world\n".to_vec()),
        ("binary", binary.clone()),
        ("truncated", truncated_cert.as_bytes().to_vec()),
        ("bad base64", bad_b64.as_bytes().to_vec()),
        ("bad der", bad_der.as_bytes().to_vec()),
        ("key as cert", key_pem.as_bytes().to_vec()),
    ];
    for (name, bytes) in cert_cases {
        let dir = tempfile::tempdir().unwrap();
        let cert = write(dir.path(), "c.pem", &bytes, 0o644);
        let keyf = write(dir.path(), "k.pem", &key_pem, 0o600);
        let e = load(&TlsSettings::new(&cert, keyf)).expect_err(name);
        eprintln!("cert {name}: {e}");
        assert!(e.to_string().contains("c.pem"), "{name}: {e}");
    }
    let key_cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("garbage", b"hello world\n".to_vec()),
        ("binary", binary),
        ("truncated", truncated_key.as_bytes().to_vec()),
        ("bad der", bad_key_der.as_bytes().to_vec()),
        ("cert as key", chain.as_bytes().to_vec()),
        ("bad encrypted", bad_enc.as_bytes().to_vec()),
        ("truncated encrypted", trunc_enc.as_bytes().to_vec()),
    ];
    for (name, bytes) in key_cases {
        let dir = tempfile::tempdir().unwrap();
        let cert = write(dir.path(), "c.pem", &chain, 0o644);
        let keyf = write(dir.path(), "k.pem", &bytes, 0o600);
        let mut s = TlsSettings::new(&cert, keyf);
        std::env::set_var("GW_TLS_TEST_PW_MALFORMED", "x");
        s.key_password_env = Some("GW_TLS_TEST_PW_MALFORMED".into());
        let e = load(&s).expect_err(name);
        eprintln!("key {name}: {e}");
        assert!(e.to_string().contains("k.pem"), "{name}: {e}");
    }
}

#[test]
fn x509_v1_certificate_loads() {
    if !openssl_available() {
        eprintln!("openssl not found: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = v1_cert(dir.path());
    let loaded = load(&TlsSettings::new(&cert, &key)).unwrap();
    assert_eq!(loaded.info.x509_version, 1);
    assert!(loaded.info.self_signed);
    // A v1 cert with the wrong key is still detected.
    let other = write(
        dir.path(),
        "other.key",
        KeyPair::generate().unwrap().serialize_pem(),
        0o600,
    );
    let e = load(&TlsSettings::new(&cert, &other)).unwrap_err();
    assert!(matches!(e, TlsError::KeyMismatch { .. }), "{e}");
}

#[test]
fn weak_rsa_key_is_refused() {
    if !openssl_available() {
        eprintln!("openssl not found: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("weak.key");
    openssl(&["genrsa", "-out", key.to_str().unwrap(), "1024"]);
    chmod(&key, 0o600);
    let cert = dir.path().join("weak.pem");
    openssl(&[
        "req",
        "-x509",
        "-key",
        key.to_str().unwrap(),
        "-subj",
        "/CN=weak",
        "-days",
        "5",
        "-out",
        cert.to_str().unwrap(),
    ]);
    chmod(&cert, 0o644);
    let e = load(&TlsSettings::new(&cert, &key)).unwrap_err();
    eprintln!("{e}");
    assert!(e.to_string().contains("weak.key"), "{e}");
}

#[test]
fn password_file_must_be_private() {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_ca("ca");
    let key = KeyPair::generate().unwrap();
    let chain = valid_leaf(&ca, &key, "leaf");
    let enc = graphward_tls::certs::encrypt_pkcs8_pem(key.serialized_der(), "pw", 1000).unwrap();
    let cert = write(dir.path(), "c.pem", &chain, 0o644);
    let keyf = write(dir.path(), "k.pem", &enc, 0o600);
    let pwf = write(dir.path(), "pw.txt", "pw", 0o644);
    let mut s = TlsSettings::new(&cert, &keyf);
    s.key_password_file = Some(pwf.clone());
    let e = load(&s).unwrap_err();
    assert!(
        e.to_string().contains("pw.txt") && e.to_string().contains("too open"),
        "{e}"
    );
    chmod(&pwf, 0o600);
    load(&s).unwrap();
}

#[test]
fn describe_any_certificate() {
    use graphward_tls::rustls::pki_types::{pem::PemObject, CertificateDer};
    let ca = make_ca("ca");
    let key = KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let chain = valid_leaf(&ca, &key, "someone");
    let leaf = CertificateDer::pem_slice_iter(chain.as_bytes())
        .next()
        .unwrap()
        .unwrap();
    let info = graphward_tls::load::describe_certificate(&leaf).unwrap();
    assert_eq!(info.key_algorithm, "ED25519");
    assert!(info.subject.contains("someone"));
    assert!(info.issuer.contains("ca"));
    assert_eq!(info.fingerprint_sha256.len(), 32 * 3 - 1);
    assert!(
        graphward_tls::load::describe_certificate(&CertificateDer::from(vec![1, 2, 3])).is_none()
    );
}
