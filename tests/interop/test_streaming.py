"""Results stream from the plan (issue 12), through the Python neo4j driver.

Deterministic by construction: no timings. A result that would be materialized is far larger
than the memory figures checked (the server's peak RSS, VmHWM), and a LIMIT that did not stop
its input would never finish (the test would hang, not pass).
"""
import neo4j
import pytest

from conftest import AUTH


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


@pytest.fixture(scope="module")
def driver(server):
    d = neo4j.GraphDatabase.driver(server.bolt_uri, auth=AUTH)
    yield d
    d.close()


def test_first_rows_arrive_without_materializing(server, driver):
    # 1e8 rows: materialized they would need gigabytes (and the old engine refused the
    # list at the 10M-row limit). Streamed, the server's peak memory hardly moves.
    before = status_kib(server.proc.pid, "VmRSS")
    with driver.session(fetch_size=100) as s:
        result = s.run("UNWIND range(1, 100000000) AS i RETURN i")
        first = [result.__next__()["i"] for _ in range(5)]
        assert first == [1, 2, 3, 4, 5]
        peak = status_kib(server.proc.pid, "VmHWM")
        # Closing the session discards the rest: the server stops the stream (it does not
        # produce the remaining rows, or this would not return).
    assert peak - before < 128 * 1024, f"server peak RSS grew by {(peak - before) // 1024} MiB"
    with driver.session() as s:
        assert s.run("RETURN 1 AS one").single()["one"] == 1


def test_consume_stops_a_stream(driver):
    with driver.session(fetch_size=10) as s:
        result = s.run("UNWIND range(1, 1000000000000) AS i RETURN i")
        assert next(iter(result))["i"] == 1
        summary = result.consume()
        assert summary.query_type == "r"


def test_runtime_error_arrives_after_the_rows_before_it(driver):
    got = []
    with driver.session() as s:
        with pytest.raises(neo4j.exceptions.Neo4jError) as e:
            for r in s.run("UNWIND [1, 2, 0, 4] AS x RETURN 10 / x AS y"):
                got.append(r["y"])
    assert got == [10, 5]
    assert e.value.code == "Neo.ClientError.Statement.ArithmeticError"


def test_type_error_on_row_k_after_rows(driver):
    got = []
    with driver.session(fetch_size=2) as s:
        with pytest.raises(neo4j.exceptions.Neo4jError) as e:
            for r in s.run("UNWIND [1, 2, 3, 'x', 5] AS x RETURN x * 2 AS y"):
                got.append(r["y"])
    assert got == [2, 4, 6]
    assert e.value.code == "Neo.ClientError.Statement.TypeError"


def test_failed_stream_fails_its_explicit_transaction(driver):
    with driver.session() as s:
        tx = s.begin_transaction()
        got = []
        with pytest.raises(neo4j.exceptions.Neo4jError):
            for r in tx.run("UNWIND [1, 0] AS x RETURN 1 / x AS y"):
                got.append(r["y"])
        assert got == [1]
        tx.close()
        assert s.run("RETURN 2 AS two").single()["two"] == 2


def test_limit_stops_upstream(driver):
    # Unbounded in practice (1e12 rows): it only returns because LIMIT stops pulling.
    records, _, _ = driver.execute_query(
        "UNWIND range(1, 1000000000000) AS i WITH i LIMIT 3 RETURN i")
    assert [r["i"] for r in records] == [1, 2, 3]
    records, _, _ = driver.execute_query(
        "UNWIND range(1, 1000000000000) AS i WITH i WHERE i % 7 = 0 RETURN i SKIP 2 LIMIT 2")
    assert [r["i"] for r in records] == [21, 28]


def test_top_k_keeps_k_rows(driver):
    records, _, _ = driver.execute_query(
        "UNWIND range(1, 200000) AS i RETURN i ORDER BY i % 1000 DESC, i LIMIT 3")
    assert [r["i"] for r in records] == [999, 1999, 2999]


def walk(plan):
    yield plan
    for c in plan.get("children", []):
        yield from walk(c)


