"""Certificate rotation without restart: RELOAD BOLT_SERVER TLS, RELOAD HTTP_SERVER TLS,
RELOAD TLS / CALL dbms.security.reloadTLS(), SIGHUP and --tls-watch.

Each test: connection A is open before the rotation and keeps working after it; connection B
opened after it presents the new certificate (by fingerprint, and a driver that trusts only the
new CA connects); a broken file makes the reload fail with the reason and changes nothing
(connection C still gets the new good certificate)."""
import signal
import socket
import ssl
from pathlib import Path

import pytest
from neo4j import READ_ACCESS, GraphDatabase, TrustCustomCAs
from neo4j.exceptions import ClientError, Neo4jError

from tls_helpers import (gen_certs, install, norm_fp, pem_fingerprint, served_fingerprint, tls_args,
                         wait_for)

AUTH = ("neo4j", "password")


def driver_for(port, ca: Path):
    return GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=AUTH, encrypted=True,
                                trusted_certificates=TrustCustomCAs(str(ca)), max_connection_pool_size=2)


def admin(port):
    return GraphDatabase.driver(f"bolt+ssc://127.0.0.1:{port}", auth=AUTH)


def run(driver, query):
    """An auto-commit statement (driver.execute_query wraps it in a transaction, and the reload
    commands refuse to run inside one)."""
    with driver.session() as s:
        return list(s.run(query))


@pytest.fixture
def rotation(tmp_path, make_server):
    live = gen_certs(tmp_path / "live")
    old_ca = tmp_path / "old-ca.pem"
    old_ca.write_bytes((live / "ca.pem").read_bytes())
    new = gen_certs(tmp_path / "new")      # a different CA: only the new CA trusts it
    return live, old_ca, new, make_server


def https_get(port, ca: Path, sock=None):
    """GET / over TLS trusting only `ca` (or over an already handshaken socket)."""
    if sock is None:
        ctx = ssl.create_default_context(cafile=str(ca))
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock = ctx.wrap_socket(raw, server_hostname="localhost")
    with sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    return data


def test_reload_bolt_server_tls(rotation):
    live, old_ca, new, make_server = rotation
    srv = make_server(tls_args(live))
    old_fp = pem_fingerprint(live / "server.pem")
    assert served_fingerprint(srv.bolt_port) == old_fp

    with driver_for(srv.bolt_port, old_ca) as a_driver, a_driver.session(default_access_mode=READ_ACCESS) as a:
        tx = a.begin_transaction()
        assert tx.run("RETURN 1 AS x").single()["x"] == 1

        install(new, live)
        with admin(srv.bolt_port) as adm:
            records = run(adm, "RELOAD BOLT_SERVER TLS")
        new_fp = pem_fingerprint(new / "server.pem")
        assert [r["listener"] for r in records] == ["bolt"]
        assert norm_fp(records[0]["fingerprint_sha256"]) == new_fp

        # A: opened before the reload, still runs queries (with the old certificate).
        assert tx.run("RETURN 2 AS x").single()["x"] == 2
        tx.commit()
        assert a.run("RETURN 3 AS x").single()["x"] == 3

        # B: new connections get the new certificate.
        assert served_fingerprint(srv.bolt_port) == new_fp
        with driver_for(srv.bolt_port, new / "ca.pem") as b:
            assert b.execute_query("RETURN 4 AS x").records[0]["x"] == 4
        # the HTTP listener was not touched
        assert served_fingerprint(srv.http_port) == old_fp

        # A broken file: the reload fails, says why, and nothing changes.
        (live / "server.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
        with admin(srv.bolt_port) as adm:
            with pytest.raises(ClientError) as e:
                run(adm, "RELOAD BOLT_SERVER TLS")
            assert str(live / "server.pem") in e.value.message, e.value.message
            assert "previous certificate stays in use" in e.value.message
            rows = {r["listener"]: r for r in run(adm, "SHOW TLS")}
        assert rows["bolt"]["last_reload_error"] and str(live / "server.pem") in rows["bolt"]["last_reload_error"]
        assert norm_fp(rows["bolt"]["fingerprint_sha256"]) == new_fp
        assert rows["bolt"]["reloads_failed"] == 1 and rows["bolt"]["reloads_succeeded"] == 1
        # C: still the new good certificate; A still works.
        assert served_fingerprint(srv.bolt_port) == new_fp
        with driver_for(srv.bolt_port, new / "ca.pem") as c:
            assert c.execute_query("RETURN 5 AS x").records[0]["x"] == 5
        assert a.run("RETURN 6 AS x").single()["x"] == 6
    assert "TLS reload failed" in srv.read_log()


def test_reload_http_server_tls(rotation):
    live, old_ca, new, make_server = rotation
    srv = make_server(tls_args(live))
    old_fp = pem_fingerprint(live / "server.pem")
    new_fp = pem_fingerprint(new / "server.pem")
    assert served_fingerprint(srv.http_port) == old_fp

    # A: an HTTPS connection whose handshake completes before the rotation.
    ctx = ssl.create_default_context(cafile=str(old_ca))
    a = ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.http_port), timeout=10),
                        server_hostname="localhost")
    install(new, live)
    with admin(srv.bolt_port) as adm:
        records = run(adm, "RELOAD HTTP_SERVER TLS;")
    assert [r["listener"] for r in records] == ["http"]
    assert https_get(srv.http_port, old_ca, sock=a).startswith(b"HTTP/1.1 200")
    # B
    assert served_fingerprint(srv.http_port) == new_fp
    assert https_get(srv.http_port, new / "ca.pem").startswith(b"HTTP/1.1 200")
    # Bolt kept its certificate
    assert served_fingerprint(srv.bolt_port) == old_fp

    # broken key: refused with the reason
    (live / "server.key").write_text("garbage\n")
    with admin(srv.bolt_port) as adm:
        with pytest.raises(ClientError) as e:
            run(adm, "RELOAD HTTP_SERVER TLS")
    assert str(live / "server.key") in e.value.message, e.value.message
    # C
    assert served_fingerprint(srv.http_port) == new_fp
    assert https_get(srv.http_port, new / "ca.pem").startswith(b"HTTP/1.1 200")


