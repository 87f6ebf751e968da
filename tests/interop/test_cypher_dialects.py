"""Neo4j 5 Cypher through the Python `neo4j` driver and Memgraph's schema syntax through
pymgclient, as their users write them (issue 16)."""
import uuid

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import ClientError, CypherSyntaxError

mgclient = pytest.importorskip("mgclient")

AUTH = ("neo4j", "password")


@pytest.fixture
def session(server):
    with GraphDatabase.driver(server.bolt_uri, auth=AUTH) as d:
        with d.session() as s:
            yield s


def mg(server):
    conn = mgclient.connect(
        host="127.0.0.1", port=server.bolt_port, username="neo4j", password="password"
    )
    conn.autocommit = True
    return conn


def test_not_exists_pattern_keeps_nodes_without_the_relationship(session):
    tag = uuid.uuid4().hex
    session.run(
        "CREATE (:DX {tag: $t, n: 'a'})-[:R]->(:DX {tag: $t, n: 'b'}), (:DX {tag: $t, n: 'c'})",
        t=tag,
    ).consume()
    rows = session.run(
        "MATCH (p:DX {tag: $t}) WHERE NOT exists((p)-[:R]->()) RETURN p.n AS n ORDER BY n",
        t=tag,
    ).values()
    assert rows == [["b"], ["c"]]


def test_count_collect_and_scoped_call(session):
    tag = uuid.uuid4().hex
    session.run(
        "CREATE (p:DP {tag: $t})-[:HAS]->(:DD {name: 'x'}), (p)-[:HAS]->(:DD {name: 'y'})", t=tag
    ).consume()
    rec = session.run(
        """
        MATCH (p:DP {tag: $t})
        CALL (p) { MATCH (p)-[:HAS]->(d) RETURN count(d) AS c }
        RETURN COUNT { (p)-[:HAS]->() } AS n,
               COLLECT { MATCH (p)-[:HAS]->(d) RETURN d.name ORDER BY d.name } AS names, c
        """,
        t=tag,
    ).single()
    assert (rec["n"], rec["names"], rec["c"]) == (2, ["x", "y"], 2)


def test_compile_time_errors_carry_neo4j_codes(session):
    with pytest.raises(CypherSyntaxError) as e:
        session.run("MATCH (a) RETURN b").consume()
    assert e.value.code == "Neo.ClientError.Statement.SyntaxError"
    with pytest.raises(ClientError) as e:
        session.run("UNWIND [1] AS i CALL (i) { CREATE (:X) } IN TRANSACTIONS ON ERROR RETRY").consume()
    assert e.value.code == "Neo.ClientError.Statement.FeatureNotSupported"


def test_memgraph_schema_commands(server):
    label = "MgU" + uuid.uuid4().hex[:8]
    conn = mg(server)
    cur = conn.cursor()
    # gqlalchemy's Field(index=True, unique=True): both on the same property.
    cur.execute(f"CREATE INDEX ON :{label}(email)")
    cur.execute(f"CREATE CONSTRAINT ON (n:{label}) ASSERT n.email IS UNIQUE")
    cur.execute("SHOW INDEX INFO")
    assert [c.name for c in cur.description] == ["index type", "label", "property", "count"]
    assert ("label+property", label, "email", None) in cur.fetchall()
    cur.execute("SHOW CONSTRAINT INFO")
    assert ("unique", label, ["email"]) in cur.fetchall()
    cur.execute(f"CREATE (:{label} {{email: 'a@x'}})")
    with pytest.raises(mgclient.DatabaseError):
        cur.execute(f"CREATE (:{label} {{email: 'a@x'}})")
    cur.execute(f"DROP CONSTRAINT ON (n:{label}) ASSERT n.email IS UNIQUE")
    cur.execute(f"DROP INDEX ON :{label}(email)")
    cur.execute("SHOW INDEX INFO")
    assert all(row[1] != label for row in cur.fetchall())
    cur.execute(f"CREATE INDEX ON :{label}")
    cur.execute(f"DROP INDEX ON :{label}")
    cur.execute("SHOW STORAGE INFO")
    info = dict(cur.fetchall())
    assert info["vertex_count"] >= 1
    # Existence constraints: enforced, listed, dropped by what they cover.
    cur.execute(f"CREATE CONSTRAINT ON (n:{label}) ASSERT EXISTS (n.email)")
    cur.execute("SHOW CONSTRAINT INFO")
    assert ("exists", label, "email") in cur.fetchall()
    with pytest.raises(mgclient.DatabaseError):
        cur.execute(f"CREATE (:{label} {{name: 'no email'}})")
    cur.execute(f"DROP CONSTRAINT ON (n:{label}) ASSERT EXISTS (n.email)")
    cur.execute(f"CREATE (:{label} {{name: 'no email'}})")
    conn.close()


