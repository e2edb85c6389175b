"""A real HTTP feed server on 127.0.0.1 for tests and benchmarks, plus a static DNS resolver.

Usage::

    from feedserver import FeedServer, StaticResolver

    async with FeedServer() as srv:
        srv.feed("/films.xml", rss_bytes, etag='"v1"')      # honours If-None-Match → 304
        srv.status("/gone.xml", 410)
        srv.redirect("/old.xml", "/films.xml", status=301)
        srv.redirect_chain("/hop", "/films.xml", hops=3)    # /hop → /hop/1 → /hop/2 → target
        srv.status("/busy", 429, retry_after="120")
        srv.drip("/slow", b"<rss>…", interval=1.0)           # one byte a second
        srv.feed("/z.xml", rss_bytes, gzip=True)             # Content-Encoding: gzip
        srv.huge("/big", 50_000_000)                         # streamed, never held in memory
        srv.gzip_bomb("/bomb", 200_000_000)                  # ~200 KB on the wire
        srv.handle("/custom", my_aiohttp_handler)            # anything else

        url = srv.url("/films.xml")
        ...
        assert srv.hits["/films.xml"] == 2
        assert srv.requests[-1].headers["User-Agent"].startswith("Greenlight")

Registering a path again replaces its behaviour (``srv.feed(path, new_body, etag='"v2"')``
models a feed that changed). Unregistered paths answer 404. Paths are matched exactly,
without the query string.

This module is imported as ``feedserver`` (tests/ is on sys.path under pytest's default
"prepend" import mode; there is no tests/__init__.py).
"""

from __future__ import annotations

import asyncio
import gzip as gzip_module
import socket
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RSS_TYPE = "application/rss+xml; charset=utf-8"
_STREAM_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server received, in arrival order."""

    method: str
    path: str
    query: str
    headers: CIMultiDictProxy[str]


@dataclass(slots=True)
class Route:
    """What one path does. Build these through FeedServer's methods rather than by hand."""

    status: int = 200
    body: bytes = b""
    content_type: str = RSS_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    #: Already-compressed body sent with ``Content-Encoding: gzip``.
    gzipped: bytes | None = None
    #: Seconds between chunks of a slowly written body, and the chunk size.
    drip_interval: float | None = None
    drip_chunk: int = 1
    #: Size of a generated body that is streamed, not held in memory.
    stream_size: int | None = None
    declare_length: bool = True
    #: Seconds to wait before sending anything at all.
    delay: float = 0.0
    handler: Handler | None = None


