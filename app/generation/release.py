"""What of a model's reply may be shown, decided as it streams and at the end by one rule.

The reply is cut into sentences as it arrives. Each sentence is made safe (``strip_links``)
on its own, and nothing is shown until the reply is grounded: until a sentence cites a
source that exists. From then on every finished sentence is shown as soon as it ends. A
reply that never cites becomes "I don't know" (a reply that says so itself is kept), and
because nothing was shown before the first citation, a stream never shows text that the
final answer withholds. The text a stream shows, concatenated, is exactly the final answer:
the non-streamed path runs the same code, fed the whole reply at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.generation.prompts import IDK, cited_numbers, is_idk
from app.generation.safety import strip_links

# A sentence ends at . ! or ? followed by white space, or at a line break; the white space
# stays with the sentence it ends, so the pieces concatenate back to the reply.
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s+|\n+")


@dataclass(frozen=True)
class Released:
    text: str
    grounded: bool  # False: the reply cited nothing and was replaced by "I don't know"
    links_removed: int


class ReplyRelease:
    def __init__(
        self,
        sources: int,
        allowed_hosts: Sequence[str] = (),
        show: Callable[[str], None] | None = None,
    ) -> None:
        self._sources = sources
        self._hosts = tuple(allowed_hosts)
        self._show = show
        self._pending = ""  # received, not yet a whole sentence
        self._safe = ""  # whole sentences, made safe
        self._shown = ""
        self._removed = 0

    def feed(self, piece: str) -> None:
        self._pending += piece
        ends = [m.end() for m in _SENTENCE_END.finditer(self._pending)]
        if not ends:
            return
        self._take(self._pending[: ends[-1]])
        self._pending = self._pending[ends[-1] :]
        if self._grounded(self._safe):
            self._show_up_to(self._safe.strip())

    def finish(self) -> Released:
        """The final answer; shows whatever of it was not shown yet."""
        if self._pending:
            self._take(self._pending)
            self._pending = ""
        text = self._safe.strip()
        if not text:
            text = IDK
        grounded = is_idk(text) or bool(cited_numbers(text, self._sources))
        if not grounded:
            text = IDK
        self._show_up_to(text)
        return Released(text, grounded, self._removed)

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
