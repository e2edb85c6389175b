"""The lxml fast path (bot/fastparse.py) against feedparser, the parser of record.

On every feed of feedparser's own test corpus (~2,240 files shipped in its sdist) and on our
fixtures, ``parse_feed`` must give the same ParsedFeed whether the fast path reads the document
or feedparser does. The fast path may decline any document (feedparser then reads it), but
when it accepts one it must not differ by a character.

The corpus is fetched at test time with pip (``pip download --no-binary :all:`` of the
installed feedparser version) into a cache directory (``GREENLIGHT_CORPUS_CACHE``, default
``~/.cache/greenlight-test``). Without it the test is skipped with a warning, except under
``CI``, where a missing corpus is a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import warnings
from importlib.metadata import version
from pathlib import Path

import pytest

from bot import fastparse
from bot.parse import parse_feed

HERE = Path(__file__).parent
ROOT = HERE.parent
BASE = "http://example.com/feeds/feed.xml"
#: The corpus has ~260 RSS 2.0 documents the fast path takes; far fewer would mean it has
#: started declining what it should read, and the comparison would prove little.
MIN_FAST = 200

pytestmark = pytest.mark.skipif(not fastparse.available(), reason="lxml is not installed")


def _cache_dir() -> Path:
    env = os.environ.get("GREENLIGHT_CORPUS_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "greenlight-test"


def _corpus() -> list[Path]:
    ver = version("feedparser")
    root = _cache_dir() / f"feedparser-{ver}"
    tests = root / f"feedparser-{ver}" / "tests"
    if not tests.is_dir():
        root.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-q", f"feedparser=={ver}", "-d", str(root)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        sdists = sorted(root.glob(f"feedparser-{ver}.tar.gz"))
        if proc.returncode != 0 or not sdists:
            why = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no sdist"]
            message = (f"COULD NOT DOWNLOAD feedparser {ver}'s sdist (its test corpus) with pip: "
                       f"{why[0]} — the fast-path differential test did NOT run")
            if os.environ.get("CI"):
                pytest.fail(message)
            warnings.warn(message, stacklevel=1)
            pytest.skip(message)
        with tarfile.open(sdists[0]) as tar:
            members = [m for m in tar.getmembers() if "/tests/" in m.name and m.isfile()]
            tar.extractall(root, members=members, filter="data")
    return sorted(tests.rglob("*.xml"))


def _same(body: bytes, where: str) -> bool:
    """Assert equality when the fast path accepts; return whether it did."""
    if fastparse.extract(body) is None:
        return False
    fast = parse_feed(body, BASE)
    slow = parse_feed(body, BASE, use_fast=False)
    assert fast == slow, f"fast path differs from feedparser on {where}"
    return True


def test_fast_path_matches_feedparser_on_its_own_corpus() -> None:
    files = _corpus()
    assert len(files) > 2000, f"expected feedparser's ~2,240 corpus files, found {len(files)}"
    accepted = 0
    for path in files:
        accepted += _same(path.read_bytes(), str(path.relative_to(path.parents[2])))
    assert accepted >= MIN_FAST, f"the fast path took only {accepted} of {len(files)} feeds"


def test_fast_path_matches_feedparser_on_our_fixtures() -> None:
    paths = [*(HERE / "data" / "feeds").iterdir(), *(ROOT / "bot" / "demo" / "feeds").iterdir()]
    accepted = sum(_same(p.read_bytes(), p.name) for p in sorted(paths) if p.is_file())
    assert accepted >= 3  # the demo feeds and the RSS 2.0 fixture


def test_fast_path_matches_feedparser_on_bench_feeds() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # bench/ is not an installed package
    from bench.generate import render_feed

    for feed in range(12):
        body = render_feed(feed, feed % 3)
        assert _same(body, f"bench feed {feed}")


@pytest.mark.parametrize(
    "body",
    [
        # Titles that look like HTML, entities, CDATA, permalink guids without a link, a link
        # with a query string feedparser "fixes", C1 controls and mojibake it repairs.
        b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        b"<title>A &amp;amp; B</title><item><title>&lt;b&gt;Dune&lt;/b&gt; Part 3</title>"
        b"<guid>http:///example.com/a</guid><description><![CDATA[<p>x</p>]]></description>"
        b"</item><item><title>Caf\xc3\x83\xc2\xa9 \xc2\x93quoted\xc2\x94</title>"
        b"<link>https://e.example/a?x=1&amp;amp;y=2&amp;copy;</link>"
        b'<guid isPermaLink="false">k1</guid><pubDate>Tue, 10 Jun 2003 04:00:00 GMT</pubDate>'
        b"</item></channel></rss>",
        # No description: the summary comes from content:encoded.
        b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        b"<title>T</title><item><title>x</title><content:encoded>&lt;p&gt;Body&lt;/p&gt;"
        b"</content:encoded><guid isPermaLink='TRUE'>g</guid></item></channel></rss>",
    ],
)
def test_fast_path_matches_feedparser_on_quirks(body: bytes) -> None:
    assert _same(body, "quirk")


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel/></rss>',
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title></feed>',
        b'<rss version="2.0"><channel><item><title>a</title><title>b</title></item>'
        b"</channel></rss>",
        b'<rss version="2.0"><channel><item><title>a <b>b</b></title></item></channel></rss>',
        b'<rss version="2.0"><channel xml:base="http://a/"><item/></channel></rss>',
        b'<rss version="2.0"><channel><item><x:y xmlns:x="u">1</x:y></item></channel></rss>',
        b'<rss version="2.0"><channel><item><title>unclosed</item></channel></rss>',
    ],
)
def test_fast_path_declines_what_it_is_not_sure_about(body: bytes) -> None:
    assert fastparse.extract(body) is None
