"""The files of a generated share: an organisation written the way a company share looks.

About twenty files in every format the loaders read: Markdown, HTML with navigation and
footers, plain text, PDF with a text layer and scanned, Word with tables, PowerPoint with
speaker notes, Excel with several sheets and a hundred and sixty rows, CSV, e-mail with an
attachment, Python and SQL. Each rule is stated one of five ways (phrasings.py), the sites
table is laid out one of five ways, and every fact has neighbours that look like it: the
contractors' rule beside the employees', the superseded value in the older document, other
rows with the same columns.

``FILES`` names the file each fact is in; the questions (questions.py) cite them from
there, so a renamed file cannot leave a question pointing at nothing.
"""

from __future__ import annotations

import html
import random
from collections.abc import Sequence

from app.evaluation.generated import formats
from app.evaluation.generated.phrasings import pick
from app.evaluation.generated.world import INSTRUMENT_CLASSES, TIERS, Organisation

HANDBOOK = "handbook.md"
REMOTE_MEMO = "memo-remote-working.md"
HELPDESK = "it-helpdesk.html"
BULLETIN = "security-bulletin.txt"
DIRECTORY = "staff-directory.csv"
CUSTOMERS = "customers.csv"
GLOSSARY = "glossary.txt"
TRAVEL = "travel-policy.pdf"
FIRE_SCAN = "fire-notice-scan.pdf"
QUALITY = "quality-manual.docx"
ALLHANDS = "allhands.pptx"
CATALOGUE = "product-catalogue.xlsx"
MEAL_MAIL = "meal-allowance-update.eml"
MIGRATION_MAIL = "file-server-migration.eml"
CHECKLIST = "cutover-checklist.txt"  # attached to MIGRATION_MAIL
PRICING = "pricing.py"
SCHEMA = "inventory_schema.sql"
ONBOARDING = "onboarding-checklist.txt"
SALARY = "restricted/salary-bands.csv"
POSTMORTEM = "restricted/postmortem.md"
# The sites table's file depends on its layout (sites_file).
SITE_LAYOUTS = ("html-table", "markdown-table", "html-list", "text-blocks", "docx-table")


def sites_file(org: Organisation) -> str:
    layout = _layout(org)
    return {"html-table": "sites.html", "markdown-table": "sites.md", "html-list": "sites.html",
            "text-blocks": "sites.txt", "docx-table": "sites.docx"}[layout]  # fmt: skip


def checklist_source() -> str:
    """The attachment's source name as the pipeline stores it (``mail#name``)."""
    return f"{MIGRATION_MAIL}#{CHECKLIST}"


def _layout(org: Organisation) -> str:
    return random.Random(org.seed * 31 + 7).choice(SITE_LAYOUTS)


# -- the files ----------------------------------------------------------------------------


def share_files(org: Organisation) -> dict[str, bytes]:
    """The share, as file name -> bytes."""
    rng = random.Random(org.seed * 7919 + 1)  # phrasing, apart from the facts
    files = {
        HANDBOOK: _handbook(org, rng),
        REMOTE_MEMO: _remote_memo(org),
        HELPDESK: _helpdesk(org, rng),
        BULLETIN: _bulletin(org, rng),
        DIRECTORY: _csv(["name", "job title", "site", "extension"],
                        [[p.name, p.title, p.site, p.extension] for p in org.people]),
        CUSTOMERS: _csv(["customer", "tier", "account manager"],
                        [[c.name, c.tier, c.manager] for c in org.customers]),
        GLOSSARY: _glossary(org, rng),
        TRAVEL: _travel(org, rng),
        FIRE_SCAN: _fire_notice(org),
        QUALITY: _quality(org, rng),
        ALLHANDS: _allhands(org),
        CATALOGUE: _catalogue(org),
        MEAL_MAIL: _meal_mail(org),
        MIGRATION_MAIL: _migration_mail(org),
        PRICING: _pricing(org),
        SCHEMA: _schema(org),
        ONBOARDING: _onboarding(org, rng),
        sites_file(org): _sites(org),
        SALARY: _salary(org),
        POSTMORTEM: _postmortem(org),
    }  # fmt: skip
    return files


