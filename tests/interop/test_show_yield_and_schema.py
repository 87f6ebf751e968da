"""Issue 16, from the Neo4j Python driver:

* `SHOW ... YIELD ... WHERE ... RETURN` (Neo4j 5): SHOW INDEXES / FUNCTIONS / PROCEDURES /
  TRANSACTIONS / USERS with a tail, an unknown YIELD column is Neo4j's syntax error.
* A non-admin user's `SHOW DATABASES WHERE` (or `YIELD *`) cannot reach the databases it may
  not use: they are filtered before the WHERE reads the rows.
* A relationship property index and key constraints, kept across a server restart; violations
  are `Neo.ClientError.Schema.ConstraintValidationFailed`.
gqlalchemy's Memgraph schema reads (SHOW INDEX INFO / SHOW CONSTRAINT INFO) are in
test_gqlalchemy.py.
"""
import neo4j
import pytest

AUTH = ("neo4j", "password")


def driver(server, auth=AUTH):
    return neo4j.GraphDatabase.driver(server.bolt_uri, auth=auth)


def test_show_with_yield_where_return(server):
    with driver(server) as d:
        d.execute_query("CREATE INDEX show_yield_name IF NOT EXISTS FOR (p:ShowYield) ON (p.name)")
        records = d.execute_query(
            "SHOW INDEXES YIELD name, type WHERE type = 'RANGE' AND name = 'show_yield_name' "
            "RETURN name ORDER BY name").records
        assert [r.data() for r in records] == [{"name": "show_yield_name"}]
        records = d.execute_query("SHOW FUNCTIONS YIELD * WHERE name = 'toUpper'").records
        assert len(records) == 1
        assert records[0]["isBuiltIn"] is True and records[0]["category"]
        assert "aggregating" in records[0].keys()
        records = d.execute_query("SHOW PROCEDURES WHERE name STARTS WITH 'db.'").records
        assert records and all(r["name"].startswith("db.") for r in records)
        assert records[0].keys() == ["name", "description", "mode", "worksOnSystem"]
        # YIELD x AS y, with the parameters of the driver in WHERE.
        records = d.execute_query(
            "SHOW FUNCTIONS YIELD name AS fn WHERE fn STARTS WITH $prefix RETURN count(*) AS n",
            prefix="to").records
        assert records[0]["n"] > 3
        with d.session(database="system") as s:
            rows = s.run("SHOW TRANSACTIONS YIELD transactionId, currentQuery "
                         "WHERE currentQuery STARTS WITH 'SHOW TRANSACTIONS'").data()
            assert len(rows) == 1 and set(rows[0]) == {"transactionId", "currentQuery"}, rows
            users = s.run("SHOW USERS YIELD user WHERE user = 'neo4j' RETURN user").data()
            assert users == [{"user": "neo4j"}]
            me = s.run("SHOW CURRENT USER YIELD user").data()
            assert me == [{"user": "neo4j"}]
        with pytest.raises(neo4j.exceptions.CypherSyntaxError) as e:
            d.execute_query("SHOW INDEXES YIELD name, flavour")
        assert "Trying to YIELD non-existing column: `flavour`" in e.value.message
        d.execute_query("DROP INDEX show_yield_name")


def test_show_databases_where_cannot_reveal_other_databases(server):
    with driver(server) as d:
        d.execute_query("CREATE DATABASE hiddenyield IF NOT EXISTS", database_="system")
        d.execute_query("CREATE DATABASE seenyield IF NOT EXISTS", database_="system")
        d.execute_query("CREATE USER showyielder IF NOT EXISTS SET PASSWORD 'password123'",
                        database_="system")
        d.execute_query("GRANT READ ON GRAPH seenyield TO showyielder", database_="system")
    try:
        with driver(server, ("showyielder", "password123")) as u:
            for q in [
                "SHOW DATABASES YIELD name WHERE name = 'hiddenyield'",
                "SHOW DATABASES WHERE name <> 'x'",
                "SHOW DATABASES YIELD * RETURN name",
                "SHOW DATABASES YIELD name AS n RETURN collect(n) AS n",
                "SHOW DATABASE hiddenyield",
            ]:
                records = u.execute_query(q, database_="system").records
                seen = set()
                for r in records:
                    v = r.values()[0]
                    seen.update(v if isinstance(v, list) else [v])
                assert "hiddenyield" not in seen, (q, seen)
            names = u.execute_query("SHOW DATABASES YIELD name RETURN name ORDER BY name",
                                    database_="system").records
            assert [r["name"] for r in names] == ["seenyield", "system"]
    finally:
        with driver(server) as d:
            d.execute_query("DROP USER showyielder IF EXISTS", database_="system")
            d.execute_query("DROP DATABASE hiddenyield IF EXISTS", database_="system")
            d.execute_query("DROP DATABASE seenyield IF EXISTS", database_="system")


def test_relationship_index_and_key_constraints_across_a_restart(make_server):
    srv = make_server()
    with driver(srv) as d:
        with d.session() as s:
            s.run("CREATE (a:Actor {first: 'Keanu', last: 'Reeves'})"
                  "-[:KNOWS {since: 2020, how: 'work'}]->(b:Actor {first: 'Carrie', last: 'Moss'})"
                  ).consume()
            s.run("CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)").consume()
            s.run("CREATE CONSTRAINT actor_key FOR (a:Actor) REQUIRE (a.first, a.last) IS NODE KEY"
                  ).consume()
            s.run("CREATE CONSTRAINT knows_key FOR ()-[r:KNOWS]-() REQUIRE (r.since, r.how) "
                  "IS RELATIONSHIP KEY").consume()
    srv.stop()
    srv.start()
    with driver(srv) as d:
        with d.session() as s:
            idx = s.run("SHOW INDEXES YIELD name, entityType, labelsOrTypes, properties "
                        "WHERE name = 'knows_since'").data()
            assert idx == [{"name": "knows_since", "entityType": "RELATIONSHIP",
                            "labelsOrTypes": ["KNOWS"], "properties": ["since"]}]
            cons = {r["name"]: r["type"] for r in s.run("SHOW KEY CONSTRAINTS")}
            assert cons == {"actor_key": "NODE_KEY", "knows_key": "RELATIONSHIP_KEY"}
            found = s.run("MATCH (a)-[r:KNOWS {since: $y}]->(b) RETURN a.first AS a, b.first AS b",
                          y=2020).data()
            assert found == [{"a": "Keanu", "b": "Carrie"}]
            for q in [
                "CREATE (:Actor {first: 'Keanu', last: 'Reeves'})",
                "CREATE (:Actor {first: 'Laurence'})",
                "MATCH (a:Actor {first: 'Keanu'}), (b:Actor {first: 'Carrie'}) "
                "CREATE (a)-[:KNOWS {since: 2020, how: 'work'}]->(b)",
                "MATCH ()-[r:KNOWS]->() REMOVE r.how",
            ]:
                with pytest.raises(neo4j.exceptions.ConstraintError) as e:
                    s.run(q).consume()
                assert e.value.code == "Neo.ClientError.Schema.ConstraintValidationFailed", q
            s.run("DROP INDEX knows_since").consume()
            s.run("DROP CONSTRAINT knows_key").consume()
            assert s.run("SHOW INDEXES YIELD name WHERE name IN ['knows_since', 'knows_key']"
                         ).data() == []

