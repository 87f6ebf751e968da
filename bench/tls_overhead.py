"""Driver for bench/tls_overhead."""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from neo4j import GraphDatabase

import common
from common import ROOT, binary, free_port, wait_port

BIN = binary()


def start_graphward(data_dir, certs=None):
    args = ["--log-level", "error"]
    if certs:
        c, k = str(certs / "server.pem"), str(certs / "server.key")
        args += ["--bolt-cert-file", c, "--bolt-key-file", k, "--tls-cert", c, "--tls-key", k]
    return common.start_graphward(data_dir, args)


def start_nginx(workdir: Path, certs: Path):
    plain, tls = free_port(), free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
worker_processes {os.cpu_count() or 1};
pid {workdir}/nginx.pid;
error_log {workdir}/error.log error;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {workdir}/body; proxy_temp_path {workdir}/proxy;
  fastcgi_temp_path {workdir}/fcgi; uwsgi_temp_path {workdir}/uwsgi; scgi_temp_path {workdir}/scgi;
  server {{ listen 127.0.0.1:{plain}; location = /ping {{ return 204; }} }}
  server {{
    listen 127.0.0.1:{tls} ssl;
    ssl_certificate {certs}/server.pem; ssl_certificate_key {certs}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache off; ssl_session_tickets off;
    location = /ping {{ return 204; }}
  }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(tls, proc)
    return proc, plain, tls


def bolt_roundtrips(uri, seconds):
    with GraphDatabase.driver(uri, auth=("neo4j", "password")) as d, d.session() as s:
        s.run("RETURN 1").consume()
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            s.run("RETURN 1").consume()
            n += 1
        return n / (time.perf_counter() - t0)


def tcp_connects(port, seconds):
    """New TCP connection per iteration (no TLS), from a Python loop."""
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        with socket.create_connection(("127.0.0.1", port)):
            pass
        n += 1
    return n / (time.perf_counter() - t0)


def handshakes(port, seconds):
    """Full TLS handshakes per second: `openssl s_time -new` (a new session each connection,
    no resumption; a C client, far lighter than the server's side of the handshake)."""
    out = subprocess.run(["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-new",
                          "-time", str(max(1, int(seconds)))],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"(\d+) connections in ([\d.]+)s;", out)
    if not m:
        return None
    return int(m.group(1)) / float(m.group(2)) if float(m.group(2)) else None


def wrk(url, seconds, close=False):
    if not shutil.which("wrk"):
        return None
    args = ["wrk", "-t2", "-c16", f"-d{int(seconds)}s", url]
    if close:
        args[1:1] = ["-H", "Connection: close"]
    out = subprocess.run(args, capture_output=True, text=True).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--quick", action="store_true", help="2 s per figure")
    ap.add_argument("--out", help="output directory (default: outside the checkout)")
    a = ap.parse_args()
    if a.quick:
        a.seconds = 2.0
    res = {}
    with tempfile.TemporaryDirectory(prefix="gw-tls-bench-") as d:
        d = Path(d)
        certs = d / "certs"
        subprocess.run([BIN, "certs", "generate", "--out", str(certs), "--san", "DNS:localhost",
                        "--san", "IP:127.0.0.1", "--days", "2"], check=True, capture_output=True)
        (d / "plain").mkdir()
        (d / "tls").mkdir()
        plain, p_bolt, p_http = start_graphward(str(d / "plain"))
        secure, s_bolt, s_http = start_graphward(str(d / "tls"), certs)
        nginx = None
        try:
            res["bolt_return1_per_s_plain"] = bolt_roundtrips(f"bolt://127.0.0.1:{p_bolt}", a.seconds)
            res["bolt_return1_per_s_tls"] = bolt_roundtrips(f"bolt+ssc://127.0.0.1:{s_bolt}", a.seconds)
            res["bolt_tcp_connects_per_s_plain"] = tcp_connects(p_bolt, a.seconds)
            res["bolt_full_tls_handshakes_per_s"] = handshakes(s_bolt, a.seconds)
            res["http_full_tls_handshakes_per_s"] = handshakes(s_http, a.seconds)
            res["http_wrk_req_per_s_plain"] = wrk(f"http://127.0.0.1:{p_http}/ping", a.seconds)
            res["http_wrk_req_per_s_tls"] = wrk(f"https://127.0.0.1:{s_http}/ping", a.seconds)
            if shutil.which("nginx"):
                nginx, n_plain, n_tls = start_nginx(d, certs)
                res["nginx_full_tls_handshakes_per_s"] = handshakes(n_tls, a.seconds)
                res["nginx_wrk_req_per_s_plain_keepalive"] = wrk(f"http://127.0.0.1:{n_plain}/ping", a.seconds)
                res["nginx_wrk_req_per_s_tls_keepalive"] = wrk(f"https://127.0.0.1:{n_tls}/ping", a.seconds)
                res["nginx_wrk_req_per_s_plain_close"] = wrk(f"http://127.0.0.1:{n_plain}/ping", a.seconds, close=True)
                res["nginx_wrk_req_per_s_tls_close"] = wrk(f"https://127.0.0.1:{n_tls}/ping", a.seconds, close=True)
        finally:
            for p in (plain, secure, nginx):
                if p:
                    p.terminate()
                    p.wait()
    fig = lambda v: "n/a" if v is None else f"{v:,.0f}"
    print(f"{a.seconds:g} s per figure; nginx with {os.cpu_count()} worker processes (graphward: "
          f"{os.cpu_count()} runtime threads); handshakes by `openssl s_time -new`, wrk -t2 -c16.")
    print("| figure | graphward | nginx | graphward / nginx |\n|---|---:|---:|---:|")
    pairs = [
        ("full TLS handshakes/s, Bolt port", "bolt_full_tls_handshakes_per_s", "nginx_full_tls_handshakes_per_s"),
        ("full TLS handshakes/s, HTTP port", "http_full_tls_handshakes_per_s", "nginx_full_tls_handshakes_per_s"),
        ("wrk GET /ping keep-alive, http://", "http_wrk_req_per_s_plain", "nginx_wrk_req_per_s_plain_keepalive"),
        ("wrk GET /ping keep-alive, https://", "http_wrk_req_per_s_tls", "nginx_wrk_req_per_s_tls_keepalive"),
        ("Bolt RETURN 1/s, one Python-driver session, bolt://", "bolt_return1_per_s_plain", None),
        ("Bolt RETURN 1/s, one Python-driver session, bolt+ssc://", "bolt_return1_per_s_tls", None),
        ("TCP connects/s to the Bolt port (Python loop)", "bolt_tcp_connects_per_s_plain", None),
        ("wrk /ping Connection: close, http://", None, "nginx_wrk_req_per_s_plain_close"),
        ("wrk /ping Connection: close, https://", None, "nginx_wrk_req_per_s_tls_close"),
    ]
    for label, g, n in pairs:
        gv, nv = res.get(g) if g else None, res.get(n) if n else None
        print(f"| {label} | {fig(gv)} | {fig(nv)} | {common.ratio(gv, nv)} |")
    out = common.out_dir(a.out)
    (out / "tls_overhead.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
