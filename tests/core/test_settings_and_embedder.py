from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.config import Settings
from app.core.embedder import E5SmallEmbedder, EmbedderUnavailable, MiniLMEmbedder
from app.core.embedder_choice import make_embedder


def test_env_prefix_and_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTVAULT_DATA_DIR", str(tmp_path / "d1"))
    monkeypatch.setenv("FACTVAULT_CHUNK_TOKENS", "128")
    s = Settings()
    assert s.chunk_tokens == 128
    assert s.sql_url == f"sqlite:///{(tmp_path / 'd1' / 'factvault.db').resolve()}"
    assert s.qdrant_path == tmp_path / "d1" / "qdrant"
    other = Settings(data_dir=tmp_path / "d2")
    assert other.sql_url != s.sql_url and other.qdrant_path != s.qdrant_path


def test_dotenv_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FACTVAULT_EMBEDDER", raising=False)
    (tmp_path / ".env").write_text("FACTVAULT_EMBEDDER=e5\n")
    assert Settings().embedder == "e5"


def test_invalid_setting_is_refused() -> None:
    with pytest.raises(ValueError):
        Settings(embedder="word2vec")  # type: ignore[arg-type]


def test_missing_weights_is_a_clear_error_not_a_download(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="weights missing.*never downloaded"):
        MiniLMEmbedder(model_dir=tmp_path)


@pytest.mark.slow
def test_minilm_embeds_normalized_and_meaningfully(minilm) -> None:
    vecs = minilm.embed_documents(
        ["The cat sat on the mat.", "A kitten rests on a rug.", "Quarterly tax filing deadline."]
    )
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2] + 0.2
    assert minilm.max_seq_length == 512
    assert len(minilm.weights_sha256) == 64


@pytest.mark.slow
def test_e5_is_a_second_embedder_behind_the_same_interface() -> None:
    e5 = make_embedder("e5")
    assert isinstance(e5, E5SmallEmbedder)
    docs = e5.embed_documents(["The cat sat on the mat.", "Quarterly tax filing deadline."])
    q = e5.embed_query("where is the cat?")
    assert docs.shape == (2, 384) and q.shape == (384,)
    assert docs[0] @ q > docs[1] @ q
    assert e5.count_tokens("hello world") > 0
    assert e5.weights_sha256 != MiniLMEmbedder().weights_sha256
