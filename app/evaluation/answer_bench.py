"""The answer benchmark: a folder of real files, questions with expected answers, scored.

The corpus is ingested with the product's own pipeline (files it cannot read yet are
reported and left out), then every question is asked through ``FactVault.ask``, the code
path of ``POST /v1/query``. Scoring follows ../shared/eval/answers/README.md: an answer is
correct when it holds one of ``answer_any``, all of ``answer_all`` and cites a golden file;
an unanswerable question is correct when the reply says it does not know and cites nothing.

Each configuration (evidence mode, prompt version, citation rule, top_k, model) is run on a
FactVault of its own over the same data dir, one after the other in one process, so their
figures are comparable. The answer cache is emptied first and a few questions are asked a
second time at the end, which measures a cache hit.
"""

from __future__ import annotations

import json
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete

from app.answering.request import AskRequest, Stream
from app.answering.types import Answer
from app.core.config import Settings
from app.core.db import AnswerCacheEntry
from app.core.migrate import upgrade
from app.core.vectorstore import SearchFilter
from app.evaluation.answer_configs import AnswerConfig
from app.evaluation.answer_items import (
    RESTRICTED,
    RESTRICTED_DIR,
    AnswerItem,
    Verdict,
    declines,
    score,
)
from app.models.manager import ModelManager

KINDS_WITHOUT_PATH: dict[str, str] = {}  # question kinds the product cannot ask yet, and why
# Restricted questions are asked by a caller who may read the restricted collection; every
# other question, and the restricted ones a second time, by an ordinary caller limited to
# the default collection.
ORDINARY = SearchFilter(collections=("default",))
PRIVILEGED = SearchFilter()


@dataclass
class QuestionRecord:
    id: str
    kind: str
    question: str
    answer: str
    verdict: Verdict
    cited: list[str]
    ttft_s: float | None  # request start -> the model's first token
    first_shown_s: float | None  # request start -> the first text a stream shows
    total_s: float
    prompt_tokens: int
    answer_tokens: int
    tokens_per_s: float | None
    withheld: int
    timings: dict[str, float]
    reply: str  # the model's raw output
    sources: list[dict]  # what the model was shown, numbered
    golden_files: tuple[str, ...] = ()
    prompt_reused: int = 0  # prompt tokens llama.cpp took from its context, not read again


@dataclass
class ConfigResult:
    config: AnswerConfig
    records: list[QuestionRecord]
    skipped: dict[str, int]
    cache_hit_ms: list[float] = field(default_factory=list)
    peak_rss_mib: float = 0.0
    readable_ids: frozenset[str] = frozenset()  # answerable with a golden file it could read
    # Restricted questions asked again by an ordinary caller: right when declined with no
    # citation of a restricted file.
    denied: list[QuestionRecord] = field(default_factory=list)

    def metrics(self) -> dict[str, float]:
        answerable = [r for r in self.records if r.kind != "unanswerable"]
        idk = [r for r in self.records if r.kind == "unanswerable"]
        readable = [r for r in answerable if r.id in self.readable_ids]
        followups = [r for r in self.records if r.kind == "followup"]
        by_kind: dict[str, list[QuestionRecord]] = {}
        for r in self.records:
            by_kind.setdefault(r.kind, []).append(r)
        by_format: dict[str, list[QuestionRecord]] = {}
        for r in answerable:
            for ext in dict.fromkeys(Path(f).suffix.lstrip(".") for f in r.golden_files):
                by_format.setdefault(ext, []).append(r)

        def share(rs: list[QuestionRecord], f: Callable[[QuestionRecord], bool]) -> float:
            return sum(map(f, rs)) / len(rs) if rs else float("nan")

        def p50(values: list[float | None]) -> float:
            vs = [v for v in values if v is not None]
            return statistics.median(vs) if vs else float("nan")

        return {
            "answer_accuracy": share(answerable, lambda r: r.verdict.text_ok),
            "citation_accuracy": share(answerable, lambda r: r.verdict.cited_ok),
            "correct": share(answerable, lambda r: r.verdict.correct),
            "correct_readable": share(readable, lambda r: r.verdict.correct),
            "idk_accuracy": share(idk, lambda r: r.verdict.correct),
            "followup_correct": share(followups, lambda r: r.verdict.correct),
            "restricted_denied": share(self.denied, lambda r: r.verdict.correct),
            **{
                f"format_{ext}": share(rs, lambda r: r.verdict.correct)
                for ext, rs in sorted(by_format.items())
            },
            **{
                f"kind_{kind}": share(rs, lambda r: r.verdict.correct)
                for kind, rs in sorted(by_kind.items())
            },
            "ttft_p50_s": p50([r.ttft_s for r in self.records]),
            "first_shown_p50_s": p50([r.first_shown_s for r in self.records]),
            "total_p50_s": p50([r.total_s for r in self.records]),
            "prompt_tokens_p50": p50([r.prompt_tokens for r in self.records]),
            "answer_tokens_p50": p50([r.answer_tokens for r in self.records]),
            "tokens_per_s_p50": p50([r.tokens_per_s for r in self.records]),
            "cache_hit_p50_ms": p50(list(self.cache_hit_ms)),
            "peak_rss_mib": self.peak_rss_mib,
            "questions": len(self.records),
            "answerable": len(answerable),
            "readable": len(readable),
        }


