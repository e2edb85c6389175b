"""The command-line contract of DESIGN.md, run as a user runs it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(
    *args: str, cwd: Path, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {})},
    )


def test_check_config_ok_and_problems(tmp_path: Path) -> None:
    good = run("check-config", "--config", str(ROOT / "config.example.toml"), cwd=tmp_path)
    assert good.returncode == 0, good.stderr
    assert "OK" in good.stdout

    bad = tmp_path / "bad.toml"
    bad.write_text('[fetch]\ntimout = 3\n[poll]\ninterval = "soon"\n')
    res = run("check-config", "--config", str(bad), cwd=tmp_path)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in res.stderr
    assert "did you mean 'timeout'" in lines[0] and "[poll] interval" in lines[1]


def test_missing_config_file_is_one_clear_line(tmp_path: Path) -> None:
    res = run("poll", "--once", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert res.returncode == 1 and "file not found" in res.stderr and "Traceback" not in res.stderr


def test_migrate_uses_env_database_url(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    res = run("migrate", cwd=tmp_path, env={"GREENLIGHT_DATABASE_URL": f"sqlite+aiosqlite:///{db}"})
    assert res.returncode == 0, res.stderr
    assert db.exists() and "revision" in res.stderr


def test_default_database_is_relative_to_the_working_directory(tmp_path: Path) -> None:
    res = run("migrate", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "greenlight.db").exists()


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    res = run(
        "migrate",
        cwd=tmp_path,
        env={"GREENLIGHT_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
    )
    assert res.returncode == 1
    assert res.stderr.splitlines() == [
        "error: cannot use the database postgresql+asyncpg://nobody@127.0.0.1:1/none: "
        "connection refused: is the database server running, and listening there?"
    ]


def test_classify_jsonl(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[films]]\nid = "romy-and-michele-2"\ntitle = "Romy and Michele 2"\n'
        'aliases = ["Romy and Michele sequel"]\n'
        'originals = ["Romy and Michele\'s High School Reunion"]\n'
    )
    stories = [
        {
            "id": "s1",
            "title": "Romy and Michele sequel is so close to being greenlit",
            "summary": "Lisa Kudrow says the script is really good and a director has been hired, "
            "but it is not officially greenlit yet.",
            "published": "2025-01-15T12:00:00Z",
            "link": "https://x.example/1",
        },
        {
            "id": "s2",
            "title": "Where to stream Romy and Michele's High School Reunion",
            "summary": "The 1997 comedy is on several services.",
            "published": None,
            "link": None,
        },
    ]
    stdin = "\n".join(json.dumps(s) for s in stories) + "\nnot json\n"
    res = run("classify", "--config", str(cfg), cwd=tmp_path, stdin=stdin)
    assert res.returncode == 1  # the bad line is reported, the good ones still answered
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert out[0]["id"] == "s1" and out[0]["film"] == "romy-and-michele-2"
    assert out[0]["status"] == "in_development" and out[0]["evidence"]
    assert 0 < out[0]["confidence"] <= 1
    assert out[1] == {"id": "s2", "film": None, "status": None, "evidence": None, "confidence": 0.0}
    assert out[2]["error"].startswith("line 3") and "stdin line 3" in res.stderr


@pytest.mark.parametrize("entry", [["demo"], ["poll"]])
def test_demo_prints_real_alerts(tmp_path: Path, entry: list[str]) -> None:
    if entry == ["poll"]:
        demo = ROOT / "bot" / "demo" / "config.toml"
        res = run(
            "poll",
            "--config",
            str(demo),
            "--once",
            "--now",
            "2023-01-01T00:00:00Z",
            cwd=tmp_path,
            env={"GREENLIGHT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"},
        )
    else:
        res = run("demo", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    alerts = [json.loads(line) for line in res.stdout.splitlines()]
    moves = [(a["film"], a["from"], a["to"]) for a in alerts]
    assert ("romy-and-michele-2", "rumored", "in_development") in moves
    assert ("romy-and-michele-2", "in_development", "greenlit") not in moves
    assert ("beetlejuice-2", "post_production", "released") in moves
    romy = next(
        a for a in alerts if a["to"] == "in_development" and a["film"] == "romy-and-michele-2"
    )
    assert romy["also_reported_by"] == ["Marquee Wire"]
    assert "?utm_source" not in json.dumps(alerts)
    # Nothing about the original film alone, and the stdout is only JSON lines.
    assert all(a["published"] for a in alerts)


def test_poll_forever_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    """Without --once, poll keeps polling; SIGTERM ends it after the cycle in hand, exit 0."""
    import signal
    import time

    demo = ROOT / "bot" / "demo" / "config.toml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
    env["GREENLIGHT_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'loop.db'}"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "poll",
            "--config",
            str(demo),
            "--now",
            "2023-01-01T00:00:00Z",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the first cycle's first alert: polling is under way
        assert json.loads(first)["film"]
        time.sleep(0.5)
        assert proc.poll() is None, "poll without --once must keep running"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert all(json.loads(line) for line in out.splitlines())


def test_run_takes_its_shards_from_the_command_line(tmp_path: Path) -> None:
    bad = run("run", "--role", "discord", "--shards", "2/2", cwd=tmp_path)
    assert bad.returncode == 2 and "each below the count 2" in bad.stderr
    # Well-formed shards get as far as the token check: one line, exit 1.
    res = run("run", "--role", "discord", "--shards", "1/2", cwd=tmp_path)
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1].startswith("error: no Discord token")
