"""Driver for bench/http (standard library only; wrk, nginx and openssl from the system)."""
import argparse
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import common
from common import ROOT, binary, free_port, stop_all, wait_port  # noqa: F401 (auth_bench imports them from here)

BASIC = "Basic " + base64.b64encode(b"neo4j:password").decode()
# The server verifies HS256 bearer tokens with this secret (a benchmark-only value).
JWT_SECRET = "bench-only-hmac-secret-" + "x" * 48


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bearer(user="neo4j", lifetime=3600):
    """An HS256 JWT (what PyJWT would make), standard library only."""
    now = int(time.time())
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64url(json.dumps({"sub": user, "iat": now, "exp": now + lifetime}).encode())
    sig = hmac.new(JWT_SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"Bearer {head}.{body}.{b64url(sig)}"


def start_graphward(data_dir, extra=()):
    """A server that also verifies the benchmark's HS256 tokens; returns (process, http port)."""
    proc, _, http = common.start_graphward(data_dir, extra, env={"GRAPHWARD_JWT_HMAC_SECRET": JWT_SECRET})
    return proc, http


def install_query(http_port, scheme="http", cafile=None):
    import ssl
    ctx = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    host = "localhost" if scheme == "https" else "127.0.0.1"
    req = urllib.request.Request(
        f"{scheme}://{host}:{http_port}/queries/neo4j/bench_hop", method="PUT",
        headers={"Authorization": BASIC, "Content-Type": "application/json"},
        data=json.dumps({"statement": "UNWIND range(1, $n) AS i RETURN i, i * 2 AS twice"}).encode())
    with urllib.request.urlopen(req, context=ctx) as r:
        assert r.status in (200, 201)


def make_cert(d):
    cert, key = Path(d) / "cert.pem", Path(d) / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


# nginx gets as many workers as graphward has runtime threads (tokio: one per core).
WORKERS = os.cpu_count() or 1


def start_nginx(d, cert, key):
    plain, tls = free_port(), free_port()
    conf = Path(d) / "nginx.conf"
    conf.write_text(f"""
worker_processes {WORKERS};
daemon off;
pid {d}/nginx.pid;
error_log {d}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{ listen 127.0.0.1:{plain}; location = /ping {{ return 204; }} }}
  server {{
    listen 127.0.0.1:{tls} ssl;
    ssl_certificate {cert}; ssl_certificate_key {key};
    ssl_protocols TLSv1.2 TLSv1.3;
    location = /ping {{ return 204; }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", d, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(plain, proc)
    wait_port(tls, proc)
    return proc, plain, tls


def wrk(url, seconds, connections, header=None):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if header:
        cmd[1:1] = ["-H", header]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|90|99)%\s+(\S+)", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"url": url, "requests_per_sec": rps, "latency": lat,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0, "raw": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--quick", action="store_true", help="3 s per figure")
    ap.add_argument("--out", help="output directory (default: outside the checkout)")
    args = ap.parse_args()
    if args.quick:
        args.seconds = 3
    for tool in ("wrk", "nginx", "openssl"):
        if not shutil.which(tool):
            raise SystemExit(f"bench/http needs {tool} (apt-get install {tool})")
    help_text = subprocess.run([binary(), "serve", "--help"], capture_output=True, text=True).stdout
    has_tls = "--tls-cert" in help_text
    results = {}
    procs = []
    with tempfile.TemporaryDirectory(prefix="graphward-bench-") as d:
        try:
            cert, key = make_cert(d)
            gw, port = start_graphward(os.path.join(d, "plain"))
            procs.append(gw)
            install_query(port)
            hop = f"/restpp/query/neo4j/bench_hop?n=10"
            # The seed's header: a bearer JWT (verified once, then cached), not Basic (argon2id
            # on every request by design).
            auth = f"Authorization: {bearer()}"
            results["graphward http /ping"] = wrk(f"http://127.0.0.1:{port}/ping", args.seconds, args.connections)
            results["graphward http stored query (10 rows)"] = wrk(f"http://127.0.0.1:{port}{hop}", args.seconds, args.connections, auth)
            if has_tls:
                gwt, tport = start_graphward(os.path.join(d, "tls"), ["--tls-cert", str(cert), "--tls-key", str(key)])
                procs.append(gwt)
                install_query(tport, scheme="https", cafile=cert)
                results["graphward https /ping"] = wrk(f"https://localhost:{tport}/ping", args.seconds, args.connections)
                results["graphward https stored query (10 rows)"] = wrk(f"https://localhost:{tport}{hop}".replace(hop, hop), args.seconds, args.connections, auth)
            ng, nplain, ntls = start_nginx(d, cert, key)
            procs.append(ng)
            results["nginx http /ping"] = wrk(f"http://127.0.0.1:{nplain}/ping", args.seconds, args.connections)
            results["nginx https /ping"] = wrk(f"https://localhost:{ntls}/ping", args.seconds, args.connections)
        finally:
            stop_all(procs)
    out_dir = common.out_dir(args.out)
    summary = {k: {kk: vv for kk, vv in v.items() if kk != "raw"} for k, v in results.items()}
    (out_dir / "http.json").write_text(json.dumps({"seconds": args.seconds, "connections": args.connections,
                                                   "graphward_tls": has_tls, "results": results}, indent=2))
    print(f"wrk -t2 -c{args.connections} -d{args.seconds}s; nginx with {WORKERS} worker processes "
          f"(graphward: {WORKERS} runtime threads)")
    print("| target | req/s | p50 | p99 | non-2xx | graphward / nginx (req/s) |\n| --- | --- | --- | --- | --- | --- |")
    for k, v in summary.items():
        peer = None
        if k.startswith("graphward") and k.endswith("/ping"):
            peer = summary.get(k.replace("graphward", "nginx"))
        r = common.ratio(v["requests_per_sec"], peer["requests_per_sec"] if peer else None)
        print(f"| {k} | {v['requests_per_sec']:.0f} | {v['latency'].get('50', '?')} | {v['latency'].get('99', '?')} | {v['non_2xx']} | {r} |")
    if not has_tls:
        print("(graphward HTTPS not measured: this binary has no --tls-cert yet)")


if __name__ == "__main__":
    main()
