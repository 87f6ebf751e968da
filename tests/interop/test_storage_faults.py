"""Storage faults and backups, as an operator meets them (issue 15).

* a database file deleted, truncated to zero or damaged while the catalog lists it: that
  database is offline with the reason, the others serve, SHOW DATABASES and /health say so,
  `graphward check` exits non-zero with one line per database;
* a full disk (a small tmpfs, mounted here when running as root): the failing commit is an
  error, the database is `degraded` (SHOW DATABASES, /health, metrics, an ERROR log line) and
  still answers reads; once space is freed, writes succeed again without a restart and every
  acknowledged commit is there (also after a restart);
* `graphward backup` against a running server under concurrent writes, verified, then
  `graphward restore` into a new data directory: node by node the same, users included.
"""
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import requests
from neo4j import GraphDatabase
from neo4j.exceptions import Neo4jError

from conftest import PASSWORD, Server, binary

AUTH = ("neo4j", PASSWORD)
UNAVAILABLE = "Neo.TransientError.General.DatabaseUnavailable"


def http(srv, path):
    return f"http://127.0.0.1:{srv.http_port}{path}"


def show_databases(driver):
    records = driver.execute_query("SHOW DATABASES", database_="system").records
    return {r["name"]: (r["currentStatus"], r["statusMessage"]) for r in records}


