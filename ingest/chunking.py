"""Text -> chunks that respect structure and the embedder's token budget.

Sections (headings, code definitions, PDF pages) come from the loader. Inside a section the
text is cut into blocks at blank lines; blocks are packed greedily up to ``max_tokens`` and a
new chunk starts with the last blocks of the previous one, up to ``overlap`` tokens. A section
too small to stand alone is packed with its neighbours, and the chunk takes the heading trail
they share. Everything is a span of the document text, so a chunk can always be cited back to
its exact characters. Same input, same chunks.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ingest.loaders.base import LoadedDocument, Section

TokenCounter = Callable[[str], int]
# A chunk is also held to max_tokens * MAX_CHARS_PER_TOKEN characters. The embedder's
# tokenizer can count a long run of non-space characters as a single token (WordPiece
# gives any word over 100 characters one [UNK]), so a 100 KB base64 blob would otherwise be
# one "small" chunk that no answering model can read. Prose and code run 3-6 characters per
# token, so the cap binds only on such runs.
MAX_CHARS_PER_TOKEN = 8
_HEADING_LINE = re.compile(r"^#{1,6}[ \t][^\n]*$")


@dataclass(frozen=True)
class ChunkDraft:
    ordinal: int
    start: int
    end: int
    text: str
    token_count: int
    trail: tuple[str, ...]
    page: int | None


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    tokens: int
    section: Section


def _line_groups(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Runs of non-blank lines in text[start:end], as (start, end) excluding the newline."""
    groups: list[tuple[int, int]] = []
    run_start: int | None = None
    run_end = start
    pos = start
    for line in text[start:end].splitlines(keepends=True):
        content = line.rstrip("\n")
        if content.strip():
            if run_start is None:
                run_start = pos
            run_end = pos + len(content)
        elif run_start is not None:
            groups.append((run_start, run_end))
            run_start = None
        pos += len(line)
    if run_start is not None:
        groups.append((run_start, run_end))
    return groups


