"""Saved llama.cpp contexts: a conversation interrupted by another still reads only its new
tokens, the byte bound evicts the least recently used context, and the token counts the
runner reports are exact (checked against llama.cpp's own context). Real model: SmolLM2."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.models.bundled import BUNDLED, materialize
from app.models.kv_states import KVStates
from app.models.runner import LoadedModel, load_llama

pytestmark = pytest.mark.slow

SYSTEM = {"role": "system", "content": "You answer briefly. " * 20}


@pytest.fixture(scope="module")
def model(models_dir) -> Iterator[LoadedModel]:
    path = materialize(BUNDLED["smollm2-135m"], models_dir)
    m = LoadedModel(
        "smollm2-135m", "0" * 64, str(path), load_llama(str(path), 2048, 2),
        states=KVStates(64 * 2**20),
    )  # fmt: skip
    yield m
    m.close()


def chat(topic: str, turns: int) -> list[dict[str, str]]:
    messages = [SYSTEM]
    for i in range(turns):
        messages.append({"role": "user", "content": f"Tell me fact {i} about {topic}. " * 8})
        messages.append({"role": "assistant", "content": f"Fact {i} about {topic} is known."})
    return messages


def ask(model: LoadedModel, messages: list[dict[str, str]]):
    return model.generate(messages, max_tokens=8, keep_state=True)


def test_an_interrupted_conversation_reads_only_its_new_tokens(model: LoadedModel) -> None:
    first = ask(model, chat("owls", 1)[:-1])
    assert first.prompt_reused < 10  # a fresh context: nearly all of it read
    ask(model, chat("rivers", 1)[:-1])  # another conversation takes the context
    follow = chat("owls", 1)[:-1] + [
        {"role": "assistant", "content": first.text},
        {"role": "user", "content": "And one more?"},
    ]
    second = ask(model, follow)
    # The owls context was put back: everything up to the new user message is reused.
    assert second.prompt_reused >= first.prompt_tokens, (second, first)
    assert second.prompt_evaluated < 40
    assert second.prompt_tokens == len(model.render(follow).tokens)
    assert model.states is not None and model.states.restores >= 1


def test_the_byte_bound_evicts_the_least_recently_used(model: LoadedModel) -> None:
    states = model.states
    assert states is not None
    states.clear()
    ask(model, chat("cats", 2))
    one = states.bytes
    states.capacity = int(one * 2.5)  # room for two contexts of this size
    ask(model, chat("dogs", 2))
    ask(model, chat("bees", 2))
    assert len(states) == 2 and states.evictions == 1
    assert states.bytes <= states.capacity
    # "cats" went first: asking it again reads all but the system prompt all chats share
    again = ask(model, chat("cats", 2))
    assert again.prompt_evaluated > again.prompt_tokens // 2, again