def run_cli(*args, env=None):
    return subprocess.run([binary(), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def refused(driver, query, database="neo4j"):
    """The error of a query run once (execute_query would retry a transient error)."""
    with driver.session(database=database) as s:
        with pytest.raises(Neo4jError) as e:
            s.run(query).consume()
    return e.value


def fill(driver, database, n):
    driver.execute_query("UNWIND range(1, $n) AS i CREATE (:Item {i: i, name: 'item-' + toString(i)})",
                         n=n, database_=database)


# ---- startup checks -------------------------------------------------------------------------

def test_missing_empty_and_damaged_files_are_offline_not_empty(make_server):
    srv = make_server()
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        for name in ("gone", "empty", "damaged", "fine"):
            d.execute_query(f"CREATE DATABASE {name}", database_="system")
            fill(d, name, 200)
        fill(d, "neo4j", 50)
    srv.stop()

    dbs = Path(srv.data_dir) / "databases"
    (dbs / "gone.redb").unlink()
    (dbs / "empty.redb").write_bytes(b"")
    with open(dbs / "damaged.redb", "r+b") as f:
        f.write(os.urandom(8192))

    # Offline check, server stopped: one line per database, non-zero exit.
    out = run_cli("check", "--data-dir", srv.data_dir)
    assert out.returncode == 1, out
    lines = {l.split(":")[0]: l for l in out.stdout.splitlines()}
    assert set(lines) == {"gone", "empty", "damaged", "fine", "neo4j"}, out.stdout
    assert "missing" in lines["gone"]
    assert "empty" in lines["empty"]
    assert "offline" in lines["damaged"]
    assert lines["fine"] == "fine: ok (200 nodes, 0 relationships)"
    assert lines["neo4j"] == "neo4j: ok (50 nodes, 0 relationships)"

    again = make_server(data_dir=srv.data_dir)
    with GraphDatabase.driver(again.bolt_uri, auth=AUTH) as d:
        states = show_databases(d)
        assert states["fine"] == ("online", "")
        assert states["neo4j"] == ("online", "")
        for name, word in (("gone", "missing"), ("empty", "empty"), ("damaged", "")):
            status, message = states[name]
            assert status == "offline", (name, states[name])
            assert word in message and message, (name, message)
        # Never an empty online database: a query there is refused with the reason.
        for name in ("gone", "empty", "damaged"):
            e = refused(d, "MATCH (n) RETURN count(n) AS c", database=name)
            assert e.code == UNAVAILABLE, e
            assert "offline" in e.message
        assert d.execute_query("MATCH (n) RETURN count(n) AS c", database_="fine").records[0]["c"] == 200
    assert not (dbs / "gone.redb").exists(), "the missing file must not be re-created"
    assert (dbs / "empty.redb").stat().st_size == 0, "the empty file must not be initialized"
    h = requests.get(http(again, "/health")).json()
    assert h["status"] == "degraded", h
    metrics = requests.get(http(again, "/metrics"), auth=AUTH).text
    assert 'graphward_database_status{database="gone",status="offline"} 1' in metrics
    assert "offline" in again.read_log() and "gone" in again.read_log()

    # An offline database can be dropped and created afresh.
    with GraphDatabase.driver(again.bolt_uri, auth=AUTH) as d:
        d.execute_query("DROP DATABASE gone", database_="system")
        d.execute_query("CREATE DATABASE gone", database_="system")
        assert show_databases(d)["gone"] == ("online", "")


def test_default_database_missing_show_databases_still_works(make_server):
    srv = make_server()
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        d.execute_query("CREATE DATABASE other", database_="system")
        fill(d, "other", 10)
    srv.stop()
    (Path(srv.data_dir) / "databases" / "neo4j.redb").unlink()

    again = make_server(data_dir=srv.data_dir)
    with GraphDatabase.driver(again.bolt_uri, auth=AUTH) as d:
        states = show_databases(d)
        assert states["neo4j"][0] == "offline" and "missing" in states["neo4j"][1]
        assert states["other"] == ("online", "")
        assert refused(d, "MATCH (n) RETURN count(n)").code == UNAVAILABLE
    r = requests.get(http(again, "/health"))
    assert r.status_code == 503 and r.json()["status"] == "unavailable"
    assert not (Path(srv.data_dir) / "databases" / "neo4j.redb").exists()


# ---- disk full ------------------------------------------------------------------------------

@pytest.fixture
def small_tmpfs():
    if os.geteuid() != 0:
        pytest.skip("the disk-full test mounts a small tmpfs and needs root (CI runs as root)")
    d = tempfile.mkdtemp(prefix="graphward-tmpfs-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m,mode=0700", "tmpfs", d],
                       capture_output=True, text=True)
    if r.returncode != 0:
        os.rmdir(d)
        pytest.skip(f"cannot mount a tmpfs here (no CAP_SYS_ADMIN?): {r.stderr.strip()}")
    try:
        yield Path(d)
    finally:
        subprocess.run(["umount", "-l", d], check=False)
        shutil.rmtree(d, ignore_errors=True)


def test_disk_full_degrades_then_recovers_without_restart(small_tmpfs):
    data = small_tmpfs / "data"
    logs = tempfile.mkdtemp(prefix="graphward-tmpfs-log-")
    srv = Server(str(data))
    srv.log_path = Path(logs) / "server.log"  # the log must not share the full disk
    srv.start()
    try:
        acknowledged = []
        blob = "x" * 20_000
        with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
            # Ballast to free later, then commits until the disk is full.
            ballast = small_tmpfs / "ballast"
            failure = None
            for i in range(2000):
                try:
                    with d.session() as s:
                        s.run("UNWIND range(0, 9) AS k CREATE (:Blob {batch: $i, k: k, data: $blob})",
                              i=i, blob=blob).consume()
                    acknowledged.append(i)
                except Neo4jError as e:
                    failure = e
                    break
                if i == 3:
                    with open(ballast, "wb") as f:
                        f.write(b"\0" * (4 << 20))
            assert failure is not None, "the disk never filled up"
            assert acknowledged, "not one commit fit"

            # A named state, with the reason, everywhere an operator looks.
            states = show_databases(d)
            assert states["neo4j"][0] == "degraded", states
            assert "storage failed" in states["neo4j"][1]
            h = requests.get(http(srv, "/health")).json()
            assert h["status"] == "degraded", h
            metrics = requests.get(http(srv, "/metrics"), auth=AUTH).text
            assert 'graphward_database_status{database="neo4j",status="degraded"} 1' in metrics
            assert 'graphward_storage_io_failures_total{database="neo4j"} 0' not in metrics
            log = srv.read_log()
            assert "ERROR" in log and "degraded" in log, log[-2000:]

            # Reads keep working while writes cannot.
            deadline = time.time() + 15
            while True:
                try:
                    c = d.execute_query("MATCH (n:Blob) RETURN count(n) AS c").records[0]["c"]
                    break
                except Neo4jError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.2)
            assert c >= 10 * len(acknowledged)
            assert refused(d, "CREATE (:Blob {batch: -1})").code == UNAVAILABLE

            # Free space: writes succeed again without a restart.
            ballast.unlink()
            deadline = time.time() + 30
            while True:
                try:
                    with d.session() as s:
                        s.run("CREATE (:After {ok: true})").consume()
                    break
                except Neo4jError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.5)
            assert show_databases(d)["neo4j"] == ("online", "")
            assert requests.get(http(srv, "/health")).json()["status"] == "ok"
            batches = {r["b"] for r in d.execute_query(
                "MATCH (n:Blob) WITH n.batch AS b, count(*) AS c WHERE c = 10 RETURN b").records}
            assert set(acknowledged) <= batches
        srv.stop()

        # And after a restart.
        again = Server(str(data))
        again.log_path = Path(logs) / "server2.log"
        again.start()
        try:
            with GraphDatabase.driver(again.bolt_uri, auth=AUTH) as d:
                batches = {r["b"] for r in d.execute_query(
                    "MATCH (n:Blob) WITH n.batch AS b, count(*) AS c WHERE c = 10 RETURN b").records}
                assert set(acknowledged) <= batches
                assert d.execute_query("MATCH (n:After) RETURN count(n) AS c").records[0]["c"] == 1
        finally:
            again.stop()
    finally:
        srv.stop()
        shutil.rmtree(logs, ignore_errors=True)


