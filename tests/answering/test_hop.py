"""The second hop's question (hop.py): the prompt the model rewrites from, and which of its
replies are used. Pure text; the model's rewrite runs in test_answers.py."""

from __future__ import annotations

from app.answering.hop import EXAMPLES, clean, hop_messages

QUESTION = "How do I phone the account manager of Drordu Hospital Trust?"
VALUE = "Suwai Leancego"


def test_the_prompt_is_the_examples_then_the_fact_and_the_question() -> None:
    messages = hop_messages(QUESTION, "account manager:\n  Suwai Leancego")
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * len(EXAMPLES) + [
        "user"
    ]
    # The fact on one line, however the bridge was laid out in its source.
    assert messages[-1]["content"] == f"Fact: account manager: Suwai Leancego\nQuestion: {QUESTION}"


def test_a_rewrite_naming_the_value_is_used() -> None:
    assert clean("What is the phone number of Suwai Leancego?", QUESTION, VALUE) == (
        "What is the phone number of Suwai Leancego?"
    )
    # A label or quotes the model put around it are taken off; only the first line counts.
    reply = 'Rewritten question: "What is the extension of Suwai Leancego?"\nThis uses the fact.'
    assert clean(reply, QUESTION, VALUE) == "What is the extension of Suwai Leancego?"


def test_an_echo_a_decline_or_a_rewrite_without_the_value_is_not() -> None:
    assert clean(QUESTION, QUESTION, VALUE) is None  # nothing new: the question echoed
    assert clean("I don't know.", QUESTION, VALUE) is None
    assert clean("What is the phone number of the Drordu manager?", QUESTION, VALUE) is None
    assert clean("", QUESTION, VALUE) is None
