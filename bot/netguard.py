"""SSRF guard: feed URLs come from server admins, so they must not reach our own network.

A feed URL added with ``/feeds add`` is fetched by the bot, from the bot's machine. Without a
guard, anyone allowed to add a feed could make the bot read its cloud metadata endpoint
(169.254.169.254), an admin panel on localhost, or a database on the private network, and
learn about it from the error messages. The guard refuses such addresses in two places:

* :func:`check_url` looks at a URL before any connection: the scheme, and the host when it is
  an IP literal. aiohttp never calls a resolver for an IP literal, so a resolver-only guard
  would let ``http://127.0.0.1/`` and ``http://[::ffff:127.0.0.1]/`` straight through.
* :class:`GuardedResolver` wraps the resolver aiohttp uses and checks every DNS answer. aiohttp
  connects to exactly the addresses the resolver returned, so a name that resolves to a public
  address at check time and to 127.0.0.1 at connect time (DNS rebinding) is still caught.

The fetcher runs :func:`check_url` on every redirect hop, and every hop's DNS answers go
through the resolver, so a public feed cannot redirect the bot into the private network.

``[fetch] allow_private_networks = true`` lifts the address checks (the scheme check stays).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

HINT = "set [fetch] allow_private_networks = true to allow it"

# Checked in order; the first match names the reason. Python 3.11's ``is_global`` and
# ``is_private`` are wrong for several of these (``::127.0.0.1``, ``64:ff9b::7f00:1``,
# ``192.0.0.8`` and ``2002:7f00:1::`` all count as global there), so the table is explicit and
# ``is_global`` is only the last line of defence for whatever it forgets.
_V4_BLOCKS: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("169.254.0.0/16", "link-local, where cloud metadata services live"),
    ("100.64.0.0/10", "shared address space of carrier-grade NAT"),
    ("192.0.0.0/24", "reserved for protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("198.18.0.0/15", "benchmarking"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_V6_BLOCKS: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("fc00::/7", "private (unique local)"),
    ("ff00::/8", "multicast"),
    ("100::/64", "discard-only"),
    ("2001:db8::/32", "documentation"),
    ("2001:10::/28", "reserved (ORCHID)"),
    ("2001:20::/28", "reserved (ORCHIDv2)"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("2001::/32", "Teredo tunnel"),
    ("5f00::/16", "reserved (SRv6 SIDs)"),
)
_V4_TABLE = tuple((ipaddress.IPv4Network(n), why) for n, why in _V4_BLOCKS)
_V6_TABLE = tuple((ipaddress.IPv6Network(n), why) for n, why in _V6_BLOCKS)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")

# What an IPv4 literal can look like in the legacy inet_aton forms (``2130706433``, ``127.1``,
# ``0x7f.0.0.1``, ``0177.0.0.1``). Browsers and the C library read them as addresses.
_LEGACY_V4 = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


class BlockedAddressError(OSError):
    """The guard refused an address. ``str()`` is the message shown to the admin."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        self.reason = reason
        super().__init__(f"address {address} is not allowed ({reason}); {HINT}")

    def __str__(self) -> str:  # OSError's own __str__ would prefix "[Errno None]"
        return str(self.args[0])


class UnsupportedSchemeError(ValueError):
    """The URL's scheme is not one the fetcher speaks (only http and https go to the network)."""


def blocked_reason(address: str | IPAddress) -> str | None:
    """Why ``address`` must not be fetched from, or None when it is a public address."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv4Address):
        return _v4_reason(ip)
    # Zones (fe80::1%eth0) do not change what the address is.
    if ip.scope_id is not None:
        ip = ipaddress.IPv6Address(ip.packed)
    for net, why in _V6_TABLE:
        if ip in net:
            return why
    embedded, form = _embedded_v4(ip)
    if embedded is not None:
        inner = _v4_reason(embedded)
        return f"{form} form of {embedded}, {inner}" if inner else None
    if ip.is_reserved or not ip.is_global:
        return "not a public address"
    return None


def _v4_reason(ip: ipaddress.IPv4Address) -> str | None:
    for net, why in _V4_TABLE:
        if ip in net:
            return why
    if ip.is_reserved or ip.is_multicast or not ip.is_global:
        return "not a public address"
    return None


def _embedded_v4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address | None, str]:
    """The IPv4 address an IPv6 address stands for, if it is one of the translation forms."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip in _V4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "IPv4-compatible"
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    return None, ""


