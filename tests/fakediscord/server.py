"""``FakeDiscord``: the server (REST + gateway on one 127.0.0.1 port) and the test's handle on it.

Typical use::

    async with FakeDiscord() as fake:
        guild = fake.add_guild("Film Club")
        news = fake.add_channel(guild, "news")
        alice = fake.add_user("alice"); fake.add_member(guild, alice)
        with fake.patch_discord_py():            # point discord.py at the fake
            ...start the bot with token fake.token...
        await fake.send_message(guild, news, alice, "!status romy")
        reply = (await fake.wait_for_messages(news, 1))[0]

World-building methods (``add_*``) only change state: use them before the bot connects. Once it
is connected, use the ``async`` ones (``create_channel``, ``create_role``, ``set_overwrite``,
``delete_channel``, ``join_guild``, ``set_member_roles``), which also send the gateway event
Discord would send.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from aiohttp import web

from . import payloads
from .faults import Faults
from .gateway import INTENT_GUILD_MEMBERS, INTENT_GUILD_MESSAGES, INTENT_GUILDS, Gateway
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    CommandNotInvocable,
    InteractionResult,
    build_options,
    dm_interaction_payload,
    dm_visible,
    find_command,
    interaction_payload,
    user_member,
    visible_to,
)
from .permissions import DEFAULT_BOT, DEFAULT_EVERYONE, Overwrite
from .rest import Rest
from .state import Channel, Guild, Interaction, Member, Message, Role, State, User

WAIT = 15.0  # a guard against hung tests only; nothing asserts on how long things take


class FakeDiscord:
    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        recommended_shards: int = 1,
        interaction_deadline: float | None = 3.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.recommended_shards = recommended_shards
        self.interaction_deadline = interaction_deadline
        self.state = State(token=token)
        self.faults = Faults()
        self.gateway = Gateway(self.state, lambda: self.gateway_url)
        self.rest = Rest(self)
        self._runner: web.AppRunner | None = None

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        self._runner = web.AppRunner(self.rest.app(), shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def close(self) -> None:
        self.faults.release_all()
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """What ``discord.http.Route.BASE`` must be set to."""
        return f"{self.http_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    @contextlib.contextmanager
    def patch_discord_py(self) -> Iterator[None]:
        """Point an unmodified discord.py at this fake for the duration of the block.

        ``Route.BASE`` carries every REST call (webhooks and interaction callbacks included);
        ``DiscordWebSocket.DEFAULT_GATEWAY`` is where a client that does not ask
        ``/gateway/bot`` first (``Client``, or a bot given ``shard_count``) connects.
        """
        import discord.gateway
        import discord.http
        import yarl

        old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old

    @contextlib.asynccontextmanager
    async def running(self, client: Any, *, within: float = WAIT) -> AsyncIterator[Any]:
        """Start a discord.py ``Client`` (any subclass) against this fake, wait until it is
        ready, and close it afterwards. A login or connection error is raised here."""
        with self.patch_discord_py():
            task = asyncio.create_task(client.start(self.token), name="fake-discord-client")
            ready = asyncio.create_task(client.wait_until_ready())
            try:
                done, _ = await asyncio.wait(
                    {task, ready}, timeout=within, return_when=asyncio.FIRST_COMPLETED
                )
                if task in done:
                    task.result()  # raises what start() raised
                    raise AssertionError("the client stopped before it was ready")
                if ready not in done:
                    raise AssertionError(f"the client was not ready after {within:g}s")
                yield client
            finally:
                ready.cancel()
                if not client.is_closed():
                    await client.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- the world -------------------------------------------------------------------------
    @property
    def bot_user(self) -> User:
        return self.state.bot_user

    @property
    def application_id(self) -> int:
        return self.state.application_id

    def add_user(self, name: str, *, bot: bool = False) -> User:
        return self.state.user(name, bot=bot)

    def add_guild(
        self,
        name: str,
        *,
        owner: User | None = None,
        shard: tuple[int, int] | None = None,
        everyone_permissions: int = DEFAULT_EVERYONE,
        bot_permissions: int = DEFAULT_BOT,
    ) -> Guild:
        """A guild the bot is in, with @everyone, the bot's managed role and an owner.
        ``shard=(id, count)`` picks an id that shard owns."""
        return self.state.guild(
            name,
            owner=owner,
            shard=shard,
            everyone_permissions=everyone_permissions,
            bot_permissions=bot_permissions,
        )

    def add_role(
        self, guild: Guild, name: str, *, permissions: int = 0, mentionable: bool = False
    ) -> Role:
        return self.state.role(guild, name, permissions=permissions, mentionable=mentionable)

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        overwrites: Iterable[Overwrite] = (),
        topic: str | None = None,
    ) -> Channel:
        return self.state.channel(guild, name, overwrites=overwrites, topic=topic)

    def add_member(self, guild: Guild, user: User, *, roles: Iterable[Role] = ()) -> Member:
        return self.state.member(guild, user, roles=roles)

    def bot_role(self, guild: Guild) -> Role:
        return next(r for r in guild.roles.values() if r.bot_id == self.bot_user.id)

    @staticmethod
    def overwrite(target: Role | User | Member, *, allow: int = 0, deny: int = 0) -> Overwrite:
        return Overwrite(
            id=target.id, type=0 if isinstance(target, Role) else 1, allow=allow, deny=deny
        )

    # --- live changes ------------------------------------------------------------------------
    async def create_channel(
        self, guild: Guild, name: str, *, overwrites: Iterable[Overwrite] = ()
    ) -> Channel:
        c = self.state.channel(guild, name, overwrites=overwrites)
        await self.gateway.dispatch(
            "CHANNEL_CREATE", payloads.channel(c), guild_id=guild.id, intent=INTENT_GUILDS
        )
        return c

    async def create_role(
        self, guild: Guild, name: str, *, permissions: int = 0, mentionable: bool = False
    ) -> Role:
        r = self.state.role(guild, name, permissions=permissions, mentionable=mentionable)
        data = {"guild_id": str(guild.id), "role": payloads.role(r)}
        await self.gateway.dispatch(
            "GUILD_ROLE_CREATE", data, guild_id=guild.id, intent=INTENT_GUILDS
        )
        return r

    async def set_overwrite(
        self, channel: Channel, target: Role | User | Member, *, allow: int = 0, deny: int = 0
    ) -> None:
        channel.overwrites[target.id] = self.overwrite(target, allow=allow, deny=deny)
        await self.gateway.dispatch(
            "CHANNEL_UPDATE",
            payloads.channel(channel),
            guild_id=channel.guild_id,
            intent=INTENT_GUILDS,
        )

    async def delete_channel(self, channel: Channel) -> None:
        channel.deleted = True
        await self.gateway.dispatch(
            "CHANNEL_DELETE",
            payloads.channel(channel),
            guild_id=channel.guild_id,
            intent=INTENT_GUILDS,
        )

    async def join_guild(self, guild: Guild) -> None:
        await self.gateway.dispatch(
            "GUILD_CREATE",
            payloads.guild_create(guild, bot_id=self.bot_user.id),
            guild_id=guild.id,
            intent=INTENT_GUILDS,
        )

    async def set_member_roles(
        self, guild: Guild, user: User | Member, roles: Iterable[Role]
    ) -> None:
        member = guild.members[user.id]
        member.roles = [r.id for r in roles]
        data = {**payloads.member(member), "guild_id": str(guild.id)}
        # Needs the members intent, except for the bot's own member, which Discord always sends.
        intent = INTENT_GUILDS if user.id == self.bot_user.id else INTENT_GUILD_MEMBERS
        await self.gateway.dispatch("GUILD_MEMBER_UPDATE", data, guild_id=guild.id, intent=intent)

    # --- acting as users -----------------------------------------------------------------------
    async def send_message(
        self, guild: Guild, channel: Channel, author: User | Member, content: str
    ) -> Message:
        """A member types ``content`` in ``channel``; the bot gets MESSAGE_CREATE."""
        member = user_member(guild, author)
        msg = Message(
            id=self.state.ids.next(),
            channel_id=channel.id,
            guild_id=guild.id,
            author=member.user,
            content=content,
            via="user",
        )
        self.state.resolve_mentions(msg, None)
        self.state.store(msg)
        await self.gateway.dispatch(
            "MESSAGE_CREATE",
            payloads.message(self.state, msg, gateway=True),
            guild_id=guild.id,
            intent=INTENT_GUILD_MESSAGES,
        )
        await self.state.notify()
        return msg

    async def invoke_slash(
        self,
        guild: Guild,
        channel: Channel,
        user: User | Member,
        name: str,
        options: dict[str, Any] | None = None,
        subcommand: str | None = None,
        *,
        bypass_visibility: bool = False,
        wait: bool = True,
        within: float = WAIT,
    ) -> InteractionResult:
        """A member runs ``/name [subcommand] option:value…``; returns the bot's answer once it
        is on screen (the response, or the edit/followup after a defer).

        ``subcommand`` is space-separated for groups ("alias add"). Discord hides a command
        from members lacking its ``default_member_permissions``; ``bypass_visibility`` stands
        for a server whose admins overrode that in the integration settings.
        """
        member = user_member(guild, user)
        command = find_command(self.state, guild, name)
        if not bypass_visibility and not visible_to(self.state, guild, command, member.id):
            raise CommandNotInvocable(f"Discord does not show /{name} to {member.user.username}")
        tree, resolved = build_options(
            self.state, guild, channel, member, command, options or {}, subcommand, None
        )
        data: dict[str, Any] = {"id": str(command.id), "name": name, "type": 1, "options": tree}
        if resolved:
            data["resolved"] = resolved
        if command.guild_id is not None:
            data["guild_id"] = str(command.guild_id)
        return await self._interact(
            APPLICATION_COMMAND,
            guild,
            channel,
            member,
            data,
            None,
            wait,
            within,
            f"the answer to /{name} {subcommand or ''}".rstrip(),
        )

    async def invoke_slash_dm(
        self,
        user: User,
        name: str,
        options: dict[str, Any] | None = None,
        subcommand: str | None = None,
        *,
        bypass_visibility: bool = False,
        within: float = WAIT,
    ) -> InteractionResult:
        """``user`` runs a global command in a DM with the bot. Discord does not offer guild-only
        commands there; ``bypass_visibility`` sends it anyway (a stale client, say)."""
        command = next(
            (
                c
                for c in self.state.global_commands
                if c.name == name and int(c.data.get("type", 1)) == 1
            ),
            None,
        )
        if command is None:
            raise CommandNotInvocable(f"/{name} is not registered globally, so not in DMs")
        if not bypass_visibility and not dm_visible(command):
            raise CommandNotInvocable(f"Discord does not offer /{name} in DMs")
        tree, _ = build_options(
            self.state, None, None, None, command, options or {}, subcommand, None
        )
        data: dict[str, Any] = {"id": str(command.id), "name": name, "type": 1, "options": tree}
        dm_id = self.state.dm_channels.setdefault(user.id, self.state.ids.next())
        record = Interaction(
            id=self.state.ids.next(),
            token=self.state.new_token(),
            type=APPLICATION_COMMAND,
            guild_id=None,
            channel_id=dm_id,
            user_id=user.id,
            payload={},
        )
        record.payload = dm_interaction_payload(self.state, record, user, dm_id, data)
        self.state.interactions[record.id] = record
        self.state.interactions_by_token[record.token] = record
        if not await self.gateway.dispatch("INTERACTION_CREATE", record.payload):
            raise AssertionError("no bot session is connected for shard 0 (DMs go there)")
        result = InteractionResult(record, self.state)
        await self.state.wait_for(
            result.complete, within=within, what=f"the answer to /{name} in a DM"
        )
        return result

    async def autocomplete(
        self,
        guild: Guild,
        channel: Channel,
        user: User | Member,
        name: str,
        options: dict[str, Any],
        focused: str,
        subcommand: str | None = None,
        *,
        within: float = WAIT,
    ) -> list[dict[str, Any]]:
        """A member is typing ``options[focused]``; returns the choices the bot offered."""
        member = user_member(guild, user)
        command = find_command(self.state, guild, name)
        tree, _ = build_options(
            self.state, guild, channel, member, command, options, subcommand, focused
        )
        data: dict[str, Any] = {"id": str(command.id), "name": name, "type": 1, "options": tree}
        if command.guild_id is not None:
            data["guild_id"] = str(command.guild_id)
        result = await self._interact(
            AUTOCOMPLETE,
            guild,
            channel,
            member,
            data,
            None,
            True,
            within,
            f"autocomplete choices for /{name} {focused}",
        )
        return result.choices

    async def click(
        self,
        message: Message | InteractionResult,
        user: User | Member,
        *,
        label: str | None = None,
        custom_id: str | None = None,
        within: float = WAIT,
    ) -> InteractionResult:
        """A member presses a button on ``message``, found by its label or custom_id."""
        if isinstance(message, InteractionResult):
            target = message.message
            if target is None:
                raise AssertionError("that interaction has no message to click on")
            message = target
        buttons = [c for row in message.components for c in row.get("components", [])]
        button = next(
            (
                b
                for b in buttons
                if (label is None or b.get("label") == label)
                and (custom_id is None or b.get("custom_id") == custom_id)
            ),
            None,
        )
        if button is None or (label is None and custom_id is None):
            raise CommandNotInvocable(
                f"no button {label or custom_id!r} on the message; it has "
                f"{[b.get('label') or b.get('custom_id') for b in buttons]}"
            )
        custom_id = str(button["custom_id"])
        if button.get("disabled"):
            raise CommandNotInvocable(f"button {custom_id!r} is disabled")
        guild = self.state.guilds[message.guild_id or 0]
        channel = guild.channels[message.channel_id]
        member = user_member(guild, user)
        data = {"custom_id": custom_id, "component_type": button.get("type", 2)}
        return await self._interact(
            MESSAGE_COMPONENT,
            guild,
            channel,
            member,
            data,
            message,
            True,
            within,
            f"the answer to pressing {custom_id!r}",
        )

    async def _interact(
        self,
        kind: int,
        guild: Guild,
        channel: Channel,
        member: Member,
        data: dict[str, Any],
        message: Message | None,
        wait: bool,
        within: float,
        what: str,
    ) -> InteractionResult:
        token = self.state.new_token()
        record = Interaction(
            id=self.state.ids.next(),
            token=token,
            type=kind,
            guild_id=guild.id,
            channel_id=channel.id,
            user_id=member.id,
            payload={},
        )
        record.payload = interaction_payload(
            self.state, record, guild, channel, member, data, message
        )
        self.state.interactions[record.id] = record
        self.state.interactions_by_token[token] = record
        sent = await self.gateway.dispatch("INTERACTION_CREATE", record.payload, guild_id=guild.id)
        if not sent:
            raise AssertionError("no bot session is connected for that guild's shard")
        result = InteractionResult(record, self.state)
        if wait:
            await self.state.wait_for(result.complete, within=within, what=what)
        return result

    # --- reading what the bot did ----------------------------------------------------------------
    def messages(self, channel: Channel | int, *, via: str | None = None) -> list[Message]:
        cid = channel if isinstance(channel, int) else channel.id
        return [m for m in self.state.messages.get(cid, []) if via is None or m.via == via]

    def posts(self, channel: Channel | int) -> list[Message]:
        """Messages the bot posted with ``POST /channels/{id}/messages`` (alerts, replies)."""
        return self.messages(channel, via="rest")

    def all_posts(self) -> list[Message]:
        return [m for msgs in self.state.messages.values() for m in msgs if m.via == "rest"]

    async def wait_for_messages(
        self,
        channel: Channel | int,
        count: int = 1,
        *,
        via: str | None = "rest",
        after: Message | None = None,
        within: float = WAIT,
    ) -> list[Message]:
        """Wait until ``channel`` has at least ``count`` messages (from ``via``, newer than
        ``after``) and return them."""

        def enough() -> list[Message] | None:
            found = [m for m in self.messages(channel, via=via) if after is None or m.id > after.id]
            return found if len(found) >= count else None

        return await self.state.wait_for(
            enough, within=within, what=f"{count} message(s) in channel {channel}"
        )

    async def wait_for(
        self, predicate: Callable[[], Any], *, what: str, within: float = WAIT
    ) -> Any:
        """Wait for any condition on the fake's state (re-checked whenever it changes)."""
        return await self.state.wait_for(predicate, within=within, what=what)

    async def wait_for_sessions(self, count: int = 1, *, within: float = WAIT) -> None:
        """Until ``count`` gateway sessions are live and connected (READY sent)."""
        await self.state.wait_for(
            lambda: len([s for s in self.gateway.live_sessions() if s.ws is not None]) >= count,
            within=within,
            what=f"{count} connected gateway session(s)",
        )

    async def wait_for_resume(self, resumes: int = 1, *, within: float = WAIT) -> None:
        await self.state.wait_for(
            lambda: (
                sum(s.resumes for s in self.gateway.sessions.values()) >= resumes
                and all(s.ws is not None for s in self.gateway.live_sessions())
            ),
            within=within,
            what=f"{resumes} gateway RESUME(s)",
        )

    def command(self, name: str, guild: Guild | None = None) -> dict[str, Any]:
        """The synced definition (JSON) of a top-level command."""
        if guild is not None:
            return find_command(self.state, guild, name).data
        for c in self.state.global_commands:
            if c.name == name:
                return c.data
        raise CommandNotInvocable(f"/{name} is not registered globally")

    def requests_to(self, route: str) -> list[Any]:
        """Recorded requests for a route template, e.g.
        ``"POST /channels/{channel_id}/messages"``."""
        return [r for r in self.state.requests if r.route == route]
