"""``/healthz`` and ``/metrics`` over HTTP, one small server per process."""

from __future__ import annotations

import time

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot.service import Greenlight


class HealthServer:
    def __init__(self, core: Greenlight, role: str, host: str, port: int) -> None:
        self.core = core
        self.role = role
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self.started = time.time()

    async def start(self) -> int:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server  # the bound port, when 0 asked the OS to pick one
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        problems: list[str] = []
        try:
            async with self.core.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as e:  # any database failure makes the process unhealthy
            problems.append(f"database: {type(e).__name__}: {e}".splitlines()[0])
        last = self.core.metrics.last_cycle._value.get()  # 0 until the first cycle
        if self.role in ("all", "poller"):
            stale_after = 3 * self.core.config.poll.interval + 60
            since = time.time() - (last or self.started)
            if since > stale_after:
                problems.append(f"no poll cycle finished for {since:.0f}s")
        body = {
            "status": "ok" if not problems else "unhealthy",
            "role": self.role,
            "problems": problems,
            "last_poll_cycle": last or None,
        }
        return web.json_response(body, status=200 if not problems else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        data = generate_latest(self.core.metrics.registry)
        return web.Response(body=data, headers={"Content-Type": CONTENT_TYPE_LATEST})
