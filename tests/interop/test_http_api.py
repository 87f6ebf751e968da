"""REST API (crates/graphward-http) driven with `requests`: every endpoint and every error status.

The test server starts with authentication on; the tests send the conventional
Basic credentials (neo4j/password, the initial password conftest.py sets).
"""
import base64
import json
import time

import pytest
import requests

AUTH = ("neo4j", "password")
JSON = {"Content-Type": "application/json"}


def url(server, path):
    return f"http://127.0.0.1:{server.http_port}{path}"


def query(server, statement, parameters=None, graph="neo4j", headers=None, **kw):
    body = {"statement": statement}
    if parameters is not None:
        body["parameters"] = parameters
    h = dict(JSON)
    h.update(headers or {})
    return requests.post(url(server, f"/db/{graph}/query/v2"), json=body, auth=AUTH, headers=h, **kw)


def assert_error(r, status, code=None):
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert isinstance(body["errors"], list) and body["errors"], body
    e = body["errors"][0]
    assert set(e) >= {"code", "message"} and e["message"], body
    if code:
        assert e["code"] == code, body
    return e


# ---- step 1: ping, health, metrics, openapi ---------------------------------------------------

def test_ping(server):
    r = requests.get(url(server, "/ping"))
    assert r.status_code == 204
    assert r.headers["X-Graphward-Version"]
    assert r.content == b""
    assert requests.head(url(server, "/ping")).status_code == 204


def test_health(server):
    # Anonymous: the status only (see test_dos.py); with credentials, the details.
    assert requests.get(url(server, "/health")).json() == {"status": "ok"}
    r = requests.get(url(server, "/health"), auth=AUTH)
    assert r.status_code == 200
    h = r.json()
    assert h["status"] == "ok"
    assert h["version"] == requests.get(url(server, "/ping")).headers["X-Graphward-Version"]
    assert h["uptime_seconds"] >= 0
    assert h["storage"]["state"] == "ok"
    assert "neo4j" in h["storage"]["databases"]
    assert h["tls"] == []


def test_metrics(server):
    requests.get(url(server, "/ping"))
    query(server, "RETURN 1")
    requests.get(url(server, "/nope"))
    r = requests.get(url(server, "/metrics"), auth=AUTH)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain")
    text = r.text
    assert 'graphward_http_requests_total{route="/ping",method="GET",status="204"}' in text
    assert 'graphward_http_requests_total{route="unmatched",method="GET",status="404"}' in text
    assert 'graphward_http_request_duration_seconds_bucket{route="/db/{graph}/query/v2",le="+Inf"}' in text
    assert "graphward_http_open_connections " in text
    assert 'graphward_http_transactions_total{outcome="committed"}' in text
    assert "graphward_storage_bytes " in text
    size = [l for l in text.splitlines() if l.startswith("graphward_storage_bytes ")][0]
    assert int(size.split()[1]) > 0
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name_labels, value = line.rsplit(" ", 1)
            float(value)


def test_openapi(server):
    r = requests.get(url(server, "/openapi.json"))
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    for p in ["/ping", "/health", "/metrics", "/db/{graph}/query/v2", "/db/{graph}/query/v2/tx",
              "/db/{graph}/query/v2/tx/{id}", "/db/{graph}/query/v2/tx/{id}/commit",
              "/queries/{graph}/{name}", "/restpp/query/{graph}/{name}"]:
        assert p in doc["paths"], p


def test_discovery(server):
    r = requests.get(url(server, "/"))
    assert r.status_code == 200 and r.json()["graphward"]


# ---- step 2: Query API v2 ----------------------------------------------------------------------

def test_query_plain_json_shape(server):
    r = query(server, "CREATE (a:HPerson {name: $name, born: date('1990-05-06')})-[k:KNOWS {since: 2001}]->(b:HPerson {name: 'Bo'}) "
                      "RETURN a, k, b, a.name AS name, 1.5 AS f, [1, 'x', null] AS l, {m: true} AS m",
              {"name": "Ann"})
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["data"]["fields"] == ["a", "k", "b", "name", "f", "l", "m"]
    [row] = body["data"]["values"]
    a, k, b, name, f, l, m = row
    assert a["labels"] == ["HPerson"] and a["properties"] == {"name": "Ann", "born": "1990-05-06"}
    assert isinstance(a["elementId"], str)
    assert k["type"] == "KNOWS" and k["properties"] == {"since": 2001}
    assert k["startNodeElementId"] == a["elementId"] and k["endNodeElementId"] == b["elementId"]
    assert (name, f, l, m) == ("Ann", 1.5, [1, "x", None], {"m": True})
    c = body["counters"]
    assert c["nodesCreated"] == 2 and c["relationshipsCreated"] == 1 and c["containsUpdates"] is True
    assert isinstance(body["bookmarks"], list) and body["bookmarks"]


