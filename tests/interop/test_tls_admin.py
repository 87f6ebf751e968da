"""TLS administration from real clients: the HTTP reload endpoint (curl), the dedicated
TLS MANAGEMENT privilege (neo4j driver + curl), client-certificate login (curl and the neo4j
driver) and the certificate metrics in /metrics."""
import json
import re
import subprocess
from pathlib import Path

import pytest
from neo4j import GraphDatabase, TrustCustomCAs
from neo4j.exceptions import AuthError, ClientError, Neo4jError

from conftest import AUTH
from tls_helpers import gen_certs, install, make_client_cert, norm_fp, pem_fingerprint, served_fingerprint, tls_args


def curl(port, path, *args, ca: Path, method="POST", user=AUTH):
    """curl over HTTPS trusting only `ca`; returns (status, parsed JSON body or text)."""
    cmd = ["curl", "-sS", "--max-time", "20", "-X", method, "--cacert", str(ca),
           "-w", "\n%{http_code}", *args]
    if user:
        cmd += ["-u", f"{user[0]}:{user[1]}"]
    cmd.append(f"https://localhost:{port}{path}")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    body, _, status = r.stdout.rpartition("\n")
    try:
        return int(status), json.loads(body) if body else None
    except json.JSONDecodeError:
        return int(status), body


def bolt(port, ca: Path, auth=AUTH, **config):
    return GraphDatabase.driver(f"bolt://localhost:{port}", auth=auth, encrypted=True,
                                trusted_certificates=TrustCustomCAs(str(ca)), **config)


def run(driver, query, database=None):
    """An auto-commit statement (reloads refuse explicit transactions)."""
    with driver.session(database=database) as s:
        return list(s.run(query))


def metric(text: str, name: str, **labels) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    m = re.search(rf"^{re.escape(name)}\{{{re.escape(want)}\}} (\S+)$", text, re.M)
    assert m, f"{name}{{{want}}} not in /metrics"
    return float(m.group(1))


@pytest.fixture
def tls_server(tmp_path, make_server):
    live = gen_certs(tmp_path / "live")
    ca = tmp_path / "ca.pem"          # the CA clients trust: old and new server certs share it
    ca.write_bytes((live / "ca.pem").read_bytes())
    return live, ca, make_server(tls_args(live))


