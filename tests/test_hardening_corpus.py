"""Never-crash sweep: every feed file of feedparser's own test corpus goes through our fetch
(served by a real aiohttp server on 127.0.0.1) → parse → normalise path.

The corpus (about 2,250 documents: well-formed and ill-formed RSS/Atom/RDF/CDF, odd encodings,
compressed bodies, sanitiser torture tests) ships in feedparser's sdist, which is fetched with
pip at test time into pytest's cache. Without PyPI the test is skipped, except in CI, where a
silent skip would hide that the sweep never ran: there it fails.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import re
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC
from pathlib import Path

import pytest
from aiohttp import web
from feedserver import FeedServer

from bot.config import FetchConfig
from bot.fetch import Fetcher
from bot.parse import KEY_MAX, parse_feed
from bot.textnorm import SUMMARY_MAX, TITLE_MAX, canonical_link
from bot.types import ParsedFeed

FEEDPARSER = "feedparser==6.0.14"
SDIST = "feedparser-6.0.14.tar.gz"
# Pinned so the sweep always runs over the same documents (PyPI's published sha256).
SDIST_SHA256 = "088679b0c4b543ee211a820dd544698c76a402122eae7473c04a43425f283d06"
TESTS_PREFIX = "feedparser-6.0.14/tests/"

# Generous bounds: the whole sweep takes a few seconds on 2 cores; these only catch a hang or
# a pathological slowdown, never ordinary machine noise.
PER_FILE_PARSE_SECONDS = 20.0
TOTAL_SECONDS = 240.0
FETCH_TIMEOUT = 30.0

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_HEADER = re.compile(rb"^Header:\s+([^:\r\n]+):[ \t]*([^\r\n]*)$", re.M)


def _cache_dir(config: pytest.Config, tmp_factory: pytest.TempPathFactory) -> Path:
    if env := os.environ.get("GREENLIGHT_TEST_CACHE"):
        path = Path(env) / "feedparser-corpus"
        path.mkdir(parents=True, exist_ok=True)
        return path
    cache = getattr(config, "cache", None)
    if cache is not None:  # absent under -p no:cacheprovider
        return Path(cache.mkdir("feedparser-corpus"))
    return tmp_factory.mktemp("feedparser-corpus")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI=true and the feedparser corpus is unavailable: {reason}")
    pytest.skip(f"feedparser corpus unavailable (needs PyPI, or GREENLIGHT_TEST_CACHE): {reason}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> dict[str, bytes]:
    """``{path inside tests/: bytes}`` of every feed document in the sdist, read from the
    archive (never extracted, so no member path ever touches the file system)."""
    folder = _cache_dir(request.config, tmp_path_factory)
    sdist = folder / SDIST
    if not sdist.exists() or _sha256(sdist) != SDIST_SHA256:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", str(folder), FEEDPARSER]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            _unavailable(f"{' '.join(cmd)} failed: {e}")
        if res.returncode != 0 or not sdist.exists():
            tail = " ".join((res.stderr or res.stdout).split()[-40:])
            _unavailable(f"pip download exited {res.returncode}: {tail}")
    digest = _sha256(sdist)
    if digest != SDIST_SHA256:
        # Not a network problem: the archive is not the one the sweep was written against.
        pytest.fail(f"{sdist} has sha256 {digest}, expected {SDIST_SHA256}")
    docs: dict[str, bytes] = {}
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar:
            name = member.name
            if not member.isfile() or not name.startswith(TESTS_PREFIX):
                continue
            if not name.endswith((".xml", ".gz", ".z")):
                continue
            f = tar.extractfile(member)
            assert f is not None
            docs[name.removeprefix(TESTS_PREFIX)] = f.read()
    assert len(docs) > 2200, f"only {len(docs)} feed documents in {sdist}"
    return docs


def _route(path: str, body: bytes) -> web.Response:
    """The response feedparser's own test server would give: the Content-Type its "Header:"
    comment names, and gzip/deflate encoding for the compression tests. Status and Location
    headers are not replayed: they point at feedparser's fixed test port, not at us."""
    headers: dict[str, str] = {}
    for name, value in _HEADER.findall(body[:2048]):
        if name.strip().lower() == b"content-type":
            headers["Content-Type"] = value.decode("latin-1").strip()
    if path.endswith(".gz"):
        headers["Content-Encoding"] = "gzip"
    elif path.endswith(".z"):
        headers["Content-Encoding"] = "deflate"
    headers.setdefault("Content-Type", "application/xml")
    return web.Response(body=body, headers=headers)


