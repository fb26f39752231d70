"""Question -> grounded answer with citations: retrieval, prompt, generation, citation check.

Used by the API, the OpenAI-compatible endpoint and ``factvault query`` alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace

import numpy as np

from app.answering.arithmetic import FIGURES_TASK, figures, one_each, operation, worked
from app.answering.attempts import AnswerSettings, Attempt, FittedPrompt, Run
from app.answering.attribution import Attributed, Attributor
from app.answering.cache import AnswerCache, answer_key
from app.answering.fitting import fit_prompt
from app.answering.history import Exchange, fit_history, history_messages
from app.answering.release import Released, ReplyRelease
from app.answering.request import QUIET, AskRequest, Stream
from app.answering.rewrite import Rewrite, rewrite, stands_alone
from app.answering.second_try import SecondTry
from app.answering.types import (
    Answer,
    Citation,
    Sentence,
    answer_from_dict,
    citation_from_chunk,
    citation_from_evidence,
    heading,
)
from app.core import tracing
from app.models.manager import ModelManager
from app.models.remote import RemoteModel
from app.models.runner import GenerationResult, LoadedModel
from app.retrieval import RetrievedChunk, Retriever
from app.retrieval.evidence import select_evidence

# Finished answers are cached; a cancelled or timed-out one is not what the question gets.
CACHEABLE = ("stop", "length")
# Replies that stopped before the model ended them: their last sentence is unfinished.
CUT = ("length", "time_limit", "cancelled")


class Answerer:
    def __init__(
        self,
        retriever: Retriever,
        models: ModelManager,
        cpu_gate: Callable[[], AbstractContextManager[object]] | None = None,
        collection_name: Callable[[], str | None] | None = None,
        allowed_link_hosts: Sequence[str] = (),
        time_limit: float | None = None,
        config: AnswerSettings | None = None,
        cache: AnswerCache | None = None,
        embed: Callable[[list[str]], np.ndarray] | None = None,
    ) -> None:
        """``embed`` (texts -> unit vectors) adds embedding similarity to evidence selection;
        ``cache`` given and ``config.cache`` on: greedy answers are cached."""
        self.retriever = retriever
        self.models = models
        self.config = config or AnswerSettings()
        self._cpu_gate = cpu_gate or (lambda: nullcontext())
        self._collection_name = collection_name or (lambda: None)
        self._hosts = tuple(allowed_link_hosts)
        self._time_limit = time_limit
        self._cache = cache if self.config.cache else None
        self._embed = embed
        self._second_try = SecondTry(
            retriever, self.config, self._evidence, self._attempt, self._attributor, self._gate
        )

    def answer(self, request: AskRequest, stream: Stream = QUIET) -> Answer:
        """The request's ``top_k`` and ``max_tokens`` must be set (the service fills them
        from its settings). Generation stops when ``stream.cancelled()`` turns true or the
        time limit passes. Traced as ``factvault.answer`` (app/core/tracing.py): its stages
        under it, and ids and counts, never the question's or the answer's text."""
        where = request.filter.collections if request.filter is not None else None
        with tracing.stage("answer", collections=list(where) if where else None) as span:
            answer = self._answer(request, stream)
            tracing.set_attributes(
                span, model=answer.model_name, model_sha256=answer.model_sha256,
                index_version=answer.index_version, endpoint=answer.endpoint,
                prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens,
                cached=answer.cached, grounded=answer.grounded, withheld=answer.withheld,
                citations=len(answer.citations), finish_reason=answer.finish_reason,
            )  # fmt: skip
            return answer

    def _answer(self, request: AskRequest, stream: Stream) -> Answer:
        if request.top_k is None or request.max_tokens is None:
            raise ValueError("Answerer.answer needs top_k and max_tokens set (the service's)")
        question, history = request.question, request.history
        max_tokens, temperature = request.max_tokens, request.temperature
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        cfg = self.config
        stop_check = self._stop_check(t0, stream.cancelled)
        with self.models.lease() as model, model.admitted():
            kept, turn = self._standalone(model, question, history, stop_check, timings)
            standalone = turn.search
            t1 = time.perf_counter()
            with tracing.stage("retrieve", top_k=request.top_k) as span:
                chunks = self.retriever.retrieve(
                    standalone, request.top_k, "hybrid", request.filter
                )
                tracing.set_attributes(span, chunks=len(chunks))
            timings["retrieve"] = time.perf_counter() - t1
            key, hit = self._lookup(
                model, standalone, chunks, max_tokens, temperature, kept, timings
            )
            if hit is not None:
                return self._from_cache(hit, timings, t0, stream)
            run = Run(model, turn, kept, request, stream, stop_check, timings)
            prompt = self._prompt(model, turn, chunks, max_tokens, kept, timings)
            if stream.on_start is not None:
                stream.on_start()
            # (Under the older citation-required rule a reply is shown or not as a whole.)
            attributed = prompt.attributor is not None
            op = operation(turn.search) if cfg.arithmetic and attributed else None
            done = self._computed(run, prompt, op) if op else None
            if done is None:
                done = self._attempt(run, prompt, cfg.second_chance and attributed)
            if done.kept_back:
                done = self._second_try(run, chunks, done)
            name, sha = model.name, model.sha256
        prompt, result, final = done.prompt, done.result, done.final
        messages, shown = prompt.messages, prompt.shown
        cited = prompt.cited(final)
        # The version the chunks came from: during an index switch the active one may
        # already be another.
        index_version = chunks[0].index_version if chunks else self._collection_name()
        timings["total"] = time.perf_counter() - t0
        answer = Answer(
            answer=final.text,
            citations=[shown[n - 1] for n in cited],
            sources=shown,
            model_name=name,
            model_sha256=sha,
            index_version=index_version,
            timings=timings,
            endpoint=result.endpoint,
            prompt_tokens=turn.prompt_tokens + sum(r.prompt_tokens for r in run.spent),
            completion_tokens=result.completion_tokens,
            grounded=final.grounded,
            finish_reason=result.finish_reason or "stop",
            links_removed=final.links_removed,
            sentences=[Sentence(s.text, s.supported, list(s.sources)) for s in final.sentences],
            withheld=final.withheld,
            prompt_version=cfg.prompt,
            reply=result.text,
            question=question,
            standalone=standalone,
            rewritten=turn.rewritten,
            prompt_message=messages[-1]["content"],
            history_turns=len(kept),
            prompt_reused=turn.prompt_reused + sum(r.prompt_reused for r in run.spent),
        )
        if key is not None and answer.finish_reason in CACHEABLE and self._cache is not None:
            self._cache.put(key, sha, cfg.prompt, answer)
        return answer

    def _attempt(self, run: Run, prompt: FittedPrompt, may_retry: bool) -> Attempt:
        """One generation from one prompt, released sentence by sentence as it streams.
        ``may_retry``: a decline of a reply the model finished, with time left, is kept back
        (nothing of it shown) for a second chance. A cut reply is not tried again: there is
        no time or room left for one."""
        release = ReplyRelease(len(prompt.shown), self._hosts, run.stream.on_token,
                               prompt.attributor, early=self.config.early_release)  # fmt: skip
        result = self._generate(run, prompt, release.feed)
        cut = result.finish_reason in CUT
        retry = may_retry and not cut and run.stop_check() is None
        with tracing.stage("attribute") as span:
            final = release.finish(cut=cut, last=not retry)
            tracing.set_attributes(span, sentences=len(final.sentences), withheld=final.withheld)
        return Attempt(prompt, result, final, kept_back=retry and not final.sentences)

    def _computed(self, run: Run, first: FittedPrompt, op: str) -> Attempt | None:
        """A total or a difference: the model copies the figures it needs (not shown as it
        writes them), attribution checks each against its source, and the service does the
        arithmetic (arithmetic.py). None when the figures do not give a result: the
        question is then answered the usual way. The evidence is drawn once for each thing
        summed ("the Pildrea and Kolsto sites": Pildrea's row, then Kolsto's), so one
        table row does not crowd out the other."""
        t1 = time.perf_counter()
        sources = first.shown
        parts = one_each(run.turn.search)
        if parts:  # each searched for and drawn on its own (the other's row may be elsewhere)
            top_k, where = run.request.top_k, run.request.filter
            found = [self.retriever.retrieve(part, top_k, "hybrid", where) for part in parts]
            drawn = [c for part, cs in zip(parts, found, strict=True)
                     for c in self._evidence(run.model, part, cs)]  # fmt: skip
            sources = [replace(c, n=n) for n, c in enumerate(drawn, start=1)]
        messages, shown, max_tokens = fit_prompt(
            run.model, run.turn.question, sources, first.max_tokens, self.config.prompt,
            history_messages(run.kept), task=FIGURES_TASK,
        )  # fmt: skip
        attributor = self._attributor(run.turn, shown)
        prompt = FittedPrompt(messages, shown, max_tokens, attributor)
        result = self._generate(run, prompt, lambda _: None)
        run.timings["figures"] = time.perf_counter() - t1
        assert attributor is not None
        found = figures(result.text, attributor)
        text = worked(op, found) if result.finish_reason in (None, "stop") else None
        if text is None:
            return None
        if run.stream.on_token is not None:
            run.stream.on_token(text)
        every = tuple(dict.fromkeys(n for f in found for n in f.sources))
        sentences = [Attributed(f.text.rstrip(".") + ".", True, f.sources) for f in found]
        sentences.append(Attributed(text.rsplit(". ", 1)[-1], True, every))
        return Attempt(prompt, result, Released(text, True, 0, sentences, 0))

    def _standalone(
        self,
        model: LoadedModel | RemoteModel,
        question: str,
        history: Sequence[Exchange],
        stop_check: Callable[[], str | None],
        timings: dict[str, float],
    ) -> tuple[list[Exchange], Rewrite]:
        """The earlier turns that fit, and the question retrieval runs on: a follow-up that
        does not stand alone is rewritten with them (rewrite.py)."""
        budget = min(self.config.history_tokens, model.context_tokens // 2)
        kept = fit_history(history, budget, model.count_tokens) if history else []
        turn = Rewrite(question, question, rewritten=False)
        if kept and self.config.rewrite and not stands_alone(question):
            with self._gate(model):
                turn = rewrite(model, question, kept, stop_check)
            timings["rewrite"] = turn.seconds
        return kept, turn

    def _prompt(
        self,
        model: LoadedModel | RemoteModel,
        turn: Rewrite,
        chunks: list[RetrievedChunk],
        max_tokens: int,
        kept: list[Exchange],
        timings: dict[str, float],
    ) -> FittedPrompt:
        """The evidence, fitted into the model's context with the earlier turns, and the
        attributor that will check each sentence of the reply against what was shown."""
        t1 = time.perf_counter()
        with tracing.stage("evidence", chunks=len(chunks)) as span:
            sources = self._evidence(model, turn.search, chunks)
            tracing.set_attributes(span, passages=len(sources))
        timings["evidence"] = time.perf_counter() - t1
        messages, shown, max_tokens = fit_prompt(
            model, turn.question, sources, max_tokens, self.config.prompt, history_messages(kept)
        )
        return FittedPrompt(messages, shown, max_tokens, self._attributor(turn, shown))

    def _attributor(
        self,
        turn: Rewrite,
        shown: list[Citation],
        links: frozenset[str] = frozenset(),
        strict: bool = False,
    ) -> Attributor | None:
        """What checks each sentence of the reply against the sources shown (None:
        citations as the model wrote them); ``links``: the terms of a bridge the second
        chance searched with, which tie two sources together; ``strict``: the reply was
        pressed for an answer (prompts.PRESSED_TASK)."""
        if self.config.citations != "attributed":
            return None
        texts = [f"{heading(s)}\n{s.text}" for s in shown]
        return Attributor(turn.search, texts, links, strict=strict)

    def _lookup(
        self,
        model: LoadedModel | RemoteModel,
        standalone: str,
        chunks: list[RetrievedChunk],
        max_tokens: int,
        temperature: float,
        kept: list[Exchange],
        timings: dict[str, float],
    ) -> tuple[str | None, dict | None]:
        """The answer cache's key for this question and evidence, and its entry if there is
        one (timed as "cache"). Only greedy answers outside a conversation are cached."""
        if self._cache is None or temperature != 0.0 or kept:
            return None, None
        settings = self._key_settings(max_tokens)
        key = answer_key(standalone, chunks, model.sha256, self.config.prompt, settings)
        t1 = time.perf_counter()
        with tracing.stage("cache") as span:
            hit = self._cache.get(key)
            tracing.set_attributes(span, hit=hit is not None)
        if hit is not None:
            timings["cache"] = time.perf_counter() - t1
        return key, hit

    def _generate(
        self, run: Run, prompt: FittedPrompt, on_token: Callable[[str], None]
    ) -> GenerationResult:
        """The model's reply, each piece fed to ``on_token`` as it comes; the wait for the
        CPU and the generation are timed apart, and the run counts its tokens."""
        t1 = time.perf_counter()
        timings, request = run.timings, run.request
        queued = tracing.now_ns()
        with self._gate(run.model):
            timings["queue"] = time.perf_counter() - t1
            tracing.span_between("queue", queued, tracing.now_ns())
            with tracing.stage("generate", model_sha256=run.model.sha256) as span:
                started = tracing.now_ns()
                result = run.model.generate(
                    prompt.messages, max_tokens=prompt.max_tokens,
                    temperature=request.temperature, on_token=on_token,
                    should_stop=run.stop_check, keep_state=request.keep_state,
                )  # fmt: skip
                if result.first_token_seconds is not None:  # prefill: up to the first token
                    first = started + int(result.first_token_seconds * 1e9)
                    tracing.span_between("prefill", started, first,
                                         prompt_tokens=result.prompt_tokens,
                                         prompt_reused=result.prompt_reused)  # fmt: skip
                tracing.set_attributes(
                    span, prompt_tokens=result.prompt_tokens,
                    completion_tokens=result.completion_tokens, endpoint=result.endpoint,
                    finish_reason=result.finish_reason,
                )  # fmt: skip
        timings["generate"] = result.seconds
        if result.first_token_seconds is not None:
            timings["first_token"] = result.first_token_seconds
        return run.count(result)

    def _key_settings(self, max_tokens: int) -> dict[str, object]:
        c = self.config
        return {
            "evidence": c.evidence,
            "evidence_tokens": c.evidence_tokens,
            "citations": c.citations,
            "max_tokens": max_tokens,
            "hosts": sorted(self._hosts),
            "second_chance": c.second_chance,
            "arithmetic": c.arithmetic,
            "two_hops": c.two_hops,
            "press": c.press,
            "press_lost": c.press_lost,
            "early_release": c.early_release,
        }

    def _evidence(
        self,
        model: LoadedModel,
        question: str,
        chunks: list[RetrievedChunk],
        budget: int | None = None,
    ) -> list[Citation]:
        """What the model reads: whole chunks, or the evidence windows within them."""
        if self.config.evidence == "chunks":
            return [citation_from_chunk(n, c) for n, c in enumerate(chunks, start=1)]
        budget = budget or self.config.evidence_tokens
        blocks = select_evidence(question, chunks, budget, model.count_tokens, self._embed)
        return [citation_from_evidence(n, b) for n, b in enumerate(blocks, start=1)]

    def _from_cache(
        self,
        hit: dict,
        timings: dict[str, float],
        t0: float,
        stream: Stream,
    ) -> Answer:
        answer = answer_from_dict(hit)
        answer.prompt_reused = answer.prompt_tokens  # nothing was read: the answer was kept
        if stream.on_start is not None:
            stream.on_start()
        if stream.on_token is not None:
            stream.on_token(answer.answer)
        timings["total"] = time.perf_counter() - t0
        answer.timings = timings
        answer.cached = True
        return answer

    def _gate(self, model: LoadedModel | RemoteModel) -> AbstractContextManager[object]:
        """Generation takes turns with embedding on this machine's CPU; a model served by
        inference endpoints runs elsewhere, so its requests go out side by side."""
        return self._cpu_gate() if model.runs_here else nullcontext()

    def _stop_check(
        self, started: float, cancelled: Callable[[], bool] | None
    ) -> Callable[[], str | None]:
        deadline = started + self._time_limit if self._time_limit else None

        def check() -> str | None:
            if cancelled is not None and cancelled():
                return "cancelled"
            if deadline is not None and time.perf_counter() > deadline:
                return "time_limit"
            return None

        return check
