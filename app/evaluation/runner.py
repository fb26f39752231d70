"""Runs retrieval configurations over an evaluation dataset and reports Pass@k and MRR.

An index is built per (embedder, contextualizer) with the dataset's own chunks, through the
same ingest pipeline as everything else, in a data dir named after the corpus and the
config, so a second run reuses it and only the queries are re-run.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.core.config import Settings, get_settings
from app.core.db import Chunk, Document
from app.core.migrate import upgrade
from app.core.runtime import Runtime, open_runtime
from app.evaluation.dataset import EvalCorpus, EvalQuery
from app.evaluation.retrieval_metrics import pass_at_k, summarize
from app.retrieval import Retriever
from app.retrieval.rerank import make_reranker
from ingest.context_cache import ContextCache
from ingest.contextualize import make_contextualizer
from ingest.contextualize.llm import ContextStats, LlmContextualizer
from ingest.pipeline import IngestPipeline
from ingest.progress import ProgressSink


@dataclass(frozen=True)
class EvalConfig:
    name: str
    embedder: str = "minilm"
    backend: str = "onnx"  # how minilm runs (Settings.embedder_backend): "onnx" or "torch"
    context: str = "structural"
    mode: str = "hybrid"
    fusion: str = "rrf"
    rrf_k: int = 10
    weights: tuple[float, float] | None = None
    prefetch: int = 100
    context_model: str = "qwen2.5-coder-0.5b"  # for the llm contexts
    reranker: str = "none"  # "cross-encoder" reads FACTVAULT_RERANKER_PATH

    @property
    def uses_llm(self) -> bool:
        return "llm" in self.context

    def describe(self) -> str:
        context = f"{self.context}({self.context_model})" if self.uses_llm else self.context
        embedder = f"{self.embedder}@torch" if self.backend == "torch" else self.embedder
        parts = [f"embedder={embedder}", f"context={context}", f"mode={self.mode}"]
        if self.mode == "hybrid":
            parts.append(f"fusion={self.fusion}")
            if self.fusion == "rrf":
                parts.append(f"k={self.rrf_k}")
                if self.weights:
                    parts.append(f"weights={self.weights[0]}/{self.weights[1]}")
        if self.reranker != "none":
            parts.append(f"reranker={self.reranker}")
        return " ".join(parts)


Q15 = "qwen2.5-coder-1.5b"
SMOL = "smollm2-135m"
PRESETS: dict[str, EvalConfig] = {
    c.name: c
    for c in [
        EvalConfig("basic-dense", context="none", mode="dense"),
        EvalConfig("basic-bm25", context="none", mode="sparse"),
        EvalConfig("basic-hybrid", context="none"),
        EvalConfig("structural-dense", mode="dense"),
        EvalConfig("structural-bm25", mode="sparse"),
        EvalConfig("structural-hybrid"),
        EvalConfig("structural-hybrid-rrf60", rrf_k=60),
        EvalConfig("structural-hybrid-w82", weights=(0.8, 0.2)),
        EvalConfig("structural-hybrid-dbsf", fusion="dbsf"),
        # MiniLM on torch, as the default ran before issue 33 (the default now runs the same
        # weights on ONNX Runtime): the same three beside.
        EvalConfig("torch-basic-dense", backend="torch", context="none", mode="dense"),
        EvalConfig("torch-structural-dense", backend="torch", mode="dense"),
        EvalConfig("torch-structural-hybrid", backend="torch"),
        # MiniLM on ONNX Runtime, int8 (app/core/onnx_embedder.py): the same three beside.
        EvalConfig("int8-basic-dense", embedder="minilm-int8", context="none", mode="dense"),
        EvalConfig("int8-structural-dense", embedder="minilm-int8", mode="dense"),
        EvalConfig("int8-structural-hybrid", embedder="minilm-int8"),
        # MiniLM fine-tuned on the corpus's own synthetic questions (app/tuning), trained
        # by the evaluator from the committed question file before its index is built.
        EvalConfig("tuned-structural-dense", embedder="tuned", mode="dense"),
        EvalConfig("tuned-structural-hybrid", embedder="tuned"),
        # A cross-encoder trained on the same questions reranks the top 20 (app/tuning).
        EvalConfig("rerank-structural-hybrid", reranker="tuned"),
        EvalConfig("tuned-rerank-structural-hybrid", embedder="tuned", reranker="tuned"),
        EvalConfig("e5-basic-dense", embedder="e5", context="none", mode="dense"),
        EvalConfig("e5-structural-dense", embedder="e5", mode="dense"),
        EvalConfig("e5-structural-hybrid", embedder="e5"),
        EvalConfig("e5-structural-hybrid-dbsf", embedder="e5", fusion="dbsf"),
        EvalConfig("llm-bm25", context="structural+llm", mode="sparse"),
        EvalConfig("llm-dense", context="structural+llm", mode="dense"),
        EvalConfig("llm-hybrid", context="structural+llm"),
        EvalConfig("llm-only-hybrid", context="llm"),
        EvalConfig("e5-llm-dense", embedder="e5", context="structural+llm", mode="dense"),
        EvalConfig("e5-llm-hybrid", embedder="e5", context="structural+llm"),
        EvalConfig("e5-llm-only-hybrid", embedder="e5", context="llm"),
        # The same with Qwen2.5-Coder-1.5B writing the contexts (twice the 0.5B's cost).
        EvalConfig("llm15-bm25", context="structural+llm", mode="sparse", context_model=Q15),
        EvalConfig("llm15-dense", context="structural+llm", mode="dense", context_model=Q15),
        EvalConfig("llm15-hybrid", context="structural+llm", context_model=Q15),
        EvalConfig("e5-llm15-hybrid", embedder="e5", context="structural+llm", context_model=Q15),
        # SmolLM2-135M, the smallest bundled model: cheap, but its contexts echo the prompt.
        EvalConfig("smol-bm25", context="structural+llm", mode="sparse", context_model=SMOL),
        EvalConfig("smol-dense", context="structural+llm", mode="dense", context_model=SMOL),
        EvalConfig("smol-hybrid", context="structural+llm", context_model=SMOL),
    ]
}
DEFAULT_CONFIGS = [
    "basic-dense", "basic-bm25", "structural-dense", "structural-bm25", "structural-hybrid",
    "structural-hybrid-rrf60", "structural-hybrid-w82", "structural-hybrid-dbsf",
]  # fmt: skip


def parse_config(text: str) -> EvalConfig:
    """A preset name, or ``key=value,...`` over the preset 'structural-hybrid'."""
    if text in PRESETS:
        return PRESETS[text]
    if "=" not in text:
        raise ValueError(f"unknown config {text!r}; presets: {', '.join(PRESETS)}")
    values: dict[str, object] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip()
        if key in ("rrf_k", "prefetch"):
            values[key] = int(value)
        elif key == "weights":
            dense, sparse = value.split("/")
            values[key] = (float(dense), float(sparse))
        elif key in ("embedder", "backend", "context", "mode", "fusion", "name", "context_model",
                     "reranker"):  # fmt: skip
            values[key] = value.strip()
        else:
            raise ValueError(f"unknown config key {key!r}")
    values.setdefault("name", text)
    return replace(PRESETS["structural-hybrid"], **values)  # type: ignore[arg-type]


@dataclass
class EvalResult:
    config: EvalConfig
    metrics: dict[str, float]
    index_seconds: dict[str, float]
    index_reused: bool
    query_seconds: float
    queries: int
    per_query: list[tuple[str, float]] = field(default_factory=list)  # (query, Pass@20)

    @property
    def ms_per_query(self) -> float:
        return 1000 * self.query_seconds / max(1, self.queries)


class Evaluator:
    def __init__(
        self,
        corpus: EvalCorpus,
        queries: list[EvalQuery],
        work_dir: Path,
        contexts_file: Path | None = None,
        progress: ProgressSink | None = None,
        questions_file: Path | None = None,
        settings: Settings | None = None,
        train_settings: Any = None,
        reranker_settings: Any = None,
    ) -> None:
        self.corpus = corpus
        self.progress = progress  # how an index build reports (a bar, or log lines)
        self.settings = settings or get_settings()  # the caller's (e.g. a reranker's path)
        self.queries = queries
        self.work_dir = Path(work_dir)
        # LLM contexts are shared by every index of the corpus through this file: read
        # before an index is built, written back with whatever the build had to compute.
        self.contexts_file = contexts_file
        # Synthetic questions of the corpus (`factvault tune queries --export`), for the
        # tuned embedder: trained on their train split before its index is built.
        self.questions_file = questions_file
        self.train_settings = train_settings  # a TrainSettings; None: its defaults
        self.reranker_settings = reranker_settings  # a RerankerSettings; None: its defaults
        self.train_reports: dict[tuple[str, str], Any] = {}  # (kind, context) -> report
        self.context_stats: dict[str, ContextStats] = {}
        self._indexes: dict[tuple[str, ...], tuple[Runtime, dict[str, float], bool]] = {}
        self._uuid_of_source = {d.source: d.uuid for d in corpus.documents}

    def _tuned(self, config: EvalConfig, kind: str = "embedder") -> tuple[str, Path, float]:
        """The embedder or reranker (``kind``) tuned for ``config``'s contexts: trained once
        per question file (its sha256) and settings on the train split, over the base MiniLM
        index; (name, folder, training seconds)."""
        import json

        from app.core.hashing import sha256_file, sha256_text
        from app.evaluation.selfeval import questions_for
        from app.tuning.questions import QuestionCache
        from app.tuning.train_embedder import TrainSettings, train_embedder
        from app.tuning.train_reranker import RerankerSettings, train_reranker

        if self.questions_file is None or not self.questions_file.is_file():
            raise RuntimeError(
                f"a tuned {kind} needs synthetic questions: {self.questions_file} is missing "
                "(`factvault tune queries --export FILE` on this corpus's index writes it)"
            )
        train = (
            (self.train_settings or TrainSettings())
            if kind == "embedder"
            else (self.reranker_settings or RerankerSettings())
        )
        tag = sha256_file(self.questions_file)[:12] + "-" + sha256_text(repr(train))[:8]
        base_rt, _, _ = self._index(replace(config, embedder="minilm", reranker="none"))
        marker = (
            self.work_dir / f"{self.corpus.fingerprint}-tuned-{kind}-{config.context}-{tag}.json"
        )
        if marker.is_file():
            known = json.loads(marker.read_text())
            path = Path(known["path"])
            if path.is_dir():
                return known["name"], path, float(known["seconds"])
        QuestionCache(base_rt.db).import_file(self.questions_file)
        questions = questions_for(base_rt)
        if kind == "embedder":
            report: Any = train_embedder(base_rt, questions, train)
        else:
            report = train_reranker(base_rt, questions, train)
        self.train_reports[(kind, config.context)] = report
        marker.write_text(
            json.dumps({"name": report.name, "path": str(report.path), "seconds": report.seconds})
        )
        return report.name, report.path, report.seconds

    def _index(self, config: EvalConfig) -> tuple[Runtime, dict[str, float], bool]:
        embedder, context = config.embedder, config.context
        tuned: tuple[str, Path, float] | None = None
        if embedder == "tuned":
            tuned = self._tuned(config)
            embedder = tuned[0]
        key: tuple[str, ...] = (embedder, context)
        if config.backend != "onnx" and embedder == "minilm":
            key = (f"{embedder}@{config.backend}", context)
        if config.uses_llm:
            key += (config.context_model,)
        if key not in self._indexes:
            name = "-".join(key).replace("+", "_").replace(":", "-")
            data_dir = self.work_dir / f"{self.corpus.fingerprint}-{name}"
            settings = get_settings(  # a tuned embedder: the one copied into this data dir
                data_dir=data_dir, embedder="tuned" if tuned else embedder, contextualizer=context,
                context_model=config.context_model, database_url=None, qdrant_url=None,
                embedder_backend=config.backend,
            )  # fmt: skip
            settings.ensure_dirs()
            if tuned is not None:  # the tuned weights go where this data dir looks for them
                target = settings.embedder_cache_dir / "tuned" / tuned[1].name
                if not target.exists():
                    shutil.copytree(tuned[1], target)
            upgrade(settings.sql_url)
            rt = open_runtime(settings)
            contextualizer = make_contextualizer(context, rt)
            cache = ContextCache(rt.db)
            if config.uses_llm and self.contexts_file and self.contexts_file.is_file():
                cache.import_file(self.contexts_file)
            try:
                report = IngestPipeline(
                    rt, contextualizer=contextualizer, progress=self.progress
                ).run(self.corpus.source_files())
            finally:
                if isinstance(contextualizer, LlmContextualizer):
                    stats = contextualizer.stats
                    self.context_stats[config.context_model] = stats
                    if stats.written and self.contexts_file:
                        if self.contexts_file.is_file():
                            cache.import_file(self.contexts_file)  # another run's additions
                        cache.export(self.contexts_file)
                contextualizer.close()
            if report.failed:
                raise RuntimeError(f"eval corpus failed to ingest: {report.errors[:3]}")
            reused = report.new == 0 and report.changed == 0
            seconds = dict(report.stage_seconds)
            if tuned is not None and not reused:
                seconds["train"] = tuned[2]
            self._indexes[key] = (rt, seconds, reused)
        return self._indexes[key]

    def _golden_keys(self, rt: Runtime) -> dict[str, tuple[str, int]]:
        with rt.db.session() as s:
            rows = s.execute(select(Chunk.id, Document.source, Chunk.ordinal).join(Document))
            return {cid: (self._uuid_of_source[src], ordinal) for cid, src, ordinal in rows}

    def ranker(self, config: EvalConfig) -> Callable[..., list[tuple[str, int]]]:
        """Ranks a question on ``config``'s index as dataset keys (document uuid, chunk
        index); ``mode`` overrides the config's, for probes that compare dense and BM25."""
        rt, _, _ = self._index(config)
        keys = self._golden_keys(rt)
        if config.reranker == "tuned":
            _, path, _ = self._tuned(config, "reranker")
            reranker = make_reranker(f"tuned:{path.name}", cache_dir=path.parent.parent)
        else:
            reranker = make_reranker(config.reranker, self.settings.reranker_path)
        retriever = Retriever(rt, reranker)

        def rank(question: str, k: int, mode: str | None = None) -> list[tuple[str, int]]:
            hits = retriever.retrieve(
                question, k, mode or config.mode,  # type: ignore[arg-type]
                fusion=config.fusion, weights=config.weights,  # type: ignore[arg-type]
                prefetch=config.prefetch, rrf_k=config.rrf_k,
            )  # fmt: skip
            return [keys[h.chunk_id] for h in hits]

        return rank

    def run(self, config: EvalConfig, k_max: int = 20) -> EvalResult:
        _, stage_seconds, reused = self._index(config)
        rank = self.ranker(config)
        runs = []
        per_query = []
        t0 = time.perf_counter()
        for q in self.queries:
            ranked = rank(q.text, k_max)
            runs.append((ranked, q.golden))
            per_query.append((q.text, pass_at_k(ranked, q.golden, k_max)))
        seconds = time.perf_counter() - t0
        return EvalResult(
            config, summarize(runs), stage_seconds, reused, seconds, len(self.queries), per_query
        )

    def close(self) -> None:
        for rt, _, _ in self._indexes.values():
            rt.close()
        self._indexes.clear()
