"""How Greenlight looks on Discord: status names and colours, and the embeds for /status,
/history and alerts.

Everything that comes from a feed (story titles, evidence quotes, outlet names) is untrusted
text: it is markdown- and mention-escaped here, and every piece is clipped to Discord's embed
limits, so a story can neither ping a server nor break a message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

import discord
from discord.utils import format_dt

from bot.types import Alert
from bot.views import ChangeView, FeedView, FilmView, StatusView

LABELS: dict[str, str] = {
    "rumored": "Rumored",
    "in_development": "In development",
    "greenlit": "Greenlit",
    "pre_production": "Pre-production",
    "filming": "Filming",
    "post_production": "Post-production",
    "released": "Released",
    "cancelled": "Cancelled",
}

COLOURS: dict[str, int] = {
    "rumored": 0x95A5A6,
    "in_development": 0x3498DB,
    "greenlit": 0x2ECC71,
    "pre_production": 0x1ABC9C,
    "filming": 0xE67E22,
    "post_production": 0x9B59B6,
    "released": 0xF1C40F,
    "cancelled": 0xE74C3C,
}
NO_NEWS_COLOUR = 0x5865F2

# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
EMBED_TOTAL_MAX = 6000
CHOICE_MAX = 100  # autocomplete choice names and values

HISTORY_PAGE = 5


def label(status: str | None) -> str:
    if status is None:
        return "No news yet"
    return LABELS.get(status, status.replace("_", " ").capitalize())


def colour(status: str | None) -> discord.Colour:
    return discord.Colour(COLOURS.get(status or "", NO_NEWS_COLOUR))


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in "…" when cut. A cut never leaves a lone
    backslash at the end (it would escape the ellipsis or whatever follows)."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    while cut.endswith("\\"):
        cut = cut[:-1]
    return cut + "…"


# Every character Discord's markdown gives a meaning to. A backslash before any of them shows
# the character itself. (discord.utils.escape_markdown is not used: in 2.7.1 it stops escaping
# after a URL followed by a backslash, so a crafted headline could still format.)
_MARKDOWN = re.compile(r"([\\*_~|`>\[\]()#<:-])")


# Direction overrides and isolates reorder the text around them (the bot's own words too), so
# a headline could make "Cancelled → Greenlit" read backwards.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _printable(ch: str) -> bool:
    # Controls (C0, C1, DEL) mean nothing in an embed; a lone surrogate is not valid UTF-8,
    # so discord.py's JSON would carry it and Discord refuse the whole message.
    return ch not in _BIDI_CONTROLS and unicodedata.category(ch) not in ("Cc", "Cs")


def safe(text: str | None) -> str:
    """Untrusted text made inert: one line, controls, surrogates and direction overrides
    dropped, every markdown character escaped, and every "@" followed by a zero-width space
    so nothing can become @everyone, @here or a mention."""
    if not text:
        return ""
    flat = " ".join("".join(ch for ch in text if _printable(ch) or ch.isspace()).split())
    return _MARKDOWN.sub(r"\\\1", flat).replace("@", "@\u200b")


def quote(text: str | None, limit: int) -> str:
    body = safe(text)
    return clip(f"> {body}", limit) if body else ""


# What RFC 3986 allows in a URL, unencoded. Anything else (spaces, controls, quotes, "<>",
# non-ASCII) makes Discord reject the whole message, or could end a link early.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def _url(link: str | None) -> str | None:
    """The link when Discord will take it as an embed URL, else None: a well-formed http(s)
    URL with a host, at most 2048 characters. Links with credentials are refused too
    (``https://trusted.example@evil.example`` reads as the wrong site)."""
    if not link or len(link) > 2048 or not link.startswith(("https://", "http://")):
        return None
    if not _URL_CHARS.fullmatch(link):
        return None
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 -- raises ValueError for a port out of range
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    return link


def _in_text(url: str) -> str:
    """A checked URL as written inside message text: an unbalanced ")" would end a markdown
    link early, and an "@everyone" in a path must not read as a mention if the text ever
    reaches a message's content. The encoded forms name the same resource."""
    return url.replace("(", "%28").replace(")", "%29").replace("@", "%40")


def _link(text: str, url: str) -> str:
    return f"[{text}]({_in_text(url)})"


def _outlets(names: Iterable[str]) -> str:
    return ", ".join(n for n in (safe(o) for o in names) if n)


def _when(at: datetime | None, style: str = "D") -> str:
    return format_dt(at, style) if at else "date unknown"  # type: ignore[arg-type]


def _source(change: ChangeView, limit: int) -> str:
    outlet = safe(change.outlet) or "an outlet"
    title = safe(change.title)
    url = _url(change.link)
    text = f"{outlet}: {title}" if title else outlet
    if url:
        # Leave room for the link itself; the visible text is what gets clipped. A link too
        # long to fit beside a readable text is left out rather than cut (or overflowing).
        target_len = len(_link("", url))
        if limit - target_len >= 20:
            return _link(clip(text, limit - target_len), url)
    return clip(text, limit)


def _arrow(change: ChangeView) -> str:
    if change.from_status is None:
        return f"first report: {label(change.to_status)}"
    return f"{label(change.from_status)} → {label(change.to_status)}"


def fit(embed: discord.Embed) -> discord.Embed:
    """Shorten the description until the whole embed is within Discord's 6000 characters."""
    excess = len(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - excess))
    return embed


# --- /status ---------------------------------------------------------------------------------


