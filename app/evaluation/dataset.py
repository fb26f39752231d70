"""The contextual-retrieval dataset format: a corpus JSON with fixed chunks, a documents
metadata JSON (repository + path of each document), and queries JSONL with golden chunks.

Nothing from the queries file reaches the index: documents are ingested from the corpus
alone, under the source path a real checkout of the files would have.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ingest.sources import SourceFile


@dataclass(frozen=True)
class EvalDocument:
    uuid: str
    source: str  # repository + path, as ingesting the real files would know it
    content: str
    chunks: tuple[str, ...]


@dataclass(frozen=True)
class EvalQuery:
    text: str
    golden: frozenset[tuple[str, int]]  # (document uuid, chunk index)


@dataclass(frozen=True)
class EvalCorpus:
    documents: list[EvalDocument]
    fingerprint: str  # of the corpus file: an index built from it can be reused

    def source_files(self) -> list[SourceFile]:
        return [
            SourceFile(d.source, Path(d.source), data=d.content.encode(), chunks=d.chunks)
            for d in self.documents
        ]


def load_corpus(corpus: Path, meta: Path | None = None) -> EvalCorpus:
    corpus = Path(corpus)
    meta = Path(meta) if meta else corpus.with_name("documents_meta.json")
    raw = corpus.read_bytes()
    docs = json.loads(raw)
    info = json.loads(meta.read_text()) if meta.is_file() else {}
    out = []
    for d in docs:
        m = info.get(d["original_uuid"])
        source = f"{m['repo_name']}/{m['relative_path'].lstrip('/')}" if m else f"{d['doc_id']}.txt"
        chunks = tuple(c["content"] for c in sorted(d["chunks"], key=lambda c: c["original_index"]))
        out.append(EvalDocument(d["original_uuid"], source, d["content"], chunks))
    return EvalCorpus(out, hashlib.sha256(raw).hexdigest()[:16])


def load_queries(path: Path) -> list[EvalQuery]:
    queries = []
    for line in Path(path).read_text().splitlines():
        if line.strip():
            q = json.loads(line)
            golden = frozenset((uuid, int(idx)) for uuid, idx in q["golden_chunk_uuids"])
            queries.append(EvalQuery(q["query"], golden))
    return queries
