"""Building INTERACTION_CREATE payloads the way Discord does, from the commands the bot synced.

Options are typed by the synced schema (a test passes ``{"channel": some_channel}`` and gets
a channel option with its ``resolved`` entry), so a test cannot invoke a command or option the
bot never registered, nor send a value Discord's client would not let a user send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import payloads
from .state import Channel, Command, Guild, Interaction, Member, Message, Role, State, User

SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 6, 7, 8, 9, 10, 11

APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE = 2, 3, 4
ADMINISTRATOR = 1 << 3


class CommandNotInvocable(AssertionError):
    """The Discord client would not let this user send this (unknown command, option, value,
    or a command hidden from them by its default permissions)."""


def find_command(state: State, guild: Guild, name: str) -> Command:
    for c in [*state.guild_commands.get(guild.id, []), *state.global_commands]:
        if c.name == name and int(c.data.get("type", 1)) == 1:
            return c
    raise CommandNotInvocable(f"/{name} is not registered with Discord (the bot did not sync it)")


def visible_to(state: State, guild: Guild, command: Command, user_id: int) -> bool:
    """Whether Discord shows the command to this member, from ``default_member_permissions``
    (no per-server overrides modelled: admins changing them are what ``bypass`` stands for)."""
    needed = command.data.get("default_member_permissions")
    if needed is None:
        return True
    have = guild.permissions(user_id)
    return bool(have & ADMINISTRATOR) or (int(needed) & ~have) == 0


def _id(x: Any) -> int:
    return int(x.id if hasattr(x, "id") else x)


def build_options(
    state: State,
    guild: Guild | None,
    channel: Channel | None,
    invoker: Member | None,
    command: Command,
    options: dict[str, Any],
    subcommand: str | None,
    focused: str | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``data.options`` tree and ``data.resolved`` for this invocation (``guild`` None:
    in a DM, where only plain values are implemented)."""
    schema: list[dict[str, Any]] = command.data.get("options", [])
    path = subcommand.split() if subcommand else []
    chain: list[dict[str, Any]] = []
    for part in path:
        found = next(
            (
                o
                for o in schema
                if o["name"] == part and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
            ),
            None,
        )
        if found is None:
            raise CommandNotInvocable(f"/{command.name} has no subcommand {subcommand!r}")
        chain.append(found)
        schema = found.get("options", [])
    if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema):
        raise CommandNotInvocable(
            f"/{command.name} needs a subcommand: {[o['name'] for o in schema]}"
        )
    resolved: dict[str, dict[str, Any]] = {}
    leaf: list[dict[str, Any]] = []
    by_name = {o["name"]: o for o in schema}
    for name, value in options.items():
        spec = by_name.get(name)
        if spec is None:
            raise CommandNotInvocable(
                f"/{command.name} {subcommand or ''} has no option {name!r}; "
                f"it has {sorted(by_name)}"
            )
        leaf.append(_option(state, guild, channel, invoker, spec, value, focused == name, resolved))
    if focused is None:
        missing = [o["name"] for o in schema if o.get("required") and o["name"] not in options]
        if missing:
            raise CommandNotInvocable(f"/{command.name} {subcommand or ''} requires {missing}")
    elif focused not in options:
        raise CommandNotInvocable(
            f"the focused option {focused!r} needs a value (what the user typed)"
        )
    tree = leaf
    for group in reversed(chain):
        tree = [{"type": group["type"], "name": group["name"], "options": tree}]
    return tree, {k: v for k, v in resolved.items() if v}


def _option(
    state: State,
    guild: Guild | None,
    channel: Channel | None,
    invoker: Member | None,
    spec: dict[str, Any],
    value: Any,
    focused: bool,
    resolved: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    kind = spec["type"]
    out: dict[str, Any] = {"name": spec["name"], "type": kind}
    if focused:
        if not spec.get("autocomplete"):
            raise CommandNotInvocable(f"option {spec['name']!r} has no autocomplete")
        out.update(value=str(value), focused=True)  # what the user typed so far, always text
        return out
    if kind == STRING:
        text = str(value)
        if not spec.get("min_length", 0) <= len(text) <= spec.get("max_length", 6000):
            raise CommandNotInvocable(
                f"{spec['name']!r}: length {len(text)} outside the option's limits"
            )
        out["value"] = text
    elif kind in (INTEGER, NUMBER):
        number = int(value) if kind == INTEGER else float(value)
        if ("min_value" in spec and number < spec["min_value"]) or (
            "max_value" in spec and number > spec["max_value"]
        ):
            raise CommandNotInvocable(f"{spec['name']!r}: {number} outside the option's range")
        out["value"] = number
    elif kind == BOOLEAN:
        out["value"] = bool(value)
    elif guild is None or channel is None or invoker is None:
        raise CommandNotInvocable(f"option type {kind} in a DM is not implemented by the fake")
    elif kind == CHANNEL:
        target = guild.channels.get(_id(value))
        if target is None:
            raise CommandNotInvocable(f"{spec['name']!r}: no channel {value!r} in {guild.name}")
        if spec.get("channel_types") and target.type not in spec["channel_types"]:
            raise CommandNotInvocable(f"{spec['name']!r}: channel type {target.type} not offered")
        out["value"] = str(target.id)
        resolved.setdefault("channels", {})[str(target.id)] = {
            "id": str(target.id),
            "name": target.name,
            "type": target.type,
            "parent_id": None,
            "permissions": str(guild.permissions(invoker.id, target.id)),
            "flags": 0,
            "guild_id": str(guild.id),
            "topic": target.topic,
            "position": target.position,
        }
    elif kind == ROLE:
        role = guild.roles.get(_id(value))
        if role is None:
            raise CommandNotInvocable(f"{spec['name']!r}: no role {value!r} in {guild.name}")
        out["value"] = str(role.id)
        resolved.setdefault("roles", {})[str(role.id)] = payloads.role(role)
    elif kind in (USER, MENTIONABLE):
        if isinstance(value, Role):
            out["value"] = str(value.id)
            resolved.setdefault("roles", {})[str(value.id)] = payloads.role(value)
        else:
            uid = _id(value)
            user = state.users.get(uid)
            if user is None:
                raise CommandNotInvocable(f"{spec['name']!r}: no user {value!r}")
            out["value"] = str(uid)
            resolved.setdefault("users", {})[str(uid)] = payloads.user(user)
            if uid in guild.members:
                resolved.setdefault("members", {})[str(uid)] = payloads.member(
                    guild.members[uid],
                    with_user=False,
                    permissions=guild.permissions(uid, channel.id),
                )
    else:
        raise CommandNotInvocable(f"option type {kind} is not implemented by the fake")
    if spec.get("choices") and out["value"] not in [c["value"] for c in spec["choices"]]:
        raise CommandNotInvocable(f"{spec['name']!r}: {value!r} is not one of the offered choices")
    return out


def interaction_payload(
    state: State,
    i: Interaction,
    guild: Guild,
    channel: Channel,
    invoker: Member,
    data: dict[str, Any],
    message: Message | None = None,
) -> dict[str, Any]:
    me = state.bot_user.id
    payload: dict[str, Any] = {
        "id": str(i.id),
        "application_id": str(state.application_id),
        "type": i.type,
        "data": data,
        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
        "guild_id": str(guild.id),
        "channel": {
            **payloads.channel(channel),
            "permissions": str(guild.permissions(invoker.id, channel.id)),
        },
        "channel_id": str(channel.id),
        "member": payloads.member(invoker, permissions=guild.permissions(invoker.id, channel.id)),
        "token": i.token,
        "version": 1,
        "app_permissions": str(guild.permissions(me, channel.id)) if me in guild.members else "0",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild.id)},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
    if message is not None:
        payload["message"] = payloads.message(state, message)
    return payload


