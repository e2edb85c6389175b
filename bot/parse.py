"""Feed bytes → :class:`ParsedFeed`: plain-text, UTC, canonical-link entries.

:func:`parse_feed` is pure and module-level so the poller can run it in a process pool:
feedparser is CPU-bound and slow (tens of milliseconds for a large feed), and the event loop
must keep fetching while it runs.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import feedparser
from feedparser.encodings import convert_to_utf8
from feedparser.util import FeedParserDict

from bot import fastparse
from bot.textnorm import (
    SUMMARY_MAX,
    TITLE_MAX,
    canonical_link,
    clean_text,
    html_to_text,
    truncate,
)
from bot.types import Entry, ParsedFeed

#: Longest guid kept as it is; longer ones are hashed so keys stay index-friendly.
KEY_MAX = 512
OUTLET_MAX = 200
#: HTML longer than this is cut before tag stripping: the summary is capped at SUMMARY_MAX
#: characters of text anyway, and a megabyte of markup per entry would only cost time.
_HTML_INPUT_MAX = 64 * SUMMARY_MAX
#: Dates outside this window are typos, placeholders (1970-01-01) or clock errors; treating
#: them as real would pin an entry to the top or bottom of every timeline.
_EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = 2 * 86400

# A DOCTYPE with an internal subset that declares entities. No real feed needs one, and
# expat would expand them (billion laughs) or, for external entities, try to read files.
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_ENTITY = re.compile(rb"<!ENTITY", re.I)
_HTML_SNIFF = re.compile(rb"<!DOCTYPE\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.I)
_FEED_SNIFF = re.compile(rb"<(?:rss|feed|rdf:RDF)[\s>]", re.I)
_EXPAT_MESSAGE = re.compile(r"^<unknown>:\d+:\d+: (.+)$")


def parse_feed(
    body: bytes, url: str, outlet: str | None = None, *, use_fast: bool = True
) -> ParsedFeed:
    """Parse one fetched feed document.

    ``url`` is the URL the document was finally fetched from: relative links resolve against
    it and it names the outlet when neither ``outlet`` nor the feed's title does. Never
    raises: a document that is not a usable feed gives a ParsedFeed with ``error`` set.
    ``use_fast=False`` reads it with feedparser even when :mod:`bot.fastparse` could (the
    differential test compares the two).
    """
    try:
        return _parse(body, url, outlet, use_fast)
    except Exception as e:  # feedparser raises on some small inputs instead of setting bozo
        return ParsedFeed(title=None, error=f"could not parse the feed: {type(e).__name__}: {e}")


def _parse(body: bytes, url: str, outlet: str | None, use_fast: bool) -> ParsedFeed:
    if not body or body.isspace():
        return ParsedFeed(title=None, error="not an RSS/Atom feed: the document is empty")
    if declares_entities(body):
        return ParsedFeed(
            title=None,
            error="refused: the document declares XML entities (<!ENTITY …>), which feeds "
            "never need and which entity-expansion and XXE attacks rely on",
        )
    warnings: list[str] = []
    fast = fastparse.extract(body) if use_fast else None
    if fast is not None:
        # Well-formed UTF-8 RSS 2.0: the same fields feedparser would give, in ~1/10 the time.
        feed: Mapping[str, Any] = fast.feed
        raw_entries: list[dict[str, Any]] = fast.entries
    else:
        # feedparser treats a str as a URL or file name and opens it; only ever hand it bytes.
        d = feedparser.parse(io.BytesIO(body), sanitize_html=False, resolve_relative_uris=False)
        version = d.get("version") or ""
        raw_entries = d.get("entries") or []
        if not version and not raw_entries:
            return ParsedFeed(title=None, error=_not_a_feed(body, d))
        if d.get("bozo"):
            exc = d.get("bozo_exception")
            # An encoding override is routine (the server and the document disagree) and the
            # text came out fine; a syntax error means the forgiving parser had to guess.
            if exc is not None and not isinstance(exc, feedparser.CharacterEncodingOverride):
                warnings.append(f"feed has XML errors ({_describe(exc)}); parsed leniently")
        feed = d.get("feed") or {}

    feed_title = _text_of(feed, "title", OUTLET_MAX) or None
    source = (
        clean_text(outlet, OUTLET_MAX) if outlet else None
    ) or feed_title or _host_of(url) or url
    now = time.time()

    entries: list[Entry] = []
    seen: set[str] = set()
    skipped = 0
    for raw in raw_entries:
        entry = _entry(raw, url, source, now)
        if entry is None:
            skipped += 1
            continue
        if entry.key in seen:
            # The same guid twice in one document: keep the first (feeds list newest first).
            continue
        seen.add(entry.key)
        entries.append(entry)
    if skipped:
        warnings.append(f"{skipped} entries had no title, link, id or text and were skipped")
    return ParsedFeed(title=feed_title, entries=tuple(entries), warnings=tuple(warnings))


def declares_entities(body: bytes) -> bool:
    """True when the document has a DOCTYPE that declares entities."""
    if _declares_entities(body):
        return True
    # feedparser transcodes the document to UTF-8 before expat reads it, and in EBCDIC (cp037,
    # cp500…) or UTF-7 the markers are not ASCII bytes, so look again at what expat will see.
    try:
        converted = convert_to_utf8({}, body, FeedParserDict())
    except Exception:  # the parse that follows fails the same way and reports it
        return False
    return converted != body and _declares_entities(converted)


def _declares_entities(body: bytes) -> bool:
    sample = body
    if b"\x00" in body[:4]:
        # UTF-16/32 put NULs between the ASCII bytes of the markup; dropping them exposes the
        # markers in any byte order, with or without a BOM.
        sample = body.replace(b"\x00", b"")
    m = _DOCTYPE.search(sample)
    return m is not None and _ENTITY.search(sample, m.end()) is not None


def _not_a_feed(body: bytes, d: Mapping[str, Any]) -> str:
    head = body[:4096]
    if _HTML_SNIFF.search(head) and not _FEED_SNIFF.search(head):
        return "not an RSS/Atom feed: looks like an HTML page"
    stripped = head.lstrip()
    if stripped[:1] in (b"{", b"["):
        return "not an RSS/Atom feed: looks like JSON (JSON Feed is not supported)"
    if b"<" not in head:
        return "not an RSS/Atom feed: the document has no XML markup"
    if d.get("bozo") and d.get("bozo_exception") is not None:
        return f"not an RSS/Atom feed: {_describe(d['bozo_exception'])}"
    return "not an RSS/Atom feed: no <rss>, <feed> or <rdf:RDF> document found"


def _describe(exc: BaseException) -> str:
    text = clean_text(str(exc), 200)
    # expat says "<unknown>:LINE:COL: what"; the position is in feedparser's rewritten copy
    # of the document (it may add a declaration line), so it would mislead.
    m = _EXPAT_MESSAGE.match(text)
    return (m[1] if m else text) or type(exc).__name__


def _entry(raw: dict[str, Any], base: str, outlet: str, now: float) -> Entry | None:
    title = _text_of(raw, "title", TITLE_MAX)
    summary = _summary(raw)
    link = canonical_link(raw.get("link"), base)
    published = _date(raw, now)
    guid = clean_text(raw.get("id"))
    if guid:
        key = guid if len(guid) <= KEY_MAX else "sha1:" + _sha1(guid)
    elif link:
        key = link
    elif title or summary:
        stamp = published.isoformat() if published else clean_text(
            dict.get(raw, "published") or dict.get(raw, "updated")
        )
        # Title and date identify a story; the summary stands in only when there is no title.
        key = "sha1:" + _sha1(f"{title or summary}\n{stamp}")
    else:
        return None
    if not title:
        # Untitled items exist (micro-posts); show the start of the text instead of nothing.
        title = truncate(summary, 120) if summary else (link or "")
    return Entry(key=key, link=link, title=title, summary=summary, published=published,
                 outlet=outlet)


def _text_of(obj: Mapping[str, Any], name: str, max_len: int) -> str:
    value = obj.get(name)
    if not value or not isinstance(value, str):
        return ""
    # No detail happens when feedparser copied the value from elsewhere (an Atom entry's
    # summary from its content): markup is then the safer guess.
    detail = obj.get(f"{name}_detail") or {}
    if "html" in (detail.get("type") or "text/html"):
        return html_to_text(value[:_HTML_INPUT_MAX], max_len)
    return clean_text(value[:_HTML_INPUT_MAX], max_len)


def _summary(raw: Mapping[str, Any]) -> str:
    text = _text_of(raw, "summary", SUMMARY_MAX)
    if text:
        return text
    for content in raw.get("content") or ():
        value = content.get("value")
        if not value:
            continue
        if "html" in (content.get("type") or "html"):
            text = html_to_text(value[:_HTML_INPUT_MAX], SUMMARY_MAX)
        else:
            text = clean_text(value[:_HTML_INPUT_MAX], SUMMARY_MAX)
        if text:
            return text
    return ""


def _date(raw: dict[str, Any], now: float) -> datetime | None:
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: FeedParserDict.get maps a missing "updated" to "published" with a warning.
        st = dict.get(raw, name)
        if st is None:
            continue
        try:
            # feedparser's struct_times are UTC; timegm reads them as such and also folds
            # out-of-range fields (a leap second, hour 24) into a real moment.
            seconds = calendar.timegm(st)
            if seconds > now + _FUTURE_SLACK:
                continue
            dt = datetime.fromtimestamp(seconds, UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            continue
        if dt >= _EARLIEST:
            return dt
    return None


def _host_of(url: str) -> str | None:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if host and host.startswith("www."):
        host = host[4:]
    return host or None


def _sha1(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8", "replace")).hexdigest()
