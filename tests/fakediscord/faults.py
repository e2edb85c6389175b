"""Fault injection for the fake REST API: "answer the next N matching requests with …".

Each fault matches a method and a route template (as written in ``rest.py``, e.g.
``/channels/{channel_id}/messages``) and optionally some of the route's parameters, and fires
for the next ``times`` matching requests. The answers are shaped like Discord's:

* ``rate_limit``: 429 with ``retry_after`` in the body, ``Retry-After`` and the
  ``X-RateLimit-*`` headers, and a ``Via`` header (discord.py treats a 429 without ``Via`` as
  a Cloudflare ban and does not retry it);
* ``forbidden``: 403 ``{"code": 50013, "message": "Missing Permissions"}``;
* ``not_found``: 404 ``{"code": 10003, "message": "Unknown Channel"}``;
* ``server_error``: 503 by default (discord.py retries 500/502/504/524 itself, 503 it raises);
* ``hang``: hold the request until the fault is released or ``seconds`` pass, so the client's
  own timeout fires. With ``commit=True`` the request takes effect first and only the answer
  is lost, the case a message nonce exists for.
* ``delay``: hold the request until released (or ``seconds``), then answer it normally: a slow
  Discord, for "finish the request in flight" tests.

``after=N`` lets the first N matching requests through untouched before the fault starts.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import payloads


@dataclass(eq=False)
class Fault:
    kind: str
    method: str
    route: str
    params: dict[str, str]
    times: int
    retry_after: float = 0.05
    is_global: bool = False
    status: int = 503
    seconds: float = 3600.0
    commit: bool = False
    after: int = 0
    seen: int = 0
    hits: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def exhausted(self) -> bool:
        return self.hits >= self.times

    def matches(self, method: str, route: str, match_info: dict[str, str]) -> bool:
        if self.exhausted or method != self.method or route != self.route:
            return False
        return all(match_info.get(k) == v for k, v in self.params.items())

    @property
    def holds(self) -> bool:
        return self.kind in ("hang", "delay")

    @property
    def answers(self) -> bool:
        """Whether the fake answers for the handler (else the request is handled normally,
        before the hold for a committed hang, after it for a delay)."""
        return self.kind != "delay" and not (self.kind == "hang" and self.commit)

    def release(self) -> None:
        """End a ``hang`` early (the held request then gets a 503)."""
        self.released.set()

    def end(self) -> None:
        """Stop an open-ended fault (``times`` set high, e.g. "Discord is down until the test
        says otherwise"): later requests pass, requests it holds are released."""
        self.times = self.hits
        self.release()

    def response(self) -> web.Response:
        if self.kind == "rate_limit":
            reset_after = f"{self.retry_after:.3f}"
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, math.ceil(self.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": reset_after,
                "X-RateLimit-Bucket": "fake-bucket-" + self.route.strip("/").replace("/", "-"),
                "X-RateLimit-Scope": "shared" if not self.is_global else "global",
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
            return payloads.response(body, status=429, headers=headers)
        if self.kind == "forbidden":
            return payloads.response(payloads.error(50013, "Missing Permissions"), status=403)
        if self.kind == "not_found":
            return payloads.response(payloads.error(10003, "Unknown Channel"), status=404)
        if self.kind in ("server_error", "hang"):
            return payloads.response(
                payloads.error(0, "503: Service Unavailable"), status=self.status
            )
        raise AssertionError(f"unknown fault kind {self.kind!r}")


class Faults:
    """The active faults and a log of every one that fired."""

    MESSAGES = "/channels/{channel_id}/messages"

    def __init__(self) -> None:
        self.active: list[Fault] = []
        self.fired: list[tuple[Fault, str, str]] = []  # (fault, method, path)

    def add(
        self,
        kind: str,
        *,
        method: str = "POST",
        route: str = MESSAGES,
        times: int = 1,
        **params_and_options: Any,
    ) -> Fault:
        options = {
            k: params_and_options.pop(k)
            for k in ("retry_after", "is_global", "status", "seconds", "commit", "after")
            if k in params_and_options
        }
        params = {k: str(v) for k, v in params_and_options.items()}
        fault = Fault(kind=kind, method=method, route=route, params=params, times=times, **options)
        self.active.append(fault)
        return fault

    # The common ones, with the route defaulting to "send a message".
    def rate_limit(
        self, *, times: int = 1, retry_after: float = 0.05, is_global: bool = False, **match: Any
    ) -> Fault:
        return self.add(
            "rate_limit", times=times, retry_after=retry_after, is_global=is_global, **match
        )

    def forbidden(self, *, times: int = 1, **match: Any) -> Fault:
        return self.add("forbidden", times=times, **match)

    def not_found(self, *, times: int = 1, **match: Any) -> Fault:
        return self.add("not_found", times=times, **match)

    def server_error(self, *, times: int = 1, status: int = 503, **match: Any) -> Fault:
        return self.add("server_error", times=times, status=status, **match)

    def hang(
        self, *, times: int = 1, seconds: float = 3600.0, commit: bool = False, **match: Any
    ) -> Fault:
        return self.add("hang", times=times, seconds=seconds, commit=commit, **match)

    def delay(self, *, times: int = 1, seconds: float = 3600.0, **match: Any) -> Fault:
        return self.add("delay", times=times, seconds=seconds, **match)

    def take(self, method: str, route: str, match_info: dict[str, str], path: str) -> Fault | None:
        for fault in self.active:
            if fault.matches(method, route, match_info):
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                fault.hits += 1
                self.fired.append((fault, method, path))
                return fault
        return None

    def release_all(self) -> None:
        for fault in self.active:
            fault.release()
