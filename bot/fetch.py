"""HTTP(S) fetching of feed documents: one shared session, guarded, bounded, never raising.

Every failure comes back as a :class:`FetchResult` whose ``error`` says what went wrong in
words an admin can act on, because ``/feeds status`` shows it as it is. The limits here
(total time, body size, redirect hops, connections) exist because feed URLs are typed in by
strangers: one slow, huge or hostile feed must not stall or exhaust the poller.
"""

from __future__ import annotations

import asyncio
import errno
import http
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from urllib.request import url2pathname

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.config import FetchConfig
from bot.netguard import BlockedAddressError, Guard, GuardedResolver, UnsupportedSchemeError
from bot.types import FetchResult

log = logging.getLogger(__name__)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({404, 410})
_RETRY_AFTER = frozenset({429, 503})
_CHUNK = 64 * 1024
# What we can read, best first. No "br": gzip and deflate are what aiohttp decompresses in
# bounded steps in every version we support, and every feed server speaks them.
_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
_ACCEPT_ENCODING = "gzip, deflate"
# Some news sites send cookies larger than aiohttp's default 8 KiB header line limit.
_MAX_HEADER_FIELD = 32 * 1024

# aiohttp ≥ 3.10 has these; fall back to their bases on older versions.
_DNSError: type[Exception] = getattr(aiohttp, "ClientConnectorDNSError", socket.gaierror)
_ConnectTimeout: type[Exception] = getattr(aiohttp, "ConnectionTimeoutError", TimeoutError)


