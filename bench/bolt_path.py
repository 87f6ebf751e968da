"""Driver for bench/bolt_path (issue 18): the request path, graphward over Bolt against FalkorDB
over RESP, on the same data, the same query text, the same client.

Both servers get the same graph ((:N {id}) with an index on id, relationships (:N)-[:R]->(:N)
from one deterministic sequence). Then `RETURN 1` and an indexed 2-hop count, with 1 and 16
connections:
  * graphward-loadgen (crates/graphward-bench, native, one thread per connection, RUN+PULL
    pipelined in one write) against graphward over Bolt and, speaking RESP `GRAPH.QUERY`,
    against FalkorDB: the same raw-socket client on both protocols;
  * redis-benchmark (FalkorDB's native tool) against FalkorDB.
Per figure: queries/s, p50/p99, the server's CPU per query (from /proc/<pid>/stat over the
measured window) and the client's own CPU per query; ratio columns graphward / FalkorDB.
"""
import argparse
import csv
import io
import subprocess
import sys
import tempfile
import time

import common

HOP_ID = 4242


def rel_endpoints(i, n):
    x = (i * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    return i % n, (x >> 33) % n


def load_graphward(port, nodes, rels, batch):
    from neo4j import GraphDatabase
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", common.PASSWORD)) as d:
        with d.session() as s:
            s.run("CREATE INDEX n_id FOR (n:N) ON (n.id)").consume()
            for a in range(0, nodes, batch):
                s.run("UNWIND $b AS r CREATE (:N {id: r})",
                      b=list(range(a, min(a + batch, nodes)))).consume()
            for a in range(0, rels, batch):
                b = [dict(zip("sd", rel_endpoints(i, nodes))) for i in range(a, min(a + batch, rels))]
                s.run("UNWIND $b AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R]->(b)",
                      b=b).consume()


def load_falkordb(port, nodes, rels, batch):
    from falkordb import FalkorDB
    g = FalkorDB(host="127.0.0.1", port=port).select_graph("g")
    g.query("CREATE INDEX FOR (n:N) ON (n.id)")
    for a in range(0, nodes, batch):
        g.query("UNWIND $b AS r CREATE (:N {id: r})", {"b": list(range(a, min(a + batch, nodes)))})
    for a in range(0, rels, batch):
        b = [dict(zip("sd", rel_endpoints(i, nodes))) for i in range(a, min(a + batch, rels))]
        g.query("UNWIND $b AS r MATCH (a:N {id: r.s}), (b:N {id: r.d}) CREATE (a)-[:R]->(b)",
                {"b": b})


def redis_benchmark(port, clients, requests, query, pid):
    c0, t0 = common.cpu_seconds(pid), time.perf_counter()
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-c",
                          str(clients), "-n", str(requests), "--csv", "GRAPH.QUERY", "g", query],
                         capture_output=True, text=True, timeout=600)
    c1 = common.cpu_seconds(pid)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    if out.returncode != 0 or not rows:
        raise RuntimeError(f"redis-benchmark failed: {out.stderr.strip() or out.stdout.strip()}")
    r = rows[-1]
    return {"qps": float(r["rps"]), "p50_ms": float(r["p50_latency_ms"]),
            "p99_ms": float(r["p99_latency_ms"]),
            "server_cpu_us_per_query": (c1 - c0) * 1e6 / requests, "client_cpu_us_per_query": None,
            "seconds": time.perf_counter() - t0}


