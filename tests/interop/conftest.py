"""Shared fixtures for interop tests: start a real `graphward serve` on free ports.

The binary is taken from $GRAPHWARD_BIN (scripts/test sets it to the freshly built one).
"""
import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Every test server starts with authentication on and this administrator password.
USER = "neo4j"
PASSWORD = "password"
AUTH = (USER, PASSWORD)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary() -> str:
    return os.environ.get("GRAPHWARD_BIN", str(ROOT / "target" / "debug" / "graphward"))


class Server:
    def __init__(self, data_dir: str, extra_args=(), env=None, address_space=None):
        # address_space: a cap on the server's virtual memory in bytes (RLIMIT_AS, as
        # `ulimit -v`), so a memory regression fails the test instead of eating the machine.
        self.address_space = address_space
        self.data_dir = data_dir
        self.env = {"GRAPHWARD_INITIAL_PASSWORD": PASSWORD, **(env or {})}
        self.bolt_port = free_port()
        self.http_port = free_port()
        self.extra_args = list(extra_args)
        self.log_path = Path(data_dir) / "server.log"
        self.proc = None

    def start(self):
        args = [
            binary(), "serve",
            "--data-dir", self.data_dir,
            "--bolt-address", "127.0.0.1", "--bolt-port", str(self.bolt_port),
            "--http-address", "127.0.0.1", "--http-port", str(self.http_port),
            *self.extra_args,
        ]
        self.log = open(self.log_path, "ab")
        env = {**os.environ, **self.env}
        preexec = None
        if self.address_space is not None:
            cap = self.address_space

            def preexec():
                import resource
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     preexec_fn=preexec)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.bolt_port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start:\n{self.read_log()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()

    def read_log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    @property
    def bolt_uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    @property
    def neo4j_uri(self) -> str:
        return f"neo4j://127.0.0.1:{self.bolt_port}"


@pytest.fixture(scope="module")
def server():
    with tempfile.TemporaryDirectory(prefix="graphward-test-") as d:
        srv = Server(d).start()
        try:
            yield srv
        finally:
            srv.stop()


def _server_factory():
    """Starts servers (custom flags, a data directory of their own unless given, an
    address-space cap) and stops them all, with their directories, when the generator ends."""
    started, dirs = [], []

    def _make(extra_args=(), data_dir=None, env=None, address_space=None):
        if data_dir is None:
            td = tempfile.TemporaryDirectory(prefix="graphward-test-")
            dirs.append(td)
            data_dir = td.name
        srv = Server(data_dir, extra_args, env=env, address_space=address_space).start()
        started.append(srv)
        return srv

    yield _make
    for s in started:
        s.stop()
    for td in dirs:
        td.cleanup()


@pytest.fixture(scope="module")
def make_server_module():
    """Factory for servers shared by one test module (custom flags, an address-space cap)."""
    yield from _server_factory()


@pytest.fixture
def make_server():
    """Factory for tests that need their own server (custom flags, restarts)."""
    yield from _server_factory()
