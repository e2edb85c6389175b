"""A local fake of Discord's API (REST + gateway) that real, unmodified discord.py talks to.

Modules:

* ``state``        the world (users, guilds, roles, channels, members) and the record of what
                   the bot did (messages, interactions, requests); snowflakes; mentions.
* ``permissions``  permission bits and Discord's permission algorithm, written independently
                   of discord.py so the two can disagree visibly.
* ``payloads``     Discord-shaped JSON for every object the fake sends.
* ``gateway``      the websocket: HELLO/heartbeat, IDENTIFY/READY/GUILD_CREATE, sharding,
                   RESUME with replay, zlib-stream compression, drop/reconnect/invalidate.
* ``rest``         the HTTP routes under ``/api/v10`` with Discord's errors and validation.
* ``faults``       "answer the next N requests with 429 / 403 / 404 / 503 / hang".
* ``interactions`` INTERACTION_CREATE payloads built from the commands the bot synced.
* ``server``       ``FakeDiscord``: runs it all on 127.0.0.1 and is the test's handle.
* ``launch``       ``python -m fakediscord.launch``: run the real bot against a fake in a
                   subprocess (for kill -9 tests).
"""

from .faults import Fault, Faults
from .interactions import CommandNotInvocable, InteractionResult
from .permissions import DEFAULT_BOT, DEFAULT_EVERYONE, Overwrite, Perm
from .server import FakeDiscord
from .state import Channel, Guild, Member, Message, Role, User, shard_of

__all__ = [
    "DEFAULT_BOT",
    "DEFAULT_EVERYONE",
    "Channel",
    "CommandNotInvocable",
    "FakeDiscord",
    "Fault",
    "Faults",
    "Guild",
    "InteractionResult",
    "Member",
    "Message",
    "Overwrite",
    "Perm",
    "Role",
    "User",
    "shard_of",
]
