"""The questions of a generated share, in the answer benchmark's schema
(``answer_items.load_items``), with answers and golden files known by construction.

Every kind of the dev set is asked: fact, numeric, table, slides, email, ocr, superseded,
counterfactual, multihop, unanswerable near-misses, two-turn follow-ups and restricted,
plus arithmetic over two rows. Each question is asked one of five ways (phrasings.ASK), and the
plain facts are a sample of a larger pool, so over many seeds the wording of a question
cannot be what the answer stage learns. Accepted answers are short strings the reply must
contain (lower-cased, as the scorer compares), written out in the forms a right answer
takes: "26 days", "twenty-six days".
"""

from __future__ import annotations

import random

from app.evaluation.answer_items import DECLINED
from app.evaluation.generated import files as f
from app.evaluation.generated.phrasings import ASK, FOLLOW
from app.evaluation.generated.world import INSTRUMENT_CLASSES, TIERS, Organisation

_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
)  # fmt: skip
_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty"}


def number_word(n: int) -> str:
    if n < 20:
        return _UNITS[n]
    tens, units = divmod(n, 10)
    return _TENS[tens] + (f"-{_UNITS[units]}" if units else "")


def counted(n: int, *units: str) -> list[str]:
    """'26 days', 'twenty-six days' and the same with each unit given."""
    out = []
    for unit in units:
        out.append(f"{n} {unit}")
        if n < 70:
            out.append(f"{number_word(n)} {unit}")
    return out


def times(t: str) -> list[str]:
    """'09:15' also written '9:15', '9.15' and '09.15'."""
    short = t.lstrip("0") or t
    return list(dict.fromkeys([t, short, t.replace(":", "."), short.replace(":", ".")]))


def money(v: int) -> list[str]:
    """An amount in pounds stated in prose: "£46", "46 pounds", "46 GBP"."""
    forms = [f"£{v:,}", f"£{v}", f"{v:,} gbp", f"{v} gbp", f"{v:,} pounds", f"{v} pounds"]
    return list(dict.fromkeys(forms))


def figure(v: int) -> list[str]:
    """A number from a table cell or code, with or without a thousands comma (the
    dev set's rule for table lookups: the figure itself)."""
    return list(dict.fromkeys([f"{v:,}", f"{v}"]))


