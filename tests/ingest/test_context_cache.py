"""LLM context cache and document windows, without a model: SQL, files and ingest reuse."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.db import Chunk, Database, ModelRecord
from app.core.hashing import sha256_file, sha256_text
from app.models.bundled import BUNDLED, materialize
from ingest.context_cache import ContextCache, ContextKey
from ingest.contextualize.llm import LlmContextualizer, resolve_context_model
from ingest.contextualize.writer import ContextWriter, WriterSettings, prompt_version
from ingest.pipeline import IngestPipeline
from ingest.sources import SourceFile

VERSION = prompt_version(WriterSettings())


def key(n: int, model: str = "m" * 64) -> ContextKey:
    return ContextKey(f"{n:064x}", sha256_text(f"chunk {n}"), model, VERSION)


def test_cache_round_trips_through_a_file(settings, tmp_path: Path) -> None:
    cache = ContextCache(Database(settings.sql_url))
    cache.put(key(1), "Context one.", 1.5)
    cache.put(key(2), "Context two.", 2.0)
    cache.put(key(3, model="x" * 64), "Other model.", 1.0)
    assert cache.get_many([key(1), key(2), key(9)]) == {
        key(1): "Context one.",
        key(2): "Context two.",
    }

    path = tmp_path / "contexts.jsonl.gz"
    assert cache.export(path) == 3
    fresh = tmp_path / "other"
    from app.core.config import get_settings
    from app.core.migrate import upgrade

    other = get_settings(data_dir=fresh, database_url=None, qdrant_url=None)
    other.ensure_dirs()
    upgrade(other.sql_url)
    copy = ContextCache(Database(other.sql_url))
    assert copy.import_file(path) == 3
    assert copy.get_many([key(1), key(2)]) == {key(1): "Context one.", key(2): "Context two."}
    # Exporting again gives the same bytes: the file is sorted, so it diffs well in git.
    again = tmp_path / "again.jsonl.gz"
    copy.export(again)
    assert gzip.decompress(again.read_bytes()) == gzip.decompress(path.read_bytes())


def test_malformed_cache_file_names_file_and_line(settings, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"document_sha256": "a"}\n'))
    cache = ContextCache(Database(settings.sql_url))
    cache.put(key(1), "kept", 0.0)
    with pytest.raises(ValueError, match=r"bad\.jsonl\.gz:1"):
        cache.import_file(path)
    assert cache.get_many([key(1)]) == {key(1): "kept"}  # nothing stored before is lost


def test_short_documents_are_shown_whole_long_ones_by_segment() -> None:
    writer = ContextWriter(llama=None, settings=WriterSettings(window_tokens=100, head_tokens=20))
    short = "line\n" * 10
    assert writer.window(short, 0, n_tokens=50) == short
    text = "".join(f"line {i:04d}\n" for i in range(1000))  # 10,000 chars, "1,000 tokens"
    first = writer.window(text, 0, n_tokens=1000)
    assert first.startswith("line 0000") and "[...]" in first
    middle = writer.window(text, 5000, n_tokens=1000)
    assert middle.startswith("line 0000")  # the document's head is always there
    assert "line 0500" in middle and "line 0900" not in middle
    # Chunks starting in the same segment see the same window: one shared KV prefix.
    assert writer.window(text, 5010, n_tokens=1000) == middle
    assert len(middle) < len(text) / 4


@pytest.mark.slow
def test_ingest_reuses_cached_contexts_without_loading_a_model(runtime, tmp_path: Path) -> None:
    text = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n"
    data = text.encode()
    model = resolve_context_model(runtime.settings, runtime.db, "qwen2.5-coder-0.5b")
    assert model.sha256 == BUNDLED["qwen2.5-coder-0.5b"].sha256
    ctx = LlmContextualizer(runtime.settings, runtime.db, model)
    source = SourceFile("calc.py", Path("calc.py"), data=data)
    # Pre-fill the cache for every chunk this file will have (chunked the same way).
    IngestPipeline(runtime).run([source])
    with runtime.db.session() as s:
        chunks = s.scalars(select(Chunk)).all()
        texts = [c.text for c in chunks]
    cache = ContextCache(runtime.db)
    doc_sha = sha256_text(text)
    for i, chunk_text in enumerate(texts):
        cache.put(
            ContextKey(doc_sha, sha256_text(chunk_text), model.sha256, ctx.prompt_version),
            f"Arithmetic helper number {i}.",
            0.0,
        )
    changed = SourceFile("calc2.py", Path("calc2.py"), data=data)
    report = IngestPipeline(runtime, contextualizer=ctx).run([changed])
    assert report.ok, report.errors
    assert ctx.stats.written == 0 and ctx.stats.cached == len(texts)
    assert ctx._writer is None  # the model was never loaded
    with runtime.db.session() as s:
        contexts = [c.context for c in s.scalars(select(Chunk).where(Chunk.ordinal >= 0))]
    assert any(
        c.startswith("File: calc2.py") and "Arithmetic helper number 0." in c for c in contexts
    )


def test_every_bundled_model_resolves_as_a_context_model(settings) -> None:
    """SmolLM2 ships whole with no pinned sha256; it used to be refused as 'not bundled'."""
    db = Database(settings.sql_url)
    smollm = resolve_context_model(settings, db, "smollm2-135m")
    assert smollm.sha256 == sha256_file(materialize(BUNDLED["smollm2-135m"], settings.models_dir))
    assert smollm.path().is_file()
    with db.session() as s:  # registered, so the next resolve does not hash the file again
        assert s.scalar(select(ModelRecord.sha256).where(ModelRecord.name == "smollm2-135m")) == (
            smollm.sha256
        )
    assert resolve_context_model(settings, db, "smollm2-135m").sha256 == smollm.sha256
    qwen = resolve_context_model(settings, db, "qwen2.5-coder-0.5b")
    assert qwen.sha256 == BUNDLED["qwen2.5-coder-0.5b"].sha256
    with pytest.raises(ValueError, match="'no-such-model' is neither registered nor bundled"):
        resolve_context_model(settings, db, "no-such-model")
