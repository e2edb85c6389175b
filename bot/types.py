"""Plain data types passed between the layers (fetch → parse → store → classify → track).

Nothing here knows about SQL, HTTP or Discord, so every layer can be tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Status = Literal[
    "rumored",
    "in_development",
    "greenlit",
    "pre_production",
    "filming",
    "post_production",
    "released",
    "cancelled",
]

#: Forward order of production; ``cancelled`` stands outside it (see DESIGN.md).
STAGES: tuple[str, ...] = (
    "rumored",
    "in_development",
    "greenlit",
    "pre_production",
    "filming",
    "post_production",
    "released",
)
LABELS: tuple[str, ...] = (*STAGES, "cancelled")


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one fetch of one feed URL produced.

    ``body`` is None when the server answered 304 or the fetch failed; ``error`` is a
    human-readable reason when it failed (``None`` on success and on 304).
    """

    url: str
    final_url: str
    status: int  # HTTP status; 0 when no HTTP answer was had (DNS, refused, timeout, guard)
    body: bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    #: True when the error will not go away by retrying (404, 410, not a feed, refused address).
    permanent: bool = False
    retry_after: float | None = None  # seconds, from a 429/503 Retry-After header
    elapsed: float = 0.0

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry, normalised to plain text and UTC."""

    key: str  # guid, else canonical link, else hash of title+date
    link: str | None  # canonical absolute http(s) link, or None
    title: str
    summary: str
    published: datetime | None  # timezone-aware UTC, None when the feed gave no usable date
    outlet: str


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A parsed feed. ``error`` is set when the document is not a usable feed at all."""

    title: str | None
    entries: tuple[Entry, ...] = ()
    error: str | None = None
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class FilmRef:
    """What the classifier needs to know about one watched film."""

    id: str
    title: str
    aliases: tuple[str, ...] = ()
    #: Titles of the earlier film(s) this one follows; a story about only those is not news
    #: about this film.
    originals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Signal:
    """One classifier finding: this story says this film is at this stage."""

    film: str
    status: str
    evidence: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Alert:
    """An accepted status change, as printed by ``poll`` and rendered by the Discord side."""

    film: str
    film_title: str
    from_status: str | None
    to_status: str
    link: str | None
    title: str
    evidence: str
    published: datetime | None
    outlet: str
    also_reported_by: tuple[str, ...] = ()
    event_id: int = 0

    def to_json(self) -> dict[str, object]:
        """The exact shape of DESIGN.md's ``poll`` output line."""
        return {
            "film": self.film,
            "from": self.from_status,
            "to": self.to_status,
            "link": self.link,
            "title": self.title,
            "evidence": self.evidence,
            "published": self.published.isoformat() if self.published else None,
            "also_reported_by": list(self.also_reported_by),
        }