class FeedServer:
    """An aiohttp server on 127.0.0.1 (a free port) with per-path behaviours.

    ``host`` may be another loopback address (``127.0.0.2`` on Linux) when a test needs two
    servers that the address guard can tell apart.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._port = port
        self.routes: dict[str, Route] = {}
        #: Requests per path, counted on arrival (before any delay or drip).
        self.hits: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # handler_cancellation: a drip whose client hung up stops at once instead of writing
        # into a dead socket until the test ends.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0,
                                     access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port, reuse_address=True)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    def url(self, path: str = "/", *, host: str | None = None) -> str:
        """Absolute URL of ``path``; ``host`` swaps the host name (for StaticResolver names)."""
        return f"http://{host or self.host}:{self._port}{path}"

    def reset_counts(self) -> None:
        self.hits.clear()
        self.requests.clear()

    # --- behaviours -----------------------------------------------------------------------

    def feed(
        self,
        path: str,
        body: bytes,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        content_type: str = RSS_TYPE,
        gzip: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> Route:
        """A 200 with ``body``; 304 when the request's If-None-Match / If-Modified-Since match."""
        route = Route(body=body, etag=etag, last_modified=last_modified,
                      content_type=content_type, headers=dict(headers or {}),
                      gzipped=gzip_module.compress(body) if gzip else None)
        self.routes[path] = route
        return route

    def status(
        self,
        path: str,
        status: int,
        body: bytes = b"",
        *,
        retry_after: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "text/plain",
    ) -> Route:
        """A fixed status, with an optional ``Retry-After`` (seconds or an HTTP date)."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["Retry-After"] = retry_after
        route = Route(status=status, body=body, headers=extra, content_type=content_type)
        self.routes[path] = route
        return route

    def redirect(self, path: str, to: str, *, status: int = 302) -> Route:
        """Redirect ``path`` to ``to`` (a path on this server or any absolute URL)."""
        return self.status(path, status, headers={"Location": to})

    def redirect_chain(self, path: str, to: str, *, hops: int, status: int = 302) -> list[str]:
        """``hops`` redirects: path → path/1 → … → path/{hops-1} → ``to``. Returns the paths."""
        paths = [path] + [f"{path}/{i}" for i in range(1, hops)]
        for here, there in zip(paths, [*paths[1:], to], strict=True):
            self.redirect(here, there, status=status)
        return paths

    def drip(self, path: str, body: bytes, *, interval: float = 1.0, chunk: int = 1) -> Route:
        """Send ``body`` ``chunk`` bytes at a time, ``interval`` seconds apart."""
        route = Route(body=body, drip_interval=interval, drip_chunk=chunk)
        self.routes[path] = route
        return route

    def delay(self, path: str, body: bytes, *, seconds: float) -> Route:
        """Wait ``seconds`` before answering at all (headers included)."""
        route = Route(body=body, delay=seconds)
        self.routes[path] = route
        return route

    def huge(self, path: str, size: int, *, declare_length: bool = True) -> Route:
        """A ``size``-byte body generated while streaming. ``declare_length=False`` sends it
        chunked, so the client cannot refuse it from Content-Length and must count."""
        route = Route(stream_size=size, declare_length=declare_length)
        self.routes[path] = route
        return route

    def gzip_bomb(self, path: str, size: int) -> Route:
        """``size`` zero bytes gzip-compressed (about 1/1000 of that on the wire)."""
        route = Route(gzipped=gzip_zeros(size), content_type="application/rss+xml")
        self.routes[path] = route
        return route

    def handle(self, path: str, handler: Handler) -> Route:
        """Serve ``path`` with an arbitrary aiohttp handler."""
        route = Route(handler=handler)
        self.routes[path] = route
        return route

    # --- serving --------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.hits[request.path] += 1
        self.requests.append(
            RecordedRequest(request.method, request.path, request.query_string, request.headers)
        )
        route = self.routes.get(request.path)
        if route is None:
            return web.Response(status=404, text="no such feed here")
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.handler is not None:
            return await route.handler(request)
        if route.status == 200 and _not_modified(request, route):
            return web.Response(status=304, headers=_validators(route))

        headers = CIMultiDict(route.headers)
        headers.update(_validators(route))
        if route.drip_interval is not None:
            return await _drip(request, route, headers)
        if route.stream_size is not None:
            return await _stream(request, route, headers)
        if route.gzipped is not None:
            headers["Content-Encoding"] = "gzip"
            headers.setdefault("Content-Type", route.content_type)
            return web.Response(status=route.status, body=route.gzipped, headers=headers)
        headers.setdefault("Content-Type", route.content_type)
        return web.Response(status=route.status, body=route.body, headers=headers)


def _validators(route: Route) -> dict[str, str]:
    out: dict[str, str] = {}
    if route.etag:
        out["ETag"] = route.etag
    if route.last_modified:
        out["Last-Modified"] = route.last_modified
    return out


def _not_modified(request: web.Request, route: Route) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None and route.etag:
        wanted = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in wanted or route.etag.removeprefix("W/") in wanted
    ims = request.headers.get("If-Modified-Since")
    if ims and route.last_modified:
        try:
            return parsedate_to_datetime(ims) >= parsedate_to_datetime(route.last_modified)
        except (TypeError, ValueError):
            return False
    return False


async def _drip(
    request: web.Request, route: Route, headers: CIMultiDict[str]
) -> web.StreamResponse:
    resp = web.StreamResponse(status=route.status, headers=headers)
    resp.content_type = route.content_type.split(";")[0]
    resp.content_length = len(route.body)
    await resp.prepare(request)
    step = max(1, route.drip_chunk)
    assert route.drip_interval is not None
    try:
        for i in range(0, len(route.body), step):
            await resp.write(route.body[i : i + step])
            await asyncio.sleep(route.drip_interval)
        await resp.write_eof()
    except (ConnectionError, RuntimeError):
        pass  # the client gave up, which is what drip tests are about
    return resp


async def _stream(
    request: web.Request, route: Route, headers: CIMultiDict[str]
) -> web.StreamResponse:
    assert route.stream_size is not None
    resp = web.StreamResponse(status=route.status, headers=headers)
    resp.content_type = route.content_type.split(";")[0]
    if route.declare_length:
        resp.content_length = route.stream_size
    else:
        resp.enable_chunked_encoding()
    await resp.prepare(request)
    block = b"<!-- filler -->\n" * (_STREAM_CHUNK // 16)
    left = route.stream_size
    try:
        while left > 0:
            await resp.write(block[: min(left, len(block))])
            left -= len(block)
        await resp.write_eof()
    except (ConnectionError, RuntimeError):
        pass
    return resp


def gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes as a gzip member, compressed piecewise so memory stays small."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
    piece = bytes(1 << 20)
    parts: list[bytes] = []
    left = size
    while left > 0:
        parts.append(comp.compress(piece[: min(left, len(piece))]))
        left -= len(piece)
    parts.append(comp.flush())
    return b"".join(parts)


class StaticResolver(AbstractResolver):
    """A DNS resolver with fixed answers, e.g. ``StaticResolver({"evil.test": "127.0.0.1"})``.

    Unknown names fail as a real lookup of a missing name does (``socket.gaierror``), so no
    test ever reaches real DNS. ``lookups`` counts the names asked for.
    """

    def __init__(self, answers: Mapping[str, str | Sequence[str]]) -> None:
        self.answers = {
            name.lower(): (value,) if isinstance(value, str) else tuple(value)
            for name, value in answers.items()
        }
        self.lookups: Counter[str] = Counter()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.lower().rstrip(".")
        self.lookups[name] += 1
        addresses = self.answers.get(name)
        if not addresses:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST | socket.AI_NUMERICSERV,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        pass
