"""Server-issued tokens (TigerGraph's /gsql/v1/tokens), user secrets, the block list, revoke-all
and Bolt re-authentication, through real clients: `requests`, `curl` and the neo4j driver."""
import json
import subprocess
import time
import uuid

import jwt
import neo4j
import pytest
import requests
from neo4j import GraphDatabase

from conftest import AUTH

HMAC_SECRET = "k" * 64
UNAUTHORIZED = "Neo.ClientError.Security.Unauthorized"
DROP_LIMIT = "Neo.ClientError.Security.TokenDropLimitExceeded"
PASSWORD = "secret-password"


def base(server):
    return f"http://127.0.0.1:{server.http_port}"


def name(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def admin(server, query, **params):
    with GraphDatabase.driver(server.bolt_uri, auth=AUTH) as d:
        with d.session(database="system") as s:
            return [r.data() for r in s.run(query, params)]


def new_user(server, level="READ", graph="neo4j"):
    user = name("u")
    admin(server, f"CREATE USER {user} IDENTIFIED BY '{PASSWORD}'")
    admin(server, f"GRANT {level} ON GRAPH {graph} TO {user}")
    return user


def issue(server, auth=None, **body):
    r = requests.post(f"{base(server)}/gsql/v1/tokens", auth=auth, json=body, timeout=10)
    return r


def token_for(server, user, **body):
    r = issue(server, (user, PASSWORD), **body)
    assert r.status_code == 200, r.text
    return r.json()["token"]


def http_query(server, token, graph="neo4j", statement="RETURN 1 AS x"):
    return requests.post(f"{base(server)}/db/{graph}/query/v2",
                         headers={"Authorization": f"Bearer {token}"},
                         json={"statement": statement}, timeout=10)


def accepted(r):
    """Query API v2 answers 202 to an auto-commit query."""
    return r.status_code in (200, 202)


def bolt_ok(server, token, database="neo4j"):
    with GraphDatabase.driver(server.bolt_uri, auth=neo4j.bearer_auth(token)) as d:
        with d.session(database=database) as s:
            return s.run("RETURN 1 AS x").single()["x"] == 1


def drop(server, auth, tokens=None, **params):
    body = None if tokens is None else {"tokens": ", ".join(tokens)}
    return requests.delete(f"{base(server)}/gsql/v1/tokens", auth=auth, params=params,
                           json=body, timeout=10)


def bearer(token):
    class B(requests.auth.AuthBase):
        def __call__(self, r):
            r.headers["Authorization"] = f"Bearer {token}"
            return r
    return B()


def check(server, token):
    r = requests.post(f"{base(server)}/gsql/v1/tokens/check", json={"token": token}, timeout=10)
    assert r.status_code == 200, r.text
    assert token not in r.text or len(token) < 13
    return r.json()


def no_whole_token(server, responses, tokens):
    """Neither the log nor any response (other than the one issuing it) holds a whole token."""
    log = server.read_log()
    for t in tokens:
        assert t not in log
        for r in responses:
            assert t not in r.text, (r.request.method, r.request.url)


@pytest.fixture(scope="module")
def srv():
    import tempfile
    from conftest import Server
    with tempfile.TemporaryDirectory(prefix="graphward-test-") as d:
        s = Server(d, ["--jwt-hmac-secret", HMAC_SECRET]).start()
        try:
            admin(s, "CREATE DATABASE other IF NOT EXISTS")
            yield s
        finally:
            s.stop()


def test_issue_with_password_use_on_http_and_bolt(srv):
    user = new_user(srv)
    r = issue(srv, (user, PASSWORD), lifetime=60_000)
    assert r.status_code == 200, r.text
    body = r.json()
    token = body["token"]
    assert body["user"] == user and body["graph"] is None
    assert 55 <= body["expiration"] - time.time() <= 65
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == user and claims["iss"] == "graphward" and claims["jti"]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert accepted(http_query(srv, token))
    assert bolt_ok(srv, token)
    # curl, the operator's tool, gets the same
    out = subprocess.run(["curl", "-s", "-u", f"{user}:{PASSWORD}", "-H", "Content-Type: application/json",
                          "-d", '{"lifetime": "5000"}', f"{base(srv)}/gsql/v1/tokens"],
                         capture_output=True, text=True, timeout=20)
    t2 = json.loads(out.stdout)["token"]
    assert jwt.decode(t2, options={"verify_signature": False})["exp"] - time.time() <= 6
    # wrong password, a bearer token, no credentials, too long a lifetime: refused
    assert issue(srv, (user, "wrong-password")).status_code == 401
    r = requests.post(f"{base(srv)}/gsql/v1/tokens", auth=bearer(token), json={}, timeout=10)
    assert r.status_code == 401 and token not in r.text
    assert issue(srv).status_code == 401
    r = issue(srv, (user, PASSWORD), lifetime=10**15)
    assert r.status_code == 400 and "MaxLifetime" in r.text
    assert issue(srv, (user, PASSWORD), lifetime=-1).status_code == 400


def test_issue_with_a_secret(srv):
    user = new_user(srv)
    with GraphDatabase.driver(srv.bolt_uri, auth=(user, PASSWORD)) as d:
        with d.session(database="system") as s:
            row = s.run("CREATE SECRET ci").single()
            secret = row["secret"]
            assert row["alias"] == "ci" and len(secret) >= 40
            shown = [r.data() for r in s.run("SHOW SECRETS")]
            assert [x["alias"] for x in shown] == ["ci"]
            assert secret not in json.dumps(shown)
    r = issue(srv, secret=secret, graph="neo4j")
    assert r.status_code == 200, r.text
    assert r.json()["user"] == user and r.json()["graph"] == "neo4j"
    assert accepted(http_query(srv, r.json()["token"]))
    assert issue(srv, secret="not-a-secret").status_code == 401
    # A token cannot manage secrets; the user with a password can drop it.
    with GraphDatabase.driver(srv.bolt_uri, auth=neo4j.bearer_auth(r.json()["token"])) as d:
        with d.session(database="system") as s:
            with pytest.raises(neo4j.exceptions.Neo4jError):
                s.run("CREATE SECRET sneaky").consume()
    admin(srv, f"DROP SECRET ci FOR {user}")
    assert issue(srv, secret=secret).status_code == 401
    assert secret not in srv.read_log()


def test_graph_scoped_issue(srv):
    user = new_user(srv, graph="neo4j")
    r = issue(srv, (user, PASSWORD), graph="other")
    assert r.status_code == 403 and "JWT-GRAPH-SCOPE" in r.text, r.text
    r = issue(srv, (user, PASSWORD), graph="nowhere")
    assert r.status_code == 400 and "JWT-GRAPH-DOES-NOT-EXIST" in r.text, r.text
    token = token_for(srv, user, graph="neo4j")
    assert accepted(http_query(srv, token))
    # the admin's graph-scoped token does not reach another graph
    scoped = issue(srv, AUTH, graph="neo4j").json()["token"]
    r = http_query(srv, scoped, graph="other")
    assert r.status_code == 403, r.text
    with pytest.raises(neo4j.exceptions.Neo4jError) as e:
        bolt_ok(srv, scoped, database="other")
    assert "Graph scope" in e.value.message


def test_dropped_token_is_refused_everywhere_and_bolt_reauthenticates(srv):
    user = new_user(srv)
    token, fresh = token_for(srv, user), token_for(srv, user)
    responses = []
    # One pooled connection: the driver must re-authenticate it (LOGOFF/LOGON).
    with GraphDatabase.driver(srv.bolt_uri, auth=neo4j.bearer_auth(token),
                              max_connection_pool_size=1) as d:
        with d.session() as s:
            assert s.run("RETURN 1 AS x").single()["x"] == 1
            r = drop(srv, (user, PASSWORD), [token])
            responses.append(r)
            assert r.status_code == 200 and r.json()["dropped"] == 1, r.text
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                s.run("RETURN 1 AS x").consume()
            assert e.value.code == UNAUTHORIZED and "Blocked" in e.value.message
            assert token not in e.value.message
        records, _, _ = d.execute_query("RETURN 2 AS x", auth_=neo4j.bearer_auth(fresh))
        assert records[0]["x"] == 2
        with d.session(auth=neo4j.bearer_auth(fresh)) as s:
            assert s.run("RETURN 3 AS x").single()["x"] == 3
    assert "closing Bolt connection" not in srv.read_log()
    r = http_query(srv, token)
    responses.append(r)
    assert r.status_code == 401 and "JWT-BLOCKED" in r.text
    assert check(srv, token)["code"] == "JWT-BLOCKED"
    # a user may not drop someone else's token; malformed tokens are refused with their code
    other = new_user(srv)
    r = drop(srv, (other, PASSWORD), [fresh])
    responses.append(r)
    assert r.status_code == 403 and fresh not in r.text
    r = drop(srv, (other, PASSWORD), ["not.a.token"])
    responses.append(r)
    assert r.status_code == 400 and "JWT-FORMAT" in r.text
    r = requests.delete(f"{base(srv)}/gsql/v1/tokens", auth=(other, PASSWORD), data="{", timeout=10,
                        headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    no_whole_token(srv, responses, [token, fresh])


def test_expired_token_on_an_open_connection_then_logon_again(srv):
    now = int(time.time())
    short = jwt.encode({"sub": "neo4j", "iat": now, "exp": now + 2}, HMAC_SECRET, algorithm="HS256")
    with GraphDatabase.driver(srv.bolt_uri, auth=neo4j.bearer_auth(short),
                              max_connection_pool_size=1) as d:
        with d.session() as s:
            assert s.run("RETURN 1 AS x").single()["x"] == 1
            time.sleep(2.5)
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                s.run("RETURN 1 AS x").consume()
            assert e.value.code == "Neo.ClientError.Security.TokenExpired"
        fresh = issue(srv, AUTH, lifetime=60_000).json()["token"]
        with d.session(auth=neo4j.bearer_auth(fresh)) as s:
            assert s.run("RETURN 4 AS x").single()["x"] == 4


def test_check_endpoint(srv):
    good = issue(srv, AUTH, graph="neo4j").json()["token"]
    v = check(srv, good)
    assert v["valid"] is True and v["user"] == "neo4j" and v["graph"] == "neo4j"
    assert v["expiration"] > time.time()
    now = int(time.time())
    expired = jwt.encode({"sub": "neo4j", "iat": now - 500, "exp": now - 300}, HMAC_SECRET,
                         algorithm="HS256")
    v = check(srv, expired)
    assert v == {"valid": False, "code": "JWT-EXPIRATION", "message": v["message"]}
    assert expired not in v["message"] and f"{expired[:4]}****{expired[-4:]}" in v["message"]
    assert check(srv, "garbage")["code"] == "JWT-FORMAT"
    forged = jwt.encode({"sub": "neo4j", "exp": now + 60}, "x" * 64, algorithm="HS256")
    assert check(srv, forged)["code"] == "JWT-VERIFICATION"
    r = requests.post(f"{base(srv)}/gsql/v1/tokens/check", json={}, timeout=10)
    assert r.status_code == 400
    r = requests.post(f"{base(srv)}/gsql/v1/tokens/check", data="nope",
                      headers={"Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400


def test_drop_limit_revoke_all_clear_and_restart(make_server):
    server = make_server()
    user = new_user(server)
    me = (user, PASSWORD)
    tokens = [token_for(server, user, lifetime=600_000) for _ in range(21)]
    r = drop(server, me, tokens[:20])
    assert r.status_code == 200 and r.json()["dropped"] == 20, r.text
    r = drop(server, me, tokens[20:])
    assert r.status_code == 409, r.text
    err = r.json()["errors"][0]
    assert err["code"] == DROP_LIMIT and "all=true" in err["message"]
    assert accepted(http_query(server, tokens[20]))  # nothing changed
    # survives a restart
    server.stop()
    server.start()
    assert http_query(server, tokens[0]).status_code == 401
    assert accepted(http_query(server, tokens[20]))
    # clear restores the dropped ones
    r = drop(server, me, clear="true")
    assert r.status_code == 200 and r.json()["cleared"] == 20, r.text
    assert accepted(http_query(server, tokens[0]))
    # revoke-all refuses every earlier token; a token issued after works
    r = drop(server, me, all="true")
    assert r.status_code == 200, r.text
    for t in (tokens[0], tokens[20]):
        r = http_query(server, t)
        assert r.status_code == 401 and "JWT-BLOCKED" in r.text
    later = token_for(server, user)
    assert accepted(http_query(server, later))
    server.stop()
    server.start()
    assert http_query(server, tokens[5]).status_code == 401
    assert accepted(http_query(server, later))
    assert bolt_ok(server, later)
    log = server.read_log()
    for t in tokens + [later]:
        assert t not in log


def test_signing_key_file_is_private_and_rotation_keeps_the_previous_key(make_server):
    import os
    import stat
    server = make_server()
    key_file = os.path.join(server.data_dir, "system", "token-signing-key")
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    old = issue(server, AUTH).json()["token"]
    admin(server, "ROTATE TOKEN SIGNING KEY")
    new = issue(server, AUTH).json()["token"]
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]
    assert accepted(http_query(server, old))
    assert accepted(http_query(server, new))
    admin(server, "ROTATE TOKEN SIGNING KEY")
    r = http_query(server, old)
    assert r.status_code == 401 and "JWT-VERIFICATION" in r.text
    user = new_user(server)
    with GraphDatabase.driver(server.bolt_uri, auth=(user, PASSWORD)) as d:
        with d.session(database="system") as s:
            with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                s.run("ROTATE TOKEN SIGNING KEY").consume()
            assert e.value.code == "Neo.ClientError.Security.Forbidden"


def test_scoped_token_on_the_system_database(srv):
    scoped = issue(srv, AUTH, graph="neo4j").json()["token"]
    with GraphDatabase.driver(srv.bolt_uri, auth=neo4j.bearer_auth(scoped)) as d:
        with d.session(database="system") as s:
            assert s.run("SHOW CURRENT USER").single()["user"] == "neo4j"
            for q in ["SHOW DATABASES", "SHOW USERS", "SHOW PRIVILEGES", "CREATE USER x IDENTIFIED BY 'password1'"]:
                with pytest.raises(neo4j.exceptions.Neo4jError) as e:
                    s.run(q).consume()
                assert e.value.code == "Neo.ClientError.Security.Forbidden", q
                assert "JWT-GRAPH-SCOPE" in e.value.message, q


def test_stored_queries_go_through_the_privilege_guard(srv):
    graph_q = name("w")
    r = requests.put(f"{base(srv)}/queries/neo4j/{graph_q}", auth=AUTH,
                     json={"statement": "CREATE (n:Tok {v: 1}) RETURN n.v AS v"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    reader = new_user(srv, "READ")
    r = requests.post(f"{base(srv)}/restpp/query/neo4j/{graph_q}", auth=(reader, PASSWORD), timeout=10)
    assert r.status_code == 403, r.text
    outsider = new_user(srv, "READ", graph="other")
    r = requests.post(f"{base(srv)}/restpp/query/neo4j/{graph_q}", auth=(outsider, PASSWORD), timeout=10)
    assert r.status_code == 403, r.text
    writer = new_user(srv, "WRITE")
    token = token_for(srv, writer, graph="neo4j")
    r = requests.post(f"{base(srv)}/restpp/query/neo4j/{graph_q}", auth=bearer(token), timeout=10)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("body", ["2.465794939483299e+16", "[]", "\"all\"", "true", "null", "{\"tokens\": 5}", "{bad"])
def test_malformed_body_is_refused_whatever_the_query_string_says(srv, body):
    """Found by schemathesis: DELETE ?all=true with a JSON number as the body revoked every token.
    A body that is not the documented object (or holds a wrong type) is a 400, and nothing
    changes. The same rule holds for every endpoint that takes a body."""
    user = new_user(srv)
    token = token_for(srv, user)
    headers = {"Content-Type": "application/json"}
    for params in ({"all": "true"}, {"clear": "true"}, {}):
        r = requests.delete(f"{base(srv)}/gsql/v1/tokens", auth=(user, PASSWORD), params=params,
                            data=body, headers=headers, timeout=10)
        assert r.status_code == 400, (params, r.status_code, r.text)
        assert r.json()["errors"][0]["code"].startswith("Neo.ClientError.Request."), r.text
    assert accepted(http_query(srv, token)), "a refused request changed nothing"
    r = requests.put(f"{base(srv)}/queries/neo4j/hello", auth=AUTH,
                     json={"statement": "RETURN 'hello' AS greeting"}, timeout=10)
    assert r.status_code in (200, 201), r.text
    for method, path in (("POST", "/gsql/v1/tokens"), ("POST", "/gsql/v1/tokens/check"),
                         ("POST", "/db/neo4j/query/v2"), ("POST", "/db/neo4j/query/v2/tx"),
                         ("PUT", "/queries/neo4j/malformed"),
                         ("POST", "/restpp/query/neo4j/hello")):
        if body.startswith("{\"tokens\""):
            continue
        r = requests.request(method, f"{base(srv)}{path}", auth=AUTH, data=body, headers=headers,
                             timeout=10)
        assert r.status_code == 400, (method, path, r.status_code, r.text)
        assert r.json()["errors"], r.text