# ---- backup and restore ---------------------------------------------------------------------

def all_nodes(driver, database="neo4j"):
    records = driver.execute_query(
        "MATCH (n) RETURN id(n) AS id, labels(n) AS labels, properties(n) AS props",
        database_=database).records
    return {r["id"]: (sorted(r["labels"]), r["props"]) for r in records}


def all_rels(driver, database="neo4j"):
    records = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN id(r) AS id, id(a) AS a, type(r) AS t, id(b) AS b, properties(r) AS p",
        database_=database).records
    return {r["id"]: (r["a"], r["t"], r["b"], r["p"]) for r in records}


def test_backup_under_writes_and_restore(make_server, tmp_path):
    srv = make_server()
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        d.execute_query("CREATE INDEX item_i FOR (n:Item) ON (n.i)")
        fill(d, "neo4j", 500)
        d.execute_query("MATCH (a:Item) MATCH (b:Item {i: a.i + 1}) CREATE (a)-[:NEXT {w: a.i}]->(b)")
        d.execute_query("CREATE DATABASE other", database_="system")
        fill(d, "other", 30)
        d.execute_query("CREATE USER alice SET PASSWORD 'alice-secret-1' CHANGE NOT REQUIRED",
                        database_="system")

    # A writer commits all along; every commit is one (:W {i}) and one relationship.
    stop = threading.Event()
    acked = []

    def writer():
        with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
            i = 0
            while not stop.is_set():
                d.execute_query("CREATE (:W {i: $i})-[:OF]->(:WTail {i: $i})", i=i)
                acked.append(i)
                i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(0.3)
        backup = tmp_path / "backup"
        out = run_cli("backup", "--to", str(backup), "--port", str(srv.http_port),
                      env={"GRAPHWARD_PASSWORD": PASSWORD})
        time.sleep(0.2)
    finally:
        stop.set()
        t.join()
    assert out.returncode == 0, out
    assert "backup complete and verified" in out.stdout
    assert len(acked) > 5, "the writer did not run during the backup"
    manifest = json.loads((backup / "manifest.json").read_text())
    paths = {f["path"] for f in manifest["files"]}
    assert {"databases/neo4j.redb", "databases/other.redb", "databases/catalog",
            "system/auth.redb", "system/token-signing-key"} <= paths
    assert (backup / "databases" / "neo4j.redb").stat().st_mode & 0o077 == 0
    # The server's staging copy is gone.
    assert not any((Path(srv.data_dir) / "backup-staging").glob("*"))

    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        original = all_nodes(d)
        original_rels = all_rels(d)

    # A damaged backup is refused before anything is written.
    target = tmp_path / "restored"
    bad = tmp_path / "bad"
    shutil.copytree(backup, bad)
    with open(bad / "databases" / "other.redb", "r+b") as f:
        f.seek(5000)
        byte = f.read(1)
        f.seek(5000)
        f.write(bytes([byte[0] ^ 0xFF]))
    out = run_cli("restore", "--from", str(bad), "--data-dir", str(target))
    assert out.returncode != 0 and "damaged" in out.stderr, out
    assert not target.exists() or not any(target.iterdir())

    out = run_cli("restore", "--from", str(backup), "--data-dir", str(target))
    assert out.returncode == 0, out
    assert "neo4j: ok" in out.stdout
    # Restoring over data needs --force.
    out = run_cli("restore", "--from", str(backup), "--data-dir", str(target))
    assert out.returncode != 0 and "--force" in out.stderr

    restored = make_server(data_dir=str(target))
    with GraphDatabase.driver(restored.bolt_uri, auth=AUTH) as d:
        nodes = all_nodes(d)
        rels = all_rels(d)
        assert show_databases(d)["other"] == ("online", "")
        assert d.execute_query("MATCH (n) RETURN count(n) AS c", database_="other").records[0]["c"] == 30
        assert "item_i" in {r["name"] for r in d.execute_query("SHOW INDEXES").records}
    # Node by node: everything in the backup is exactly as it was in the server.
    for nid, node in nodes.items():
        assert original.get(nid) == node, nid
    for rid, rel in rels.items():
        assert original_rels.get(rid) == rel, rid
    items = [n for n in nodes.values() if n[0] == ["Item"]]
    assert len(items) == 500
    # Consistent: every writer commit is all in or all out, and they form a prefix.
    ws = sorted(p["i"] for labels, p in nodes.values() if labels == ["W"])
    tails = sorted(p["i"] for labels, p in nodes.values() if labels == ["WTail"])
    assert ws == tails == list(range(len(ws)))
    assert set(ws) <= set(acked)
    # The auth store came along.
    with GraphDatabase.driver(restored.bolt_uri, auth=("alice", "alice-secret-1")) as d:
        d.verify_connectivity()


