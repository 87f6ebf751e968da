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