def status_embed(view: StatusView) -> discord.Embed:
    film = view.film
    embed = discord.Embed(title=clip(safe(film.title), TITLE_MAX), colour=colour(view.status))
    if view.status is None:
        embed.description = (
            "**Watched, but no news yet.** Nothing in the feeds has said where this film "
            "stands. Subscribed channels get an alert as soon as something does."
        )
    else:
        since = f" since {_when(view.since)} ({_when(view.since, 'R')})" if view.since else ""
        embed.description = f"**{label(view.status)}**{since}"
    current = view.current
    if current is not None:
        if evidence := quote(current.evidence, FIELD_VALUE_MAX):
            embed.add_field(name="Evidence", value=evidence, inline=False)
        source = _source(current, FIELD_VALUE_MAX - 40)
        if also := _outlets(current.also_reported_by):
            source = clip(f"{source}\nAlso reported by {also}", FIELD_VALUE_MAX)
        embed.add_field(name="Source", value=source, inline=False)
    if view.recent:
        lines = [
            f"{_when(c.at, 'd')} · {_arrow(c)} · {safe(c.outlet) or 'unknown outlet'}"
            for c in view.recent
        ]
        embed.add_field(
            name="Recent changes", value=clip("\n".join(lines), FIELD_VALUE_MAX), inline=False
        )
    embed.set_footer(text=clip(f"{film.key} · /history {film.key} shows every change", FOOTER_MAX))
    return fit(embed)


# --- /history --------------------------------------------------------------------------------


def history_pages(film: FilmView, changes: Sequence[ChangeView]) -> list[discord.Embed]:
    """The film's timeline, oldest first, ``HISTORY_PAGE`` changes per embed."""
    title = clip(f"{safe(film.title)}: history", TITLE_MAX)
    if not changes:
        return [
            discord.Embed(
                title=title,
                colour=colour(None),
                description="No changes recorded yet: the feeds have not reported on this film.",
            )
        ]
    pages: list[discord.Embed] = []
    count = (len(changes) + HISTORY_PAGE - 1) // HISTORY_PAGE
    for n in range(count):
        chunk = changes[n * HISTORY_PAGE : (n + 1) * HISTORY_PAGE]
        embed = discord.Embed(title=title, colour=colour(chunk[-1].to_status))
        for c in chunk:
            parts = [quote(c.evidence, 400)]
            parts.append(_source(c, 300))
            if also := _outlets(c.also_reported_by):
                parts.append(clip("Also reported by " + also, 200))
            if not c.alerted:
                parts.append("*(recorded without an alert: older or backward news)*")
            embed.add_field(
                name=clip(f"{_when(c.at, 'D')} · {_arrow(c)}", FIELD_NAME_MAX),
                value=clip("\n".join(p for p in parts if p), FIELD_VALUE_MAX),
                inline=False,
            )
        embed.set_footer(text=f"Page {n + 1} of {count} · {len(changes)} change(s), oldest first")
        pages.append(fit(embed))
    return pages


# --- alerts ----------------------------------------------------------------------------------


def alert_embed(alert: Alert) -> discord.Embed:
    if alert.from_status is None:
        headline = f"**{label(alert.to_status)}** (first report)"
    else:
        headline = f"**{label(alert.from_status)} → {label(alert.to_status)}**"
    parts = [headline]
    if evidence := quote(alert.evidence, 1500):
        parts.append(evidence)
    if story := safe(alert.title):
        parts.append(clip(story, 500))
    embed = discord.Embed(
        title=clip(safe(alert.film_title) or alert.film, TITLE_MAX),
        url=_url(alert.link),
        description=clip("\n\n".join(parts), DESCRIPTION_MAX),
        colour=colour(alert.to_status),
        timestamp=alert.published,
    )
    embed.add_field(name="Outlet", value=clip(safe(alert.outlet) or "unknown", FIELD_VALUE_MAX))
    embed.add_field(name="Published", value=_when(alert.published, "f"))
    if (link := _url(alert.link)) and len(story := _link("Read it", link)) <= FIELD_VALUE_MAX:
        # A link too long for a field is not cut (that breaks it): the title still links.
        embed.add_field(name="Story", value=story)
    if also := _outlets(alert.also_reported_by):
        embed.add_field(name="Also reported by", value=clip(also, FIELD_VALUE_MAX), inline=False)
    embed.set_footer(text=clip(f"Greenlight · {alert.film} · /status {alert.film}", FOOTER_MAX))
    return fit(embed)


# --- admin lists -----------------------------------------------------------------------------


def film_line(f: FilmView) -> str:
    aliases = f" (also: {', '.join(safe(a) for a in f.aliases)})" if f.aliases else ""
    origin = " · from the bot's config" if f.shared else ""
    return f"`{f.key}` **{safe(f.title)}**{aliases} · {label(f.status)}{origin}"


def feed_line(f: FeedView, *, detail: bool = False) -> str:
    name = safe(f.name) or "unnamed"
    url = _url(f.url)
    # <…> keeps Discord from unfurling a preview; a URL that is not well formed is shown as
    # inert text instead.
    line = f"`{f.id}` **{name}** " + (f"<{_in_text(url)}>" if url else safe(f.url))
    if f.shared:
        line += " · from the bot's config"
    if not detail:
        return line
    polled = _when(f.last_polled_at, "R") if f.last_polled_at else "never polled yet"
    state = (
        f"disabled: {safe(f.disabled_reason)}"
        if f.disabled_reason
        else (f"failing ({f.failure_count}×): {safe(f.last_error)}" if f.last_error else "OK")
    )
    return f"{line}\n  last polled {polled} · {f.stories} stories · {state}"


def paginate_lines(lines: Sequence[str], limit: int = DESCRIPTION_MAX) -> list[str]:
    """Join lines into as few blocks of at most ``limit`` characters as possible."""
    pages: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pages.append(current)
            current = line
        else:
            current = candidate
    if current:
        pages.append(current)
    return pages
