"""Request and response bodies of the REST API (pydantic validates every request)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_ID = 2**53 - 1  # the largest integer every JSON client (and float) holds exactly


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        default_factory=list, max_length=1000
    )
    source_prefix: str | None = Field(default=None, max_length=1024)
    # Only these collections (each must be one the key may read); empty: all the key may.
    collections: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]] = Field(
        default_factory=list, max_length=100
    )


# At least one letter or digit (JSON Schema's pattern is a search, as pydantic's is): a
# question of punctuation, a zero-width space or a NUL alone is 422, not a generation.
# Spelled as ranges so that Python and JSON Schema (ECMA) read it alike: ASCII letters and
# digits, and the letter blocks of other scripts (Latin-1 letters to CJK and Hangul, full-
# width forms, and the planes above the BMP: historic scripts, math letters, CJK
# extensions), leaving out the punctuation, symbol and format blocks (U+2000-U+2BFF).
HAS_TEXT = (
    r"[0-9A-Za-z\u00C0-\u1FFF\u2C00-\uD7FF\uF900-\uFDFF\uFE70-\uFEFE\uFF10-\uFFDC"
    r"\U00010000-\U0010FFFF]"
)


class Question(BaseModel):
    """What a retrieval and a question share."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=4000, pattern=HAS_TEXT)
    top_k: int | None = Field(
        default=None, ge=1, le=50, description="Chunks to return; default FACTVAULT_SEARCH_TOP_K."
    )
    filters: Filters = Field(default_factory=Filters)


class RetrieveRequest(Question):
    mode: Literal["hybrid", "dense", "sparse"] = Field(
        default="hybrid", description="Ranking: both fused (hybrid), vectors alone, BM25 alone."
    )


class QueryRequest(Question):
    top_k: int | None = Field(
        default=None, ge=1, le=50,
        description="Chunks the model reads; default FACTVAULT_ANSWER_TOP_K.",
    )  # fmt: skip
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=2048)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)


class CitationOut(BaseModel):
    n: int
    document: int
    title: str | None
    source: str
    chunk_id: str
    span: tuple[int, int]
    page: int | None
    score: float
    text: str
    collection: str = "default"
    # The chunk's contextual prefix (what was indexed with it): /v1/retrieve only.
    context: str | None = None


class SentenceOut(BaseModel):
    """One sentence of the answer and the sources (``n`` of ``citations``) that support it."""

    text: str
    supported: bool
    sources: list[int]


# An inference endpoint's base URL: http(s), a host, an optional path; no credentials,
# query or fragment (registry.check_endpoint says the same, with the reason).
ENDPOINT_URL = r"^https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$"


class ModelRef(BaseModel):
    name: str
    sha256: str
    endpoint: str | None = None  # the inference endpoint that wrote the answer (a pool's)


class QueryResponse(BaseModel):
    answer: str
    # False when the model cited no source: its reply was replaced by "I don't know". A
    # stream never shows a withheld reply: its tokens concatenate to `answer`.
    grounded: bool
    citations: list[CitationOut]
    model: ModelRef
    index_version: str | None
    timings: dict[str, float]
    # stop | length (the reply cap) | time_limit (FACTVAULT_GENERATION_TIME_LIMIT) | cancelled
    finish_reason: str = "stop"
    # Images/links to hosts outside FACTVAULT_ANSWER_LINK_HOSTS removed from the answer.
    links_removed: int = 0
    # Each answer sentence with the sources that support it (judged on the text, so a right
    # sentence the model cited wrongly carries the right source). Sentences of the model's
    # reply that no source supports are withheld: counted here, never shown or streamed.
    sentences: list[SentenceOut] = []
    withheld: int = 0
    prompt_version: str = ""
    # Served from the answer cache: the same question over the same evidence, model, prompt
    # and decoding was answered before (timings then hold "cache" instead of "generate").
    cached: bool = False
    # What the prompt cost: every prompt token, and those llama.cpp took from its context
    # instead of reading again (a conversation's earlier turns; see prompt_tokens_evaluated).
    prompt_tokens: int = 0
    prompt_tokens_reused: int = 0
    prompt_tokens_evaluated: int = 0


class RetrieveResponse(BaseModel):
    chunks: list[CitationOut]
    index_version: str | None
    timings: dict[str, float]


class DocumentOut(BaseModel):
    id: int
    source: str
    title: str | None
    media_type: str
    size_bytes: int
    chunk_count: int
    status: str
    updated_at: str
    collection: str = "default"
    sha256: str = ""  # of the bytes ingested: a sync compares it with the file's
    loader_version: str = ""  # e.g. "load_pdf/2": a newer loader reads the file again
    parent_id: int | None = None  # the document it came out of (an attachment's mail)


