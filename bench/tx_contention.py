"""Driver for bench/tx_contention (issue 13)."""
import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time

from neo4j import AsyncGraphDatabase, GraphDatabase

import common
from common import PASSWORD, ROOT, start_graphward, stop_all

KINDS = ["autocommit_read", "explicit_read", "explicit_write_mode_read", "managed_write"]
READ = "MATCH (c:Counter {id: $id}) RETURN c.v AS v"
WRITE = "MATCH (c:Counter {id: $id}) SET c.v = c.v + 1"


async def session_work(driver, i, statements, lat):
    kind = KINDS[i % len(KINDS)]
    cid = i % 10
    async with driver.session() as s:
        for _ in range(statements):
            t0 = time.perf_counter()
            if kind == "autocommit_read":
                await (await s.run(READ, id=cid)).consume()
            elif kind == "explicit_read":
                async with await s.begin_transaction() as tx:
                    await (await tx.run(READ, id=cid)).consume()
                    await tx.commit()
            elif kind == "explicit_write_mode_read":
                # begin_transaction() on a default (WRITE) session: WRITE mode, only reads
                async with await s.begin_transaction() as tx:
                    await (await tx.run(READ, id=cid)).consume()
                    await tx.commit()
            else:
                async def inc(tx):
                    await (await tx.run(WRITE, id=cid)).consume()
                await s.execute_write(inc)
            lat[kind].append(time.perf_counter() - t0)


async def run_mix(uri, sessions, statements):
    lat = {k: [] for k in KINDS}
    async with AsyncGraphDatabase.driver(uri, auth=("neo4j", PASSWORD),
                                         max_connection_pool_size=sessions) as driver:
        await asyncio.gather(*(session_work(driver, i, statements, lat) for i in range(sessions)))
    return lat


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))]


def summarize(lat):
    return {k: {"n": len(v), "p50_ms": pct(v, 50) * 1000, "p99_ms": pct(v, 99) * 1000,
                "mean_ms": statistics.mean(v) * 1000 if v else float("nan")}
            for k, v in lat.items()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=200)
    ap.add_argument("--statements", type=int, default=50)
    ap.add_argument("--out", help="output directory (default: outside the checkout)")
    a = ap.parse_args()
    load_start = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory(prefix="graphward-bench-") as d:
        proc, bolt, _ = start_graphward(d, extra=["--bolt-max-connections", str(a.sessions + 50),
                                                  "--preauth-max-per-address", str(a.sessions + 50)])
        uri = f"bolt://127.0.0.1:{bolt}"
        try:
            with GraphDatabase.driver(uri, auth=("neo4j", PASSWORD)) as sync:
                sync.execute_query("UNWIND range(0, 9) AS i CREATE (:Counter {id: i, v: 0})")
                results["no_idle_tx"] = summarize(asyncio.run(run_mix(uri, a.sessions, a.statements)))
                # One client opens a WRITE-mode transaction, reads, and goes idle.
                with sync.session() as idle_session:
                    idle = idle_session.begin_transaction()
                    idle.run(READ, id=0).consume()
                    results["one_idle_write_mode_tx"] = summarize(
                        asyncio.run(run_mix(uri, a.sessions, a.statements)))
                    idle.rollback()
                recs, _, _ = sync.execute_query("MATCH (c:Counter) RETURN sum(c.v) AS v")
                results["increments_committed"] = recs[0]["v"]
        finally:
            stop_all([proc])
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "load_average_1m_start": load_start,
           "load_average_1m": os.getloadavg()[0], "sessions": a.sessions,
           "statements_per_session": a.statements, **results}
    for phase in ("no_idle_tx", "one_idle_write_mode_tx"):
        print(phase)
        for k, v in results[phase].items():
            print(f"  {k:26s} n={v['n']:6d}  p50 {v['p50_ms']:8.2f} ms  p99 {v['p99_ms']:8.2f} ms")
    writers = len([i for i in range(a.sessions) if KINDS[i % len(KINDS)] == "managed_write"])
    expected = 2 * writers * a.statements
    print(f"increments committed: {results['increments_committed']} (expected {expected})")
    print(f"load average (1 min): {load_start:.2f} at the start, "
          f"{res['load_average_1m']:.2f} at the end")
    out = common.out_dir(a.out)
    (out / "tx_contention.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
