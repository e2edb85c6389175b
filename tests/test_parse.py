"""parse_feed: RSS 2.0 / Atom / RSS 1.0 to plain-text, UTC, canonical-link entries."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parse import declares_entities, parse_feed
from bot.textnorm import SUMMARY_MAX, TITLE_MAX
from bot.types import ParsedFeed

FEEDS = Path(__file__).parent / "data" / "feeds"
FEED_URL = "https://reel-rumour.example/feeds/all.xml"


def fixture(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def rss(items: str, *, title: str = "Test Reel") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://t.example/</link>{items}</channel></rss>"
    ).encode()


# --- the three formats --------------------------------------------------------------------------


def test_rss20() -> None:
    feed = parse_feed(fixture("rss20.xml"), FEED_URL)
    assert feed.error is None
    assert feed.title == "Reel & Rumour"
    assert len(feed.entries) == 4
    first, second, js, undated = feed.entries

    assert first.key == "reel-rumour-2025-0142"
    # Host lowercased, default port, fragment and utm_* gone; the real parameter kept.
    assert first.link == "https://reel-rumour.example/news/reunion-sequel?id=42"
    # HTML in the title is markup, not text.
    assert first.title == "Sequel to 1997 reunion comedy is so close to a green light"
    assert first.summary == (
        "The two stars say the script, by the original writer, is really good. "
        "A director is attached. It is not officially greenlit."
    )
    assert "trackReader" not in first.summary
    assert first.published == datetime(2025, 1, 14, 15, 30, tzinfo=UTC)
    assert first.outlet == "Reel & Rumour"

    # No guid: the canonical link is the key; the relative link resolves against the feed URL.
    assert second.link == "https://reel-rumour.example/news/space-western-wraps?page=2"
    assert second.key == second.link
    assert second.published == datetime(2025, 1, 13, 9, 0, tzinfo=UTC)

    assert js.link is None  # javascript: dropped
    assert js.key == "reel-rumour-2025-0140"

    assert undated.published is None
    assert undated.link is None
    assert undated.key.startswith("sha1:")


def test_atom() -> None:
    feed = parse_feed(fixture("atom.xml"), "https://cutting-room.example/feed.atom")
    assert feed.error is None
    assert feed.title == "The Cutting Room"  # type="html" title
    heist, musical = feed.entries
    assert heist.key == "tag:cutting-room.example,2025:heist-greenlit"
    # Relative to xml:base, and ref= is tracking.
    assert heist.link == "https://cutting-room.example/blog/posts/heist-greenlit?lang=en"
    # type="text" keeps the ampersand as text.
    assert heist.title == "Heist thriller gets the go-ahead & a summer shoot"
    # No summary: the content is used, as text.
    assert heist.summary == "The studio has officially greenlit the heist thriller."
    # published wins over updated, and its -05:00 offset lands in UTC.
    assert heist.published == datetime(2025, 2, 1, 4, 15, tzinfo=UTC)
    assert heist.published.tzinfo is UTC
    assert musical.title == "Musical shelved"  # xhtml title
    assert musical.published == datetime(2025, 1, 20, 8, 0, tzinfo=UTC)


def test_rss10() -> None:
    feed = parse_feed(fixture("rss10.xml"), "https://old-reel.example/rss")
    assert feed.error is None
    assert feed.title == "Old Reel Weekly"
    (entry,) = feed.entries
    assert entry.link == "https://old-reel.example/2025/01/noir-casting"
    assert entry.title == "Noir remake begins casting"
    assert entry.published == datetime(2025, 1, 10, 15, 0, tzinfo=UTC)


def test_empty_but_valid_feed_is_not_an_error() -> None:
    feed = parse_feed(fixture("empty.xml"), "https://quiet.example/rss")
    assert feed.error is None
    assert feed.entries == ()
    assert feed.title == "Quiet Week at the Studio"


# --- outlet --------------------------------------------------------------------------------------


def test_outlet_argument_wins() -> None:
    feed = parse_feed(fixture("rss20.xml"), FEED_URL, outlet="  Reel Rumour (EU)  ")
    assert {e.outlet for e in feed.entries} == {"Reel Rumour (EU)"}


def test_outlet_falls_back_to_host() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x</title>'
        b"<link>https://a.example/1</link></item></channel></rss>"
    )
    feed = parse_feed(body, "https://www.untitled.example/rss")
    assert feed.title is None
    assert feed.entries[0].outlet == "untitled.example"


# --- not feeds and hostile feeds ----------------------------------------------------------------


def test_html_page_is_not_a_feed() -> None:
    feed = parse_feed(fixture("page.html"), FEED_URL)
    assert feed.error == "not an RSS/Atom feed: looks like an HTML page"
    assert feed.entries == ()


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n\t ",
        b"\x00\x01\x02garbage\xff",
        b"<",
        b"Just some words.",
        b"<?xml version='1.0'?>",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": []}',
        b"<notafeed><x/></notafeed>",
    ],
)
def test_non_feeds_give_an_error(body: bytes) -> None:
    feed = parse_feed(body, FEED_URL)
    assert feed.error is not None
    assert feed.error.startswith("not an RSS/Atom feed")
    assert feed.entries == ()


def test_a_body_that_looks_like_a_path_or_url_is_not_opened() -> None:
    # feedparser opens a *str* as a file or URL; parse_feed must only hand it bytes.
    for body in (b"/etc/passwd", b"http://127.0.0.1:1/feed", b"file:///etc/hostname"):
        feed = parse_feed(body, FEED_URL)
        assert feed.error is not None and feed.entries == ()


@pytest.mark.parametrize("name", ["entities.xml", "xxe.xml"])
def test_entity_declarations_are_refused(name: str) -> None:
    feed = parse_feed(fixture(name), FEED_URL)
    assert feed.error is not None
    assert "<!ENTITY" in feed.error
    assert feed.entries == ()


def test_entity_declarations_in_utf16_are_refused() -> None:
    body = fixture("xxe.xml").decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    for encoded in (body.encode("utf-16"), body.encode("utf-16-be"), body.encode("utf-32")):
        assert declares_entities(encoded)
        assert parse_feed(encoded, FEED_URL).error is not None


def test_harmless_doctype_is_fine() -> None:
    body = fixture("rss20.xml").replace(
        b'<rss version="2.0"',
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="2.0"',
    )
    feed = parse_feed(body, FEED_URL)
    assert feed.error is None
    assert len(feed.entries) == 4


# --- entry normalisation ------------------------------------------------------------------------


def test_nul_and_control_characters_are_stripped() -> None:
    body = rss(
        "<item><title>Dune\x00 Part\x01 Three</title><link>https://t.example/d\x00une</link>"
        "<description>Shooting\x00 starts &#0; soon</description><guid>g\x001</guid></item>"
    )
    feed = parse_feed(body, FEED_URL)
    assert feed.error is None
    (entry,) = feed.entries
    for value in (entry.title, entry.summary, entry.key, entry.link or ""):
        assert "\x00" not in value and "\x01" not in value
    assert entry.title == "Dune Part Three"


def test_missing_dates_and_absurd_dates() -> None:
    dates = [
        "",
        "<pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate>",
        "<pubDate>Sat, 01 Jan 2222 00:00:00 GMT</pubDate>",
        "<pubDate>the day after tomorrow</pubDate>",
    ]
    body = rss("".join(f"<item><title>t{i}</title><guid>{i}</guid>{d}</item>"
                       for i, d in enumerate(dates)))
    feed = parse_feed(body, FEED_URL)
    assert [e.published for e in feed.entries] == [None, None, None, None]


def test_updated_used_when_published_missing() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        b"<entry><id>x</id><title>T</title><updated>2025-03-01T10:00:00+02:00</updated></entry></feed>"
    )
    (entry,) = parse_feed(body, FEED_URL).entries
    assert entry.published == datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def test_length_caps() -> None:
    body = rss(f"<item><title>{'Long title ' * 200}</title><description>{'word ' * 5000}"
               "</description><guid>long</guid></item>")
    (entry,) = parse_feed(body, FEED_URL).entries
    assert len(entry.title) <= TITLE_MAX
    assert len(entry.summary) <= SUMMARY_MAX


def test_hash_key_is_stable_and_distinct() -> None:
    items = (
        "<item><title>Same story</title><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>"
        "<item><title>Other story</title><pubDate>Mon, 06 Jan 2025 10:00:00 GMT</pubDate></item>"
    )
    a = parse_feed(rss(items), FEED_URL)
    b = parse_feed(rss(items, title="Renamed"), "https://elsewhere.example/rss")
    assert [e.key for e in a.entries] == [e.key for e in b.entries]
    assert a.entries[0].key != a.entries[1].key


def test_duplicate_guids_in_one_document_keep_the_first() -> None:
    items = (
        "<item><title>New</title><guid>same</guid></item>"
        "<item><title>Old</title><guid>same</guid></item>"
    )
    feed = parse_feed(rss(items), FEED_URL)
    assert [e.title for e in feed.entries] == ["New"]


def test_empty_items_are_skipped_with_a_warning() -> None:
    feed = parse_feed(rss("<item></item><item><title>Real</title></item>"), FEED_URL)
    assert [e.title for e in feed.entries] == ["Real"]
    assert any("skipped" in w for w in feed.warnings)


def test_title_falls_back_to_summary() -> None:
    (entry,) = parse_feed(rss("<item><description>A short post.</description></item>"),
                          FEED_URL).entries
    assert entry.title == "A short post."


def test_malformed_feed_parses_leniently_with_a_warning() -> None:
    body = rss("<item><title>Broken & unescaped</title><link>https://t.example/b</link></item>")
    feed = parse_feed(body, FEED_URL)
    assert feed.error is None
    assert feed.entries[0].title == "Broken & unescaped"
    assert feed.warnings and "XML errors" in feed.warnings[0]


def test_very_long_guid_is_hashed() -> None:
    (entry,) = parse_feed(rss(f"<item><title>t</title><guid>{'g' * 2000}</guid></item>"),
                          FEED_URL).entries
    assert entry.key.startswith("sha1:")


# --- process pool ----------------------------------------------------------------------------


def test_result_pickles_and_runs_in_a_process_pool() -> None:
    body = fixture("rss20.xml")
    local = parse_feed(body, FEED_URL)
    assert pickle.loads(pickle.dumps(local)) == local
    with ProcessPoolExecutor(max_workers=1) as pool:
        remote = pool.submit(parse_feed, body, FEED_URL).result(timeout=60)
    assert isinstance(remote, ParsedFeed)
    assert remote == local


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400) | st.text(max_size=300).map(lambda s: rss(f"<item>{s}</item>")))
def test_parse_never_raises(body: bytes) -> None:
    feed = parse_feed(body, FEED_URL)
    assert isinstance(feed, ParsedFeed)
    assert (feed.error is None) or feed.entries == ()
