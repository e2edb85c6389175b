"""Read models the service layer returns to the CLI and the Discord cogs (plain data only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.types import Alert


@dataclass(frozen=True, slots=True)
class FilmView:
    key: str  # the film id used in commands, config and CLI output
    title: str
    aliases: tuple[str, ...]
    status: str | None  # current status label, None when no news yet
    shared: bool  # True for a film from the bot's config (watched by every server by default)


@dataclass(frozen=True, slots=True)
class ChangeView:
    from_status: str | None
    to_status: str
    at: datetime | None  # the story's publication time (or when it was recorded)
    evidence: str
    title: str
    link: str | None
    outlet: str
    alerted: bool
    also_reported_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusView:
    film: FilmView
    status: str | None
    since: datetime | None
    current: ChangeView | None  # the change that set the current status
    recent: tuple[ChangeView, ...]  # newest first, the last few changes


@dataclass(frozen=True, slots=True)
class FeedView:
    id: int
    url: str
    name: str | None
    shared: bool
    last_polled_at: datetime | None
    last_error: str | None
    failure_count: int
    disabled_reason: str | None
    stories: int


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    id: int
    guild_id: int
    channel_id: int
    film_key: str | None  # None: every watched film
    role_id: int | None
    disabled_reason: str | None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One pending delivery: the alert, where it goes, and a stable nonce for Discord."""

    id: int
    guild_id: int
    channel_id: int
    role_id: int | None
    subscription_id: int
    nonce: str
    attempts: int
    alert: Alert