def test_query_paths_and_temporal(server):
    query(server, "CREATE (:HP2 {n: 1})-[:R]->(:HP2 {n: 2})")
    r = query(server, "MATCH p = (x:HP2 {n: 1})-[:R]->(y) RETURN p, datetime('2024-01-01T10:00:00+01:00') AS dt, duration('P1D') AS d")
    assert r.status_code == 202, r.text
    p, dt, d = r.json()["data"]["values"][0]
    assert len(p) == 3 and p[0]["properties"] == {"n": 1} and p[1]["type"] == "R" and p[2]["properties"] == {"n": 2}
    assert dt.startswith("2024-01-01T10:00") and dt.endswith("+01:00")
    assert d == "P1D"


def test_query_typed_json(server):
    r = query(server, "RETURN 42 AS i, 2.5 AS f, 'x' AS s, null AS n, true AS b, [1] AS l, date('2024-02-03') AS d, "
                      "datetime('2024-01-01T10:00:00Z') AS dt, $p AS p",
              {"p": {"$type": "Integer", "_value": "7"}},
              headers={"Accept": "application/vnd.neo4j.query", "Content-Type": "application/vnd.neo4j.query"})
    assert r.status_code == 202, r.text
    assert r.headers["Content-Type"].startswith("application/vnd.neo4j.query")
    i, f, s, n, b, l, d, dt, p = r.json()["data"]["values"][0]
    assert i == {"$type": "Integer", "_value": "42"}
    assert f == {"$type": "Float", "_value": "2.5"}
    assert s == {"$type": "String", "_value": "x"}
    assert n == {"$type": "Null", "_value": None}
    assert b == {"$type": "Boolean", "_value": True}
    assert l == {"$type": "List", "_value": [{"$type": "Integer", "_value": "1"}]}
    assert d == {"$type": "Date", "_value": "2024-02-03"}
    assert dt["$type"] in ("OffsetDateTime", "ZonedDateTime")
    assert p == {"$type": "Integer", "_value": "7"}
    r = query(server, "MATCH (a:HPerson {name: 'Ann'}) RETURN a LIMIT 1", headers={"Accept": "application/vnd.neo4j.query"})
    node = r.json()["data"]["values"][0][0]
    assert node["$type"] == "Node"
    assert node["_value"]["_labels"] == ["HPerson"]
    assert node["_value"]["_properties"]["name"] == {"$type": "String", "_value": "Ann"}


def test_query_errors(server):
    e = assert_error(query(server, "RETURN"), 400, "Neo.ClientError.Statement.SyntaxError")
    assert "line 1" in e["message"]
    assert_error(query(server, "RETURN $missing"), 400, "Neo.ClientError.Statement.ParameterMissing")
    assert_error(query(server, "RETURN 1", graph="nosuchgraph"), 404, "Neo.ClientError.Database.DatabaseNotFound")
    r = requests.post(url(server, "/db/neo4j/query/v2"), data="{not json", headers=JSON, auth=AUTH)
    assert_error(r, 400, "Neo.ClientError.Request.InvalidFormat")
    r = requests.post(url(server, "/db/neo4j/query/v2"), json={"parameters": {}}, auth=AUTH)
    assert_error(r, 400, "Neo.ClientError.Request.Invalid")
    r = requests.post(url(server, "/db/neo4j/query/v2"), json={"statement": 5}, auth=AUTH)
    assert_error(r, 400, "Neo.ClientError.Request.Invalid")
    r = requests.post(url(server, "/db/neo4j/query/v2"), json={"statement": "RETURN 1", "parameters": [1]}, auth=AUTH)
    assert_error(r, 400)
    r = requests.post(url(server, "/db/neo4j/query/v2"), data="RETURN 1", headers={"Content-Type": "text/plain"}, auth=AUTH)
    assert_error(r, 415, "Neo.ClientError.Request.UnsupportedMediaType")
    r = requests.get(url(server, "/db/neo4j/query/v2"), auth=AUTH)
    assert_error(r, 405, "Neo.ClientError.Request.MethodNotAllowed")
    assert_error(requests.get(url(server, "/no/such/endpoint")), 404, "Neo.ClientError.Request.NotFound")