def readable_items(items: list[AnswerItem], readable_files: set[str]) -> frozenset[str]:
    """Answerable questions with at least one golden file the pipeline could read."""
    return frozenset(i.id for i in items if any(f in readable_files for f in i.golden_files))


class Service(Protocol):
    """What the benchmark drives: app.service.FactVault (passed in; it sits above us)."""

    models: ModelManager

    def ingest_files(self, files: list[tuple[str, Path]], collection: str = ...) -> Any: ...
    def list_documents(self) -> list[Any]: ...
    def start(self, background: bool = True) -> Any: ...
    def activate_model(self, name: str) -> Any: ...
    def ask(self, caller_key: int | None, question: str, **kwargs: Any) -> Answer: ...
    def new_conversation(self, caller_key: int | None) -> Any: ...
    def say(
        self, caller_key: int | None, conversation_id: str, question: str, **kw: Any
    ) -> Any: ...
    def close(self) -> None: ...

    @property
    def runtime(self) -> Any: ...


class AnswerBench:
    """One corpus ingested once into ``work_dir``, then configurations run over it."""

    def __init__(
        self,
        corpus_dir: Path,
        items: list[AnswerItem],
        work_dir: Path,
        settings: Settings,
        open_service: Callable[[Settings], Service],
        log: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.open_service = open_service
        self.corpus_dir = Path(corpus_dir)
        self.items = items
        self.work_dir = Path(work_dir)
        self.base = settings
        self.log = log
        self.readable: set[str] = set()
        self.refused: dict[str, str] = {}

    def settings_for(self, cfg: AnswerConfig) -> Settings:
        update = {
            "data_dir": self.work_dir,
            "database_url": f"sqlite:///{self.work_dir / 'factvault.db'}",
            "models_path": self.base.models_dir,  # assembled bundled models are shared
            "auth_enabled": False,
            "rate_requests_per_minute": 0,
            "rate_tokens_per_minute": 0,
            "model_follow_seconds": 0.0,
            **cfg.settings_overrides(),
        }
        return self.base.model_copy(update=update)

    def files(self) -> list[tuple[str, Path]]:
        return [
            (p.relative_to(self.corpus_dir).as_posix(), p)
            for p in sorted(self.corpus_dir.rglob("*"))
            if p.is_file()
        ]

    @contextmanager
    def session(self, cfg: AnswerConfig) -> Iterator[Service]:
        """A service over the ingested corpus with ``cfg``'s model active and the answer
        cache empty (every question is answered anew); closed on leaving."""
        settings = self.settings_for(cfg)
        settings.ensure_dirs()
        upgrade(settings.sql_url)
        service = self.open_service(settings)
        try:
            self._ingest(service)
            service.start(background=False)
            if service.models.current is None or service.models.current.name != cfg.model:
                service.activate_model(cfg.model)
            with service.runtime.db.session() as s:
                s.execute(delete(AnswerCacheEntry))
            yield service
        finally:
            service.close()

    def run(self, cfg: AnswerConfig, cache_checks: int = 3) -> ConfigResult:
        with self.session(cfg) as service:
            result = ConfigResult(cfg, [], {})
            for item in self.items:
                if item.kind in KINDS_WITHOUT_PATH:
                    result.skipped[item.kind] = result.skipped.get(item.kind, 0) + 1
                    continue
                record = self.ask(service, cfg, item)
                mark = "ok " if record.verdict.correct else "BAD"
                self.log(
                    f"{cfg.name} {cfg.model} {item.id} {mark} {record.total_s:5.1f}s "
                    f"{record.answer[:90]!r}"
                )
                result.records.append(record)
            for item in self.items:
                if item.access == RESTRICTED:
                    record = self.ask(service, cfg, item, ORDINARY)
                    leaked = any(c.startswith(RESTRICTED_DIR) for c in record.cited)
                    declined = declines(record.answer)
                    record.verdict = Verdict(declined, not leaked, declined and not leaked)
                    result.denied.append(record)
                    mark = "ok " if record.verdict.correct else "BAD"
                    self.log(f"{cfg.name} {cfg.model} {item.id} as ordinary caller {mark}")
            for record in result.records[:cache_checks]:
                t0 = time.perf_counter()
                hit = service.ask(None, AskRequest(record.question, cfg.top_k))
                if hit.cached:
                    result.cache_hit_ms.append(1000 * (time.perf_counter() - t0))
            result.peak_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            result.readable_ids = readable_items(self.items, self.readable)
            return result

    def _ingest(self, service: Service) -> None:
        files = self.files()
        self.refused = {}
        for collection, part in (
            ("default", [f for f in files if not f[0].startswith(RESTRICTED_DIR)]),
            (RESTRICTED, [f for f in files if f[0].startswith(RESTRICTED_DIR)]),
        ):
            if part:
                self.refused.update(service.ingest_files(part, collection).report.errors)
        names = {d.source for d in service.list_documents()}
        self.readable = names
        for source, reason in sorted(self.refused.items()):
            self.log(f"not readable yet: {source}: {reason}")

    def ask(
        self,
        service: Service,
        cfg: AnswerConfig,
        item: AnswerItem,
        caller: SearchFilter | None = None,
    ) -> QuestionRecord:
        """``caller``: what the asker may read (default: by the question's access)."""
        flt = caller or (PRIVILEGED if item.access == RESTRICTED else ORDINARY)
        shown_at: list[float] = []
        t0 = time.perf_counter()

        def on_token(_: str) -> None:
            if not shown_at:
                shown_at.append(time.perf_counter() - t0)

        if len(item.turns) > 1:  # a conversation: earlier turns asked first, in one thread
            conv = service.new_conversation(None)
            for turn in item.turns[:-1]:
                service.say(None, conv.id, AskRequest(turn, cfg.top_k, flt))
            t0 = time.perf_counter()
            last = AskRequest(item.turns[-1], cfg.top_k, flt)
            answer = service.say(None, conv.id, last, Stream(on_token=on_token)).answer
        else:
            asked = AskRequest(item.question, cfg.top_k, flt)
            answer = service.ask(None, asked, Stream(on_token=on_token))
        t = answer.timings
        ttft = None
        if "first_token" in t:
            ttft = (
                t.get("rewrite", 0.0)
                + t["retrieve"]
                + t.get("evidence", 0.0)
                + t.get("queue", 0.0)
                + t["first_token"]
            )
        decode = t.get("generate", 0.0) - t.get("first_token", 0.0)
        cited = list(dict.fromkeys(c.source for c in answer.citations))
        return QuestionRecord(
            id=item.id,
            kind=item.kind,
            question=item.question,
            answer=answer.answer,
            verdict=score(item, answer.answer, cited),
            cited=cited,
            ttft_s=ttft,
            first_shown_s=shown_at[0] if shown_at else None,
            total_s=t["total"],
            prompt_tokens=answer.prompt_tokens,
            answer_tokens=answer.completion_tokens,
            tokens_per_s=(answer.completion_tokens - 1) / decode
            if decode > 0 and answer.completion_tokens > 1
            else None,
            withheld=answer.withheld,
            timings={k: round(v, 3) for k, v in t.items()},
            reply=answer.reply,
            sources=[{"n": s.n, "source": s.source, "text": s.text} for s in answer.sources],
            golden_files=item.golden_files,
            prompt_reused=answer.prompt_reused,
        )


def write_log(path: Path, result: ConfigResult) -> None:
    """The per-question log: what the model was shown, what it wrote, how it was scored;
    restricted questions asked again by an ordinary caller follow, marked ``as_ordinary``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for r in result.records:
            fh.write(json.dumps(asdict(r), ensure_ascii=False) + "\n")
        for r in result.denied:
            fh.write(json.dumps({**asdict(r), "as_ordinary": True}, ensure_ascii=False) + "\n")
