"""``run --role poller`` needs no Discord token, polls on its own, and serves /healthz and
/metrics beside it; SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from feedgen import Item, rss
from feedserver import FeedServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_poller_role_health_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    async with FeedServer() as srv:
        srv.feed(
            "/a.xml",
            rss([Item("Box office", "Flat weekend.", datetime(2025, 1, 1, tzinfo=UTC), guid="1")]),
        )
        config = tmp_path / "greenlight.toml"
        config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "h.db"}"\n'
            "[fetch]\nallow_private_networks = true\n"
            f"[health]\nport = {port}\n[poll]\ninterval = 60\nparse_workers = 1\n"
            f'[[feeds]]\nurl = "{srv.url("/a.xml")}"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--role",
            "poller",
            "--config",
            str(config),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            health: dict[str, object] = {}
            metrics = ""
            async with aiohttp.ClientSession() as http:
                for _ in range(900):  # at most ~90 s for start-up and the first cycle (busy CI)
                    try:
                        async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                            health = await resp.json()
                        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
                            metrics = await resp.text()
                    except aiohttp.ClientConnectionError:
                        pass
                    if 'greenlight_feeds_polled_total{result="fetched"} 1.0' in metrics:
                        break
                    await asyncio.sleep(0.1)
            assert health.get("status") == "ok" and health.get("role") == "poller", health
            assert 'greenlight_feeds_polled_total{result="fetched"} 1.0' in metrics
            assert "greenlight_stories_stored_total 1.0" in metrics
            assert "greenlight_event_loop_lag_seconds_bucket" in metrics
            assert srv.hits["/a.xml"] == 1
            proc.send_signal(signal.SIGTERM)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.returncode == 0, err.decode()
        assert b"Traceback" not in err


async def test_second_poller_on_sqlite_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "greenlight.toml"
    config.write_text(
        f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "one.db"}"\n[poll]\ninterval = 60\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
    first = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "poll",
        "--config",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        lock = tmp_path / "one.db.poller.lock"
        for _ in range(300):
            if lock.exists() and lock.read_text().strip():
                break
            await asyncio.sleep(0.1)
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "poll",
            "--once",
            "--config",
            str(config),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        _, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1
        text = err.decode()
        assert f"another poller (pid {first.pid})" in text and "PostgreSQL" in text
        assert "Traceback" not in text
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.communicate(), 30)
