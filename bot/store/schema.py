"""Table definitions. The database schema itself is created only by the Alembic migrations in
``migrations/``; a test checks that these tables and the migrations agree."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

# Named constraints let migrations drop or alter them on both backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out — SQLite keeps no zone of its own."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


feeds = Table(
    "feeds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", Text, nullable=False, unique=True),
    Column("name", Text),
    # A feed from the config file is watched by every guild unless a guild removes it.
    Column("shared", Boolean, nullable=False, default=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("body_hash", Text),
    Column("first_polled_at", UTCDateTime),
    Column("last_polled_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("next_poll_at", UTCDateTime),
    Column("lease_until", UTCDateTime),
    Column("failure_count", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", Text),
    Index(None, "next_poll_at"),
)

guild_feeds = Table(
    "guild_feeds",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True),
    # False records that a guild removed a shared feed.
    Column("watching", Boolean, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

films = Table(
    "films",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", Text, nullable=False),
    # 0 for a film from the config (shared by every guild), else the guild that added it.
    Column("owner_guild_id", BigInteger, nullable=False, default=0),
    Column("title", Text, nullable=False),
    Column("originals", JSON, nullable=False, default=list),
    Column("added_at", UTCDateTime, nullable=False),
    # A config film dropped from the config, or a guild film its guild removed.
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("owner_guild_id", "key"),
)

film_aliases = Table(
    "film_aliases",
    metadata,
    Column("film_id", Integer, ForeignKey("films.id", ondelete="CASCADE"), primary_key=True),
    Column("norm", Text, primary_key=True),
    Column("alias", Text, nullable=False),
)

guild_films = Table(
    "guild_films",
    metadata,
    Column("guild_id", BigInteger, primary_key=True, autoincrement=False),
    Column("film_id", Integer, ForeignKey("films.id", ondelete="CASCADE"), primary_key=True),
    Column("watching", Boolean, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

stories = Table(
    "stories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("feed_id", Integer, ForeignKey("feeds.id", ondelete="CASCADE"), nullable=False),
    Column("key", Text, nullable=False),
    Column("link", Text),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("outlet", Text, nullable=False),
    Column("published", UTCDateTime),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("content_hash", Text, nullable=False),
    # Set when this story re-publishes an earlier one: it is then "also reported by".
    Column("duplicate_of", Integer, ForeignKey("stories.id", ondelete="SET NULL")),
    # The classifier's findings, [[film, status, evidence, confidence], …], and whether the
    # tracking pass has yet to read them (see bot/tracking.py).
    Column("signals", JSON),
    Column("track_pending", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("feed_id", "key"),
    # No index on link: no query looks a story up by it, and keeping one (random URLs, one
    # B-tree insert per story) made storing slower the more stories there were (0004).
    Index(None, "duplicate_of"),
    Index(None, "track_pending"),
)

status_events = Table(
    "status_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("film_id", Integer, ForeignKey("films.id", ondelete="CASCADE"), nullable=False),
    Column("story_id", Integer, ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("published", UTCDateTime),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("alerted", Boolean, nullable=False),
    # Why an event did not alert: backfill, same, backward.
    Column("note", Text),
    # The same change from the same story is one event, however often the story is re-read.
    UniqueConstraint("film_id", "story_id", "to_status"),
    Index(None, "film_id", "published"),
)

film_status = Table(
    "film_status",
    metadata,
    Column("film_id", Integer, ForeignKey("films.id", ondelete="CASCADE"), primary_key=True),
    Column("status", Text, nullable=False),
    Column("since", UTCDateTime),
    Column("event_id", Integer, ForeignKey("status_events.id", ondelete="SET NULL")),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("film_id", Integer, ForeignKey("films.id", ondelete="CASCADE")),
    # "*" for every watched film, else the film id as text: a NULL would defeat the unique key.
    Column("scope", Text, nullable=False),
    Column("role_id", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
    Column("disabled_reason", Text),
    UniqueConstraint("guild_id", "channel_id", "scope"),
    Index(None, "guild_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("status_events.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscription_id",
        Integer,
        ForeignKey("subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("guild_id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("role_id", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
    # pending → sent, or dropped (its subscription was disabled).
    Column("state", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime),
    Column("message_id", BigInteger),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    # One outbox row → one delivery: the unique key makes "exactly once" a constraint.
    UniqueConstraint("event_id", "subscription_id"),
    Index(None, "state", "next_attempt_at"),
)

rate_buckets = Table(
    "rate_buckets",
    metadata,
    # One token bucket per name, shared by every process on this database: discord.py only
    # sees its own process's requests, but Discord's global limit counts the bot's total.
    Column("name", Text, primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)
