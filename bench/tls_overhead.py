"""Driver for bench/tls_overhead."""
import argparse
import json
import re
import shutil
import socket
import ssl
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
worker_processes 2;
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


def handshakes(port, seconds, tls=True):
    """New connection + full handshake (no session resumption) per iteration."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        with socket.create_connection(("127.0.0.1", port)) as raw:
            if tls:
                with ctx.wrap_socket(raw, server_hostname="localhost"):
                    pass
        n += 1
    return n / (time.perf_counter() - t0)


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
    a = ap.parse_args()
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
            res["bolt_tcp_connects_per_s_plain"] = handshakes(p_bolt, a.seconds, tls=False)
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
    width = max(len(k) for k in res)
    for k, v in res.items():
        print(f"{k:<{width}}  {'n/a' if v is None else f'{v:,.0f}'}")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "tls_overhead.json").write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