def test_explain_returns_the_plan(driver):
    driver.execute_query("CREATE (:StreamP {x: 1}), (:StreamP {x: 2}), (:StreamP {x: 3})")
    with driver.session() as s:
        summary = s.run(
            "EXPLAIN MATCH (n:StreamP) WHERE n.x > 1 RETURN n.x AS x ORDER BY x DESC LIMIT 1"
        ).consume()
    plan = summary.plan
    assert plan is not None and summary.profile is None
    assert plan["operatorType"] == "ProduceResults"
    assert plan["identifiers"] == ["x"]
    ops = [p["operatorType"] for p in walk(plan)]
    # The top row is chosen before the projection (as Neo4j plans it): only it is projected.
    assert ops == ["ProduceResults", "Limit", "Projection", "Top", "NodeByLabelScan"]
    for p in walk(plan):
        assert set(p) >= {"operatorType", "identifiers", "args", "children"}
    scan = next(p for p in walk(plan) if p["operatorType"] == "NodeByLabelScan")
    assert "n" in scan["identifiers"]
    # EXPLAIN runs nothing.
    assert "rows" not in plan


def test_profile_reports_rows_and_db_hits(driver):
    driver.execute_query("UNWIND range(1, 5) AS i CREATE (:StreamQ {i: i})")
    with driver.session() as s:
        result = s.run("PROFILE MATCH (n:StreamQ) WITH n LIMIT 2 RETURN n.i AS i")
        rows = [r["i"] for r in result]
        summary = result.consume()
    assert len(rows) == 2
    profile = summary.profile
    assert profile is not None
    assert profile["operatorType"] == "ProduceResults"
    assert profile["rows"] == 2
    ops = {p["operatorType"]: p for p in walk(profile)}
    assert {"ProduceResults", "Limit", "NodeByLabelScan"} <= set(ops)
    # LIMIT stopped the scan after two nodes.
    assert ops["NodeByLabelScan"]["rows"] == 2
    assert ops["Limit"]["rows"] == 2
    assert sum(p["dbHits"] for p in walk(profile)) > 0
    for p in walk(profile):
        assert isinstance(p["rows"], int) and isinstance(p["dbHits"], int)


def test_profile_of_a_write_reports_the_plan(driver):
    with driver.session() as s:
        summary = s.run("PROFILE CREATE (:StreamW) RETURN 1 AS one").consume()
    ops = [p["operatorType"] for p in walk(summary.profile)]
    assert ops[0] == "ProduceResults" and "Create" in ops
    assert summary.counters.nodes_created == 1


def test_explain_names_the_relationship_index_seek(driver):
    # The plan names the access path the executor takes: a scan before the index exists,
    # the relationship index seek (with the index in its details) after.
    driver.execute_query(
        "UNWIND range(1, 5) AS i CREATE (:PlanA {i: i})-[:PlanKnows {since: 2000 + i}]->(:PlanB)"
    )
    query = "EXPLAIN MATCH (a)-[r:PlanKnows]->(b) WHERE r.since = $y RETURN a"

    def leaf_ops():
        with driver.session() as s:
            plan = s.run(query, y=2003).consume().plan
        return [p["operatorType"] for p in walk(plan) if not p.get("children")], plan

    ops, _ = leaf_ops()
    assert ops == ["AllNodesScan"]
    driver.execute_query("CREATE INDEX plan_knows_since FOR ()-[r:PlanKnows]-() ON (r.since)")
    ops, plan = leaf_ops()
    assert ops == ["DirectedRelationshipIndexSeek"]
    seek = next(p for p in walk(plan) if p["operatorType"] == "DirectedRelationshipIndexSeek")
    assert seek["args"]["Details"] == "RANGE INDEX (a)-[r:PlanKnows(since)]->(b) WHERE since = $y"
    with driver.session() as s:
        rows = [r["i"] for r in s.run(
            "MATCH (a)-[r:PlanKnows]->(b) WHERE r.since = $y RETURN a.i AS i", y=2003)]
    assert rows == [3]


def test_where_equalities_seek_the_index_part_by_part(driver):
    # `WHERE n.id = $v` seeks the index as `{id: $v}` does, and in a MATCH of several parts
    # each part seeks with values bound by the parts before it (PROFILE shows the seeks and
    # a handful of db hits, not a scan of every pair).
    driver.execute_query("UNWIND range(1, 3000) AS i CREATE (:SeekW {id: i})")
    driver.execute_query("CREATE INDEX seekw_id FOR (n:SeekW) ON (n.id)")
    query = ("MATCH (a:SeekW), (b:SeekW) WHERE a.id = $v AND b.id = a.id + 1 "
             "RETURN a.id AS a, b.id AS b")
    with driver.session() as s:
        result = s.run("PROFILE " + query, v=41)
        rows = [(r["a"], r["b"]) for r in result]
        profile = result.consume().profile
    assert rows == [(41, 42)]
    ops = [p["operatorType"] for p in walk(profile)]
    assert ops.count("NodeIndexSeek") == 2, ops
    assert sum(p.get("dbHits", 0) for p in walk(profile)) < 100


