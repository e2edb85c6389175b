"""The fake gateway: a websocket that speaks Discord's gateway protocol (v10, JSON).

What it covers, in the order a client meets it:

* transport compression as the client asks in the URL query: ``compress=zlib-stream`` (one
  zlib context per connection, every frame ending in the Z_SYNC_FLUSH suffix
  ``00 00 ff ff``), ``zstd-stream`` when the ``zstandard`` module is installed, or none;
* HELLO → the client's HEARTBEATs are ACKed;
* IDENTIFY (token checked, ``shard: [id, count]`` honoured) → READY (with
  ``resume_gateway_url`` and ``shard``) then one GUILD_CREATE per guild *that shard owns*,
  ``(guild_id >> 22) % shard_count``;
* dispatches get increasing sequence numbers and are kept per session, so a RESUME after a
  dropped connection replays what the client missed, then RESUMED; an unknown session gets
  INVALID_SESSION (false) and the client has to IDENTIFY again;
* intents: guild events need GUILDS, guild messages need GUILD_MESSAGES, and message content
  is blanked without MESSAGE_CONTENT (unless the bot is mentioned), as Discord does;
* faults for tests: ``drop()`` (close code 4000 or an abrupt TCP reset), ``reconnect()``
  (op 7), ``invalidate()`` (op 9).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from . import payloads
from .state import State, shard_of

log = logging.getLogger("fakediscord.gateway")

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15

HEARTBEAT_INTERVAL_MS = 41_250


class _Encoder:
    """Frames one connection's outgoing payloads the way the client asked for them."""

    def __init__(self, compress: str | None) -> None:
        self.kind = compress
        # One compression context per connection: frames must be compressed and written in
        # the same order, so encode+send happen under this lock.
        self.lock = asyncio.Lock()
        self._zlib = zlib.compressobj() if compress == "zlib-stream" else None
        self._zstd: Any = None
        if compress == "zstd-stream":
            import zstandard  # only when a client asks for it; discord.py does if it has it

            self._zstd = zstandard.ZstdCompressor().compressobj()
            self._zstd_flush = zstandard.COMPRESSOBJ_FLUSH_BLOCK

    def encode(self, payload: dict[str, Any]) -> str | bytes:
        text = json.dumps(payload, separators=(",", ":"))
        if self._zlib is not None:
            data = text.encode()
            return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        if self._zstd is not None:
            return self._zstd.compress(text.encode()) + self._zstd.flush(self._zstd_flush)
        return text


@dataclass(eq=False)
class Session:
    """A gateway session: survives dropped connections until invalidated."""

    id: str
    shard: tuple[int, int] | None
    intents: int
    seq: int = 0
    backlog: list[dict[str, Any]] = field(default_factory=list)
    ws: web.WebSocketResponse | None = None
    encoder: _Encoder | None = None
    request: web.Request | None = None
    alive: bool = True  # False once invalidated or superseded by a new IDENTIFY
    identified_at: int = 0  # connection counter, for tests that wait for a new session
    resumes: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def shard_id(self) -> int:
        return self.shard[0] if self.shard else 0

    def owns(self, guild_id: int | None) -> bool:
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_of(guild_id, count) == shard_id if guild_id is not None else shard_id == 0


