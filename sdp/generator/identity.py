"""People as operators' systems hold them: names, contact data, addresses, phone numbers.

The network knows a line by its E.164 number; people typed everything else, twice: once into
CRM, once into billing, each with its own habits (case, spacing, dropped accents, abbreviations,
phone formats). That variation is what record linkage has to see through, so it is generated
here on purpose, always from a stream per entity so that a record renders the same way each time.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from sdp.generator.randomness import stream
from sdp.generator.topology import Region

FIRST_NAMES = (
    "Oliver", "George", "Harry", "Jack", "Noah", "Mohammed", "Thomas", "James", "William", "Leo",
    "Amelia", "Olivia", "Isla", "Emily", "Ava", "Sophie", "Grace", "Mia", "Poppy", "Ella",
    "Zoë", "Chloé", "Renée", "José", "Siobhán", "Eóin", "Aoife", "Niamh", "Seán", "Björn",
    "François", "Łukasz", "Agnieszka", "Małgorzata", "Zoltán", "Inês", "João", "Aïsha", "Priya",
    "Arjun", "Fatima", "Yusuf", "Ahmed", "Hannah", "Rhys", "Ffion", "Dylan", "Callum", "Eilidh",
    "Ruairí", "Saoirse", "Jürgen", "Anaïs", "Hélène", "Raúl", "Lucía", "Chiara", "Matteo",
    "Wei", "Mei", "Kwame", "Adaeze", "Chidi", "Tomás", "Ciarán", "Róisín", "Kateřina", "Søren",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
    "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
    "Jackson", "Clarke", "Patel", "Khan", "Ahmed", "Singh", "Begum", "O'Brien", "O'Connor",
    "McDonald", "MacLeod", "Ó Súilleabháin", "Nowak", "Kowalski", "Wiśniewski", "Müller",
    "Schäfer", "García", "Fernández", "Da Silva", "Gonçalves", "Brontë", "Lefèvre", "Dubois",
    "Novák", "Dvořák", "Nguyen", "Chen", "Okafor", "Mensah", "Van der Berg", "De Luca", "Rossi",
    "Øverby", "Llewellyn", "Pritchard", "Fraser", "Campbell", "Stewart", "Hughes", "Edwards",
)  # fmt: skip
STREETS = (
    "High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road",
    "Park Avenue", "Queen's Road", "Mill Lane", "King Street", "The Crescent", "Albert Road",
    "Oxford Road", "New Street", "School Lane", "Grange Road", "Kingsway", "Chapel Street",
    "North Road", "Orchard Close", "Windsor Avenue", "Stanley Road", "York Road", "Elm Grove",
)  # fmt: skip
ABBREVIATIONS = (
    ("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Lane", "Ln"), ("Close", "Cl"),
    ("Crescent", "Cres"), ("Grove", "Gr"),
)  # fmt: skip
EMAIL_DOMAINS = (
    "gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "icloud.com",
    "sky.com", "live.co.uk",
)  # fmt: skip
COMPANY_DOMAINS = (
    "northwind-logistics.co.uk", "brightwater.co.uk", "hallmark-legal.com", "pennine-build.co.uk",
    "clydeside-eng.co.uk", "severn-foods.com", "albion-consulting.co.uk", "redkite-media.com",
)  # fmt: skip
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# UK mobile numbers as people write them; {a} is the 4-digit prefix after 7, {b} the 6 digits
MSISDN_FORMATS = (
    (30, "0{a} {b}"),
    (22, "0{a}{b}"),
    (12, "+44 {a} {b}"),
    (8, "44{a}{b}"),
    (8, "0{a} {b3} {b4}"),
    (6, "(0){a}-{b3}-{b4}"),
    (6, "+44 (0){a} {b}"),
    (4, "0044 {a} {b}"),
    (4, "+44{a}{b}"),
)
_FORMAT_TOTAL = sum(w for w, _ in MSISDN_FORMATS)


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    birth: date | None
    email: str
    house: int
    flat: int | None
    street: str
    city: str
    postcode: str


def fold(text: str) -> str:
    """Accents dropped, as systems without Unicode support (and people in a hurry) type names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return (
        "".join(c for c in decomposed if not unicodedata.combining(c))
        .replace("Ł", "L")
        .replace("ł", "l")
        .replace("Ø", "O")
        .replace("ø", "o")
    )


def _email_local(rng: random.Random, first: str, last: str) -> str:
    f = "".join(c for c in fold(first).lower() if c.isalnum())
    last_part = "".join(c for c in fold(last).lower() if c.isalnum())
    style = rng.randrange(5)
    if style == 0:
        return f"{f}.{last_part}"
    if style == 1:
        return f"{f}{last_part}{rng.randrange(1, 99)}"
    if style == 2:
        return f"{f[0]}{last_part}"
    if style == 3:
        return f"{last_part}.{f}"
    return f"{f}_{last_part}{rng.randrange(60, 99)}"


def postcode(rng: random.Random, area: str) -> str:
    district = rng.randrange(1, 30)
    inward = f"{rng.randrange(10)}{rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
    return f"{area}{district} {inward}"


def address(rng: random.Random, region: Region) -> tuple[int, int | None, str, str, str]:
    city, areas = rng.choice(region.cities)
    flat = rng.randrange(1, 40) if rng.random() < 0.2 else None
    return rng.randrange(1, 240), flat, rng.choice(STREETS), city, postcode(rng, rng.choice(areas))