def _text(lines: Sequence[str]) -> bytes:
    return ("\n".join(lines).rstrip() + "\n").encode()


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    def cell(v: str) -> str:
        return f'"{v}"' if "," in v else v

    return _text([",".join(header)] + [",".join(cell(str(v)) for v in r) for r in rows])


def _page(org: Organisation, title: str, body: str) -> bytes:
    """An intranet page: navigation, a cookie banner and a footer around the content."""
    name = html.escape(org.name)
    return _text([
        "<!DOCTYPE html>", f"<html><head><title>{html.escape(title)} - {name}</title></head><body>",
        "<nav><a href='/'>Home</a> | <a href='/people'>People</a> | <a href='/sites'>Sites</a>"
        " | <a href='/it'>IT</a> | <a href='/jobs'>Jobs</a></nav>",
        "<div class='cookies'>We use cookies to run this intranet. <button>Accept all</button>"
        "</div>",
        f"<main><h1>{html.escape(title)}</h1>", body, "</main>",
        f"<footer>&copy; 2026 {name}. Intranet team, ext. 1000. Privacy | Accessibility"
        "</footer>",
        "</body></html>",
    ])  # fmt: skip


def _handbook(org: Organisation, rng: random.Random) -> bytes:
    r = org.rules
    return _text([
        f"# {org.name}: employee handbook", "",
        "This handbook applies to all employees. Contractors follow their agency's terms "
        "except where a section says otherwise.", "",
        "## 1. Working hours", "",
        f"Core hours are 10:00 to 15:00. The plant runs two shifts, starting at "
        f"{org.sites[0].opens} and 14:00. Overtime needs a manager's approval in advance.", "",
        "## 2. Annual leave", "",
        pick(rng, "leave", d=r.annual_leave_days) + " " + pick(rng, "long_service",
                                                               d=r.long_service_days),
        "", pick(rng, "carry", d=r.carry_over_days)
        + " Requests for more than ten consecutive days need two weeks' notice.", "",
        "## 3. Sickness", "",
        pick(rng, "sick", t=r.sickness_call_by)
        + f" Contractors report sickness to their agency by {r.contractor_call_by} instead.",
        "A fit note is needed from the eighth calendar day of absence.", "",
        "## 4. Remote working", "",
        pick(rng, "remote_old", d=r.remote_days_old)
        + " Plant and warehouse roles are on site every day.", "",
        "## 5. Gifts and hospitality", "",
        pick(rng, "gifts", v=r.gift_threshold)
        + " Cash gifts are never accepted, whatever their value.", "",
        "## 6. Benefits", "",
        "The company matches pension contributions up to 6 per cent of salary. Eye tests "
        "for screen users are paid for once every two years.",
    ])  # fmt: skip


def _remote_memo(org: Organisation) -> bytes:
    r = org.rules
    return _text([
        f"# Memo: remote working from 1 {org.rules.migration_month}", "",
        "From: People team", "", f"To: all {org.name} staff", "",
        f"This memo supersedes section 4 of the employee handbook. Office-based staff may "
        f"now work remotely for up to {r.remote_days} days a week (previously "
        f"{r.remote_days_old}). Plant and warehouse roles are unchanged.", "",
        "Book your remote days in the planner by Friday of the week before.",
    ])  # fmt: skip