def fmt(v, digits=0):
    return "–" if v is None else f"{v:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--nodes", type=int)
    ap.add_argument("--rels", type=int)
    ap.add_argument("--seconds", type=float)
    a = ap.parse_args()
    nodes = a.nodes or (20_000 if a.quick else 1_000_000)
    rels = a.rels or 2 * nodes
    seconds = a.seconds or (3.0 if a.quick else 10.0)
    out = common.out_dir(a.out)
    load_before = common.loadavg()
    hop = f"MATCH (a:N {{id: {HOP_ID % nodes}}})-[:R]->()-[:R]->(c) RETURN count(c)"
    queries = [("RETURN 1", "RETURN 1"), ("indexed 2-hop", hop)]
    results = []
    with tempfile.TemporaryDirectory(prefix="graphward-bolt-path-") as d:
        gw, bolt, _ = common.start_graphward(f"{d}/gw")
        fk, resp = None, None
        try:
            import pathlib
            pathlib.Path(f"{d}/fk").mkdir()
            fk, resp = common.start_falkordb(f"{d}/fk")
            t = time.perf_counter()
            load_graphward(bolt, nodes, rels, 5000)
            load_gw_s = time.perf_counter() - t
            t = time.perf_counter()
            load_falkordb(resp, nodes, rels, 5000)
            load_fk_s = time.perf_counter() - t
            print(f"loaded {nodes} nodes / {rels} relationships: graphward {load_gw_s:.1f} s, "
                  f"FalkorDB {load_fk_s:.1f} s (through their Python clients)", flush=True)
            for name, q in queries:
                for clients in (1, 16):
                    common_args = ["--clients", clients, "--seconds", seconds, "--warmup", 0.5,
                                   "--query", q]
                    g = common.run_loadgen("--port", bolt, "--password", common.PASSWORD,
                                           "--server-pid", gw.pid, *common_args,
                                           label=f"graphward {name} c{clients}")
                    f = common.run_loadgen("--protocol", "resp", "--port", resp, "--graph", "g",
                                           "--server-pid", fk.pid, *common_args,
                                           label=f"falkordb {name} c{clients}")
                    rb = redis_benchmark(resp, clients, max(1000, int(f["qps"] * seconds)), q,
                                         fk.pid)
                    results.append({"query": name, "text": q, "clients": clients,
                                    "graphward": g, "falkordb": f, "redis_benchmark": rb})
                    print(f"{name} c={clients}: graphward {g['qps']:.0f}/s, FalkorDB "
                          f"{f['qps']:.0f}/s, redis-benchmark {rb['qps']:.0f}/s", flush=True)
        finally:
            common.stop_all([p for p in (gw, fk) if p is not None])
    rows = []
    for r in results:
        g, f, rb = r["graphward"], r["falkordb"], r["redis_benchmark"]
        rows.append([r["query"], r["clients"],
                     fmt(g["qps"]), fmt(f["qps"]), common.ratio(g["qps"], f["qps"]),
                     fmt(g["p50_ms"], 3), fmt(f["p50_ms"], 3), common.ratio(g["p50_ms"], f["p50_ms"]),
                     fmt(g["p99_ms"], 3), fmt(f["p99_ms"], 3),
                     fmt(g["server_cpu_us_per_query"], 1), fmt(f["server_cpu_us_per_query"], 1),
                     common.ratio(g["server_cpu_us_per_query"], f["server_cpu_us_per_query"]),
                     f"{fmt(g['client_cpu_us_per_query'], 1)} / {fmt(f['client_cpu_us_per_query'], 1)}"])
    t1 = common.markdown_table(
        ["query", "clients", "graphward q/s", "FalkorDB q/s", "q/s ratio", "p50 ms gw", "p50 ms FK",
         "p50 ratio", "p99 ms gw", "p99 ms FK", "server CPU µs/q gw", "server CPU µs/q FK",
         "CPU ratio", "client CPU µs/q gw / FK"], rows)
    rows2 = []
    for r in results:
        g, rb = r["graphward"], r["redis_benchmark"]
        rows2.append([r["query"], r["clients"], fmt(g["qps"]), fmt(rb["qps"]),
                      common.ratio(g["qps"], rb["qps"]), fmt(g["p50_ms"], 3), fmt(rb["p50_ms"], 3),
                      fmt(g["server_cpu_us_per_query"], 1), fmt(rb["server_cpu_us_per_query"], 1),
                      common.ratio(g["server_cpu_us_per_query"], rb["server_cpu_us_per_query"])])
    t2 = common.markdown_table(
        ["query", "clients", "graphward-loadgen → graphward q/s", "redis-benchmark → FalkorDB q/s",
         "ratio", "p50 ms gw", "p50 ms FK", "server CPU µs/q gw", "server CPU µs/q FK",
         "CPU ratio"], rows2)
    notes = (f"Data: {nodes:,} `:N {{id}}` nodes with an index on `id`, {rels:,} `:R` relationships, "
             f"the same in both servers; 2-hop text: `{hop}`. {seconds:g} s per figure after 0.5 s "
             "of warm-up. Table 1: the same client (graphward-loadgen, raw sockets, one thread per "
             "connection, RUN+PULL or GRAPH.QUERY pipelined in one write) on both protocols. "
             "Table 2: each server's native tool. Ratios are graphward / FalkorDB (q/s: higher is "
             "better for graphward; latency and CPU: lower is). Server CPU per query is the "
             "server process's user+system time over the window divided by the queries; the "
             "client, the servers and the other tenants of the machine share its 2 cores, so "
             "with a load average above ~1 every figure is a lower bound.")
    common.write_report(out, "bolt_path", "bench/bolt_path — the request path, graphward vs FalkorDB",
                        "bench/bolt_path" + (" --quick" if a.quick else ""), load_before,
                        ["Same client on both protocols (graphward-loadgen):", t1,
                         "Native tools (graphward-loadgen vs redis-benchmark):", t2], notes,
                        {"nodes": nodes, "rels": rels, "results": results})


if __name__ == "__main__":
    sys.exit(main())
