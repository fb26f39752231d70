"""The answer cache: a repeated greedy question is answered from SQL, with the same answer,
and the cache is bypassed, by construction, after a document change, a model swap and a
prompt change; sampled answers never use it. Real model (SmolLM2-135M), real stores."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.answering.answerer import Answerer
from app.answering.cache import AnswerCache
from app.service import QUIET, AskRequest, FactVault, Stream
from ingest.pipeline import IngestPipeline

pytestmark = pytest.mark.slow
QUESTION = "How many days of paid annual leave does a full-time employee get?"


SERVICE = {"answer_cache": True}


def ask(service: FactVault, temperature: float = 0.0, stream: Stream = QUIET):
    return service.ask(None, AskRequest(QUESTION, max_tokens=48, temperature=temperature), stream)


def test_a_repeated_question_is_answered_from_the_cache(service: FactVault) -> None:
    first = ask(service)
    assert not first.cached and "generate" in first.timings
    shown: list[str] = []
    second = ask(service, stream=Stream(on_token=shown.append))
    assert second.cached and "generate" not in second.timings
    assert second.answer == first.answer and "".join(shown) == first.answer
    assert [c.chunk_id for c in second.citations] == [c.chunk_id for c in first.citations]
    assert second.model_sha256 == first.model_sha256
    assert second.timings["total"] < first.timings["total"]


def test_sampling_bypasses_the_cache(service: FactVault) -> None:
    ask(service)  # cached by now
    assert not ask(service, temperature=0.7).cached


def test_a_prompt_change_misses_the_cache(service: FactVault) -> None:
    ask(service)
    current = service.answerer
    other = Answerer(
        current.retriever, current.models, config=replace(current.config, prompt="v1"),
        cache=AnswerCache(service.runtime.db),
    )  # fmt: skip
    asked = AskRequest(QUESTION, service.settings.answer_top_k, max_tokens=48)
    assert not other.answer(asked).cached
    assert ask(service).cached  # the v2 entry is still there for v2


def test_a_model_swap_misses_the_cache_and_swapping_back_hits_it(service: FactVault) -> None:
    ask(service)
    service.activate_model("qwen2.5-coder-0.5b")
    try:
        swapped = ask(service)
        assert not swapped.cached and swapped.model_name == "qwen2.5-coder-0.5b"
    finally:
        service.activate_model("smollm2-135m")
    assert ask(service).cached


def test_a_document_change_misses_the_cache(service: FactVault) -> None:
    root = service.settings.data_dir.parent
    ask(service)
    handbook = root / "corpus" / "handbook" / "employee-handbook.md"
    handbook.write_text(handbook.read_text().replace("27 days", "29 days"))
    IngestPipeline(service.runtime).ingest_paths([root / "corpus"])
    changed = ask(service)
    assert not changed.cached
    assert any("29 days" in c.text for c in changed.sources)