class _Questions:
    """One share's questions, drawn in a fixed order from a stream of their own (the share's
    files are drawn from another, so a new question changes no file)."""

    def __init__(self, org: Organisation) -> None:
        self.org = org
        self.rng = rng = random.Random(org.seed * 104729 + 3)
        self.sites_file = f.sites_file(org)
        self.out: list[dict] = []
        site = rng.choice(org.sites)
        other = rng.choice([s for s in org.sites if s is not site])
        person = rng.choice(org.people[len(org.sites) :])
        customer = rng.choice(org.customers)
        product = rng.choice(org.products)
        supplier = rng.choice(org.suppliers)
        self.site, self.other, self.person = site, other, person
        self.customer, self.product, self.supplier = customer, product, supplier
        self.cls_index = rng.randrange(len(INSTRUMENT_CLASSES))

    def ask(self, key: str, **values: object) -> str:
        return self.rng.choice(ASK[key]).format(company=self.org.short, **values)

    def add(self, kind: str, turns: list[str], answers: list[str], files: list[str],
            access: str = "public") -> None:  # fmt: skip
        self.out.append({
            "id": f"g{self.org.seed}-{len(self.out) + 1:02d}", "kind": kind,
            **({"question": turns[0]} if len(turns) == 1 else {"turns": turns}),
            "answer_any": [a.lower() for a in answers], "answer_all": [],
            "golden_files": files, "access": access,
        })  # fmt: skip

    def facts(self) -> None:
        """Eight plain facts of a pool of twelve."""
        ask, add, r, rng = self.ask, self.add, self.org.rules, self.rng
        site = self.site
        sites_file = self.sites_file
        facts = [
            lambda: add("fact", [ask("leave")], counted(r.annual_leave_days, "days"), [f.HANDBOOK]),
            lambda: add("fact", [ask("carry")],
                        counted(r.carry_over_days, "days", "unused days"), [f.HANDBOOK]),
            lambda: add("fact", [ask("sick")], times(r.sickness_call_by), [f.HANDBOOK]),
            lambda: add("fact", [ask("wifi")], [r.wifi_network], [f.HELPDESK]),
            lambda: add("fact", [ask("helpdesk")], [r.helpdesk_extension], [f.HELPDESK]),
            lambda: add("fact", [ask("postcode", site=site.name)], [site.postcode], [sites_file]),
            lambda: add("fact", [ask("opens", site=site.name)], times(site.opens), [sites_file]),
            lambda: add("fact", [ask("reorder")], [str(r.reorder_level)], [f.SCHEMA]),
            lambda: add("fact", [ask("consignment")], [r.consignment_prefix], [f.SCHEMA]),
            lambda: add("fact", [ask("shipping")],
                        figure(r.free_shipping), [f.PRICING]),
            lambda: add("fact", [ask("quote")], counted(r.quote_days, "days"), [f.PRICING]),
            lambda: add("fact", [ask("retention")], counted(r.retention_years, "years"),
                        [f.QUALITY]),
        ]  # fmt: skip
        for make in rng.sample(facts, 8):
            make()

    def numeric(self) -> None:
        """Two figures with units or currency."""
        ask, add, r, rng = self.ask, self.add, self.org.rules, self.rng
        numeric = [
            lambda: add("numeric", [ask("gift")], money(r.gift_threshold), [f.HANDBOOK]),
            lambda: add("numeric", [ask("mileage")],
                        [f"{r.mileage_pence}p", f"{r.mileage_pence} pence"], [f.TRAVEL]),
            lambda: add("numeric", [ask("hotel")], money(r.hotel_cap), [f.TRAVEL]),
        ]  # fmt: skip
        for make in rng.sample(numeric, 2):
            make()

    def tables(self) -> None:
        """Three lookups in a table row (CSV, Excel, Word, the sites table)."""
        ask, add, r, rng = self.ask, self.add, self.org.rules, self.rng
        site, person, customer, product, supplier = (
            self.site,
            self.person,
            self.customer,
            self.product,
            self.supplier,
        )
        sites_file, cls_index = self.sites_file, self.cls_index
        calibration = r.calibration_months[cls_index]
        tables = [
            lambda: add("table", [ask("extension", person=person.name)], [person.extension],
                        [f.DIRECTORY]),
            lambda: add("table", [ask("doors", site=site.name)], [str(site.dock_doors)],
                        [sites_file]),
            lambda: add("table", [ask("price", code=product.code)], figure(product.price),
                        [f.CATALOGUE]),
            lambda: add("table", [ask("lead", code=supplier.code)],
                        [str(supplier.lead_days)], [f.CATALOGUE]),
            lambda: add("table", [ask("calibration", cls=INSTRUMENT_CLASSES[cls_index])],
                        counted(calibration, "months"), [f.QUALITY]),
            lambda: add("table", [ask("tier", customer=customer.name)], [customer.tier],
                        [f.CUSTOMERS]),
        ]  # fmt: skip
        for make in rng.sample(tables, 3):
            make()

    def fixed_kinds(self) -> None:
        """Slides and their notes, mail, OCR, and superseded values: one set each share."""
        ask, add, r = self.ask, self.add, self.org.rules
        add("slides", [ask("revenue")], [f"£{r.revenue_m} million", f"£{r.revenue_m}m",
                                         f"{r.revenue_m} million"], [f.ALLHANDS])  # fmt: skip
        add("slides", [ask("canteen")], [r.canteen_month], [f.ALLHANDS])
        add("email", [ask("migration")], [f"{r.migration_day} {r.migration_month}",
                                          f"{r.migration_month} {r.migration_day}"],
            [f.MIGRATION_MAIL])  # fmt: skip
        add("email", [ask("readonly")], times(r.readonly_from), [f.checklist_source()])
        add("ocr", [ask("assembly")], [r.assembly_point], [f.FIRE_SCAN])
        add("ocr", [ask("warden")], [f"gate {r.warden_gate}"], [f.FIRE_SCAN])
        add("superseded", [ask("remote")], counted(r.remote_days, "days", "remote days"),
            [f.REMOTE_MEMO, f.ALLHANDS])  # fmt: skip
        add("superseded", [ask("lock")], counted(r.screen_lock, "minutes"), [f.BULLETIN])
        add("superseded", [ask("meal")], money(r.meal), [f.MEAL_MAIL])

    def counterfactual(self) -> None:
        """House rules that differ from general knowledge."""
        ask, add, r, rng = self.ask, self.add, self.org.rules, self.rng
        counterfactual = [
            lambda: add("counterfactual", [ask("dozen")], counted(r.dozen, "units")
                        + [f"{r.dozen} items"], [f.GLOSSARY]),
            lambda: add("counterfactual", [ask("gross")], counted(r.gross, "units"), [f.GLOSSARY]),
            lambda: add("counterfactual", [ask("earth")], [r.earth_colour], [f.ONBOARDING]),
        ]  # fmt: skip
        for make in rng.sample(counterfactual, 2):
            make()

    def across_files(self) -> None:
        """Two hops across files, and a sum of two table values."""
        ask, add, r, rng = self.ask, self.add, self.org.rules, self.rng
        site, other, customer = self.site, self.other, self.customer
        org, sites_file = self.org, self.sites_file
        manager = org.person(site.manager)
        account = org.person(customer.manager)
        discount = r.discounts[TIERS.index(customer.tier)]
        multihop = [
            lambda: add("multihop", [ask("manager_ext", site=site.name)], [manager.extension],
                        [sites_file, f.DIRECTORY]),
            lambda: add("multihop", [ask("account_ext", customer=customer.name)],
                        [account.extension], [f.CUSTOMERS, f.DIRECTORY]),
            lambda: add("multihop", [ask("discount", customer=customer.name)],
                        [f"{discount}%", f"{discount} %", f"{discount} per cent",
                         f"{discount} percent"], [f.CUSTOMERS, f.PRICING]),
        ]  # fmt: skip
        for make in rng.sample(multihop, 2):
            make()
        add("arithmetic", [ask("doors_sum", a=site.name, b=other.name)],
            [str(site.dock_doors + other.dock_doors)], [sites_file])  # fmt: skip

    def followups(self) -> None:
        """Two-turn conversations whose second turn needs the first."""
        ask, add, r, rng = self.ask, self.add, self.org.rules, self.rng
        site, other, person = self.site, self.other, self.person
        sites_file = self.sites_file
        followups = [
            lambda: add("followup", [ask("doors", site=site.name),
                                     rng.choice(FOLLOW["doors"]).format(site=other.name)],
                        [str(other.dock_doors)], [sites_file]),
            lambda: add("followup", [ask("meal"), rng.choice(FOLLOW["meal"])],
                        money(r.meal_international), [f.TRAVEL]),
            lambda: add("followup", [ask("extension", person=person.name),
                                     rng.choice(FOLLOW["title"])], [person.title], [f.DIRECTORY]),
        ]  # fmt: skip
        for make in rng.sample(followups, 2):
            make()

    def near_misses(self) -> None:
        """Unanswerable near misses and the restricted questions."""
        ask, add, r, rng = self.ask, self.add, self.org.rules, self.rng
        site, org = self.site, self.org
        # Near misses: the entity exists and the attribute does not, or the entity is one
        # letter away from one that exists.
        add("unanswerable", [ask("parking", site=site.name)], list(DECLINED), [])
        add("unanswerable", [ask("extension", person=org.absent_person)], list(DECLINED), [])
        missing = _absent_code(org, rng)
        add("unanswerable", [ask("price", code=missing)], list(DECLINED), [])
        add("restricted", [ask("salary", band=r.salary_band)],
            figure(r.salary_max), [f.SALARY], "restricted")  # fmt: skip
        add("restricted", [ask("incident", incident=r.incident)], [r.incident_flag],
            [f.POSTMORTEM], "restricted")  # fmt: skip


def questions(org: Organisation) -> list[dict]:
    """Questions in the answer benchmark's schema, answers known by construction."""
    q = _Questions(org)
    q.facts()
    q.numeric()
    q.tables()
    q.fixed_kinds()
    q.counterfactual()
    q.across_files()
    q.followups()
    q.near_misses()
    return q.out


def _absent_code(org: Organisation, rng: random.Random) -> str:
    """A product code in the catalogue's pattern that is not in the catalogue."""
    prefix = org.products[0].code.split("-")[0]
    codes = {p.code for p in org.products}
    while (code := f"{prefix}-{rng.randint(1000, 9999)}") in codes:
        pass
    return code
