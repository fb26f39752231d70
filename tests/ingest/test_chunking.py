from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.core.embedder import MiniLMEmbedder
from ingest.chunking import chunk_document
from ingest.loaders import load_bytes, load_file
from tests.fixtures import SAMPLES, SHARED

EVAL = SHARED / "eval" / "contextual"


@pytest.fixture(scope="module")
def count() -> object:
    # The tokenizer only: no model weights are loaded for these tests.
    return MiniLMEmbedder().count_tokens


def test_spans_point_at_the_chunk_text(count) -> None:
    doc = load_file(SAMPLES / "handbook" / "employee-handbook.md", 10**6)
    chunks = chunk_document(doc, count, max_tokens=64, overlap=16)
    assert len(chunks) > 3
    for ch in chunks:
        assert doc.text[ch.start : ch.end] == ch.text
        assert ch.token_count == count(ch.text) <= 64
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))


def test_deterministic(count) -> None:
    doc = load_file(SAMPLES / "code" / "rate_limiter.py", 10**6)
    assert chunk_document(doc, count, 80, 10) == chunk_document(doc, count, 80, 10)


def test_every_line_is_covered(count) -> None:
    doc = load_file(SAMPLES / "code" / "rate_limiter.py", 10**6)
    chunks = chunk_document(doc, count, 60, 0)
    covered = set()
    for ch in chunks:
        covered.update(range(ch.start, ch.end))
    missing = [i for i, c in enumerate(doc.text) if not c.isspace() and i not in covered]
    assert missing == []


def test_overlap_repeats_the_previous_tail(count) -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} says fact number {i} plainly." for i in range(30))
    doc = load_bytes(Path("p.txt"), paragraphs.encode())
    with_overlap = chunk_document(doc, count, max_tokens=60, overlap=20)
    without = chunk_document(doc, count, max_tokens=60, overlap=0)
    assert len(with_overlap) > len(without) > 1
    for prev, nxt in zip(with_overlap, with_overlap[1:], strict=False):
        assert nxt.start < prev.end  # shares text with the previous chunk
    for prev, nxt in zip(without, without[1:], strict=False):
        assert nxt.start >= prev.end


def test_sections_are_not_mixed_once_big_enough(count) -> None:
    doc = load_file(SAMPLES / "handbook" / "employee-handbook.md", 10**6)
    chunks = chunk_document(doc, count, max_tokens=80, overlap=0, min_tokens=20)
    leave = next(c for c in chunks if "27 days" in c.text)
    assert leave.trail[-1] == "Annual leave"
    assert "Remote work" not in leave.text


def test_small_sections_merge_under_their_common_heading(count) -> None:
    doc = load_file(SAMPLES / "code" / "rate_limiter.py", 10**6)
    chunks = chunk_document(doc, count, max_tokens=512, overlap=0)
    cls = next(c for c in chunks if "def try_acquire" in c.text)
    assert "def _refill" in cls.text  # small methods packed together ...
    assert cls.trail[:1] == ("class TokenBucket",) or cls.trail == ()  # ... under what they share


def test_oversize_line_is_split(count) -> None:
    text = "word " * 2000
    doc = load_bytes(Path("one-line.txt"), text.encode())
    chunks = chunk_document(doc, count, max_tokens=100, overlap=0)
    assert len(chunks) >= 20
    assert all(c.token_count <= 100 for c in chunks)


def test_bad_arguments(count) -> None:
    doc = load_bytes(Path("a.txt"), b"hello")
    with pytest.raises(ValueError):
        chunk_document(doc, count, max_tokens=10, overlap=10)


@pytest.mark.skipif(not EVAL.exists(), reason="shared eval corpus not present")
def test_eval_corpus_chunks_fit_the_budget(count) -> None:
    docs = json.loads((EVAL / "codebase_chunks.json").read_text())
    meta = json.loads((EVAL / "documents_meta.json").read_text())
    total = 0
    for d in docs[:20]:
        path = Path(meta[d["original_uuid"]]["relative_path"])
        loaded = load_bytes(path, d["content"].encode())
        chunks = chunk_document(loaded, count, 256, 32)
        total += len(chunks)
        assert all(c.token_count <= 256 for c in chunks)
        assert all(loaded.text[c.start : c.end] == c.text for c in chunks)
    assert total > 20
