"""Transactions with the real Python driver: the write lock is taken at the first write (an idle
WRITE-mode transaction blocks nobody), no lost update under concurrent managed writes, and a
wait for the lock ends within the client's transaction timeout (issue 13)."""
import threading
import time

import pytest
from neo4j import Bookmarks, GraphDatabase
from neo4j.exceptions import ClientError, TransientError

from conftest import AUTH


@pytest.fixture(scope="module")
def driver(server):
    d = GraphDatabase.driver(server.bolt_uri, auth=AUTH)
    yield d
    d.close()


def reset_counter(driver, name):
    driver.execute_query("MATCH (c:Counter {name: $n}) DELETE c", n=name)
    driver.execute_query("CREATE (:Counter {name: $n, v: 0})", n=name)


def counter(driver, name):
    records, _, _ = driver.execute_query("MATCH (c:Counter {name: $n}) RETURN c.v AS v", n=name)
    return records[0]["v"]


def test_idle_write_mode_transaction_does_not_block_other_writers(driver):
    reset_counter(driver, "idle")
    with driver.session() as idle_session:
        tx = idle_session.begin_transaction()  # WRITE mode, the drivers' default
        assert tx.run("MATCH (c:Counter {name: 'idle'}) RETURN c.v AS v").single()["v"] == 0
        # While it stays open and idle, another writer commits at once.
        start = time.monotonic()
        with driver.session() as s:
            with s.begin_transaction(timeout=2) as w:
                w.run("MATCH (c:Counter {name: 'idle'}) SET c.v = c.v + 1").consume()
                w.commit()
        assert time.monotonic() - start < 2
        # The idle transaction still reads its snapshot; its own write would rest on a stale
        # read, so it is refused with a transient (retryable) error.
        assert tx.run("MATCH (c:Counter {name: 'idle'}) RETURN c.v AS v").single()["v"] == 0
        with pytest.raises(TransientError) as e:
            tx.run("MATCH (c:Counter {name: 'idle'}) SET c.v = c.v + 1").consume()
        assert e.value.code == "Neo.TransientError.Transaction.Outdated"
        tx.close()
    assert counter(driver, "idle") == 1


def test_concurrent_managed_increments_lose_no_update(driver):
    reset_counter(driver, "inc")
    writers, each = 6, 15
    errors = []

    def work():
        try:
            with driver.session() as s:
                for _ in range(each):
                    s.execute_write(
                        lambda tx: tx.run(
                            "MATCH (c:Counter {name: 'inc'}) SET c.v = c.v + 1"
                        ).consume()
                    )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert counter(driver, "inc") == writers * each


def test_read_then_write_in_two_statements_loses_no_update(driver):
    reset_counter(driver, "rtw")
    writers, each = 4, 10
    errors = []

    def increment(tx):
        v = tx.run("MATCH (c:Counter {name: 'rtw'}) RETURN c.v AS v").single()["v"]
        time.sleep(0.001)  # widen the race window between the read and the write
        tx.run("MATCH (c:Counter {name: 'rtw'}) SET c.v = $v", v=v + 1).consume()

    def work():
        try:
            with driver.session() as s:
                for _ in range(each):
                    s.execute_write(increment)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert counter(driver, "rtw") == writers * each


def test_waiting_for_the_lock_ends_within_the_client_timeout(driver):
    reset_counter(driver, "wait")
    with driver.session() as holder_session:
        holder = holder_session.begin_transaction()
        holder.run("MATCH (c:Counter {name: 'wait'}) SET c.v = 100").consume()  # holds the lock
        with driver.session() as s:
            tx = s.begin_transaction(timeout=0.25)
            start = time.monotonic()
            with pytest.raises(ClientError) as e:
                tx.run("MATCH (c:Counter {name: 'wait'}) SET c.v = 1").consume()
            waited = time.monotonic() - start
            tx.close()
        assert waited <= 0.25 + 0.5, waited
        assert e.value.code == "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration"
        assert "-transaction-" in e.value.message  # names the holder
        holder.commit()
    assert counter(driver, "wait") == 100


