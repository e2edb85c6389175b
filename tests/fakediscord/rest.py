"""The fake REST API under ``/api/v10``: the routes discord.py calls for login, command sync,
messages and interactions, answering with Discord's status codes and error bodies.

Every request is recorded (``State.requests``); a request to a route the fake does not know is
answered 404 and also recorded in ``State.unhandled``, so a test can assert the bot called
nothing unexpected. Faults (``faults.py``) are applied here, before or after the handler.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import payloads
from .gateway import INTENT_GUILD_MESSAGES
from .permissions import Perm
from .state import Command, Interaction, Message, RequestRecord, State, now

if TYPE_CHECKING:
    from .server import FakeDiscord

API_PREFIX = "/api/v10"
BODY: web.RequestKey[Any] = web.RequestKey(
    "body", object
)  # the parsed request body, read once by the middleware
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_EMBEDS = 1 << 2

#: Interaction tokens last 15 minutes; the first answer must come within 3 seconds.
TOKEN_LIFETIME = 15 * 60.0

# Callback types (Discord's InteractionResponseType).
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9


def _err(
    status: int, code: int, message: str, errors: dict[str, Any] | None = None
) -> web.Response:
    return payloads.response(payloads.error(code, message, errors), status=status)


def _form_error(errors: dict[str, Any]) -> web.Response:
    return _err(400, 50035, "Invalid Form Body", errors)


def _too_long(limit: int) -> dict[str, Any]:
    return {
        "_errors": [
            {"code": "BASE_TYPE_MAX_LENGTH", "message": f"Must be {limit} or fewer in length."}
        ]
    }


def validate_message(body: dict[str, Any]) -> dict[str, Any]:
    """Discord's checks on a message body, returned as its nested ``errors`` object."""
    errors: dict[str, Any] = {}
    content = body.get("content")
    if content is not None and len(str(content)) > 2000:
        errors["content"] = _too_long(2000)
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        errors["nonce"] = _too_long(25)
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        errors["embeds"] = _too_long(10)
    total = 0
    for i, e in enumerate(embeds):
        problems: dict[str, Any] = {}
        for key, limit in (("title", 256), ("description", 4096)):
            value = e.get(key)
            if value is not None:
                total += len(value)
                if len(value) > limit:
                    problems[key] = _too_long(limit)
        url = e.get("url")
        if url is not None and not str(url).startswith(("http://", "https://")):
            problems["url"] = {
                "_errors": [{"code": "URL_TYPE_INVALID_URL", "message": "Not a well formed URL."}]
            }
        colour = e.get("color")
        if colour is not None and not 0 <= int(colour) <= 0xFFFFFF:
            problems["color"] = {"_errors": [{"code": "NUMBER_TYPE_MAX", "message": "Too large."}]}
        if ts := e.get("timestamp"):
            try:
                datetime.fromisoformat(str(ts))
            except ValueError:
                problems["timestamp"] = {
                    "_errors": [
                        {"code": "DATE_TIME_TYPE_PARSE", "message": "Could not parse timestamp."}
                    ]
                }
        fields = e.get("fields") or []
        if len(fields) > 25:
            problems["fields"] = _too_long(25)
        for j, f in enumerate(fields):
            name, value = str(f.get("name", "")), str(f.get("value", ""))
            total += len(name) + len(value)
            fp: dict[str, Any] = {}
            if not name or len(name) > 256:
                fp["name"] = _too_long(256)
            if not value or len(value) > 1024:
                fp["value"] = _too_long(1024)
            if fp:
                problems.setdefault("fields", {})[str(j)] = fp
        footer = (e.get("footer") or {}).get("text")
        if footer is not None:
            total += len(footer)
            if len(footer) > 2048:
                problems["footer"] = {"text": _too_long(2048)}
        author = (e.get("author") or {}).get("name")
        if author is not None:
            total += len(author)
            if len(author) > 256:
                problems["author"] = {"name": _too_long(256)}
        if problems:
            errors.setdefault("embeds", {})[str(i)] = problems
    if total > 6000:
        errors.setdefault("embeds", {})["_errors"] = [
            {
                "code": "MAX_EMBED_SIZE_EXCEEDED",
                "message": "Embed size exceeds maximum size of 6000",
            }
        ]
    allowed = body.get("allowed_mentions")
    if allowed is not None:
        parse = set(allowed.get("parse", []))
        for kind in ("roles", "users"):
            if kind in parse and allowed.get(kind):
                errors.setdefault("allowed_mentions", {})["_errors"] = [
                    {
                        "code": "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                        "message": f'parse:["{kind}"] and {kind}: [ids...] are mutually exclusive.',
                    }
                ]
    return errors


