"""Neo4j 5's `USE graph` and transaction metadata through real clients (issue 16).

* `USE g` in an auto-commit query runs it on `g`, authorized there by the front door's table
  (READ to open, WRITE to write); a user without access to `g` gets
  Neo.ClientError.Security.Forbidden, an unknown graph Neo.ClientError.Database.DatabaseNotFound;
  inside an explicit transaction on another database USE is refused by name.
* `tx_metadata` sent by the Python driver (`Query(..., metadata=)`,
  `session.begin_transaction(metadata=)`) comes back from `CALL tx.getMetaData()` and in the
  `metaData` column of SHOW TRANSACTIONS.
"""
import neo4j
import pytest
import requests

from conftest import AUTH

PW = "use-graph-pw"


@pytest.fixture(scope="module")
def env(server):
    drv = neo4j.GraphDatabase.driver(server.bolt_uri, auth=AUTH)
    with drv.session(database="system") as s:
        for stmt in [
            "CREATE DATABASE usea IF NOT EXISTS",
            "CREATE DATABASE useb IF NOT EXISTS",
            f"CREATE USER use_reader IF NOT EXISTS SET PASSWORD '{PW}'",
            "CREATE ROLE use_role IF NOT EXISTS",
            "GRANT READ ON GRAPH usea TO use_role",
            "GRANT ROLE use_role TO use_reader",
        ]:
            s.run(stmt).consume()
    with drv.session(database="useb") as s:
        s.run("CREATE (:InB {n: 1}), (:InB {n: 2})").consume()
    with drv.session(database="usea") as s:
        s.run("CREATE (:InA {n: 1})").consume()
    yield server, drv
    drv.close()


def code_of(fn):
    try:
        fn()
    except neo4j.exceptions.Neo4jError as e:
        return e.code
    return "ok"


def test_use_runs_an_autocommit_query_on_the_named_graph_over_bolt(env):
    server, drv = env
    with drv.session(database="usea") as s:
        r = s.run("USE useb MATCH (n:InB) RETURN count(n) AS c")
        assert r.single()["c"] == 2
        assert r.consume().database == "useb"
        s.run("USE useb CREATE (:InB {n: 3})").consume()
        assert s.run("MATCH (n:InB) RETURN count(n) AS c").single()["c"] == 0
    with drv.session(database="useb") as s:
        assert s.run("MATCH (n:InB) RETURN count(n) AS c").single()["c"] == 3
        s.run("MATCH (n:InB {n: 3}) DELETE n").consume()
    # The default session database (neo4j) too, and graph.byName.
    with drv.session() as s:
        assert s.run("USE graph.byName('usea') MATCH (n:InA) RETURN count(n) AS c").single()["c"] == 1


def test_use_of_an_unknown_graph_is_database_not_found(env):
    _, drv = env
    with drv.session(database="usea") as s:
        got = code_of(lambda: s.run("USE nosuchgraph MATCH (n) RETURN n").consume())
    assert got == "Neo.ClientError.Database.DatabaseNotFound"


def test_use_is_authorized_on_the_named_graph(env):
    server, _ = env
    with neo4j.GraphDatabase.driver(server.bolt_uri, auth=("use_reader", PW)) as drv:
        # READ on usea: reads there, even from a session on another graph it may not read.
        with drv.session(database="usea") as s:
            assert s.run("USE usea MATCH (n:InA) RETURN count(n) AS c").single()["c"] == 1
            # No WRITE on usea.
            assert code_of(lambda: s.run("USE usea CREATE (:X)").consume()) == \
                "Neo.ClientError.Security.Forbidden"
            # Nothing on useb: the USE does not get around the table.
            assert code_of(lambda: s.run("USE useb MATCH (n) RETURN n").consume()) == \
                "Neo.ClientError.Security.Forbidden"
            assert code_of(lambda: s.run("USE nosuchgraph RETURN 1").consume()) == \
                "Neo.ClientError.Database.DatabaseNotFound"


def test_use_of_another_graph_in_an_explicit_transaction_is_refused_by_name(env):
    _, drv = env
    with drv.session(database="usea") as s:
        with s.begin_transaction() as tx:
            assert tx.run("USE usea MATCH (n:InA) RETURN count(n) AS c").single()["c"] == 1
        tx = s.begin_transaction()
        with pytest.raises(neo4j.exceptions.Neo4jError) as e:
            tx.run("USE useb MATCH (n) RETURN n").consume()
        assert e.value.code == "Neo.ClientError.Statement.FeatureNotSupported"
        tx.close()


def http_run(server, graph, statement, auth=AUTH):
    r = requests.post(f"http://127.0.0.1:{server.http_port}/db/{graph}/query/v2",
                      auth=auth, json={"statement": statement}, timeout=30)
    return r


def test_use_over_http(env):
    server, _ = env
    r = http_run(server, "usea", "USE useb MATCH (n:InB) RETURN count(n) AS c")
    assert r.status_code < 400, r.text
    assert r.json()["data"]["values"] == [[2]]
    r = http_run(server, "usea", "USE nosuchgraph MATCH (n) RETURN n")
    assert r.json()["errors"][0]["code"] == "Neo.ClientError.Database.DatabaseNotFound"
    r = http_run(server, "usea", "USE useb MATCH (n) RETURN n", auth=("use_reader", PW))
    assert r.json()["errors"][0]["code"] == "Neo.ClientError.Security.Forbidden"
    r = http_run(server, "useb", "USE usea MATCH (n:InA) RETURN count(n) AS c",
                 auth=("use_reader", PW))
    # No READ on the URL's graph: refused before the statement is read.
    assert r.json()["errors"][0]["code"] == "Neo.ClientError.Security.Forbidden"
    r = http_run(server, "usea", "USE usea CALL { USE useb RETURN 1 AS x } RETURN x")
    assert r.json()["errors"][0]["code"] == "Neo.ClientError.Statement.FeatureNotSupported"


def test_transaction_metadata_from_the_python_driver(env):
    _, drv = env
    meta = {"app": "interop", "n": 7, "tags": ["a", "b"]}
    with drv.session(database="usea") as s:
        rec = s.run(neo4j.Query("CALL tx.getMetaData() YIELD metadata RETURN metadata",
                                metadata=meta)).single()
        assert rec["metadata"] == meta
        # No metadata: an empty map.
        assert s.run("CALL tx.getMetaData()").single()["metadata"] == {}
        with s.begin_transaction(metadata={"job": "nightly"}) as tx:
            assert tx.run("CALL tx.getMetaData()").single()["metadata"] == {"job": "nightly"}
            with drv.session(database="system") as admin:
                rows = admin.run("SHOW TRANSACTIONS").data()
            assert {"job": "nightly"} in [r["metaData"] for r in rows]
        # The managed-transaction decorator form.
        @neo4j.unit_of_work(metadata={"unit": True})
        def work(tx):
            return tx.run("CALL tx.getMetaData() YIELD metadata RETURN metadata").single()[0]
        assert s.execute_read(work) == {"unit": True}
