"""The SQL cache of LLM-written chunk contexts, and its portable file form
(app/core/keyed_cache.py): a context depends only on the document, the chunk, the model
weights and the prompt, so it is keyed by their hashes."""

from __future__ import annotations

from typing import Any

from app.core.db import ChunkContextCache
from app.core.keyed_cache import CacheKey, KeyedCache

ContextKey = CacheKey


class ContextCache(KeyedCache[str]):
    table = ChunkContextCache
    value = "context"

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"context is {type(value).__name__}, not text")
        return value
