"""bench/auth, login storm: 1,000 concurrent Bolt password logins (HELLO, scheme basic) from ten
loopback addresses (127.0.0.2-11), against one server. Four storms, each on a fresh server:
correct password, wrong password for the administrator, unknown users, and correct password on
a TLS Bolt port. Reports logins/s (answers
of any kind per second), how the logins were answered, and the server's peak RSS (VmHWM) with
the load average. Standard library only. Results: printed, and login_storm.json in --out DIR."""
import argparse
import asyncio
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from common import PASSWORD, ROOT, start_graphward, stop_all  # noqa: E402

MAGIC = b"\x60\x60\xB0\x17"
BOLT_44 = bytes([0, 0, 4, 4]) + bytes(12)


def ps_string(s):
    b = s.encode()
    if len(b) < 16:
        return bytes([0x80 + len(b)]) + b
    return bytes([0xD0, len(b)]) + b


def hello(user, password):
    fields = {"user_agent": "login-storm/1", "scheme": "basic", "principal": user, "credentials": password}
    body = bytes([0xA0 + len(fields)]) + b"".join(ps_string(k) + ps_string(v) for k, v in fields.items())
    payload = b"\xB1\x01" + body
    return len(payload).to_bytes(2, "big") + payload + b"\x00\x00"


async def login(source, port, user, password, timeout, tls=None):
    async def go():
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0), ssl=tls,
                                                       server_hostname="localhost" if tls else None)
        try:
            writer.write(MAGIC + BOLT_44)
            await writer.drain()
            await reader.readexactly(4)
            writer.write(hello(user, password))
            await writer.drain()
            size = int.from_bytes(await reader.readexactly(2), "big")
            payload = await reader.readexactly(size)
            if payload[1] == 0x70:
                return "success"
            i = payload.find(b"Neo.")
            return payload[i:].split(b"\x87")[0].decode(errors="replace").rsplit(".", 1)[-1] if i >= 0 else "failure"
        finally:
            writer.close()
    try:
        return await asyncio.wait_for(go(), timeout)
    except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
        return "closed"


def vm(pid, key):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def storm(kind, n, timeout):
    with tempfile.TemporaryDirectory(prefix="graphward-bench-storm-") as d:
        tls, extra = None, []
        if kind.endswith("over TLS"):
            import ssl
            import subprocess
            from common import binary
            certs = Path(d) / "certs"
            subprocess.run([binary(), "certs", "generate", "--out", str(certs), "--san", "DNS:localhost"],
                           check=True, capture_output=True)
            extra = ["--bolt-cert-file", str(certs / "server.pem"), "--bolt-key-file", str(certs / "server.key")]
            tls = ssl.create_default_context(cafile=str(certs / "ca.pem"))
        proc, bolt, _ = start_graphward(Path(d) / "data", extra)
        try:
            time.sleep(0.5)
            idle = vm(proc.pid, "VmRSS")

            def creds(i):
                if kind.startswith("correct password"):
                    return "neo4j", PASSWORD
                if kind == "wrong password":
                    return "neo4j", f"wrong-password-{i}"
                return f"nobody-{i}", f"wrong-password-{i}"

            async def run():
                return await asyncio.gather(*[
                    login(f"127.0.0.{2 + i % 10}", bolt, *creds(i), timeout, tls) for i in range(n)])
            started = time.monotonic()
            answers = asyncio.run(run())
            elapsed = time.monotonic() - started
            peak = vm(proc.pid, "VmHWM")
        finally:
            stop_all([proc])
    counts = {}
    for a in answers:
        counts[a] = counts.get(a, 0) + 1
    return {"logins": n, "seconds": round(elapsed, 2), "answers_per_sec": round(n / elapsed, 1),
            "answers": counts, "idle_rss_mb": round(idle / 1024, 1), "peak_rss_mb": round(peak / 1024, 1)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--logins", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--out", help="output directory (default: outside the checkout)")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4 * args.logins if hard == resource.RLIM_INFINITY else min(4 * args.logins, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    load_before = os.getloadavg()
    results = {kind: storm(kind, args.logins, args.timeout)
               for kind in ["correct password", "wrong password", "unknown users", "correct password over TLS"]}
    load_after = os.getloadavg()
    out_dir = common.out_dir(args.out)
    (out_dir / "login_storm.json").write_text(json.dumps({
        "load_average_before": load_before, "load_average_after": load_after, "cpus": os.cpu_count(),
        "results": results}, indent=2))
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} ({os.cpu_count()} CPUs)")
    print("| storm | logins | s | answers/s | peak RSS MB (idle) | answers |\n| --- | --- | --- | --- | --- | --- |")
    for k, v in results.items():
        answers = ", ".join(f"{a}: {c}" for a, c in sorted(v["answers"].items()))
        print(f"| {k} | {v['logins']} | {v['seconds']} | {v['answers_per_sec']} | "
              f"{v['peak_rss_mb']} ({v['idle_rss_mb']}) | {answers} |")


if __name__ == "__main__":
    main()
