"""Denial of service and lock-out, tried the way an attacker on loopback would (bounded runs):
a storm of bad logins stays under a stated memory bound and never locks the administrator out
from another address; silent sockets on every listener do not starve real clients; malleated
and never-expiring JWTs are refused; anonymous /health says nothing but the status; files the
server creates are private.

127.0.0.2.. serve as other client addresses (the whole 127/8 is loopback on Linux)."""
import asyncio
import base64
import json
import os
import resource
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from neo4j import GraphDatabase
from neo4j.exceptions import Neo4jError

from conftest import PASSWORD, Server
from tls_helpers import gen_certs, tls_args

MAGIC = b"\x60\x60\xB0\x17"
BOLT_44 = bytes([0, 0, 4, 4]) + bytes(12)
# Memory bound stated for the storm (issue 14: 1,200 bad logins under 300 MB peak).
STORM_RSS_LIMIT_KB = 300 * 1024


def raise_nofile(want=8192):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def vm(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


# ---- a minimal Bolt client (PackStream for small maps of strings) -------------------------------

def ps_string(s: str) -> bytes:
    b = s.encode()
    if len(b) < 16:
        return bytes([0x80 + len(b)]) + b
    if len(b) < 256:
        return bytes([0xD0, len(b)]) + b
    return bytes([0xD1]) + len(b).to_bytes(2, "big") + b


def ps_map(m: dict) -> bytes:
    out = bytes([0xA0 + len(m)])
    for k, v in m.items():
        out += ps_string(k) + ps_string(v)
    return out


def chunked(payload: bytes) -> bytes:
    return len(payload).to_bytes(2, "big") + payload + b"\x00\x00"


def hello(user, password) -> bytes:
    return chunked(b"\xB1\x01" + ps_map({"user_agent": "dos-test/1", "scheme": "basic",
                                           "principal": user, "credentials": password}))


async def bolt_login(source, port, user, password, timeout=60.0):
    """Handshake 4.4 and HELLO from `source`; returns 'success', a Neo4j code, or 'closed'."""
    async def go():
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        try:
            writer.write(MAGIC + BOLT_44)
            await writer.drain()
            if await reader.readexactly(4) != bytes([0, 0, 4, 4]):
                return "closed"
            writer.write(hello(user, password))
            await writer.drain()
            size = int.from_bytes(await reader.readexactly(2), "big")
            payload = await reader.readexactly(size)
            if payload[1] == 0x70:
                return "success"
            i = payload.find(b"Neo.")
            return payload[i:].split(b"\x87")[0].decode(errors="replace")[:60] if i >= 0 else "failure"
        finally:
            writer.close()
    try:
        return await asyncio.wait_for(go(), timeout)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
        return "closed"


def admin_query(uri, timeout=20):
    with GraphDatabase.driver(uri, auth=("neo4j", PASSWORD), connection_timeout=timeout,
                              max_transaction_retry_time=0) as d:
        with d.session() as s:
            return s.run("RETURN 1 AS x").single()["x"]


@pytest.fixture
def plain_server(make_server):
    return make_server()


def test_login_storm_is_bounded_and_never_locks_the_admin_out(plain_server):
    raise_nofile()
    srv = plain_server
    pid = srv.proc.pid
    base_rss = vm(pid, "VmRSS")
    n = 1200
    sources = [f"127.0.0.{i}" for i in range(2, 8)]
    admin_results = []

    def admin_during_storm():
        time.sleep(0.5)
        for _ in range(3):
            # A busy refusal is transient (drivers retry it); a lock-out or a wrong-password
            # answer would not be.
            for attempt in range(4):
                try:
                    admin_results.append(admin_query(srv.bolt_uri))
                    break
                except Neo4jError as e:
                    if e.code != "Neo.TransientError.Security.AuthenticationBusy" or attempt == 3:
                        admin_results.append(f"{e.code}: {e.message}")
                        break
                    time.sleep(0.5)
                except Exception as e:  # recorded, asserted below
                    admin_results.append(repr(e))
                    break
            time.sleep(0.5)

    async def storm():
        tasks = []
        for i in range(n):
            user = "neo4j" if i % 2 == 0 else f"nobody{i}"
            tasks.append(bolt_login(sources[i % len(sources)], srv.bolt_port, user, f"wrong-{i}-pw"))
        return await asyncio.gather(*tasks)

    t = threading.Thread(target=admin_during_storm)
    t.start()
    started = time.monotonic()
    results = asyncio.run(storm())
    elapsed = time.monotonic() - started
    t.join()
    peak = vm(pid, "VmHWM")
    outcome = {}
    for r in results:
        outcome[r] = outcome.get(r, 0) + 1
    print(f"storm: {n} bad logins in {elapsed:.1f}s, RSS {base_rss} kB -> peak {peak} kB; {outcome}")
    assert "success" not in outcome
    assert peak < STORM_RSS_LIMIT_KB, f"peak RSS {peak} kB"
    # Refusals are the documented ones: wrong credentials, throttled, busy, or closed
    # (over the pre-authentication caps).
    allowed = {"Neo.ClientError.Security.Unauthorized", "Neo.ClientError.Security.AuthenticationRateLimit",
               "Neo.TransientError.Security.AuthenticationBusy", "closed"}
    assert set(outcome) <= allowed, outcome
    # The administrator, from 127.0.0.1, logged in during the storm and still does after it.
    assert admin_results == [1, 1, 1], admin_results
    assert admin_query(srv.bolt_uri) == 1
    # From a storm address the administrator is throttled at most; from another, never.
    r = asyncio.run(bolt_login("127.0.0.9", srv.bolt_port, "neo4j", PASSWORD))
    assert r == "success"


def test_throttling_is_per_address(plain_server):
    srv = plain_server

    async def run():
        for i in range(7):
            await bolt_login("127.0.0.20", srv.bolt_port, "neo4j", f"bad-password-{i}")
        locked = await bolt_login("127.0.0.20", srv.bolt_port, "neo4j", PASSWORD)
        other = await bolt_login("127.0.0.21", srv.bolt_port, "neo4j", PASSWORD)
        return locked, other
    locked, other = asyncio.run(run())
    assert locked == "Neo.ClientError.Security.AuthenticationRateLimit"
    assert other == "success"


# ---- silent sockets ---------------------------------------------------------------------------

def open_silent(port, count, sources, tls=False):
    socks = []
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    for i in range(count):
        s = socket.socket()
        s.setblocking(True)
        s.settimeout(2)
        try:
            s.bind((sources[i % len(sources)], 0))
            s.connect(("127.0.0.1", port))
            if tls and i % 2 == 0 and i < 100:
                # Some complete the TLS handshake, then say nothing.
                s = ctx.wrap_socket(s, server_hostname="localhost")
        except OSError:
            pass
        socks.append(s)
    return socks


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}", *args],
                          capture_output=True, text=True, timeout=10)


