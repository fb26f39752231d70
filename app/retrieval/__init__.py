"""Question -> ranked chunks from the active index version."""

from app.retrieval.search import Retriever
from app.retrieval.types import RetrievedChunk

__all__ = ["RetrievedChunk", "Retriever"]