def _helpdesk(org: Organisation, rng: random.Random) -> bytes:
    r = org.rules
    # The IT lead's own extension sits beside the helpdesk's: a near-duplicate.
    lead = next((p for p in org.people if p.title == "IT Analyst"), org.people[3])
    body = "\n".join([
        "<h2>Contact</h2>",
        f"<p>The IT helpdesk is on extension {r.helpdesk_extension}, weekdays 08:00-18:00. "
        f"For escalations, the IT lead {html.escape(lead.name)} is on extension "
        f"{lead.extension}.</p>",
        "<h2>Passwords and screen lock</h2>",
        "<p>Passwords have at least 14 characters and are changed only when compromised. "
        + pick(rng, "lock", m=r.screen_lock_old) + "</p>",
        "<h2>Wi-Fi</h2>",
        f"<p>Staff devices join the <b>{r.wifi_network}</b> network. Visitors use "
        f"{org.short.upper()}-GUEST, which has no access to internal systems.</p>",
        "<h2>Printing</h2><p>Print jobs are held until you tap your badge at a printer.</p>",
    ])  # fmt: skip
    return _page(org, "IT helpdesk", body)


def _bulletin(org: Organisation, rng: random.Random) -> bytes:
    r = org.rules
    return _text([
        f"SECURITY BULLETIN {org.short.upper()}-SB-{org.seed % 97 + 1:02d}",
        "Issued by: Information Security", "",
        "Change to the screen lock rule",
        f"This bulletin supersedes the screen lock rule on the IT helpdesk page "
        f"({r.screen_lock_old} minutes). With immediate effect, "
        + pick(rng, "lock", m=r.screen_lock).lower(),
        "",
        "Phishing reports go to the report button in your mail client.",
    ])  # fmt: skip


def _glossary(org: Organisation, rng: random.Random) -> bytes:
    r = org.rules
    return _text([
        f"{org.name} glossary of house terms", "",
        "Dozen: " + pick(rng, "dozen", c=org.short, n=r.dozen),
        "Gross: " + pick(rng, "gross", n=r.gross),
        "Golden unit: the reference unit every batch is compared with.",
        "Red tag: a part held for inspection; it may not be used.",
        "Blue tag: a part released after inspection.",
        "Line A / Line B: the two assembly lines of the plant.",
    ])  # fmt: skip


def _travel(org: Organisation, rng: random.Random) -> bytes:
    r = org.rules
    return formats.pdf_text(
        [
            [
                f"{org.name} - travel and expenses policy 2025",
                "",
                "1. Approval: trips over one night need your manager's approval in advance.",
                "2. Rail: standard class, except journeys over three hours.",
                "3. " + pick(rng, "hotel", v=r.hotel_cap),
                "   In London the cap is £" + str(r.hotel_cap + 60) + " per night.",
                "4. " + pick(rng, "mileage", p=r.mileage_pence),
            ],
            [
                "5. Meal allowances (per day away):",
                f"   Domestic travel: £{r.meal_old} per day.",
                f"   International travel: £{r.meal_international} per day.",
                "6. Receipts: keep every receipt over £10 for seven years.",
            ],
        ],
        title=f"{org.name} travel policy 2025",
    )


def _fire_notice(org: Organisation) -> bytes:
    r = org.rules
    return formats.pdf_scanned([
        [f"{org.name.upper()}", "FIRE AND EVACUATION NOTICE", "",
         "On hearing the alarm, leave by the nearest exit.", "Do not use the lifts.",
         f"Fire assembly point: {r.assembly_point.title()}.",
         f"Fire wardens meet at gate {r.warden_gate}.",
         "Do not return until a warden says so."],
    ])  # fmt: skip


def _quality(org: Organisation, rng: random.Random) -> bytes:
    r = org.rules
    classes = [["Instrument class", "Used for", "Calibration interval"]]
    uses = ("reference measurements", "production tests", "incoming inspection", "field checks")
    for cls, use, months in zip(INSTRUMENT_CLASSES, uses, r.calibration_months, strict=True):
        classes.append([f"Class {cls}", use, f"{months} months"])
    return formats.docx([
        ("h1", f"{org.name} quality manual QM-07"),
        ("p", "This manual sets the calibration rules for every measuring instrument."),
        ("h2", "Instrument classes"),
        ("table", classes),
        ("h2", "Records"),
        ("p", pick(rng, "retention", y=r.retention_years)
         + " Non-conformance reports are kept for five years."),
        ("h2", "Non-conformance"),
        ("p", "An instrument found out of tolerance is red-tagged and every measurement since "
              "its last calibration is reviewed."),
    ])  # fmt: skip


