"""Generated organisation shares: a fictional company drawn from a seed, written as files,
with questions whose answers and golden files are known by construction (issue 30).

A fixed dev set of 56 questions is too small to tune an answer stage on: every rule that
fixes one of its questions is a guess about the next corpus. A seed gives a new company —
people, sites, products, policies — written in several formats, each fact phrased in one
of several ways, with distractors beside it (the same attribute of another entity), and
questions in the answer benchmark's schema (``answers.load_items``). Seeds below 1000 are
for tuning; 1000-1009 are for reporting and are never tuned on.

Everything is deterministic from the seed: the same seed writes the same bytes. This first
slice writes Markdown, CSV, HTML and plain text, and asks fact, table, multihop and
unanswerable questions; the other formats and kinds of issue 30 are added on the same
``Organisation``.
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass
from pathlib import Path

from app.evaluation.answers import DECLINED

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "st",
           "t", "tr", "v", "w")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "o")
_CODAS = ("", "n", "r", "l", "s", "th", "m", "nd", "rk", "ll")
POSTCODE_LETTERS = "ABDEFGHJKLMNPRSTUWXY"
TITLES = (
    "Logistics Coordinator", "Quality Engineer", "Site Manager", "Buyer", "Payroll Officer",
    "Maintenance Technician", "Account Manager", "Safety Officer", "Planner", "IT Analyst",
)  # fmt: skip


def _word(rng: random.Random, syllables: int) -> str:
    """An invented word (names of people, places, companies: none of them real ones)."""
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)]
    parts += [rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables - 1)]
    return "".join(parts).capitalize()


@dataclass(frozen=True)
class Person:
    name: str
    title: str
    site: str
    extension: str


@dataclass(frozen=True)
class Site:
    name: str
    postcode: str
    dock_doors: int
    opens: str
    manager: str  # a person's name


@dataclass(frozen=True)
class Policies:
    annual_leave_days: int
    carry_over_days: int
    gift_threshold: int
    sickness_call_by: str


@dataclass(frozen=True)
class Organisation:
    seed: int
    name: str
    people: tuple[Person, ...]
    sites: tuple[Site, ...]
    policies: Policies


def organisation(seed: int) -> Organisation:
    """The company of ``seed``: every name, number and code drawn from it."""
    rng = random.Random(seed)
    names: set[str] = set()

    def unique(make) -> str:  # noqa: ANN001 - a zero-argument maker
        while True:
            value = make()
            if value not in names:
                names.add(value)
                return value

    company = unique(lambda: f"{_word(rng, 2)} {rng.choice(('Freight', 'Instruments', 'Foods'))}")
    site_names = [unique(lambda: _word(rng, 2)) for _ in range(3)]
    people = []
    extensions: set[str] = set()
    for _ in range(24):
        name = unique(lambda: f"{_word(rng, 2)} {_word(rng, 3)}")
        ext = unique(lambda: str(rng.randint(2000, 7999)))
        extensions.add(ext)
        people.append(Person(name, rng.choice(TITLES), rng.choice(site_names), ext))
    sites = []
    for i, site in enumerate(site_names):
        area = "".join(rng.choice(POSTCODE_LETTERS) for _ in range(2))
        inward = "".join(rng.choice(POSTCODE_LETTERS) for _ in range(2))
        postcode = f"{area}{rng.randint(1, 19)} {rng.randint(1, 9)}{inward}"
        manager = people[i].name  # the first people manage the sites
        people[i] = Person(manager, "Site Manager", site, people[i].extension)
        opens = f"{rng.randint(6, 9):02d}:{rng.choice(('00', '30'))}"
        sites.append(Site(site, postcode, rng.randint(10, 48), opens, manager))
    policies = Policies(
        annual_leave_days=rng.randint(22, 31),
        carry_over_days=rng.randint(3, 9),
        gift_threshold=rng.choice((25, 30, 40, 45, 50, 60, 75)),
        sickness_call_by=f"{rng.randint(8, 10):02d}:{rng.choice(('00', '15', '30', '45'))}",
    )
    return Organisation(seed, company, tuple(people), tuple(sites), policies)


# -- the files ----------------------------------------------------------------------------

# Several ways to state each policy: the answer stage must not depend on one phrasing.
LEAVE = (
    "Every employee is entitled to {d} days of annual leave per leave year.",
    "Annual leave: {d} days a year for all staff.",
    "The leave year gives each member of staff {d} days of paid annual leave.",
    "Staff receive an annual leave allowance of {d} days.",
    "You get {d} days of annual leave each year, on top of public holidays.",
)
CARRY = (
    "Up to {d} unused days may be carried over into the next leave year.",
    "At most {d} days of unused leave can be carried into the following year.",
    "Unused leave beyond {d} days is lost at the end of the leave year.",
    "A carry-over of no more than {d} days is allowed.",
    "You may carry {d} unused days forward; the rest lapses.",
)
GIFTS = (
    "Any gift or hospitality worth more than £{v} must be recorded in the gift register.",
    "Record gifts above £{v} in the gift register.",
    "The gift register threshold is £{v}.",
    "Offers of hospitality valued over £{v} are entered in the gift register.",
    "Gifts worth £{v} or less need not be registered.",
)
SICK = (
    "On the first day of sickness absence, phone your manager by {t}.",
    "If you are ill, call your line manager no later than {t} on the first day.",
    "Sickness must be reported by telephone before {t} on the first morning.",
    "Ring your manager by {t} on your first day off sick.",
    "The first-day sickness call is due by {t}.",
)


def share_files(org: Organisation) -> dict[str, bytes]:
    """The share, as file name -> bytes."""
    rng = random.Random(org.seed * 7919 + 1)  # phrasing, apart from the facts
    p = org.policies
    handbook = "\n\n".join(
        [
            f"# {org.name}: employee handbook",
            "## Annual leave",
            rng.choice(LEAVE).format(d=p.annual_leave_days)
            + " "
            + rng.choice(CARRY).format(d=p.carry_over_days),
            "## Gifts and hospitality",
            rng.choice(GIFTS).format(v=p.gift_threshold),
            "## Sickness",
            rng.choice(SICK).format(t=p.sickness_call_by),
        ]
    )
    directory = ["name,job title,site,extension"] + [
        f"{x.name},{x.title},{x.site},{x.extension}" for x in org.people
    ]
    rows = "\n".join(
        f"<tr><td>{html.escape(s.name)}</td><td>{s.postcode}</td><td>{s.opens}</td>"
        f"<td>{s.dock_doors}</td><td>{html.escape(s.manager)}</td></tr>"
        for s in org.sites
    )
    sites = (
        f"<html><head><title>{html.escape(org.name)} sites</title></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/sites'>Sites</a> | <a href='/jobs'>Jobs</a></nav>"
        f"<h1>Our sites</h1><table><tr><th>Site</th><th>Postcode</th><th>Opens</th>"
        f"<th>Dock doors</th><th>Site manager</th></tr>{rows}</table>"
        "<footer>Cookies help us run this intranet. Accept all.</footer></body></html>"
    )
    return {
        "handbook.md": (handbook + "\n").encode(),
        "staff-directory.csv": ("\n".join(directory) + "\n").encode(),
        "sites.html": (sites + "\n").encode(),
    }


def questions(org: Organisation) -> list[dict]:
    """Questions in the answer benchmark's schema, answers known by construction."""
    rng = random.Random(org.seed * 104729 + 3)
    p = org.policies
    out: list[dict] = []

    def add(kind: str, question: str, answers: list[str], files: list[str]) -> None:
        out.append({
            "id": f"g{org.seed}-{len(out) + 1:02d}", "kind": kind, "question": question,
            "answer_any": answers, "answer_all": [], "golden_files": files, "access": "public",
        })  # fmt: skip

    add("fact", "How many days of annual leave does an employee get each year?",
        [f"{p.annual_leave_days} days"], ["handbook.md"])  # fmt: skip
    add("fact", "How many unused leave days may be carried over into the next year?",
        [f"{p.carry_over_days} days", f"{p.carry_over_days} unused"], ["handbook.md"])  # fmt: skip
    add("numeric", "Above what value must a gift be recorded in the gift register?",
        [f"£{p.gift_threshold}"], ["handbook.md"])  # fmt: skip
    add("fact", "By what time must an employee phone in on the first day of sickness?",
        list(dict.fromkeys([p.sickness_call_by, p.sickness_call_by.lstrip("0")])),
        ["handbook.md"])  # fmt: skip
    person = rng.choice(org.people[len(org.sites) :])
    add("table", f"What is {person.name}'s phone extension?", [person.extension],
        ["staff-directory.csv"])  # fmt: skip
    site = rng.choice(org.sites)
    add("fact", f"What is the postcode of the {site.name} site?", [site.postcode.lower()],
        ["sites.html"])  # fmt: skip
    add("table", f"How many dock doors does the {site.name} site have?", [str(site.dock_doors)],
        ["sites.html"])  # fmt: skip
    manager = next(x for x in org.people if x.name == site.manager)
    add("multihop", f"What is the phone extension of the manager of the {site.name} site?",
        [manager.extension], ["sites.html", "staff-directory.csv"])  # fmt: skip
    # A near miss: the site exists, the attribute is nowhere in the share.
    add("unanswerable", f"How many parking spaces does the {site.name} site have?",
        list(DECLINED), [])  # fmt: skip
    return out


def write_share(seed: int, folder: Path) -> list[Path]:
    """Write seed's share and ``questions.jsonl`` into ``folder`` (created); the paths."""
    org = organisation(seed)
    corpus = folder / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in share_files(org).items():
        (corpus / name).write_bytes(data)
        written.append(corpus / name)
    lines = [json.dumps(q, ensure_ascii=False) for q in questions(org)]
    (folder / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    written.append(folder / "questions.jsonl")
    return written