def test_bad_authorization_header_is_401(server):
    for value in ["Basic ***", "Digest abc", "Bearer "]:
        r = requests.post(url(server, "/db/neo4j/query/v2"), json={"statement": "RETURN 1"},
                          headers={"Authorization": value})
        e = assert_error(r, 401, "Neo.ClientError.Security.Unauthorized")
        assert "WWW-Authenticate" in r.headers
    text = requests.get(url(server, "/metrics"), auth=AUTH).text
    assert 'graphward_auth_refusals_total{reason="malformed_header"}' in text


def test_read_access_mode(server):
    r = requests.post(url(server, "/db/neo4j/query/v2"), json={"statement": "RETURN 1 AS x", "accessMode": "READ"}, auth=AUTH)
    assert r.status_code == 202 and r.json()["data"]["values"] == [[1]]
    r = requests.post(url(server, "/db/neo4j/query/v2"), json={"statement": "RETURN 1", "accessMode": "SIDEWAYS"}, auth=AUTH)
    assert_error(r, 400)


def test_large_result_streams(server):
    r = query(server, "UNWIND range(1, 20000) AS i RETURN i, 'some padding text to make rows bigger' AS pad", stream=True)
    assert r.status_code == 202
    assert r.headers.get("Transfer-Encoding") == "chunked"
    body = json.loads(b"".join(r.iter_content(65536)))
    assert len(body["data"]["values"]) == 20000
    assert body["data"]["values"][-1][0] == 20000


# ---- explicit transactions ----------------------------------------------------------------------

def tx_url(server, *parts, graph="neo4j"):
    return url(server, "/".join([f"/db/{graph}/query/v2/tx", *parts]))


def test_explicit_transaction_commit(server):
    r = requests.post(tx_url(server), json={"statement": "CREATE (n:HTx {v: 1}) RETURN n.v AS v"}, auth=AUTH)
    assert r.status_code == 202, r.text
    body = r.json()
    tx = body["transaction"]
    assert tx["id"] and tx["expires"]
    assert body["data"]["values"] == [[1]]
    # not visible outside yet
    assert query(server, "MATCH (n:HTx) RETURN count(n)").json()["data"]["values"] == [[0]]
    r = requests.post(tx_url(server, tx["id"]), json={"statement": "MATCH (n:HTx) RETURN count(n)"}, auth=AUTH)
    assert r.status_code == 202 and r.json()["data"]["values"] == [[1]]
    r = requests.post(tx_url(server, tx["id"], "commit"), auth=AUTH)
    assert r.status_code == 202, r.text
    assert r.json()["bookmarks"]
    assert query(server, "MATCH (n:HTx) RETURN count(n)").json()["data"]["values"] == [[1]]
    # gone after commit
    assert_error(requests.post(tx_url(server, tx["id"]), json={"statement": "RETURN 1"}, auth=AUTH), 404,
                 "Neo.ClientError.Transaction.TransactionNotFound")


def test_explicit_transaction_rollback(server):
    r = requests.post(tx_url(server), auth=AUTH)
    assert r.status_code == 202, r.text
    tid = r.json()["transaction"]["id"]
    requests.post(tx_url(server, tid), json={"statement": "CREATE (:HRb)"}, auth=AUTH)
    r = requests.delete(tx_url(server, tid), auth=AUTH)
    assert r.status_code == 202, r.text
    assert query(server, "MATCH (n:HRb) RETURN count(n)").json()["data"]["values"] == [[0]]
    assert_error(requests.delete(tx_url(server, tid), auth=AUTH), 404)


def test_failed_statement_ends_transaction(server):
    tid = requests.post(tx_url(server), auth=AUTH).json()["transaction"]["id"]
    assert_error(requests.post(tx_url(server, tid), json={"statement": "RETURN"}, auth=AUTH), 400)
    assert_error(requests.post(tx_url(server, tid, "commit"), auth=AUTH), 404)


def test_transaction_belongs_to_its_user(server):
    other = ("someoneelse", "password")
    # With authentication on, the second user must exist (harmless without it).
    for graph in ("system", "neo4j"):
        requests.post(url(server, f"/db/{graph}/query/v2"), auth=AUTH,
                      json={"statement": "CREATE USER someoneelse SET PASSWORD 'password' CHANGE NOT REQUIRED"})
    tid = requests.post(tx_url(server), auth=AUTH).json()["transaction"]["id"]
    assert_error(requests.post(tx_url(server, tid), json={"statement": "RETURN 1"}, auth=other), 403,
                 "Neo.ClientError.Security.Forbidden")
    assert_error(requests.post(tx_url(server, tid, graph="system"), json={"statement": "RETURN 1"}, auth=AUTH), 404)
    assert requests.delete(tx_url(server, tid), auth=AUTH).status_code == 202


