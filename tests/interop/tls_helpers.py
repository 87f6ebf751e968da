"""Helpers for the TLS interop tests: certificates made with `graphward certs generate`,
the fingerprint a listener presents, and TLS server flags."""
import hashlib
import os
import shutil
import socket
import ssl
import subprocess
import time
from pathlib import Path

from conftest import binary


def gen_certs(out: Path, self_signed=False, password_file=None, days=30, sans=("DNS:localhost", "IP:127.0.0.1")):
    """Runs `graphward certs generate`; returns the output directory."""
    args = [binary(), "certs", "generate", "--out", str(out), "--days", str(days)]
    for s in sans:
        args += ["--san", s]
    if self_signed:
        args.append("--self-signed")
    if password_file:
        args += ["--key-password-file", str(password_file)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return out


def pem_fingerprint(cert_pem: Path) -> str:
    """SHA-256 of the first (leaf) certificate in a PEM file, lower-case hex."""
    der = ssl.PEM_cert_to_DER_cert(cert_pem.read_text().split("-----END CERTIFICATE-----")[0] + "-----END CERTIFICATE-----\n")
    return hashlib.sha256(der).hexdigest()


def served_fingerprint(port: int, host="127.0.0.1") -> str:
    """Opens a new TLS connection (no verification) and returns the SHA-256 of the leaf served."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def norm_fp(fp: str) -> str:
    return fp.replace(":", "").lower()


def tls_args(cert_dir: Path, bolt=True, http=True):
    args = []
    if bolt:
        args += ["--bolt-cert-file", str(cert_dir / "server.pem"), "--bolt-key-file", str(cert_dir / "server.key")]
    if http:
        args += ["--tls-cert", str(cert_dir / "server.pem"), "--tls-key", str(cert_dir / "server.key")]
    return args


def install(src: Path, dst: Path):
    """Replaces dst's server.pem and server.key with src's, each by an atomic rename."""
    for name in ("server.pem", "server.key"):
        tmp = dst / (name + ".tmp")
        shutil.copy2(src / name, tmp)
        os.replace(tmp, dst / name)


def wait_for(pred, timeout=20.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def run_server_expect_failure(extra_args, data_dir: Path, env=None, timeout=30):
    """Runs `graphward serve` that must refuse to start; returns (exit code, output)."""
    from conftest import free_port
    args = [binary(), "serve", "--data-dir", str(data_dir),
            "--bolt-address", "127.0.0.1", "--bolt-port", str(free_port()),
            "--http-address", "127.0.0.1", "--http-port", str(free_port()), *extra_args]
    full_env = None if env is None else {**os.environ, **env}
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=full_env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"server started although it should have refused: {e.stderr}")
    return r.returncode, r.stdout + r.stderr


def make_client_cert(ca_dir: Path, out: Path, cn="alice", sans=()):
    """A client certificate (clientAuth EKU) signed by the CA `graphward certs generate` wrote."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    ca_cert = x509.load_pem_x509_certificate((ca_dir / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
    if sans:
        cert = cert.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(s) for s in sans]), critical=False)
    cert = cert.sign(ca_key, hashes.SHA256())
    out.mkdir(parents=True, exist_ok=True)
    (out / "client.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (out / "client.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (out / "client.key").chmod(0o600)
    return out / "client.pem", out / "client.key"