@pytest.fixture(scope="module")
def tls_server():
    with tempfile.TemporaryDirectory(prefix="graphward-dos-") as d:
        certs = gen_certs(Path(d) / "certs")
        (Path(d) / "data").mkdir(mode=0o700)
        srv = Server(str(Path(d) / "data"), tls_args(certs, bolt=True, http=True)).start()
        srv.certs = certs
        try:
            yield srv
        finally:
            srv.stop()


def test_silent_sockets_do_not_starve_real_clients(plain_server):
    raise_nofile()
    srv = plain_server
    sources = ["127.0.0.2", "127.0.0.3"]
    socks = open_silent(srv.http_port, 1000, sources) + open_silent(srv.bolt_port, 1000, sources)
    try:
        t0 = time.monotonic()
        r = curl("-u", f"neo4j:{PASSWORD}", f"http://127.0.0.1:{srv.http_port}/db/neo4j/query/v2",
                 "-H", "Content-Type: application/json", "-d", '{"statement": "RETURN 1"}')
        assert r.stdout == "202", r.stderr
        assert admin_query(srv.bolt_uri, timeout=2) == 1
        assert time.monotonic() - t0 < 4
        # From a flooding address, plain HTTP gets a 503 with the JSON error shape. The flood's
        # first sockets reach their 10 s pre-authentication deadline and free their slots (on a
        # slow machine opening 2,000 sockets can take that long), so the address's cap is
        # filled again just before asking; `Connection: close` so that a wrongly admitted
        # request ends with its answer instead of waiting out keep-alive.
        socks += open_silent(srv.http_port, 80, ["127.0.0.2"])
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", srv.http_port))
        s.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        assert data.startswith(b"HTTP/1.1 503"), data[:100]
        body = json.loads(data.split(b"\r\n\r\n", 1)[1])
        assert body["errors"][0]["code"] == "Neo.TransientError.Security.AuthenticationBusy"
    finally:
        for s in socks:
            s.close()


def test_silent_tls_sockets_do_not_starve_real_clients(tls_server):
    raise_nofile()
    srv = tls_server
    sources = ["127.0.0.2", "127.0.0.3"]
    socks = open_silent(srv.http_port, 1000, sources, tls=True) + open_silent(srv.bolt_port, 1000, sources, tls=True)
    try:
        t0 = time.monotonic()
        r = curl("--cacert", str(srv.certs / "ca.pem"), f"https://localhost:{srv.http_port}/ping")
        assert r.stdout == "204", r.stderr
        with GraphDatabase.driver(f"bolt+ssc://127.0.0.1:{srv.bolt_port}", auth=("neo4j", PASSWORD),
                                  connection_timeout=2) as d:
            d.verify_connectivity()
        assert time.monotonic() - t0 < 4
    finally:
        for s in socks:
            s.close()


