"""Server RSS before, during and after one big query (issue 12: memory goes back to the OS).

Usage: bench/rss_after_query.py [--rows N] [--write | --shape SHAPE] (the release binary from
$GRAPHWARD_BIN or $CARGO_TARGET_DIR/release/graphward; build with `--features system-allocator`
to compare with glibc's malloc). Prints idle RSS, peak RSS during the query, and RSS 1 s and
5 s after it. Shapes: `read` (the default) counts N strings built row by row; `write`
(`--write`) is a bulk load, `UNWIND range(1, N) AS i CREATE (:B {i: i, s: ...}) RETURN
count(*)`: the rows it holds against what the write transaction itself holds; `merge` is the
usual ingestion statement, a MERGE with a SET, a MERGE of a group and of the relationship to
it; `in-transactions` is the load of `write` in `CALL { } IN TRANSACTIONS OF 10000 ROWS`."""
import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

from neo4j import GraphDatabase

from common import PASSWORD, binary, start_graphward, stop_all


def rss_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--write", action="store_true", help="the same as --shape write")
    ap.add_argument("--shape", choices=["read", "write", "merge", "in-transactions"],
                    default="read")
    args = ap.parse_args()
    shape = "write" if args.write else args.shape
    setup = []
    counted = None
    query = ("UNWIND range(1, $n) AS i WITH i, toString(i) + '-padding-padding-padding' AS s "
             "RETURN count(s) AS c")
    if shape == "write":
        query = ("UNWIND range(1, $n) AS i CREATE (b:B {i: i, s: toString(i) + '-padding'}) "
                 "RETURN count(b) AS c")
    elif shape == "merge":
        setup = ["CREATE INDEX FOR (n:B) ON (n.i)", "CREATE INDEX FOR (n:G) ON (n.id)"]
        query = ("UNWIND range(1, $n) AS i MERGE (b:B {i: i}) SET b.s = toString(i) + '-padding' "
                 "MERGE (g:G {id: i % 100}) MERGE (b)-[:IN]->(g)")
        counted = "MATCH (:B)-[r:IN]->(:G) RETURN count(r) AS c"
    elif shape == "in-transactions":
        query = ("UNWIND range(1, $n) AS i CALL (i) { CREATE (:B {i: i, s: toString(i) + "
                 "'-padding'}) } IN TRANSACTIONS OF 10000 ROWS")
        counted = "MATCH (b:B) RETURN count(b) AS c"
    with tempfile.TemporaryDirectory() as d:
        proc, bolt, _ = start_graphward(d)
        try:
            with GraphDatabase.driver(f"bolt://127.0.0.1:{bolt}", auth=("neo4j", PASSWORD)) as drv:
                with drv.session() as s:
                    s.run("RETURN 1").consume()
                    for q in setup:
                        s.run(q).consume()
                time.sleep(1)
                idle = rss_kb(proc.pid)
                peak = [idle]
                done = threading.Event()

                def sample():
                    while not done.is_set():
                        peak[0] = max(peak[0], rss_kb(proc.pid))
                        time.sleep(0.02)

                t = threading.Thread(target=sample)
                t.start()
                with drv.session() as s:
                    if counted is None:
                        c = s.run(query, n=args.rows).single()["c"]
                    else:
                        s.run(query, n=args.rows).consume()
                        c = s.run(counted).single()["c"]
                done.set()
                t.join()
                assert c == args.rows
                time.sleep(1)
                after1 = rss_kb(proc.pid)
                time.sleep(4)
                after5 = rss_kb(proc.pid)
        finally:
            stop_all([proc])
    load = os.getloadavg()
    print(f"binary: {binary()}")
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"rows: {args.rows}; query: {query}")
    print(f"RSS idle {idle // 1024} MiB, peak {peak[0] // 1024} MiB, "
          f"1 s after {after1 // 1024} MiB, 5 s after {after5 // 1024} MiB")


if __name__ == "__main__":
    main()
