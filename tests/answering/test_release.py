"""What a reply releases, piece by piece as a stream feeds it: a cut reply never shows its
unfinished sentence, and identifiers (dunder names, ``-O`` style options, codes like
``TW-ACC-5561``) come through attribution and the stream exactly as the model wrote them."""

from __future__ import annotations

import pytest

from app.answering.attribution import Attributor
from app.answering.prompts import IDK
from app.answering.release import Released, ReplyRelease

LEAVE = [
    "Annual leave\nWarehouse operatives get 24 days of annual leave. Office staff get 26 days.",
    "Directory\nThe facilities desk is on extension 3301.",
]


def stream(question: str, sources: list[str], reply: str, cut: bool = False,
           piece: int = 3) -> tuple[Released, str]:  # fmt: skip
    """The reply fed in pieces of ``piece`` characters; the final answer and what was shown."""
    shown: list[str] = []
    r = ReplyRelease(len(sources), show=shown.append, attributor=Attributor(question, sources))
    for i in range(0, len(reply), piece):
        r.feed(reply[i : i + piece])
    return r.finish(cut=cut), "".join(shown)


def test_a_cut_reply_never_releases_its_unfinished_sentence() -> None:
    q = "How many days of annual leave do warehouse operatives and office staff get?"
    reply = "Warehouse operatives get 24 days of annual leave [1]. Office staff get 2"
    final, shown = stream(q, LEAVE, reply, cut=True)
    assert final.text == "Warehouse operatives get 24 days of annual leave [1]."
    assert shown == final.text and "staff get 2" not in shown
    # The same text, ended by the model, is a whole sentence and is judged as one.
    whole, _ = stream(q, LEAVE, reply + "6 days.")
    assert whole.text.endswith("Office staff get 26 days [1].")


def test_a_reply_cut_inside_its_only_sentence_says_i_dont_know() -> None:
    final, shown = stream("What is the facilities desk's extension?", LEAVE,
                          "The facilities desk is on extension 330", cut=True)  # fmt: skip
    assert final.text == IDK and shown == IDK
    assert "330" not in shown


@pytest.mark.parametrize(
    ("question", "source", "reply", "kept"),
    [
        (
            "Which method of the context manager is invoked before the body runs?",
            "with statement\nThe context manager's __enter__() method is invoked before the "
            "body of the with statement runs; __exit__() is invoked after it.",
            "The context manager's `__enter__()` method is invoked before the body runs.",
            "`__enter__()`",
        ),
        (
            "Which command-line option removes assert statements?",
            "Command line\nThe -O option removes assert statements; -OO also strips docstrings.",
            "The -O option removes assert statements.",
            "-O option",
        ),
        (
            "What is the account code for outbound pallets?",
            "Accounts\nOutbound pallets are booked to account code TW-ACC-5561.",
            "Outbound pallets are booked to account code **TW-ACC-5561** [1].",
            "**TW-ACC-5561**",
        ),
    ],
    ids=["dunder", "option", "code"],
)
def test_identifiers_are_copied_exactly(question: str, source: str, reply: str, kept: str) -> None:
    for piece in (1, 2, 5):  # split anywhere inside the identifier
        final, shown = stream(question, [source], reply, piece=piece)
        assert kept in final.text and shown == final.text, final.text
        assert final.text.rstrip(".").endswith("[1]")


def test_a_number_is_not_supported_by_a_longer_one() -> None:
    """Part of a number is another number: "330" is not in "3301", nor "2" in "24"."""
    attributor = Attributor("What is the facilities desk's extension?", LEAVE)
    assert not attributor.attribute("The facilities desk is on extension 330.").supported
    assert attributor.attribute("The facilities desk is on extension 3301.").supported
    assert not attributor.attribute("Office staff get 2 days.").supported
