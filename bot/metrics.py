"""Prometheus metrics for one process, on a registry of its own (so several cores in one
test process never collide)."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.feeds_polled = Counter(
            "greenlight_feeds_polled", "Feed polls by outcome.", ["result"], registry=r
        )
        self.stories = Counter("greenlight_stories_stored", "New stories stored.", registry=r)
        self.changes = Counter(
            "greenlight_status_changes", "Status changes accepted as alerts.", registry=r
        )
        self.alerts_queued = Counter(
            "greenlight_alerts_queued", "Outbox rows queued for delivery.", registry=r
        )
        self.alerts_sent = Counter("greenlight_alerts_sent", "Alerts delivered.", registry=r)
        self.alerts_failed = Counter(
            "greenlight_alert_failures", "Delivery attempts that failed.", ["kind"], registry=r
        )
        self.cycle_seconds = Histogram(
            "greenlight_poll_cycle_seconds",
            "Wall time of one poll cycle.",
            registry=r,
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
        )
        self.loop_lag = Histogram(
            "greenlight_event_loop_lag_seconds",
            "How late the event loop ran a 0.5 s tick.",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )
        self.last_cycle = Gauge(
            "greenlight_last_poll_cycle_timestamp",
            "Unix time of the last finished poll cycle.",
            registry=r,
        )

    async def watch_loop_lag(self, period: float = 0.5) -> None:
        """Run forever: a tick that wakes late means the loop was busy — the figure that tells
        whether the Discord gateway's heartbeats are at risk."""
        while True:
            start = time.perf_counter()
            await asyncio.sleep(period)
            self.loop_lag.observe(max(0.0, time.perf_counter() - start - period))