class DeletionReceipt(BaseModel):
    """What a deletion removed: the document's sha256 and a count per store. Conversation
    turns that showed or cited it are kept, with its text redacted."""

    document_id: int
    source: str
    sha256: str
    chunks: int
    vectors: dict[str, int]  # points removed, per index version
    context_cache: int
    synthetic_questions: int = 0  # chunks whose tuning questions went (app/tuning)
    answer_cache: int
    conversation_turns_redacted: int
    attachments: int = 0  # documents that came out of it (an e-mail's), counted above
    backups: list[str] = []  # backups still on disk that hold it (they are not changed)


class UploadResult(BaseModel):
    documents: list[DocumentOut]
    new: int
    changed: int
    unchanged: int
    failed: list[dict[str, str]]
    chunks_written: int


class ModelOut(BaseModel):
    id: str
    object: str = "model"
    owned_by: str = "factvault"
    name: str
    # The weights' file on the server: shown to operators only (null to other keys).
    path: str | None
    size_bytes: int
    sha256: str
    context_length: int | None
    architecture: str
    active: bool
    loaded: bool
    provenance: str | None
    # A model served by inference endpoints: each with its state (joining, serving, down,
    # draining, excluded; "registered" when the model is not loaded) and the reason.
    # Operators only, like ``path``.
    endpoints: list[dict] | None = None


class ModelList(BaseModel):
    object: str = "list"
    data: list[ModelOut]
    active: str | None
    # The latest activation: phase idle|verifying|loading|switching|done|failed, target,
    # previous, seconds, error (what the console shows while a swap runs).
    swap: dict = Field(default_factory=dict)


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)


class AddModelRequest(BaseModel):
    """A GGUF file in the model directories, or inference endpoints (with the GGUF too if
    it is here: the fingerprint is then computed from the file, else taken from the first
    endpoint, which is trusted)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"anyOf": [{"required": ["path"]}, {"required": ["endpoints"]}]},
    )
    path: str | None = Field(default=None, min_length=1, max_length=1024, pattern=r"^[^\x00]+$")
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")
    endpoints: list[Annotated[str, Field(max_length=512, pattern=ENDPOINT_URL)]] | None = Field(
        default=None, min_length=1, max_length=16
    )
    context_length: int | None = Field(default=None, ge=256, le=1_048_576)

    @model_validator(mode="after")
    def _path_or_endpoints(self) -> AddModelRequest:
        if self.path is None and not self.endpoints:
            raise ValueError("a path or endpoints are needed")
        return self


class EndpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(max_length=512, pattern=ENDPOINT_URL)
    wait_seconds: float = Field(default=30.0, ge=0, le=600)  # a drain: for its requests


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | None = Field(default="", max_length=16_000)


# The last user message with some text is the question; the schema says so (JSON Schema
# `contains`), so a client sees the rule before it sends, and the route enforces it.
_HAS_QUESTION = {
    "type": "object",
    "properties": {"role": {"const": "user"}, "content": {"type": "string", "pattern": HAS_TEXT}},
    "required": ["role", "content"],
}


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage] = Field(
        min_length=1, max_length=100, json_schema_extra={"contains": _HAS_QUESTION}
    )
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=2048)
    temperature: float | None = Field(default=0.0, ge=0.0, le=2.0)


class MessageRequest(BaseModel):
    """The next question of a conversation (POST /v1/conversations/{id}/messages)."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=4000, pattern=HAS_TEXT)
    top_k: int | None = Field(default=None, ge=1, le=50)
    filters: Filters = Field(default_factory=Filters)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1, le=2048)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)


class MessageResponse(QueryResponse):
    conversation_id: str
    turn: int  # 1, 2, ... within the conversation
    question: str
    # The standalone question retrieval ran on: the follow-up rewritten by the model when
    # it did not stand alone (``rewritten``), else the question itself.
    standalone_question: str
    rewritten: bool
    history_turns: int  # earlier turns the prompt held (older ones are dropped past budget)


class TurnCitationOut(BaseModel):
    n: int
    document_id: int
    chunk_id: str
    source: str
    title: str | None
    span: tuple[int, int]
    page: int | None


class TurnOut(BaseModel):
    turn: int
    question: str
    standalone_question: str
    answer: str
    grounded: bool
    citations: list[TurnCitationOut]
    model: ModelRef
    index_version: str | None
    timings: dict[str, float]
    prompt_tokens: int
    prompt_tokens_reused: int
    completion_tokens: int
    created_at: str


class ConversationSummaryOut(BaseModel):
    id: str
    title: str  # its first question, shortened
    created_at: str
    updated_at: str
    turns: int


class ConversationOut(BaseModel):
    id: str
    title: str
    created_at: str
    updated_at: str
    turns: list[TurnOut]


class ConversationList(BaseModel):
    conversations: list[ConversationSummaryOut]
