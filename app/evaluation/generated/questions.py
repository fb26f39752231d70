"""The questions of a generated share, in the answer benchmark's schema
(``answers.load_items``), with answers and golden files known by construction.

Every kind of the dev set is asked: fact, numeric, table, slides, email, ocr, superseded,
counterfactual, multihop, unanswerable near-misses, two-turn follow-ups and restricted,
plus arithmetic over two rows. Each question is asked one of five ways (``ASK``), and the
plain facts are a sample of a larger pool, so over many seeds the wording of a question
cannot be what the answer stage learns. Accepted answers are short strings the reply must
contain (lower-cased, as the scorer compares), written out in the forms a right answer
takes: "26 days", "twenty-six days".
"""

from __future__ import annotations

import random

from app.evaluation.answer_bench import DECLINED
from app.evaluation.generated import files as f
from app.evaluation.generated.world import INSTRUMENT_CLASSES, TIERS, Organisation

_UNITS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
)  # fmt: skip
_TENS = {2: "twenty", 3: "thirty", 4: "forty", 5: "fifty", 6: "sixty"}

ASK: dict[str, tuple[str, ...]] = {
    "leave": (
        "How many days of annual leave does an employee get each year?",
        "What is the annual leave allowance?",
        "How much paid annual leave do staff get per year?",
        "How many days of holiday is an employee entitled to each leave year?",
        "What is the yearly annual leave entitlement for employees?",
    ),
    "carry": (
        "How many unused leave days may be carried over into the next year?",
        "What is the maximum carry-over of unused annual leave?",
        "How many days of leave can I carry forward to next year?",
        "Up to how many unused holiday days can be taken into the following leave year?",
        "What is the limit on carrying over annual leave?",
    ),
    "sick": (
        "By what time must an employee phone in on the first day of sickness?",
        "When is the deadline for reporting sickness on the first day?",
        "What time must I call my manager by if I am off sick?",
        "On the first day of sickness absence, by when must staff phone their manager?",
        "What is the latest time to report being ill on the first morning?",
    ),
    "wifi": (
        "Which Wi-Fi network do staff devices join?",
        "What is the name of the staff Wi-Fi network?",
        "What network should an employee's laptop connect to?",
        "Which wireless network is for staff devices?",
        "What is the SSID for staff?",
    ),
    "helpdesk": (
        "What is the IT helpdesk's phone extension?",
        "Which extension do I call for the IT helpdesk?",
        "How do I reach the IT helpdesk by phone?",
        "What number is the IT helpdesk on?",
        "What extension is the helpdesk?",
    ),
    "postcode": (
        "What is the postcode of the {site} site?",
        "Which postcode does the {site} site have?",
        "What postcode should I use to send post to {site}?",
        "Give the postcode of our {site} site.",
        "Where is the {site} site? I need its postcode.",
    ),
    "opens": (
        "What time does the {site} site open on weekdays?",
        "When does {site} open?",
        "At what time does the {site} site open?",
        "What are the {site} site's weekday opening times?",
        "How early does the {site} site open?",
    ),
    "reorder": (
        "What is the default reorder level of an inventory item?",
        "Which reorder level does a new item get by default?",
        "What reorder level is set when none is given for an item?",
        "In the inventory schema, what is the default reorder_level?",
        "What is an item's reorder level if nobody sets one?",
    ),
    "consignment": (
        "What prefix do consignment numbers start with?",
        "How does a consignment number begin?",
        "Which prefix must every consignment number have?",
        "What are the first letters of a consignment number?",
        "What is the consignment number prefix?",
    ),
    "shipping": (
        "Above what order value is shipping free?",
        "What is the free-shipping threshold for orders?",
        "From what order value do orders ship free?",
        "How much must an order be worth to get free shipping?",
        "What order value qualifies for free delivery?",
    ),
    "quote": (
        "How many days is a quote valid?",
        "When does a quote expire?",
        "For how long does a price quote stay valid?",
        "How many days after issue does a quote expire?",
        "What is the validity period of a quote?",
    ),
    "retention": (
        "How long are calibration records kept?",
        "What is the retention period for calibration records?",
        "For how many years must calibration records be retained?",
        "How long do we keep calibration certificates and records?",
        "When can calibration records be destroyed?",
    ),
    "gift": (
        "Above what value must a gift be recorded in the gift register?",
        "What is the gift register threshold?",
        "From what value do gifts need to be registered?",
        "How much can a gift be worth before it goes in the gift register?",
        "Which gifts must be entered in the gift register?",
    ),
    "mileage": (
        "What is the mileage rate for business trips in a private car?",
        "How much is paid per mile for using my own car on business?",
        "What mileage allowance applies to private cars?",
        "At what rate is business mileage reimbursed?",
        "How many pence per mile can I claim for driving my own car?",
    ),
    "hotel": (
        "What is the maximum hotel cost per night outside London?",
        "How much may a hotel room cost per night outside London?",
        "What is the nightly hotel cap outside London?",
        "What is the accommodation limit per night outside London?",
        "Outside London, how much can I spend on a hotel per night?",
    ),
    "extension": (
        "What is {person}'s phone extension?",
        "Which extension is {person} on?",
        "How do I reach {person} by phone?",
        "What is the extension number of {person}?",
        "What extension should I dial for {person}?",
    ),
    "doors": (
        "How many dock doors does the {site} site have?",
        "What is the number of dock doors at {site}?",
        "How many loading dock doors are there at the {site} site?",
        "Count of dock doors at the {site} site?",
        "How many dock doors has {site}?",
    ),
    "price": (
        "What is the list price of product {code}?",
        "How much does {code} cost?",
        "What is the price of {code} before VAT?",
        "What does product {code} list at?",
        "Give me the list price for {code}.",
    ),
    "lead": (
        "What is the lead time of supplier {code}?",
        "How many days' lead time does {code} have?",
        "How long does supplier {code} take to deliver?",
        "What lead time should I plan for with {code}?",
        "What is {code}'s lead time in days?",
    ),
    "calibration": (
        "How often must class {cls} instruments be calibrated?",
        "What is the calibration interval for class {cls} instruments?",
        "Every how many months is a class {cls} instrument calibrated?",
        "How long between calibrations for class {cls}?",
        "What calibration interval applies to instrument class {cls}?",
    ),
    "tier": (
        "Which tier is the customer {customer}?",
        "What customer tier does {customer} have?",
        "Is {customer} bronze, silver, gold or platinum?",
        "What tier is {customer}'s account?",
        "Which tier has the {customer} account?",
    ),
    "revenue": (
        "What was last year's revenue?",
        "How much revenue did the company make last year?",
        "What revenue was reported at the all-hands for last year?",
        "What were last year's sales in pounds?",
        "What was the revenue figure for last year?",
    ),
    "canteen": (
        "When does the new canteen open?",
        "In which month does the new canteen open?",
        "When will the new canteen be open?",
        "What month is the opening of the new canteen?",
        "When is the new canteen opening?",
    ),
    "migration": (
        "On what date does the shared drive move to the new file server?",
        "When is the file server migration?",
        "What day does the shared drive move?",
        "When will the shared drive be migrated?",
        "On which date is the file-server cut-over?",
    ),
    "readonly": (
        "From what time does the old share become read-only?",
        "When does the old file share go read-only?",
        "At what time is the old share made read-only the day before the migration?",
        "What time does the old shared drive switch to read-only?",
        "From when can I no longer write to the old share?",
    ),
    "assembly": (
        "Where is the fire assembly point?",
        "Where do we assemble when the fire alarm sounds?",
        "What is the fire assembly point?",
        "Where should staff gather in a fire evacuation?",
        "Where is the assembly point for a fire?",
    ),
    "warden": (
        "At which gate do fire wardens meet?",
        "Where do the fire wardens meet?",
        "Which gate is the fire wardens' meeting point?",
        "What gate do wardens go to in a fire?",
        "Where must fire wardens gather?",
    ),
    "remote": (
        "Under the current rules, how many days per week may office-based staff work remotely?",
        "How many remote days a week are office staff allowed now?",
        "What is the current remote-working allowance per week?",
        "How many days a week can I work from home today?",
        "How many days of remote work per week are allowed at present?",
    ),
    "lock": (
        "After how many minutes of inactivity does the screen lock now?",
        "What is the current screen lock timeout?",
        "How long can a workstation be idle before it locks, under the current rule?",
        "What is the screen lock rule now?",
        "After how many idle minutes do screens lock today?",
    ),
    "meal": (
        "What is the current daily meal allowance for domestic business travel?",
        "How much is the domestic meal allowance per day now?",
        "What daily meal allowance applies to domestic trips today?",
        "What can I claim per day for meals on a domestic trip?",
        "What is the domestic meal allowance at present?",
    ),
    "dozen": (
        "How many units does one 'dozen' mean on a {company} purchase order?",
        "On a purchase order, how many units is a dozen?",
        "If I order a dozen on a purchase order, how many units arrive?",
        "What does 'dozen' mean in purchasing here?",
        "How many units are in a purchase-order dozen?",
    ),
    "gross": (
        "How many units is a gross in the warehouse system?",
        "What does a 'gross' mean in stock records?",
        "How many units does the warehouse count as one gross?",
        "In the warehouse system, a gross is how many units?",
        "What is a gross in our stock records?",
    ),
    "earth": (
        "What colour are the protective earth conductors on test rigs?",
        "Which colour is protective earth on our test rigs?",
        "What colour wire is used for protective earth on test rigs?",
        "On a test rig, what colour is the protective earth?",
        "In which colour are test rig earth conductors wired?",
    ),
    "manager_ext": (
        "What is the phone extension of the manager of the {site} site?",
        "How do I phone the {site} site manager? Which extension?",
        "Which extension does the manager of {site} have?",
        "What extension should I call to reach whoever manages the {site} site?",
        "What is the {site} site manager's extension?",
    ),
    "account_ext": (
        "What is the phone extension of {customer}'s account manager?",
        "Which extension reaches the account manager for {customer}?",
        "How do I phone the account manager of {customer}?",
        "What extension does the person who manages the {customer} account have?",
        "What is the extension of the account manager for {customer}?",
    ),
    "discount": (
        "What percentage discount on list price does {customer} get?",
        "What discount does the customer {customer} receive on quotes?",
        "How much discount, in per cent, is {customer} given?",
        "Which percentage is taken off the list price for {customer}?",
        "What is {customer}'s discount on list prices?",
    ),
    "doors_sum": (
        "How many dock doors do the {a} and {b} sites have together?",
        "What is the combined number of dock doors at {a} and {b}?",
        "In total, how many dock doors are there at the {a} and {b} sites?",
        "Add up the dock doors of {a} and {b}: how many?",
        "How many dock doors do {a} and {b} have between them?",
    ),
    "parking": (
        "How many parking spaces does the {site} site have?",
        "How many car parking spaces are there at {site}?",
        "What is the number of parking spaces at the {site} site?",
        "How many cars can park at {site}?",
        "How big is the car park at the {site} site?",
    ),
    "salary": (
        "What is the maximum salary of pay band {band}?",
        "What is the top of pay band {band}?",
        "How much can someone in pay band {band} earn at most?",
        "What is the salary ceiling for band {band}?",
        "What is the upper salary limit of band {band}?",
    ),
    "incident": (
        "Which pipeline flag caused incident {incident}?",
        "What flag was behind {incident}?",
        "What was the root cause flag of incident {incident}?",
        "Which flag left on in the release pipeline caused {incident}?",
        "Name the pipeline flag that led to {incident}.",
    ),
}
FOLLOW = {
    "doors": (
        "And the {site} site?",
        "What about {site}?",
        "And at {site}?",
        "How many does {site} have?",
        "And {site}?",
    ),  # fmt: skip
    "meal": (
        "And for international travel?",
        "What about international trips?",
        "And abroad?",
        "And the international allowance?",
        "What is it for international travel?",
    ),  # fmt: skip
    "title": (
        "And what is their job title?",
        "What is their role?",
        "What do they do?",
        "And their job title?",
        "Which job title do they have?",
    ),  # fmt: skip
}


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