def is_empty(body: dict[str, Any]) -> bool:
    return not (
        body.get("content")
        or body.get("embeds")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("attachments")
        or body.get("poll")
    )


class Rest:
    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.state: State = fake.state
        #: Seconds the bot has to answer an interaction before Discord calls it unknown.
        self.interaction_deadline: float | None = fake.interaction_deadline

    # --- app and middleware ------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.middleware])
        r = app.router
        p = API_PREFIX
        r.add_get(p + "/users/@me", self.get_me)
        r.add_get(p + "/users/{user_id}", self.get_user)
        r.add_get(p + "/gateway", self.get_gateway)
        r.add_get(p + "/gateway/bot", self.get_gateway_bot)
        r.add_get(p + "/oauth2/applications/@me", self.get_application)
        r.add_get(p + "/applications/@me", self.get_application)
        r.add_get(p + "/applications/{application_id}/commands", self.get_commands)
        r.add_put(p + "/applications/{application_id}/commands", self.put_commands)
        r.add_get(
            p + "/applications/{application_id}/guilds/{guild_id}/commands", self.get_commands
        )
        r.add_put(
            p + "/applications/{application_id}/guilds/{guild_id}/commands", self.put_commands
        )
        r.add_get(p + "/channels/{channel_id}", self.get_channel)
        r.add_get(p + "/channels/{channel_id}/messages", self.get_messages)
        r.add_post(p + "/channels/{channel_id}/messages", self.post_message)
        r.add_get(p + "/channels/{channel_id}/messages/{message_id}", self.get_message)
        r.add_patch(p + "/channels/{channel_id}/messages/{message_id}", self.patch_message)
        r.add_delete(p + "/channels/{channel_id}/messages/{message_id}", self.delete_message)
        r.add_post(p + "/channels/{channel_id}/typing", self.typing)
        r.add_get(p + "/guilds/{guild_id}", self.get_guild)
        r.add_get(p + "/guilds/{guild_id}/channels", self.get_guild_channels)
        r.add_get(p + "/guilds/{guild_id}/roles", self.get_guild_roles)
        r.add_get(p + "/guilds/{guild_id}/members/{user_id}", self.get_member)
        r.add_post(p + "/interactions/{interaction_id}/{token}/callback", self.callback)
        r.add_post(p + "/webhooks/{application_id}/{token}", self.post_followup)
        r.add_get(p + "/webhooks/{application_id}/{token}/messages/@original", self.get_original)
        r.add_patch(
            p + "/webhooks/{application_id}/{token}/messages/@original", self.patch_original
        )
        r.add_delete(
            p + "/webhooks/{application_id}/{token}/messages/@original", self.delete_original
        )
        r.add_get(p + "/webhooks/{application_id}/{token}/messages/{message_id}", self.get_followup)
        r.add_patch(
            p + "/webhooks/{application_id}/{token}/messages/{message_id}", self.patch_followup
        )
        r.add_delete(
            p + "/webhooks/{application_id}/{token}/messages/{message_id}", self.delete_followup
        )
        r.add_get("/gateway", self.fake.gateway.handle)
        return app

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(API_PREFIX):  # the gateway websocket
            return await handler(request)
        resource = request.match_info.route.resource
        template = resource.canonical[len(API_PREFIX) :] if resource is not None else request.path
        route = f"{request.method} {template}"
        path = request.path[len(API_PREFIX) :]
        body = await self._body(request)
        request[BODY] = body

        if request.match_info.http_exception is not None or resource is None:
            record = RequestRecord(request.method, path, route, 404, body)
            self.state.requests.append(record)
            self.state.unhandled.append(record)
            return _err(404, 0, "404: Not Found")

        needs_auth = not (
            template.startswith("/interactions/") or template.startswith("/webhooks/")
        )
        if needs_auth and request.headers.get("Authorization") != f"Bot {self.state.token}":
            self.state.requests.append(RequestRecord(request.method, path, route, 401, body))
            return _err(401, 0, "401: Unauthorized")

        fault = self.fake.faults.take(request.method, template, dict(request.match_info), path)
        # Recorded on arrival (status 0 until answered), so a held request is visible at once.
        record = RequestRecord(request.method, path, route, 0, body, fault.kind if fault else None)
        self.state.requests.append(record)
        if fault is not None and fault.answers:
            if fault.holds:
                await self.state.notify()
                await self._hold(fault)
            response: web.StreamResponse = fault.response()
        else:
            if fault is not None and fault.kind == "delay":
                await self.state.notify()
                await self._hold(fault)
            response = await handler(request)
            if fault is not None and fault.kind == "hang":  # committed: only the answer is lost
                await self.state.notify()
                await self._hold(fault)
                response = fault.response()
        status = record.status = response.status
        if 200 <= status < 300 and isinstance(response, web.Response):
            # Every real answer carries a roomy bucket, which discord.py tracks.
            response.headers.setdefault("X-RateLimit-Limit", "50")
            response.headers.setdefault("X-RateLimit-Remaining", "49")
            response.headers.setdefault("X-RateLimit-Reset-After", "1.000")
            response.headers.setdefault(
                "X-RateLimit-Bucket", "fake-" + template.strip("/").replace("/", "-")
            )
        await self.state.notify()
        return response

    @staticmethod
    async def _hold(fault: Any) -> None:
        try:
            await asyncio.wait_for(fault.released.wait(), fault.seconds)
        except TimeoutError:
            pass

    @staticmethod
    async def _body(request: web.Request) -> Any:
        if not request.can_read_body:
            return None
        if request.content_type == "application/json":
            return await request.json()
        if request.content_type.startswith("multipart/"):
            form = await request.post()
            raw = form.get("payload_json")
            return json.loads(str(raw)) if raw is not None else {}
        return await request.text()

    # --- identity --------------------------------------------------------------------------
    async def get_me(self, request: web.Request) -> web.Response:
        return payloads.response(payloads.client_user(self.state.bot_user))

    async def get_user(self, request: web.Request) -> web.Response:
        u = self.state.users.get(int(request.match_info["user_id"]))
        if u is None:
            return _err(404, 10013, "Unknown User")
        return payloads.response(payloads.user(u))

    async def get_gateway(self, request: web.Request) -> web.Response:
        return payloads.response({"url": self.fake.gateway_url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        return payloads.response(
            {
                "url": self.fake.gateway_url,
                "shards": self.fake.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    async def get_application(self, request: web.Request) -> web.Response:
        return payloads.response(payloads.application(self.state))

    # --- application commands -----------------------------------------------------------------
    def _commands_for(self, request: web.Request) -> tuple[int | None, list[Command]] | None:
        if int(request.match_info["application_id"]) != self.state.application_id:
            return None
        gid = request.match_info.get("guild_id")
        if gid is None:
            return None, self.state.global_commands
        return int(gid), self.state.guild_commands.setdefault(int(gid), [])

    async def get_commands(self, request: web.Request) -> web.Response:
        found = self._commands_for(request)
        if found is None:
            return _err(404, 10002, "Unknown Application")
        return payloads.response([payloads.command(self.state, c) for c in found[1]])

    async def put_commands(self, request: web.Request) -> web.Response:
        found = self._commands_for(request)
        if found is None:
            return _err(404, 10002, "Unknown Application")
        guild_id, current = found
        if guild_id is not None and guild_id not in self.state.guilds:
            return _err(403, 50001, "Missing Access")
        body: list[dict[str, Any]] = request[BODY] or []
        errors = _validate_commands(body)
        if errors:
            return _form_error(errors)
        by_name = {c.name: c for c in current}
        new = [
            Command(
                id=by_name[d["name"]].id if d["name"] in by_name else self.state.ids.next(),
                guild_id=guild_id,
                data=d,
            )
            for d in body
        ]
        current[:] = new
        self.state.command_syncs.append((guild_id, body))
        return payloads.response([payloads.command(self.state, c) for c in new])

    # --- channels and messages ---------------------------------------------------------------
    def _bot_channel(self, request: web.Request, need: int) -> tuple[Any, Any] | web.Response:
        found = self.state.find_channel(int(request.match_info["channel_id"]))
        if found is None:
            return _err(404, 10003, "Unknown Channel")
        guild, channel = found
        if self.state.bot_user.id not in guild.members:
            return _err(403, 50001, "Missing Access")
        have = guild.permissions(self.state.bot_user.id, channel.id)
        if not have & Perm.VIEW_CHANNEL:
            return _err(403, 50001, "Missing Access")
        if need & ~have:
            return _err(403, 50013, "Missing Permissions")
        return guild, channel

    async def get_channel(self, request: web.Request) -> web.Response:
        found = self._bot_channel(request, Perm.VIEW_CHANNEL)
        if isinstance(found, web.Response):
            return found
        return payloads.response(payloads.channel(found[1]))

    async def get_messages(self, request: web.Request) -> web.Response:
        found = self._bot_channel(request, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
        if isinstance(found, web.Response):
            return found
        limit = int(request.query.get("limit", "50"))
        msgs = [m for m in self.state.messages.get(found[1].id, []) if not m.ephemeral]
        return payloads.response([payloads.message(self.state, m) for m in reversed(msgs[-limit:])])

    async def post_message(self, request: web.Request) -> web.Response:
        found = self._bot_channel(request, Perm.SEND_MESSAGES)
        if isinstance(found, web.Response):
            return found
        guild, channel = found
        body: dict[str, Any] = request[BODY] or {}
        if errors := validate_message(body):
            return _form_error(errors)
        nonce = body.get("nonce")
        nonce = str(nonce) if nonce is not None else None
        if nonce is not None and body.get("enforce_nonce"):
            earlier = self.state.nonce_hit(channel.id, self.state.bot_user.id, nonce)
            if earlier is not None:
                return payloads.response(payloads.message(self.state, earlier))
        embeds = list(body.get("embeds") or [])
        if embeds and not guild.permissions(self.state.bot_user.id, channel.id) & Perm.EMBED_LINKS:
            embeds = []  # Discord drops embeds a bot may not post, without an error
        if is_empty({**body, "embeds": embeds}):
            return _err(400, 50006, "Cannot send an empty message")
        msg = Message(
            id=self.state.ids.next(),
            channel_id=channel.id,
            guild_id=guild.id,
            author=self.state.bot_user,
            content=str(body.get("content") or ""),
            via="rest",
            embeds=embeds,
            components=list(body.get("components") or []),
            flags=int(body.get("flags") or 0),
            nonce=nonce,
            allowed_mentions=body.get("allowed_mentions"),
            message_reference=body.get("message_reference"),
            request=body,
        )
        self.state.resolve_mentions(msg, body.get("allowed_mentions"))
        self.state.store(msg)
        self.state.remember_nonce(msg)
        await self.fake.gateway.dispatch(
            "MESSAGE_CREATE",
            payloads.message(self.state, msg, gateway=True),
            guild_id=guild.id,
            intent=INTENT_GUILD_MESSAGES,
        )
        return payloads.response(payloads.message(self.state, msg))

    def _message(self, request: web.Request) -> Message | web.Response:
        msg = self.state.messages_by_id.get(int(request.match_info["message_id"]))
        if msg is None or msg.channel_id != int(request.match_info["channel_id"]) or msg.ephemeral:
            return _err(404, 10008, "Unknown Message")
        return msg

    async def get_message(self, request: web.Request) -> web.Response:
        found = self._bot_channel(request, Perm.VIEW_CHANNEL | Perm.READ_MESSAGE_HISTORY)
        if isinstance(found, web.Response):
            return found
        msg = self._message(request)
        return (
            msg
            if isinstance(msg, web.Response)
            else payloads.response(payloads.message(self.state, msg))
        )

    async def patch_message(self, request: web.Request) -> web.Response:
        found = self._bot_channel(request, Perm.VIEW_CHANNEL)
        if isinstance(found, web.Response):
            return found
        msg = self._message(request)
        if isinstance(msg, web.Response):
            return msg
        if msg.author.id != self.state.bot_user.id:
            return _err(403, 50005, "Cannot edit a message authored by another user")
        body: dict[str, Any] = request[BODY] or {}
        if errors := validate_message(body):
            return _form_error(errors)
        _apply_edit(self.state, msg, body)
        return payloads.response(payloads.message(self.state, msg))

    async def delete_message(self, request: web.Request) -> web.Response:
        msg = self._message(request)
        if isinstance(msg, web.Response):
            return msg
        self.state.messages[msg.channel_id].remove(msg)
        return web.Response(status=204)

    async def typing(self, request: web.Request) -> web.Response:
        found = self._bot_channel(request, Perm.SEND_MESSAGES)
        return found if isinstance(found, web.Response) else web.Response(status=204)

    # --- guilds -----------------------------------------------------------------------------
    async def get_guild(self, request: web.Request) -> web.Response:
        g = self.state.guilds.get(int(request.match_info["guild_id"]))
        if g is None or self.state.bot_user.id not in g.members:
            return _err(404, 10004, "Unknown Guild")
        return payloads.response(payloads.guild_rest(g))

    async def get_guild_channels(self, request: web.Request) -> web.Response:
        g = self.state.guilds.get(int(request.match_info["guild_id"]))
        if g is None:
            return _err(404, 10004, "Unknown Guild")
        return payloads.response(
            [payloads.channel(c) for c in g.channels.values() if not c.deleted]
        )

    async def get_guild_roles(self, request: web.Request) -> web.Response:
        g = self.state.guilds.get(int(request.match_info["guild_id"]))
        if g is None:
            return _err(404, 10004, "Unknown Guild")
        return payloads.response([payloads.role(r) for r in g.roles.values()])

    async def get_member(self, request: web.Request) -> web.Response:
        g = self.state.guilds.get(int(request.match_info["guild_id"]))
        if g is None:
            return _err(404, 10004, "Unknown Guild")
        m = g.members.get(int(request.match_info["user_id"]))
        if m is None:
            return _err(404, 10007, "Unknown Member")
        return payloads.response(payloads.member(m))

    # --- interactions -----------------------------------------------------------------------
    def _interaction(self, request: web.Request) -> Interaction | web.Response:
        if "interaction_id" in request.match_info:
            i = self.state.interactions.get(int(request.match_info["interaction_id"]))
            if i is None or i.token != request.match_info["token"]:
                return _err(404, 10062, "Unknown interaction")
        else:
            if int(request.match_info["application_id"]) != self.state.application_id:
                return _err(404, 10015, "Unknown Webhook")
            i = self.state.interactions_by_token.get(request.match_info["token"])
            if i is None or time.monotonic() - i.created_at > TOKEN_LIFETIME:
                return _err(401, 50027, "Invalid Webhook Token")
        return i

    async def callback(self, request: web.Request) -> web.Response:
        i = self._interaction(request)
        if isinstance(i, web.Response):
            return i
        if i.acknowledged:
            return _err(400, 40060, "Interaction has already been acknowledged.")
        late = time.monotonic() - i.created_at
        if self.interaction_deadline is not None and late > self.interaction_deadline:
            return _err(404, 10062, "Unknown interaction")
        body: dict[str, Any] = request[BODY] or {}
        kind = int(body.get("type", 0))
        data: dict[str, Any] = body.get("data") or {}
        allowed_types = {
            2: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
            3: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL},
            4: {AUTOCOMPLETE_RESULT},
        }
        if kind not in allowed_types.get(i.type, set()):
            return _err(
                400,
                50035,
                "Invalid Form Body",
                {
                    "type": {
                        "_errors": [
                            {
                                "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                "message": "Invalid interaction response type",
                            }
                        ]
                    }
                },
            )
        if kind in (CHANNEL_MESSAGE, UPDATE_MESSAGE) and (errors := validate_message(data)):
            return _form_error(errors)
        if kind == AUTOCOMPLETE_RESULT and len(data.get("choices", [])) > 25:
            return _form_error({"data": {"choices": _too_long(25)}})
        i.callbacks.append(body)
        resource: dict[str, Any] | None = None
        if kind in (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE):
            flags = int(data.get("flags") or 0) & (EPHEMERAL | SUPPRESS_EMBEDS)
            if kind == DEFERRED_CHANNEL_MESSAGE:
                flags |= LOADING
            msg = self._interaction_message(
                i, data if kind == CHANNEL_MESSAGE else {}, flags, "interaction"
            )
            i.original = msg
            resource = {"type": kind, "message": payloads.message(self.state, msg)}
        elif kind == UPDATE_MESSAGE:
            target = self._component_message(i)
            if target is not None:
                _apply_edit(self.state, target, data)
                resource = {"type": kind, "message": payloads.message(self.state, target)}
        answer: dict[str, Any] = {
            "interaction": {
                "id": str(i.id),
                "type": i.type,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(i.original and i.original.ephemeral),
            }
        }
        if i.original is not None:
            answer["interaction"]["response_message_id"] = str(i.original.id)
        if resource is not None:
            answer["resource"] = resource
        if request.query.get("with_response") in ("1", "true", "True"):
            return payloads.response(answer)
        return web.Response(status=204)

    def _component_message(self, i: Interaction) -> Message | None:
        raw = i.payload.get("message")
        return self.state.messages_by_id.get(int(raw["id"])) if raw else None

    def _interaction_message(
        self, i: Interaction, data: dict[str, Any], flags: int, via: str
    ) -> Message:
        msg = Message(
            id=self.state.ids.next(),
            channel_id=i.channel_id,
            guild_id=i.guild_id,
            author=self.state.bot_user,
            content=str(data.get("content") or ""),
            via=via,
            embeds=list(data.get("embeds") or []),
            components=list(data.get("components") or []),
            flags=flags,
            allowed_mentions=data.get("allowed_mentions"),
            interaction_id=i.id,
            request=data,
        )
        self.state.resolve_mentions(msg, data.get("allowed_mentions"))
        self.state.messages_by_id[msg.id] = msg
        if not msg.ephemeral:
            self.state.messages.setdefault(msg.channel_id, []).append(msg)
        return msg

    async def get_original(self, request: web.Request) -> web.Response:
        i = self._interaction(request)
        if isinstance(i, web.Response):
            return i
        if i.original is None or i.original_deleted:
            return _err(404, 10008, "Unknown Message")
        return payloads.response(payloads.message(self.state, i.original))

    async def patch_original(self, request: web.Request) -> web.Response:
        i = self._interaction(request)
        if isinstance(i, web.Response):
            return i
        target = i.original
        if target is None and i.callbacks and int(i.callbacks[0]["type"]) == DEFERRED_UPDATE:
            target = self._component_message(
                i
            )  # after a deferred update, @original is that message
        if target is None or i.original_deleted:
            return _err(404, 10008, "Unknown Message")
        body: dict[str, Any] = request[BODY] or {}
        if errors := validate_message(body):
            return _form_error(errors)
        _apply_edit(self.state, target, body)
        return payloads.response(payloads.message(self.state, target))

    async def delete_original(self, request: web.Request) -> web.Response:
        i = self._interaction(request)
        if isinstance(i, web.Response):
            return i
        if i.original is None or i.original_deleted:
            return _err(404, 10008, "Unknown Message")
        i.original_deleted = True
        msgs = self.state.messages.get(i.original.channel_id, [])
        if i.original in msgs:
            msgs.remove(i.original)
        return web.Response(status=204)

    async def post_followup(self, request: web.Request) -> web.Response:
        i = self._interaction(request)
        if isinstance(i, web.Response):
            return i
        if not i.acknowledged:
            return _err(404, 10015, "Unknown Webhook")
        body: dict[str, Any] = request[BODY] or {}
        if errors := validate_message(body):
            return _form_error(errors)
        if is_empty(body):
            return _err(400, 50006, "Cannot send an empty message")
        flags = int(body.get("flags") or 0) & (EPHEMERAL | SUPPRESS_EMBEDS)
        callback = int(i.callbacks[0]["type"])
        if (
            callback == DEFERRED_CHANNEL_MESSAGE
            and i.original is not None
            and i.original.flags & LOADING
        ):
            # The first followup after "thinking…" replaces the loading message, keeping its
            # ephemerality, as Discord does.
            _apply_edit(self.state, i.original, body)
            return payloads.response(payloads.message(self.state, i.original))
        msg = self._interaction_message(i, body, flags, "followup")
        i.followups.append(msg)
        return payloads.response(payloads.message(self.state, msg))

    def _followup(self, i: Interaction, request: web.Request) -> Message | web.Response:
        mid = int(request.match_info["message_id"])
        for m in [*i.followups, *([i.original] if i.original else [])]:
            if m.id == mid:
                return m
        return _err(404, 10008, "Unknown Message")

    async def get_followup(self, request: web.Request) -> web.Response:
        i = self._interaction(request)
        if isinstance(i, web.Response):
            return i
        m = self._followup(i, request)
        return (
            m if isinstance(m, web.Response) else payloads.response(payloads.message(self.state, m))
        )

    async def patch_followup(self, request: web.Request) -> web.Response:
        i = self._interaction(request)
        if isinstance(i, web.Response):
            return i
        m = self._followup(i, request)
        if isinstance(m, web.Response):
            return m
        body: dict[str, Any] = request[BODY] or {}
        if errors := validate_message(body):
            return _form_error(errors)
        _apply_edit(self.state, m, body)
        return payloads.response(payloads.message(self.state, m))

    async def delete_followup(self, request: web.Request) -> web.Response:
        i = self._interaction(request)
        if isinstance(i, web.Response):
            return i
        m = self._followup(i, request)
        if isinstance(m, web.Response):
            return m
        if m in i.followups:
            i.followups.remove(m)
        return web.Response(status=204)


def _apply_edit(state: State, msg: Message, body: dict[str, Any]) -> None:
    """PATCH semantics: keys present replace, absent keys stay; a loading message becomes a
    normal one without counting as an edit."""
    for key in ("content", "embeds", "components"):
        if key in body:
            value = body[key]
            setattr(
                msg,
                key,
                (str(value) if value is not None else "")
                if key == "content"
                else list(value or []),
            )
    if "allowed_mentions" in body:
        msg.allowed_mentions = body["allowed_mentions"]
    if msg.flags & LOADING:
        msg.flags &= ~LOADING
        if msg.request is not None:
            msg.request = body
    else:
        msg.edited_at = now()
    state.resolve_mentions(msg, msg.allowed_mentions)
    if not msg.ephemeral and msg not in state.messages.setdefault(msg.channel_id, []):
        state.messages[msg.channel_id].append(msg)


def _validate_commands(body: list[dict[str, Any]]) -> dict[str, Any]:
    """The checks Discord makes on a command sync that a bot can plausibly get wrong."""
    errors: dict[str, Any] = {}
    seen: set[tuple[str, int]] = set()

    def check_options(options: list[dict[str, Any]], where: dict[str, Any]) -> None:
        if len(options) > 25:
            where["options"] = _too_long(25)
        required_done = False
        for k, o in enumerate(options):
            problems: dict[str, Any] = {}
            if not 1 <= len(o.get("description", "")) <= 100:
                problems["description"] = _too_long(100)
            if (
                o.get("name", "") != o.get("name", "").lower()
                or not 1 <= len(o.get("name", "")) <= 32
            ):
                problems["name"] = {
                    "_errors": [
                        {
                            "code": "APPLICATION_COMMAND_INVALID_NAME",
                            "message": "Command name is invalid",
                        }
                    ]
                }
            if o.get("required") and required_done:
                problems["required"] = {
                    "_errors": [
                        {
                            "code": "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                            "message": "Required options must come before optional ones",
                        }
                    ]
                }
            if not o.get("required") and o.get("type") not in (1, 2):
                required_done = True
            if o.get("type") in (1, 2):
                sub: dict[str, Any] = {}
                check_options(o.get("options", []), sub)
                problems.update(sub)
            if problems:
                where.setdefault("options", {})[str(k)] = problems

    for n, c in enumerate(body):
        problems: dict[str, Any] = {}
        key = (c.get("name", ""), int(c.get("type", 1)))
        if key in seen:
            problems["name"] = {
                "_errors": [
                    {
                        "code": "APPLICATION_COMMANDS_DUPLICATE_NAME",
                        "message": "Application command names must be unique",
                    }
                ]
            }
        seen.add(key)
        if key[1] == 1 and not 1 <= len(c.get("description", "")) <= 100:
            problems["description"] = _too_long(100)
        check_options(c.get("options", []), problems)
        if problems:
            errors[str(n)] = problems
    return errors
