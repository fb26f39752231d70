"""Figures computed, not guessed: the model's figure lines are checked against their
sources, and the sum or difference is the service's, with both citations shown."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.answering.arithmetic import compute, figures, operation, worked
from app.answering.attribution import Attributor

SITES = [
    "Our sites\n## Tollfe\nPostcode: PR6 9UY\n23 dock doors\n## Surca\n21 dock doors",
    "Cold store\nThe cold rooms hold 1,240 pallet positions in Leeds and 860 in York.",
]
QUESTION = "How many dock doors do the Tollfe and Surca sites have together?"


@pytest.mark.parametrize(
    ("question", "op"),
    [
        (QUESTION, "sum"),
        ("What is the combined distance of routes A and B?", "sum"),
        ("Add up the dock doors of Tollfe and Surca: how many?", "sum"),
        ("How many more pallet positions does Leeds have than York?", "difference"),
        ("How many dock doors does Tollfe have?", None),
    ],
)
def test_the_question_names_the_operation(question: str, op: str | None) -> None:
    assert operation(question) == op


def test_a_sum_is_computed_from_cited_numbers() -> None:
    attributor = Attributor(QUESTION, SITES)
    found = figures("Tollfe: 23 [1] Surca dock doors = 21 [1]\n", attributor)
    assert [(f.label, f.value, f.sources) for f in found] == [
        ("Tollfe", Decimal(23), (1,)),
        ("Surca dock doors", Decimal(21), (1,)),
    ]
    assert worked("sum", found) == "Tollfe: 23 [1]. Surca dock doors: 21 [1]. 23 + 21 = 44."


def test_figures_from_two_sources_keep_both_citations() -> None:
    q = "What is the total number of pallet positions in the cold rooms and at Tollfe?"
    attributor = Attributor(q, SITES)
    found = figures("- Leeds cold rooms = 1,240 pallet positions [2]\n- York = 860 [2]", attributor)
    assert [f.value for f in found] == [Decimal(1240), Decimal(860)]
    assert worked("sum", found).endswith("1240 + 860 = 2100.")
    assert worked("difference", found).endswith("1240 - 860 = 380.")


def test_a_figure_its_source_does_not_hold_is_dropped_and_nothing_is_computed() -> None:
    attributor = Attributor(QUESTION, SITES)
    found = figures("Tollfe dock doors = 23 [1]\nSurca dock doors = 22 [1]", attributor)
    assert [f.value for f in found] == [Decimal(23)]  # 22 is in no source
    assert worked("sum", found) is None  # one figure is no sum: answered the usual way
    assert figures("23 + 21 = 44", attributor) == []  # a sum the model did is not taken
    assert compute("difference", [Decimal(1), Decimal(2), Decimal(3)]) is None


def test_a_figure_from_another_row_of_a_table_is_not_taken() -> None:
    table = [
        "Sites\n| Site | Postcode | Dock doors |\n|---|---|---|\n| Vellbo | GB14 2MG | 15 |\n"
        "| Kolsto | KL15 6BN | 10 |\n| Pildrea | MR3 4PT | 47 |"
    ]
    attributor = Attributor("How many dock doors do Pildrea and Kolsto have together?", table)
    wrong = figures("Pildrea: 15 [1] Kolsto: 10 [1]", attributor)
    assert [f.label for f in wrong] == ["Kolsto"]  # 15 is Vellbo's
    right = figures("Pildrea: 47 [1] Kolsto: 10 [1]", attributor)
    assert worked("sum", right) == "Pildrea: 47 [1]. Kolsto: 10 [1]. 47 + 10 = 57."
