"""JWT refusals on the REST API as `curl -H "Authorization: Bearer ..."` sees them: one test per
refusal reason (Blocked is covered with the token endpoints). Each checks the HTTP status, the
stable `JWT-...` code, the masked token in the message, and that the whole token is neither in
the response (headers included) nor in the server's log. Tokens are made with PyJWT."""
import json
import shutil
import subprocess
import time

import jwt
import pytest
import requests

from conftest import AUTH, Server

ISSUER = "graphward-curl-tests"
AUDIENCE = "graphward"
SECRET = "c" * 48

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("jwt-curl")
    secret_file = d / "hmac.secret"
    secret_file.write_text(SECRET + "\n")
    data = d / "data"
    data.mkdir()
    srv = Server(str(data), [
        "--jwt-hmac-secret", f"@{secret_file}",
        "--jwt-issuer", ISSUER, "--jwt-audience", AUDIENCE,
        "--jwt-leeway", "1", "--jwt-max-lifetime", "1h",
    ]).start()
    base = f"http://127.0.0.1:{srv.http_port}"
    for graph, statement in [
        ("system", "CREATE DATABASE other IF NOT EXISTS"),
        ("system", "CREATE USER alice IDENTIFIED BY 'alice-password'"),
        ("system", "GRANT WRITE ON GRAPH neo4j TO alice"),
        ("system", "GRANT READ ON GRAPH other TO alice"),
        ("system", "CREATE USER bob IDENTIFIED BY 'bob-password'"),
        ("system", "GRANT READ ON GRAPH neo4j TO bob"),
    ]:
        r = requests.post(f"{base}/db/{graph}/query/v2", auth=AUTH, json={"statement": statement})
        assert r.status_code in (200, 202), r.text
    try:
        yield srv
    finally:
        srv.stop()


def claims(**over):
    now = int(time.time())
    c = {"sub": "alice", "iat": now, "exp": now + 600, "iss": ISSUER, "aud": AUDIENCE}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def token(secret=SECRET, **over):
    return jwt.encode(claims(**over), secret, algorithm="HS256")


def masked(t):
    return f"{t[:4]}****{t[-4:]}"


def curl(server, t, graph="neo4j"):
    """POST RETURN 1 with the bearer token; returns (status, headers+body text, JSON body)."""
    out = subprocess.run(
        ["curl", "-sS", "-i", "-X", "POST",
         "-H", f"Authorization: Bearer {t}",
         "-H", "Content-Type: application/json",
         "-d", json.dumps({"statement": "RETURN 1 AS x"}),
         f"http://127.0.0.1:{server.http_port}/db/{graph}/query/v2"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    raw = out.stdout
    head, _, body = raw.replace("\r\n", "\n").partition("\n\n")
    status = int(head.split()[1])
    return status, raw, json.loads(body)


def refused(server, t, code, status=401, graph="neo4j"):
    got, raw, body = curl(server, t, graph)
    assert got == status, raw
    message = body["errors"][0]["message"]
    assert code in message, message
    assert t not in raw
    assert t not in server.read_log()
    return message


def test_a_valid_token_is_accepted(server):
    status, raw, body = curl(server, token())
    assert status == 202, raw
    assert body["data"]["values"] == [[1]]


def test_format(server):
    for bad in ["x" * 40, "a" * 30 + "." + "b" * 30, "eyJhbGciOiJIUzI1NiJ9.@@@@@@@@.c2lnbmF0dXJlc2lnbmF0dXJl"]:
        message = refused(server, bad, "JWT-FORMAT")
        assert masked(bad) in message
        assert "Format" in message


def test_verification(server):
    t = token(secret="w" * 48)
    message = refused(server, t, "JWT-VERIFICATION")
    assert masked(t) in message


def test_expiration(server):
    now = int(time.time())
    t = token(iat=now - 700, exp=now - 100)
    got, raw, body = curl(server, t)
    assert got == 401, raw
    assert body["errors"][0]["code"] == "Neo.ClientError.Security.TokenExpired"
    message = body["errors"][0]["message"]
    assert "JWT-EXPIRATION" in message and masked(t) in message
    assert t not in raw and t not in server.read_log()


def test_not_yet_valid(server):
    t = token(nbf=int(time.time()) + 600)
    message = refused(server, t, "JWT-NOT-YET-VALID")
    assert masked(t) in message


def test_issuer(server):
    t = token(iss="someone-else")
    message = refused(server, t, "JWT-ISSUER")
    assert masked(t) in message


def test_audience(server):
    t = token(aud="Graphward")  # case-sensitive
    message = refused(server, t, "JWT-AUDIENCE")
    assert masked(t) in message


def test_user_does_not_exist(server):
    t = token(sub="ghost")
    message = refused(server, t, "JWT-USER-DOES-NOT-EXIST")
    assert masked(t) in message


def test_graph_does_not_exist(server):
    t = token(graph="nowhere")
    message = refused(server, t, "JWT-GRAPH-DOES-NOT-EXIST")
    assert masked(t) in message


def test_graph_scope(server):
    # bob has no privilege on `other`: a token narrowed to it is refused outright
    t = token(sub="bob", graph="other")
    message = refused(server, t, "JWT-GRAPH-SCOPE")
    assert masked(t) in message
    # alice's token narrowed to neo4j works there and is refused on `other` (403)
    scoped = token(graph="neo4j")
    assert curl(server, scoped, "neo4j")[0] == 202
    got, raw, body = curl(server, scoped, "other")
    assert got == 403, raw
    assert "JWT-GRAPH-SCOPE" in body["errors"][0]["message"]
    assert scoped not in raw and scoped not in server.read_log()


def test_other(server):
    # a lifetime (exp - iat) above Security.JWT.MaxLifetime (1h)
    now = int(time.time())
    t = token(iat=now, exp=now + 7200)
    message = refused(server, t, "JWT-OTHER")
    assert masked(t) in message
