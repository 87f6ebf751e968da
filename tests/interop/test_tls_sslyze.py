"""sslyze (the TLS scanner a security review runs) against both listeners with
--tls-strict-ciphers: no SSL 2/3, no TLS 1.0/1.1, only forward-secret AEAD suites, no
compression, no insecure renegotiation. Asserts on sslyze's JSON output."""
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import Server
from tls_helpers import gen_certs, tls_args

pytestmark = pytest.mark.slow

pytest.importorskip("sslyze")


@pytest.fixture(scope="module")
def scan():
    with tempfile.TemporaryDirectory(prefix="graphward-sslyze-") as d:
        certs = gen_certs(Path(d) / "certs")
        data = Path(d) / "data"
        data.mkdir()
        srv = Server(str(data), tls_args(certs) + ["--tls-strict-ciphers"]).start()
        try:
            out = Path(d) / "sslyze.json"
            r = subprocess.run(
                [sys.executable, "-m", "sslyze", f"--json_out={out}", "--mozilla_config=disable",
                 "--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3",
                 "--compression", "--reneg",
                 f"127.0.0.1:{srv.bolt_port}", f"127.0.0.1:{srv.http_port}"],
                capture_output=True, text=True, timeout=300)
            assert out.exists(), r.stdout + r.stderr
            yield srv, json.loads(out.read_text())
        finally:
            srv.stop()


def results(report):
    by_port = {}
    for s in report["server_scan_results"]:
        assert s["scan_status"] == "COMPLETED", s.get("connectivity_error_trace")
        by_port[s["server_location"]["port"]] = s["scan_result"]
    return by_port


def accepted(scan_result, key):
    r = scan_result[key]
    assert r["status"] == "COMPLETED", r
    return [a["cipher_suite"]["name"] for a in r["result"]["accepted_cipher_suites"]]


@pytest.mark.parametrize("listener", ["bolt", "http"])
def test_sslyze_finds_nothing_weak(scan, listener):
    srv, report = scan
    port = srv.bolt_port if listener == "bolt" else srv.http_port
    r = results(report)[port]
    for old in ("ssl_2_0_cipher_suites", "ssl_3_0_cipher_suites", "tls_1_0_cipher_suites",
                "tls_1_1_cipher_suites"):
        assert accepted(r, old) == [], old
    tls12 = accepted(r, "tls_1_2_cipher_suites")
    tls13 = accepted(r, "tls_1_3_cipher_suites")
    assert tls13, "TLS 1.3 must be offered"
    assert tls12, "TLS 1.2 is the default minimum"
    for name in tls12:
        assert name.startswith("TLS_ECDHE_"), name            # forward secrecy
        assert "CBC" not in name and ("GCM" in name or "CHACHA20_POLY1305" in name), name
    for name in tls12 + tls13:
        assert "RC4" not in name and "3DES" not in name and "NULL" not in name and "EXPORT" not in name
    comp = r["tls_compression"]
    assert comp["status"] == "COMPLETED" and comp["result"]["supports_compression"] is False
    reneg = r["session_renegotiation"]
    assert reneg["status"] == "COMPLETED"
    assert reneg["result"]["is_vulnerable_to_client_renegotiation_dos"] is False
    # rustls does not renegotiate at all; sslyze reports "secure renegotiation" as the RFC 5746
    # extension, which is harmless either way: what must not exist is insecure renegotiation.