def test_backup_needs_admin_credentials(make_server, tmp_path):
    srv = make_server()
    out = run_cli("backup", "--to", str(tmp_path / "b"), "--port", str(srv.http_port),
                  env={"GRAPHWARD_PASSWORD": "wrong-password"})
    assert out.returncode != 0 and "401" in out.stderr, out
    r = requests.post(http(srv, "/admin/backup"))
    assert r.status_code == 401


# ---- compaction -----------------------------------------------------------------------------

def test_compact_database_over_http(make_server):
    srv = make_server()
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        d.execute_query("UNWIND range(1, 3000) AS i CREATE (:Big {i: i, pad: $pad})", pad="p" * 500)
        d.execute_query("MATCH (n:Big) WHERE n.i > 10 DELETE n")
    r = requests.post(http(srv, "/admin/compact/neo4j"), auth=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["bytes_after"] < body["bytes_before"], body
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        assert d.execute_query("MATCH (n:Big) RETURN count(n) AS c").records[0]["c"] == 10
        d.execute_query("CREATE (:Big {i: 0})")
    r = requests.post(http(srv, "/admin/compact/nosuch"), auth=AUTH)
    assert r.status_code == 404
    out = run_cli("compact", "--database", "neo4j", "--port", str(srv.http_port),
                  env={"GRAPHWARD_PASSWORD": PASSWORD})
    assert out.returncode == 0 and out.stdout.startswith("neo4j: compacted"), out
    assert requests.post(http(srv, "/admin/compact/neo4j")).status_code == 401
