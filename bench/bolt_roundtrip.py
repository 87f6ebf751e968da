"""Driver for bench/bolt_roundtrip: `RETURN 1` round trips against a release graphward server,
measured by client *processes*, with the server's CPU per query (from /proc/<pid>/stat) and the
client's own CPU per query beside each figure, so a reader sees who the bottleneck was.

  * graphward-loadgen (native, raw sockets, RUN+PULL pipelined), 1 and 16 connections;
  * the official Python driver (`neo4j` 6.x), 1 and 16 separate processes, one session each;
  * rows/s streaming `UNWIND range(1, N) AS i RETURN i` (loadgen and Python driver).
"""
import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time

from neo4j import GraphDatabase  # imported before the worker processes fork

import common


def driver_worker(port, seconds, barrier, q):
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", common.PASSWORD)) as d:
        with d.session() as s:
            s.run("RETURN 1").consume()
            barrier.wait(timeout=120)  # every process connected: the window starts
            c0 = sum(os.times()[:2])
            n, stop = 0, time.time() + seconds
            while time.time() < stop:
                s.run("RETURN 1").consume()
                n += 1
            q.put((n, sum(os.times()[:2]) - c0))


def driver_roundtrips(port, pid, procs, seconds):
    """`procs` processes, one driver session each; returns q/s, server and client CPU µs/q."""
    q, barrier = mp.Queue(), mp.Barrier(procs + 1)
    ps = [mp.Process(target=driver_worker, args=(port, seconds, barrier, q)) for _ in range(procs)]
    for p in ps:
        p.start()
    barrier.wait(timeout=120)
    s0 = common.cpu_seconds(pid)
    time.sleep(seconds)
    s1 = common.cpu_seconds(pid)
    res = [q.get(timeout=120) for _ in ps]
    for p in ps:
        p.join()
    n = sum(r[0] for r in res)
    return {"qps": n / seconds, "server_cpu_us_per_query": (s1 - s0) * 1e6 / max(n, 1),
            "client_cpu_us_per_query": sum(r[1] for r in res) * 1e6 / max(n, 1)}


def driver_stream(port, pid, rows):
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", common.PASSWORD)) as d:
        with d.session() as s:
            s0, c0, t0 = common.cpu_seconds(pid), sum(os.times()[:2]), time.perf_counter()
            n = sum(1 for _ in s.run("UNWIND range(1, $n) AS i RETURN i", n=rows))
            el = time.perf_counter() - t0
            return {"rows_per_s": n / el,
                    "server_cpu_us_per_row": (common.cpu_seconds(pid) - s0) * 1e6 / n,
                    "client_cpu_us_per_row": (sum(os.times()[:2]) - c0) * 1e6 / n}


def fmt(v, d=0):
    return "–" if v is None else f"{v:,.{d}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="3 s per figure, 200,000 rows")
    ap.add_argument("--out", help="output directory (default: outside the checkout)")
    a = ap.parse_args()
    if a.quick:
        a.seconds, a.rows = 3.0, 200_000
    out = common.out_dir(a.out)
    load_before = common.loadavg()
    res = {}
    with tempfile.TemporaryDirectory(prefix="graphward-bench-") as d:
        proc, port, _ = common.start_graphward(d)
        try:
            for c in (1, 16):
                res[f"loadgen_c{c}"] = common.run_loadgen(
                    "--port", port, "--password", common.PASSWORD, "--server-pid", proc.pid,
                    "--clients", c, "--seconds", a.seconds, "--warmup", 0.5, "--query", "RETURN 1")
            for p in (1, 16):
                res[f"driver_p{p}"] = driver_roundtrips(port, proc.pid, p, a.seconds)
            st = common.run_loadgen(
                "--port", port, "--password", common.PASSWORD, "--server-pid", proc.pid,
                "--clients", 1, "--seconds", a.seconds, "--warmup", 0,
                "--query", f"UNWIND range(1, {a.rows // 10}) AS i RETURN i")
            res["loadgen_stream"] = {
                "rows_per_s": st["records"] / st["seconds"],
                "server_cpu_us_per_row": (st["server_cpu_us_per_query"] or 0) / (a.rows // 10),
                "client_cpu_us_per_row": (st["client_cpu_us_per_query"] or 0) / (a.rows // 10)}
            res["driver_stream"] = driver_stream(port, proc.pid, a.rows)
        finally:
            common.stop_all([proc])
        # The same driver against a trivial Bolt stub (graphward-loadgen --serve-stub): the
        # driver's own ceiling on this machine.
        sport = common.free_port()
        stub = subprocess.Popen([common.loadgen(), "--serve-stub", str(sport)],
                                stdout=subprocess.DEVNULL)
        try:
            common.wait_port(sport, stub)
            for p in (1, 16):
                res[f"stub_p{p}"] = driver_roundtrips(sport, stub.pid, p, a.seconds)
        finally:
            common.stop_all([stub])
    rows = []
    for key, label in [("loadgen_c1", "graphward-loadgen, 1 connection"),
                       ("loadgen_c16", "graphward-loadgen, 16 connections"),
                       ("driver_p1", "Python driver, 1 process"),
                       ("driver_p16", "Python driver, 16 processes"),
                       ("stub_p1", "Python driver, 1 process, against the trivial stub"),
                       ("stub_p16", "Python driver, 16 processes, against the trivial stub")]:
        r = res[key]
        stub = res.get(key.replace("driver", "stub")) if key.startswith("driver") else None
        rows.append([label, fmt(r["qps"]), fmt(r["server_cpu_us_per_query"], 1),
                     fmt(r["client_cpu_us_per_query"], 1),
                     common.ratio(r["client_cpu_us_per_query"], r["server_cpu_us_per_query"]),
                     common.ratio(stub["qps"], r["qps"]) if stub else "–"])
    t1 = common.markdown_table(["`RETURN 1` client", "round trips/s", "server CPU µs/query",
                                "client CPU µs/query", "client / server CPU",
                                "stub / graphward (round trips/s)"], rows)
    rows2 = [[label, fmt(res[k]["rows_per_s"]), fmt(res[k]["server_cpu_us_per_row"], 2),
              fmt(res[k]["client_cpu_us_per_row"], 2)]
             for k, label in [("loadgen_stream", "graphward-loadgen"),
                              ("driver_stream", "Python driver")]]
    t2 = common.markdown_table([f"streaming integers (loadgen: queries of {a.rows // 10:,} rows "
                                f"for {a.seconds:g} s; driver: one query of {a.rows:,})", "rows/s", "server CPU µs/row",
                                "client CPU µs/row"], rows2)
    notes = ("The trivial stub is `graphward-loadgen --serve-stub` (answers every RUN with one "
             "record, does nothing else): the last column is how much faster the same driver "
             "runs against it (issue 18's target: at most 1.5×). "
             "Client processes, not threads; the client and the server share the machine's 2 "
             "cores. A client/server CPU ratio above 1 means the client was the bottleneck. "
             "Peers over Bolt: see bench/bolt_path (FalkorDB over RESP, same client).")
    common.write_report(out, "bolt_roundtrip", "bench/bolt_roundtrip — Bolt round trips and streaming",
                        "bench/bolt_roundtrip" + (" --quick" if a.quick else ""), load_before,
                        [t1, t2], notes, res)


if __name__ == "__main__":
    sys.exit(main())
