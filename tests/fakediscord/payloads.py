"""JSON shapes of Discord API objects, built from the fake's state.

Shaped after Discord's documented payloads, including the keys discord.py reads with ``[]``
(missing ones would crash its parsers) and ids as strings, as Discord sends them.
"""

from __future__ import annotations

import json
from typing import Any

from .state import Channel, Command, Guild, Member, Message, Role, State, User, iso

JSON = dict[str, Any]


def user(u: User) -> JSON:
    return {
        "id": str(u.id),
        "username": u.username,
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": None,
        "bot": u.bot,
        "system": False,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
    }


def client_user(u: User) -> JSON:
    return {**user(u), "verified": True, "mfa_enabled": False, "locale": "en-US"}


def role(r: Role) -> JSON:
    data: JSON = {
        "id": str(r.id),
        "name": r.name,
        "color": r.color,
        "colors": {"primary_color": r.color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": r.position,
        "permissions": str(r.permissions),
        "managed": r.managed,
        "mentionable": r.mentionable,
        "flags": 0,
    }
    if r.bot_id is not None:
        data["tags"] = {"bot_id": str(r.bot_id)}
    return data


def channel(c: Channel) -> JSON:
    return {
        "id": str(c.id),
        "type": c.type,
        "guild_id": str(c.guild_id),
        "name": c.name,
        "position": c.position,
        "permission_overwrites": [
            {"id": str(o.id), "type": o.type, "allow": str(o.allow), "deny": str(o.deny)}
            for o in c.overwrites.values()
        ],
        "topic": c.topic,
        "nsfw": False,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "flags": 0,
    }


def member(m: Member, *, with_user: bool = True, permissions: int | None = None) -> JSON:
    data: JSON = {
        "roles": [str(r) for r in m.roles],
        "nick": m.nick,
        "avatar": None,
        "banner": None,
        "joined_at": iso(m.joined_at),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "communication_disabled_until": None,
    }
    if with_user:
        data["user"] = user(m.user)
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def guild_create(g: Guild, *, bot_id: int) -> JSON:
    """GUILD_CREATE as a bot without the members intent gets it: only itself (and the owner)
    in ``members``, every role and channel."""
    shown = [m for m in g.members.values() if m.id in (bot_id, g.owner_id)]
    channels = [c for c in g.channels.values() if not c.deleted]
    return {
        "id": str(g.id),
        "name": g.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(g.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(r) for r in g.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": str(g.system_channel_id) if g.system_channel_id else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "max_members": 500000,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "joined_at": iso(g.joined_at),
        "large": False,
        "unavailable": False,
        "member_count": len(g.members),
        "voice_states": [],
        "members": [member(m) for m in shown],
        "channels": [channel(c) for c in channels],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def guild_rest(g: Guild) -> JSON:
    """GET /guilds/{id}: the guild object without the gateway-only keys."""
    data = guild_create(g, bot_id=0)
    for key in (
        "joined_at",
        "large",
        "unavailable",
        "member_count",
        "voice_states",
        "members",
        "channels",
        "threads",
        "presences",
        "stage_instances",
        "guild_scheduled_events",
        "soundboard_sounds",
    ):
        data.pop(key)
    return data


def message(state: State, m: Message, *, gateway: bool = False) -> JSON:
    data: JSON = {
        "id": str(m.id),
        "channel_id": str(m.channel_id),
        "author": user(m.author),
        "content": m.content,
        "timestamp": iso(m.created_at),
        "edited_timestamp": iso(m.edited_at) if m.edited_at else None,
        "tts": False,
        "mention_everyone": m.mention_everyone,
        "mentions": [user(state.users[u]) for u in m.mention_users if u in state.users],
        "mention_roles": [str(r) for r in m.mention_roles],
        "attachments": [],
        "embeds": m.embeds,
        "pinned": False,
        "type": 19 if m.message_reference else (20 if m.interaction_id else 0),
        "flags": m.flags,
        "components": m.components,
    }
    if m.guild_id is not None:
        data["guild_id"] = str(m.guild_id)
    if m.nonce is not None:
        data["nonce"] = m.nonce
    if m.message_reference:
        data["message_reference"] = m.message_reference
    if m.interaction_id is not None:
        data["webhook_id"] = str(state.application_id)
        data["application_id"] = str(state.application_id)
    if gateway and m.guild_id is not None:
        g = state.guilds.get(m.guild_id)
        if g is not None and m.author.id in g.members:
            data["member"] = member(g.members[m.author.id], with_user=False)
    return data


def application(state: State) -> JSON:
    return {
        "id": str(state.application_id),
        "name": state.bot_user.username,
        "icon": None,
        "description": "Greenlight test application",
        "rpc_origins": [],
        "bot_public": True,
        "bot_require_code_grant": False,
        "bot": user(state.bot_user),
        "terms_of_service_url": None,
        "privacy_policy_url": None,
        "owner": user(state.owner_user),
        "verify_key": "0" * 64,
        "team": None,
        "guild_id": None,
        "flags": 1 << 19 | 1 << 23,  # message content + guild members (limited) intents allowed
        "tags": [],
        "install_params": None,
        "custom_install_url": None,
        "integration_types_config": {},
        "interactions_endpoint_url": None,
        "approximate_guild_count": len(state.guilds),
    }


def command(state: State, c: Command) -> JSON:
    data = dict(c.data)
    data.update(
        id=str(c.id),
        application_id=str(state.application_id),
        version=str(c.id),
        type=c.data.get("type", 1),
        description=c.data.get("description", ""),
    )
    data.setdefault("default_member_permissions", None)
    data.setdefault("nsfw", False)
    if c.guild_id is not None:
        data["guild_id"] = str(c.guild_id)
    return data


def error(code: int, message: str, errors: JSON | None = None) -> JSON:
    body: JSON = {"message": message, "code": code}
    if errors:
        body["errors"] = errors
    return body


def response(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """A JSON answer with exactly ``Content-Type: application/json``, as Discord sends it.

    discord.py compares that header to the bare string, so aiohttp's default
    ``application/json; charset=utf-8`` would make it treat every body as text.
    """
    from aiohttp import web

    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )
