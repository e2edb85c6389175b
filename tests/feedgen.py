"""Build small RSS documents for tests (imported as ``feedgen``; tests/ is on sys.path)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Item:
    title: str
    summary: str
    published: datetime | None
    link: str | None = None
    guid: str | None = None


def rss(items: list[Item], *, title: str = "Test Outlet") -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>https://outlet.example/</link>",
        "<description>test feed</description>",
    ]
    for it in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(it.title)}</title>")
        if it.link:
            parts.append(f"<link>{escape(it.link)}</link>")
        if it.guid:
            parts.append(f'<guid isPermaLink="false">{escape(it.guid)}</guid>')
        if it.published:
            parts.append(f"<pubDate>{format_datetime(it.published, usegmt=True)}</pubDate>")
        parts.append(f"<description>{escape(it.summary)}</description>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode()
