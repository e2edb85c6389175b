"""The benchmark runs end to end on a small N and prints its table. No timing is asserted:
figures on a shared CI machine mean nothing; bench/ reports them, it does not gate on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_runs_on_twenty_feeds_and_prints_its_table(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # reader is an optional bench dependency: without it the table says so instead.
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--feeds", "20", "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = proc.stdout
    assert "| 20 | greenlight | cold |" in table, table
    assert "| 20 | greenlight | all_304 (median of 3) |" in table
    assert "| 20 | naive | cold |" in table
    assert "| 20 | reader |" in table  # figures, or why reader could not run
    assert "vs naive" in table and "Targets:" in table

    figures = json.loads(out.read_text())
    gl = figures["runs"]["20"]["greenlight"]
    assert "error" not in gl, gl
    cold, steady, all_304 = (gl["cycles"][c] for c in ("cold", "steady", "all_304"))
    # What the cycles did (counts, not times): 20 feeds × 50 items stored cold; then the
    # changed feeds give new stories, validator-ignoring feeds hit the unchanged-body check,
    # and the last cycle is answered with 304 everywhere.
    assert cold["stories_new"] == 20 * 50 and cold["fetched"] == 20
    assert steady["not_modified"] + steady["fetched"] == 20
    assert all_304["not_modified"] == 20 and all_304["stories_new"] == 0
    # The short all-304 cycle is run three times and the median kept, with every run's time.
    assert len(all_304["samples_wall_s"]) == 3
    assert sorted(all_304["samples_wall_s"])[1] == all_304["wall_s"]
    assert gl["memory"]["processes"] >= 2  # the pool's workers are counted
    micro = figures["micro"]
    assert "error" not in micro, micro
    assert micro["classifier_stories_per_s"] > 0 and micro["store_stories_per_s"] > 0


def test_bench_pollers_on_postgres_fetch_each_feed_once(tmp_path: Path) -> None:
    """``--pollers``: several ``poll --once`` processes share one cold cycle on PostgreSQL; the
    feed server counts every request, so a feed fetched twice (or never) shows."""
    import pytest

    url = os.environ.get("GREENLIGHT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("GREENLIGHT_TEST_POSTGRES_URL is not set")
    out = tmp_path / "pollers.json"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--pollers", "1,3", "--feeds", "30", "--postgres", url,
         "--json", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert "| 30 | 3 |" in proc.stdout, proc.stdout
    runs = json.loads(out.read_text())["pollers"]
    assert [r["pollers"] for r in runs] == [1, 3]
    for r in runs:
        assert "errors" not in r and r["exit_codes"] == [0] * r["pollers"], r
        assert r["requests"] == 30 and r["each_fetched_once"], r
        assert r["stories"] == 30 * 50 and r["stories_ok"] and r["feeds_unpolled"] == 0, r
        # Each poller's exit time, none after the whole run's.
        assert len(r["finished_s"]) == r["pollers"], r
        assert all(0 < t <= r["wall_s"] + 0.05 for t in r["finished_s"]), r
