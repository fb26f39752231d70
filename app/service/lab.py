"""Measuring and tuning: the benchmarks (retrieval, answers), the generated shares, the
self-evaluation of this installation's index, and training a tuned embedder or reranker.

These run in this process. A benchmark builds its own stores from a dataset (under a work
dir, never the installation's); the self-evaluation and training read the installation's
index, so they need the data dir to themselves. Results come back as the evaluation
package's own result objects; what a command prints as it goes comes through ``say``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.config import Settings
from app.core.runtime import Runtime
from app.core.vectorstore.base import SEARCH_MODES
from app.errors import ServiceError
from app.service.error_map import as_service_errors
from app.service.installation import open_stores

if TYPE_CHECKING:
    from app.evaluation.answer_sets import AnswerSet
    from app.evaluation.runner import EvalResult
    from app.evaluation.selfeval import QuestionSet, SelfEvalResult

Say = Callable[[str], None]
Step = Callable[[int, int, float | None], None]  # (step, total, loss)


@dataclass
class ConfigRun:
    """One retrieval configuration's figures, with what building its index cost."""

    name: str
    description: str
    result: EvalResult
    trained: list[tuple[str, str, int, float]] = field(default_factory=list)  # kind, name,...
    contexts: tuple[str, int, int, float] | None = None  # model, cached, written, CPU s


@dataclass
class SelfEval:
    result: SelfEvalResult
    trained_on: int
    dropped: int


@dataclass
class Trained:
    name: str
    path: Path
    steps: int
    seconds: float
    questions: tuple[int, int, int]  # training, held out, dropped by the round trip


def _bad(exc: Exception) -> ServiceError:
    return ServiceError(400, "invalid", str(exc))


