"""A request whose client has gone costs (almost) nothing (issue 29, item 5): one waiting
for the model gives up its queue place and never reads its prompt; one whose prompt is
being read stops within a fraction of a second (llama.cpp's abort callback), and the model
answers the next request exactly as before. Real llama.cpp, the bundled SmolLM2."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from app.models.bundled import BUNDLED, materialize
from app.models.runner import LoadedModel, load_llama
from tests.fixtures import wait_until

pytestmark = pytest.mark.slow

LONG = " ".join(f"Item {i} is kept in bin B{i % 53} with {i % 89} units." for i in range(160))
QUESTION = [{"role": "user", "content": "Which bin holds item 7? " + LONG[:600]}]
OTHER = [{"role": "user", "content": "List the bins. " + LONG}]


@pytest.fixture(scope="module")
def model(models_dir) -> Iterator[LoadedModel]:
    path = materialize(BUNDLED["smollm2-135m"], models_dir)
    loaded = LoadedModel("smollm2-135m", "test", str(path), load_llama(str(path), 4096, 2))
    yield loaded
    loaded.close()


def test_a_cancelled_prefill_stops_and_the_next_answer_is_unchanged(model) -> None:
    reference = model.generate(QUESTION, max_tokens=12)
    started = time.perf_counter()
    whole = model.generate(OTHER, max_tokens=1)  # the long prompt read to its end
    full_prefill = time.perf_counter() - started
    model.generate(QUESTION, max_tokens=1)  # leave the context on another prompt

    started = time.perf_counter()
    cancelled = model.generate(
        OTHER, max_tokens=12,
        should_stop=lambda: "cancelled" if time.perf_counter() - started > 0.05 else None,
    )  # fmt: skip
    stopped_after = time.perf_counter() - started
    assert whole.prompt_tokens > 1_500
    assert cancelled.finish_reason == "cancelled" and cancelled.text == ""
    assert stopped_after < full_prefill / 3, (stopped_after, full_prefill)
    again = model.generate(QUESTION, max_tokens=12)
    assert again.text == reference.text  # the aborted prompt left nothing behind


def test_a_request_abandoned_while_waiting_never_reads_its_prompt(model) -> None:
    gone = threading.Event()
    results = {}
    with model.admitted():  # the running request holds the model ...
        model._run_lock.acquire()
        try:

            def waiting() -> None:
                with model.admitted():
                    results["r"] = model.generate(
                        OTHER, max_tokens=12, should_stop=lambda: "cancelled" if gone.is_set()
                        else None,
                    )  # fmt: skip

            free = model._slots._value  # places left in the queue
            waiter = threading.Thread(target=waiting)
            waiter.start()
            wait_until(lambda: model._slots._value < free, 30, "the request to queue")
            gone.set()  # ... while the waiting request's client leaves
            waiter.join(timeout=5)
            assert not waiter.is_alive()  # it gave up its queue place without the model
        finally:
            model._run_lock.release()
    result = results["r"]
    assert result.finish_reason == "cancelled" and result.prompt_tokens == 0
