"""Driver for bench/auth: wrk + a Lua script against POST /db/neo4j/query/v2 with each kind of
credentials. Tokens are made with PyJWT before the clock starts (signing is not measured)."""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from http_bench import ROOT, start_graphward, stop_all  # noqa: E402

SECRET = "b" * 64
ISSUER = "graphward-bench"
BODY = '{"statement": "RETURN 1 AS x"}'
# More distinct tokens than the verifier caches (10 000), so that every request of the
# "uncached" runs verifies a signature: between two uses of one token, more than the cache's
# capacity of other tokens are verified.
UNCACHED_TOKENS = 16000

LUA = r"""
local counter = 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end
function init(args)
  mode = args[1]
  headers = {["Content-Type"] = "application/json"}
  if mode == "header" then
    if args[2] ~= "" then headers["Authorization"] = args[2] end
    return
  end
  local all = {}
  for line in io.lines(args[2]) do all[#all + 1] = line end
  local threads = tonumber(args[3])
  local per = math.floor(#all / threads)
  tokens = {}
  for i = id * per + 1, (id + 1) * per do tokens[#tokens + 1] = all[i] end
  idx = 0
end
function request()
  if mode ~= "header" then
    idx = idx % #tokens + 1
    headers["Authorization"] = "Bearer " .. tokens[idx]
  end
  return wrk.format("POST", nil, headers, '""" + BODY + r"""')
end
"""


def sign(args):
    alg, key, start, count = args
    import jwt
    if isinstance(key, bytes):
        # parse the PEM once (PyJWT would parse it for every token)
        from cryptography.hazmat.primitives import serialization
        key = serialization.load_pem_private_key(key, password=None)
    now = int(time.time())
    return [jwt.encode({"sub": "neo4j", "iss": ISSUER, "iat": now, "exp": now + 3600, "jti": str(i)},
                       key, algorithm=alg) for i in range(start, start + count)]


def tokens(alg, key, count):
    step = 1000
    with ProcessPoolExecutor(max_workers=2) as pool:
        parts = pool.map(sign, [(alg, key, s, min(step, count - s)) for s in range(0, count, step)])
        return [t for p in parts for t in p]


def wrk(url, seconds, connections, threads, script, *script_args):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
           "-s", script, url, "--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|90|99)%\s+(\S+)", out, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"requests_per_sec": rps, "latency": lat, "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(0) if errors else "", "raw": out}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", help="output directory (default: outside the checkout)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("bench/auth needs wrk (apt-get install wrk)")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    results = {}
    procs = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="graphward-bench-auth-") as d:
        d = Path(d)
        (d / "hmac").write_text(SECRET)
        (d / "rsa.pem").write_bytes(rsa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        script = d / "auth.lua"
        script.write_text(LUA)
        files = {}
        for alg, key in [("HS256", SECRET), ("RS256", rsa_pem)]:
            started = time.time()
            ts = tokens(alg, key, UNCACHED_TOKENS)
            files[alg] = d / f"{alg}.txt"
            files[alg].write_text("\n".join(ts) + "\n")
            print(f"signed {len(ts)} {alg} tokens in {time.time() - started:.1f}s", file=sys.stderr)
        try:
            plain, pport = start_graphward(str(d / "noauth"), ["--auth-disabled"])
            procs.append(plain)
            authp, aport = start_graphward(str(d / "auth"), [
                "--jwt-hmac-secret", f"@{d / 'hmac'}", "--jwt-rsa-public-key", f"@{d / 'rsa.pem'}",
                "--jwt-issuer", ISSUER])
            procs.append(authp)
            url = lambda port: f"http://127.0.0.1:{port}/db/neo4j/query/v2"
            run = lambda port, *a: wrk(url(port), args.seconds, args.connections, args.threads, str(script), *a)
            basic = "Basic " + base64.b64encode(b"neo4j:password").decode()
            one_hs = sign(("HS256", SECRET, 0, 1))[0]
            one_rs = sign(("RS256", rsa_pem, 0, 1))[0]
            results["no auth (--auth-disabled)"] = run(pport, "header", "")
            results["Basic (argon2id once, then remembered)"] = run(aport, "header", basic)
            results["Bearer HS256 cached (one token)"] = run(aport, "header", f"Bearer {one_hs}")
            results["Bearer RS256 cached (one token)"] = run(aport, "header", f"Bearer {one_rs}")
            results[f"Bearer HS256 uncached ({UNCACHED_TOKENS} tokens)"] = run(aport, "file", str(files["HS256"]), str(args.threads))
            results[f"Bearer RS256 uncached ({UNCACHED_TOKENS} tokens)"] = run(aport, "file", str(files["RS256"]), str(args.threads))
        finally:
            stop_all(procs)
    load_after = os.getloadavg()
    out_dir = common.out_dir(args.out)
    (out_dir / "auth.json").write_text(json.dumps({
        "seconds": args.seconds, "connections": args.connections, "threads": args.threads,
        "load_average_before": load_before, "load_average_after": load_after,
        "cpus": os.cpu_count(), "results": results}, indent=2))
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} ({os.cpu_count()} CPUs)")
    print("| credentials | req/s | p50 | p99 | non-2xx |\n| --- | --- | --- | --- | --- |")
    for k, v in results.items():
        print(f"| {k} | {v['requests_per_sec']:.0f} | {v['latency'].get('50', '?')} | "
              f"{v['latency'].get('99', '?')} | {v['non_2xx']} |")


if __name__ == "__main__":
    main()