def parse_ip_host(host: str) -> IPAddress | None:
    """The address an IP-literal URL host names, or None when the host is a DNS name.

    Accepts the bracket-less form yarl gives (``::ffff:7f00:1``), zones, and the legacy IPv4
    spellings, so ``http://2130706433/`` is recognised as 127.0.0.1 and not sent to DNS.
    """
    h = host.strip("[]")
    if h.endswith(".") and ":" not in h:
        h = h[:-1]
    try:
        return ipaddress.ip_address(h)
    except ValueError:
        pass
    if _LEGACY_V4.match(h):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(h))
        except OSError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class Guard:
    """The address policy one fetcher applies.

    ``exempt`` lists networks allowed even when private networks are not; it exists so tests
    can stand up a "public" server on one loopback address (127.0.0.2) and show that a redirect
    to another (127.0.0.1) is still refused. Production leaves it empty.
    """

    allow_private: bool = False
    exempt: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def with_exemptions(cls, networks: Iterable[str], *, allow_private: bool = False) -> Guard:
        return cls(allow_private, tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def check_address(self, address: str | IPAddress) -> None:
        """Raise :class:`BlockedAddressError` when ``address`` may not be connected to."""
        if self.allow_private:
            return
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if self.exempt and any(ip.version == n.version and ip in n for n in self.exempt):
            return
        reason = blocked_reason(ip)
        if reason:
            raise BlockedAddressError(str(address), reason)

    def check_url(self, url: URL | str, *, allow_file: bool = False) -> URL:
        """Check what can be checked before connecting; return the parsed URL.

        Raises :class:`UnsupportedSchemeError` or :class:`BlockedAddressError`.
        """
        u = url if isinstance(url, URL) else URL(url)
        scheme = u.scheme.lower()
        if scheme == "file":
            if not allow_file:
                raise UnsupportedSchemeError(
                    "file: URLs are not allowed; set [fetch] allow_file_urls = true to read "
                    "local feed files (the offline demo does)"
                )
            return u
        if scheme not in ("http", "https"):
            shown = f"{scheme}:" if scheme else "a URL without a scheme"
            raise UnsupportedSchemeError(f"unsupported URL scheme {shown}; use http:// or https://")
        host = u.raw_host
        if not host:
            raise UnsupportedSchemeError(f"URL {str(u)!r} has no host")
        ip = parse_ip_host(u.host or host)
        if ip is not None:
            self.check_address(ip)
        return u


class GuardedResolver(AbstractResolver):
    """A resolver that drops every answer the guard refuses, and fails when none is left.

    Answers that pass are returned unchanged; a name with one public and one private address
    connects only to the public one. When nothing passes, the :class:`BlockedAddressError` for
    the first refused answer is raised; aiohttp wraps it in a ``ClientConnectorError`` whose
    ``os_error`` is that exception, which is how the fetcher tells it from a DNS failure.
    """

    def __init__(self, inner: AbstractResolver, guard: Guard) -> None:
        self._inner = inner
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        kept: list[ResolveResult] = []
        first_refusal: BlockedAddressError | None = None
        for answer in answers:
            try:
                self._guard.check_address(answer["host"])
            except BlockedAddressError as e:
                first_refusal = first_refusal or e
            except ValueError:
                # Not an IP address at all: a resolver should never answer that. Refuse.
                first_refusal = first_refusal or BlockedAddressError(
                    repr(answer["host"]), "not an IP address"
                )
            else:
                kept.append(answer)
        if first_refusal is not None and not kept:
            raise first_refusal
        if not kept:
            # aiohttp cannot handle an empty answer (it trips an assertion); make it a miss.
            raise socket.gaierror(socket.EAI_NONAME, f"no addresses found for {host}")
        return kept

    async def close(self) -> None:
        await self._inner.close()

