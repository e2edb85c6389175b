"""Which event loop the long-running commands run on (bot/eventloop.py)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import uvloop  # a dependency on every platform but Windows
from test_cli import run

from bot import eventloop


def test_uvloop_by_default_and_asyncio_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(eventloop.ENV, raising=False)
    loop = eventloop.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    monkeypatch.setenv(eventloop.ENV, "asyncio")
    loop = eventloop.new_event_loop()
    try:
        assert not isinstance(loop, uvloop.Loop) and isinstance(loop, asyncio.BaseEventLoop)
    finally:
        loop.close()


def test_a_bad_choice_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(eventloop.ENV, "tokio")
    with pytest.raises(SystemExit, match="GREENLIGHT_EVENT_LOOP must be 'uvloop' or 'asyncio'"):
        eventloop.new_event_loop()


def test_run_returns_the_coroutines_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(eventloop.ENV, raising=False)

    async def answer() -> str:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__

    assert eventloop.run(answer()).startswith("uvloop")


def test_the_demo_says_the_same_on_either_loop(tmp_path: Path) -> None:
    outputs = {}
    for choice in ("uvloop", "asyncio"):
        cwd = tmp_path / choice
        cwd.mkdir()
        res = run("demo", cwd=cwd, env={eventloop.ENV: choice})
        assert res.returncode == 0, res.stderr
        outputs[choice] = [json.loads(line) for line in res.stdout.splitlines()]
    assert outputs["uvloop"] == outputs["asyncio"]
    assert len(outputs["uvloop"]) >= 10