class _Failure(Exception):
    """Internal: stop the attempt with this message (turned into a FetchResult)."""

    def __init__(self, message: str, *, status: int = 0, permanent: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(slots=True)
class _Attempt:
    """Where one fetch got to, so a timeout can report the URL it was on."""

    url: str
    current: str
    hops: int = 0


class Fetcher:
    """Fetches feed URLs. Use as ``async with Fetcher(cfg) as f: await f.fetch(url)``.

    ``resolver`` replaces aiohttp's DNS resolver (tests pass one that answers 127.0.0.1 for
    ``evil.test``); its answers still go through the guard unless private networks are
    allowed. ``guard`` replaces the address policy built from ``cfg`` (tests only).
    """

    def __init__(
        self,
        cfg: FetchConfig,
        *,
        resolver: AbstractResolver | None = None,
        guard: Guard | None = None,
    ) -> None:
        self._cfg = cfg
        self._resolver = resolver
        self._guard = guard or Guard(allow_private=cfg.allow_private_networks)
        self._session: aiohttp.ClientSession | None = None
        self._owned_resolver: AbstractResolver | None = None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        resolver, self._owned_resolver = self._owned_resolver, None
        if resolver is not None:
            await resolver.close()

    def _get_session(self) -> aiohttp.ClientSession:
        # Created on first use, not in __init__, so it binds to the loop that runs the fetches.
        if self._session is not None and not self._session.closed:
            return self._session
        cfg = self._cfg
        inner = self._resolver
        if inner is None:
            inner = self._owned_resolver = aiohttp.DefaultResolver()
        resolver = inner if self._guard.allow_private else GuardedResolver(inner, self._guard)
        connector = aiohttp.TCPConnector(
            limit=cfg.max_connections,
            limit_per_host=cfg.max_connections_per_host,
            resolver=resolver,
            ttl_dns_cache=60,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # The total deadline is asyncio.timeout() around the whole fetch (all redirect hops
            # and the body), so only the socket connect gets its own, shorter limit here. Not
            # ClientTimeout.connect: that also counts waiting for a free pooled connection.
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=cfg.connect_timeout),
            headers={
                "User-Agent": cfg.user_agent,
                "Accept": _ACCEPT,
                "Accept-Encoding": _ACCEPT_ENCODING,
            },
            # Feeds must not set cookies for each other, and no proxy from the environment
            # may route around the address guard.
            cookie_jar=aiohttp.DummyCookieJar(),
            trust_env=False,
            auto_decompress=True,
            max_field_size=_MAX_HEADER_FIELD,
        )
        return self._session

    async def fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Fetch ``url``; conditional when ``etag``/``last_modified`` from the last 200 are given.

        Never raises for network, HTTP or guard problems: see ``FetchResult.error``.
        """
        started = time.monotonic()
        attempt = _Attempt(url=url, current=url)
        try:
            async with asyncio.timeout(self._cfg.timeout):
                result = await self._fetch(attempt, etag, last_modified)
        except _Failure as f:
            result = FetchResult(
                url=url, final_url=attempt.current, status=f.status, error=_one_line(f.message),
                permanent=f.permanent, retry_after=f.retry_after,
            )
        except TimeoutError:
            result = self._fail(attempt, f"timed out after {self._cfg.timeout:g}s")
        except Exception as e:  # a bug or an exotic failure: report it, never crash the poller
            log.exception("unexpected error fetching %s", url)
            result = self._fail(attempt, _one_line(f"unexpected error: {type(e).__name__}: {e}"))
        return _with_elapsed(result, time.monotonic() - started)

    @staticmethod
    def _fail(attempt: _Attempt, message: str) -> FetchResult:
        return FetchResult(url=attempt.url, final_url=attempt.current, status=0, error=message)

    async def _fetch(
        self, attempt: _Attempt, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        try:
            target = self._guard.check_url(attempt.url, allow_file=self._cfg.allow_file_urls)
        except (UnsupportedSchemeError, BlockedAddressError) as e:
            raise _Failure(str(e), permanent=True) from None
        except ValueError as e:
            raise _Failure(f"invalid URL {attempt.url!r}: {e}", permanent=True) from None
        if target.scheme.lower() == "file":
            return await self._fetch_file(attempt, target, etag, last_modified)

        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        session = self._get_session()
        visited = {str(target)}
        while True:
            try:
                async with session.get(target, headers=headers, allow_redirects=False) as resp:
                    if resp.status in _REDIRECTS:
                        target = self._next_hop(attempt, target, resp, visited)
                        continue
                    return await self._answer(attempt, resp, etag, last_modified)
            except _Failure:
                raise
            except aiohttp.ClientError as e:
                raise self._network_failure(attempt, target, e) from None
            except TimeoutError:
                raise
            except OSError as e:
                raise _Failure(f"network error: {e.strerror or e}") from None
            except ValueError as e:  # yarl/idna: a host that cannot be encoded
                raise _Failure(f"invalid URL {str(target)!r}: {e}", permanent=True) from None

    def _next_hop(
        self, attempt: _Attempt, current: URL, resp: aiohttp.ClientResponse, visited: set[str]
    ) -> URL:
        status = resp.status
        location = resp.headers.get("Location")
        if not location:
            raise _Failure(f"HTTP {status} redirect without a Location header", status=status)
        if attempt.hops >= self._cfg.max_redirects:
            raise _Failure(
                f"too many redirects (more than {self._cfg.max_redirects}); "
                f"last one pointed to {location}",
                status=status,
            )
        try:
            nxt = current.join(URL(location))
        except ValueError:
            raise _Failure(f"redirected to an invalid URL {location!r}", status=status) from None
        try:
            # A redirect never leads to file:, whatever the config says.
            self._guard.check_url(nxt, allow_file=False)
        except (UnsupportedSchemeError, BlockedAddressError) as e:
            raise _Failure(f"redirected to {nxt}: {e}", status=status, permanent=True) from None
        if str(nxt) in visited:
            raise _Failure(f"redirect loop: {nxt} redirects back to itself", status=status)
        visited.add(str(nxt))
        attempt.hops += 1
        attempt.current = str(nxt)
        return nxt

    async def _answer(
        self,
        attempt: _Attempt,
        resp: aiohttp.ClientResponse,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        status = resp.status
        new_etag = resp.headers.get("ETag")
        new_lm = resp.headers.get("Last-Modified")
        if status == 304:
            # Keep the validators we sent when the server does not repeat them.
            return FetchResult(url=attempt.url, final_url=attempt.current, status=304,
                               etag=new_etag or etag, last_modified=new_lm or last_modified)
        if 200 <= status < 300:
            body = await self._read_body(resp)
            return FetchResult(url=attempt.url, final_url=attempt.current, status=status,
                               body=body, etag=new_etag, last_modified=new_lm)
        message = f"HTTP {status} {_reason(resp)}"
        if status in _RETRY_AFTER:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            if retry_after is not None:
                message += f"; retry after {retry_after:g}s"
            raise _Failure(message, status=status, retry_after=retry_after)
        raise _Failure(message, status=status, permanent=status in _PERMANENT)

    async def _read_body(self, resp: aiohttp.ClientResponse) -> bytes:
        cap = self._cfg.max_body_bytes
        too_big = f"feed is larger than {cap} bytes"
        # Content-Length counts compressed bytes; compressed feeds only grow, so over the cap
        # here is over the cap decompressed too, and we need not read a byte of it.
        declared = resp.content_length
        if declared is not None and declared > cap:
            resp.close()
            raise _Failure(f"{too_big} (Content-Length: {declared})", status=resp.status)
        buf = bytearray()
        # Chunks come decompressed, and aiohttp inflates in bounded steps, so a gzip bomb is
        # cut off here after about `cap` bytes, not after it has filled memory.
        async for chunk in resp.content.iter_chunked(_CHUNK):
            buf += chunk
            if len(buf) > cap:
                resp.close()  # drop the connection: the rest of the body is never read
                raise _Failure(too_big, status=resp.status)
        return bytes(buf)

    def _network_failure(self, attempt: _Attempt, url: URL, e: aiohttp.ClientError) -> _Failure:
        host = url.host or "?"
        bracketed = f"[{host}]" if ":" in host else host
        where = f"{bracketed}:{url.port}" if url.port else bracketed
        prefix = f"redirected to {url}: " if attempt.hops else ""
        if isinstance(e, aiohttp.ClientConnectorError):
            os_error = e.os_error
            if isinstance(os_error, BlockedAddressError):
                return _Failure(f"{prefix}{host} resolves to a refused address: {os_error}",
                                permanent=True)
            if isinstance(e, _DNSError) or isinstance(os_error, socket.gaierror):
                why = f" ({os_error.strerror})" if os_error.strerror else ""
                return _Failure(f"{prefix}DNS lookup failed for {host}{why}")
            if isinstance(e, aiohttp.ClientConnectorCertificateError):
                return _Failure(f"{prefix}TLS certificate of {host} is not valid: "
                                f"{e.certificate_error}")
            if isinstance(e, aiohttp.ClientSSLError):
                return _Failure(f"{prefix}TLS handshake with {host} failed: {os_error}")
            if _is_refused(os_error):
                return _Failure(f"{prefix}connection refused by {where}")
            return _Failure(f"{prefix}could not connect to {where}: "
                            f"{os_error.strerror or os_error}")
        if isinstance(e, _ConnectTimeout):
            return _Failure(f"{prefix}connecting to {where} timed out after "
                            f"{self._cfg.connect_timeout:g}s")
        if isinstance(e, aiohttp.ServerDisconnectedError):
            return _Failure(f"{prefix}{host} closed the connection without a complete answer")
        if isinstance(e, aiohttp.ClientPayloadError):
            cause = e.__cause__ or e
            detail = getattr(cause, "message", None) or str(cause)
            return _Failure(f"{prefix}the response body from {host} was cut short or is "
                            f"corrupt: {detail}")
        if isinstance(e, aiohttp.InvalidURL):
            return _Failure(f"invalid URL {str(url)!r}", permanent=True)
        if isinstance(e, aiohttp.ClientResponseError):
            return _Failure(f"{prefix}{host} sent an invalid HTTP response: {e.message}")
        return _Failure(f"{prefix}request to {host} failed: {type(e).__name__}: {e}")

    async def _fetch_file(
        self, attempt: _Attempt, url: URL, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        if url.host not in (None, "", "localhost"):
            raise _Failure(f"file: URL {attempt.url!r} names another machine ({url.host})",
                           permanent=True)
        path = url2pathname(url.raw_path)
        body, file_etag, file_lm = await asyncio.to_thread(
            _read_file, path, self._cfg.max_body_bytes, etag
        )
        if body is None:
            return FetchResult(url=attempt.url, final_url=attempt.current, status=304,
                               etag=file_etag, last_modified=file_lm)
        return FetchResult(url=attempt.url, final_url=attempt.current, status=200, body=body,
                           etag=file_etag, last_modified=file_lm)


def _read_file(path: str, cap: int, etag: str | None) -> tuple[bytes | None, str, str]:
    """Read a local feed file (in a worker thread). Body None means unchanged since ``etag``."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            # mtime and size together change on every rewrite, even within one second.
            file_etag = f'"{st.st_mtime_ns:x}-{st.st_size:x}"'
            file_lm = format_datetime(datetime.fromtimestamp(st.st_mtime, UTC), usegmt=True)
            if etag == file_etag:
                return None, file_etag, file_lm
            if st.st_size > cap:
                raise _Failure(f"feed is larger than {cap} bytes (file size: {st.st_size})")
            data = f.read(cap + 1)
    except FileNotFoundError:
        raise _Failure(f"file not found: {path}") from None
    except IsADirectoryError:
        raise _Failure(f"{path} is a directory, not a feed file", permanent=True) from None
    except PermissionError:
        raise _Failure(f"permission denied reading {path}") from None
    except OSError as e:
        raise _Failure(f"cannot read {path}: {e.strerror or e}") from None
    if len(data) > cap:  # the file grew while we read it
        raise _Failure(f"feed is larger than {cap} bytes")
    return data, file_etag, file_lm


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, round((when - now).total_seconds()))


def _reason(resp: aiohttp.ClientResponse) -> str:
    if resp.reason:
        return resp.reason
    try:
        return http.HTTPStatus(resp.status).phrase
    except ValueError:
        return "(no reason given)"


def _is_refused(e: OSError) -> bool:
    if isinstance(e, ConnectionRefusedError) or e.errno == errno.ECONNREFUSED:
        return True
    # Happy Eyeballs over several addresses folds the errors into one "Multiple exceptions".
    return "Connect call failed" in str(e) and "111" in str(e)


def _one_line(message: str) -> str:
    # Library messages sometimes span lines; /feeds status shows one line per feed.
    return " ".join(message.split())


def _with_elapsed(r: FetchResult, elapsed: float) -> FetchResult:
    return FetchResult(
        url=r.url, final_url=r.final_url, status=r.status, body=r.body, etag=r.etag,
        last_modified=r.last_modified, error=r.error, permanent=r.permanent,
        retry_after=r.retry_after, elapsed=elapsed,
    )
