"""Which host names a request may carry, and which inference endpoints the API may reach.

Two allow-lists, one matching rule. An entry is a host name (``factvault.example.com``),
a subdomain pattern (``*.example.com``), an IP address or a network (``10.0.0.0/8``).
Names match names and addresses match addresses: a name is never resolved here, because
what it resolves to can change between the check and the use (DNS rebinding is exactly that).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

LOOPBACK_NAMES = ("localhost",)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def matches(host: str, entries: Iterable[str]) -> bool:
    """Whether ``host`` (a name or an IP address, without port) is one of ``entries``."""
    host = host.lower().rstrip(".")
    address = _address(host)
    for entry in entries:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        if address is not None:
            try:
                if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                    return True
            except ValueError:
                continue  # a name entry: never matches an address
        elif entry.startswith("*."):
            if host.endswith(entry[1:]) and host != entry[2:]:
                return True
        elif host == entry:
            return True
    return False


def request_host(header: str | None) -> str | None:
    """The host name of a ``Host`` header (no port, brackets kept off), None if unusable."""
    if not header:
        return None
    try:
        host = urlsplit("//" + header.strip()).hostname
    except ValueError:
        return None
    return host or None


def serves_host(header: str | None, bound: str, extra: Iterable[str]) -> bool:
    """Whether a request naming ``header`` as its Host is for this service.

    Allowed: any IP address literal (a rebinding page always names its own domain, so an
    address in the Host was typed by someone who meant this machine), the loopback names,
    the host the server is bound to, and ``extra`` (``FACTVAULT_ALLOWED_HOSTS``).
    """
    host = request_host(header)
    if host is None:
        return False
    if _address(host) is not None:
        return True
    return matches(host, [*LOOPBACK_NAMES, bound, *extra])


def endpoint_host(url: str) -> str:
    """The host of an endpoint URL (checked by the registry before this is asked)."""
    return urlsplit(url).hostname or ""
