"""What one answer's attempts are made of: the settings they follow, the prompt each sends,
what they share, and what each released. Shared by the answerer and its second chance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.answering.attribution import Attributor
from app.answering.history import Exchange
from app.answering.prompts import cited_numbers, is_idk
from app.answering.release import Released
from app.answering.request import AskRequest, Stream
from app.answering.rewrite import Rewrite
from app.answering.types import Citation
from app.models.remote import RemoteModel
from app.models.runner import GenerationResult, LoadedModel


@dataclass(frozen=True)
class AnswerSettings:
    """How answers are made; see the answer_* settings in app/core/config.py."""

    evidence: str = "windows"  # "windows" | "chunks"
    evidence_tokens: int = 240
    prompt: str = "v2"
    citations: str = "attributed"  # "attributed" | "required"
    cache: bool = True
    history_tokens: int = 2048  # earlier turns kept in a conversation's prompt
    rewrite: bool = True  # follow-ups rewritten into standalone questions (rewrite.py)
    second_chance: bool = True  # a declined reply is tried again (second_chance.py)
    arithmetic: bool = True  # totals and differences computed (arithmetic.py)
    two_hops: bool = True  # a second chance through a bridge asks one hop (hop.py)
    press: bool = False  # the second chance asks for an answer, "I don't know" not offered
    press_lost: bool = False  # ... only after a reply that lost its value behind a [n]
    early_release: bool = True  # the first sentence shown word by word once supported


@dataclass
class FittedPrompt:
    """One answer's model call: the messages, the sources they hold, the reply budget left,
    and the attributor for the reply (None: citations as the model wrote them)."""

    messages: list[dict[str, str]]
    shown: list[Citation]
    max_tokens: int
    attributor: Attributor | None

    def cited(self, final: Released) -> list[int]:
        """The sources the released answer cites: those attribution found for its
        sentences, or (citations as written) the numbers the model put in its text."""
        if self.attributor is not None:
            return list(dict.fromkeys(n for s in final.sentences for n in s.sources))
        return [] if is_idk(final.text) else cited_numbers(final.text, len(self.shown))


@dataclass(frozen=True)
class Run:
    """What every attempt at one answer shares: the model leased, the question as searched,
    the earlier turns kept, the request, its stream, its stop check and its timings."""

    model: LoadedModel | RemoteModel
    turn: Rewrite
    kept: list[Exchange]
    request: AskRequest
    stream: Stream
    stop_check: Callable[[], str | None]
    timings: dict[str, float]
    # Every generation this answer ran (first reply, figures, hop, second chance): the
    # answer's prompt tokens are all of theirs, not only the last prompt's.
    spent: list[GenerationResult] = field(default_factory=list)

    def count(self, result: GenerationResult) -> GenerationResult:
        self.spent.append(result)
        return result


@dataclass(frozen=True)
class Attempt:
    """One prompt, its generation and what of the reply was released."""

    prompt: FittedPrompt
    result: GenerationResult
    final: Released
    # The reply declined ("I don't know", or every sentence withheld) and nothing of it was
    # shown: a second chance comes.
    kept_back: bool = False
    retried: bool = False  # this is the second chance
