"""The second chance, run: a reply that declined is answered once more before "I don't know".

What to search for comes from second_chance.py (the bridge line of the first evidence) and
hop.py (the question asked as one hop through it); this runs the searches, draws the
evidence, asks the model and judges the reply with the answerer's own steps, which it is
given: the answerer decides when a second chance comes (answerer.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace

from app.answering.attempts import AnswerSettings, Attempt, FittedPrompt, Run
from app.answering.attribution import Attributed, Attributor, lost_value
from app.answering.fitting import fit_prompt
from app.answering.history import history_messages
from app.answering.hop import second_hop
from app.answering.prompts import PRESSED_TASK
from app.answering.second_chance import (
    EXTRA_CHUNKS,
    WIDER,
    bridge,
    bridge_origin,
    bridge_value,
    linking_terms,
)
from app.answering.types import Citation
from app.models.remote import RemoteModel
from app.models.runner import LoadedModel
from app.retrieval import RetrievedChunk, Retriever


class SecondTry:
    """Called with the run, the first chunks and the first attempt; returns the second."""

    def __init__(
        self,
        retriever: Retriever,
        config: AnswerSettings,
        evidence: Callable[..., list[Citation]],
        attempt: Callable[[Run, FittedPrompt, bool], Attempt],
        attributor: Callable[..., Attributor | None],
        gate: Callable[[LoadedModel | RemoteModel], AbstractContextManager[object]],
    ) -> None:
        """The answerer's steps: evidence windows, one attempt, the attributor, the CPU gate."""
        self.retriever = retriever
        self.config = config
        self._evidence = evidence
        self._attempt = attempt
        self._attributor = attributor
        self._gate = gate

    def __call__(self, run: Run, chunks: list[RetrievedChunk], first: Attempt) -> Attempt:
        """The first reply declined: answer once more. With a bridge that gives a value
        (second_chance.py), as one hop through it (hop.py), from a search with the hop;
        otherwise from wider windows over the first chunks and windows of the chunks a
        second search finds with the bridge line. With ``config.press`` the prompt presses for an
        answer (prompts.PRESSED_TASK) and the reply is judged strictly, as a hop's is."""
        t1 = time.perf_counter()
        search = run.turn.search
        line = bridge(search, [s.text for s in first.prompt.shown])
        query = f"{search}\n{line}" if line else search
        wanted = (run.request.top_k or len(chunks)) + EXTRA_CHUNKS
        turn, hop = run.turn, self._hop(run, line)
        if hop is not None:
            # One hop: searched for and read around with the bridge's value in it (the
            # directory row of the person named, not the rows sharing the question's words).
            turn = replace(turn, question=hop, search=hop)
            more = self.retriever.retrieve(f"{hop}\n{line}", wanted, "hybrid", run.request.filter)
            sources = self._evidence(run.model, hop, more, self.config.evidence_tokens * WIDER)
        else:
            more = self.retriever.retrieve(query, wanted, "hybrid", run.request.filter)
            seen = {c.chunk_id for c in chunks}
            new = [c for c in more if c.chunk_id not in seen][:EXTRA_CHUNKS]
            wide = self._evidence(run.model, search, chunks, self.config.evidence_tokens * WIDER)
            # The new chunks' windows are drawn apart: beside the first chunks, a row that
            # only names the bridging person would fall under the relevance floor.
            found = self._evidence(run.model, query, new) if new else []
            sources = wide + found
        sources = [replace(c, n=n) for n, c in enumerate(sources, start=1)]
        # A first reply that lost its value behind a citation is asked for the number
        # first (attribution.lost_value): the model did answer, it wrote the [n] instead.
        press = self.config.press or (self.config.press_lost and lost_value(first.result.text))
        messages, shown, max_tokens = fit_prompt(
            run.model, turn.question, sources, first.prompt.max_tokens,
            self.config.prompt, history_messages(run.kept),
            task=PRESSED_TASK if press else None,
        )  # fmt: skip
        links = frozenset(linking_terms(search, line))
        # Judged against the question as asked: what it asks for is the user's words, not
        # the hop's ("phone number" where the directory says "extension").
        # A pressed reply, or one to a question the model rewrote, is judged strictly: its
        # sources must hold the question's names or the bridge's (attribution.py).
        strict = press or hop is not None
        attributor = self._attributor(run.turn, shown, links, strict=strict)
        prompt = FittedPrompt(messages, shown, max_tokens, attributor)
        done = self._attempt(run, prompt, False)
        if hop is not None:
            done = self._through(run, done, line, first.prompt.shown)
        run.timings["second_chance"] = time.perf_counter() - t1
        return replace(done, retried=True)

    def _through(self, run: Run, done: Attempt, line: str, first: list[Citation]) -> Attempt:
        """A one-hop answer says what it went through: the bridge's fields, cited to the
        source they came from ("Account manager: Gasce Lurrudra [3]."), after the answer
        (which is already shown as it streamed), unless the answer cites that source."""
        origin = bridge_origin(line, [s.text for s in first])
        if origin is None or not any(s.supported for s in done.final.sentences):
            return done  # the hop declined too: "I don't know" is the answer
        shown = list(done.prompt.shown)
        source = first[origin]
        n = next((c.n for c in shown if (c.chunk_id, c.text) == (source.chunk_id, source.text)),
                 None)  # fmt: skip
        if n is not None and any(n in s.sources for s in done.final.sentences):
            return done
        if n is None:
            n = len(shown) + 1
            shown.append(replace(source, n=n))
        fields = "; ".join(ln.strip() for ln in line.splitlines() if ln.strip())
        sentence = f"{fields[:1].upper()}{fields[1:]} [{n}]."
        if run.stream.on_token is not None:
            run.stream.on_token(" " + sentence)
        final = done.final
        said = replace(final, text=f"{final.text} {sentence}",
                       sentences=[*final.sentences, Attributed(sentence, True, (n,))])  # fmt: skip
        return replace(done, prompt=replace(done.prompt, shown=shown), final=said)

    def _hop(self, run: Run, line: str) -> str | None:
        """The question asked as one hop through the bridge ``line`` (hop.py), or None."""
        value = bridge_value(run.turn.search, line) if line else ""
        if not value or not self.config.two_hops:
            return None
        t1 = time.perf_counter()
        with self._gate(run.model):
            hop, result = second_hop(run.model, run.turn.question, line, value, run.stop_check)
        run.count(result)
        run.timings["hop"] = time.perf_counter() - t1
        return hop
