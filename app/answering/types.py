"""What an answer is made of: the citations shown to the model, the reply's sentences and
their sources, and the answer with its provenance, as the API, the CLI, the cache and the
benchmark all read it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from app.core.text import source_name
from app.retrieval import RetrievedChunk
from app.retrieval.evidence import EvidenceBlock


@dataclass
class Citation:
    n: int
    document_id: int
    source: str
    title: str | None
    chunk_id: str
    span: tuple[int, int]
    page: int | None
    score: float
    text: str  # what the model was shown of this chunk (evidence windows: the passages)
    context: str = ""  # the chunk's place: document title and section trail
    collection: str = "default"


def heading(c: Citation) -> str:
    """A source's heading in the prompt: its file (with its folder, not the machine's path:
    text.source_name) and the section the passage is in. Short on purpose: the model reads
    it on every answer, and the file name carries the date or kind of document a reader
    needs ("memo-2026-01-...")."""
    section = next(
        (
            line[len("Section: ") :]
            for line in c.context.splitlines()
            if line.startswith("Section: ")
        ),
        "",
    )
    last = section.rsplit(" > ", 1)[-1].strip()
    name = source_name(c.source)
    return f"{name} > {last}" if last else name


@dataclass
class Sentence:
    """One sentence of an answer and the sources that support it (attribution.py)."""

    text: str
    supported: bool
    sources: list[int]


@dataclass
class Answer:
    answer: str
    citations: list[Citation]
    sources: list[Citation]
    model_name: str
    model_sha256: str
    index_version: str | None
    timings: dict[str, float] = field(default_factory=dict)
    endpoint: str | None = None  # the inference endpoint that wrote it (None: in-process)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    grounded: bool = True  # False: no sentence of the reply was supported; "I don't know"
    # "stop", "length" (reply cap), "cancelled" (the client left), "time_limit"
    finish_reason: str = "stop"
    links_removed: int = 0  # images/links to hosts outside the allow-list (safety.py)
    sentences: list[Sentence] = field(default_factory=list)
    withheld: int = 0  # reply sentences no source supported, left out of the answer
    prompt_version: str = ""
    cached: bool = False  # served from the answer cache (cache.py)
    reply: str = ""  # the model's raw reply, for the benchmark's per-question log
    # Conversations: the question as asked and the standalone one retrieval ran on (the
    # same unless a follow-up was rewritten), the user message sent (kept for the next
    # turn's prompt), earlier turns the prompt held, and prompt tokens llama.cpp reused
    # from its context instead of reading them (prompt_tokens counts every prompt of the
    # turn: the rewrite's, the figures', the hop's and each reply's).
    question: str = ""
    standalone: str = ""
    rewritten: bool = False
    prompt_message: str = ""
    history_turns: int = 0
    prompt_reused: int = 0

    @property
    def prompt_evaluated(self) -> int:
        return self.prompt_tokens - self.prompt_reused


def citation_from_chunk(n: int, chunk: RetrievedChunk) -> Citation:
    return Citation(
        n=n,
        document_id=chunk.document_id,
        source=chunk.source,
        title=chunk.title,
        chunk_id=chunk.chunk_id,
        span=(chunk.char_start, chunk.char_end),
        page=chunk.page,
        score=chunk.score,
        text=chunk.text,
        context=chunk.context,
        collection=chunk.collection,
    )


def citation_from_evidence(n: int, block: EvidenceBlock) -> Citation:
    c = citation_from_chunk(n, block.chunk)
    return replace(c, span=block.span, text=block.text)


def answer_from_dict(data: dict) -> Answer:
    """An Answer back from its JSON form (the answer cache)."""

    def cites(items: list[dict]) -> list[Citation]:
        return [Citation(**{**c, "span": tuple(c["span"])}) for c in items]

    return Answer(
        **{
            **data,
            "citations": cites(data["citations"]),
            "sources": cites(data["sources"]),
            "sentences": [Sentence(**x) for x in data.get("sentences", [])],
        }
    )
