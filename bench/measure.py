"""What the benchmark measures around one cycle: wall and CPU time of the whole process tree,
event-loop lag, and the peak resident memory of every process of the system under test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import psutil

TICK = 0.010


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


class LoopLag:
    """A 10 ms ticker on the running loop; each tick records how late it woke up."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._stop = False

    async def _run(self) -> None:
        while not self._stop:
            start = time.perf_counter()
            await asyncio.sleep(TICK)
            self.lags.append(max(0.0, time.perf_counter() - start - TICK))

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        self._stop = True
        if self._task is not None:
            await self._task

    def summary(self) -> dict[str, float]:
        ms = [lag * 1000 for lag in self.lags]
        return {
            "lag_p50_ms": round(percentile(ms, 50), 2),
            "lag_p99_ms": round(percentile(ms, 99), 2),
            "lag_max_ms": round(max(ms, default=0.0), 2),
            "ticks": len(ms),
        }


def _tree() -> list[psutil.Process]:
    me = psutil.Process(os.getpid())
    try:
        return [me, *me.children(recursive=True)]
    except psutil.Error:
        return [me]


def _hwm_bytes(pid: int) -> int:
    """The kernel's own peak RSS of a process (VmHWM), so a spike between samples counts."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class MemorySampler:
    """Samples the RSS of this process and all its descendants (pool workers, the forkserver)
    every 20 ms; keeps the peak of the sum and each process's own peak."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_total = 0
        self.peak_by_pid: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        total = 0
        for p in _tree():
            try:
                rss = p.memory_info().rss
            except psutil.Error:
                continue
            total += rss
            if rss > self.peak_by_pid.get(p.pid, 0):
                self.peak_by_pid[p.pid] = rss
        self.peak_total = max(self.peak_total, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> MemorySampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        me = os.getpid()
        for p in _tree():
            # VmHWM catches a spike of one process between two samples.
            self.peak_by_pid[p.pid] = max(self.peak_by_pid.get(p.pid, 0), _hwm_bytes(p.pid))
        self.peak_by_pid[me] = max(self.peak_by_pid.get(me, 0), _hwm_bytes(me))

    def summary(self) -> dict[str, float]:
        me = os.getpid()
        main = self.peak_by_pid.get(me, 0)
        others = [v for pid, v in self.peak_by_pid.items() if pid != me]
        return {
            "rss_main_mb": round(main / 2**20, 1),
            "rss_workers_max_mb": round(max(others, default=0) / 2**20, 1),
            "rss_workers_sum_mb": round(sum(others) / 2**20, 1),
            "rss_total_peak_mb": round(self.peak_total / 2**20, 1),
            "processes": 1 + len(others),
        }


def cpu_seconds() -> float:
    """User + system CPU of this process and its live descendants (pool workers stay alive
    across a cycle, so their counters cover it), plus reaped children."""
    total = 0.0
    for p in _tree():
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
        if p.pid == os.getpid():
            total += t.children_user + t.children_system
    return total


@dataclass
class Cycle:
    name: str
    figures: dict[str, Any] = field(default_factory=dict)


def keep_median(cycles: list[Cycle], name: str) -> None:
    """Replace the runs of cycle ``name`` by the one with the median wall time, which keeps
    every run's wall time in ``samples_wall_s``. For cycles a fifth of a second long, where
    one sample says more about what else the machine did in that moment than about us."""
    runs = [c for c in cycles if c.name == name]
    if not runs:
        return
    ordered = sorted(runs, key=lambda c: c.figures["wall_s"])
    median = ordered[(len(ordered) - 1) // 2]
    median.figures["samples_wall_s"] = [c.figures["wall_s"] for c in runs]
    cycles[:] = [c for c in cycles if c.name != name or c is median]


@contextlib.asynccontextmanager
async def measured_async(cycle: Cycle, *, lag: bool = True) -> AsyncIterator[Cycle]:
    ticker = LoopLag()
    if lag:
        ticker.start()
    # Let the ticker take its first tick before the work starts.
    await asyncio.sleep(0)
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    try:
        yield cycle
    finally:
        wall = time.perf_counter() - t0
        cpu = cpu_seconds() - cpu0
        await ticker.stop()
        cycle.figures["wall_s"] = round(wall, 3)
        cycle.figures["cpu_s"] = round(cpu, 3)
        if lag:
            cycle.figures.update(ticker.summary())


@contextlib.contextmanager
def measured_sync(cycle: Cycle) -> Iterator[Cycle]:
    cpu0 = cpu_seconds()
    t0 = time.perf_counter()
    try:
        yield cycle
    finally:
        cycle.figures["wall_s"] = round(time.perf_counter() - t0, 3)
        cycle.figures["cpu_s"] = round(cpu_seconds() - cpu0, 3)