def _allhands(org: Organisation) -> bytes:
    r = org.rules
    canteen_site = org.sites[-1].name
    return formats.pptx([
        (f"{org.name} all-hands", ["Quarterly update", "People team and directors"], ""),
        ("Last year in numbers", [f"Revenue: £{r.revenue_m} million",
                                  f"Orders shipped: {r.orders_shipped:,}"],
         "Revenue is unaudited until the annual report."),
        ("Priorities this year", ["Shorter lead times", "A new warehouse system"],
         f"Not on the slide yet: the new canteen at the {canteen_site} site opens in "
         f"{r.canteen_month}."),
        ("People news", [f"Remote working goes up to {r.remote_days} days a week",
                         "Welcome to our new starters"], ""),
    ])  # fmt: skip


def _catalogue(org: Organisation) -> bytes:
    products = [["Code", "Product", "List price (GBP)", "Weight (g)", "Assembled at",
                 "Supplier"]]  # fmt: skip
    products += [[p.code, p.name, p.price, p.weight_g, p.site, p.supplier] for p in org.products]
    suppliers = [["Supplier code", "Supplier", "Lead time (days)"]]
    suppliers += [[s.code, s.name, s.lead_days] for s in org.suppliers]
    notes = [["Note"], ["Prices exclude VAT."], ["Lead times are working days."]]
    return formats.xlsx({"Products": products, "Suppliers": suppliers, "Notes": notes})


def _meal_mail(org: Organisation) -> bytes:
    r = org.rules
    body = (
        "Dear colleagues,\n\n"
        f"With effect from 1 {r.migration_month}, the domestic meal allowance rises from "
        f"£{r.meal_old} to £{r.meal} per day. This supersedes the domestic meal allowance "
        "in section 5 of the travel and expenses policy 2025. The international allowance "
        "is unchanged.\n\nFinance team\n"
    )
    return formats.eml(
        f"finance@{org.domain}",
        f"all-staff@{org.domain}",
        "Meal allowance update",
        "Mon, 05 Jan 2026 09:00:00 +0000",
        body,
    )


def _migration_mail(org: Organisation) -> bytes:
    r = org.rules
    body = (
        "Hello all,\n\n"
        f"The shared drive moves to {r.new_share} on {r.migration_day} {r.migration_month}. "
        "Mapped drives are updated automatically at your next sign-in. The attached "
        "checklist has the cut-over times.\n\nIT team\n"
    )
    checklist = _text([
        "Cut-over checklist", "",
        f"- The old share becomes read-only from {r.readonly_from} the day before.",
        "- Copy jobs run overnight.",
        f"- Check your files on {r.new_share} the next morning.",
    ])  # fmt: skip
    return formats.eml(f"it@{org.domain}", f"all-staff@{org.domain}",
                       "File server migration", "Tue, 06 Jan 2026 10:30:00 +0000", body,
                       [(CHECKLIST, "text/plain", checklist)])  # fmt: skip


def _pricing(org: Organisation) -> bytes:
    r = org.rules
    tiers = ",\n".join(f'    "{t}": {d}' for t, d in zip(TIERS, r.discounts, strict=True))
    return _text([
        f'"""Quote pricing for {org.name}: discounts by customer tier, shipping, validity."""',
        "",
        "# Discount in per cent by customer tier.",
        "TIER_DISCOUNT = {", tiers, "}", "",
        "# Orders at or above this value (GBP, before VAT) ship free.",
        f"FREE_SHIPPING_THRESHOLD = {r.free_shipping}", "",
        f"QUOTE_VALID_DAYS = {r.quote_days}  # a quote expires {r.quote_days} days after issue",
        "", "",
        "def quote(list_price: float, tier: str) -> float:",
        '    """The quoted price after the tier discount."""',
        "    return round(list_price * (100 - TIER_DISCOUNT[tier]) / 100, 2)",
    ])  # fmt: skip


