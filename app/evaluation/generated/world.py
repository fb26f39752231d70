"""The fictional organisation of a seed: people, sites, products, suppliers, customers and
the rules its documents state. Every name, number and code is drawn from the seed, so the
same seed gives the same company; nothing here is a real name or a real figure.

Distractors are drawn on purpose: two people with near-identical names, product codes that
differ by two swapped digits, an older value of each superseded rule, a contractors' rule
beside the employees' one. An answer must pick the question's attribute of the question's
entity among them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

_ONSETS = ("b", "br", "c", "d", "dr", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "st",
           "t", "tr", "v", "w")  # fmt: skip
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "o")
_CODAS = ("", "n", "r", "l", "s", "th", "m", "nd", "rk", "ll")
POSTCODE_LETTERS = "ABDEFGHJKLMNPRSTUWXY"
TITLES = (
    "Logistics Coordinator", "Quality Engineer", "Buyer", "Payroll Officer",
    "Maintenance Technician", "Account Manager", "Safety Officer", "Planner", "IT Analyst",
    "Warehouse Operative", "Customer Service Advisor", "Finance Assistant",
)  # fmt: skip
INDUSTRIES = ("Freight", "Instruments", "Foods", "Components", "Optics", "Textiles")
PRODUCT_WORDS = ("Lumen", "Vector", "Halo", "Orbit", "Pulse", "Stratus", "Kite", "Delta",
                 "Quill", "Ember", "Sable", "Tundra")  # fmt: skip
PRODUCT_TIERS = ("Mini", "Pro", "Max", "Lite", "Plus", "Core")
CUSTOMER_KINDS = ("Clinics", "Water Authority", "Veterinary Group", "Veterinary College",
                  "Logistics", "Laboratories", "Council", "Hospital Trust")  # fmt: skip
TIERS = ("bronze", "silver", "gold", "platinum")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip
COLOURS = ("violet", "orange", "white", "pink", "grey", "turquoise")  # never green/yellow
INSTRUMENT_CLASSES = ("A", "B", "C", "D")


def word(rng: random.Random, syllables: int) -> str:
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
class Product:
    code: str
    name: str
    price: int  # pounds
    weight_g: int
    site: str
    supplier: str  # a supplier's code


@dataclass(frozen=True)
class Supplier:
    code: str
    name: str
    lead_days: int


@dataclass(frozen=True)
class Customer:
    name: str
    tier: str
    manager: str  # a person's name


@dataclass(frozen=True)
class Rules:
    """What the policies, notices and code say; ``*_old`` is a value a later document
    supersedes, ``contractor_*`` the same rule for someone else (a distractor)."""

    annual_leave_days: int
    long_service_days: int
    carry_over_days: int
    gift_threshold: int
    sickness_call_by: str
    contractor_call_by: str
    remote_days_old: int
    remote_days: int
    screen_lock_old: int
    screen_lock: int
    meal_old: int
    meal: int
    meal_international: int
    mileage_pence: int
    hotel_cap: int
    retention_years: int
    calibration_months: tuple[int, ...]  # by INSTRUMENT_CLASSES
    dozen: int
    gross: int
    earth_colour: str
    assembly_point: str
    warden_gate: int
    revenue_m: str  # last year's revenue in £ millions, e.g. "41.7"
    orders_shipped: int
    canteen_month: str  # said only in a slide's speaker notes
    discounts: tuple[int, ...]  # per cent, by TIERS
    free_shipping: int
    quote_days: int
    reorder_level: int
    consignment_prefix: str
    wifi_network: str
    helpdesk_extension: str
    migration_day: int  # of the migration month
    migration_month: str
    readonly_from: str
    new_share: str
    salary_band: str
    salary_max: int
    incident: str
    incident_flag: str


@dataclass(frozen=True)
class Organisation:
    seed: int
    name: str
    short: str  # the first word of the name, as people say it
    domain: str
    people: tuple[Person, ...]
    sites: tuple[Site, ...]
    products: tuple[Product, ...]
    suppliers: tuple[Supplier, ...]
    customers: tuple[Customer, ...]
    rules: Rules
    absent_person: str  # a near-namesake of someone in the directory, in no file

    def person(self, name: str) -> Person:
        return next(p for p in self.people if p.name == name)


def _time(rng: random.Random, hours: tuple[int, int], minutes=("00", "15", "30", "45")) -> str:
    return f"{rng.randint(*hours):02d}:{rng.choice(minutes)}"


class _Draw:
    """The seed's random stream and every name drawn from it so far: ``unique`` redraws a
    name, code or extension until it is new, so no two things in a company look alike by
    accident (the look-alikes are made on purpose)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names: set[str] = set()

    def unique(self, make: Callable[[], str]) -> str:
        while True:
            value = make()
            if value not in self.names:
                self.names.add(value)
                return value

    def word(self, syllables: int) -> str:
        return self.unique(lambda: word(self.rng, syllables))

    def extension(self) -> str:
        return self.unique(lambda: str(self.rng.randint(2000, 7999)))

    def letters(self, n: int) -> str:
        return "".join(self.rng.choice(POSTCODE_LETTERS) for _ in range(n))


