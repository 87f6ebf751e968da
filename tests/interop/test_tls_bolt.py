"""Bolt over TLS with real clients: the neo4j driver (bolt+s with our CA, bolt+ssc, neo4j+s),
pymgclient (sslmode=REQUIRE), plaintext clients refused with a clear log line, a TLS client on
a plaintext port, and SHOW TLS."""
import socket
import ssl
import tempfile
from pathlib import Path

import mgclient
import neo4j
import pytest
from neo4j import GraphDatabase, TrustCustomCAs
from neo4j.exceptions import ServiceUnavailable, UnsupportedServerProduct

from conftest import Server
from tls_helpers import gen_certs, norm_fp, pem_fingerprint, served_fingerprint, tls_args, wait_for

AUTH = ("neo4j", "password")


@pytest.fixture(scope="module")
def tls_server():
    with tempfile.TemporaryDirectory(prefix="graphward-tls-") as d:
        certs = gen_certs(Path(d) / "certs")
        data = Path(d) / "data"
        data.mkdir()
        srv = Server(str(data), tls_args(certs)).start()
        srv.certs = certs
        try:
            yield srv
        finally:
            srv.stop()


def one(driver, query="RETURN 1 AS x"):
    records, _, _ = driver.execute_query(query)
    return records[0][0]


def test_bolt_s_trusting_the_generated_ca(tls_server, monkeypatch):
    # bolt+s:// verifies against the system trust store; point it at our CA.
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.certs / "ca.pem"))
    with GraphDatabase.driver(f"bolt+s://127.0.0.1:{tls_server.bolt_port}", auth=AUTH) as d:
        assert one(d) == 1
    with GraphDatabase.driver(f"bolt+s://localhost:{tls_server.bolt_port}", auth=AUTH) as d:
        assert one(d) == 1


def test_encrypted_with_trusted_certificates(tls_server):
    # The driver's explicit form: trusted_certificates=TrustCustomCAs(ca) (bolt:// + encrypted).
    with GraphDatabase.driver(
        f"bolt://127.0.0.1:{tls_server.bolt_port}", auth=AUTH, encrypted=True,
        trusted_certificates=TrustCustomCAs(str(tls_server.certs / "ca.pem")),
    ) as d:
        assert one(d) == 1


def test_bolt_ssc(tls_server):
    with GraphDatabase.driver(f"bolt+ssc://127.0.0.1:{tls_server.bolt_port}", auth=AUTH) as d:
        assert one(d, "UNWIND range(1, 100) AS i RETURN sum(i)") == 5050


def test_neo4j_s_routing(tls_server, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_server.certs / "ca.pem"))
    with GraphDatabase.driver(f"neo4j+s://localhost:{tls_server.bolt_port}", auth=AUTH) as d:
        assert one(d) == 1
    with GraphDatabase.driver(f"neo4j+ssc://127.0.0.1:{tls_server.bolt_port}", auth=AUTH) as d:
        assert one(d) == 1


