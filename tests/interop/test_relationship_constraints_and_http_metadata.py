"""Issue 16, two items, from real clients:

* Relationship property constraints through the Neo4j Python driver, as the Cypher Manual
  writes them: `FOR ()-[r:T]-() REQUIRE r.p IS NOT NULL` (checked at commit, so an explicit
  transaction may add the property later) and `... IS UNIQUE` (Neo4j 5.7); a violating write is
  `Neo.ClientError.Schema.ConstraintValidationFailed`, creation over violating data is refused,
  SHOW CONSTRAINTS lists them with entityType RELATIONSHIP, DROP CONSTRAINT removes them, and
  they survive a restart.
* Transaction metadata over HTTP with `requests`: `"metadata"` on an auto-commit query and on
  a transaction's begin reaches `CALL tx.getMetaData()` and, from another session (Bolt),
  SHOW TRANSACTIONS' metaData column; bad or oversized metadata is a 400.
"""
import json

import neo4j
import pytest
import requests

AUTH = ("neo4j", "password")


def driver(server):
    return neo4j.GraphDatabase.driver(server.bolt_uri, auth=AUTH)


def url(server, path):
    return f"http://127.0.0.1:{server.http_port}{path}"


def constraints(s):
    return {r["name"]: (r["type"], r["entityType"], r["labelsOrTypes"], r["properties"])
            for r in s.run("SHOW CONSTRAINTS")}


def test_relationship_constraints_with_the_python_driver(make_server):
    srv = make_server()
    with driver(srv) as d:
        with d.session() as s:
            s.run("CREATE CONSTRAINT wrote_year IF NOT EXISTS "
                  "FOR ()-[r:WROTE]-() REQUIRE r.year IS NOT NULL").consume()
            s.run("CREATE CONSTRAINT sequels FOR ()-[s:SEQUEL_OF]-() "
                  "REQUIRE s.order IS UNIQUE").consume()
            assert constraints(s) == {
                "wrote_year": ("RELATIONSHIP_PROPERTY_EXISTENCE", "RELATIONSHIP", ["WROTE"], ["year"]),
                "sequels": ("RELATIONSHIP_UNIQUENESS", "RELATIONSHIP", ["SEQUEL_OF"], ["order"]),
            }
            with pytest.raises(neo4j.exceptions.ConstraintError) as e:
                s.run("CREATE (:Author)-[:WROTE]->(:Book)").consume()
            assert e.value.code == "Neo.ClientError.Schema.ConstraintValidationFailed"
            # Checked at commit: the property may come later in the transaction.
            with s.begin_transaction() as tx:
                tx.run("CREATE (:Author {name: 'Jane'})-[:WROTE]->(:Book {title: 'Emma'})").consume()
                tx.run("MATCH ()-[w:WROTE]->() SET w.year = 1815").consume()
                tx.commit()
            s.run("MATCH (a:Book) CREATE (a)-[:SEQUEL_OF {order: 1}]->(:Book)").consume()
            with pytest.raises(neo4j.exceptions.ConstraintError) as e:
                s.run("MATCH (a:Book {title: 'Emma'}) CREATE (a)-[:SEQUEL_OF {order: 1}]->(:Book)").consume()
            assert e.value.code == "Neo.ClientError.Schema.ConstraintValidationFailed"
            # Creation over violating data is refused, and leaves nothing behind.
            s.run("CREATE (:A)-[:LIKED]->(:B)").consume()
            with pytest.raises(neo4j.exceptions.ConstraintError):
                s.run("CREATE CONSTRAINT liked_day FOR ()-[l:LIKED]-() REQUIRE l.day IS NOT NULL").consume()
            assert "liked_day" not in constraints(s)
    srv.stop()
    srv.start()
    with driver(srv) as d:
        with d.session() as s:
            assert set(constraints(s)) == {"wrote_year", "sequels"}
            with pytest.raises(neo4j.exceptions.ConstraintError):
                s.run("MATCH ()-[w:WROTE]->() REMOVE w.year").consume()
            with pytest.raises(neo4j.exceptions.ConstraintError):
                s.run("MATCH (a:Book {title: 'Emma'}) CREATE (a)-[:SEQUEL_OF {order: 1}]->(:Book)").consume()
            s.run("DROP CONSTRAINT wrote_year").consume()
            s.run("DROP CONSTRAINT sequels").consume()
            assert constraints(s) == {}
            s.run("CREATE (:Author)-[:WROTE]->(:Book)").consume()


