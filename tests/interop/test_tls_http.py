"""HTTPS with curl and openssl s_client: --cacert works, plain http:// gets the readable error,
--tls-min-version 1.3 refuses a TLS 1.2 client, client certificates with --tls-client-auth."""
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import Server
from tls_helpers import gen_certs, make_client_cert, tls_args, wait_for


@pytest.fixture(scope="module")
def certs():
    with tempfile.TemporaryDirectory(prefix="graphward-tls-") as d:
        yield gen_certs(Path(d) / "certs")


@pytest.fixture(scope="module")
def https_server(certs):
    with tempfile.TemporaryDirectory(prefix="graphward-test-") as d:
        srv = Server(d, tls_args(certs)).start()
        try:
            yield srv
        finally:
            srv.stop()


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True)


def s_client(port, *args, stdin=""):
    return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
                           *args], input=stdin, capture_output=True, text=True, timeout=30)


def test_curl_with_cacert(https_server, certs):
    r = curl("--cacert", str(certs / "ca.pem"), f"https://localhost:{https_server.http_port}/")
    assert r.returncode == 0, r.stderr
    assert "graphward" in r.stdout
    r = curl("--cacert", str(certs / "ca.pem"), f"https://127.0.0.1:{https_server.http_port}/")
    assert r.returncode == 0, r.stderr


def test_curl_without_the_ca_fails_verification(https_server):
    r = curl(f"https://localhost:{https_server.http_port}/")
    assert r.returncode == 60, (r.returncode, r.stderr)  # CURLE_PEER_FAILED_VERIFICATION


def test_plain_http_gets_a_readable_400(https_server):
    r = curl("-i", f"http://127.0.0.1:{https_server.http_port}/")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("HTTP/1.1 400"), r.stdout
    assert "this port requires TLS" in r.stdout
    wait_for(lambda: "plaintext HTTP request" in https_server.read_log(), what="the plaintext WARN line")


def test_tls13_only_refuses_tls12(tmp_path, certs):
    srv = Server(str(tmp_path), tls_args(certs) + ["--tls-min-version", "1.3"]).start()
    try:
        for port in (srv.bolt_port, srv.http_port):
            r = s_client(port, "-tls1_2")
            assert r.returncode != 0, r.stdout
            assert "Cipher is (NONE)" in r.stdout, r.stdout
            r = s_client(port, "-tls1_3")
            assert r.returncode == 0, r.stdout + r.stderr
            assert "TLSv1.3" in r.stdout
    finally:
        srv.stop()


def test_tls12_is_accepted_by_default(https_server):
    r = s_client(https_server.http_port, "-tls1_2")
    assert r.returncode == 0, r.stderr
    assert "TLSv1.2" in r.stdout
    r = s_client(https_server.http_port, "-tls1_1")
    assert r.returncode != 0


def test_client_certificates_required(tmp_path, certs):
    """--tls-client-auth require: only a client certificate signed by the client CA gets in."""
    client_ca = gen_certs(tmp_path / "client-ca")
    cert, key = make_client_cert(client_ca, tmp_path / "alice")
    stranger_ca = gen_certs(tmp_path / "stranger-ca")
    s_cert, s_key = make_client_cert(stranger_ca, tmp_path / "mallory", cn="mallory")
    (tmp_path / "data").mkdir()
    srv = Server(str(tmp_path / "data"), tls_args(certs) + [
        "--tls-client-ca-file", str(client_ca / "ca.pem"), "--tls-client-auth", "require"]).start()
    try:
        url = f"https://localhost:{srv.http_port}/"
        r = curl("--cacert", str(certs / "ca.pem"), url)
        assert r.returncode != 0, r.stdout
        r = curl("--cacert", str(certs / "ca.pem"), "--cert", str(s_cert), "--key", str(s_key), url)
        assert r.returncode != 0, r.stdout
        r = curl("--cacert", str(certs / "ca.pem"), "--cert", str(cert), "--key", str(key), url)
        assert r.returncode == 0, r.stderr
        assert "graphward" in r.stdout
        # the same on the Bolt port, with openssl s_client
        r = s_client(srv.bolt_port, "-CAfile", str(certs / "ca.pem"), "-cert", str(cert), "-key", str(key),
                     "-verify_return_error")
        assert r.returncode == 0, r.stdout + r.stderr
        wait_for(lambda: "(client_certificate)" in srv.read_log(), what="the client certificate refusal")
    finally:
        srv.stop()
