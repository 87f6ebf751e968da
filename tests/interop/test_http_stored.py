"""Stored queries: INSTALL QUERY / SHOW QUERIES / DROP QUERY (over Bolt with the neo4j driver and
over HTTP), PUT/GET/DELETE /queries, and /restpp/query with `requests` and `curl`."""
import json
import subprocess

import neo4j
import pytest
import requests

AUTH = ("neo4j", "password")


def url(server, path):
    return f"http://127.0.0.1:{server.http_port}{path}"


def assert_error(r, status, code=None):
    assert r.status_code == status, r.text
    e = r.json()["errors"][0]
    if code:
        assert e["code"] == code, e
    return e


@pytest.fixture(scope="module")
def seeded(server):
    r = requests.post(url(server, "/db/neo4j/query/v2"), auth=AUTH, json={
        "statement": "UNWIND range(1, 5) AS i CREATE (:SqItem {i: i, name: 'item' + toString(i), even: i % 2 = 0})"})
    assert r.status_code == 202, r.text
    return server


def test_install_over_bolt_and_run_over_restpp(seeded):
    server = seeded
    with neo4j.GraphDatabase.driver(server.bolt_uri, auth=AUTH) as driver, driver.session() as session:
        # auto-commit: INSTALL QUERY is refused inside an explicit transaction
        session.run(
            "INSTALL QUERY items_above ON GRAPH neo4j AS "
            "'MATCH (n:SqItem) WHERE n.i > $min AND n.even = $even RETURN n.i AS i, n.name AS name ORDER BY i'").consume()
        with pytest.raises(neo4j.exceptions.ClientError, match="explicit transaction"):
            driver.execute_query("INSTALL QUERY x ON GRAPH neo4j AS 'RETURN 1'")
        records = list(session.run("SHOW QUERIES"))
        names = {r["name"]: r for r in records}
        assert names["items_above"]["graph"] == "neo4j"
        assert sorted(names["items_above"]["parameters"]) == ["even", "min"]
    r = requests.get(url(server, "/restpp/query/neo4j/items_above"), params={"min": "1", "even": "true"}, auth=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["error"] is False
    assert body["results"] == [{"i": 2, "name": "item2"}, {"i": 4, "name": "item4"}]
    # POST: JSON body parameters override the query string
    r = requests.post(url(server, "/restpp/query/neo4j/items_above?min=1&even=true"), json={"min": 3}, auth=AUTH)
    assert r.status_code == 200 and r.json()["results"] == [{"i": 4, "name": "item4"}]


def test_restpp_typing_of_query_string(server):
    r = requests.put(url(server, "/queries/neo4j/echo"), auth=AUTH,
                     json={"statement": "RETURN $a AS a, $b AS b, $c AS c, $d AS d, $e AS e"})
    assert r.status_code in (200, 201), r.text
    r = requests.get(url(server, "/restpp/query/neo4j/echo"), auth=AUTH,
                     params=[("a", "12"), ("b", "1.5"), ("c", "false"), ("d", "hello"), ("e", "1"), ("e", "2")])
    assert r.status_code == 200, r.text
    assert r.json()["results"] == [{"a": 12, "b": 1.5, "c": False, "d": "hello", "e": [1, 2]}]


def test_put_get_list_delete(server):
    r = requests.put(url(server, "/queries/neo4j/count_items"), auth=AUTH,
                     json={"statement": "MATCH (n:SqItem) RETURN count(n) AS c"})
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["name"] == "count_items" and q["graph"] == "neo4j" and q["parameters"] == []
    r = requests.put(url(server, "/queries/neo4j/count_items"), auth=AUTH,
                     json={"statement": "MATCH (n:SqItem) WHERE n.i >= $from RETURN count(n) AS c"})
    assert r.status_code == 200 and r.json()["parameters"] == ["from"]
    r = requests.get(url(server, "/queries/neo4j/count_items"), auth=AUTH)
    assert r.status_code == 200 and "$from" in r.json()["statement"]
    r = requests.get(url(server, "/queries/neo4j"), auth=AUTH)
    assert "count_items" in [q["name"] for q in r.json()["queries"]]
    r = requests.delete(url(server, "/queries/neo4j/count_items"), auth=AUTH)
    assert r.status_code == 200
    assert_error(requests.get(url(server, "/queries/neo4j/count_items"), auth=AUTH), 404,
                 "Neo.ClientError.Procedure.StoredQueryNotFound")
    assert_error(requests.delete(url(server, "/queries/neo4j/count_items"), auth=AUTH), 404)
    assert_error(requests.get(url(server, "/restpp/query/neo4j/count_items"), auth=AUTH), 404,
                 "Neo.ClientError.Procedure.StoredQueryNotFound")


def test_install_errors(server):
    assert_error(requests.put(url(server, "/queries/neo4j/bad"), auth=AUTH, json={"statement": "MATCH (n RETURN n"}),
                 400, "Neo.ClientError.Statement.SyntaxError")
    assert_error(requests.put(url(server, "/queries/nosuchgraph/q"), auth=AUTH, json={"statement": "RETURN 1"}),
                 404, "Neo.ClientError.Database.DatabaseNotFound")
    assert_error(requests.put(url(server, "/queries/neo4j/bad-name"), auth=AUTH, json={"statement": "RETURN 1"}), 400)
    assert_error(requests.put(url(server, "/queries/neo4j/q"), auth=AUTH, json={"nostatement": 1}), 400)
    assert_error(requests.put(url(server, "/queries/neo4j/q"), auth=AUTH, data="RETURN 1",
                              headers={"Content-Type": "text/plain"}), 415)
    r = requests.post(url(server, "/db/neo4j/query/v2"), auth=AUTH,
                      json={"statement": "INSTALL QUERY q ON GRAPH neo4j AS MATCH (n) RETURN n"})
    assert_error(r, 400, "Neo.ClientError.Statement.SyntaxError")
    r = requests.post(url(server, "/db/neo4j/query/v2"), auth=AUTH, json={"statement": "DROP QUERY nope ON GRAPH neo4j"})
    assert_error(r, 400)


def test_restpp_runtime_error_and_missing_parameter(server):
    requests.put(url(server, "/queries/neo4j/needs_x"), auth=AUTH, json={"statement": "RETURN $x * 2 AS y"})
    assert_error(requests.get(url(server, "/restpp/query/neo4j/needs_x"), auth=AUTH), 400,
                 "Neo.ClientError.Statement.ParameterMissing")
    assert_error(requests.get(url(server, "/restpp/query/neo4j/needs_x?x=abc"), auth=AUTH), 400)
    r = requests.get(url(server, "/restpp/query/neo4j/needs_x?x=21"), auth=AUTH)
    assert r.json()["results"] == [{"y": 42}]
    assert_error(requests.post(url(server, "/restpp/query/neo4j/needs_x"), auth=AUTH, json=[1]), 400)


def test_stored_queries_survive_restart(make_server, tmp_path):
    srv = make_server(data_dir=str(tmp_path))
    r = requests.put(url(srv, "/queries/neo4j/durable"), auth=AUTH, json={"statement": "RETURN 'kept' AS v"})
    assert r.status_code == 201
    srv.stop()
    srv2 = make_server(data_dir=str(tmp_path))
    r = requests.get(url(srv2, "/restpp/query/neo4j/durable"), auth=AUTH)
    assert r.status_code == 200 and r.json()["results"] == [{"v": "kept"}]


def test_curl_restpp_line(server):
    """The seed's line: curl -H "Authorization: ..." http://127.0.0.1:PORT/restpp/query/{graph}/{query}
    (with Basic credentials until JWTs land)."""
    requests.put(url(server, "/queries/neo4j/hello"), auth=AUTH, json={"statement": "RETURN 'hello' AS greeting"})
    import base64
    basic = base64.b64encode(b"neo4j:password").decode()
    out = subprocess.run(
        ["curl", "-sS", "--fail-with-body", "-H", f"Authorization: Basic {basic}",
         f"http://127.0.0.1:{server.http_port}/restpp/query/neo4j/hello"],
        capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr + out.stdout
    assert json.loads(out.stdout)["results"] == [{"greeting": "hello"}]
    # curl sees the JSON error shape and the status on failures
    out = subprocess.run(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-H", f"Authorization: Basic {basic}",
         f"http://127.0.0.1:{server.http_port}/restpp/query/neo4j/nope"],
        capture_output=True, text=True, timeout=30)
    body, status = out.stdout.rsplit("\n", 1)
    assert status == "404"
    assert json.loads(body)["errors"][0]["code"] == "Neo.ClientError.Procedure.StoredQueryNotFound"
    # curl's default -d content type is accepted for the Query API
    out = subprocess.run(
        ["curl", "-sS", "-u", "neo4j:password", "-d", '{"statement":"RETURN 7 AS x"}',
         f"http://127.0.0.1:{server.http_port}/db/neo4j/query/v2"],
        capture_output=True, text=True, timeout=30)
    assert json.loads(out.stdout)["data"]["values"] == [[7]]
