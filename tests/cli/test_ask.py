"""`factvault query` and `factvault chat`, both ways (conftest.py)."""

from __future__ import annotations

import re

import pytest

from tests.cli.conftest import Way

pytestmark = pytest.mark.slow


def test_a_question_and_a_conversation(way: Way) -> None:
    asked = way.run("query", "Where is the fire assembly point?", "--max-tokens", "24")
    assert asked.returncode == 0, asked.stderr
    question, answer, tail = asked.stdout.split("\n\n", 2)
    assert question == "Where is the fire assembly point?" and answer.strip()
    model, *cited = tail.strip().splitlines()
    assert model == "model: smollm2-135m"
    assert all(re.fullmatch(r"\[\d+\] \S+ chars \d+-\d+", c) for c in cited), cited

    talk = way.run("chat", stdin="Where is the fire assembly point?\n/new\n/quit\n")
    assert talk.returncode == 0, talk.stderr
    assert "(new conversation)" in talk.stdout
    assert re.search(r"model: smollm2-135m · prompt tokens [1-9]\d*, \d+ reused", talk.stdout)