def test_preauth_deadline_closes_silent_connections(make_server):
    srv = make_server(extra_args=["--preauth-timeout", "1s"])
    http = socket.create_connection(("127.0.0.1", srv.http_port), timeout=5)
    bolt = socket.create_connection(("127.0.0.1", srv.bolt_port), timeout=5)
    bolt.sendall(MAGIC + BOLT_44)
    assert bolt.recv(4) == bytes([0, 0, 4, 4])
    # Neither sends anything more: both are closed after about a second.
    t0 = time.monotonic()
    assert http.recv(1) == b""
    assert bolt.recv(1) == b""
    assert time.monotonic() - t0 < 4
    http.close()
    bolt.close()
    # An authenticated Bolt connection is not affected by the deadline.
    with GraphDatabase.driver(srv.bolt_uri, auth=("neo4j", PASSWORD)) as d:
        with d.session() as s:
            s.run("RETURN 1").consume()
            time.sleep(1.5)
            assert s.run("RETURN 2 AS x").single()["x"] == 2


def test_bolt_over_the_cap_gets_a_failure(make_server):
    srv = make_server(extra_args=["--preauth-max-per-address", "2"])
    busy = "Neo.TransientError.Security.AuthenticationBusy"
    # The start-up probe's connection (conftest) counts until the server has seen it close;
    # on a loaded machine it may still count when the two held connections arrive (the
    # second is then the one refused, and the login gets the probe's freed place): such a
    # round is tried again with two new held connections.
    for _ in range(20):
        held = []
        for _ in range(2):
            s = socket.create_connection(("127.0.0.1", srv.bolt_port), timeout=5)
            s.sendall(MAGIC + BOLT_44)
            s.recv(4)
            held.append(s)
        r = asyncio.run(bolt_login("127.0.0.1", srv.bolt_port, "neo4j", PASSWORD))
        if r == busy:
            break
        for s in held:
            s.close()
        time.sleep(0.25)
    assert r == busy
    # Another address is not affected.
    assert asyncio.run(bolt_login("127.0.0.2", srv.bolt_port, "neo4j", PASSWORD)) == "success"
    for s in held:
        s.close()


# ---- least exposure ---------------------------------------------------------------------------

