"""Citations that keep right answers: each answer sentence is judged against the numbered
sources; right citations are kept, wrong ones corrected, missing ones added, unsupported
sentences withheld, in a stream as in a reply."""

from __future__ import annotations

from app.answering.attribution import Attributed, Attributor, lost_value, recite
from app.answering.prompts import IDK
from app.answering.release import ReplyRelease

SOURCES = [
    "The rate limiter uses a token bucket per API key. The bucket refills at 600 requests "
    "per minute and a request takes one token.",
    "Employees may carry over up to 6 unused days of leave into the next year.",
    "The Halden Room | 3rd floor | 60 | Projector, video bar",
]
QUESTION = "How does the rate limiter work?"


def release(question: str = QUESTION, shown: list[str] | None = None) -> ReplyRelease:
    return ReplyRelease(
        len(SOURCES), show=None if shown is None else shown.append,
        attributor=Attributor(question, SOURCES),
    )  # fmt: skip


def test_a_correct_uncited_answer_is_kept_with_the_right_citation_attached() -> None:
    r = release()
    r.feed("The rate limiter keeps a token bucket per API key that refills at 600 requests ")
    r.feed("per minute.")
    final = r.finish()
    assert final.text == (
        "The rate limiter keeps a token bucket per API key that refills at 600 requests "
        "per minute [1]."
    )
    assert final.grounded
    assert [(s.supported, s.sources) for s in final.sentences] == [(True, (1,))]


def test_a_wrong_citation_is_corrected_and_a_right_one_kept() -> None:
    r = release("How many unused days of leave can be carried over?")
    r.feed("Up to 6 unused days can be carried over [3]. ")
    r.feed("The Halden Room seats 60 [3].")
    final = r.finish()
    assert final.text == (
        "Up to 6 unused days can be carried over [2]. The Halden Room seats 60 [3]."
    )


def test_an_unsupported_sentence_is_withheld_and_never_streamed() -> None:
    shown: list[str] = []
    r = release(shown=shown)
    r.feed("Each API key has a token bucket that refills at 600 requests per minute [1]. ")
    r.feed("Premium customers get 5000 requests per second from the Zurich cluster [1]. ")
    r.feed("A request takes one token [1].")
    final = r.finish()
    assert "Zurich" not in final.text and "Zurich" not in "".join(shown)
    assert final.withheld == 1
    assert "".join(shown) == final.text  # a stream shows exactly the final answer
    assert final.text.endswith("A request takes one token [1].")


def test_a_reply_with_nothing_supported_becomes_i_dont_know() -> None:
    shown: list[str] = []
    r = release(shown=shown)
    r.feed("Employees get 30 days of leave per year [2].")
    final = r.finish()
    assert final.text == IDK and not final.grounded and final.withheld == 1
    assert "".join(shown) == IDK


def test_a_reply_that_says_it_does_not_know_stays_so_and_cites_nothing() -> None:
    r = release()
    r.feed("I don't know. The bucket refills at 600 requests per minute [1].")
    final = r.finish()
    assert final.text == IDK and final.grounded and final.sentences == []


def test_a_content_free_sentence_rides_with_the_supported_one() -> None:
    r = release("Does the Halden Room have 60 seats?")
    r.feed("Yes. ")
    r.feed("The Halden Room on the 3rd floor has 60 seats.")
    final = r.finish()
    assert final.text == "Yes. The Halden Room on the 3rd floor has 60 seats [3]."
    assert [s.sources for s in final.sentences] == [(3,), (3,)]


def test_numbers_count_inside_glued_table_text() -> None:
    glued = Attributor("Seats?", ["RoomFloorSeats\nHalden Room3rd floor60Projector"])
    assert glued.attribute("The Halden Room has 60 seats.").supported
    assert not glued.attribute("The Halden Room has 80 seats.").supported


def test_recite_places_citations_before_the_closing_punctuation() -> None:
    assert recite("It is 14 units [4].  ", [2]) == "It is 14 units [2].  "
    assert recite("[1] After 7 minutes, it locks", [1, 2]) == "After 7 minutes, it locks [1][2]"


