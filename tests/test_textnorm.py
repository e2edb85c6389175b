"""Plain-text and canonical-link helpers."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.textnorm import TRACKING_PARAMS, canonical_link, clean_text, html_to_text, truncate

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>One</p><p>Two</p>", "One Two"),
        ("<b>Du</b>ne: Part <i>Three</i>", "Dune: Part Three"),
        ("Tom &amp; Jerry &eacute;t&eacute; &#8212; &#x2019;", "Tom & Jerry été — ’"),
        ("&lt;b&gt;not a tag&lt;/b&gt;", "<b>not a tag</b>"),
        ("<script>alert('x')</script>Safe<style>p { color: red }</style> text", "Safe text"),
        ("<SCRIPT type='text/javascript'>var a = '<p>';</SCRIPT>after", "after"),
        ("before<script>never closed", "before"),
        ("a<!-- hidden <b>comment</b> -->b", "a b"),
        ('<a href="/x?a=1&b=2" title="a > b">link</a> text', "link text"),
        ("line one<br/>line two<br>three", "line one line two three"),
        ("  lots \n\n of \t  space\u00a0here  ", "lots of space here"),
        ("5 < 6 and 7 > 3", "5 < 6 and 7 > 3"),
        ("x<y and z", "x<y and z"),
        ("Read more <a href=\"https://cut.example/mid", "Read more"),
        ("NUL\x00in\x01the\x1fmiddle\x7f", "NULinthemiddle"),
        ("&#0;&#1;ok", "\ufffdok"),
        ("zero\u200bwidth", "zerowidth"),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_html_to_text_none_and_cap() -> None:
    assert html_to_text(None) == ""
    out = html_to_text("<p>" + "word " * 1000 + "</p>", 100)
    assert len(out) <= 100
    assert out.endswith("…")
    assert "  " not in out


def test_clean_text_does_not_touch_markup() -> None:
    # Plain text that happens to contain markup characters is left as written.
    assert clean_text("  A &lt; B <b>  \x00") == "A &lt; B <b>"


def test_truncate_prefers_word_boundary() -> None:
    assert truncate("the quick brown fox jumps", 12) == "the quick…"
    assert truncate("short", 12) == "short"
    assert len(truncate("x" * 50, 10)) == 10


BASE = "https://Films.Example/feeds/news.xml"


@pytest.mark.parametrize(
    ("link", "base", "expected"),
    [
        ("/story/1", BASE, "https://films.example/story/1"),
        ("story/2", BASE, "https://films.example/feeds/story/2"),
        ("../up", BASE, "https://films.example/up"),
        ("//cdn.example/pic", BASE, "https://cdn.example/pic"),
        ("?page=2", BASE, "https://films.example/feeds/news.xml?page=2"),
        ("HTTPS://WWW.Example.COM:443/Path?Q=1#frag", None, "https://www.example.com/Path?Q=1"),
        ("http://example.com:80", None, "http://example.com/"),
        ("http://example.com:8080/x", None, "http://example.com:8080/x"),
        ("https://example.com./a", None, "https://example.com/a"),
        ("https://user:secret@example.com/a", None, "https://example.com/a"),
        (
            "https://ex.com/a?utm_source=rss&id=7&utm_campaign=x&fbclid=1&gclid=2&b=&mc_cid=3"
            "&mc_eid=4&ref=home&ref_src=tw&igshid=5&z=last",
            None,
            "https://ex.com/a?id=7&b=&z=last",
        ),
        ("https://ex.com/a?UTM_Source=x", None, "https://ex.com/a"),
        ("https://ex.com/a?q=a+b&r=%2F", None, "https://ex.com/a?q=a+b&r=%2F"),
        ("https://ex.com/a b/ü", None, "https://ex.com/a%20b/%C3%BC"),
        ("https://ex.com/x?", None, "https://ex.com/x"),
        ("https://[2001:DB8::1]:8443/x", None, "https://[2001:db8::1]:8443/x"),
        ("  https://ex.com/\tsplit\n/path  ", None, "https://ex.com/split/path"),
        ("javascript:alert(1)", BASE, None),
        (" JaVa\tScRiPt:alert(1)", BASE, None),
        ("data:text/html,<b>hi</b>", BASE, None),
        ("file:///etc/passwd", BASE, None),
        ("mailto:tips@films.example", BASE, None),
        ("ftp://films.example/x", None, None),
        ("relative/only", None, None),
        ("http://", None, None),
        ("http://ex.com:99999/", None, None),
        ("http://[::1/", None, None),
        ("http://bad host/", None, None),
        ("", BASE, None),
        (None, BASE, None),
    ],
)
def test_canonical_link(link: str | None, base: str | None, expected: str | None) -> None:
    assert canonical_link(link, base) == expected


def test_tracking_params_cover_the_usual_suspects() -> None:
    assert {"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "ref_src", "igshid"} <= TRACKING_PARAMS


# --- properties -------------------------------------------------------------------------------

_markupish = st.text(
    alphabet=st.sampled_from(list("<>/&;#!-=\"' abcpscript\x00\x01\x1f\x7f\u200b\t\n\u00a0é"))
    | st.characters(),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(_markupish)
def test_html_to_text_properties(s: str) -> None:
    out = html_to_text(s)
    assert not CONTROL.search(out)
    assert out == out.strip()
    assert "  " not in out
    assert "\n" not in out and "\t" not in out
    # Text without markup characters is plain already: html_to_text is clean_text on it.
    if "<" not in s and "&" not in s:
        assert out == clean_text(s)
    assert clean_text(out) == out


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.text(max_size=120))
def test_clean_text_idempotent(s: str, _unused: str) -> None:
    once = clean_text(s, 50)
    assert clean_text(once, 50) == once
    assert len(once) <= 50
    assert not CONTROL.search(once)


_url_parts = st.text(
    alphabet=st.sampled_from(list("abcXYZ019-._~:/?#[]@!$&'()*+,;=% \t\n\x00é<>\"{}|\\^`")),
    max_size=40,
)
_urls = st.one_of(
    _url_parts,
    st.builds(lambda s, h, rest: f"{s}://{h}{rest}",
              st.sampled_from(["http", "https", "HTTP", "javascript", "ftp", "file"]),
              st.sampled_from(["ex.com", "EX.com:80", "[::1]", "a:b@c.d", "ex.com:443", "x"]),
              _url_parts),
    st.text(max_size=60),
)


@settings(max_examples=500, deadline=None)
@given(_urls, st.one_of(st.none(), st.just(BASE), _urls))
def test_canonical_link_properties(link: str, base: str | None) -> None:
    out = canonical_link(link, base)
    if out is None:
        return
    assert out.startswith(("http://", "https://"))
    assert "#" not in out
    assert not CONTROL.search(out)
    assert not re.search(r"\s", out)
    assert not re.search(r"[?&](utm_[^=&]*|fbclid|gclid)(=|&|$)", out, re.I)
    # Canonical means a fixed point, with or without the base it was resolved against.
    assert canonical_link(out) == out
    assert canonical_link(out, base) == out
