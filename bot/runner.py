"""The long-running loops of a process: polling on the configured interval, and the health
server beside it. Used by ``poll``, ``run --role poller`` and the Discord runtime."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.errors import GreenlightError
from bot.service import Greenlight
from bot.types import Alert

log = logging.getLogger(__name__)


def settle_heap() -> None:
    """Move what start-up made (modules, classes, compiled queries: ~10⁵ objects that live as
    long as the process) out of the cyclic collector's sight. Otherwise every full collection
    walks all of them again, ~40 ms at a time, several times a cycle: a fifth of an all-304
    cycle at 1,000 feeds. Only live objects are frozen, and freed by reference counting as
    before; call it once a process is set up, not per cycle."""
    gc.collect()
    gc.freeze()


def seconds_between_cycles(core: Greenlight) -> float:
    # Feeds come due at their own times (backoff, Retry-After); looking a few times per
    # interval keeps a retried feed from waiting a whole interval more.
    return max(1.0, min(60.0, core.config.poll.interval / 4))


async def poll_forever(
    core: Greenlight,
    stop: asyncio.Event,
    *,
    once: bool = False,
    start: datetime | None = None,
    on_alerts: Callable[[Sequence[Alert]], None] | None = None,
) -> None:
    """Poll until ``stop`` is set, finishing the cycle in hand. ``start`` sets the clock
    (``--now``); it then runs on in real time from there."""
    settle_heap()
    began = time.monotonic()
    while True:
        clock = start + timedelta(seconds=time.monotonic() - began) if start else None
        try:
            alerts = await core.poll_once(clock)
        except GreenlightError as e:
            if once:
                raise
            # e.g. another process already polls this SQLite database: say so plainly and
            # keep going (a Discord process still answers and delivers what that one queues).
            log.warning("not polling this round: %s (next try in %.0fs)", e,
                        seconds_between_cycles(core))
            alerts = []
        except Exception:
            if once:
                raise
            # A database hiccup must not end a long-running poller; the next cycle retries.
            log.exception("poll cycle failed; retrying in %.0fs", seconds_between_cycles(core))
            alerts = []
        if on_alerts is not None:
            on_alerts(alerts)
        report = core.last_report
        if report is not None:
            log.info(
                "cycle: %d feeds (%d fetched, %d not modified, %d failed), %d new stories, "
                "%d duplicates, %d alerts",
                report.feeds,
                report.fetched,
                report.not_modified,
                report.failed,
                report.stories_new,
                report.duplicates,
                len(alerts),
            )
        if once or stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds_between_cycles(core))
        if stop.is_set():
            return