def test_a_sentence_that_only_restates_the_question_is_no_answer() -> None:
    r = ReplyRelease(1, attributor=Attributor(
        "What is the serial number of the golden unit?",
        ["The golden unit has serial number GU-0042 and sits in the calibration lab."],
    ))  # fmt: skip
    r.feed("The serial number of the golden unit is [1].")
    final = r.finish()
    assert final.text == IDK and final.withheld == 1
    # A yes/no question may be answered in its own words.
    yes = Attributor("Does the golden unit have serial number GU-0042?", ["Golden unit: GU-0042."])
    assert yes.attribute("The golden unit has serial number GU-0042 [1].").supported


def test_a_sentence_joining_two_sources_cites_both() -> None:
    """A two-document answer: the approver is named in one file, her extension in another;
    neither supports the sentence alone, together they do, and both are cited."""
    sources = [
        "Expenses policy\nClaims over 500 GBP are approved by Mira Okafor in Finance.",
        "Staff directory\nname: Mira Okafor; title: Finance Lead; extension: 4417",
        "Staff directory\nname: Jonas Berg; title: Buyer; extension: 4471",
    ]
    r = ReplyRelease(3, attributor=Attributor(
        "What is the extension of the person who approves claims over 500 GBP?", sources
    ))  # fmt: skip
    r.feed("Claims over 500 GBP are approved by Mira Okafor, who is on extension 4417.")
    final = r.finish()
    assert [s.sources for s in final.sentences] == [(1, 2)], final
    assert final.text.endswith("extension 4417 [1][2].")
    # A wrong extension is supported by no pair: the figure must be in a source.
    wrong = Attributor("What is Mira Okafor's extension?", sources)
    assert not wrong.attribute("Mira Okafor approves claims and is on extension 4471.").supported


def test_a_sentence_without_the_kind_of_value_asked_for_is_no_answer() -> None:
    """A "how many / which extension / what price" sentence needs a figure, a "when" one a
    figure, a month or a day: the model's value sometimes vanishes behind its [n]."""
    sources = ["Customers\ncustomer: Norrbay Clinics; tier: gold; discount: 12 per cent",
               "IT notice\nThe file server migration is on 25 August, from 18:00."]  # fmt: skip
    discount = Attributor("What is the discount of Norrbay Clinics?", sources)
    assert not discount.attribute("The discount for Norrbay Clinics is [1].").supported
    assert discount.attribute("Norrbay Clinics get a 12 per cent discount [1].").supported
    when = Attributor("When is the file server migration?", sources)
    assert not when.attribute("The file server migration is scheduled for [2].").supported
    assert when.attribute("The file server migration is on 25 August [2].").supported
    price = Attributor("What is the list price of the TQ-3302 lamp?", ["TQ-3302 lamp: 540 GBP"])
    assert not price.attribute("The list price of the TQ-3302 lamp is [1] GBP.").supported
    assert price.attribute("The TQ-3302 lamp lists at 540 GBP [1].").supported
    tier = Attributor("Which tier is Norrbay Clinics?", sources)  # no figure asked
    assert tier.attribute("Norrbay Clinics are a gold customer [1].").supported


def test_a_sentence_that_stops_where_its_value_should_be_is_no_answer() -> None:
    """Whatever was asked: "... is [1]." lost its value behind the citation."""
    sources = [
        "Pricing\nTIER_DISCOUNT = {'bronze': 9, 'platinum': 21}",
        "Customers\nKothpi: platinum",
    ]
    a = Attributor("Which tier discount does Kothpi Veterinary College get on quotes?", sources)
    assert not a.attribute("The tier discount for Kothpi platinum quotes is [1][2].").supported
    assert not a.attribute("Kothpi's platinum discount is the.").supported
    assert a.attribute("Kothpi's platinum tier discount is 21 [1][2].").supported
    # A verb that closes a clause a question word opened ends a whole sentence.
    fire = Attributor(
        "What internal number do you call to report a fire at the Kelderby plant?",
        ["KELDERBY PLANT FIRE NOTICE\n2. Call the internal emergency number 5999 and say "
         "where the fire is."],
    )  # fmt: skip
    said = "Call the internal emergency number 5999 and say where the fire is"
    assert fire.attribute(f"{said} [1].").supported
    assert fire.attribute(f"[1] {said}.") == Attributed(f"{said} [1].", True, (1,))


