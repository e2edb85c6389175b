"""The core's service API: everything the CLI and the Discord cogs may ask of Greenlight.

Cogs call these functions and never run SQL or HTTP themselves. Every method that takes a
``guild_id`` acts on that guild only. Errors a user can act on are ``bot.errors`` exceptions
whose message is fit to show as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.config import Config
from bot.types import Alert
from bot.views import ChangeView, FeedView, FilmView, OutboxItem, StatusView, SubscriptionView


class Greenlight:
    """One open Greenlight core: database, fetcher, classifier and poller."""

    config: Config

    @classmethod
    async def open(cls, config: Config, *, migrate: bool = True) -> Greenlight:
        """Open the database (upgrading it to the newest migration unless told not to) and
        load the config's films and feeds."""
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    # --- polling ---------------------------------------------------------------------------
    async def poll_once(self, now: datetime | None = None) -> list[Alert]:
        """Fetch every due feed once, record what it says, queue outbox rows; return the alerts
        (accepted status changes) of this cycle in publication order."""
        raise NotImplementedError

    # --- members ---------------------------------------------------------------------------
    async def search_films(self, guild_id: int, text: str, limit: int = 25) -> list[FilmView]:
        """Films this guild watches whose title or alias matches ``text`` (case- and
        punctuation-insensitive prefix/substring, then fuzzy); best first. Empty text: all."""
        raise NotImplementedError

    async def resolve_film(self, guild_id: int, text: str) -> FilmView:
        """The one watched film ``text`` names (id, title or alias). Raises UnknownFilm with
        "did you mean" suggestions."""
        raise NotImplementedError

    async def film_status(self, guild_id: int, text: str, recent: int = 5) -> StatusView:
        raise NotImplementedError

    async def film_history(self, guild_id: int, text: str) -> list[ChangeView]:
        """Every recorded change of the film, oldest first (alerted or not)."""
        raise NotImplementedError

    # --- admins: films ---------------------------------------------------------------------
    async def watch_add(self, guild_id: int, title: str, aliases: Sequence[str] = ()) -> FilmView:
        raise NotImplementedError

    async def watch_remove(self, guild_id: int, text: str) -> FilmView:
        raise NotImplementedError

    async def watch_list(self, guild_id: int) -> list[FilmView]:
        raise NotImplementedError

    async def alias_add(self, guild_id: int, film: str, alias: str) -> FilmView:
        raise NotImplementedError

    async def alias_remove(self, guild_id: int, film: str, alias: str) -> FilmView:
        raise NotImplementedError

    # --- admins: feeds ---------------------------------------------------------------------
    async def feed_add(self, guild_id: int, url: str, name: str | None = None) -> FeedView:
        """Fetch ``url`` now; raise FeedRejected (with the reason) unless it is a working feed."""
        raise NotImplementedError

    async def feed_remove(self, guild_id: int, url_or_id: str) -> FeedView:
        raise NotImplementedError

    async def feed_list(self, guild_id: int) -> list[FeedView]:
        raise NotImplementedError

    # --- subscriptions ---------------------------------------------------------------------
    async def subscribe(
        self, guild_id: int, channel_id: int, film: str | None = None, role_id: int | None = None
    ) -> SubscriptionView:
        raise NotImplementedError

    async def unsubscribe(
        self, guild_id: int, channel_id: int, film: str | None = None
    ) -> SubscriptionView:
        raise NotImplementedError

    async def subscriptions(self, guild_id: int) -> list[SubscriptionView]:
        raise NotImplementedError

    # --- delivery --------------------------------------------------------------------------
    async def claim_outbox(
        self, limit: int = 20, *, shard_count: int = 1, shard_ids: Sequence[int] | None = None,
        now: datetime | None = None,
    ) -> list[OutboxItem]:
        """Due, unsent outbox rows, oldest first, for guilds whose shard
        ``(guild_id >> 22) % shard_count`` is in ``shard_ids`` (all when None). A claimed row
        is leased for a while so another process does not take it meanwhile."""
        raise NotImplementedError

    async def mark_sent(self, outbox_id: int, message_id: int) -> None:
        raise NotImplementedError

    async def mark_retry(self, outbox_id: int, error: str, retry_in: float) -> None:
        """The send failed in a way worth retrying (5xx, timeout, 429): try again later."""
        raise NotImplementedError

    async def disable_subscription(self, subscription_id: int, reason: str) -> None:
        """403/404 from Discord: stop delivering there, keep the reason for /subscriptions,
        and drop that subscription's pending rows."""
        raise NotImplementedError