def test_reload_tls_and_the_neo4j_procedure_reload_both(rotation):
    live, old_ca, new, make_server = rotation
    srv = make_server(tls_args(live))
    install(new, live)
    new_fp = pem_fingerprint(new / "server.pem")
    with admin(srv.bolt_port) as adm:
        records = run(adm, "CALL dbms.security.reloadTLS()")
        assert sorted(r["listener"] for r in records) == ["bolt", "http"]
        assert served_fingerprint(srv.bolt_port) == new_fp == served_fingerprint(srv.http_port)
        records = run(adm, "RELOAD TLS")
        assert sorted(r["listener"] for r in records) == ["bolt", "http"]


def test_sighup_reloads_every_listener(rotation):
    live, old_ca, new, make_server = rotation
    srv = make_server(tls_args(live))
    with driver_for(srv.bolt_port, old_ca) as a_driver, a_driver.session(default_access_mode=READ_ACCESS) as a:
        assert a.run("RETURN 1 AS x").single()["x"] == 1
        install(new, live)
        new_fp = pem_fingerprint(new / "server.pem")
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: served_fingerprint(srv.bolt_port) == new_fp, what="Bolt to serve the new certificate")
        wait_for(lambda: served_fingerprint(srv.http_port) == new_fp, what="HTTP to serve the new certificate")
        assert a.run("RETURN 2 AS x").single()["x"] == 2
        # broken pair: SIGHUP logs the failure and keeps serving the good certificate
        (live / "server.key").write_bytes((old_ca.parent / "live" / "ca.key").read_bytes())
        srv.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: srv.read_log().count("TLS reload failed") >= 2, what="the failed reloads to be logged")
        assert served_fingerprint(srv.bolt_port) == new_fp
        assert a.run("RETURN 3 AS x").single()["x"] == 3
    assert srv.proc.poll() is None


def test_tls_watch_reloads_when_files_change(rotation):
    live, old_ca, new, make_server = rotation
    srv = make_server(tls_args(live) + ["--tls-watch", "200ms"])
    install(new, live)
    new_fp = pem_fingerprint(new / "server.pem")
    wait_for(lambda: served_fingerprint(srv.bolt_port) == new_fp, what="the watcher to reload Bolt")
    wait_for(lambda: served_fingerprint(srv.http_port) == new_fp, what="the watcher to reload HTTP")


def test_reload_refusals(tmp_path, make_server):
    live = gen_certs(tmp_path / "live")
    srv = make_server(tls_args(live, http=False))
    with admin(srv.bolt_port) as adm:
        # no TLS on HTTP: Memgraph's message
        with pytest.raises(Neo4jError) as e:
            run(adm, "RELOAD HTTP_SERVER TLS")
        assert "key or certificate file aren't set" in e.value.message
        # RELOAD TLS reloads what has TLS
        records = run(adm, "RELOAD TLS")
        assert [r["listener"] for r in records] == ["bolt"]
        # not inside an explicit transaction (driver.execute_query uses one)
        with pytest.raises(Neo4jError) as e:
            adm.execute_query("RELOAD TLS")
        assert "explicit transaction" in e.value.message
        with adm.session() as s:
            tx = s.begin_transaction()
            with pytest.raises(Neo4jError) as e:
                tx.run("RELOAD BOLT_SERVER TLS").consume()
            assert "explicit transaction" in e.value.message
        rows = {r["listener"]: r for r in run(adm, "SHOW TLS")}
        assert rows["http"]["tls"] is False and rows["bolt"]["tls"] is True


def test_reload_without_any_tls(server):
    with GraphDatabase.driver(server.bolt_uri, auth=AUTH) as d:
        with pytest.raises(Neo4jError) as e:
            run(d, "RELOAD BOLT_SERVER TLS")
        assert "key or certificate file aren't set" in e.value.message
