"""What the second chance searches with: the fields of the first evidence that the question
asks through, found by the question's names. Pure text; the searches themselves run in
test_answers.py with the real model."""

from __future__ import annotations

from app.answering.second_chance import (
    bridge,
    bridge_origin,
    bridge_value,
    linking_terms,
    named_terms,
)

CUSTOMERS = (
    "… customer: Lomwea Veterinary College; tier: gold; account manager: Rorkme Geallbudra\n"
    "customer: Drordu Hospital Trust; tier: platinum; account manager: Suwai Leancego"
)
SITES = (
    "# Our sites\n## Tollfe\nPostcode: PR6 9UY\n23 dock doors\nSite manager: Warkca Brolwasai\n"
    "## Surca\nPostcode: WY8 6XF\n21 dock doors\nSite manager: Tossta Cosrekai"
)


def test_the_question_names_what_it_is_about() -> None:
    assert named_terms("What does product SD-1884 list at?") == {"sd-1884"}
    assert named_terms("How do I phone the account manager of Drordu Hospital Trust?") == {
        "drordu", "hospital", "trust",
    }  # fmt: skip


def test_the_bridge_is_the_field_the_question_asks_through() -> None:
    q = "How do I phone the account manager of Drordu Hospital Trust?"
    line = bridge(q, [CUSTOMERS])
    assert line == "account manager: Suwai Leancego"  # the right row, the asked field
    assert {"suwai", "leancego"} <= linking_terms(q, line)
    # The site's manager stands a few lines under the site's heading.
    site = bridge("What is the phone extension of the manager of the Tollfe site?", [SITES])
    assert site == "Site manager: Warkca Brolwasai"


def test_without_an_asked_field_the_whole_row_goes_and_without_names_nothing() -> None:
    row = bridge("What is Drordu Hospital Trust's discount on list prices?", [CUSTOMERS])
    assert row == "customer: Drordu Hospital Trust; tier: platinum; account manager: Suwai Leancego"
    assert bridge("What is the screen lock rule now?", [SITES]) == ""


def test_the_bridge_value_is_what_the_question_does_not_hold_and_it_has_one_origin() -> None:
    q = "How do I phone the account manager of Drordu Hospital Trust?"
    line = bridge(q, [SITES, CUSTOMERS])
    assert bridge_value(q, line) == "Suwai Leancego"  # "account manager" is the question's
    assert bridge_origin(line, [SITES, CUSTOMERS]) == 1
    assert bridge_origin("account manager: Someone Else", [SITES, CUSTOMERS]) is None