def test_http_reload_endpoint_with_curl(tmp_path, tls_server):
    live, ca, srv = tls_server
    # a new server certificate from the same CA, so clients keep trusting it
    new = tmp_path / "new"
    new.mkdir()
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=localhost", "-keyout", str(new / "server.key"), "-out", str(new / "req.csr")],
                   check=True, capture_output=True)
    (new / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    subprocess.run(["openssl", "x509", "-req", "-in", str(new / "req.csr"), "-CA", str(live / "ca.pem"),
                    "-CAkey", str(live / "ca.key"), "-CAcreateserial", "-days", "5", "-extfile", str(new / "ext.cnf"),
                    "-out", str(new / "server.pem")], check=True, capture_output=True)
    (new / "server.key").chmod(0o600)
    old_fp = pem_fingerprint(live / "server.pem")
    new_fp = pem_fingerprint(new / "server.pem")

    status, metrics_before = curl(srv.http_port, "/metrics", ca=ca, method="GET")
    assert status == 200
    started_before = metric(metrics_before, "graphward_tls_reloads_started_total", listener="http")

    with bolt(srv.bolt_port, ca) as a:                    # A: open before the rotation
        assert run(a, "RETURN 1 AS x")[0]["x"] == 1
        install(new, live)
        status, body = curl(srv.http_port, "/admin/tls/reload?listener=http", ca=ca)
        assert status == 200, body
        assert [r["listener"] for r in body["reloaded"]] == ["http"]
        assert norm_fp(body["reloaded"][0]["fingerprint_sha256"]) == new_fp
        assert served_fingerprint(srv.http_port) == new_fp
        assert served_fingerprint(srv.bolt_port) == old_fp   # only the listener asked for
        status, body = curl(srv.http_port, "/admin/tls/reload", ca=ca)
        assert status == 200, body
        assert sorted(r["listener"] for r in body["reloaded"]) == ["bolt", "http"]
        assert served_fingerprint(srv.bolt_port) == new_fp
        assert run(a, "RETURN 2 AS x")[0]["x"] == 2         # A keeps working

        # a broken key: 409 with the reason, the running certificate stays
        (live / "server.key").write_text("garbage\n")
        status, body = curl(srv.http_port, "/admin/tls/reload", ca=ca)
        assert status == 409, body
        err = body["errors"][0]
        assert err["code"] == "Graphward.ClientError.Tls.ReloadFailed"
        assert str(live / "server.key") in err["message"] and "previous certificate stays in use" in err["message"]
        assert served_fingerprint(srv.http_port) == new_fp
        assert run(a, "RETURN 3 AS x")[0]["x"] == 3

    status, body = curl(srv.http_port, "/admin/tls/reload?listener=smtp", ca=ca)
    assert status == 400 and "bolt, http or all" in body["errors"][0]["message"]
    status, body = curl(srv.http_port, "/admin/tls/reload", ca=ca, user=None)
    assert status == 401
    status, body = curl(srv.http_port, "/admin/tls/reload", ca=ca, user=("neo4j", "wrong-password"))
    assert status == 401

    # /metrics: not_after per listener and the reload counters
    status, text = curl(srv.http_port, "/metrics", ca=ca, method="GET")
    assert status == 200
    assert metric(text, "graphward_tls_reloads_started_total", listener="http") == started_before + 3
    assert metric(text, "graphward_tls_reloads_total", listener="http", result="ok") == 2
    assert metric(text, "graphward_tls_reloads_total", listener="http", result="failed") == 1
    assert metric(text, "graphward_tls_reloads_total", listener="bolt", result="failed") == 1
    import ssl
    from datetime import timezone
    der = ssl.PEM_cert_to_DER_cert((new / "server.pem").read_text())
    from cryptography import x509
    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc.replace(tzinfo=timezone.utc).timestamp()
    assert metric(text, "graphward_tls_certificate_not_after_seconds", listener="http") == not_after
    assert metric(text, "graphward_tls_certificate_not_after_seconds", listener="bolt") == not_after


def test_http_reload_without_tls_on_that_listener(tmp_path, make_server):
    live = gen_certs(tmp_path / "live")
    srv = make_server(tls_args(live, bolt=False))
    status, body = curl(srv.http_port, "/admin/tls/reload?listener=bolt", ca=live / "ca.pem")
    assert status == 409, body
    assert body["errors"][0]["code"] == "Graphward.ClientError.Tls.NotConfigured"
    assert "key or certificate file aren't set" in body["errors"][0]["message"]


def test_tls_management_privilege(tls_server):
    live, ca, srv = tls_server
    ops = ("ops", "ops-password-1")
    with bolt(srv.bolt_port, ca) as adm:
        run(adm, f"CREATE USER {ops[0]} IDENTIFIED BY '{ops[1]}'", database="system")
        run(adm, "CREATE ROLE tls_operators", database="system")
    with bolt(srv.bolt_port, ca, auth=ops) as d:
        # no privilege yet: refused on Bolt and over HTTP, with the privilege named
        with pytest.raises(ClientError) as e:
            run(d, "RELOAD TLS", database="system")
        assert e.value.code == "Neo.ClientError.Security.Forbidden"
        assert "TLS MANAGEMENT" in e.value.message
        with pytest.raises(ClientError):
            run(d, "SHOW TLS", database="system")
        status, body = curl(srv.http_port, "/admin/tls/reload", ca=ca, user=ops)
        assert status == 403 and "TLS MANAGEMENT" in body["errors"][0]["message"]

        # granted through a role: allowed everywhere, and nothing more
        with bolt(srv.bolt_port, ca) as adm:
            run(adm, "GRANT TLS MANAGEMENT ON DBMS TO tls_operators", database="system")
            run(adm, f"GRANT ROLE tls_operators TO {ops[0]}", database="system")
            rows = run(adm, f"SHOW PRIVILEGES FOR {ops[0]}", database="system")
        assert {(r["privilege"], r["graph"], r["source"]) for r in rows} == {("TLS MANAGEMENT", "DBMS", "tls_operators")}
        records = run(d, "RELOAD TLS", database="system")
        assert sorted(r["listener"] for r in records) == ["bolt", "http"]
        assert {r["listener"] for r in run(d, "SHOW TLS", database="system")} == {"bolt", "http"}
        status, body = curl(srv.http_port, "/admin/tls/reload", ca=ca, user=ops)
        assert status == 200, body
        with pytest.raises(ClientError) as e:          # no graph privilege came with it
            run(d, "MATCH (n) RETURN count(n)", database="neo4j")
        assert e.value.code == "Neo.ClientError.Security.Forbidden"
        with pytest.raises(ClientError):               # nor user management
            run(d, "CREATE USER eve IDENTIFIED BY 'eve-password'", database="system")

        # revoked: refused again at once, on the open connection too
        with bolt(srv.bolt_port, ca) as adm:
            run(adm, "REVOKE TLS MANAGEMENT ON DBMS FROM tls_operators", database="system")
        with pytest.raises(ClientError):
            run(d, "RELOAD TLS", database="system")
        status, _ = curl(srv.http_port, "/admin/tls/reload", ca=ca, user=ops)
        assert status == 403
    # granted to the user directly, and it survives a restart
    with bolt(srv.bolt_port, ca) as adm:
        run(adm, f"GRANT TLS MANAGEMENT ON DBMS TO {ops[0]}", database="system")
    srv.stop()
    srv.start()
    status, body = curl(srv.http_port, "/admin/tls/reload", ca=ca, user=ops)
    assert status == 200, body


@pytest.fixture
def client_cert_server(tmp_path, make_server):
    live = gen_certs(tmp_path / "live")
    client_ca = gen_certs(tmp_path / "client-ca")
    srv = make_server(tls_args(live) + ["--tls-client-ca-file", str(client_ca / "ca.pem"),
                                        "--tls-client-auth", "optional"])
    with bolt(srv.bolt_port, live / "ca.pem") as adm:
        # alice has no password at all: she can sign in with her certificate only
        run(adm, "CREATE USER alice", database="system")
        run(adm, "GRANT READ ON GRAPH neo4j TO alice", database="system")
    return live / "ca.pem", client_ca, srv


def test_client_certificate_logs_in_over_https(tmp_path, client_cert_server):
    ca, client_ca, srv = client_cert_server
    cert, key = make_client_cert(client_ca, tmp_path / "alice", cn="alice")
    query = ["-H", "Content-Type: application/json", "-d", '{"statement": "SHOW CURRENT USER"}']
    status, body = curl(srv.http_port, "/db/neo4j/query/v2", "--cert", str(cert), "--key", str(key), *query,
                        ca=ca, user=None)
    assert status in (200, 202), body
    assert body["data"]["values"][0][0] == "alice"
    # READ only: a write is refused
    status, body = curl(srv.http_port, "/db/neo4j/query/v2", "--cert", str(cert), "--key", str(key),
                        "-H", "Content-Type: application/json", "-d", '{"statement": "CREATE (n)"}', ca=ca, user=None)
    assert status == 403, body
    # explicit credentials win over the certificate
    status, body = curl(srv.http_port, "/db/neo4j/query/v2", "--cert", str(cert), "--key", str(key), *query, ca=ca)
    assert body["data"]["values"][0][0] == "neo4j"
    # no certificate, no credentials: 401
    status, body = curl(srv.http_port, "/db/neo4j/query/v2", *query, ca=ca, user=None)
    assert status == 401
    # a certificate that names no user: 401 that says so
    cert2, key2 = make_client_cert(client_ca, tmp_path / "bob", cn="bob")
    status, body = curl(srv.http_port, "/db/neo4j/query/v2", "--cert", str(cert2), "--key", str(key2), *query,
                        ca=ca, user=None)
    assert status == 401 and "does not name a user" in body["errors"][0]["message"], body
    # a SAN (e-mail) can name the user too
    cert3, key3 = make_client_cert(client_ca, tmp_path / "svc", cn="some-service", sans=("alice",))
    status, body = curl(srv.http_port, "/db/neo4j/query/v2", "--cert", str(cert3), "--key", str(key3), *query,
                        ca=ca, user=None)
    assert status in (200, 202) and body["data"]["values"][0][0] == "alice", body


def test_client_certificate_logs_in_over_bolt(tmp_path, client_cert_server):
    from neo4j.auth_management import ClientCertificate
    ca, client_ca, srv = client_cert_server
    cert, key = make_client_cert(client_ca, tmp_path / "alice", cn="alice")
    with bolt(srv.bolt_port, ca, auth=None, client_certificate=ClientCertificate(str(cert), str(key))) as d:
        rows = run(d, "SHOW CURRENT USER")
        assert rows[0]["user"] == "alice"
        assert run(d, "RETURN 1 AS x")[0]["x"] == 1
    cert2, key2 = make_client_cert(client_ca, tmp_path / "bob", cn="bob")
    with bolt(srv.bolt_port, ca, auth=None, client_certificate=ClientCertificate(str(cert2), str(key2))) as d:
        with pytest.raises((AuthError, Neo4jError)) as e:
            run(d, "RETURN 1")
        assert "does not name a user" in str(e.value)
    assert "authenticated by client certificate" in srv.read_log()
