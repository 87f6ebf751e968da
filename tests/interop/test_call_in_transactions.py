"""CALL { ... } IN TRANSACTIONS through real clients (issue 16): the Python driver's auto-commit
`session.run` runs it in batches with the counters of every batch summed; inside an explicit
transaction (`begin_transaction`, `execute_write`) it fails with Neo4j's code; batches committed
before a failure stay committed and another session sees them; the same over the HTTP Query API
(auto-commit endpoint works, explicit-transaction endpoint refuses); pymgclient in autocommit
and in its default explicit transactions."""
import pytest
import requests
from neo4j import GraphDatabase
from neo4j.exceptions import ClientError, DatabaseError, Neo4jError

from conftest import AUTH

CODE = "Neo.DatabaseError.Transaction.TransactionStartFailed"
BATCHED = "UNWIND range(1, 5) AS i CALL (i) {{ CREATE (:{label} {{i: i}}) }} IN TRANSACTIONS OF 2 ROWS"


@pytest.fixture(scope="module")
def driver(server):
    d = GraphDatabase.driver(server.bolt_uri, auth=AUTH)
    yield d
    d.close()


def count(driver, label):
    records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS c")
    return records[0]["c"]


def test_auto_commit_run_batches_and_sums_counters(driver):
    with driver.session() as s:
        summary = s.run(BATCHED.format(label="CitA")).consume()
    c = summary.counters
    assert (c.nodes_created, c.properties_set, c.labels_added) == (5, 5, 5)
    assert count(driver, "CitA") == 5
    # RETURN from the subquery, and a status report.
    with driver.session() as s:
        rows = s.run(
            "UNWIND [1, 0, 2] AS i CALL (i) { CREATE (n:CitR {v: 10 / i}) RETURN n.v AS v } "
            "IN TRANSACTIONS OF 1 ROW ON ERROR CONTINUE REPORT STATUS AS st "
            "RETURN i, v, st.committed AS ok, st.errorMessage AS err"
        ).data()
    assert [(r["i"], r["v"], r["ok"]) for r in rows] == [(1, 10, True), (0, None, False), (2, 5, True)]
    assert rows[1]["err"] and rows[0]["err"] is None
    assert count(driver, "CitR") == 2


def test_explicit_transactions_refuse_it(driver):
    with driver.session() as s:
        tx = s.begin_transaction()
        with pytest.raises(Neo4jError) as e:
            tx.run(BATCHED.format(label="CitX")).consume()
        assert e.value.code == CODE
        assert "implicit transaction" in e.value.message
        tx.close()

    def work(tx):
        tx.run(BATCHED.format(label="CitX")).consume()

    with driver.session() as s:
        with pytest.raises(DatabaseError) as e:
            s.execute_write(work)
        assert e.value.code == CODE
    assert count(driver, "CitX") == 0


def test_batches_committed_before_a_failure_stay_committed(driver):
    # Batch 3 ([5, 0]) divides by zero: ON ERROR FAIL (the default) fails the query, and the
    # two batches committed before it are durable and visible to another session.
    with driver.session() as s:
        with pytest.raises(ClientError) as e:
            s.run(
                "UNWIND [1, 2, 3, 4, 5, 0, 6] AS i CALL (i) { CREATE (:CitF {v: 100 / i}) } "
                "IN TRANSACTIONS OF 2 ROWS"
            ).consume()
        assert e.value.code == "Neo.ClientError.Statement.ArithmeticError"
        assert "(Transactions committed: 2)" in e.value.message
    with driver.session() as other:
        assert other.run("MATCH (n:CitF) RETURN count(n) AS c").single()["c"] == 4


def test_read_access_mode_refuses_it(driver):
    with driver.session(default_access_mode="READ") as s:
        with pytest.raises(ClientError) as e:
            s.run(BATCHED.format(label="CitRead")).consume()
        assert e.value.code == "Neo.ClientError.Security.Forbidden"
    assert count(driver, "CitRead") == 0


def http(server, path):
    return f"http://127.0.0.1:{server.http_port}{path}"


def test_http_auto_commit_works_and_explicit_refuses(server, driver):
    r = requests.post(http(server, "/db/neo4j/query/v2"),
                      json={"statement": BATCHED.format(label="CitH"), "includeCounters": True},
                      auth=AUTH)
    assert r.status_code in (200, 202), r.text
    assert count(driver, "CitH") == 5
    assert r.json()["counters"]["nodesCreated"] == 5
    r = requests.post(http(server, "/db/neo4j/query/v2/tx"),
                      json={"statement": BATCHED.format(label="CitHx")}, auth=AUTH)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["code"] == CODE
    assert count(driver, "CitHx") == 0


def test_pymgclient_autocommit_works_and_explicit_refuses(server, driver):
    mgclient = pytest.importorskip("mgclient")
    conn = mgclient.connect(host="127.0.0.1", port=server.bolt_port,
                            username=AUTH[0], password=AUTH[1])
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute(BATCHED.format(label="CitM"))
    cur.fetchall()
    assert count(driver, "CitM") == 5
    conn.close()
    conn = mgclient.connect(host="127.0.0.1", port=server.bolt_port,
                            username=AUTH[0], password=AUTH[1])  # autocommit off: BEGIN first
    cur = conn.cursor()
    with pytest.raises(mgclient.DatabaseError) as e:
        cur.execute(BATCHED.format(label="CitMx"))
        cur.fetchall()
    assert "implicit transaction" in str(e.value)
    conn.close()
    assert count(driver, "CitMx") == 0


def test_a_timeout_stops_it_between_or_inside_batches_keeping_whole_batches(driver):
    # Whether the client's timeout ends the query before its last batch depends on the
    # machine; either way only whole batches are committed, and a stopped query says why.
    from neo4j import Query
    from neo4j.exceptions import ClientError as CE
    total, size = 20000, 500
    with driver.session() as s:
        try:
            s.run(Query(
                f"UNWIND range(1, {total}) AS i CALL (i) {{ CREATE (:CitT {{i: i}}) }} "
                f"IN TRANSACTIONS OF {size} ROWS", timeout=0.2)).consume()
            stopped = False
        except CE as e:
            assert e.code.startswith("Neo.ClientError.Transaction.TransactionTimedOut"), e.code
            stopped = True
    n = count(driver, "CitT")
    assert n % size == 0
    assert (n < total) if stopped else (n == total)