def test_idle_transaction_is_rolled_back_and_releases_the_lock(make_server):
    srv = make_server(["--transaction-idle-timeout", "1s"])
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        d.execute_query("CREATE (:Counter {name: 'idle-rb', v: 0})")
        with d.session() as s:
            tx = s.begin_transaction()
            tx.run("MATCH (c:Counter {name: 'idle-rb'}) SET c.v = 42").consume()  # holds the lock
            time.sleep(1.6)
            # Rolled back: another writer gets the lock at once, and the idle client hears why.
            with d.session() as s2:
                with s2.begin_transaction(timeout=1) as w:
                    w.run("MATCH (c:Counter {name: 'idle-rb'}) SET c.v = c.v + 1").consume()
                    w.commit()
            with pytest.raises(ClientError) as e:
                tx.run("RETURN 1").consume()
            assert e.value.code == "Neo.ClientError.Transaction.TransactionTimedOut"
            tx.close()
        records, _, _ = d.execute_query("MATCH (c:Counter {name: 'idle-rb'}) RETURN c.v AS v")
        assert records[0]["v"] == 1


def test_server_transaction_timeout_bounds_a_transaction(make_server):
    srv = make_server(["--transaction-timeout", "1s"])
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        with d.session() as s:
            tx = s.begin_transaction()
            tx.run("CREATE (:Late)").consume()
            time.sleep(1.2)
            with pytest.raises(ClientError) as e:
                tx.run("RETURN 1").consume()
            assert e.value.code == "Neo.ClientError.Transaction.TransactionTimedOut"
            tx.close()
        records, _, _ = d.execute_query("MATCH (n:Late) RETURN count(n) AS n")
        assert records[0]["n"] == 0


@pytest.mark.parametrize(
    "bookmark",
    ["FB:kcwQnonsense", "graphward:neo4j:not-a-number", "graphward:nosuchdb:1"],
)
def test_unknown_or_malformed_bookmark_is_refused(driver, bookmark):
    marks = Bookmarks.from_raw_values([bookmark])
    with driver.session(bookmarks=marks) as s:
        with pytest.raises(ClientError) as e:
            s.run("RETURN 1").consume()
        assert e.value.code == "Neo.ClientError.Transaction.InvalidBookmark"
    with driver.session(bookmarks=marks) as s:
        with pytest.raises(ClientError) as e:
            with s.begin_transaction() as tx:
                tx.run("RETURN 1").consume()
        assert e.value.code == "Neo.ClientError.Transaction.InvalidBookmark"


def test_bookmarks_the_server_issued_are_accepted(driver):
    with driver.session() as s:
        s.execute_write(lambda tx: tx.run("CREATE (:Marked)").consume())
        marks = s.last_bookmarks()
    assert list(marks.raw_values)
    with driver.session(bookmarks=marks) as s:
        assert s.run("MATCH (n:Marked) RETURN count(n) AS n").single()["n"] >= 1


def test_show_and_terminate_transactions(driver, server):
    driver.execute_query("CREATE USER txwatcher IF NOT EXISTS SET PASSWORD 'watcher-pw-1234'")
    driver.execute_query("GRANT WRITE ON GRAPH neo4j TO txwatcher")
    with driver.session() as s:
        tx = s.begin_transaction()
        tx.run("CREATE (:Shown)").consume()  # takes the write lock
        records, _, _ = driver.execute_query("SHOW TRANSACTIONS")
        mine = [r for r in records if r["holdsWriteLock"]]
        assert len(mine) == 1, records
        row = mine[0]
        assert row["username"] == "neo4j"
        assert row["database"] == "neo4j"
        assert row["status"] == "Idle"
        assert row["currentQuery"] == "CREATE (:Shown)"
        tx_id = row["transactionId"]

        # A user sees only its own transactions, and cannot terminate another's.
        with GraphDatabase.driver(server.bolt_uri, auth=("txwatcher", "watcher-pw-1234")) as u:
            records, _, _ = u.execute_query("SHOW TRANSACTIONS")
            assert all(r["username"] == "txwatcher" for r in records), records
            records, _, _ = u.execute_query(f"TERMINATE TRANSACTION '{tx_id}'")
            assert records[0]["message"] == "Transaction not found."

        # The administrator terminates it: it is rolled back at once (its client is silent),
        # so another writer gets the lock without waiting for the holder's next message.
        records, _, _ = driver.execute_query(f"TERMINATE TRANSACTION '{tx_id}'")
        assert records[0]["message"] == "Transaction terminated."
        with driver.session() as s2:
            with s2.begin_transaction(timeout=2) as w:
                w.run("CREATE (:Other)").consume()
                w.commit()
        with pytest.raises(Exception) as e:
            tx.run("RETURN 1").consume()
        assert "Terminated" in str(getattr(e.value, "code", "")), e.value
        tx.close()
    records, _, _ = driver.execute_query("MATCH (n:Shown) RETURN count(n) AS n")
    assert records[0]["n"] == 0


