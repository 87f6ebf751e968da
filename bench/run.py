"""bench/run: every benchmark, side by side with its peers, into one directory.

Waits (a bounded time) for a quiet machine and records the load average either way, then runs
each driver with `--out DIR` (and `--quick`), each in its own process, and writes
DIR/RESULTS.md: per table the command, the date, the load average before and after, and the
ratio column against the peer. A driver that fails or is missing is reported, not fatal.
"""
import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import common

BENCH = Path(__file__).resolve().parent


def blank_before_tables(text):
    """A blank line before each Markdown table that follows a line of text."""
    out, prev = [], ""
    for line in text.split("\n"):
        if line.startswith("|") and prev.strip() and not prev.startswith("|"):
            out.append("")
        out.append(line)
        prev = line
    return "\n".join(out)


def steps(quick, py):
    q = ["--quick"] if quick else []
    s = [
        ("bolt_path", [py, "bench/bolt_path.py", *q]),
        ("bolt_roundtrip", [py, "bench/bolt_roundtrip.py", *q]),
        ("http", [py, "bench/http_bench.py", *q]),
        ("tls_overhead", [py, "bench/tls_overhead.py", *q]),
        ("auth", [py, "bench/auth_bench.py", "--seconds", "3" if quick else "8"]),
        ("login_storm", [py, "bench/login_storm.py", *(["--logins", "500"] if quick else [])]),
        ("tx_contention", [py, "bench/tx_contention.py",
                           *(["--sessions", "40", "--statements", "20"] if quick else [])]),
    ]
    # The engine and its storage against Ladybug and FalkorDB, and streaming (issue 12).
    s.append(("engine", [py, "bench/engine.py", *q]))
    if (BENCH / "stream.py").exists():
        s.append(("stream", [py, "bench/stream.py", *q]))
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs and small data (< 15 min)")
    ap.add_argument("--out", help="output directory (default /tmp/graphward-bench-<date>)")
    ap.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    ap.add_argument("--quiet-below", type=float, default=1.0,
                    help="wait for a 1-minute load average below this (default 1.0)")
    ap.add_argument("--max-wait", type=float, help="longest wait for a quiet machine, s "
                    "(default 60 with --quick, 600 without)")
    a = ap.parse_args()
    out = common.out_dir(a.out)
    started = time.time()
    max_wait = a.max_wait if a.max_wait is not None else (60 if a.quick else 600)
    print(f"bench/run: waiting up to {max_wait:.0f} s for a load average below {a.quiet_below}",
          flush=True)
    load0 = common.wait_quiet(a.quiet_below, max_wait)
    quiet = load0[0] < a.quiet_below
    print(f"bench/run: load average {load0} ({'quiet' if quiet else 'NOT quiet: figures are lower bounds'})",
          flush=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=BENCH.parent).stdout.strip()
    env = dict(os.environ, GRAPHWARD_BENCH_OUT=str(out), PYTHONDONTWRITEBYTECODE="1")
    sections, summary = [], []
    for name, cmd in steps(a.quick, sys.executable):
        if a.only and name not in a.only:
            continue
        cmd = [*cmd, "--out", str(out)]
        shown = "bench/run" + (" --quick" if a.quick else "") + " → " + " ".join(
            shlex.quote(c) for c in cmd[1:])
        print(f"\n=== {name}: {shown}", flush=True)
        md = out / f"{name}.md"
        md.unlink(missing_ok=True)
        lb, t0, date = common.loadavg(), time.time(), common.now_utc()
        try:
            p = subprocess.run(cmd, cwd=BENCH.parent, env=env, capture_output=True, text=True,
                               timeout=1800)
            rc, stdout, stderr = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, stdout, stderr = "timeout", str(e.stdout or ""), str(e.stderr or "")
        el, la = time.time() - t0, common.loadavg()
        (out / f"{name}.log").write_text(stdout + "\n--- stderr ---\n" + stderr)
        print(stdout[-4000:], flush=True)
        if rc != 0:
            print(stderr[-2000:], file=sys.stderr, flush=True)
        summary.append((name, rc, el, lb, la))
        if rc == 0 and md.exists():
            sections.append(md.read_text())
        else:
            text = stdout.strip()
            if not any(line.startswith("|") for line in text.splitlines()):
                text = f"```\n{text}\n```"
            body = text if rc == 0 else f"**failed** ({rc}): see `{name}.log`\n\n```\n{stderr.strip()[-1500:]}\n```"
            sections.append(f"## {name}\n\nCommand: `{shown}`. Date: {date}. Load average "
                            f"(1/5/15 min): {'/'.join(map(str, lb))} before, "
                            f"{'/'.join(map(str, la))} after. {el:.0f} s.\n\n{body}\n")
    total = time.time() - started
    head = [f"# bench/run{' --quick' if a.quick else ''} — {common.now_utc()}", "",
            f"Commit {commit}; {os.cpu_count()} cores; total {total / 60:.1f} min. Load average "
            f"at the start (1/5/15 min): {'/'.join(map(str, load0))} "
            f"({'quiet' if quiet else f'not below {a.quiet_below} after waiting {max_wait:.0f} s: other work shared the machine, absolute figures are lower bounds; read the ratios'}).",
            "", "| benchmark | result | seconds | load before | load after |", "|---|---|---:|---|---|"]
    head += [f"| {n} | {'ok' if rc == 0 else f'FAILED ({rc})'} | {el:.0f} | {lb[0]} | {la[0]} |"
             for n, rc, el, lb, la in summary]
    if not (BENCH / "stream.py").exists():
        head += ["", "bench/stream.py is not on this branch (helper \"stream\"): skipped."]
    text = blank_before_tables("\n".join(head) + "\n\n" + "\n".join(sections))
    (out / "RESULTS.md").write_text(text)
    print(f"\nbench/run: {total / 60:.1f} min; results in {out}/RESULTS.md")
    return 0 if all(rc == 0 for _, rc, *_ in summary) else 1


if __name__ == "__main__":
    sys.exit(main())
