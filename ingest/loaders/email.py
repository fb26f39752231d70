"""E-mail (.eml, RFC 822/MIME): the headers a reader needs, then the text body, decoded.

Read as plain text, a quoted-printable mail shows "=C2=A338" where the sender wrote "£38",
and a number split by a soft line break is two tokens. The standard library's parser
decodes transfer encodings and charsets; the plain-text part is preferred, an HTML-only
mail is reduced to its visible text, and attachments are named but not read.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

from ingest.loaders.base import LoadedDocument, LoaderError

HEADERS = ("Subject", "From", "To", "Cc", "Date")


def load_email(path: Path, data: bytes) -> LoadedDocument:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(msg, EmailMessage) or not any(msg.get(h) for h in HEADERS):
        raise LoaderError(path, "not an e-mail message (no Subject, From, To or Date header)")
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
    attachments = [a.get_filename() for a in msg.iter_attachments() if a.get_filename()]
    if attachments:
        head.append(f"Attachments (not read): {', '.join(attachments)}")
    text = "\n".join(head) + "\n\n" + body.strip() + "\n"
    subject = str(msg.get("Subject") or "").strip()
    return LoadedDocument(
        text=text, title=subject or path.name, media_type="message/rfc822", sections=[]
    )