def test_untrusted_certificate_is_refused_by_the_driver(tls_server, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent-ca.pem")
    with GraphDatabase.driver(f"bolt+s://127.0.0.1:{tls_server.bolt_port}", auth=AUTH) as d:
        with pytest.raises(ServiceUnavailable):
            d.verify_connectivity()


def test_pymgclient_sslmode_require(tls_server):
    conn = mgclient.connect(host="127.0.0.1", port=tls_server.bolt_port,
                            username=AUTH[0], password=AUTH[1], sslmode=mgclient.MG_SSLMODE_REQUIRE)
    try:
        cur = conn.cursor()
        cur.execute("RETURN 41 + 1 AS x")
        assert cur.fetchall() == [(42,)]
    finally:
        conn.close()


def test_plaintext_neo4j_driver_is_refused_and_logged(tls_server):
    with GraphDatabase.driver(f"bolt://127.0.0.1:{tls_server.bolt_port}", auth=AUTH) as d:
        with pytest.raises(UnsupportedServerProduct) as e:
            d.verify_connectivity()
    # The server answered 00 00 00 00 (no common version) without reading any credentials.
    assert "does not support communication with this driver" in str(e.value), str(e.value)
    # The server logs right after closing: the driver may see the close first.
    line = wait_for(lambda: next((l for l in tls_server.read_log().splitlines()
                                  if "plaintext Bolt client" in l), None),
                    what="the plaintext WARN line")
    assert "WARN" in line
    for hint in ("bolt+s://", "neo4j+s://", "bolt+ssc://", "sslmode=REQUIRE", "--use-ssl"):
        assert hint in line, line


def test_plaintext_pymgclient_is_refused(tls_server):
    with pytest.raises(mgclient.OperationalError, match="unsupported protocol version"):
        mgclient.connect(host="127.0.0.1", port=tls_server.bolt_port,
                         username=AUTH[0], password=AUTH[1], sslmode=mgclient.MG_SSLMODE_DISABLE)


def test_plain_http_and_ws_on_the_tls_bolt_port_get_400(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.bolt_port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    assert data.startswith(b"HTTP/1.1 400 "), data
    assert b"this port requires TLS" in data


def test_wss_bolt_over_tls(tls_server):
    """Bolt over WebSocket inside TLS (what neo4j-driver in a browser does with wss://)."""
    import base64
    import os
    ctx = ssl.create_default_context(cafile=str(tls_server.certs / "ca.pem"))
    with socket.create_connection(("127.0.0.1", tls_server.bolt_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            key = base64.b64encode(os.urandom(16)).decode()
            s.sendall((f"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(1)
                assert chunk, head
                head += chunk
            assert head.startswith(b"HTTP/1.1 101"), head
            # One masked binary frame: magic + proposals (5.4..5.0, 4.4).
            payload = bytes.fromhex("6060B017") + bytes.fromhex("00040405") + bytes.fromhex("00000404") + bytes(8)
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            s.sendall(bytes([0x82, 0x80 | len(payload)]) + mask + masked)
            frame = b""
            while len(frame) < 6:
                chunk = s.recv(6 - len(frame))
                assert chunk
                frame += chunk
            assert frame[0] & 0x0F == 0x2 and frame[1] == 4, frame
            assert frame[2:6] in (bytes.fromhex("00000405"), bytes.fromhex("00000404")), frame


def test_show_tls_reports_the_bolt_certificate(tls_server):
    with GraphDatabase.driver(f"bolt+ssc://127.0.0.1:{tls_server.bolt_port}", auth=AUTH) as d:
        records, _, _ = d.execute_query("SHOW TLS")
    rows = {r["listener"]: r for r in records}
    assert set(rows) == {"bolt", "http"}
    bolt = rows["bolt"]
    assert bolt["tls"] is True
    assert "DNS:localhost" in bolt["sans"] and "IP:127.0.0.1" in bolt["sans"]
    assert "graphward local CA" in bolt["issuer"]
    assert norm_fp(bolt["fingerprint_sha256"]) == pem_fingerprint(tls_server.certs / "server.pem")
    assert norm_fp(bolt["fingerprint_sha256"]) == served_fingerprint(tls_server.bolt_port)
    assert bolt["cert_file"].endswith("server.pem") and bolt["key_file"].endswith("server.key")
    assert bolt["not_before"] < bolt["not_after"]
    assert bolt["loaded_at"] and bolt["last_reload_error"] is None
    assert bolt["min_version"] == "1.2"


def test_tls_client_on_a_plaintext_port_is_closed_and_logged(server):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", server.bolt_port), timeout=10) as raw:
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            with ctx.wrap_socket(raw, server_hostname="localhost"):
                pass
    wait_for(lambda: "TLS handshake on a plaintext Bolt port" in server.read_log(), what="the WARN line")
    # and the driver with bolt+ssc against a plaintext server fails rather than hangs
    with GraphDatabase.driver(f"bolt+ssc://127.0.0.1:{server.bolt_port}", auth=AUTH,
                              connection_timeout=5) as d:
        with pytest.raises(ServiceUnavailable):
            d.verify_connectivity()