class Lab:
    """The benchmarks and the tuning, for the owner of the data dir at a terminal."""

    def __init__(
        self, settings: Settings, say: Say = lambda line: None, warn: Say = lambda line: None
    ) -> None:
        self.settings = settings
        self.say = say  # results as they come
        self.warn = warn  # progress and warnings

    # Retrieval

    def retrieval_benchmark(
        self,
        corpus: Path,
        queries: Path,
        configs: Sequence[str],
        out_file: Path,
        work_dir: Path | None = None,
        contexts: Path | None = None,
        questions: Path | None = None,
        on_result: Callable[[ConfigRun], None] = lambda run: None,
    ) -> Path:
        """Each configuration's index built with the product's pipeline, every query ranked;
        the table (merged with earlier rows) and its chart written. Returns the chart."""
        from app.core.machine import describe
        from app.evaluation import report as retrieval_report
        from app.evaluation.dataset import load_corpus, load_queries
        from app.evaluation.plot import draw
        from app.evaluation.runner import DEFAULT_CONFIGS, Evaluator, parse_config
        from app.evaluation.summary import save_results
        from ingest.progress import terminal_progress

        try:
            parsed = [parse_config(c) for c in (configs or DEFAULT_CONFIGS)]
        except ValueError as exc:
            raise _bad(exc) from exc
        for path in (corpus, queries):
            if not path.is_file():
                raise ServiceError(404, "not_found", f"{path}: no such file")
        evaluator = Evaluator(
            load_corpus(corpus), load_queries(queries), work_dir or self.settings.data_dir / "eval",
            contexts_file=contexts or Path("bench/contexts") / f"{corpus.stem}.jsonl.gz",
            questions_file=questions or Path("bench/questions") / f"{corpus.stem}.jsonl.gz",
            progress=terminal_progress(), settings=self.settings,
        )  # fmt: skip
        results = []
        try:
            for cfg in parsed:
                result = evaluator.run(cfg)
                results.append(result)
                on_result(_config_run(evaluator, cfg, result))
        finally:
            evaluator.close()
        costs = retrieval_report.context_cost_lines(
            evaluator.contexts_file, out_file.with_name("context-cost.json")
        )
        table = retrieval_report.markdown(
            results, str(queries), describe(), retrieval_report.previous_rows(out_file), costs,
            notes=retrieval_report.previous_sections(out_file),
        )  # fmt: skip
        retrieval_report.write(out_file, table)
        save_results(self.settings.data_dir, str(queries), results)
        return draw(out_file, out_file.with_suffix(".png"))

    # Answers

    def answer_benchmark(
        self,
        sets: Sequence[AnswerSet],
        configs: Sequence[str],
        models: Sequence[str | None],
        ids: str | None,
        out_path: Path,
        logs: Path,
        root: Path,
        single_dir: Path | None = None,
        peer_log: Path | None = None,
    ) -> None:
        """Every configuration on every set, said as it finishes and merged into the
        results table: one row per configuration (the dev set alone) or per set group, then
        (with ``peer_log``) each configuration beside the peer's logged answers."""
        from app.evaluation import answer_peer, answer_sets
        from app.evaluation.answer_configs import DEFAULT_CONFIGS, parse_config
        from app.evaluation.answer_run import run_answer_benchmark
        from app.service.vault import FactVault

        try:
            names = configs or DEFAULT_CONFIGS
            parsed = [parse_config(c, m) for m in models or [None] for c in names]
            loaded = answer_sets.load(list(sets), ids)
            if peer_log is not None:
                answer_peer.peer_answers(peer_log)  # a bad log refused before hours of asking
        except ValueError as exc:
            raise _bad(exc) from exc
        run_answer_benchmark(
            parsed, loaded, self.settings, FactVault, out_path, logs, root, single_dir,
            say=self.say, warn=self.warn, peer_log=peer_log,
        )  # fmt: skip

    def answer_sets(
        self,
        corpus: Path | None,
        questions: Path | None,
        shares: Sequence[Path],
        seeds: Sequence[str],
        root: Path,
    ) -> list[AnswerSet]:
        """The sets asked for: the dev set, shares from folders, generated shares (written
        under ``root``/generated). Each ``seeds`` spec is a group of its own."""
        from app.evaluation import answer_sets

        try:
            groups = [answer_sets.parse_seeds([spec]) for spec in seeds]
            sets = [answer_sets.folder_set(folder) for folder in shares]
        except ValueError as exc:
            raise _bad(exc) from exc
        if corpus is not None and questions is not None:
            sets.insert(0, answer_sets.AnswerSet("dev", corpus, questions, "dev"))
        for group_seeds in groups:
            group = answer_sets.seed_group(group_seeds)
            sets += answer_sets.generated_sets(group_seeds, root / "generated")
            self.say(f"{group}: {len(group_seeds)} shares written under {root / 'generated'}")
            if "report seeds" in group:
                self.warn("report seeds: measure on them, never tune on them")
        return sets

    def write_share(self, seed: int, folder: Path) -> int:
        """A generated organisation share written into ``folder``; returns its file count."""
        from app.evaluation.generated import write_share

        return len(write_share(seed, folder)) - 1  # and questions.jsonl

    # This installation's index

    def self_eval(self, mode: str) -> SelfEval:
        """This installation's index scored on its held-out synthetic questions."""
        from app.evaluation.selfeval import self_eval

        if mode not in SEARCH_MODES:
            raise ServiceError(400, "invalid_mode", f"{mode!r}: choose hybrid, dense or sparse")
        with self._runtime() as rt:
            questions = self._questions(rt)
            result = self_eval(rt, questions, mode=mode)  # type: ignore[arg-type]
        return SelfEval(result, len(questions.train), questions.dropped)

    def train(self, kind: str, options: dict[str, Any], on_step: Step) -> Trained:
        """A tuned ``embedder`` or ``reranker`` trained on the synthetic questions' train
        split (CPU), written where ``FACTVAULT_*=tuned`` finds it."""
        from app.tuning.train_embedder import TrainingFailed

        train, make_settings = _trainer(kind)
        with self._runtime() as rt:
            questions = self._questions(rt)
            self.say(
                f"{len(questions.train)} training question(s), {len(questions.held_out)} held "
                f"out, {questions.dropped} dropped by the round trip"
            )
            try:
                report = train(rt, questions, make_settings(**options), on_step=on_step)
            except TrainingFailed as exc:
                raise _bad(exc) from exc
        return Trained(
            report.name, Path(report.path), report.steps, report.seconds,
            (len(questions.train), len(questions.held_out), questions.dropped),
        )  # fmt: skip

    def _questions(self, rt: Runtime) -> QuestionSet:
        from app.evaluation.selfeval import NoQuestions, questions_for

        try:
            return questions_for(rt)
        except NoQuestions as exc:
            raise ServiceError(409, "no_questions", str(exc)) from exc

    @contextmanager
    def _runtime(self) -> Iterator[Runtime]:
        rt = open_stores(self.settings)
        try:
            with as_service_errors():
                yield rt
        finally:
            rt.close()


def _trainer(kind: str):
    if kind == "embedder":
        from app.tuning.train_embedder import TrainSettings, train_embedder

        return train_embedder, TrainSettings
    if kind == "reranker":
        from app.tuning.train_reranker import RerankerSettings, train_reranker

        return train_reranker, RerankerSettings
    raise ServiceError(400, "invalid", f"nothing to train called {kind!r}")


def _config_run(evaluator: Any, cfg: Any, result: EvalResult) -> ConfigRun:
    trained = []
    for kind in ("embedder", "reranker"):
        report = evaluator.train_reports.pop((kind, cfg.context), None)
        if report is not None:
            trained.append((kind, report.name, report.steps, report.seconds))
    stats = evaluator.context_stats.pop(cfg.context_model, None) if cfg.uses_llm else None
    contexts = (
        (cfg.context_model, stats.cached, stats.written, stats.cpu_seconds) if stats else None
    )
    return ConfigRun(cfg.name, cfg.describe(), result, trained, contexts)
