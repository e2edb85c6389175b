"""The fake's world: users, guilds, roles, channels, members, messages and interactions.

Plain data, no I/O. The REST app and the gateway both read and write one ``State``; tests build
the world through ``FakeDiscord`` (which also tells a connected bot about changes) and read
what the bot did from here (``messages``, ``interactions``, ``requests``).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from . import permissions as perms
from .permissions import Overwrite, Perm

DISCORD_EPOCH_MS = 1_420_070_400_000
T = TypeVar("T")


class Snowflakes:
    """Discord-shaped ids: milliseconds since 2015 in the top bits, a counter below.

    Real ids matter here because discord.py derives creation times from them and shard
    routing is ``(guild_id >> 22) % shard_count``.
    """

    def __init__(self) -> None:
        self._last_ms = 0
        self._counter = itertools.count()

    def next(self, *, shard: tuple[int, int] | None = None) -> int:
        ms = max(int(time.time() * 1000) - DISCORD_EPOCH_MS, self._last_ms)
        if shard is not None:
            shard_id, count = shard
            ms += (shard_id - ms % count) % count  # step the clock part onto the wanted shard
        self._last_ms = ms
        return (ms << 22) | (1 << 17) | (next(self._counter) & 0xFFF)


def shard_of(guild_id: int, shard_count: int) -> int:
    return (guild_id >> 22) % shard_count


def iso(dt: datetime) -> str:
    return dt.isoformat()


def now() -> datetime:
    return datetime.now(UTC)


# --- entities ------------------------------------------------------------------------------


@dataclass(eq=False)
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    mentionable: bool = False
    color: int = 0
    managed: bool = False
    bot_id: int | None = None  # set on the role Discord creates for an invited bot

    @property
    def mention(self) -> str:
        return "@everyone" if self.id == self.guild_id else f"<@&{self.id}>"


@dataclass(eq=False)
class Channel:
    id: int
    guild_id: int
    name: str
    position: int = 0
    type: int = 0  # GUILD_TEXT
    topic: str | None = None
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    deleted: bool = False

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"


@dataclass(eq=False)
class Member:
    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=now)

    @property
    def id(self) -> int:
        return self.user.id


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    joined_at: datetime = field(default_factory=now)
    #: Where Discord posts join notices; bots use it to reach a server's admins.
    system_channel_id: int | None = None

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def permissions(self, member_id: int, channel_id: int | None = None) -> int:
        """The member's permissions, in the channel when given (what Discord enforces)."""
        member = self.members[member_id]
        base = perms.base_permissions(
            guild_id=self.id,
            owner_id=self.owner_id,
            member_id=member_id,
            member_roles=member.roles,
            role_permissions={r.id: r.permissions for r in self.roles.values()},
        )
        if channel_id is None:
            return base
        channel = self.channels[channel_id]
        return perms.channel_permissions(
            base,
            guild_id=self.id,
            member_id=member_id,
            member_roles=member.roles,
            overwrites=channel.overwrites,
        )


@dataclass(eq=False)
class Message:
    """A message as the fake stored it, with how it got there and what it actually pinged."""

    id: int
    channel_id: int
    guild_id: int | None
    author: User
    content: str
    via: str  # "user" (a test typed it), "rest", "interaction", "followup"
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    nonce: str | None = None
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    interaction_id: int | None = None
    created_at: datetime = field(default_factory=now)
    edited_at: datetime | None = None
    #: What Discord would have notified, after allowed_mentions and permissions.
    mention_everyone: bool = False
    mention_roles: list[int] = field(default_factory=list)
    mention_users: list[int] = field(default_factory=list)
    #: The JSON body of the request that created the message, verbatim.
    request: dict[str, Any] | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def pinged_anyone(self) -> bool:
        return self.mention_everyone or bool(self.mention_roles) or bool(self.mention_users)

    def text(self) -> str:
        """Content plus every embed's text, for loose assertions in tests."""
        parts = [self.content]
        for e in self.embeds:
            parts += [e.get("title", ""), e.get("description", "")]
            parts += [f"{f.get('name', '')}\n{f.get('value', '')}" for f in e.get("fields", [])]
            parts += [e.get("footer", {}).get("text", ""), e.get("author", {}).get("name", "")]
        return "\n".join(p for p in parts if p)