def organisation(seed: int) -> Organisation:
    """The company of ``seed``: every name, number and code drawn from it, in a fixed order
    (so the same seed gives the same company, byte for byte)."""
    draw = _Draw(seed)
    rng = draw.rng
    short = draw.word(2)
    company = f"{short} {rng.choice(INDUSTRIES)}"
    site_names = [draw.word(2) for _ in range(3)]
    people, absent = _people(draw, site_names)
    sites = _sites(draw, site_names, people)
    suppliers = []
    for _ in range(20):
        code = draw.unique(lambda: f"SUP-{rng.randint(100, 999)}")
        suppliers.append(Supplier(code, f"{draw.word(2)} Ltd", rng.randint(3, 60)))
    products = _products(draw, site_names, suppliers)
    customers = []
    stem = ""
    for i in range(24):
        if i % 4 != 1:  # every fourth customer shares the name's first word with the last
            stem = draw.word(2)
        cname = draw.unique(lambda s=stem: f"{s} {rng.choice(CUSTOMER_KINDS)}")
        customers.append(Customer(cname, rng.choice(TIERS), rng.choice(people[3:]).name))
    rules = _rules(draw, short)
    domain = f"{short.lower()}.example"
    return Organisation(
        seed, company, short, domain, tuple(people), tuple(sites), tuple(products),
        tuple(suppliers), tuple(customers), rules, absent,
    )  # fmt: skip


def _people(draw: _Draw, site_names: list[str]) -> tuple[list[Person], str]:
    """31 people, the last two near-namesakes, and a third such name no file mentions."""
    rng = draw.rng
    people = [
        Person(draw.unique(lambda: f"{word(rng, 2)} {word(rng, 3)}"), rng.choice(TITLES),
               rng.choice(site_names), draw.extension())
        for _ in range(30)
    ]  # fmt: skip
    # A near-namesake pair: the same first name, surnames one letter apart.
    first, surname = people[-1].name.split(" ")
    twin = f"{first} {surname[:-1]}{'a' if surname[-1] != 'a' else 'o'}"
    draw.names.add(twin)
    people.append(Person(twin, rng.choice(TITLES), rng.choice(site_names), draw.extension()))
    return people, f"{first} {surname}s"  # the absent one: never written anywhere


def _sites(draw: _Draw, site_names: list[str], people: list[Person]) -> list[Site]:
    """The sites; the first three people become their managers."""
    rng = draw.rng
    sites = []
    for i, site in enumerate(site_names):
        area = draw.letters(2)
        inward = draw.letters(2)
        postcode = f"{area}{rng.randint(1, 19)} {rng.randint(1, 9)}{inward}"
        people[i] = Person(people[i].name, "Site Manager", site, people[i].extension)
        sites.append(
            Site(site, postcode, rng.randint(10, 48), _time(rng, (6, 9), ("00", "30")),
                 people[i].name)
        )  # fmt: skip
    return sites