def test_http_metadata_reaches_the_transaction(server):
    meta = {"app": "etl", "run": 7, "tags": ["a", "b"], "nested": {"k": True}}
    r = requests.post(url(server, "/db/neo4j/query/v2"), auth=AUTH, timeout=10, json={
        "statement": "CALL tx.getMetaData() YIELD metadata RETURN metadata",
        "metadata": meta,
    })
    assert r.status_code == 202, r.text
    assert r.json()["data"]["values"] == [[meta]]

    # An explicit transaction: given at begin, seen by every statement of it, and by
    # SHOW TRANSACTIONS from another session.
    r = requests.post(url(server, "/db/neo4j/query/v2/tx"), auth=AUTH, timeout=10,
                      json={"metadata": {"job": "nightly"}})
    assert r.status_code == 202, r.text
    tx = r.json()["transaction"]["id"]
    try:
        r = requests.post(url(server, f"/db/neo4j/query/v2/tx/{tx}"), auth=AUTH, timeout=10,
                          json={"statement": "CALL tx.getMetaData() YIELD metadata RETURN metadata"})
        assert r.json()["data"]["values"] == [[{"job": "nightly"}]], r.text
        with driver(server) as d, d.session() as s:
            seen = [rec["metaData"] for rec in s.run("SHOW TRANSACTIONS")]
        assert {"job": "nightly"} in seen, seen
        # Later requests of the transaction cannot change it.
        r = requests.post(url(server, f"/db/neo4j/query/v2/tx/{tx}"), auth=AUTH, timeout=10,
                          json={"statement": "RETURN 1", "metadata": {"job": "other"}})
        assert r.status_code == 400, r.text
        assert r.json()["errors"][0]["code"] == "Neo.ClientError.Request.Invalid"
    finally:
        requests.delete(url(server, f"/db/neo4j/query/v2/tx/{tx}"), auth=AUTH, timeout=10)

    # Without metadata: an empty map.
    r = requests.post(url(server, "/db/neo4j/query/v2"), auth=AUTH, timeout=10,
                      json={"statement": "CALL tx.getMetaData() YIELD metadata RETURN metadata"})
    assert r.json()["data"]["values"] == [[{}]]


@pytest.mark.parametrize("metadata, says", [
    ([1, 2], "must be a JSON object"),
    ("text", "must be a JSON object"),
    ({"k": "x" * 20000}, "larger than"),
    (json.loads('{"a":' * 9 + "1" + "}" * 9), "nested more than"),
])
def test_http_metadata_is_bounded(server, metadata, says):
    for path in ("/db/neo4j/query/v2", "/db/neo4j/query/v2/tx"):
        r = requests.post(url(server, path), auth=AUTH, timeout=10,
                          json={"statement": "RETURN 1", "metadata": metadata})
        assert r.status_code == 400, r.text
        e = r.json()["errors"][0]
        assert e["code"] == "Neo.ClientError.Request.Invalid"
        assert says in e["message"], e


def test_http_metadata_with_curl(server):
    import shutil
    import subprocess
    if shutil.which("curl") is None:
        pytest.skip("curl not installed")
    out = subprocess.run(
        ["curl", "-sS", "-u", "neo4j:password", "-H", "Content-Type: application/json",
         "-d", '{"statement": "CALL tx.getMetaData() YIELD metadata RETURN metadata",'
               ' "metadata": {"source": "curl"}}',
         url(server, "/db/neo4j/query/v2")],
        capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(out)["data"]["values"] == [[{"source": "curl"}]], out