def person(seed: int, customer: int, region: Region, business: bool) -> Person:
    rng = stream(seed, "person", customer)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    birth = (
        None if rng.random() < 0.03 else date(1945, 1, 1) + timedelta(days=rng.randrange(22_600))
    )
    domain = rng.choice(COMPANY_DOMAINS if business else EMAIL_DOMAINS)
    house, flat, street, city, code = address(rng, region)
    return Person(
        first,
        last,
        birth,
        f"{_email_local(rng, first, last)}@{domain}",
        house,
        flat,
        street,
        city,
        code,
    )


def moved(seed: int, customer: int, region: Region, before: Person) -> Person:
    """The same person at a new address (a CRM update)."""
    house, flat, street, city, code = address(stream(seed, "move", customer), region)
    return Person(
        before.first, before.last, before.birth, before.email, house, flat, street, city, code
    )


def new_email(seed: int, customer: int, before: Person) -> Person:
    rng = stream(seed, "email", customer)
    email = f"{_email_local(rng, before.first, before.last)}@{rng.choice(EMAIL_DOMAINS)}"
    return Person(
        before.first,
        before.last,
        before.birth,
        email,
        before.house,
        before.flat,
        before.street,
        before.city,
        before.postcode,
    )


def address_line(p: Person) -> str:
    line = f"{p.house} {p.street}"
    return f"Flat {p.flat}, {line}" if p.flat else line


def e164(nsn: int) -> str:
    """The network's form: +44 and the national significant number."""
    return f"+44{nsn}"


def msisdn_style(rng: random.Random) -> str:
    """One of the formats people type UK mobile numbers in, by how often they do."""
    draw = rng.randrange(_FORMAT_TOTAL)
    for weight, pattern in MSISDN_FORMATS:
        if draw < weight:
            return pattern
        draw -= weight
    raise AssertionError("unreachable: the draw is below the total weight")


def styled_msisdn(style: str, nsn: int) -> str:
    digits = str(nsn)
    a, b = digits[:4], digits[4:]
    return style.format(a=a, b=b, b3=b[:3], b4=b[3:])


def human_msisdn(rng: random.Random, nsn: int) -> str:
    return styled_msisdn(msisdn_style(rng), nsn)


def crm_name(rng: random.Random, name: str) -> str:
    """A name as a CRM agent typed it: mostly right, sometimes in capitals, lower case, with
    stray spaces or without its accents."""
    roll = rng.random()
    if roll < 0.88:
        return name
    if roll < 0.91:
        return name.upper()
    if roll < 0.94:
        return name.lower()
    if roll < 0.97:
        return f" {name}  "
    return fold(name)


def billing_holder(rng: random.Random, first: str, last: str) -> str:
    """ "First Last" as billing typed it: capitals, initials, dropped accents, titles."""
    roll = rng.random()
    if roll < 0.55:
        return f"{first} {last}"
    if roll < 0.65:
        return f"{first} {last}".upper()
    if roll < 0.75:
        return f"{first[0]}. {last}"
    if roll < 0.85:
        return fold(f"{first} {last}")
    if roll < 0.92:
        return f"{rng.choice(('Mr', 'Mrs', 'Ms', 'Dr'))} {first} {last}"
    return f"{first}  {last.upper()}"


def billing_email(rng: random.Random, email: str) -> str:
    roll = rng.random()
    if roll < 0.75:
        return email
    if roll < 0.9:
        local, domain = email.split("@")
        return f"{local.capitalize()}@{domain.capitalize()}"
    return email.upper()


def billing_address(rng: random.Random, p: Person) -> tuple[str, str, str]:
    """Address line, city and postcode as billing holds them (abbreviated, recased, respaced)."""
    line = address_line(p)
    if rng.random() < 0.5:
        for long, short in ABBREVIATIONS:
            line = line.replace(long, short)
    if rng.random() < 0.15:
        line = line.upper()
    city = p.city.upper() if rng.random() < 0.3 else p.city
    roll = rng.random()
    code = (
        p.postcode.replace(" ", "")
        if roll < 0.3
        else p.postcode.lower()
        if roll < 0.4
        else p.postcode
    )
    return line, city, code


def typo(rng: random.Random, text: str) -> str:
    """One slip of the fingers: a swapped, dropped or doubled letter, or a lost accent; never
    a slip that leaves the text as it was (swapping "ss" changes nothing)."""
    if len(text) < 3:
        return text + text[-1]
    while True:
        at = rng.randrange(1, len(text) - 1)
        kind = rng.randrange(4)
        if kind == 0:
            slipped = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
        elif kind == 1:
            slipped = text[:at] + text[at + 1 :]
        elif kind == 2:
            slipped = text[:at] + text[at] + text[at:]
        else:
            slipped = fold(text)
        if slipped != text:
            return slipped


def invalid_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@")
    broken = (
        f"{local}@",
        f"{local}@{domain.split('.')[0]}",
        f"{local} @{domain}",
        f"{local}@@{domain}",
        f"{local}.{domain}",
        f"@{domain}",
        "n/a",
        f"{local}@{domain.replace('.', '..', 1)}",
    )
    return broken[rng.randrange(len(broken))]


def malformed_phone(rng: random.Random, nsn: int) -> str:
    digits = str(nsn)
    broken = (
        f"0{digits[:4]} {digits[4:8]}",  # digits missing
        f"+44 {digits[:2]}OO {digits[4:]}",  # letter O for zero
        f"0{digits}{rng.randrange(10, 99)}",  # too long
        "n/a",
        f"{digits[:4]}-{digits[4:7]}",
        f"+44 {digits[:4]} {digits[4:]} ext",
        "00000000000",
    )
    return broken[rng.randrange(len(broken))]