@dataclass(eq=False)
class InteractionResult:
    """What the bot answered to one interaction, as a user would see it."""

    record: Interaction
    state: State

    @property
    def callback_type(self) -> int | None:
        return int(self.record.callbacks[0]["type"]) if self.record.callbacks else None

    @property
    def deferred(self) -> bool:
        return self.callback_type in (5, 6)

    @property
    def message(self) -> Message | None:
        """The visible answer: the original response, else the first followup, else (for a
        button press that updated its message) the updated message."""
        if self.record.original is not None and not self.record.original_deleted:
            return self.record.original
        if self.record.followups:
            return self.record.followups[0]
        raw = self.record.payload.get("message")
        return self.state.messages_by_id.get(int(raw["id"])) if raw else None

    @property
    def messages(self) -> list[Message]:
        first = (
            [self.record.original]
            if self.record.original and not self.record.original_deleted
            else []
        )
        return first + self.record.followups

    @property
    def content(self) -> str:
        return self.message.content if self.message else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds if self.message else []

    @property
    def embed(self) -> dict[str, Any]:
        embeds = self.embeds
        if not embeds:
            raise AssertionError(f"the answer has no embed: {self.content!r}")
        return embeds[0]

    @property
    def ephemeral(self) -> bool:
        return bool(self.message and self.message.ephemeral)

    @property
    def choices(self) -> list[dict[str, Any]]:
        if self.callback_type != 8:
            raise AssertionError(f"not an autocomplete answer (callback type {self.callback_type})")
        return list(self.record.callbacks[0].get("data", {}).get("choices", []))

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.message.components if self.message else []

    def buttons(self) -> list[dict[str, Any]]:
        return [
            c for row in self.components for c in row.get("components", []) if c.get("type") == 2
        ]

    def text(self) -> str:
        return "\n".join(m.text() for m in self.messages)

    def complete(self) -> bool:
        """Answered as far as a user can tell: a message or an update is on screen."""
        kind = self.callback_type
        if kind is None:
            return False
        if kind in (4, 7, 8, 9):
            return True
        if self.record.followups:
            return True
        if kind == 5:
            return self.record.original is not None and not self.record.original.flags & (1 << 7)
        target = self.message  # 6: deferred update, done once the message was edited
        return target is not None and target.edited_at is not None


def user_member(guild: Guild, who: User | Member) -> Member:
    uid = who.id
    member = guild.members.get(uid)
    if member is None:
        raise CommandNotInvocable(f"{who!r} is not a member of {guild.name}")
    return member


def dm_visible(command: Command) -> bool:
    """Whether Discord offers the command in the bot's DMs (``contexts`` has BOT_DM, or, for
    commands synced without ``contexts``, ``dm_permission`` is not false)."""
    contexts = command.data.get("contexts")
    if contexts is not None:
        return 1 in contexts
    return command.data.get("dm_permission") is not False


def dm_interaction_payload(
    state: State,
    i: Interaction,
    user: User,
    dm_channel_id: int,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": str(i.id),
        "application_id": str(state.application_id),
        "type": i.type,
        "data": data,
        "channel": {
            "id": str(dm_channel_id),
            "type": 1,
            "flags": 0,
            "last_message_id": None,
            "recipients": [payloads.user(user)],
        },
        "channel_id": str(dm_channel_id),
        "user": payloads.user(user),
        "token": i.token,
        "version": 1,
        "app_permissions": str(0x0006_0000_7CC0),  # what Discord grants a bot in a DM
        "locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": "0"},
        "context": 1,
        "attachment_size_limit": 10 * 1024 * 1024,
    }
