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


# -- early release: the first sentence shown word by word once supported (issue 33) -------

CARRY = [
    "Leave\nYou may carry over up to 6 unused days into the next leave year; carried-over "
    "days must be taken by 31 March or they are lost.",
    "Directory\nThe facilities desk is on extension 3301.",
]
CARRY_Q = "How many unused days of annual leave may an employee carry over?"


def early_stream(question: str, sources: list[str], reply: str, piece: int = 1,
                 cut: bool = False) -> tuple[Released, list[tuple[int, str]]]:  # fmt: skip
    """The reply fed ``piece`` characters at a time with early release on; the final answer
    and each show with how much of the reply had arrived when it came."""
    shows: list[tuple[int, str]] = []
    fed = 0
    r = ReplyRelease(len(sources), show=lambda t: shows.append((fed, t)),
                     attributor=Attributor(question, sources), early=True)  # fmt: skip
    for i in range(0, len(reply), piece):
        fed = i + piece
        r.feed(reply[i : i + piece])
    return r.finish(cut=cut), shows


def test_early_release_shows_the_first_words_before_the_full_stop() -> None:
    reply = "[1] An employee may carry over up to 6 unused days into the next leave year."
    final, shows = early_stream(CARRY_Q, CARRY, reply)
    # The same answer as the sentence-at-a-time rule gives.
    assert final.text == stream(CARRY_Q, CARRY, reply)[0].text
    assert final.text == (
        "An employee may carry over up to 6 unused days into the next leave year [1]."
    )
    # Shown once "6" was whole (a space after it), long before the sentence ended.
    first_at, first = shows[0]
    assert first == "An employee may carry over up to 6"
    assert first_at == reply.index(" 6 ") + 3
    assert "".join(t for _, t in shows) == final.text


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        # Supported, then a figure no source holds: the words shown stand, the rest goes.
        (
            "Employees may carry over up to 6 unused days, plus 4 more with approval.",
            "Employees may carry over up to 6 unused days [1].",
        ),
        # Cut by the token cap inside a word: the whole words before it stand.
        ("You may carry over up to 6 unused days into the next leave yea", None),
    ],
    ids=["unsupported-rest", "cut"],
)
def test_words_shown_early_stay_in_the_answer(reply: str, expected: str | None) -> None:
    cut = expected is None
    expected = expected or "You may carry over up to 6 unused days into the next leave [1]."
    for piece in (1, 4, len(reply)):
        final, shows = early_stream(CARRY_Q, CARRY, reply, piece=piece, cut=cut)
        assert final.text == expected, (piece, final.text)
        assert "".join(t for _, t in shows) == final.text
        assert final.withheld == 1 and final.grounded


def test_early_release_does_not_depend_on_how_the_reply_was_split() -> None:
    replies = [
        "An employee may carry over up to 6 unused days [1]. Carried-over days must be "
        "taken by 31 March [1].",
        "Yes. You may carry over up to 6 unused days, see the handbook [1].",
        "The facilities desk is on extension 3301 [2], and leave carries over.",
    ]
    for reply in replies:
        answers = [early_stream(CARRY_Q, CARRY, reply, piece=p)[0] for p in (1, 2, 3, 7, 500)]
        assert all(a == answers[0] for a in answers), answers


@pytest.mark.parametrize(
    ("question", "reply"),
    [
        # A value before what it is a value of: "47" might yet be dock doors.
        (
            "How many parking spaces does the Stealdo site have?",
            "There are 47 dock doors at the Stealdo site.",
        ),
        # A decline is never shown in part.
        (CARRY_Q, "I don't know how many unused days may be carried over."),
        # Nothing past a link or markup.
        (CARRY_Q, "See [the handbook](http://evil.example/x) for 6 unused days carry over."),
    ],
    ids=["value-first", "decline", "link"],
)
def test_nothing_is_shown_early_that_the_sentence_may_not_bear_out(
    question: str, reply: str
) -> None:
    sources = [*CARRY, "Sites\nThe Stealdo site has 47 dock doors and 120 parking spaces."]
    final, shows = early_stream(question, sources, reply)
    sentence_final, _ = stream(question, sources, reply)
    assert final.text == sentence_final.text
    assert all(fed == len(reply) for fed, _ in shows), shows  # nothing before the end
