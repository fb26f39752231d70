"""What of a model's reply may be shown, decided sentence by sentence as it streams.

The reply is cut into sentences as it arrives, and each finished sentence is made safe
(``strip_links``) and judged before anything of it is shown:

- ``attributed`` (the default): the sentence is checked against the numbered sources
  (attribution.py). A supported sentence is shown with its citations corrected; an
  unsupported one is withheld and never shown; one without content ("Yes.") is shown with
  the supported sentence it rides with. A reply with no supported sentence becomes "I don't
  know"; a reply that starts by saying so is "I don't know".
- ``required`` (the older rule, kept to measure against): nothing is shown until a sentence
  cites a source that exists; a reply that never cites becomes "I don't know".

Either way the text a stream shows, concatenated, is exactly the final answer: the
non-streamed path runs the same code, fed the whole reply at once.

A reply that was cut (the token cap, the time limit, a cancel) ends in an unfinished
sentence: ``finish(cut=True)`` drops it unjudged, so a cut number ("get 2" of "get 24") is
never shown with a citation on it. The finished sentences before it stand.

``early`` (issue 33): most answers are one sentence, so waiting for its full stop delays the
first word by the whole sentence. With ``early`` the answer's first sentence is judged word
by word as it arrives: as soon as the words so far are supported on their own, say what
the question asks about, give a figure the question does not (the value most answers are
about: "The maximum salary for band T6" may yet go on "is [1]") and end on a word their
source holds, they are shown, and each word after that extends what is shown
while the words so far stay supported. What is shown is then part of the answer whatever
the sentence turns out to be: when the whole sentence is supported it stands as usual;
when it is not (or the reply is cut), the answer keeps the supported words shown, as a
sentence of their own with their citations, and the rest is withheld. Only plain words are
shown early: nothing past a citation marker, a link, markup or a bracket, so the final
answer always starts with what was shown. The decision depends on the text alone, never
on how it was split into pieces, so a stream and a whole reply give the same answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.answering.attribution import Attributed, Attributor, recite
from app.answering.prompts import IDK, cited_numbers, is_idk
from app.answering.safety import strip_links

# A sentence ends at . ! or ? followed by white space, or at a line break; the white space
# stays with the sentence it ends, so the pieces concatenate back to the reply.
SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+|\n+")
_ONLY_CITATIONS = re.compile(r"^(?:\s*\[\d{1,3}\])+[.!?]?\s*$")
# Early release: a word ends where white space follows it; a sentence's leading "[1] " goes
# (attribution moves it to the end); past any of these nothing more is shown early, for
# what follows may be rewritten (citations moved, links and markup removed).
_WORD_END = re.compile(r"(?<=\S)\s")
_LEADING_CITATIONS = re.compile(r"^\s*(?:\[\d{1,3}\]\s*)*")
_NOT_PLAIN = re.compile(r"[\[\]<>()`*_#|{}\\~]|://|\bwww\.", re.I)


@dataclass(frozen=True)
class Released:
    text: str
    grounded: bool  # False: nothing in the reply was supported; it became "I don't know"
    links_removed: int
    sentences: list[Attributed] = field(default_factory=list)  # what the answer shows
    withheld: int = 0  # sentences no source supported


class ReplyRelease:
    def __init__(
        self,
        sources: int,
        allowed_hosts: Sequence[str] = (),
        show: Callable[[str], None] | None = None,
        attributor: Attributor | None = None,
        early: bool = False,
    ) -> None:
        """``attributor`` given: the attributed rule; None: the citation-required rule.
        ``early``: the first sentence is shown word by word once supported (attributed
        rule only)."""
        self._sources = sources
        self._hosts = tuple(allowed_hosts)
        self._show = show
        self._attributor = attributor
        self._pending = ""  # received, not yet a whole sentence
        self._safe = ""  # whole sentences, made safe (required rule)
        self._shown = ""
        self._removed = 0
        self._released = ""  # attributed rule: the sentences decided to be shown
        self._sentences: list[Attributed] = []
        self._riders: list[str] = []  # content-free sentences waiting for a supported one
        self._withheld = 0
        self._idk = False
        self._early_on = early and attributor is not None
        self._early = ""  # the first sentence's words shown before its end (early release)
        self._early_sources: tuple[int, ...] = ()
        self._early_done = False  # past a citation, link or markup: nothing more early

    def feed(self, piece: str) -> None:
        new = len(self._pending)  # where this piece starts in the pending text
        self._pending += piece
        ends = [m.end() for m in SENTENCE_END.finditer(self._pending)]
        if self._attributor is None:
            if not ends:
                return
            whole, self._pending = self._pending[: ends[-1]], self._pending[ends[-1] :]
            self._take(whole)
            if self._grounded(self._safe):
                self._show_up_to(self._safe.strip())
            return
        start = 0
        for end in [*ends, None]:
            sentence = self._pending[start:end]
            if self._early_on and not self._idk and not self._sentences:
                self._grow_early(sentence, max(0, new - start))
            if end is None:
                break
            self._judge(sentence)
            self._early_done = False
            start = end
        self._pending = self._pending[start:]
        self._show_up_to(self._visible())

    def finish(self, cut: bool = False, last: bool = True) -> Released:
        """The final answer; shows whatever of it was not shown yet. ``cut``: the reply
        stopped before the model ended it, so its unfinished last sentence is dropped.
        Not ``last``: a reply that declines is not shown, for another try may answer."""
        if cut:
            self._pending = ""
            if self._early:  # the words shown stand; the rest of the sentence is withheld
                self._keep_early()
        if self._attributor is not None:
            return self._finish_attributed(last)
        if self._pending:
            self._take(self._pending)
            self._pending = ""
        text = self._safe.strip() or IDK
        grounded = is_idk(text) or bool(cited_numbers(text, self._sources))
        if not grounded:
            text = IDK
        self._show_up_to(text)
        return Released(text, grounded, self._removed)

    # -- the attributed rule ----------------------------------------------------------

    def _judge(self, sentence: str) -> None:
        assert self._attributor is not None
        if self._idk:
            return
        safe, removed = strip_links(sentence, self._hosts)
        self._removed += removed
        if not safe.strip() or _ONLY_CITATIONS.match(safe):
            return  # a stray "[1]" after the full stop: attribution places citations itself
        if not self._released and not self._riders and not self._sentences and is_idk(safe):
            self._idk = True
            return
        if not self._released:
            safe = safe.lstrip()
        verdict = self._attributor.attribute(safe)
        if self._early:
            whole = self._released + "".join(self._riders) + verdict.text
            if not (verdict.supported and whole.strip().startswith(self._visible())):
                self._keep_early()
                return
            self._early, self._early_done = "", False
        if verdict.supported:
            for rider in self._riders:
                self._sentences.append(Attributed(rider, True, verdict.sources))
                self._released += rider
            self._riders = []
            self._sentences.append(verdict)
            self._released += verdict.text
        elif not self._attributor.content_terms(safe):
            if self._sentences:  # rides with the supported sentence before it
                self._sentences.append(Attributed(safe, True, self._sentences[-1].sources))
                self._released += safe
            else:
                self._riders.append(safe)
        else:
            self._withheld += 1

    def _finish_attributed(self, last: bool) -> Released:
        if self._pending:
            self._judge(self._pending)
            self._pending = ""
        if self._idk or not self._sentences:
            if last:
                self._show_up_to(IDK)
            return Released(IDK, self._idk, self._removed, [], self._withheld)
        text = self._released.strip()
        self._show_up_to(text)
        sentences = [Attributed(s.text.strip(), s.supported, s.sources) for s in self._sentences]
        return Released(text, True, self._removed, sentences, self._withheld)

    # -- early release (the attributed rule) -----------------------------------------

    def _grow_early(self, sentence: str, new: int) -> None:
        """Judges the sentence's words that end at or after offset ``new`` (the ones this
        piece brought), one prefix at a time, and extends what is shown early while each
        is supported."""
        if self._early_done:
            return
        for m in _WORD_END.finditer(sentence):
            if m.start() >= new and not self._try_early(sentence[: m.start()]):
                return

    def _try_early(self, prefix: str) -> bool:
        """Shows ``prefix`` (the sentence up to a word's end) if it may be; False once
        nothing more of this sentence can be shown early."""
        assert self._attributor is not None
        body = _LEADING_CITATIONS.sub("", prefix)
        if _NOT_PLAIN.search(body):
            self._early_done = True
            return False
        words = body.rstrip().rstrip(",;:").rstrip()
        if not words or SENTENCE_END.search(words + " ") or len(words) <= len(self._early):
            return True
        if is_idk(words) or IDK.lower().startswith(words.lower()):
            return True  # "I don't ..." may yet be a decline
        if strip_links(words, self._hosts)[1]:
            self._early_done = True
            return False
        verdict = self._attributor.attribute(words)
        # The words end on one their source holds: never on "plus" or "and" that the rest
        # of the sentence may not bear out.
        last = self._attributor.content_terms(words.split()[-1])
        if (
            verdict.supported
            and last
            and self._attributor.coverage(last, *verdict.sources) == 1.0
            and self._attributor.on_topic(words)
            and self._attributor.adds_figure(words)
        ):
            self._early, self._early_sources = words, verdict.sources
        return True

    def _visible(self) -> str:
        """What may be shown now: the sentences released, and the early words."""
        if not self._early:
            return self._released.strip()
        return (self._released + "".join(self._riders) + self._early).strip()

    def _keep_early(self) -> None:
        """The words shown early become a sentence of their own (the rest of theirs was
        not supported, or never came)."""
        text = recite(self._early + ".", self._early_sources) + " "
        for rider in self._riders:
            self._sentences.append(Attributed(rider, True, self._early_sources))
            self._released += rider
        self._riders = []
        self._sentences.append(Attributed(text, True, self._early_sources))
        self._released += text
        self._withheld += 1
        self._early, self._early_done = "", False

    # -- the citation-required rule ---------------------------------------------------

    def _take(self, sentences: str) -> None:
        safe, removed = strip_links(sentences, self._hosts)
        self._safe += safe
        self._removed += removed

    def _grounded(self, text: str) -> bool:
        return not is_idk(text) and bool(cited_numbers(text, self._sources))

    def _show_up_to(self, text: str) -> None:
        if self._show is None or len(text) <= len(self._shown):
            return
        assert text.startswith(self._shown), "shown text is always a prefix of the answer"
        self._show(text[len(self._shown) :])
        self._shown = text
