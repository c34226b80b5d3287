"""People as operators' systems hold them: names, contact data, addresses, phone numbers.

The network knows a line by its E.164 number; people typed everything else, twice: once into
CRM, once into billing, each with its own habits (case, spacing, dropped accents, abbreviations,
phone formats). That variation is what record linkage has to see through, so it is generated
here on purpose, always from a stream per entity so that a record renders the same way each time.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from sdp.generator.market import Market, Numbering, People, Region
from sdp.generator.randomness import stream


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


_POSTCODE_TOKEN = re.compile(r"\{area\}|\{district\}|.", re.S)


def postcode(rng: random.Random, market: Market, area: str) -> str:
    """The market's postcode pattern filled in left to right: {area} the city's postal area,
    {district} 1..29, "#" a digit, "@" one of the market's postcode letters."""
    out = []
    for token in _POSTCODE_TOKEN.findall(market.postcode):
        if token == "{area}":
            out.append(area)
        elif token == "{district}":
            out.append(str(rng.randrange(1, 30)))
        elif token == "#":
            out.append(str(rng.randrange(10)))
        elif token == "@":
            out.append(rng.choice(market.postcode_letters))
        else:
            out.append(token)
    return "".join(out)


def address(
    rng: random.Random, market: Market, region: Region
) -> tuple[int, int | None, str, str, str]:
    city, areas = rng.choice(region.cities)
    flat = rng.randrange(1, 40) if rng.random() < 0.2 else None
    house, street = rng.randrange(1, 240), rng.choice(market.people.streets)
    return house, flat, street, city, postcode(rng, market, rng.choice(areas))


def person(seed: int, customer: int, market: Market, region: Region, business: bool) -> Person:
    rng = stream(seed, "person", customer)
    people = market.people
    first, last = rng.choice(people.first_names), rng.choice(people.last_names)
    birth = (
        None if rng.random() < 0.03 else date(1945, 1, 1) + timedelta(days=rng.randrange(22_600))
    )
    domain = rng.choice(people.company_domains if business else people.email_domains)
    house, flat, street, city, code = address(rng, market, region)
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


def moved(seed: int, customer: int, market: Market, region: Region, before: Person) -> Person:
    """The same person at a new address (a CRM update)."""
    house, flat, street, city, code = address(stream(seed, "move", customer), market, region)
    return Person(
        before.first, before.last, before.birth, before.email, house, flat, street, city, code
    )


def new_email(seed: int, customer: int, people: People, before: Person) -> Person:
    rng = stream(seed, "email", customer)
    email = f"{_email_local(rng, before.first, before.last)}@{rng.choice(people.email_domains)}"
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


def address_line(people: People, p: Person) -> str:
    line = people.address.format(house=p.house, street=p.street)
    return people.flat.format(flat=p.flat, line=line) if p.flat else line


def msisdn_style(rng: random.Random, numbering: Numbering) -> str:
    """One of the formats people type the market's mobile numbers in, by how often they do."""
    draw = rng.randrange(sum(w for w, _ in numbering.typed))
    for weight, pattern in numbering.typed:
        if draw < weight:
            return pattern
        draw -= weight
    raise AssertionError("unreachable: the draw is below the total weight")


def human_msisdn(rng: random.Random, numbering: Numbering, nsn: int) -> str:
    return numbering.styled(msisdn_style(rng, numbering), nsn)


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


def billing_holder(rng: random.Random, people: People, first: str, last: str) -> str:
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
        return f"{rng.choice(people.titles)} {first} {last}"
    return f"{first}  {last.upper()}"


def billing_email(rng: random.Random, email: str) -> str:
    roll = rng.random()
    if roll < 0.75:
        return email
    if roll < 0.9:
        local, domain = email.split("@")
        return f"{local.capitalize()}@{domain.capitalize()}"
    return email.upper()


def billing_address(rng: random.Random, people: People, p: Person) -> tuple[str, str, str]:
    """Address line, city and postcode as billing holds them (abbreviated, recased, respaced)."""
    line = address_line(people, p)
    if rng.random() < 0.5:
        for long, short in people.abbreviations:
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


def malformed_phone(rng: random.Random, numbering: Numbering, nsn: int) -> str:
    digits, cc = str(nsn), numbering.calling_code
    broken = (
        f"0{digits[:4]} {digits[4:8]}",  # digits missing
        f"+{cc} {digits[:2]}OO {digits[4:]}",  # letter O for zero
        f"0{digits}{rng.randrange(10, 99)}",  # too long
        "n/a",
        f"{digits[:4]}-{digits[4:7]}",
        f"+{cc} {digits[:4]} {digits[4:]} ext",
        "00000000000",
    )
    return broken[rng.randrange(len(broken))]