def test_in_lists_ranges_and_prefixes_seek_the_index(driver):
    # `WHERE n.id IN $ids`, `n.id >= $lo AND n.id < $hi` and `n.name STARTS WITH $p` seek
    # the index (NodeIndexSeek / NodeIndexSeekByRange with a handful of db hits) and give
    # the rows they give without it.
    driver.execute_query(
        "UNWIND range(1, 3000) AS i CREATE (:SeekR {id: i, name: 'r' + toString(i)})")
    queries = [
        ("MATCH (n:SeekR) WHERE n.id IN $ids RETURN n.id AS id ORDER BY id",
         {"ids": [5, 7, 5, 4000, None]}, "NodeIndexSeek", [5, 7]),
        ("MATCH (n:SeekR) WHERE n.id >= $lo AND n.id < $hi RETURN n.id AS id ORDER BY id",
         {"lo": 2997, "hi": 3001.5}, "NodeIndexSeekByRange", [2997, 2998, 2999, 3000]),
        ("MATCH (n:SeekR) WHERE n.name STARTS WITH $p RETURN n.id AS id ORDER BY id",
         {"p": "r299"}, "NodeIndexSeekByRange", [299] + list(range(2990, 3000))),
    ]

    def run(query, params):
        with driver.session() as s:
            result = s.run("PROFILE " + query, **params)
            rows = [r["id"] for r in result]
            profile = result.consume().profile
        ops = [p["operatorType"] for p in walk(profile)]
        return rows, ops, sum(p.get("dbHits", 0) for p in walk(profile))

    for query, params, _, want in queries:
        rows, ops, hits = run(query, params)
        assert rows == want, query
        assert "NodeByLabelScan" in ops and hits > 3000, (query, ops, hits)
    driver.execute_query("CREATE INDEX seekr_id FOR (n:SeekR) ON (n.id)")
    driver.execute_query("CREATE INDEX seekr_name FOR (n:SeekR) ON (n.name)")
    for query, params, op, want in queries:
        rows, ops, hits = run(query, params)
        assert rows == want, query
        assert op in ops and hits < 200, (query, ops, hits)


def test_order_by_an_indexed_property_reads_the_index_in_order(driver):
    # `ORDER BY n.id [DESC] [LIMIT k]` with an index on :L(id) that holds every node of the
    # label reads the index in order (NodeIndexScan, or the range of a range seek on id: no
    # Top, a handful of db hits for a LIMIT); the whole order streams through PULL n; the rows
    # are the sort's. A node without the property brings the sort back (its null sorts first
    # in DESC).
    driver.execute_query(
        "UNWIND range(0, 2999) AS i CREATE (:OrdR {id: (i * 7919) % 3000})")
    queries = [
        ("MATCH (n:OrdR) RETURN n.id AS id ORDER BY n.id DESC LIMIT 5",
         [2999, 2998, 2997, 2996, 2995], "NodeIndexScan"),
        ("MATCH (n:OrdR) RETURN n.id AS id ORDER BY id SKIP 2 LIMIT 3", [2, 3, 4],
         "NodeIndexScan"),
        ("MATCH (n:OrdR) WHERE n.id >= $lo RETURN n.id AS id ORDER BY n.id LIMIT 3",
         [100, 101, 102], "NodeIndexSeekByRange"),
    ]

    def run(query):
        with driver.session() as s:
            result = s.run("PROFILE " + query, lo=100)
            rows = [r["id"] for r in result]
            profile = result.consume().profile
        ops = [p["operatorType"] for p in walk(profile)]
        return rows, ops, sum(p.get("dbHits", 0) for p in walk(profile))

    for query, want, _ in queries:
        rows, ops, hits = run(query)
        assert rows == want, query
        assert "Top" in ops and hits > 3000, (query, ops, hits)
    driver.execute_query("CREATE INDEX ordr_id FOR (n:OrdR) ON (n.id)")
    for query, want, read in queries:
        rows, ops, hits = run(query)
        assert rows == want, query
        assert read in ops and "Top" not in ops and hits < 100, (query, ops, hits)
    # The whole order, pulled 100 records at a time.
    with driver.session(fetch_size=100) as s:
        rows = [r["id"] for r in s.run("MATCH (n:OrdR) RETURN n.id AS id ORDER BY n.id DESC")]
    assert rows == list(range(2999, -1, -1))
    driver.execute_query("CREATE (:OrdR {name: 'no id'})")
    rows, ops, _ = run(queries[0][0])
    assert rows == [None, 2999, 2998, 2997, 2996], rows
    assert "Top" in ops and "NodeIndexScan" not in ops, ops


