"""The one settings object of factvault.

Every path the service writes lives under ``data_dir`` so two data dirs never share state
(one exception: ``onnx_cache_dir``, the packaged embedder exported for ONNX Runtime, which
depends on the installed packages and not on any data);
every knob can be set through the environment (prefix ``FACTVAULT_``) or a ``.env`` file.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal, get_args

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EmbedderName = Literal["minilm", "minilm-int8", "e5", "tuned"]
EMBEDDER_NAMES: tuple[str, ...] = get_args(EmbedderName)  # the one list of embedder names
ContextualizerName = Literal["none", "structural", "llm", "structural+llm"]
Bm25Tokenizer = Literal["code", "word", "whitespace", "multilingual"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="FACTVAULT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default=Path("./data"), description="Root of all on-disk state.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is SQLite at <data_dir>/factvault.db.",
    )
    qdrant_url: str | None = Field(
        default=None,
        description="Qdrant server/cluster URL; unset means embedded Qdrant Edge in data_dir "
        "(':memory:' is qdrant-client's in-process engine, for tests: nothing is kept).",
    )
    qdrant_api_key: str | None = None
    # Collections created on a Qdrant cluster: shards over the nodes, copies of each shard,
    # and how many copies must acknowledge a write.
    qdrant_shard_number: int = Field(default=1, ge=1)
    qdrant_replication_factor: int = Field(default=1, ge=1)
    qdrant_write_consistency_factor: int = Field(default=1, ge=1)

    embedder: EmbedderName = "minilm"
    # How `minilm` runs on a CPU: "onnx", its weights exported once to ONNX Runtime (the same
    # vectors to float rounding, ~2x torch's speed here: app/core/onnx_embedder.py), or
    # "torch" (sentence-transformers). A GPU (embedder_device) always runs torch.
    embedder_backend: Literal["onnx", "torch"] = "onnx"
    # Where that export is kept: one file per machine and installed version, shared by every
    # data dir (default: $XDG_CACHE_HOME/factvault, else ~/.cache/factvault).
    onnx_cache_dir: Path | None = None
    # 16 vs 32: the same ingest speed here within noise (bench/results/ingest.md), 15% less RSS.
    embed_batch_size: int = Field(default=16, ge=1)
    torch_threads: int | None = Field(default=None, ge=1)

    chunk_tokens: int = Field(default=256, ge=16, description="Max tokens of a chunk's text.")
    chunk_overlap: int = Field(default=32, ge=0)
    contextualizer: ContextualizerName = "structural"
    # The LLM contextualizer's model (registered or bundled name), independent of the
    # answering model; its reply cap and the document window it is shown (tokens).
    context_model: str = "qwen2.5-coder-0.5b"
    context_style: Literal["marked", "restate"] = "marked"
    context_max_tokens: int = Field(default=32, ge=8, le=256)
    context_window_tokens: int = Field(default=2048, ge=256)
    # `factvault tune queries`: the model writing synthetic questions (registered or bundled
    # name) and the share of chunks it writes them for (a fixed sample, by chunk hash).
    tune_question_model: str = "qwen2.5-coder-1.5b"
    tune_sample: float = Field(default=1.0, gt=0, le=1)
    max_file_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # What one file may cost to read (ingest/loaders/base.py LoaderBudget): a file over any
    # of these is refused with the reason. Parsing runs in a worker process with its own
    # address-space limit (MiB; 0: none) and a time limit per file.
    loader_max_rows: int = Field(default=100_000, ge=1)
    loader_max_columns: int = Field(default=1_000, ge=1)
    loader_max_cells: int = Field(default=2_000_000, ge=1)
    loader_max_characters: int = Field(default=10_000_000, ge=1)
    loader_max_depth: int = Field(default=20, ge=1)
    loader_seconds: float = Field(default=120.0, gt=0)
    loader_memory_mib: int = Field(default=1024, ge=0)
    # `factvault sync --watch`: seconds without a file event before the changed paths are
    # synced (an editor's save is several events; one ingest follows).
    sync_debounce_seconds: float = Field(default=1.0, ge=0, le=600)

    bm25_tokenizer: Bm25Tokenizer = "code"
    bm25_k: float = 1.2
    bm25_b: float = 0.75
    bm25_avg_len: float = 256.0

    search_top_k: int = Field(default=5, ge=1)
    search_prefetch: int = Field(default=50, ge=1)
    rrf_k: int = Field(default=10, ge=1)
    # `reindex --gate`: a new build may score at most this many points below the active
    # index on the held-out synthetic questions (Pass@5 and Pass@20) to be switched to.
    index_gate_margin: float = Field(default=0.5, ge=0, le=100)
    index_retire_grace_seconds: int = Field(
        default=600,
        ge=0,
        description="How long a replaced index version stays queryable; a running service "
        "drops it after that (checked with the model follower, or every 30 s), else the "
        "next reindex does.",
    )
    # "tuned": the newest cross-encoder trained here by `factvault tune reranker`.
    reranker: Literal["none", "cross-encoder", "tuned"] = "none"
    reranker_path: Path | None = Field(
        default=None, description="A local sentence-transformers cross-encoder directory."
    )
    rerank_candidates: int = Field(default=20, ge=1, description="Fused hits a reranker sees.")

    # Generation (llama.cpp). The default model is what `make run` answers with.
    models_path: Path | None = Field(
        default=None,
        description="Where split bundled models are assembled (default data_dir/models).",
    )
    default_model: str = "qwen2.5-coder-1.5b"
    llm_threads: int = Field(default=2, ge=1)
    llm_context: int = Field(default=4096, ge=512)
    model_follow_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How often a replica follows SQL: a model swap, a pool's endpoints (0: off).",
    )
    llm_max_queue: int = Field(default=8, ge=0, description="Requests waiting per model.")
    # For a machine with a GPU (none here, so untested here): llama.cpp layers offloaded to
    # it (-1: all; needs llama-cpp-python built with CUDA/Metal/Vulkan), and the torch
    # embedder's device ("cuda", "cuda:1", "mps").
    llm_gpu_layers: int = Field(default=0, ge=-1)
    embedder_device: str = Field(default="cpu", pattern=r"^(cpu|cuda(:[0-9]+)?|mps)$")
    # A model served by inference endpoints (app/models/remote.py): connect and read
    # timeouts, how often each endpoint's health is asked and its weights probed again, how
    # far a probe's log-probabilities may differ from the fingerprint (nats), and how many
    # requests one endpoint runs at once (llama.cpp's server: one).
    inference_connect_timeout: float = Field(default=3.0, gt=0)
    inference_read_timeout: float = Field(default=120.0, gt=0)
    inference_health_seconds: float = Field(default=2.0, gt=0)
    inference_attest_seconds: float = Field(default=300.0, gt=0)
    inference_logprob_tolerance: float = Field(default=0.05, gt=0)
    inference_endpoint_concurrency: int = Field(default=1, ge=1)
    # Each request starts from a fresh context on its server, so answers are byte-identical
    # whichever server writes them (costs the server's prompt-prefix reuse).
    inference_fresh_context: bool = True
    answer_max_tokens: int = Field(default=256, ge=1, le=4096)
    # Chunks put in front of the model. Prompt evaluation dominates answer latency on CPU
    # (Qwen2.5-Coder-1.5B reads ~50 tokens/s here), so fewer, well-ranked chunks answer sooner.
    answer_top_k: int = Field(default=4, ge=1, le=20)
    # What of the retrieved chunks the model reads: "windows", the sentences (or lines) that
    # best match the question with their neighbours, within answer_evidence_tokens; or
    # "chunks", whole chunks (the pre-0.9 behaviour, kept to measure against).
    answer_evidence: Literal["windows", "chunks"] = "windows"
    answer_evidence_tokens: int = Field(default=240, ge=32, le=8192)
    # The answer prompt's version (app/generation/prompts.py); part of every answer's provenance.
    answer_prompt: Literal["v1", "v2"] = "v2"
    # "attributed": every answer sentence is checked against the evidence, its citations
    # corrected or added, unsupported sentences withheld. "required": the older rule, a reply
    # that cites nothing becomes "I don't know".
    answer_citations: Literal["attributed", "required"] = "attributed"
    # Greedy answers are cached in SQL by (question, evidence, model, prompt, decoding).
    answer_cache: bool = True
    # A reply that declines (or whose every sentence is withheld) is tried once more, from a
    # second search with the evidence line that names what the question is about and wider
    # windows (app/answering/second_chance.py), before "I don't know" is the answer.
    answer_second_chance: bool = True
    # A question for a total or a difference: the model copies the figures, the service adds
    # or subtracts them (app/answering/arithmetic.py).
    answer_arithmetic: bool = True
    # The second chance of a two-document question goes through the bridge it found: the
    # model rewrites the question with the bridge's value in it (the account manager's
    # name), and that one-hop question is answered (app/answering/hop.py). One more short
    # generation, only on a reply that declined.
    answer_two_hops: bool = True
    # The second chance asks for an answer without offering "I don't know" (the 1.5B model
    # declined with the answer in its sources), and attribution judges that reply strictly:
    # a sentence must say what the question asks about (app/answering/prompts.py). Off:
    # measured on the dev set it answered 4 of 5 unanswerable questions with near misses.
    answer_press: bool = False
    # Pressed only when the first reply answered but wrote its source's number where the
    # value belongs ("The list price of X is [2] GBP."; attribution.lost_value): asked again
    # the same way, the model did it again. Off: on the tuning sets' five such questions it
    # turned one "I don't know" into the right price and one into a wrong date.
    answer_press_lost: bool = False
    # The answer's first sentence is shown word by word as soon as the words so far are
    # supported by a source, say what the question asks about and give a figure, instead of
    # at its full stop (app/answering/release.py; issue 33). The words shown stay in the
    # answer even if the rest of their sentence is withheld. Measured: the same answers
    # (68 of 68 on tuning seeds 7-8), the first word a little sooner.
    answer_early_release: bool = True
    generation_time_limit: float = Field(
        default=120.0, gt=0, description="Seconds after which an answer stops generating."
    )
    # Conversations (app/core/conversations.py, app/answering/history.py). Earlier turns go
    # into the prompt within this many tokens, oldest dropped first; each turn extends the
    # previous one, so llama.cpp reads only a turn's new tokens. Recent conversations'
    # contexts are kept per model within conversation_state_mib (least recently used
    # evicted; 0: keep none).
    conversation_history_tokens: int = Field(default=2048, ge=0)
    conversation_state_mib: int = Field(default=256, ge=0)
    # A follow-up that does not stand alone ("And the other site?") is rewritten by the
    # active model into a standalone question, which retrieval runs on.
    conversation_rewrite: bool = True
    # Conversations untouched for longer are deleted (by the server daily, and by
    # `factvault conversations purge`); None keeps them.
    conversation_retention_days: float | None = Field(default=None, gt=0)
    # Markdown images/links in answers pointing elsewhere are removed (prompt injections use
    # them to carry data out); a host listed here also allows its subdomains.
    answer_link_hosts: list[str] = Field(default_factory=list)
    # Where `POST /v1/models` may register GGUF files from (default: the models dir).
    model_dirs: list[Path] = Field(default_factory=list)

    # Service.
    host: str = "127.0.0.1"
    port: int = 8000
    # Host names a request may carry (the Host header) besides the loopback names, the bound
    # host and any IP address: a name here, or "*.example.com" for its subdomains. Any other
    # name is refused before routing, auth on or off (a DNS-rebinding page names its own).
    allowed_hosts: list[str] = Field(default_factory=list)
    # Inference endpoints the API may register or add to a pool: host names, "*.domain",
    # IP addresses or networks ("10.0.0.0/8"). Empty: none through the API; the operator's
    # CLI on the server's machine (`factvault models add --endpoint`) is not bound by it.
    inference_endpoint_hosts: list[str] = Field(default_factory=list)
    # SIGTERM: seconds running requests get to finish before they are cancelled and the
    # service closes; an idle keep-alive connection is closed after keep_alive_seconds.
    shutdown_grace_seconds: float = Field(default=20.0, gt=0)
    keep_alive_seconds: float = Field(default=5.0, gt=0)
    # Slow clients: a request's line and headers must arrive within header_read_seconds,
    # and a body may pause at most body_read_seconds between two pieces (408 otherwise).
    header_read_seconds: float = Field(default=10.0, gt=0)
    body_read_seconds: float = Field(default=30.0, gt=0)
    # The key the CLI sends when a running service owns the store (FACTVAULT_API_KEY).
    api_key: str | None = Field(default=None, repr=False)
    auth_enabled: bool = True
    # Byte budgets on what a request actually sends (chunked or not), enforced as it arrives:
    # an upload request in all (its files' per-file limit is max_file_bytes), any other body.
    max_upload_bytes: int = Field(default=50 * 1024 * 1024, ge=1)
    max_upload_files: int = Field(default=100, ge=1)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Per API key (auth on), refilled continuously; 0 turns a limit off.
    rate_requests_per_minute: int = Field(default=600, ge=0)
    rate_tokens_per_minute: int = Field(default=60_000, ge=0)
    # OpenID Connect access tokens, accepted beside API keys (app/core/oidc.py); off while
    # oidc_issuer is unset. The issuer's discovery document names its JWKS; a token must be
    # signed by one of its keys with one of oidc_algorithms (asymmetric only), for
    # oidc_audience, unexpired (oidc_leeway_seconds of clock skew). oidc_groups maps a value
    # of the token's oidc_claim (a dotted path: "groups", "realm_access.roles") to a scope
    # and collections: {"kb-readers": "read", "hr-staff": "read:hr,default",
    # "kb-admins": "admin"}; a token with no mapped value is refused.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "PS256", "ES256"])
    oidc_claim: str = "groups"
    oidc_groups: dict[str, str] = Field(default_factory=dict)
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=600)
    # How long the issuer's keys are trusted before they are fetched again (a key removed
    # from the JWKS stops working at most this late; an unknown key id fetches at once).
    oidc_jwks_cache_seconds: float = Field(default=300.0, ge=0)

    @cached_property
    def sql_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'factvault.db').resolve()}"

    @property
    def qdrant_path(self) -> Path:
        return self.data_dir / "qdrant"

    @property
    def embedder_cache_dir(self) -> Path:
        """Embedders exported from the packaged weights (minilm-int8's ONNX file)."""
        return self.data_dir / "embedders"

    @property
    def onnx_export_dir(self) -> Path:
        """The machine's cache of the packaged MiniLM exported for ONNX Runtime."""
        if self.onnx_cache_dir is not None:
            return self.onnx_cache_dir
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        return Path(base) / "factvault"

    @property
    def reranker_cache_dir(self) -> Path:
        """Rerankers trained here (`factvault tune reranker`)."""
        return self.data_dir / "rerankers"

    @property
    def models_dir(self) -> Path:
        return self.models_path or self.data_dir / "models"

    @property
    def model_source_dirs(self) -> list[Path]:
        return self.model_dirs or [self.models_dir]

    @property
    def upload_spool_dir(self) -> Path:
        """Uploads are streamed to files here while they arrive (emptied at start-up)."""
        return self.data_dir / "tmp" / "uploads"

    @property
    def server_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ensure_dirs(self) -> None:
        """The data dir, private to this user: it holds document text and API key hashes."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.chmod(0o700)


def get_settings(**overrides: object) -> Settings:
    """A fresh Settings; tests pass overrides instead of mutating the environment."""
    return Settings(**overrides)  # type: ignore[arg-type]