def test_anonymous_health_is_status_only(plain_server):
    srv = plain_server
    r = requests.get(f"http://127.0.0.1:{srv.http_port}/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    bad = requests.get(f"http://127.0.0.1:{srv.http_port}/health", auth=("neo4j", "wrong-password"))
    assert bad.json() == {"status": "ok"}
    full = requests.get(f"http://127.0.0.1:{srv.http_port}/health", auth=("neo4j", PASSWORD)).json()
    assert "neo4j" in full["storage"]["databases"]


def test_files_are_private(plain_server):
    srv = plain_server
    # Make the server write: a database, a user, a token key.
    admin_query(srv.bolt_uri)
    with GraphDatabase.driver(srv.bolt_uri, auth=("neo4j", PASSWORD)) as d:
        d.execute_query("CREATE (:Private {x: 1})")
        d.execute_query("CREATE USER dosfiles IDENTIFIED BY 'files-password'", database_="system")
    root = Path(srv.data_dir)
    bad = []
    for p in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(p.lstat().st_mode)
        if p.is_symlink() or p.name == "server.log":  # the test harness writes the log
            continue
        want = 0o700 if p.is_dir() else 0o600
        if mode & 0o077:
            bad.append(f"{p.relative_to(root.parent)} {oct(mode)} (want {oct(want)})")
    assert not bad, "\n".join(bad)


# ---- token identity and numeric dates ------------------------------------------------------------

P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def twin(token: str) -> str:
    """The same ES256 token under the other valid signature (r, n - s)."""
    head, body, sig = token.split(".")
    raw = b64url_decode(sig)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    return f"{head}.{body}.{b64url(r + (P256_N - s).to_bytes(32, 'big'))}"


@pytest.fixture(scope="module")
def ec_server(tmp_path_factory):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    d = tmp_path_factory.mktemp("dos-jwt")
    key = ec.generate_private_key(ec.SECP256R1())
    pub = d / "ec.pem"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    (d / "data").mkdir(mode=0o700)
    srv = Server(str(d / "data"), ["--jwt-rsa-public-key", f"@{pub}"]).start()
    srv.key = key
    srv.public_key_file = pub
    try:
        yield srv
    finally:
        srv.stop()


def bearer_query(srv, token):
    return requests.post(f"http://127.0.0.1:{srv.http_port}/db/neo4j/query/v2",
                         json={"statement": "RETURN 1 AS x"}, headers={"Authorization": f"Bearer {token}"},
                         timeout=10)


def es256(srv, claims):
    import jwt
    return jwt.encode(claims, srv.key, algorithm="ES256")


def test_a_dropped_es256_token_does_not_come_back_with_the_twin_signature(ec_server):
    srv = ec_server
    now = int(time.time())
    token = es256(srv, {"sub": "neo4j", "iat": now, "exp": now + 600, "jti": "dos-1"})
    other = twin(token)
    assert other != token
    assert bearer_query(srv, token).status_code == 202
    assert bearer_query(srv, other).status_code == 202  # both signatures are valid ECDSA
    r = requests.delete(f"http://127.0.0.1:{srv.http_port}/gsql/v1/tokens", auth=("neo4j", PASSWORD),
                        json={"tokens": [token]}, timeout=10)
    assert r.status_code == 200 and r.json()["dropped"] == 1, r.text
    for t in (token, other):
        r = bearer_query(srv, t)
        assert r.status_code == 401
        assert "JWT-BLOCKED" in r.json()["errors"][0]["message"]
    # Over Bolt too.
    with pytest.raises(Neo4jError):
        with GraphDatabase.driver(srv.bolt_uri, auth=__import__("neo4j").bearer_auth(other)) as d:
            d.verify_connectivity()


@pytest.mark.parametrize("exp", ["{now}.5", "1e300", "18446744073709551616", "9223372036854775807",
                                 "253402300800", "{now}.0"])
def test_numeric_dates_must_be_whole_seconds_in_range(ec_server, exp):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    srv = ec_server
    exp = exp.format(now=int(time.time()) + 600)
    signing_input = b64url(b'{"alg":"ES256","typ":"JWT"}') + "." + b64url(f'{{"sub":"neo4j","exp":{exp}}}'.encode())
    r, s = decode_dss_signature(srv.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    token = signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    resp = bearer_query(srv, token)
    assert resp.status_code == 401, resp.text
    assert "JWT-FORMAT" in resp.json()["errors"][0]["message"]


def test_external_tokens_have_a_default_maximum_lifetime(ec_server):
    srv = ec_server
    now = int(time.time())
    assert bearer_query(srv, es256(srv, {"sub": "neo4j", "iat": now, "exp": now + 23 * 3600})).status_code == 202
    long_lived = es256(srv, {"sub": "neo4j", "iat": now, "exp": now + 10 * 365 * 86400})
    assert bearer_query(srv, long_lived).status_code == 401
    no_iat = es256(srv, {"sub": "neo4j", "exp": now + 10 * 365 * 86400})
    assert bearer_query(srv, no_iat).status_code == 401


def test_anonymous_keep_alive_connections_stay_within_the_address_cap(make_server):
    srv = make_server(extra_args=["--preauth-max-per-address", "2"])

    def conn(source="127.0.0.1"):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", srv.http_port))
        return s

    def get(s, path="/ping", auth=None):
        extra = b""
        if auth:
            extra = b"Authorization: Basic " + base64.b64encode(auth.encode()) + b"\r\n"
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + extra + b"\r\n")
        return s.recv(65536)

    a, b = conn(), conn()
    assert get(a).startswith(b"HTTP/1.1 204")
    assert get(b).startswith(b"HTTP/1.1 204")
    # Two anonymous keep-alive connections from 127.0.0.1: a third is refused, another
    # address is not.
    assert get(conn()).startswith(b"HTTP/1.1 503")
    assert get(conn("127.0.0.2")).startswith(b"HTTP/1.1 204")
    # A request that authenticates frees its connection's slot.
    assert get(a, "/health", auth=f"neo4j:{PASSWORD}").startswith(b"HTTP/1.1 200")
    time.sleep(0.1)
    assert get(conn()).startswith(b"HTTP/1.1 204")
    a.close()
    b.close()


def test_low_s_only_when_required(ec_server, make_server):
    srv = make_server(extra_args=["--jwt-rsa-public-key", f"@{ec_server.public_key_file}", "--jwt-require-low-s"])
    now = int(time.time())
    token = es256(ec_server, {"sub": "neo4j", "iat": now, "exp": now + 600})
    s = int.from_bytes(b64url_decode(token.split(".")[2])[32:], "big")
    low, high = (token, twin(token)) if s <= P256_N // 2 else (twin(token), token)
    assert bearer_query(srv, low).status_code == 202
    r = bearer_query(srv, high)
    assert r.status_code == 401
    assert "low-s" in r.json()["errors"][0]["message"]
    # Without the setting both forms are accepted (PyJWT does not normalise its signatures).
    assert bearer_query(ec_server, high).status_code == 202