def _schema(org: Organisation) -> bytes:
    r = org.rules
    return _text([
        f"-- {org.name} inventory schema (PostgreSQL)",
        "CREATE TABLE item (",
        "    code text PRIMARY KEY,",
        "    name text NOT NULL,",
        f"    reorder_level integer NOT NULL DEFAULT {r.reorder_level},",
        "    unit text NOT NULL DEFAULT 'each'",
        ");",
        "",
        "CREATE TABLE consignment (",
        f"    -- consignment numbers start with the prefix '{r.consignment_prefix}'",
        f"    number text PRIMARY KEY CHECK (number LIKE '{r.consignment_prefix}%'),",
        "    shipped_on date,",
        "    pallets integer CHECK (pallets > 0)",
        ");",
    ])  # fmt: skip


def _onboarding(org: Organisation, rng: random.Random) -> bytes:
    r = org.rules
    return _text([
        "New starter checklist (plant)", "",
        "[ ] Collect your badge from reception on day one.",
        "[ ] Safety induction with the Safety Officer.",
        "[ ] Test-rig wiring: " + pick(rng, "earth", c=r.earth_colour)
        + " Neutral is black, live is brown.",
        "[ ] Learn the fire assembly point and the warden gate (see the fire notice).",
        "[ ] Set up your workstation password.",
    ])  # fmt: skip


def _sites(org: Organisation) -> bytes:
    layout = _layout(org)
    head = ["Site", "Postcode", "Opens", "Dock doors", "Site manager"]
    rows = [[s.name, s.postcode, s.opens, str(s.dock_doors), s.manager] for s in org.sites]
    if layout == "html-table":
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        header = "".join(f"<th>{h}</th>" for h in head)
        return _page(org, "Our sites", f"<table><tr>{header}</tr>{cells}</table>")
    if layout == "html-list":
        items = "".join(
            f"<h2>{html.escape(s.name)}</h2><ul><li>Postcode: {s.postcode}</li>"
            f"<li>Opens at {s.opens} on weekdays</li><li>{s.dock_doors} dock doors</li>"
            f"<li>Site manager: {html.escape(s.manager)}</li></ul>"
            for s in org.sites
        )
        return _page(org, "Our sites", items)
    if layout == "markdown-table":
        lines = [f"# {org.name} sites", "", "| " + " | ".join(head) + " |",
                 "|" + "---|" * len(head)]  # fmt: skip
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        return _text(lines)
    if layout == "text-blocks":
        lines = [f"{org.name} - our sites", ""]
        for s in org.sites:
            lines += [f"{s.name} site", f"  postcode: {s.postcode}", f"  opens: {s.opens}",
                      f"  dock doors: {s.dock_doors}", f"  manager: {s.manager}", ""]  # fmt: skip
        return _text(lines)
    return formats.docx([("h1", f"{org.name} sites"), ("table", [head, *rows])])


def _salary(org: Organisation) -> bytes:
    r = org.rules
    rng = random.Random(org.seed * 13 + 5)
    bands = sorted({r.salary_band, *(f"{c}{rng.randint(1, 9)}" for c in "TKR" for _ in (0, 1))})
    rows = []
    for band in bands:
        top = r.salary_max if band == r.salary_band else rng.randint(30, 120) * 1000
        rows.append([band, str(top - rng.randint(8, 20) * 1000), str(top)])
    return _csv(["pay band", "minimum salary (GBP)", "maximum salary (GBP)"], rows)


def _postmortem(org: Organisation) -> bytes:
    r = org.rules
    return _text([
        f"# Post-mortem {r.incident} (confidential)", "",
        "## Summary", "",
        "A firmware build shipped to customers without its calibration check.", "",
        "## Root cause", "",
        f"The release pipeline ran with the flag `{r.incident_flag}` left on from a test "
        "run, so the verification stage was skipped.", "",
        "## Actions", "", "- The flag is refused outside test pipelines.",
    ])  # fmt: skip