def test_shortest_k_returns_paths_through_the_python_driver(session):
    # The Cypher Manual's stations example: SHORTEST 2 returns both paths tied for shortest,
    # as neo4j.graph.Path values whose nodes and relationships the driver hydrates.
    tag = uuid.uuid4().hex
    session.run(
        """
        CREATE (wos:SP {tag: $t, name: 'Worcester Shrub Hill'}),
               (dtw:SP {tag: $t, name: 'Droitwich Spa'}),
               (wop:SP {tag: $t, name: 'Worcestershire Parkway'}),
               (bmv:SP {tag: $t, name: 'Bromsgrove'}),
               (wof:SP {tag: $t, name: 'Worcester Foregate Street'}),
               (bmv)-[:LINK {distance: 6.16}]->(dtw), (bmv)-[:LINK {distance: 12.6}]->(wop),
               (dtw)-[:LINK {distance: 5.76}]->(wos), (wop)-[:LINK {distance: 3.71}]->(wos),
               (dtw)-[:LINK {distance: 6.03}]->(wof), (wof)-[:LINK {distance: 0.65}]->(wos)
        """,
        t=tag,
    ).consume()
    records = list(
        session.run(
            """
            MATCH p = SHORTEST 2 (a:SP {tag: $t, name: 'Worcester Shrub Hill'})-[:LINK]-+
                                 (b:SP {tag: $t, name: 'Bromsgrove'})
            RETURN p
            """,
            t=tag,
        )
    )
    paths = [r["p"] for r in records]
    assert len(paths) == 2
    stops = sorted([n["name"] for n in p.nodes] for p in paths)
    assert stops == [
        ["Worcester Shrub Hill", "Droitwich Spa", "Bromsgrove"],
        ["Worcester Shrub Hill", "Worcestershire Parkway", "Bromsgrove"],
    ]
    for p in paths:
        assert len(p.relationships) == 2
        assert all(r.type == "LINK" for r in p.relationships)
        assert p.start_node["name"] == "Worcester Shrub Hill"
        assert p.end_node["name"] == "Bromsgrove"
    # SHORTEST 2 GROUPS adds the three-stop route; misuse fails at compile time.
    lengths = session.run(
        """
        MATCH p = SHORTEST 2 GROUPS (a:SP {tag: $t, name: 'Worcester Shrub Hill'})-[:LINK]-+
                                    (b:SP {tag: $t, name: 'Bromsgrove'})
        RETURN length(p) AS l ORDER BY l
        """,
        t=tag,
    ).value()
    assert lengths == [2, 2, 3]
    with pytest.raises(CypherSyntaxError):
        session.run("EXPLAIN MATCH p = SHORTEST 1 (a)--+(b), (c) RETURN p").consume()


def test_multi_relationship_groups_and_shortest_k_parameter_return_paths(session):
    # A quantified path pattern of two relationships per iteration (the Cypher Manual's
    # calling points: Stop -NEXT-> Stop), juxtaposed with fixed parts, and SHORTEST $k with
    # k sent as a parameter: the driver hydrates neo4j.graph.Path values whose nodes and
    # relationships follow the pattern.
    tag = uuid.uuid4().hex
    session.run(
        """
        CREATE (pmr:QS {tag: $t, name: 'Peckham Rye'}), (clj:QS {tag: $t, name: 'Clapham Junction'}),
               (s5:QStop {tag: $t, n: 5}), (s4:QStop {tag: $t, n: 4}), (s3:QStop {tag: $t, n: 3}),
               (s2:QStop {tag: $t, n: 2}), (s1:QStop {tag: $t, n: 1}),
               (pmr)<-[:CALLS_AT]-(s5), (clj)<-[:CALLS_AT]-(s1),
               (s5)-[:NEXT]->(s4), (s4)-[:NEXT]->(s3), (s3)-[:NEXT]->(s2), (s2)-[:NEXT]->(s1)
        """,
        t=tag,
    ).consume()
    records = list(
        session.run(
            """
            MATCH p = (:QS {tag: $t, name: 'Peckham Rye'})<-[:CALLS_AT]-(d:QStop)
                      ((a:QStop)-[n1:NEXT]->(b)-[n2:NEXT]->(c)){1,2}
                      (e:QStop)-[:CALLS_AT]->(:QS {name: 'Clapham Junction'})
            RETURN p, [x IN b | x.n] AS bs, size(n2) AS iterations
            """,
            t=tag,
        )
    )
    assert len(records) == 1
    p = records[0]["p"]
    assert records[0]["bs"] == [4, 2]
    assert records[0]["iterations"] == 2
    assert [n.get("name", n.get("n")) for n in p.nodes] == [
        "Peckham Rye", 5, 4, 3, 2, 1, "Clapham Junction",
    ]
    assert [r.type for r in p.relationships] == ["CALLS_AT"] + ["NEXT"] * 4 + ["CALLS_AT"]
    for r, (a, b) in zip(p.relationships, zip(p.nodes, p.nodes[1:])):
        assert {r.start_node.element_id, r.end_node.element_id} == {a.element_id, b.element_id}
    # SHORTEST $k: k from a parameter, over several relationship patterns.
    paths = session.run(
        """
        MATCH p = SHORTEST $k (s:QStop {tag: $t, n: 5})-[:NEXT]->+(m)-[:NEXT]->(e:QStop)
        RETURN p ORDER BY length(p)
        """,
        t=tag,
        k=2,
    ).value()
    assert [len(p.relationships) for p in paths] == [2, 3, 4]
    assert [[n["n"] for n in p.nodes] for p in paths] == [[5, 4, 3], [5, 4, 3, 2], [5, 4, 3, 2, 1]]
    # A k that is not a non-negative integer is refused when the query runs.
    with pytest.raises(ClientError) as err:
        session.run(
            "MATCH p = SHORTEST $k (s:QStop {tag: $t})-[:NEXT]->+(e) RETURN p", t=tag, k=-1
        ).consume()
    assert err.value.code == "Neo.ClientError.Statement.ArgumentError"
