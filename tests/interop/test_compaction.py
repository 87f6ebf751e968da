"""Compaction as a statement (`COMPACT DATABASE name`, through the front door and its policy
table) and automatic compaction in the background (issue 15), with the real Python driver."""
import time
from pathlib import Path

import pytest
from neo4j import GraphDatabase
from neo4j.exceptions import ClientError, TransientError

from conftest import AUTH

UNAVAILABLE = "Neo.TransientError.General.DatabaseUnavailable"
PAD = "p" * 1000


def db_file(srv, name="neo4j"):
    return Path(srv.data_dir) / "databases" / f"{name}.redb"


def churn(d, rounds, n=300):
    for _ in range(rounds):
        d.execute_query("UNWIND range(1, $n) AS i CREATE (:Churn {i: i, pad: $pad})", n=n, pad=PAD)
        d.execute_query("MATCH (n:Churn) DELETE n")


def test_compact_database_statement(make_server):
    srv = make_server(["--auto-compact-growth", "0"])
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        d.execute_query("UNWIND range(1, 3000) AS i CREATE (:Big {i: i, pad: $pad})", pad=PAD)
        d.execute_query("MATCH (n:Big) WHERE n.i > 10 DELETE n")
        # Auto-commit on the database itself: the statement holds no snapshot of its own.
        with d.session() as s:
            row = s.run("COMPACT DATABASE neo4j").single()
        assert row["database"] == "neo4j"
        assert row["bytesAfter"] < row["bytesBefore"], row
        assert db_file(srv).stat().st_size == row["bytesAfter"]
        # Sent to `system`, as drivers send administration.
        records, _, _ = d.execute_query("COMPACT DATABASE `neo4j`", database_="system")
        assert records[0]["bytesAfter"] <= records[0]["bytesBefore"]
        assert d.execute_query("MATCH (n:Big) RETURN count(n) AS c").records[0]["c"] == 10

        # Refused, with a clear transient error, while a transaction is open on it.
        with d.session(default_access_mode="READ") as reader:
            tx = reader.begin_transaction()
            tx.run("MATCH (n) RETURN count(n)").consume()
            # A plain session run: execute_query would retry the transient error for 30 s.
            with d.session(database="system") as admin, pytest.raises(TransientError) as e:
                admin.run("COMPACT DATABASE neo4j").consume()
            assert e.value.code == UNAVAILABLE
            assert "transactions are open" in e.value.message
            tx.rollback()
        d.execute_query("COMPACT DATABASE neo4j", database_="system")

        with pytest.raises(ClientError) as e:
            d.execute_query("COMPACT DATABASE nosuch", database_="system")
        assert e.value.code == "Neo.ClientError.Database.DatabaseNotFound"
        with pytest.raises(ClientError) as e:
            d.execute_query("EXPLAIN COMPACT DATABASE neo4j", database_="system")
        assert e.value.code == "Neo.ClientError.Statement.SyntaxError"

        # ADMIN on every graph is needed (the policy table's row).
        d.execute_query("CREATE USER compactor IF NOT EXISTS SET PASSWORD 'compactor-pw-1234'")
        d.execute_query("GRANT ADMIN ON GRAPH neo4j TO compactor")
    with GraphDatabase.driver(srv.bolt_uri, auth=("compactor", "compactor-pw-1234")) as u:
        with pytest.raises(ClientError) as e:
            u.execute_query("COMPACT DATABASE neo4j", database_="system")
        assert e.value.code == "Neo.ClientError.Security.Forbidden"


def test_automatic_compaction_when_the_file_grew_and_no_transaction_is_open(make_server):
    srv = make_server(["--auto-compact-growth", "50", "--auto-compact-min-size", "0"])
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        d.execute_query("RETURN 1")
        start = db_file(srv).stat().st_size
        with d.session(default_access_mode="READ") as s:
            # An open reader keeps the pages churn frees: the file grows, and it is not
            # compacted while the reader is open.
            reader = s.begin_transaction()
            reader.run("MATCH (n) RETURN count(n)").consume()
            churn(d, 30)
            grown = db_file(srv).stat().st_size
            assert grown > 2 * start, (start, grown)
            assert "compacted automatically" not in srv.read_log()
            reader.rollback()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "compacted automatically" not in srv.read_log():
            time.sleep(0.1)
        assert "compacted automatically" in srv.read_log(), srv.read_log()[-2000:]
        assert db_file(srv).stat().st_size < grown / 2, (start, grown, db_file(srv).stat().st_size)
        d.execute_query("CREATE (:After)")
        assert d.execute_query("MATCH (n:After) RETURN count(n) AS c").records[0]["c"] == 1

