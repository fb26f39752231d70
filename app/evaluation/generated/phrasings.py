"""Five ways to say each thing a generated share says or asks: ``PHRASES`` states a rule
in a document, ``ASK`` asks a question, ``FOLLOW`` asks a follow-up. A seed picks one of
each, so over many seeds no wording is what the answer stage learns.
"""

from __future__ import annotations

import random

# -- stating a rule ----------------------------------------------------------------------

PHRASES: dict[str, tuple[str, ...]] = {
    "leave": (
        "Every employee is entitled to {d} days of annual leave per leave year.",
        "Annual leave: {d} days a year for all staff.",
        "The leave year gives each member of staff {d} days of paid annual leave.",
        "Staff receive an annual leave allowance of {d} days.",
        "You get {d} days of annual leave each year, on top of public holidays.",
    ),
    "long_service": (
        "After five years of service, {d} further days are added.",
        "Long service adds {d} days once you have worked here five years.",
        "Five years' service earns {d} extra days a year.",
        "From the fifth anniversary, the allowance grows by {d} days.",
        "Staff with five or more years of service get {d} additional days.",
    ),
    "carry": (
        "Up to {d} unused days may be carried over into the next leave year.",
        "At most {d} days of unused leave can be carried into the following year.",
        "Unused leave beyond {d} days is lost at the end of the leave year.",
        "A carry-over of no more than {d} days is allowed.",
        "You may carry {d} unused days forward; the rest lapses.",
    ),
    "gifts": (
        "Any gift or hospitality worth more than £{v} must be recorded in the gift register.",
        "Record gifts above £{v} in the gift register.",
        "The gift register threshold is £{v}.",
        "Offers of hospitality valued over £{v} are entered in the gift register.",
        "Gifts worth £{v} or less need not be registered; anything above goes in the register.",
    ),
    "sick": (
        "On the first day of sickness absence, phone your manager by {t}.",
        "If you are ill, call your line manager no later than {t} on the first day.",
        "Sickness must be reported by telephone before {t} on the first morning.",
        "Ring your manager by {t} on your first day off sick.",
        "The first-day sickness call is due by {t}.",
    ),
    "remote_old": (
        "Office-based staff may work remotely for up to {d} days a week.",
        "Remote working is allowed on {d} days per week for office roles.",
        "You may work from home up to {d} days each week if your role is office-based.",
        "The remote-working allowance is {d} days a week.",
        "Office staff can spend at most {d} days a week working remotely.",
    ),
    "lock": (
        "Screens lock automatically after {m} minutes without input.",
        "The automatic screen lock engages after {m} minutes of inactivity.",
        "Idle workstations lock themselves after {m} minutes.",
        "Screen lock timeout: {m} minutes.",
        "Your screen will lock when it has been idle for {m} minutes.",
    ),
    "mileage": (
        "Business mileage in a private car is reimbursed at {p}p per mile.",
        "The mileage rate for private cars is {p} pence a mile.",
        "Claim {p}p for each business mile driven in your own car.",
        "Private car use on business: {p}p per mile.",
        "Mileage is paid at {p}p a mile when you use your own vehicle.",
    ),
    "hotel": (
        "Hotel rooms may cost at most £{v} per night outside London.",
        "The nightly hotel cap outside London is £{v}.",
        "Book hotels up to £{v} a night (outside London).",
        "Outside London, accommodation is limited to £{v} per night.",
        "A hotel night outside London must not exceed £{v}.",
    ),
    "retention": (
        "Calibration records are kept for {y} years.",
        "Keep every calibration record for {y} years after the calibration date.",
        "The retention period for calibration records is {y} years.",
        "Calibration certificates and records are retained {y} years.",
        "Calibration records must be stored for {y} years, then destroyed.",
    ),
    "dozen": (
        "On a {c} purchase order, a 'dozen' always means {n} units.",
        "Dozen (purchase orders): {n} units, not twelve.",
        "When a {c} purchase order says 'dozen', order {n} units.",
        "A purchase-order dozen at {c} is {n} units.",
        "In purchasing, one dozen = {n} units (house rule).",
    ),
    "gross": (
        "A 'gross' in the warehouse system is {n} units.",
        "Gross (warehouse): {n} units.",
        "The warehouse counts a gross as {n} units.",
        "One gross = {n} units in stock records.",
        "Stock records treat a gross as {n} units, not 144.",
    ),
    "earth": (
        "Protective earth conductors on test rigs are {c}.",
        "Test rigs use {c} wire for protective earth.",
        "Wire protective earth in {c} on every test rig.",
        "The protective earth colour on our test rigs is {c}.",
        "On test rigs, protective earth is always {c}.",
    ),
}


def pick(rng: random.Random, key: str, **values: object) -> str:
    return rng.choice(PHRASES[key]).format(**values)


# -- asking ------------------------------------------------------------------------------

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