def test_a_pressed_reply_must_say_what_the_question_asks_about() -> None:
    """The second chance asks for an answer without offering "I don't know": the model then
    says something true about the question's names that answers nothing, which only the
    strict check withholds."""
    sources = ["Sites\nStealdo site: postcode HL18 6LL; dock doors: 20",
               "Travel policy\n3. The nightly hotel cap outside London is £140."]  # fmt: skip
    cars = "How many cars can park at Stealdo?"
    near_miss = "There are 20 dock doors at Stealdo [1]."
    assert Attributor(cars, sources).attribute(near_miss).supported  # true, but not asked
    assert not Attributor(cars, sources, strict=True).attribute(near_miss).supported
    hotel = Attributor("Outside London, how much can I spend on a hotel per night?", sources,
                       strict=True)  # fmt: skip
    assert hotel.attribute("Outside London, you can spend £140 on a hotel per night [2].").supported
    # Its sources must hold the question's names and the codes it repeats.
    directory = ["IT helpdesk\nThe IT helpdesk is on extension 3888.",
                 "Products\nKR-8931 Orbit lamp: 17 pounds"]  # fmt: skip
    kesto = Attributor("What extension should I dial for Kesto Weahapi?", directory, strict=True)
    assert not kesto.attribute("[1] The IT helpdesk is on extension 3888.").supported
    price = Attributor("What is the price of KR-8936 before VAT?", directory, strict=True)
    assert not price.attribute("[2] The price of KR-8936 before VAT is 17 pounds.").supported
    assert (
        Attributor("What is the price of KR-8931?", directory, strict=True)
        .attribute("[2] The price of KR-8931 is 17 pounds.")
        .supported
    )


def test_a_source_about_a_namesake_does_not_answer() -> None:
    """Asked about "Heathtruhas", a directory that only has "Heathtruha" (one letter away)
    is about someone else: its extension is no answer. The exact name, or a plural
    weekday, is no namesake."""
    row = ["Directory\nname: Hothsto Heathtruha; extension: 7286"]
    namesake = Attributor("Which extension is Hothsto Heathtruhas on?", row)
    assert not namesake.attribute("Hothsto Heathtruha is on extension 7286 [1].").supported
    exact = Attributor("Which extension is Hothsto Heathtruha on?", row)
    assert exact.attribute("Hothsto Heathtruha is on extension 7286 [1].").supported
    fridays = Attributor(
        "When does the canteen close on Fridays?", ["The canteen closes at 15:00 on Friday."]
    )
    assert fridays.attribute("It closes at 15:00 on Friday [1].").supported


def test_a_sentence_about_an_attribute_its_source_never_mentions_is_withheld() -> None:
    sites = ["Sites\n| Site | Postcode | Dock doors |\n| Pildrea | MR3 4PT | 47 |"]
    parking = Attributor("What is the number of parking spaces at the Pildrea site?", sites)
    said = "The number of parking spaces at the Pildrea site is 47 [1]."
    assert not parking.attribute(said).supported  # 47 is the dock doors
    # One of three asked words kept ("flag"; "caused" and "incident" paraphrased) is enough.
    postmortem = [
        "# Post-mortem INC-8082\nThe release pipeline ran with the flag `skip_sig_gate` on."
    ]
    flag = Attributor("Which pipeline flag caused incident INC-8082?", postmortem)
    assert flag.attribute("The flag `skip_sig_gate` caused incident INC-8082.").supported
    doors = Attributor("How many dock doors does the Pildrea site have?", sites)
    assert doors.attribute("The Pildrea site has 47 dock doors [1].").supported


def test_a_reply_that_wrote_its_citation_where_the_value_belongs_lost_it() -> None:
    for lost in ("The list price of the TQ-3302 Beacon UV Lamp is [2] GBP.",
                 "The first letters of a consignment number are [1].",
                 "The discount for Kothpi Veterinary College is [4]%.",
                 "The file server migration is scheduled for [1]."):  # fmt: skip
        assert lost_value(lost), lost
    for kept in ("The extension of Goshe Brothvikai is [2] 7073.",
                 "Kothpi Veterinary College is [4] bronze.",
                 "Call 5999 and say where the fire is [1].", "I don't know."):  # fmt: skip
        assert not lost_value(kept), kept
