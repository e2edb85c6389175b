"""Plain-text and link normalisation for feed entries.

These run on every entry of every poll, so they are regular expressions compiled once, not an
HTML parser: feed summaries are small fragments, and all we want from them is readable text
for the classifier and for alert embeds. Everything here is pure and never raises.
"""

from __future__ import annotations

import html
import ipaddress
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

# Elements whose content is never prose. An unclosed one swallows the rest of the fragment,
# as it would in a browser. No "<" inside the opening tag, for the reason given at _ATTRS.
_HIDDEN = re.compile(
    r"<(script|style|noscript|template|iframe|object|svg|math|head|title)\b[^<>]*+>.*?"
    r"(?:</\1\s*>|\Z)",
    re.I | re.S,
)
# Comments, CDATA sections, doctype/declarations, processing instructions.
_MARKUP_DECL = re.compile(
    r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)|<![^>]*>?|<\?.*?(?:\?>|>|\Z)", re.S
)
# Tags that separate words are replaced by a space so "<p>One</p><p>Two</p>" does not read
# "OneTwo"; every other tag (b, i, a, span…) vanishes without a trace so "<b>Du</b>ne" stays
# one word. One pass over all tags with a small callback beats two passes by a third. Quoted
# attribute values may contain ">". No part of a tag may contain "<" and the quantifiers are
# possessive, so a tag that never closes is given up at the next "<": with backtracking to the
# end of the text from every "<", a 300 KB summary of "<a x<a x…" took many minutes.
_ATTRS = r"""(?:[^<>"']|"[^"<]*+"|'[^'<]*+')*+"""
_TAG = re.compile(r"</?([a-zA-Z][a-zA-Z0-9:-]*+)" + _ATTRS + ">")
_BLOCK_TAGS = frozenset(
    "p br hr div li ul ol dl dt dd h1 h2 h3 h4 h5 h6 tr td th table thead tbody tfoot "
    "blockquote pre section article aside header footer nav figure figcaption img caption "
    "address main form fieldset legend option center details summary".split()
)


def _tag_replacement(m: re.Match[str]) -> str:
    return " " if m.group(1).lower() in _BLOCK_TAGS else ""


# A tag cut off by the end of the fragment (summaries are often truncated mid-link). Only a
# bare tag name or one with an attribute counts, so prose like "x <y and z" is left alone.
_TRAILING_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*+(?:\s[^<>=]*+=[^<>]*+)?\Z")
# C0/C1 controls (tab, newline and carriage return are whitespace and folded below), lone
# surrogates (not encodable as UTF-8) and the two noncharacters XML forbids. PostgreSQL rejects
# NUL in text outright.
_CONTROL_CHARS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
_CONTROL = re.compile(f"[{_CONTROL_CHARS}]")
# The same plus zero-width characters, which only hide words from the classifier.
_INVISIBLE = re.compile(f"[{_CONTROL_CHARS}\u200b\u2060\ufeff]")

TITLE_MAX = 500
SUMMARY_MAX = 5000


def clean_text(s: str | None, max_len: int | None = None) -> str:
    """Plain text tidied for storage: no control characters, whitespace folded, capped.

    No tag stripping and no entity decoding: use it on text that is already plain. Capping
    cuts at a word boundary when one is near and marks the cut with an ellipsis.
    """
    if not s:
        return ""
    # split/join folds whitespace several times faster than re.sub(r"\s+", " ", s).
    s = " ".join(_INVISIBLE.sub("", s).split())
    if max_len is not None and len(s) > max_len:
        s = truncate(s, max_len)
    return s


def truncate(s: str, max_len: int) -> str:
    """``s`` cut to at most ``max_len`` characters, at a word boundary when one is close."""
    if len(s) <= max_len:
        return s
    if max_len <= 1:
        return s[:max_len]
    cut = s[: max_len - 1]
    space = cut.rfind(" ")
    if space >= max_len * 3 // 4:
        cut = cut[:space]
    return cut.rstrip() + "…"


def html_to_text(s: str | None, max_len: int | None = None) -> str:
    """Readable plain text from an HTML fragment.

    Drops script/style (and similar) element contents, comments and every tag; decodes
    entities once, after the tags are gone, so ``&lt;b&gt;`` survives as the text ``<b>``;
    strips control characters; folds whitespace to single spaces.
    """
    if not s:
        return ""
    if "<" in s:
        s = _HIDDEN.sub(" ", s)
        s = _MARKUP_DECL.sub(" ", s)
        s = _TAG.sub(_tag_replacement, s)
        last = s.rfind("<")
        if last != -1 and _TRAILING_TAG.match(s, last):
            s = s[:last]
    if "&" in s:
        s = html.unescape(s)
    return clean_text(s, max_len)


# --- links ------------------------------------------------------------------------------------

#: Query parameters that only say who sent the reader; dropping them lets the same story
#: linked from a newsletter and from a feed dedupe to one link.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "li_fat_id", "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "igshid",
        "igsh", "_hsenc", "_hsmi", "__hstc", "__hssc", "__hsfp", "hsctatracking", "mkt_tok",
        "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "wickedid", "rb_clickid",
        "s_cid", "cmpid", "ncid", "sr_share", "spm", "at_medium", "at_campaign", "ito",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "ga_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters kept as they are in a path or query; everything else is percent-encoded. "%" is
# kept so an already-encoded link is not encoded twice (canonical_link stays idempotent).
_PATH_SAFE = "/%:@!$&'()*+,;=~-._"
_QUERY_SAFE = "/%:@!$&'()*+,;=~-._?"
_BAD_HOST_CHARS = re.compile(r"""[\s<>"'`{}|\\^/?#@\[\]%:]""")
_URL_WS = re.compile(r"[\t\n\r]")


def canonical_link(url: str | None, base: str | None = None) -> str | None:
    """The canonical absolute http(s) form of a link, or None when there is none.

    ``base`` is the URL the feed was finally fetched from, for relative links. Only http and
    https survive (``javascript:``, ``data:``, ``file:``… give None). The scheme and host are
    lowercased, default ports, credentials and the fragment dropped, tracking parameters
    removed; the remaining query parameters keep their order and spelling.
    """
    if not url:
        return None
    # Browsers ignore tabs and newlines anywhere in a URL and spaces around it.
    url = _CONTROL.sub("", _URL_WS.sub("", url)).strip()
    if not url:
        return None
    try:
        if base:
            base = _CONTROL.sub("", _URL_WS.sub("", base)).strip()
            url = urljoin(base, url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return None
        host = _canonical_host(parts.hostname)  # hostname: lowercased, no credentials
        if host is None:
            return None
        port = parts.port
    except ValueError:  # bad port, unbalanced brackets, invalid IPv6 literal
        return None
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = quote(parts.path, safe=_PATH_SAFE) or "/"
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _canonical_host(host: str | None) -> str | None:
    if not host:
        return None
    if ":" in host:  # only an IPv6 literal has colons once the port is split off
        try:
            return f"[{ipaddress.IPv6Address(host)}]"
        except ValueError:
            return None
    if _BAD_HOST_CHARS.search(host):
        return None
    return host.rstrip(".") or None


def _clean_query(query: str) -> str:
    if not query:
        return ""
    kept: list[str] = []
    for piece in query.split("&"):
        if not piece:
            continue
        name = piece.split("=", 1)[0].lower()
        if name in TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
            continue
        kept.append(quote(piece, safe=_QUERY_SAFE))
    return "&".join(kept)