def test_composite_and_relationship_in_seeks(driver):
    # A composite index is sought when the WHERE gives both of its properties; a
    # relationship index answers `r.p IN $list` (PROFILE names the seek, few db hits).
    driver.execute_query(
        "UNWIND range(1, 2000) AS i CREATE (:SeekC {a: i % 40, b: i % 9, i: i})"
        "-[:SEEKR {w: i}]->(:SeekT {i: i})")
    driver.execute_query("CREATE INDEX seekc_ab FOR (n:SeekC) ON (n.a, n.b)")
    driver.execute_query("CREATE INDEX seekr_w FOR ()-[r:SEEKR]-() ON (r.w)")
    cases = [
        ("MATCH (n:SeekC) WHERE n.a = $a AND n.b = $b RETURN n.i AS i ORDER BY i",
         {"a": 3, "b": 4}, "NodeIndexSeek",
         [i for i in range(1, 2001) if i % 40 == 3 and i % 9 == 4]),
        ("MATCH (s)-[r:SEEKR]->(t) WHERE r.w IN $ws RETURN t.i AS i ORDER BY i",
         {"ws": [7, 1999, 5000]}, "DirectedRelationshipIndexSeek", [7, 1999]),
    ]
    for query, params, op, want in cases:
        with driver.session() as s:
            result = s.run("PROFILE " + query, **params)
            rows = [r["i"] for r in result]
            profile = result.consume().profile
        ops = [p["operatorType"] for p in walk(profile)]
        assert rows == want, query
        assert op in ops, (query, ops)
        assert sum(p.get("dbHits", 0) for p in walk(profile)) < 200, query


def test_a_map_naming_another_pattern_variable(driver):
    # `(b {id: a.id + 1})<-[:R]-(a)`: the map reads `a`, bound after `b` in the pattern's
    # own order; it is checked once both are bound (it found nothing before).
    driver.execute_query(
        "UNWIND range(1, 6) AS i CREATE (:MapDep {id: i}) WITH i WHERE i > 1 "
        "MATCH (a:MapDep {id: i - 1}), (b:MapDep {id: i}) CREATE (a)-[:R]->(b)")
    driver.execute_query("CREATE INDEX mapdep_id FOR (n:MapDep) ON (n.id)")
    records, _, _ = driver.execute_query(
        "MATCH (b:MapDep {id: a.id + 1})<-[:R]-(a:MapDep) WHERE a.id < 4 "
        "RETURN a.id AS a, b.id AS b ORDER BY a")
    assert [(r["a"], r["b"]) for r in records] == [(1, 2), (2, 3), (3, 4)]


def test_counts_come_from_the_count_store(driver):
    # `count(n)` of a label, of every node, of a relationship type and of every relationship:
    # read from the counts the storage keeps (one storage hit under PROFILE, no scan), and
    # equal to what a scan counts (the same query with a WHERE), before and after writes.
    driver.execute_query(
        "UNWIND range(1, 30) AS i CREATE (:CountA {i: i})-[:COUNTS]->(:CountB {i: i})")
    queries = [
        "MATCH (n:CountA) RETURN count(n) AS c",
        "MATCH (n) RETURN count(*) AS c",
        "MATCH ()-[r:COUNTS]->() RETURN count(r) AS c",
        "MATCH (a)<-[r]-(b) RETURN count(r) AS c",
    ]

    def check():
        for q in queries:
            with driver.session() as s:
                result = s.run("PROFILE " + q)
                stored = result.single()["c"]
                profile = result.consume().profile
            ops = [p["operatorType"] for p in walk(profile)]
            assert ops[-1] in ("NodeCountFromCountStore", "RelationshipCountFromCountStore"), ops
            assert sum(p.get("dbHits", 0) for p in walk(profile)) <= 1, q
            scanned = q.replace(" RETURN", " WHERE true RETURN")
            records, _, _ = driver.execute_query(scanned)
            assert stored == records[0]["c"], q

    check()
    driver.execute_query("MATCH (a:CountA {i: 1}) DETACH DELETE a")
    driver.execute_query("MATCH (b:CountB {i: 2}) CREATE (b)-[:COUNTS]->(:CountA)")
    check()
    records, _, _ = driver.execute_query("MATCH ()-[r:COUNTS]->() RETURN count(r) AS c")
    assert records[0]["c"] == 30
