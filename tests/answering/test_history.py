"""The pieces of a conversation that need no model: which questions stand alone, what a
rewrite reply is worth, and how earlier turns are fitted to the history budget."""

from __future__ import annotations

import pytest

from app.answering.history import Exchange, fit_history, history_messages
from app.answering.rewrite import clean, fallback, rewrite_messages, stands_alone


@pytest.mark.parametrize(
    ("question", "alone"),
    [
        ("What are the weekday opening hours of the Ashgrove office?", True),
        ("Who is the site manager at the Kelderby plant?", True),
        ("What does the pass statement do?", True),
        ("And the Kelderby plant?", False),
        ("What is her phone extension?", False),
        ("How much does it weigh?", False),
        ("And for Class C?", False),
        ("What about Leeds?", False),
        ("Why?", False),
        ("Which one?", False),
    ],
)
def test_standalone_questions_are_told_apart_without_a_model(question: str, alone: bool) -> None:
    assert stands_alone(question) is alone


def test_a_rewrite_that_echoes_or_declines_is_not_used() -> None:
    q = "And for international travel?"
    assert clean("What is the meal allowance for international travel?", q)
    assert clean(
        'Rewritten question: "What is the weight of the Lumen Pro?"', "How much does it weigh?"
    ) == ("What is the weight of the Lumen Pro?")
    assert clean("And for international travel?", q) is None  # the question echoed
    assert clean("I don't know.", q) is None
    assert clean("", q) is None
    history = [Exchange("What is the domestic meal allowance?", "p", "£46 [1]")]
    assert (
        fallback(q, history) == "What is the domestic meal allowance? And for international travel?"
    )


def test_the_rewrite_prompt_shows_the_latest_turns_without_citation_marks() -> None:
    history = [Exchange(f"Question {i}?", "p", f"Answer {i} [1].") for i in range(5)]
    text = rewrite_messages("And then?", history)[-1]["content"]
    assert "Question 3?" in text and "Question 4?" in text and "Question 2?" not in text
    assert "[1]" not in text and text.endswith("Follow-up question: And then?")


def test_history_is_trimmed_to_the_budget_oldest_first() -> None:
    turns = [Exchange(f"q{i}", "x " * 100, f"a{i}") for i in range(6)]
    count = lambda text: len(text.split())  # noqa: E731 - a word is a token here
    kept = fit_history(turns, 350, count)
    assert [t.question for t in kept] == ["q3", "q4", "q5"]  # 3 x (100 + 1 + 12) fit
    assert fit_history(turns, 10, count) == []  # nothing fits: no history, no error
    messages = history_messages(kept)
    assert [m["role"] for m in messages] == ["user", "assistant"] * 3
