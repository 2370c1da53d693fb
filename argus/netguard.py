"""Where a server-side fetch may go: the guard against server-side request forgery.

An analyst names a partner's TAXII URL; the poller then fetches it from inside the fusion
centre's network. Without a guard that is a way to reach loopback services, cloud metadata
(169.254.169.254), the stores' own ports and anything else on private ranges. A URL is allowed
when every address its host resolves to is a public unicast address, or when an administrator
allow-listed the host name or a network containing the address (`taxii.feed_allow`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit


class Forbidden(ValueError):
    """A URL the guard refuses: the message says which address and why."""


def _special(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _special(ip.ipv4_mapped)
    for what, flag in (
        ("loopback", ip.is_loopback),
        ("link-local (cloud metadata lives here)", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    ):
        if flag:
            return what
    return None


def _allowed(host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow: Iterable[str]) -> bool:
    for entry in allow:
        entry = entry.strip()
        if not entry:
            continue
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            if host.lower() == entry.lower():
                return True
    return False


def check_url(url: str, allow: Iterable[str] = (), resolve: bool = True) -> None:
    """Raise Forbidden unless `url` is http(s) to a host whose every address may be fetched (a
    host that does not resolve passes: there is nothing to reach, and each fetch checks again)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Forbidden(f"url: {url[:120]!r} is not an http(s) URL with a host")
    host = parts.hostname
    allow = list(allow)
    try:
        addrs = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            return  # nothing to reach yet; the poller checks again before every fetch
        addrs = list({ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos})
    for ip in addrs:
        why = _special(ip)
        if why and not _allowed(host, ip, allow):
            raise Forbidden(
                f"url: {host} resolves to {ip}, a {why} address; an administrator must allow it "
                "(taxii.feed_allow in topology.yaml) before a feed may point there"
            )
