"""Text handling every layer shares: the content terms that retrieval's evidence selection and
answer attribution both judge overlap by, the name a model reads a document by, and the
neutralising of document text quoted into a prompt. Plain string work: no model, no store.
"""

from __future__ import annotations

import re

_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")  # 2,115 -> 2115
_POSSESSIVE = re.compile(r"'s\b")
_TERM = re.compile(r"[a-z0-9]+(?:[-_.'][a-z0-9]+)*")
_STOPWORDS = """
    a an and are as at be by can could did do does for from has have how i if in is it its
    may me must my of on or our should so than that the their them then there these they this
    to was we were what when where which who whom whose why will with would you your about
    after before any per into each many much more most not no only other own same such
    up down out over under again further once here all both few some very just also being
    been had having he she his her yes"""
STOPWORDS = frozenset(_STOPWORDS.split())


def squash(text: str) -> str:
    """Lower-cased, thousands separators out (2,115 -> 2115): how text is compared."""
    return _THOUSANDS.sub("", text.lower())


def terms(text: str) -> set[str]:
    """Content terms: lower-cased words and codes (TQ-4471, 2,115 -> 2115), stopwords out,
    plurals folded; shared with answer attribution so both judge overlap the same way."""
    text = _POSSESSIVE.sub("", squash(text).replace("’", "'"))
    out = set()
    for whole in _TERM.findall(text):
        # An identifier also counts by its parts: max_gbp is "max" and "gbp", full-time
        # is "full" and "time" (but a code such as tq-4471 keeps its whole form too).
        parts = re.split(r"[-_]", whole) if re.search(r"[a-z][-_][a-z]", whole) else []
        for t in (whole, *parts):
            if t in STOPWORDS or not t:
                continue
            if len(t) > 3 and t.endswith("s") and not t.endswith("ss"):
                t = t[:-1]
            out.add(t)
    return out


def source_name(source: str) -> str:
    """What a model reads a document as: its file and the folder it is in
    ("restricted/salary-bands.csv", "corpus/mail.eml#plan.pdf"), never the whole path. The
    folders above say where this machine mounted the share, which is no fact of the share:
    in a prompt they cost tokens and moved answers with the mount point (the same question
    was answered under one temporary folder and declined under another). A relative source
    with more folders (a code set's "repo/pkg/mod.py") loses its top ones here too: the
    indexed prefix (ingest/contextualize) keeps the whole source for retrieval."""
    parts = [p for p in source.split("/") if p]
    return "/".join(parts[-2:]) or source


# Every prompt quotes document text between <source> markers; text inside a document that
# could pass for one is replaced, so a document cannot close its quote and speak as us.
_MARKER = re.compile(r"<{1,}\s*/?\s*source[^>]*>{0,}", re.IGNORECASE)


def neutralise(text: str) -> str:
    """Remove anything in a chunk that could pass for our source delimiters."""
    return _MARKER.sub("[removed marker]", text)