def test_metrics_show_open_transactions_and_lock_waits(driver, server):
    import requests

    def metric(text, name):
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"{name} missing from /metrics")

    url = f"http://127.0.0.1:{server.http_port}/metrics"
    with driver.session() as s:
        holder = s.begin_transaction()
        holder.run("CREATE (:Metric)").consume()
        with driver.session() as s2:
            tx = s2.begin_transaction(timeout=0.2)
            with pytest.raises(ClientError):
                tx.run("CREATE (:Metric)").consume()
            tx.close()
        time.sleep(0.1)
        text = requests.get(url, timeout=5, auth=AUTH).text
        assert metric(text, "graphward_transactions_open") >= 1
        assert metric(text, "graphward_transaction_oldest_age_seconds") >= 0.1
        assert metric(text, "graphward_write_lock_waits_total") >= 1
        assert metric(text, "graphward_write_lock_wait_seconds_total") >= 0.1
        holder.rollback()


def test_old_snapshot_while_the_file_grows_is_logged_once(make_server):
    srv = make_server(["--snapshot-warning-age", "1s"])
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        with d.session(default_access_mode="READ") as s:
            reader = s.begin_transaction()
            reader.run("MATCH (n) RETURN count(n) AS n").consume()
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and "held its snapshot" not in srv.read_log():
                d.execute_query(
                    "UNWIND range(1, 300) AS i CREATE (:Churn {i: i, pad: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'})"
                )
                d.execute_query("MATCH (n:Churn) DETACH DELETE n")
            time.sleep(0.5)
            reader.rollback()
    log = srv.read_log()
    assert log.count("held its snapshot") == 1, log[-2000:]


def wait_for(predicate, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def blocked_writers(driver):
    records, _, _ = driver.execute_query("SHOW TRANSACTIONS")
    return sum(1 for r in records if r["status"].startswith("Blocked"))


def test_writers_get_the_write_lock_in_arrival_order(driver):
    """The write lock is a queue: writers waiting for it are served first come, first served
    (a polling race let late writers overtake ones waiting for seconds)."""
    reset_counter(driver, "fifo")
    writers = 5
    order = [None] * writers
    errors = []

    def write(i):
        try:
            with driver.session() as s:
                # Auto-commit: waits for the lock, then takes the next number.
                order[i] = s.run(
                    "MATCH (c:Counter {name: 'fifo'}) SET c.v = c.v + 1 RETURN c.v AS v"
                ).single()["v"]
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with driver.session() as holder_session:
        holder = holder_session.begin_transaction()
        holder.run("MATCH (c:Counter {name: 'fifo'}) SET c.v = 0").consume()  # holds the lock
        threads = []
        for i in range(writers):
            t = threading.Thread(target=write, args=(i,))
            t.start()
            threads.append(t)
            # The next writer arrives only once this one is queued.
            wait_for(lambda: blocked_writers(driver) == i + 1, f"writer {i} to queue")
        holder.commit()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors
    assert order == list(range(1, writers + 1)), order


def test_terminated_http_transaction_releases_the_write_lock_at_once(driver, server):
    """An idle HTTP explicit transaction holding the write lock gives it back when it is
    terminated, not when its client next speaks or it expires."""
    import requests

    base = f"http://127.0.0.1:{server.http_port}/db/neo4j/query/v2/tx"
    r = requests.post(base, json={"statement": "CREATE (:HttpHeld)"}, auth=AUTH, timeout=10)
    assert r.status_code == 202, r.text
    http_tx = r.json()["transaction"]["id"]
    records, _, _ = driver.execute_query("SHOW TRANSACTIONS")
    held = [r for r in records if r["holdsWriteLock"]]
    assert len(held) == 1 and held[0]["currentQuery"] == "CREATE (:HttpHeld)", records
    records, _, _ = driver.execute_query(
        f"TERMINATE TRANSACTION '{held[0]['transactionId']}'"
    )
    assert records[0]["message"] == "Transaction terminated."
    records, _, _ = driver.execute_query("SHOW TRANSACTIONS")
    assert not any(r["holdsWriteLock"] for r in records), records
    # Another writer gets the lock at once (the HTTP idle expiry is 30 s away).
    with driver.session() as s:
        with s.begin_transaction(timeout=2) as w:
            w.run("CREATE (:AfterHttp)").consume()
            w.commit()
    # The HTTP client learns at its next request that its transaction was terminated.
    r = requests.post(f"{base}/{http_tx}/commit", json={"statement": "RETURN 1"}, auth=AUTH,
                      timeout=10)
    assert r.status_code >= 400, r.text
    assert "Terminated" in r.json()["errors"][0]["code"], r.text
    records, _, _ = driver.execute_query("MATCH (n:HttpHeld) RETURN count(n) AS n")
    assert records[0]["n"] == 0


def bookmark_after(driver):
    """A bookmark the server issued, and the one naming the database's next commit."""
    with driver.session() as s:
        s.execute_write(lambda tx: tx.run("CREATE (:Mark)").consume())
        (mark,) = list(s.last_bookmarks().raw_values)
    prefix, n = mark.rsplit(":", 1)
    return mark, f"{prefix}:{int(n) + 1}"


def test_bookmark_from_the_future_waits_for_its_commit(driver):
    """A bookmark naming a commit not reached yet waits for it (Neo4j waits for the
    transaction id): once another client commits, the waiting one goes on and sees it."""
    _, future = bookmark_after(driver)
    seen = []
    errors = []

    def reader():
        try:
            with driver.session(bookmarks=Bookmarks.from_raw_values([future])) as s:
                seen.append(s.run("MATCH (n:Future) RETURN count(n) AS n").single()["n"])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.3)
    driver.execute_query("CREATE (:Future)")
    t.join(timeout=30)
    assert not errors, errors
    assert seen == [1]


