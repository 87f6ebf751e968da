"""TLS startup checks: bad files refuse startup with a message naming the file; encrypted keys
with a password file or environment variable; RSA/ECDSA/Ed25519 keys in PKCS#1, SEC1 and
PKCS#8 made by openssl; `graphward certs check`."""
import datetime
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from conftest import binary
from tls_helpers import gen_certs, run_server_expect_failure, tls_args

AUTH = ("neo4j", "password")


def connects(srv):
    with GraphDatabase.driver(f"bolt+ssc://127.0.0.1:{srv.bolt_port}", auth=AUTH) as d:
        records, _, _ = d.execute_query("RETURN 1 AS x")
        return records[0]["x"] == 1


@pytest.fixture
def certs(tmp_path):
    return gen_certs(tmp_path / "certs")


def test_missing_file_refuses_startup(tmp_path, certs):
    code, out = run_server_expect_failure(
        ["--bolt-cert-file", str(tmp_path / "nope.pem"), "--bolt-key-file", str(certs / "server.key")],
        tmp_path / "data")
    assert code != 0
    assert str(tmp_path / "nope.pem") in out, out
    assert "bolt" in out


def test_mismatched_key_refuses_startup(tmp_path, certs):
    other = gen_certs(tmp_path / "other")
    code, out = run_server_expect_failure(
        ["--tls-cert", str(certs / "server.pem"), "--tls-key", str(other / "server.key")],
        tmp_path / "data")
    assert code != 0
    assert "match" in out.lower(), out
    assert str(other / "server.key") in out or str(certs / "server.pem") in out, out


def test_expired_certificate_refuses_startup(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    (tmp_path / "old.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kp = tmp_path / "old.key"
    kp.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    kp.chmod(0o600)
    code, out = run_server_expect_failure(
        ["--bolt-cert-file", str(tmp_path / "old.pem"), "--bolt-key-file", str(kp)], tmp_path / "data")
    assert code != 0
    assert "expired" in out.lower(), out
    assert str(tmp_path / "old.pem") in out, out


def test_key_readable_by_others_refuses_startup_unless_allowed(tmp_path, certs, make_server):
    (certs / "server.key").chmod(0o644)
    code, out = run_server_expect_failure(tls_args(certs, http=False), tmp_path / "data")
    assert code != 0
    assert str(certs / "server.key") in out, out
    assert "0600" in out or "permission" in out.lower(), out
    srv = make_server(tls_args(certs, http=False) + ["--allow-insecure-key-permissions"])
    assert connects(srv)


def test_certificate_without_key_is_a_configuration_error(tmp_path, certs):
    code, out = run_server_expect_failure(["--bolt-cert-file", str(certs / "server.pem")], tmp_path / "data")
    assert code == 2, out
    assert "--bolt-cert-file" in out and "private key" in out, out


def test_encrypted_key_with_password_file_and_env(tmp_path, make_server):
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery staple\n")
    pw.chmod(0o600)
    certs = gen_certs(tmp_path / "enc", password_file=pw)
    assert "ENCRYPTED PRIVATE KEY" in (certs / "server.key").read_text()

    srv = make_server(tls_args(certs, http=False) + ["--bolt-key-password-file", str(pw)])
    assert connects(srv)
    srv = make_server(tls_args(certs, http=False),
                      env={"GRAPHWARD_BOLT_KEY_PASSWORD": "correct horse battery staple"})
    assert connects(srv)
    log = srv.read_log()
    assert "correct horse" not in log
    assert "unknown environment variable" not in log

    code, out = run_server_expect_failure(tls_args(certs, http=False), tmp_path / "d1")
    assert code != 0 and "password" in out.lower(), out
    bad = tmp_path / "bad"
    bad.write_text("wrong\n")
    bad.chmod(0o600)
    code, out = run_server_expect_failure(tls_args(certs, http=False) + ["--bolt-key-password-file", str(bad)],
                                          tmp_path / "d2")
    assert code != 0 and "wrong password" in out.lower(), out
    assert "wrong\n" not in out


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("kind", ["rsa-pkcs1", "ec-sec1", "ed25519-pkcs8", "rsa-pkcs8"])
def test_openssl_keys_of_every_format(tmp_path, make_server, kind):
    d = tmp_path
    if kind == "rsa-pkcs1":
        openssl("genrsa", "-traditional", "-out", "k.pem", "2048", cwd=d)
        assert "BEGIN RSA PRIVATE KEY" in (d / "k.pem").read_text()
    elif kind == "ec-sec1":
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem", cwd=d)
        assert "BEGIN EC PRIVATE KEY" in (d / "k.pem").read_text()
    elif kind == "ed25519-pkcs8":
        openssl("genpkey", "-algorithm", "ed25519", "-out", "k.pem", cwd=d)
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "k.pem", cwd=d)
    openssl("req", "-x509", "-key", "k.pem", "-out", "c.pem", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", cwd=d)
    (d / "k.pem").chmod(0o600)
    srv = make_server(["--bolt-cert-file", str(d / "c.pem"), "--bolt-key-file", str(d / "k.pem")])
    if kind == "ed25519-pkcs8":
        # Python's ssl (OpenSSL) negotiates Ed25519 signatures in TLS 1.3.
        pass
    assert connects(srv)


def test_certs_check(tmp_path, certs):
    def check(*args):
        return subprocess.run([binary(), "certs", "check", *args], capture_output=True, text=True)

    r = check("--cert", str(certs / "server.pem"), "--key", str(certs / "server.key"),
              "--ca", str(certs / "ca.pem"), "--host", "localhost")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "FAIL" not in r.stdout and "OK" in r.stdout

    r = check("--cert", str(certs / "server.pem"), "--key", str(certs / "server.key"), "--host", "db.example.com")
    assert r.returncode != 0
    assert "FAIL" in r.stdout and "db.example.com" in r.stdout, r.stdout

    other = gen_certs(tmp_path / "other")
    r = check("--cert", str(certs / "server.pem"), "--key", str(other / "server.key"))
    assert r.returncode != 0 and "FAIL" in r.stdout, r.stdout

    r = check("--cert", str(certs / "server.pem"), "--key", str(certs / "server.key"), "--ca", str(other / "ca.pem"))
    assert r.returncode != 0 and "FAIL" in r.stdout, r.stdout


def test_certs_generate_modes(tmp_path):
    out = gen_certs(tmp_path / "g")
    for name, mode in [("server.key", 0o600), ("ca.key", 0o600), ("server.pem", 0o644), ("ca.pem", 0o644)]:
        assert (out / name).stat().st_mode & 0o777 == mode, name
    ss = gen_certs(tmp_path / "ss", self_signed=True)
    assert not (ss / "ca.pem").exists() and (ss / "server.pem").exists()
    r = subprocess.run([binary(), "certs", "generate", "--out", str(tmp_path / "x"), "--san", "IP:999.1.1.1"],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "999.1.1.1" in r.stderr
