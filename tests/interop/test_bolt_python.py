"""The stock Python `neo4j` 6.x driver against graphward over bolt:// and neo4j://."""
import datetime
import uuid

import neo4j
import pytest
import pytz
from neo4j import GraphDatabase
from neo4j.exceptions import CypherSyntaxError
from neo4j.graph import Node, Path, Relationship
from neo4j.spatial import CartesianPoint, WGS84Point
from neo4j.time import Duration

AUTH = ("neo4j", "password")


@pytest.fixture(params=["bolt", "neo4j"])
def driver(request, server):
    uri = server.bolt_uri if request.param == "bolt" else server.neo4j_uri
    d = GraphDatabase.driver(uri, auth=AUTH)
    try:
        yield d
    finally:
        d.close()


def test_verify_connectivity_and_server_info(driver):
    driver.verify_connectivity()
    info = driver.get_server_info()
    assert info.agent.startswith("Neo4j/")
    assert info.protocol_version >= (4, 4)


def test_execute_query_with_parameters(driver):
    records, summary, keys = driver.execute_query(
        "RETURN $x AS x, $s AS s, $l AS l, $m AS m",
        x=42, s="héllo", l=[1, 2.5, None, "x"], m={"a": {"b": True}},
    )
    assert keys == ["x", "s", "l", "m"]
    assert records[0].data() == {"x": 42, "s": "héllo", "l": [1, 2.5, None, "x"], "m": {"a": {"b": True}}}
    assert summary.query_type == "r"
    assert summary.database == "neo4j"


def test_session_execute_write_and_read(driver):
    tag = f"py_{uuid.uuid4().hex}"

    def write(tx):
        return tx.run("CREATE (n:PyItem {tag: $tag, v: $v}) RETURN n.v AS v", tag=tag, v=7).single()["v"]

    def read(tx):
        return [r["v"] for r in tx.run("MATCH (n:PyItem {tag: $tag}) RETURN n.v AS v", tag=tag)]

    with driver.session() as s:
        assert s.execute_write(write) == 7
        assert s.execute_read(read) == [7]


def test_write_summary_counters(driver):
    summary = driver.execute_query("CREATE (:PyCounter {a: 1})").summary
    assert summary.counters.nodes_created == 1
    assert summary.counters.properties_set == 1
    assert summary.query_type in ("w", "rw")


def test_explicit_transaction_commit_and_rollback(driver):
    tag = f"tx_{uuid.uuid4().hex}"
    with driver.session() as s:
        with s.begin_transaction() as tx:
            tx.run("CREATE (:PyTx {tag: $tag, v: 1})", tag=tag).consume()
            tx.commit()
        with s.begin_transaction() as tx:
            tx.run("CREATE (:PyTx {tag: $tag, v: 2})", tag=tag).consume()
            tx.rollback()
        # Several open results in one transaction.
        with s.begin_transaction() as tx:
            a = tx.run("UNWIND range(1, 3) AS i RETURN i")
            b = tx.run("MATCH (n:PyTx {tag: $tag}) RETURN n.v AS v", tag=tag)
            assert [r["v"] for r in b] == [1]
            assert [r["i"] for r in a] == [1, 2, 3]
            tx.commit()
        assert s.last_bookmarks() is not None


def test_pull_in_batches(server):
    with GraphDatabase.driver(server.bolt_uri, auth=AUTH) as d:
        with d.session(fetch_size=7) as s:
            values = [r["i"] for r in s.run("UNWIND range(1, 100) AS i RETURN i")]
    assert values == list(range(1, 101))


def test_graph_entities(driver):
    tag = f"g_{uuid.uuid4().hex}"
    records, _, _ = driver.execute_query(
        "CREATE (a:Person:PyGraph {name: 'a', tag: $tag})-[r:KNOWS {since: 2020}]->(b:Person {name: 'b'}) RETURN a, r, b",
        tag=tag,
    )
    a, r, b = records[0]["a"], records[0]["r"], records[0]["b"]
    assert isinstance(a, Node) and isinstance(r, Relationship)
    assert a.labels == {"Person", "PyGraph"}
    assert a["name"] == "a"
    assert isinstance(a.element_id, str) and a.element_id
    assert r.type == "KNOWS" and r["since"] == 2020
    assert r.start_node.element_id == a.element_id
    assert r.end_node.element_id == b.element_id
    records, _, _ = driver.execute_query(
        "MATCH p = (a:PyGraph {tag: $tag})-[:KNOWS]->(:Person) RETURN p", tag=tag
    )
    p = records[0]["p"]
    assert isinstance(p, Path)
    assert len(p) == 1
    assert p.start_node.element_id == a.element_id
    assert p.end_node.element_id == b.element_id
    assert p.relationships[0].type == "KNOWS"


def test_temporal_and_spatial_round_trip(driver):
    values = {
        "dt": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456,
                                tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
        # pytz, not zoneinfo: the driver calls tzinfo.utcoffset() with its own DateTime type, and
        # CPython's C zoneinfo reads that object as a native datetime (a segfault seen in CI).
        "dtz": pytz.timezone("Europe/Stockholm").localize(datetime.datetime(2024, 1, 6, 7, 8, 9)),
        "ldt": datetime.datetime(2024, 5, 6, 7, 8, 9),
        "date": datetime.date(1999, 12, 31),
        "lt": datetime.time(10, 11, 12),
        "dur": Duration(months=14, days=2, seconds=3, nanoseconds=7),
        "p2": CartesianPoint((1.0, 2.0)),
        "p3": WGS84Point((1.0, 2.0, 3.0)),
        "bytes": bytearray(b"\x00\x01\xff"),
    }
    cols = ", ".join(f"${k} AS {k}" for k in values)
    records, _, _ = driver.execute_query(f"RETURN {cols}", values)
    got = records[0]
    for k, v in values.items():
        g = got[k]
        if hasattr(g, "to_native") and not isinstance(v, Duration):
            g = g.to_native()
        assert g == v, (k, g, v)


def test_syntax_error(driver):
    with pytest.raises(CypherSyntaxError) as e:
        driver.execute_query("RETURN RETURN")
    assert e.value.code == "Neo.ClientError.Statement.SyntaxError"
    # The driver is still usable.
    assert driver.execute_query("RETURN 1 AS one").records[0]["one"] == 1


def test_other_database(server):
    with GraphDatabase.driver(server.neo4j_uri, auth=AUTH) as d:
        try:
            d.execute_query("CREATE DATABASE other IF NOT EXISTS", database_="system")
        except neo4j.exceptions.Neo4jError:
            d.execute_query("CREATE DATABASE other IF NOT EXISTS")
        with d.session(database="other") as s:
            s.run("CREATE (:OnlyInOther {v: 1})").consume()
            assert s.run("MATCH (n:OnlyInOther) RETURN count(n) AS c").single()["c"] == 1
            assert s.run("RETURN 1 AS x").single()["x"] == 1
        with d.session(database="neo4j") as s:
            assert s.run("MATCH (n:OnlyInOther) RETURN count(n) AS c").single()["c"] == 0
