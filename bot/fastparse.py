"""A fast path for the common feed: well-formed UTF-8 RSS 2.0, read with lxml.

feedparser is the parser of record, and it is slow: ~40 ms for a 220 KB, 50-item feed even
without its sanitiser, against ~2 ms for lxml. Most feeds in the wild are plain WordPress-style
RSS 2.0, and for those :func:`extract` reproduces exactly the fields :mod:`bot.parse` reads from
feedparser's result (title and its detail type, link, id, summary and its detail, content,
published_parsed) by applying feedparser's own rules, using its own helpers where they
exist, so that dates, HTML detection and link fixing cannot drift.

Anything this module is not sure about is *declined* (``None``) and goes to feedparser: other
formats (Atom, RSS 1.0/0.9x), other encodings, a DOCTYPE, ``xml:base``, a document lxml finds
malformed (feedparser's loose parser copes with those), an element it does not know inside an
item or the channel, markup or attributes where text is expected, a field given twice. The
differential test (tests/test_parse_differential.py) holds it to producing the same
``ParsedFeed`` as feedparser on all of feedparser's own test corpus and our fixtures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    from feedparser.datetimes import _parse_date
    from feedparser.html import _cp1252
    from feedparser.mixin import _FeedParserMixin
    from feedparser.urls import _urljoin
    from lxml import etree

    _looks_like_html: Callable[[str], bool] | None = _FeedParserMixin.looks_like_html
except ImportError:  # no lxml, or feedparser moved its internals: feedparser does it all
    _looks_like_html = None

_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_MEDIA = "{http://search.yahoo.com/mrss/}"
_ATOM = "{http://www.w3.org/2005/Atom}"
_SY = "{http://purl.org/rss/1.0/modules/syndication/}"

# Item children feedparser stores somewhere other than the fields we read (author, tags,
# comments, enclosures, media); they may appear any number of times but must be leaves.
_ITEM_IGNORED = frozenset({
    "category", "author", "comments", "enclosure",
    f"{_DC}creator", f"{_DC}subject",
    f"{_MEDIA}content", f"{_MEDIA}thumbnail",
    "{http://wellformedweb.org/CommentAPI/}commentRss",
    "{http://purl.org/rss/1.0/modules/slash/}comments",
})
_ITEM_FIELDS = frozenset({"title", "link", "guid", "description", "pubDate", f"{_CONTENT}encoded"})
# Channel children that cannot reach the feed title or the entries. image and textInput have
# titles of their own, which feedparser keeps in their own context.
_CHANNEL_IGNORED = frozenset({
    "link", "description", "language", "copyright", "managingEditor", "webMaster", "pubDate",
    "lastBuildDate", "category", "generator", "docs", "cloud", "ttl", "rating", "skipHours",
    "skipDays", "image", "textInput", f"{_ATOM}link",
    f"{_SY}updatePeriod", f"{_SY}updateFrequency", f"{_SY}updateBase",
})
_NESTED_OK = frozenset({"image", "textInput", "skipHours", "skipDays"})

_XML_DECL = re.compile(rb"^<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_BOM = b"\xef\xbb\xbf"
_C1 = re.compile("[\x80-\x9f]")


class _Decline(Exception):
    """Not a document the fast path is sure about: let feedparser read it."""


@dataclass(frozen=True, slots=True)
class Extracted:
    """The parts of a feedparser result that bot.parse reads, in the same shapes."""

    version: str
    feed: dict[str, Any]
    entries: list[dict[str, Any]]


def available() -> bool:
    return _looks_like_html is not None


def _make_parser() -> Any:
    # No entity expansion, no DTD or network access: the same refusals as bot.parse's own
    # entity check, enforced by the parser too.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=False, recover=False,
    )


_parser: Any = None


def extract(body: bytes) -> Extracted | None:
    """The feedparser-equivalent fields of ``body``, or None when feedparser must read it."""
    if _looks_like_html is None:
        return None
    try:
        return _extract(body)
    except (_Decline, etree.LxmlError, ValueError):
        return None


def _extract(body: bytes) -> Extracted:
    global _parser
    head = body[3:200] if body.startswith(_BOM) else body[:200]
    m = _XML_DECL.match(head)
    if m is not None and m[1].lower() not in (b"utf-8", b"utf8"):
        raise _Decline  # feedparser's encoding detection is its own business
    if b"xml:base" in body:
        raise _Decline  # relative links would resolve against it
    if _parser is None:
        _parser = _make_parser()
    root = etree.fromstring(body, _parser)
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _Decline
    if root.tag != "rss" or root.get("version") != "2.0" or len(root.attrib) > 1:
        raise _Decline
    channels = list(root)
    if len(channels) != 1 or channels[0].tag != "channel" or channels[0].attrib:
        raise _Decline
    channel = channels[0]
    feed: dict[str, Any] = {}
    entries: list[dict[str, Any]] = []
    for child in channel:
        tag = child.tag
        if tag == "item":
            if child.attrib:
                raise _Decline
            entries.append(_item(child))
        elif tag == "title":
            if "title" in feed:
                raise _Decline
            text = _leaf_text(child)
            feed["title"], kind = _plain_or_html(text)
            feed["title_detail"] = {"type": kind}
        elif tag in _CHANNEL_IGNORED:
            _check_ignored(child, nested=tag in _NESTED_OK)
        else:
            raise _Decline  # comments, PIs and unknown elements alike
    return Extracted(version="rss20", feed=feed, entries=entries)


def _check_ignored(el: Any, *, nested: bool) -> None:
    for sub in el:
        if not nested or not isinstance(sub.tag, str) or "{" in sub.tag or len(sub):
            raise _Decline


def _leaf_text(el: Any) -> str:
    """An element's text as feedparser's pop() has it before storing (strict parser, UTF-8,
    no xml:base), refusing elements with markup or attributes where text belongs."""
    if len(el) or el.attrib:
        raise _Decline
    return (el.text or "").strip()


def _finish(output: str) -> str:
    """The last steps of feedparser's pop(): undo UTF-8 read as Latin-1, map C1 controls to
    their cp1252 characters."""
    try:
        output = output.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        pass
    # translate() with a dict costs a lookup per character (9 ms a feed); it can only change
    # the C1 range, which real text almost never has.
    return output.translate(_cp1252) if _C1.search(output) else output


def _plain_or_html(text: str) -> tuple[str, str]:
    # RSS titles are nominally plain text; feedparser calls them HTML when they look like it,
    # judged before the encoding fix-up, as it does.
    assert _looks_like_html is not None
    kind = "text/html" if _looks_like_html(text) else "text/plain"
    return _finish(text), kind


def _item(item: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    seen: set[str] = set()
    for child in item:
        tag = child.tag
        if tag in _ITEM_FIELDS:
            if tag in seen:
                raise _Decline  # which copy wins depends on feedparser's depth bookkeeping
            seen.add(tag)
        elif tag in _ITEM_IGNORED:
            if len(child):
                raise _Decline  # media:content may carry a media:title, which is a title
            continue
        else:
            raise _Decline
        if tag == "guid":
            if len(child):
                raise _Decline
            permalink = "true"
            for name, value in child.attrib.items():
                if name.lower() != "ispermalink":
                    raise _Decline
                permalink = value
            text = (child.text or "").strip()
            is_link = permalink == "true"
            if is_link and text:
                text = _urljoin("", text)
            value = _finish(text)
            raw["id"] = value
            if is_link:
                raw.setdefault("link", value)
            continue
        text = _leaf_text(child)
        if tag == "title":
            raw["title"], kind = _plain_or_html(text)
            raw["title_detail"] = {"type": kind}
        elif tag == "link":
            value = _finish(_urljoin("", text) if text else text)
            # feedparser's fix for query strings it took for character references.
            value = value.replace("&amp;", "&")
            raw["link"] = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", value)
        elif tag == "description":
            raw["summary"] = _finish(text)
            raw["summary_detail"] = {"type": "text/html"}
        elif tag == "pubDate":
            raw["published_parsed"] = _parse_date(_finish(text))
        else:  # content:encoded: HTML content, copied to the summary when there is none
            value = _finish(text)
            raw["content"] = [{"type": "text/html", "value": value}]
            raw.setdefault("summary", value)
    return raw
