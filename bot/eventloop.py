"""The event loop the long-running commands run on: uvloop where it is installed (it is a
dependency everywhere but Windows), asyncio's own otherwise.

uvloop takes about a tenth off an all-304 cycle (a cycle that is little but HTTP round trips
and the loop's own bookkeeping) and shortens the loop's stalls that the Discord gateway
feels. ``GREENLIGHT_EVENT_LOOP=asyncio`` picks the standard loop, e.g. to rule uvloop out
while chasing a bug.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

ENV = "GREENLIGHT_EVENT_LOOP"


def new_event_loop() -> asyncio.AbstractEventLoop:
    choice = os.environ.get(ENV, "").strip().lower()
    if choice not in ("", "uvloop", "asyncio"):
        raise SystemExit(f"error: {ENV} must be 'uvloop' or 'asyncio', not {choice!r}")
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                raise SystemExit(f"error: {ENV}=uvloop but uvloop is not installed") from None
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on :func:`new_event_loop`'s loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
