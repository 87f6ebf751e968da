"""Driver for bench/bolt_roundtrip."""
import argparse
import json
import os
import tempfile
import threading
import time

from neo4j import GraphDatabase

from common import ROOT, start_graphward



def start_server(data_dir):
    proc, bolt, _ = start_graphward(data_dir)
    return proc, bolt


def roundtrips(driver, sessions, seconds):
    counts = [0] * sessions
    stop = time.perf_counter() + seconds

    def worker(i):
        with driver.session() as s:
            while time.perf_counter() < stop:
                s.run("RETURN 1").consume()
                counts[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(sessions)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rows", type=int, default=1_000_000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="graphward-bench-") as d:
        proc, port = start_server(d)
        try:
            with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "password"),
                                      max_connection_pool_size=32) as driver:
                r1 = roundtrips(driver, 1, a.seconds)
                r16 = roundtrips(driver, 16, a.seconds)
                with driver.session() as s:
                    t0 = time.perf_counter()
                    n = 0
                    for _ in s.run("UNWIND range(1, $n) AS i RETURN i", n=a.rows):
                        n += 1
                    rows_s = n / (time.perf_counter() - t0)
        finally:
            proc.terminate()
            proc.wait()
    res = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "load_average_1m": os.getloadavg()[0],
           "return1_per_s_1_session": r1, "return1_per_s_16_sessions": r16,
           "stream_rows_per_s": rows_s, "rows": a.rows}
    print(f"RETURN 1 round trips/s, 1 session:   {r1:10.0f}")
    print(f"RETURN 1 round trips/s, 16 sessions: {r16:10.0f}")
    print(f"streamed rows/s ({a.rows} integers):  {rows_s:10.0f}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bolt_roundtrip.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