def _timed_parse(body: bytes, url: str) -> tuple[ParsedFeed, float]:
    started = time.monotonic()
    parsed = parse_feed(body, url)
    return parsed, time.monotonic() - started


def _check_entries(name: str, parsed: ParsedFeed) -> None:
    for e in parsed.entries:
        where = f"{name}: entry {e.key!r}"
        assert e.key and len(e.key) <= KEY_MAX, where
        assert not _CONTROL.search(e.title) and not _CONTROL.search(e.summary), where
        assert not _CONTROL.search(e.key) and not _CONTROL.search(e.outlet), where
        assert len(e.title) <= TITLE_MAX and len(e.summary) <= SUMMARY_MAX, where
        if e.link is not None:
            assert e.link.startswith(("http://", "https://")), where
            assert canonical_link(e.link) == e.link, where
        if e.published is not None:
            assert e.published.tzinfo is not None
            assert e.published.utcoffset() == UTC.utcoffset(None), where
    if parsed.title is not None:
        assert not _CONTROL.search(parsed.title), name


async def test_feedparser_corpus_never_crashes(corpus: dict[str, bytes]) -> None:
    started = time.monotonic()
    cfg = FetchConfig(allow_private_networks=True, timeout=FETCH_TIMEOUT, connect_timeout=10.0,
                      max_connections=32, max_connections_per_host=32)
    loop = asyncio.get_running_loop()
    async with FeedServer() as srv, Fetcher(cfg) as fetcher:
        for name, body in corpus.items():
            async def handler(_req: web.Request, name: str = name, body: bytes = body
                              ) -> web.Response:
                return _route(name, body)

            srv.handle("/" + name, handler)

        # Parsing runs in worker processes, as in the poller, so a document that hung the
        # parser would show as a timeout here instead of hanging the test run.
        with ProcessPoolExecutor(
            max_workers=2, mp_context=multiprocessing.get_context("forkserver")
        ) as pool:
            sem = asyncio.Semaphore(32)

            async def one(name: str) -> tuple[str, object, ParsedFeed | None, float]:
                async with sem:
                    fetched = await fetcher.fetch(srv.url("/" + name))
                if fetched.body is None:
                    return name, fetched, None, 0.0
                fut = loop.run_in_executor(pool, _timed_parse, fetched.body, fetched.final_url)
                parsed, seconds = await asyncio.wait_for(fut, PER_FILE_PARSE_SECONDS * 3)
                return name, fetched, parsed, seconds

            async with asyncio.timeout(TOTAL_SECONDS):
                results = await asyncio.gather(*(one(n) for n in sorted(corpus)))

    fetch_failed: list[str] = []
    parse_failed: list[str] = []
    slowest = (0.0, "")
    slowest_fetch = 0.0
    for name, fetched, parsed, seconds in results:
        assert fetched.error is None or fetched.body is None, name  # type: ignore[attr-defined]
        slowest_fetch = max(slowest_fetch, fetched.elapsed)  # type: ignore[attr-defined]
        if parsed is None:
            fetch_failed.append(f"{name}: {fetched.error}")  # type: ignore[attr-defined]
            continue
        assert isinstance(parsed, ParsedFeed)
        slowest = max(slowest, (seconds, name))
        if parsed.error is not None:
            assert parsed.entries == (), name
            parse_failed.append(name)
        _check_entries(name, parsed)
    elapsed = time.monotonic() - started

    assert slowest[0] < PER_FILE_PARSE_SECONDS, f"slowest parse: {slowest}"
    assert slowest_fetch < FETCH_TIMEOUT + 5
    assert elapsed < TOTAL_SECONDS
    # Not crashing is only meaningful if the documents really went through: nearly all of them
    # are fetched and parse into a feed (the exceptions are the deliberately corrupt
    # compressed bodies, the empty documents, CDF and the entity-declaring DOCTYPEs).
    assert len(fetch_failed) <= 10, fetch_failed
    assert len(parse_failed) <= 30, parse_failed
    assert sum(1 for *_, p, _s in results if p is not None and p.entries) > 500
    print(f"\ncorpus sweep: {len(results)} documents in {elapsed:.1f}s; slowest parse "
          f"{slowest[0] * 1000:.0f} ms ({slowest[1]}); slowest fetch {slowest_fetch:.2f}s; "
          f"{len(fetch_failed)} fetch errors, {len(parse_failed)} not feeds")