def _cut_chars(
    text: str, start: int, end: int, count: TokenCounter, max_tokens: int
) -> list[tuple[int, int]]:
    """Last resort for a run with no spaces (minified code, base64): cut by characters."""
    out: list[tuple[int, int]] = []
    while start < end:
        tokens = count(text[start:end])
        if tokens <= max_tokens:
            out.append((start, end))
            break
        cut = start + max(1, (end - start) * max_tokens // tokens)
        while cut > start + 1 and count(text[start:cut]) > max_tokens:
            cut = start + max(1, (cut - start) * 9 // 10)
        out.append((start, cut))
        start = cut
    return out


def _split_oversize(
    text: str, start: int, end: int, count: TokenCounter, max_tokens: int
) -> list[tuple[int, int]]:
    """Split a span that exceeds the budget: by lines, then by words, then by characters."""
    units = [(m.start() + start, m.end() + start) for m in re.finditer(r"[^\n]+", text[start:end])]
    if len(units) <= 1:
        units = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    if len(units) <= 1:
        return _cut_chars(text, start, end, count, max_tokens)
    pieces: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for u_start, u_end in units:
        if current is not None and count(text[current[0] : u_end]) <= max_tokens:
            current = (current[0], u_end)
            continue
        if current is not None:
            pieces.append(current)
        current = (u_start, u_end)
        if count(text[u_start:u_end]) > max_tokens:
            pieces.extend(_split_oversize(text, u_start, u_end, count, max_tokens))
            current = None
    if current is not None:
        pieces.append(current)
    return pieces


def _blocks(doc: LoadedDocument, count: TokenCounter, max_tokens: int) -> list[_Block]:
    blocks: list[_Block] = []
    for section in doc.sections:
        for g_start, g_end in _line_groups(doc.text, section.start, section.end):
            tokens = count(doc.text[g_start:g_end])
            if tokens <= max_tokens:
                blocks.append(_Block(g_start, g_end, tokens, section))
            else:
                for p_start, p_end in _split_oversize(doc.text, g_start, g_end, count, max_tokens):
                    tokens = count(doc.text[p_start:p_end])
                    blocks.append(_Block(p_start, p_end, tokens, section))
    return blocks


def _common_trail(trails: list[tuple[str, ...]]) -> tuple[str, ...]:
    common = trails[0]
    for trail in trails[1:]:
        n = 0
        while n < min(len(common), len(trail)) and common[n] == trail[n]:
            n += 1
        common = common[:n]
    return common


def chunk_document(
    doc: LoadedDocument,
    count_tokens: TokenCounter,
    max_tokens: int = 256,
    overlap: int = 32,
    min_tokens: int | None = None,
) -> list[ChunkDraft]:
    """Chunks of at most ``max_tokens`` tokens (as the embedder counts them) with spans.

    ``min_tokens`` (default a quarter of the budget) is the size below which a chunk keeps
    absorbing the next section instead of being cut at the section boundary.
    """
    if max_tokens < 1 or overlap < 0 or overlap >= max_tokens:
        raise ValueError("need max_tokens >= 1 and 0 <= overlap < max_tokens")
    min_tokens = max_tokens // 4 if min_tokens is None else min_tokens

    def budget_count(text: str) -> int:
        """What a span costs against the budget: its tokens, or its characters' share."""
        return max(count_tokens(text), -(-len(text) // MAX_CHARS_PER_TOKEN))

    blocks = _blocks(doc, budget_count, max_tokens)
    groups: list[list[_Block]] = []
    current: list[_Block] = []
    current_tokens = 0
    for block in blocks:
        crosses_section = bool(current) and block.section is not current[-1].section
        too_big = current_tokens + block.tokens > max_tokens
        if current and (too_big or (crosses_section and current_tokens >= min_tokens)):
            groups.append(current)
            carried: list[_Block] = []
            if not crosses_section and overlap:
                carried_tokens = 0
                for prev in reversed(current):
                    if carried_tokens + prev.tokens > overlap:
                        break
                    carried.insert(0, prev)
                    carried_tokens += prev.tokens
                if carried_tokens + block.tokens > max_tokens or len(carried) == len(current):
                    carried = []
            current = carried
            current_tokens = sum(b.tokens for b in current)
        current.append(block)
        current_tokens += block.tokens
    if current:
        groups.append(current)

    chunks: list[ChunkDraft] = []
    for group in groups:
        start, end = group[0].start, group[-1].end
        text = doc.text[start:end]
        sections = list(dict.fromkeys(b.section for b in group))
        # A section that adds only its heading line to this chunk does not define it.
        bodied = [
            sec
            for sec in sections
            if any(
                b.section is sec and not _HEADING_LINE.match(doc.text[b.start : b.end])
                for b in group
            )
        ] or sections
        chunks.append(
            ChunkDraft(
                ordinal=len(chunks),
                start=start,
                end=end,
                text=text,
                token_count=count_tokens(text),
                trail=_common_trail([s.trail for s in bodied]),
                page=sections[0].page,
            )
        )
    return chunks


def locate_chunks(
    doc: LoadedDocument, texts: list[str] | tuple[str, ...], count_tokens: TokenCounter
) -> list[ChunkDraft]:
    """Chunks fixed by someone else (an evaluation dataset), found in order in the text.

    Spans stay exact, and each chunk gets the heading trail / enclosing definitions that its
    span shares, as ``chunk_document`` would give it.
    """
    out: list[ChunkDraft] = []
    pos = 0
    for ordinal, chunk in enumerate(texts):
        start = doc.text.find(chunk, pos)
        if start < 0:
            start = pos
        end = start + len(chunk)
        inside = [
            sec
            for sec in doc.sections
            if sec.start < end
            and sec.end > start
            and doc.text[max(start, sec.start) : min(end, sec.end)].strip()
        ]
        trail = _common_trail([sec.trail for sec in inside]) if inside else ()
        page = inside[0].page if inside else None
        out.append(ChunkDraft(ordinal, start, end, chunk, count_tokens(chunk), trail, page))
        pos = end
    return out
