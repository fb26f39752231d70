"""What retrieval hands on: a chunk of a document, where it sits, and how it ranked.

Its own module so that search and the rerankers (which both pass it around) depend on it
rather than on each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: str
    document_id: int
    source: str
    title: str | None
    ordinal: int
    text: str
    context: str
    score: float
    char_start: int
    char_end: int
    page: int | None
    index_version: str = ""  # the vector store collection (index version) it was found in
    collection: str = "default"  # the document's collection (who may read it)