def test_transaction_in_use_is_409(server):
    # Deterministic: another transaction holds the single writer lock, so the first write of
    # `tid` waits for it inside its request; while it waits, `tid` is in use.
    import threading
    holder = requests.post(tx_url(server), json={"statement": "CREATE (:InUseHolder)"}, auth=AUTH)
    assert holder.status_code in (200, 202), holder.text
    hid = holder.json()["transaction"]["id"]
    tid = requests.post(tx_url(server), auth=AUTH).json()["transaction"]["id"]
    results = []

    def waiting_write():
        results.append(requests.post(tx_url(server, tid), json={"statement": "CREATE (:InUseWaiter)"}, auth=AUTH))
    t = threading.Thread(target=waiting_write)
    t.start()
    seen = None
    deadline = time.time() + 20
    while time.time() < deadline and t.is_alive():
        r = requests.post(tx_url(server, tid), json={"statement": "RETURN 1"}, auth=AUTH)
        if r.status_code == 409:
            seen = r
            break
        time.sleep(0.01)
    requests.post(tx_url(server, hid) + "/commit", auth=AUTH)
    t.join()
    if seen is None and results and results[0].status_code == 409:
        seen = results[0]  # a poll got in first: then the write is the request that collided
    assert seen is not None, f"no collision seen; the waiting write answered {[x.status_code for x in results]}"
    assert_error(seen, 409, "Neo.ClientError.Transaction.TransactionInUse")
    requests.delete(tx_url(server, tid), auth=AUTH)


def test_idle_transactions_expire(make_server):
    srv = make_server(["--http-transaction-idle-timeout", "1s"])
    r = requests.post(f"http://127.0.0.1:{srv.http_port}/db/neo4j/query/v2/tx", json={"statement": "CREATE (:HExp)"}, auth=AUTH)
    tid = r.json()["transaction"]["id"]
    time.sleep(2.2)
    r = requests.post(f"http://127.0.0.1:{srv.http_port}/db/neo4j/query/v2/tx/{tid}/commit", auth=AUTH)
    assert_error(r, 404, "Neo.ClientError.Transaction.TransactionNotFound")
    text = requests.get(f"http://127.0.0.1:{srv.http_port}/metrics", auth=AUTH).text
    assert 'graphward_http_transactions_total{outcome="expired"} 1' in text


def test_too_many_transactions_is_429(make_server):
    srv = make_server(["--http-max-transactions", "2"])
    base = f"http://127.0.0.1:{srv.http_port}/db/neo4j/query/v2/tx"
    # read transactions: write transactions take the single writer lock in turn
    read = {"accessMode": "READ"}
    ids = [requests.post(base, json=read, auth=AUTH).json()["transaction"]["id"] for _ in range(2)]
    r = requests.post(base, json=read, auth=AUTH)
    assert_error(r, 429, "Neo.TransientError.Request.TooManyRequests")
    assert r.headers["Retry-After"]
    requests.delete(f"{base}/{ids[0]}", auth=AUTH)
    assert requests.post(base, json=read, auth=AUTH).status_code == 202


def test_limits_body_and_result(make_server):
    srv = make_server(["--http-max-body-size", "2KiB", "--http-max-result-size", "4KiB"])
    base = f"http://127.0.0.1:{srv.http_port}/db/neo4j/query/v2"
    r = requests.post(base, json={"statement": "RETURN '" + "x" * 4000 + "'"}, auth=AUTH)
    assert_error(r, 413, "Neo.ClientError.Request.PayloadTooLarge")
    r = requests.post(base, json={"statement": "UNWIND range(1, 2000) AS i RETURN i"}, auth=AUTH)
    assert_error(r, 400, "Neo.ClientError.General.ResultTooLarge")
    r = requests.post(base, json={"statement": "RETURN 1 AS x"}, auth=AUTH)
    assert r.status_code == 202


def test_query_time_limit(make_server):
    srv = make_server(["--query-timeout", "1s"])
    base = f"http://127.0.0.1:{srv.http_port}/db/neo4j/query/v2"
    r = requests.post(base, json={"statement": "RETURN reduce(a = 0, x IN range(1, 20000) | a + reduce(b = 0, y IN range(1, 20000) | b + y)) AS s"}, auth=AUTH)
    e = assert_error(r, 400)
    assert "Transaction" in e["code"] or "Terminated" in e["code"], e