class Gateway:
    BACKLOG = 1000

    def __init__(self, state: State, url: Callable[[], str]) -> None:
        self.state = state
        self._url = url
        self.sessions: dict[str, Session] = {}
        self.connections = 0
        self.identifies: list[dict[str, Any]] = []  # the IDENTIFY payloads received, tokens kept
        self.resume_requests: list[dict[str, Any]] = []
        self.received: list[dict[str, Any]] = []  # every op the clients sent
        self.connect_queries: list[dict[str, str]] = []  # ?v=…&encoding=…&compress=… per connection
        self._sockets: set[web.WebSocketResponse] = set()

    # --- what tests and the REST side call ----------------------------------------------
    def live_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if s.alive]

    async def dispatch(
        self, event: str, data: dict[str, Any], *, guild_id: int | None = None, intent: int = 0
    ) -> int:
        """Send a dispatch to every live session that owns ``guild_id`` and asked for
        ``intent``; returns how many sessions it was queued for (connected or not)."""
        count = 0
        for session in self.live_sessions():
            if not session.owns(guild_id) or (intent and not session.intents & intent):
                continue
            payload = data
            if event == "MESSAGE_CREATE" and not session.intents & INTENT_MESSAGE_CONTENT:
                payload = _without_content(data, self.state.bot_user.id)
            await self._dispatch_to(session, event, payload)
            count += 1
        return count

    async def drop(
        self, *, shard_id: int | None = None, code: int = 4000, abrupt: bool = False
    ) -> int:
        """Cut connections (all, or one shard's) without ending their sessions, so the client
        is expected to come back with RESUME. Returns how many were cut."""
        cut = 0
        for session in self.live_sessions():
            if shard_id is not None and session.shard_id != shard_id:
                continue
            if session.ws is None:
                continue
            ws, request = session.ws, session.request
            session.ws = None
            cut += 1
            if abrupt and request is not None and request.transport is not None:
                request.transport.close()
            else:
                await ws.close(code=code, message=b"fake: dropped by test")
        return cut

    async def reconnect(self, *, shard_id: int | None = None) -> None:
        """op 7 RECONNECT: Discord asks the client to reconnect and resume."""
        for session in self.live_sessions():
            if (shard_id is None or session.shard_id == shard_id) and session.ws is not None:
                await self._send(session, {"op": RECONNECT, "d": None})

    async def invalidate(self, *, shard_id: int | None = None) -> None:
        """op 9 INVALID_SESSION (not resumable): the client must IDENTIFY afresh."""
        for session in self.live_sessions():
            if (shard_id is None or session.shard_id == shard_id) and session.ws is not None:
                session.alive = False
                await self._send(session, {"op": INVALID_SESSION, "d": False})

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"fake: shutting down")

    # --- the websocket ----------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.StreamResponse:
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream", "zstd-stream"):
            raise web.HTTPBadRequest(text=f"fake gateway: unsupported compress={compress}")
        if request.query.get("encoding", "json") != "json":
            raise web.HTTPBadRequest(text="fake gateway: only encoding=json is implemented")
        self.connect_queries.append(dict(request.query))
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self.connections += 1
        self._sockets.add(ws)
        encoder = _Encoder(compress)
        session: Session | None = None
        try:
            # Discord compresses every frame of a compressed connection, HELLO included.
            await self._send_raw(
                ws, encoder, {"op": HELLO, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}}
            )
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                self.received.append(frame)
                op, d = frame.get("op"), frame.get("d")
                if op == HEARTBEAT:
                    await self._send_raw(ws, encoder, {"op": HEARTBEAT_ACK, "d": None})
                elif op == IDENTIFY:
                    session = await self._identify(ws, request, encoder, d)
                    if session is None:
                        break
                elif op == RESUME:
                    session = await self._resume(ws, request, encoder, d)
                elif op in (PRESENCE, REQUEST_MEMBERS):
                    continue  # accepted and ignored: nothing in the fake depends on them
                else:
                    await ws.close(code=4001, message=b"Unknown opcode")
                    break
        finally:
            self._sockets.discard(ws)
            if session is not None and session.ws is ws:
                session.ws = None
        return ws

    async def _identify(
        self, ws: web.WebSocketResponse, request: web.Request, encoder: _Encoder, d: dict[str, Any]
    ) -> Session | None:
        self.identifies.append(d)
        if d.get("token") != self.state.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard = tuple(d["shard"]) if d.get("shard") else None
        if shard is not None and not (0 <= shard[0] < shard[1]):
            await ws.close(code=4010, message=b"Invalid shard.")
            return None
        intents = int(d.get("intents", 0))
        for old in self.live_sessions():  # a new IDENTIFY for a shard replaces its old session
            if old.shard == shard:
                old.alive = False
        session = Session(id=secrets.token_hex(16), shard=shard, intents=intents)  # type: ignore[arg-type]
        session.identified_at = self.connections
        self.sessions[session.id] = session
        session.ws, session.encoder, session.request = ws, encoder, request
        guilds = [g for g in self.state.guilds.values() if session.owns(g.id)]
        ready: dict[str, Any] = {
            "v": 10,
            "user": payloads.client_user(self.state.bot_user),
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self._url(),
            "application": {"id": str(self.state.application_id), "flags": 1 << 19},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "user_settings": {},
        }
        if shard is not None:
            ready["shard"] = list(shard)
        await self._dispatch_to(session, "READY", ready)
        if intents & INTENT_GUILDS:
            for g in guilds:
                await self._dispatch_to(
                    session, "GUILD_CREATE", payloads.guild_create(g, bot_id=self.state.bot_user.id)
                )
        await self.state.notify()
        return session

    async def _resume(
        self, ws: web.WebSocketResponse, request: web.Request, encoder: _Encoder, d: dict[str, Any]
    ) -> Session | None:
        self.resume_requests.append(d)
        session = self.sessions.get(d.get("session_id", ""))
        if d.get("token") != self.state.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        seq = d.get("seq") or 0
        if session is None or not session.alive or seq > session.seq:
            await self._send_raw(ws, encoder, {"op": INVALID_SESSION, "d": False})
            return None
        async with session.lock:
            session.ws, session.encoder, session.request = ws, encoder, request
            session.resumes += 1
            for payload in session.backlog:
                if payload["s"] > seq:
                    await self._send_raw(ws, encoder, payload)
        await self._dispatch_to(session, "RESUMED", {})
        await self.state.notify()
        return session

    async def _dispatch_to(self, session: Session, event: str, data: dict[str, Any]) -> None:
        async with session.lock:
            session.seq += 1
            payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
            session.backlog.append(payload)
            del session.backlog[: -self.BACKLOG]
            if session.ws is not None and session.encoder is not None and not session.ws.closed:
                try:
                    await self._send_raw(session.ws, session.encoder, payload)
                except ConnectionError:
                    session.ws = None  # kept in the backlog; a RESUME will replay it

    async def _send(self, session: Session, payload: dict[str, Any]) -> None:
        if session.ws is not None and session.encoder is not None:
            await self._send_raw(session.ws, session.encoder, payload)

    @staticmethod
    async def _send_raw(
        ws: web.WebSocketResponse, encoder: _Encoder, payload: dict[str, Any]
    ) -> None:
        async with encoder.lock:
            frame = encoder.encode(payload)
            if isinstance(frame, bytes):
                await ws.send_bytes(frame)
            else:
                await ws.send_str(frame)


def _without_content(data: dict[str, Any], bot_id: int) -> dict[str, Any]:
    mentioned = any(u.get("id") == str(bot_id) for u in data.get("mentions", []))
    if mentioned or data.get("author", {}).get("id") == str(bot_id):
        return data
    return {**data, "content": "", "embeds": [], "attachments": [], "components": []}
