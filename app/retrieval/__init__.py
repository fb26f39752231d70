"""Question -> ranked chunks from the active index version."""

from app.retrieval.search import RetrievedChunk, Retriever

__all__ = ["RetrievedChunk", "Retriever"]
