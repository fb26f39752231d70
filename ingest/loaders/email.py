"""E-mail (.eml, RFC 822/MIME): the headers a reader needs, then the text body, decoded.

Read as plain text, a quoted-printable mail shows "=C2=A338" where the sender wrote "£38",
and a number split by a soft line break is two tokens. The standard library's parser
decodes transfer encodings and charsets; the plain-text part is preferred, an HTML-only
mail is reduced to its visible text. Attachments are named in the text and returned, decoded,
for the pipeline to ingest as documents of their own (a PDF read by the PDF loader, a
forwarded mail by this one), each under the mail's source and forgotten with it.
"""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import Path, PurePosixPath

from ingest.loaders.base import (
    DEFAULT_BUDGET,
    Attachment,
    LoadedDocument,
    LoaderBudget,
    LoaderError,
)

HEADERS = ("Subject", "From", "To", "Cc", "Date")


def load_email(path: Path, data: bytes, budget: LoaderBudget = DEFAULT_BUDGET) -> LoadedDocument:
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except RecursionError as exc:  # the stdlib parser recurses once per nested part
        raise LoaderError(path, _too_deep(budget)) from exc
    if not isinstance(msg, EmailMessage) or not any(msg.get(h) for h in HEADERS):
        raise LoaderError(path, "not an e-mail message (no Subject, From, To or Date header)")
    if _depth(msg) > budget.depth:
        raise LoaderError(path, _too_deep(budget))
    body_part = msg.get_body(preferencelist=("plain", "html"))
    if body_part is None:
        raise LoaderError(path, "e-mail has no text or HTML body")
    try:
        body = body_part.get_content()
    except (LookupError, UnicodeDecodeError) as exc:
        raise LoaderError(path, f"e-mail body cannot be decoded ({exc})") from exc
    if body_part.get_content_subtype() == "html":
        from bs4 import BeautifulSoup

        body = BeautifulSoup(body, "html.parser").get_text("\n")
    head = [f"{h}: {msg[h]}" for h in HEADERS if msg.get(h)]
    attachments = _attachments(msg)
    if attachments:
        head.append(f"Attachments: {', '.join(a.name for a in attachments)}")
    text = "\n".join(head) + "\n\n" + body.strip() + "\n"
    subject = str(msg.get("Subject") or "").strip()
    return LoadedDocument(
        text=text,
        title=subject or path.name,
        media_type="message/rfc822",
        sections=[],
        attachments=attachments,
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


def _too_deep(budget: LoaderBudget) -> str:
    return (
        f"over the loader budget: MIME parts nested more than {budget.depth} deep "
        "(FACTVAULT_LOADER_MAX_DEPTH)"
    )


def _depth(msg: EmailMessage) -> int:
    """How deep the message's parts nest, counted without recursion."""
    deepest, stack = 0, [(msg, 1)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if part.is_multipart():
            stack.extend((child, depth + 1) for child in part.get_payload())
    return deepest


def _attachments(msg: EmailMessage) -> list[Attachment]:
    """Each attachment's bytes under a safe, unique base name (a sender's name may hold
    directories or control characters; it never becomes a path)."""
    found: list[Attachment] = []
    names: set[str] = set()
    for n, part in enumerate(msg.iter_attachments(), start=1):
        if part.get_content_type() == "message/rfc822":  # a forwarded mail
            inner = part.get_content()
            data = inner.as_bytes() if isinstance(inner, EmailMessage) else b""
            default = f"attachment-{n}.eml"
        else:
            data = part.get_payload(decode=True) or b""
            default = f"attachment-{n}"
        raw = str(part.get_filename() or "").replace("\\", "/")
        name = _UNSAFE.sub("_", PurePosixPath(raw).name).strip(" .")[:200] or default
        stem, dot, suffix = name.rpartition(".")
        k = 1
        while name in names:
            k += 1
            name = f"{stem}-{k}.{suffix}" if dot and stem else f"{default}-{k}"
        names.add(name)
        found.append(Attachment(name, data))
    return found