@dataclass(eq=False)
class Interaction:
    """One interaction the fake sent to the bot and everything the bot answered."""

    id: int
    token: str
    type: int  # 2 application command, 3 component, 4 autocomplete
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: dict[str, Any]
    created_at: float = field(default_factory=time.monotonic)
    callbacks: list[dict[str, Any]] = field(default_factory=list)  # raw callback bodies
    original: Message | None = None
    original_deleted: bool = False
    followups: list[Message] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)


@dataclass(eq=False)
class Command:
    """An application command as synced by the bot (the JSON it PUT, plus the id we gave)."""

    id: int
    guild_id: int | None
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["name"])


@dataclass(slots=True)
class RequestRecord:
    method: str
    path: str  # after /api/v10
    route: str  # the route template, e.g. "POST /channels/{channel_id}/messages"
    status: int  # 0 while the fake is still holding the request (a "hang" fault)
    body: Any
    fault: str | None = None
    #: ``time.monotonic()`` on arrival: lets tests check a client's back-off between attempts.
    at: float = field(default_factory=time.monotonic)


MENTION_RE = re.compile(r"<@(?P<kind>[!&]?)(?P<id>\d+)>")


class State:
    """Everything the fake knows. Not thread-safe: one event loop owns it."""

    NONCE_WINDOW = 300.0  # Discord collapses a repeated enforce_nonce within "a few minutes"

    def __init__(self, *, token: str, bot_name: str = "Greenlight") -> None:
        self.ids = Snowflakes()
        self.token = token
        self.application_id = self.ids.next()
        self.bot_user = User(id=self.application_id, username=bot_name, bot=True)
        self.owner_user = User(id=self.ids.next(), username="app-owner")
        self.users: dict[int, User] = {u.id: u for u in (self.bot_user, self.owner_user)}
        self.guilds: dict[int, Guild] = {}
        self.messages: dict[int, list[Message]] = {}  # by channel id, oldest first
        self.messages_by_id: dict[int, Message] = {}
        self.interactions: dict[int, Interaction] = {}
        self.dm_channels: dict[int, int] = {}  # user id → the bot's DM channel with them
        self.interactions_by_token: dict[str, Interaction] = {}
        self.global_commands: list[Command] = []
        self.guild_commands: dict[int, list[Command]] = {}
        self.command_syncs: list[tuple[int | None, list[dict[str, Any]]]] = []
        self.requests: list[RequestRecord] = []
        self.unhandled: list[RequestRecord] = []
        self._nonces: dict[tuple[int, int, str], tuple[float, Message]] = {}
        self._changed: asyncio.Condition | None = None

    # --- waiting -------------------------------------------------------------------------
    @property
    def changed(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def wait_for(self, predicate: Callable[[], T | None], *, within: float, what: str) -> T:
        """Wait until ``predicate()`` is truthy and return it. The timeout only guards against
        a hung test; tests must not depend on how long anything takes."""

        async def waiter() -> T:
            async with self.changed:
                while True:
                    result = predicate()
                    if result:
                        return result
                    await self.changed.wait()

        try:
            return await asyncio.wait_for(waiter(), within)
        except TimeoutError:
            raise AssertionError(
                f"fake Discord: gave up after {within:g}s waiting for {what}"
            ) from None

    # --- world ---------------------------------------------------------------------------
    def user(self, name: str, *, bot: bool = False) -> User:
        u = User(id=self.ids.next(), username=name, bot=bot)
        self.users[u.id] = u
        return u

    def guild(
        self,
        name: str,
        *,
        owner: User | None = None,
        shard: tuple[int, int] | None = None,
        everyone_permissions: int = perms.DEFAULT_EVERYONE,
        bot_permissions: int = perms.DEFAULT_BOT,
    ) -> Guild:
        owner = owner or self.user(f"{name}-owner")
        g = Guild(id=self.ids.next(shard=shard), name=name, owner_id=owner.id)
        g.roles[g.id] = Role(
            id=g.id, guild_id=g.id, name="@everyone", permissions=everyone_permissions
        )
        # Inviting a bot creates a managed role holding the permissions it was invited with.
        bot_role = Role(
            id=self.ids.next(),
            guild_id=g.id,
            name=self.bot_user.username,
            permissions=bot_permissions,
            position=1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        g.roles[bot_role.id] = bot_role
        g.members[owner.id] = Member(user=owner, guild_id=g.id)
        g.members[self.bot_user.id] = Member(user=self.bot_user, guild_id=g.id, roles=[bot_role.id])
        self.guilds[g.id] = g
        return g

    def role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        mentionable: bool = False,
    ) -> Role:
        position = max(r.position for r in guild.roles.values()) + 1
        r = Role(
            id=self.ids.next(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=position,
            mentionable=mentionable,
        )
        guild.roles[r.id] = r
        return r

    def channel(
        self,
        guild: Guild,
        name: str,
        *,
        overwrites: Iterable[Overwrite] = (),
        topic: str | None = None,
    ) -> Channel:
        c = Channel(
            id=self.ids.next(),
            guild_id=guild.id,
            name=name,
            position=len(guild.channels),
            topic=topic,
            overwrites={o.id: o for o in overwrites},
        )
        guild.channels[c.id] = c
        self.messages[c.id] = []
        return c

    def member(self, guild: Guild, user: User, *, roles: Iterable[Role] = ()) -> Member:
        m = Member(user=user, guild_id=guild.id, roles=[r.id for r in roles])
        guild.members[user.id] = m
        return m

    def find_channel(self, channel_id: int) -> tuple[Guild, Channel] | None:
        for g in self.guilds.values():
            c = g.channels.get(channel_id)
            if c is not None and not c.deleted:
                return g, c
        return None

    # --- messages ------------------------------------------------------------------------
    def store(self, msg: Message) -> Message:
        self.messages.setdefault(msg.channel_id, []).append(msg)
        self.messages_by_id[msg.id] = msg
        return msg

    def nonce_hit(self, channel_id: int, author_id: int, nonce: str) -> Message | None:
        hit = self._nonces.get((channel_id, author_id, nonce))
        if hit is None or time.monotonic() - hit[0] > self.NONCE_WINDOW:
            return None
        return hit[1]

    def remember_nonce(self, msg: Message) -> None:
        if msg.nonce is not None:
            self._nonces[(msg.channel_id, msg.author.id, msg.nonce)] = (time.monotonic(), msg)

    def resolve_mentions(self, msg: Message, allowed: dict[str, Any] | None) -> None:
        """Fill in who the message notifies, the way Discord decides it.

        Only ``content`` can ping (never embeds). No ``allowed_mentions`` means "parse
        everything". @everyone/@here needs Mention Everyone; a role ping needs the role to be
        mentionable or the author to have Mention Everyone.
        """
        parse = {"everyone", "roles", "users"} if allowed is None else set(allowed.get("parse", []))
        allowed_roles = {int(x) for x in (allowed or {}).get("roles", [])}
        allowed_users = {int(x) for x in (allowed or {}).get("users", [])}
        guild = self.guilds.get(msg.guild_id) if msg.guild_id else None
        author_perms = 0
        if guild is not None and msg.author.id in guild.members:
            author_perms = guild.permissions(msg.author.id, msg.channel_id)
        can_everyone = bool(author_perms & Perm.MENTION_EVERYONE)
        content = msg.content or ""
        msg.mention_everyone = (
            ("@everyone" in content or "@here" in content) and "everyone" in parse and can_everyone
        )
        roles: list[int] = []
        users: list[int] = []
        for m in MENTION_RE.finditer(content):
            target = int(m["id"])
            if m["kind"] == "&":
                role = guild.roles.get(target) if guild else None
                if role is None or not ("roles" in parse or target in allowed_roles):
                    continue
                if (role.mentionable or can_everyone) and target not in roles:
                    roles.append(target)
            elif ("users" in parse or target in allowed_users) and target not in users:
                users.append(target)
        msg.mention_roles = roles
        msg.mention_users = users

    def new_token(self) -> str:
        return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(24)
