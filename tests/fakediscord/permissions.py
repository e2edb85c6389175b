"""Discord permission bits and the server-side permission computation.

Written from Discord's documented algorithm rather than borrowed from discord.py, so that the
fake is an independent referee: if the bot's idea of its permissions (computed by discord.py
from the GUILD_CREATE cache) disagrees with what "Discord" enforces here, a test notices.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntFlag


class Perm(IntFlag):
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    MANAGE_ROLES = 1 << 28
    USE_APPLICATION_COMMANDS = 1 << 31
    SEND_MESSAGES_IN_THREADS = 1 << 38


ALL = (1 << 53) - 1

#: What @everyone gets in a freshly created server (roughly: talk, read, react, use commands).
DEFAULT_EVERYONE = (
    Perm.CREATE_INSTANT_INVITE
    | Perm.ADD_REACTIONS
    | Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.SEND_MESSAGES_IN_THREADS
)

#: What a bot is usually invited with: enough to read commands and post embeds.
DEFAULT_BOT = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_APPLICATION_COMMANDS
)


@dataclass(slots=True)
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0


def base_permissions(
    *,
    guild_id: int,
    owner_id: int,
    member_id: int,
    member_roles: Iterable[int],
    role_permissions: dict[int, int],
) -> int:
    if member_id == owner_id:
        return ALL
    perms = role_permissions.get(guild_id, 0)  # @everyone's id is the guild's id
    for role_id in member_roles:
        perms |= role_permissions.get(role_id, 0)
    if perms & Perm.ADMINISTRATOR:
        return ALL
    return perms


def channel_permissions(
    base: int,
    *,
    guild_id: int,
    member_id: int,
    member_roles: Iterable[int],
    overwrites: dict[int, Overwrite],
) -> int:
    """Apply a channel's overwrites in Discord's order: @everyone, then all of the member's
    roles together (deny before allow), then the member's own overwrite."""
    if base & Perm.ADMINISTRATOR or base == ALL:
        return ALL
    perms = base
    everyone = overwrites.get(guild_id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member_roles:
        ow = overwrites.get(role_id)
        if ow is not None and ow.type == 0:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    mine = overwrites.get(member_id)
    if mine is not None and mine.type == 1:
        perms = (perms & ~mine.deny) | mine.allow
    # Discord's implicit permissions: without View Channel nothing in the channel is usable,
    # and without Send Messages neither are the permissions that only qualify a message.
    if not perms & Perm.VIEW_CHANNEL:
        return 0
    if not perms & Perm.SEND_MESSAGES:
        perms &= ~(
            Perm.SEND_TTS_MESSAGES | Perm.MENTION_EVERYONE | Perm.ATTACH_FILES | Perm.EMBED_LINKS
        )
    return perms


def names(perms: int) -> list[str]:
    return [p.name or str(p.value) for p in Perm if perms & p]