def test_bookmark_from_the_future_times_out_with_bookmark_timeout(make_server):
    srv = make_server(["--bookmark-wait", "1s"])
    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        _, future = bookmark_after(d)
        far = future.rsplit(":", 1)[0] + ":999999999"
        for mark in (future, far):
            marks = Bookmarks.from_raw_values([mark])
            with d.session(bookmarks=marks) as s:
                start = time.monotonic()
                with pytest.raises(TransientError) as e:
                    s.run("RETURN 1").consume()
                assert time.monotonic() - start >= 1.0
                assert e.value.code == "Neo.TransientError.Transaction.BookmarkTimeout"
            with d.session(bookmarks=marks) as s:
                with pytest.raises(TransientError) as e:
                    with s.begin_transaction() as tx:
                        tx.run("RETURN 1").consume()
                assert e.value.code == "Neo.TransientError.Transaction.BookmarkTimeout"


def test_long_reader_past_its_timeout_does_not_grow_the_file(make_server):
    """A forgotten reader's snapshot is released once its transaction timeout passes (not at
    its client's next message), so churn afterwards reuses the freed pages: the file stays
    within a few rounds of churn instead of growing by every round (about 30 MB here)."""
    srv = make_server(["--transaction-timeout", "1s", "--auto-compact-growth", "0"])
    pad = "p" * 1000
    path = f"{srv.data_dir}/databases/neo4j.redb"
    import os

    with GraphDatabase.driver(srv.bolt_uri, auth=AUTH) as d:
        with d.session(default_access_mode="READ") as s:
            reader = s.begin_transaction()
            reader.run("MATCH (n) RETURN count(n) AS n").consume()
            wait_for(
                lambda: any(
                    r["status"] == "Timed out"
                    for r in d.execute_query("SHOW TRANSACTIONS", database_="system").records
                ),
                "the reader to time out",
            )
            before = os.stat(path).st_size
            for _ in range(100):
                d.execute_query("UNWIND range(1, 300) AS i CREATE (:Churn {i: i, pad: $pad})",
                                pad=pad)
                d.execute_query("MATCH (n:Churn) DELETE n")
            grown = os.stat(path).st_size - before
            assert grown < 8 * 1024 * 1024, grown
            with pytest.raises(ClientError) as e:
                reader.run("RETURN 1").consume()
            assert e.value.code == "Neo.ClientError.Transaction.TransactionTimedOut"
            reader.close()
