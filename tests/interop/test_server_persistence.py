"""`graphward serve` keeps what was committed across restarts, and runs with no arguments at all."""
import os
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from conftest import binary

AUTH = ("neo4j", "password")


def test_restart_keeps_graphs_databases_and_indexes(make_server):
    tag = uuid.uuid4().hex
    srv = make_server()
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        d.execute_query("CREATE (:Kept {tag: $tag, n: 1})-[:NEXT {w: 2.5}]->(:Kept {tag: $tag, n: 2})",
                        tag=tag)
        d.execute_query("CREATE INDEX kept_n IF NOT EXISTS FOR (k:Kept) ON (k.n)")
        d.execute_query("CREATE DATABASE other IF NOT EXISTS", database_="system")
        d.execute_query("CREATE (:InOther {tag: $tag})", tag=tag, database_="other")
    srv.stop()

    again = make_server(data_dir=srv.data_dir)
    with GraphDatabase.driver(again.bolt_uri, auth=AUTH) as d:
        records, _, _ = d.execute_query(
            "MATCH (a:Kept {tag: $tag})-[r:NEXT]->(b) RETURN a.n AS a, r.w AS w, b.n AS b", tag=tag)
        assert [(r["a"], r["w"], r["b"]) for r in records] == [(1, 2.5, 2)]
        names = {r["name"] for r in d.execute_query("SHOW DATABASES", database_="system").records}
        assert {"neo4j", "other"} <= names
        records, _, _ = d.execute_query("MATCH (n:InOther {tag: $tag}) RETURN count(n) AS c",
                                        tag=tag, database_="other")
        assert records[0]["c"] == 1
        indexes = {r["name"] for r in d.execute_query("SHOW INDEXES").records}
        assert "kept_n" in indexes


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("0.0.0.0", port))
            return True
        except OSError:
            return False


def test_serve_with_no_arguments_uses_defaults():
    """No flags: ./data, Bolt on 7687, HTTP on 7474, default database `neo4j`."""
    if not (_port_free(7687) and _port_free(7474)):
        pytest.skip("the default ports 7687/7474 are taken on this machine")
    with tempfile.TemporaryDirectory(prefix="graphward-noargs-") as cwd:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRAPHWARD_")}
        env["GRAPHWARD_INITIAL_PASSWORD"] = AUTH[1]
        log = open(Path(cwd) / "server.log", "wb")
        proc = subprocess.Popen([binary(), "serve"], cwd=cwd, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 30
            while True:
                assert proc.poll() is None, (Path(cwd) / "server.log").read_text()
                try:
                    socket.create_connection(("127.0.0.1", 7687), timeout=0.5).close()
                    break
                except OSError:
                    assert time.time() < deadline, "server did not start"
                    time.sleep(0.1)
            with GraphDatabase.driver("bolt://127.0.0.1:7687", auth=AUTH) as d:
                records, summary, _ = d.execute_query("RETURN 1 AS one")
                assert records[0]["one"] == 1
                assert summary.database == "neo4j"
            assert (Path(cwd) / "data").is_dir()
        finally:
            proc.terminate()
            proc.wait(timeout=15)
            log.close()
        assert proc.returncode == 0