def _products(draw: _Draw, site_names: list[str], suppliers: list[Supplier]) -> list[Product]:
    """160 products under one code prefix; the second one's code is the first's with two
    digits swapped (the near-duplicate trap), where the digits differ."""
    rng = draw.rng
    prefix = draw.letters(2)
    products = []
    for _ in range(160):
        code = draw.unique(lambda: f"{prefix}-{rng.randint(1000, 9999)}")
        label = draw.unique(lambda: f"{rng.choice(PRODUCT_WORDS)} {rng.choice(PRODUCT_TIERS)} "
                            f"{rng.randint(2, 99)}")  # fmt: skip
        products.append(
            Product(code, label, rng.randint(40, 4000), rng.randint(150, 9000),
                    rng.choice(site_names), rng.choice(suppliers).code)
        )  # fmt: skip
    a = products[0]
    d = a.code[-4:]
    swapped = f"{prefix}-{d[0]}{d[2]}{d[1]}{d[3]}"
    if d[1] != d[2] and swapped not in draw.names:
        draw.names.add(swapped)
        label = draw.unique(lambda: f"{a.name.split(' ')[0]} {rng.choice(PRODUCT_TIERS)} "
                            f"{rng.randint(2, 99)}")  # fmt: skip
        products[1] = Product(swapped, label, rng.randint(40, 4000), rng.randint(150, 9000),
                              rng.choice(site_names), rng.choice(suppliers).code)  # fmt: skip
    return products


def _rules(draw: _Draw, short: str) -> Rules:
    """The rules the documents state, each value drawn from a plausible range."""
    rng = draw.rng
    remote_old = rng.randint(2, 3)
    lock_old = rng.choice((10, 15, 20))
    meal_old = rng.randint(25, 40)
    band = f"{rng.choice('TKR')}{rng.randint(3, 7)}"
    return Rules(
        annual_leave_days=rng.randint(22, 31),
        long_service_days=rng.randint(2, 5),
        carry_over_days=rng.randint(3, 9),
        gift_threshold=rng.choice((25, 30, 40, 45, 50, 60, 75)),
        sickness_call_by=_time(rng, (8, 9)),
        contractor_call_by=_time(rng, (10, 11)),
        remote_days_old=remote_old,
        remote_days=remote_old + 1,
        screen_lock_old=lock_old,
        screen_lock=rng.choice((3, 4, 5, 6, 7)),
        meal_old=meal_old,
        meal=meal_old + rng.randint(4, 12),
        meal_international=rng.randint(55, 90),
        mileage_pence=rng.randint(35, 52),
        hotel_cap=rng.choice((110, 120, 135, 140, 150, 165, 180)),
        retention_years=rng.randint(6, 15),
        calibration_months=tuple(rng.sample((3, 4, 6, 9, 12, 18, 24), 4)),
        dozen=rng.choice((13, 14, 15, 16, 18)),
        gross=rng.choice((150, 160, 168, 180)),
        earth_colour=rng.choice(COLOURS),
        assembly_point=f"car park {rng.choice('BCDEFH')}",
        warden_gate=rng.randint(2, 9),
        revenue_m=f"{rng.randint(12, 95)}.{rng.randint(1, 9)}",
        orders_shipped=rng.randint(12000, 98000),
        canteen_month=rng.choice(MONTHS),
        discounts=tuple(sorted(rng.sample(range(2, 26), 4))),
        free_shipping=rng.choice((250, 300, 400, 450, 500, 750)),
        quote_days=rng.choice((14, 21, 28, 30, 45, 60)),
        reorder_level=rng.randint(5, 80),
        consignment_prefix=draw.letters(3),
        wifi_network=f"{short.upper()}-{rng.choice(('STAFF', 'CORP', 'WORK', 'SECURE'))}",
        helpdesk_extension=draw.extension(),
        migration_day=rng.randint(2, 27),
        migration_month=rng.choice(MONTHS),
        readonly_from=_time(rng, (16, 19), ("00", "30")),
        new_share=f"\\\\fs{rng.randint(2, 9):02d}\\{short.lower()}",
        salary_band=band,
        salary_max=rng.randint(38, 95) * 1000 + rng.choice((0, 250, 500, 750)),
        incident=f"INC-{rng.randint(1000, 9999)}",
        incident_flag=f"skip_{rng.choice(('cal', 'qa', 'sig', 'crc'))}_"
        f"{rng.choice(('verify', 'check', 'gate'))}",
    )
