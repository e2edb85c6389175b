"""The benchmark's entry point: ``python -m bench`` (or ``python bench/run.py``).

Starts the feed server (bench/server.py) once with the largest N, then for each N runs every
system (bench/systems.py) in a fresh process over the same feeds, restoring the server's feeds
to their first version before each, and prints one table with the ratios against the naive
baseline and lemon24/reader. ``--json FILE`` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Targets from the performance issue, checked and printed (never asserted in tests).
TARGETS = {
    "cold_1000_wall_s": 12.0,
    "cold_lag_p99_ms": 50.0,
    "cold_lag_max_ms": 200.0,
    "all_304_1000_wall_s": 0.25,
    "steady_1000_wall_s": 2.0,
    "cold_5000_over_1000": 5.5,
    "rss_5000_total_mb": 250.0,
    "classifier_stories_per_s": 2000.0,
    "store_stories_per_s": 20000.0,
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class Server:
    def __init__(self, feeds: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.server", "--feeds", str(feeds)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=_env(), text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("READY "):
            self.close()
            raise RuntimeError(f"feed server did not start: {line!r}")
        self.base = f"http://127.0.0.1:{int(line.split()[1])}"

    def restore(self) -> None:
        req = urllib.request.Request(f"{self.base}/_bench/restore", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=120) as resp:
            resp.read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()  # the server stops when its stdin closes
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_system(system: str, *args: str, timeout: float = 1800) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.systems", system, *args],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        return {"system": system, "error": f"exit {proc.returncode}: " + " | ".join(tail)}
    return dict(json.loads(lines[-1]))


# --- table -----------------------------------------------------------------------------------

def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        v = f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}" if abs(v) < 1000 else f"{v:,.0f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "—"
    return f"{b / a:.1f}×"


def render(results: dict[str, Any]) -> str:
    out: list[str] = []
    w = out.append
    w(f"Greenlight benchmark — {results['machine']}")
    w("")
    w("| N | system | cycle | wall s | CPU s | feeds/s | stories/s stored | loop lag p50 / p99 / "
      "max ms | peak RSS main / workers / all MB |")
    w("|---|---|---|---|---|---|---|---|---|")
    for n, systems in results["runs"].items():
        for name, res in systems.items():
            if "error" in res or "unavailable" in res:
                w(f"| {n} | {name} | — | {res.get('error') or res.get('unavailable')} "
                  "| | | | | |")
                continue
            mem = res.get("memory", {})
            mem_s = (f"{_fmt(mem.get('rss_main_mb'))} / {_fmt(mem.get('rss_workers_sum_mb'))} / "
                     f"{_fmt(mem.get('rss_total_peak_mb'))}")
            for cname, c in res["cycles"].items():
                if c.get("samples_wall_s"):
                    cname = f"{cname} (median of {len(c['samples_wall_s'])})"
                lag = ("n/a (no event loop)" if "lag_p50_ms" not in c else
                       f"{_fmt(c['lag_p50_ms'])} / {_fmt(c['lag_p99_ms'])} / "
                       f"{_fmt(c['lag_max_ms'])}")
                w(f"| {n} | {name} | {cname} | {_fmt(c['wall_s'])} | {_fmt(c['cpu_s'])} | "
                  f"{_fmt(c['feeds_per_s'])} | {_fmt(c['stories_per_s'])} | {lag} | {mem_s} |")
                mem_s = "″"
    micro = results.get("micro", {})
    if micro and "error" not in micro:
        w("")
        w("Components on their own (one core):")
        for k, v in micro.get("parse_ms", {}).items():
            w(f"  parse {k:<24} {v:8.2f} ms per {micro['feed_bytes'] // 1000} KB 50-item feed")
        w(f"  classifier               {micro['classifier_stories_per_s']:10,.0f} stories/s "
          f"({micro['classifier_signal_share']:.1%} with a signal)")
        w(f"  store (record_batch)     {micro['store_stories_per_s']:10,.0f} stories/s "
          "batched on SQLite")
    w("")
    w("Ratios (how many times Greenlight is faster; wall time):")
    for n, systems in results["runs"].items():
        gl = systems.get("greenlight", {}).get("cycles", {})
        for other in ("naive", "reader"):
            oc = systems.get(other, {}).get("cycles")
            if not gl or not oc:
                continue
            parts = []
            for cyc in ("cold", "steady", "all_304"):
                theirs = oc.get(cyc) or (oc.get("steady") if other == "naive" else None)
                if gl.get(cyc) and theirs:
                    label = cyc if theirs is oc.get(cyc) else f"{cyc} (vs its steady)"
                    parts.append(f"{label} {_ratio(gl[cyc]['wall_s'], theirs['wall_s'])}")
            w(f"  N={n}: vs {other}: " + ", ".join(parts))
    w("")
    w("Targets:")
    for line in check_targets(results):
        w(f"  {line}")
    return "\n".join(out)


def check_targets(results: dict[str, Any]) -> list[str]:
    lines: list[str] = []

    def mark(name: str, value: float | None, limit: float, *, at_least: bool = False) -> None:
        if value is None:
            lines.append(f"—    {name}: not measured in this run (target {limit:g})")
            return
        ok = value >= limit if at_least else value <= limit
        op = "≥" if at_least else "≤"
        lines.append(f"{'MET ' if ok else 'MISS'} {name}: {value:,.3f} (target {op} {limit:g})")

    def gl(n: int) -> dict[str, Any]:
        return dict(results["runs"].get(str(n), {}).get("greenlight", {}).get("cycles", {}))

    g1 = gl(1000)
    cold = g1.get("cold", {})
    mark("1,000 feeds cold wall s", cold.get("wall_s"), TARGETS["cold_1000_wall_s"])
    mark("1,000 feeds cold loop lag p99 ms", cold.get("lag_p99_ms"), TARGETS["cold_lag_p99_ms"])
    mark("1,000 feeds cold loop lag max ms", cold.get("lag_max_ms"), TARGETS["cold_lag_max_ms"])
    mark("1,000 feeds all-304 wall s", g1.get("all_304", {}).get("wall_s"),
         TARGETS["all_304_1000_wall_s"])
    mark("1,000 feeds steady wall s", g1.get("steady", {}).get("wall_s"),
         TARGETS["steady_1000_wall_s"])
    g5 = gl(5000)
    c5 = g5.get("cold", {}).get("wall_s")
    mark("5,000 cold / 1,000 cold", c5 / cold["wall_s"] if c5 and cold.get("wall_s") else None,
         TARGETS["cold_5000_over_1000"])
    mem5 = results["runs"].get("5000", {}).get("greenlight", {}).get("memory", {})
    mark("5,000 feeds peak RSS of all processes MB", mem5.get("rss_total_peak_mb"),
         TARGETS["rss_5000_total_mb"])
    micro = results.get("micro", {})
    mark("classifier stories/s (one core)", micro.get("classifier_stories_per_s"),
         TARGETS["classifier_stories_per_s"], at_least=True)
    mark("store stories/s batched (SQLite)", micro.get("store_stories_per_s"),
         TARGETS["store_stories_per_s"], at_least=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", default="100,1000",
                    help="comma-separated N values (default 100,1000; the issue's full set is "
                         "100,1000,5000)")
    ap.add_argument("--baselines-up-to", type=int, default=1000,
                    help="run the naive baseline and reader only for N up to this (they take "
                         "~75-150 s at 1,000 feeds); default 1000")
    ap.add_argument("--no-naive", action="store_true")
    ap.add_argument("--no-reader", action="store_true")
    ap.add_argument("--per-host", type=int, default=32,
                    help="Greenlight's [fetch] max_connections_per_host for the run: all bench "
                         "feeds share one host (default 32)")
    ap.add_argument("--json", metavar="FILE", help="also write every figure to FILE")
    ap.add_argument("--pollers", metavar="P,…",
                    help="instead of the systems table: a cold cycle of --feeds feeds with "
                         "each of these numbers of `poll --once` processes on one PostgreSQL "
                         "database (needs --postgres), e.g. --pollers 1,2,4 --feeds 5000")
    ap.add_argument("--postgres", metavar="URL",
                    help="a PostgreSQL server for --pollers, e.g. "
                         "postgresql://postgres@127.0.0.1:5432/postgres; each run creates a "
                         "database of its own there and drops it afterwards")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.feeds.split(",") if x.strip()]
    if args.pollers:
        if not args.postgres:
            ap.error("--pollers needs --postgres URL")
        return main_pollers(sizes, [int(x) for x in args.pollers.split(",") if x.strip()],
                            args.postgres, args.per_host, args.json)

    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "per_host": args.per_host,
        "runs": {},
    }
    t0 = time.perf_counter()
    print("bench: micro (parsers, classifier, store) …", file=sys.stderr, flush=True)
    results["micro"] = run_system("micro")
    print(f"bench: starting the feed server with {max(sizes)} feeds …", file=sys.stderr,
          flush=True)
    server = Server(max(sizes))
    try:
        for n in sizes:
            runs: dict[str, Any] = {}
            results["runs"][str(n)] = runs
            systems = ["greenlight"]
            if n <= args.baselines_up_to:
                systems += [s for s in ("naive", "reader") if not getattr(args, f"no_{s}")]
            for system in systems:
                print(f"bench: N={n} {system} …", file=sys.stderr, flush=True)
                server.restore()
                extra = ["--per-host", str(args.per_host)] if system == "greenlight" else []
                runs[system] = run_system(system, "--feeds", str(n), "--base", server.base,
                                          *extra)
    finally:
        server.close()
    results["elapsed_s"] = round(time.perf_counter() - t0, 1)
    table = render(results)
    print(table)
    print(f"\n(bench took {results['elapsed_s']} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def main_pollers(sizes: list[int], counts: list[int], postgres: str, per_host: int,
                 json_path: str | None) -> int:
    from bench.pollers import render as render_pollers
    from bench.pollers import run_pollers

    t0 = time.perf_counter()
    results: list[dict[str, Any]] = []
    print(f"bench: starting the feed server with {max(sizes)} feeds …", file=sys.stderr,
          flush=True)
    server = Server(max(sizes))
    try:
        for n in sizes:
            for p in counts:
                print(f"bench: N={n}, {p} poller(s) on PostgreSQL …", file=sys.stderr,
                      flush=True)
                try:
                    results.append(run_pollers(server.base, n, p, postgres, per_host))
                except Exception as e:  # one failed run must not lose the others' figures
                    results.append({"feeds": n, "pollers": p, "error": f"{type(e).__name__}: {e}"})
    finally:
        server.close()
    print(f"Greenlight benchmark — {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}")
    print(render_pollers(results))
    print(f"\n(bench took {time.perf_counter() - t0:.1f} s)")
    if json_path:
        Path(json_path).write_text(json.dumps({"pollers": results}, indent=2) + "\n")
    ok = all(r.get("each_fetched_once") and r.get("stories_ok") for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    if __package__ in (None, ""):
        sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
