"""Labelled training pairs, so that Zingg trains without anybody at a keyboard.

A model learns what its samples show. Samples taken from one generated world taught the models
that duplicates always agree on email, phone, the first letters of both names and the address,
and Zingg's learnt blocking then split on exactly those keys: on files where duplicates differ
there, a third of the true pairs were never compared. The shipped samples
(`zingg_configs/training/{match,link}.csv`) are therefore made from a recipe
(`zingg_configs/training/recipe.yaml`): people from Faker's locales, each true pair a person
typed twice with the errors customer files have, each false pair two people who look alike.
Reviewed pairs (`reconciliation.match_reviews`) are written in the same shape and added at the
next training. Zingg reads two rows per pair sharing a `z_cluster`, with `z_isMatch` 1 or 0.

The second record of a false pair is typed with as many errors as a true pair's: errors befall
every record, and when only true pairs had them a missing field was learnt as a sign of a
duplicate (FEBRL1: strangers joined through an empty birth date and town).

Namesakes (`namesakes`) are added at each training too, derived from the shipped true pairs:
two people who bear the same name and share nothing else are not one customer. Without them
the dedupe took namesakes for duplicates once its blocking passes began to compare them (10k
French customers: six false pairs, scored 0.51 to 0.60, against twenty true ones at 1.0).
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import phonenumbers
import yaml
from faker import Faker
from jellyfish import jaro_winkler_similarity

from sdp.zingg.configs import CONFIG_DIR
from sdp.zingg.passes import BLOCK_FIELD
from sdp.zingg.records import LINK_FIELDS, MATCH_FIELDS, billing_record, crm_record, fold

RECIPE = CONFIG_DIR / "training" / "recipe.yaml"
# the blocking passes' field in every labelled pair, the same on both sides
SAMPLE_BLOCK = "sample"
NEGATIVE_KINDS = ("same_name", "household", "twins", "similar_name", "neighbours", "random")
# error types that change the date of birth: billing holds none, so the link never draws them
DOB_ERRORS = (
    "dob_day_month_swapped",
    "dob_digit_typo",
    "dob_century",
    "dob_other",
    "dob_missing",
)
# error types the link never draws: billing holds no birth date, and a person who moved keeps
# only their email and phone there (half of what tells them apart: never an identifiable pair)
NOT_IN_LINK = (*DOB_ERRORS, "address_moved")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
BORN_FROM, BORN_DAYS = date(1930, 1, 1), 365 * 78


class RecipeError(ValueError):
    pass


@dataclass(frozen=True)
class Person:
    """A customer as somebody typed them, before the platform folds case and accents."""

    first: str
    last: str
    dob: date | None
    email: str
    phone: str
    house: str
    street: str
    city: str
    postcode: str
    locale: str

    @property
    def address(self) -> str:
        return " ".join(part for part in (self.house, self.street) if part)


@dataclass(frozen=True)
class Recipe:
    seed: int
    locales: tuple[str, ...]
    positives: int
    negatives: dict[str, int]
    contact_free: float
    errors_per_pair: dict[int, float]
    errors: dict[str, float]
    nicknames: dict[str, tuple[str, ...]]


def load_recipe(path: Path = RECIPE) -> Recipe:
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise RecipeError(f"{path}: {exc}") from exc
    try:
        recipe = Recipe(
            seed=int(raw["seed"]),
            locales=tuple(raw["locales"]),
            positives=int(raw["positives"]),
            negatives={k: int(v) for k, v in raw["negatives"].items()},
            contact_free=float(raw["contact_free"]),
            errors_per_pair={int(k): float(v) for k, v in raw["errors_per_pair"].items()},
            errors={k: float(v) for k, v in raw["errors"].items()},
            nicknames={k: tuple(v) for k, v in raw.get("nicknames", {}).items()},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RecipeError(f"{path}: {exc!r} (see the keys the shipped recipe has)") from exc
    unknown = sorted(set(recipe.errors) - set(ERRORS)) + sorted(
        set(recipe.negatives) - set(NEGATIVE_KINDS)
    )
    if unknown:
        raise RecipeError(f"{path}: unknown error types or negative kinds: {', '.join(unknown)}")
    return recipe


# ------------------------------------------------------------------------------------------------
# errors: each takes a person and returns them as typed the second time


def slip(rng: random.Random, text: str, at: int | None = None) -> str:
    """One slip of the fingers at position `at` (anywhere when None): a letter replaced,
    dropped, doubled or swapped with the next; never one that leaves the text as it was."""
    if not text:
        return text
    for _ in range(20):
        pos = rng.randrange(len(text)) if at is None else min(at, len(text) - 1)
        kind = rng.randrange(4)
        if kind == 0:
            out = text[:pos] + rng.choice(LETTERS) + text[pos + 1 :]
        elif kind == 1 and len(text) > 2:
            out = text[:pos] + text[pos + 1 :]
        elif kind == 2:
            out = text[:pos] + text[pos] + text[pos:]
        else:
            out = text[:pos] + text[pos + 1 : pos + 2] + text[pos] + text[pos + 2 :]
        if out != text:
            return out
    return text + rng.choice(LETTERS)


def _digit_slip(rng: random.Random, text: str) -> str:
    digits = [i for i, c in enumerate(text) if c.isdigit()]
    if not digits:
        return slip(rng, text)
    at = rng.choice(digits)
    return text[:at] + str((int(text[at]) + rng.randrange(1, 10)) % 10) + text[at + 1 :]


def _name_typo(rng: random.Random, p: Person, r: Recipe, at: int | None) -> Person:
    if rng.random() < 0.5:
        return replace(p, first=slip(rng, p.first, at))
    return replace(p, last=slip(rng, p.last, at))


def _nickname(rng: random.Random, p: Person, r: Recipe) -> Person:
    short = r.nicknames.get(fold(p.first))
    if short:
        return replace(p, first=rng.choice(short))
    return replace(p, first=p.first[: max(3, len(p.first) // 2)])  # a clipped form


def _other_first(p: Person, f: Faker) -> str:
    """Another given name of the same person: the middle name, or the name they go by."""
    for _ in range(10):
        other = f.first_name()
        if fold(other) != fold(p.first):
            return other
    return other


def _compound_surname(rng: random.Random, p: Person, f: Faker) -> Person:
    parts = p.last.replace("-", " ").split()
    if len(parts) > 1:
        return replace(p, last=rng.choice(parts))
    return replace(p, last=f"{p.last}{rng.choice([' ', '-'])}{f.last_name()}")


def _dob(p: Person, change: Callable[[date], date | None]) -> Person:
    if p.dob is None:
        return p
    try:
        return replace(p, dob=change(p.dob))
    except ValueError:  # no such day (31 June): typed as the first of the month
        return replace(p, dob=p.dob.replace(day=1))


def _dob_digit(rng: random.Random, d: date) -> date:
    text = d.strftime("%Y%m%d")
    for _ in range(20):
        slipped = _digit_slip(rng, text)
        try:
            return date(int(slipped[:4]), int(slipped[4:6]), int(slipped[6:]))
        except ValueError:
            continue
    return d + timedelta(days=1)


def _century(d: date) -> date:
    return d.replace(year=d.year + 100 if d.year < 1950 else d.year - 100)


def _split_or_join(rng: random.Random, text: str) -> str:
    """A space typed inside a word ("bor onia") or one left out between two ("delacruz")."""
    spaces = [i for i, c in enumerate(text) if c == " "]
    if spaces and rng.random() < 0.5:
        at = rng.choice(spaces)
        return text[:at] + text[at + 1 :]
    words = [i for i in range(1, len(text) - 1) if text[i - 1] != " " and text[i] != " "]
    if not words:
        return text
    at = rng.choice(words)
    return text[:at] + " " + text[at:]


def _word_split(rng: random.Random, p: Person) -> Person:
    field = rng.choice(["last", "street", "city"])
    return replace(p, **{field: _split_or_join(rng, getattr(p, field))})


def _address_drop_word(rng: random.Random, p: Person) -> Person:
    words = p.street.split()
    if len(words) < 2:
        return replace(p, house="")
    del words[rng.randrange(len(words))]
    return replace(p, street=" ".join(words))


def _address_reorder(rng: random.Random, p: Person) -> Person:
    """The address line's words in another order ("biggs place hallsville" for "hallsville
    biggs place"): a locality typed before the street, or the number after it."""
    words = p.address.split()
    if len(words) < 2:
        return p
    at = rng.randrange(1, len(words))
    return replace(p, house="", street=" ".join(words[at:] + words[:at]))


def _other_contact(rng: random.Random, p: Person, f: Faker, kind: str) -> Person:
    if kind == "email":
        return replace(p, email=_email(rng, f, p.first, p.last))
    return replace(p, phone=_phone(rng, p.locale))


def _moved(p: Person, f: Faker) -> Person:
    return replace(
        p,
        house=f.building_number(),
        street=f.street_name(),
        city=f.city(),
        postcode=f.postcode(),
    )


ErrorFn = Callable[[random.Random, Person, Recipe, Faker], Person]
ERRORS: dict[str, ErrorFn] = {
    "name_typo": lambda rng, p, r, f: _name_typo(rng, p, r, None),
    "name_typo_first_letter": lambda rng, p, r, f: _name_typo(rng, p, r, 0),
    "names_swapped": lambda rng, p, r, f: replace(p, first=p.last, last=p.first),
    "nickname": lambda rng, p, r, f: _nickname(rng, p, r),
    "first_name_other": lambda rng, p, r, f: replace(p, first=_other_first(p, f)),
    "first_initial": lambda rng, p, r, f: replace(p, first=p.first[:1]),
    "first_name_missing": lambda rng, p, r, f: replace(p, first=""),
    "last_name_missing": lambda rng, p, r, f: replace(p, last=""),
    "compound_surname": lambda rng, p, r, f: _compound_surname(rng, p, f),
    "dob_day_month_swapped": lambda rng, p, r, f: _dob(
        p, lambda d: d.replace(month=d.day, day=d.month) if d.day <= 12 else d.replace(day=d.month)
    ),
    "dob_digit_typo": lambda rng, p, r, f: _dob(p, lambda d: _dob_digit(rng, d)),
    "dob_century": lambda rng, p, r, f: _dob(p, _century),
    "dob_other": lambda rng, p, r, f: _dob(p, lambda d: _born(rng)),
    "dob_missing": lambda rng, p, r, f: replace(p, dob=None),
    "address_house_number": lambda rng, p, r, f: replace(
        p, house=_digit_slip(rng, p.house) if rng.random() < 0.6 else f.building_number()
    ),
    "address_typo": lambda rng, p, r, f: replace(p, street=slip(rng, p.street)),
    "address_word_dropped": lambda rng, p, r, f: _address_drop_word(rng, p),
    "address_words_reordered": lambda rng, p, r, f: _address_reorder(rng, p),
    "address_flat_added": lambda rng, p, r, f: replace(
        p, house=f"{rng.randrange(1, 60)} {p.house}".strip()
    ),
    "address_moved": lambda rng, p, r, f: _moved(p, f),
    "address_missing": lambda rng, p, r, f: replace(p, house="", street=""),
    "word_split_or_joined": lambda rng, p, r, f: _word_split(rng, p),
    "city_other": lambda rng, p, r, f: replace(p, city=f.city()),
    "postcode_typo": lambda rng, p, r, f: replace(p, postcode=_digit_slip(rng, p.postcode)),
    "postcode_missing": lambda rng, p, r, f: replace(p, postcode=""),
    "city_typo": lambda rng, p, r, f: replace(p, city=slip(rng, p.city)),
    "city_missing": lambda rng, p, r, f: replace(p, city=""),
    "email_changed": lambda rng, p, r, f: _other_contact(rng, p, f, "email"),
    "email_typo": lambda rng, p, r, f: replace(p, email=slip(rng, p.email)),
    "email_missing": lambda rng, p, r, f: replace(p, email=""),
    "phone_changed": lambda rng, p, r, f: _other_contact(rng, p, f, "phone"),
    "phone_typo": lambda rng, p, r, f: replace(p, phone=_digit_slip(rng, p.phone)),
    "phone_missing": lambda rng, p, r, f: replace(p, phone=""),
    "accents_and_case": lambda rng, p, r, f: replace(
        p, first=fold(p.first).upper(), last=fold(p.last).upper(), city=p.city.upper()
    ),
}


# ------------------------------------------------------------------------------------------------
# people


def _email(rng: random.Random, f: Faker, first: str, last: str) -> str:
    a, b = ("".join(c for c in fold(x) if c.isalnum()) for x in (first, last))
    local = rng.choice([f"{a}.{b}", f"{a}{b}{rng.randrange(1, 99)}", f"{a[:1]}{b}", f"{b}.{a}"])
    return f"{local or 'x'}@{f.free_email_domain()}"


def _phone(rng: random.Random, locale: str) -> str:
    """A mobile number in E.164 of the locale's country, as staging normalises it."""
    region = locale.split("_")[-1]
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return f"+{rng.randrange(10**9, 10**10)}"
    nsn = str(example.national_number)
    digits = nsn[:2] + "".join(str(rng.randrange(10)) for _ in nsn[2:])
    return f"+{example.country_code}{digits}"


def _born(rng: random.Random) -> date:
    # not Faker's date_of_birth: it counts back from today, and the samples would change daily
    return BORN_FROM + timedelta(days=rng.randrange(BORN_DAYS))


class People:
    """People from Faker's locales, the same ones for the same recipe."""

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe
        self.fakers = {locale: Faker(locale) for locale in recipe.locales}

    def faker(self, rng: random.Random, locale: str) -> Faker:
        f = self.fakers[locale]
        f.seed_instance(rng.randrange(2**32))
        return f

    def person(self, rng: random.Random, locale: str | None = None) -> Person:
        locale = locale or rng.choice(self.recipe.locales)
        f = self.faker(rng, locale)
        first, last = f.first_name(), f.last_name()
        contact_free = rng.random() < self.recipe.contact_free
        dob = None if rng.random() < 0.03 else _born(rng)
        return Person(
            first=first,
            last=last,
            dob=dob,
            email="" if contact_free or rng.random() < 0.1 else _email(rng, f, first, last),
            phone="" if contact_free or rng.random() < 0.1 else _phone(rng, locale),
            house=f.building_number(),
            street=f.street_name(),
            city=f.city(),
            postcode=f.postcode(),
            locale=locale,
        )

    def lookalike(self, rng: random.Random, p: Person, kind: str) -> Person:
        """Another person who looks like `p` in the way `kind` names."""
        other = self.person(rng, p.locale)
        f = self.faker(rng, p.locale)
        if kind == "same_name":
            return replace(other, first=p.first, last=p.last)
        if kind == "household":
            first = other.first if fold(other.first) != fold(p.first) else f.first_name()
            phone = p.phone if rng.random() < 0.3 else other.phone  # a shared landline
            return replace(p, first=first, dob=other.dob, email=other.email, phone=phone)
        if kind == "twins":
            first = other.first if fold(other.first) != fold(p.first) else f.first_name()
            return replace(p, first=first, email=other.email, phone=other.phone)
        if kind == "similar_name":
            return replace(other, first=slip(rng, p.first), last=p.last, city=p.city)
        if kind == "neighbours":  # what a block on the street, town or postcode brings together
            return replace(other, street=p.street, city=p.city, postcode=p.postcode)
        return other  # the same country's people, as a block of one file holds


# ------------------------------------------------------------------------------------------------
# pairs


def _weighted(rng: random.Random, weights: dict) -> list:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])


def _render(model: str, person: Person, record_id: str, side: int) -> dict[str, str]:
    """The person as the model's export holds them: CRM on both sides of the match, CRM then
    billing for the link (billing's holder is one name: first and last as typed, together)."""
    if model == "link" and side == 1:
        holder = " ".join(x for x in (person.first, person.last) if x)
        return billing_record(
            record_id,
            holder,
            person.email,
            person.phone,
            person.address,
            person.city,
            person.postcode,
        )
    return crm_record(
        record_id,
        person.first,
        person.last,
        person.dob,
        person.email,
        person.phone,
        person.address,
        person.city,
        person.postcode,
    )


def pair_rows(
    cluster: str, is_match: bool, a: dict[str, str], b: dict[str, str], fields: tuple[str, ...]
) -> list[dict[str, str]]:
    """Two rows of one labelled pair. Both hold one value in the blocking passes' field, so
    that Zingg's first split is on it and loses no pair (sdp.zingg.passes)."""
    head = {"z_cluster": cluster, "z_isMatch": "1" if is_match else "0", BLOCK_FIELD: SAMPLE_BLOCK}
    return [{**{f: r.get(f, "") for f in fields}, **head} for r in (a, b)]


@dataclass(frozen=True)
class Samples:
    model: str
    rows: list[dict[str, str]]
    coverage: Counter  # error type or negative kind -> pairs that show it

    def report(self) -> str:
        positives = sum(1 for r in self.rows[::2] if r["z_isMatch"] == "1")
        lines = [
            f"{self.model}: {positives} true pairs, {len(self.rows) // 2 - positives} false pairs"
        ]
        for name, count in sorted(self.coverage.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {name:<28} {count:>5}")
        return "\n".join(lines)


# what tells a person from a namesake; a true pair keeps more than half of those the first
# record holds
EVIDENCE = ("dob", "email", "phone", "address", "postcode")


# how alike two addresses must be to still tell who the person is (Jaro-Winkler): a slip or two
# leaves an address evidence, another address does not; the other fields are identifiers, kept
# only when they are the same (a date or a number one digit off is somebody else as often)
ADDRESS_SIMILARITY = 0.85


def evidence_kept(a: dict[str, str], b: dict[str, str]) -> tuple[int, int]:
    """(identifying fields the pair agrees on, those the first record holds)."""
    held = [k for k in EVIDENCE if a.get(k)]
    kept = sum(
        1
        for k in held
        if a[k] == b.get(k)
        or (k == "address" and jaro_winkler_similarity(a[k], b.get(k, "")) >= ADDRESS_SIMILARITY)
    )
    return kept, len(held)


def _identifiable(a: dict[str, str], b: dict[str, str]) -> bool:
    """Whether a person typed twice is still told apart from a namesake: the same name alone
    (moved house, new email, no birth date) is as much a false pair as a true one, and a label
    either way would teach the model a guess."""
    kept, held = evidence_kept(a, b)
    return kept * 2 > held


def _holds_most(a: dict[str, str], b: dict[str, str]) -> bool:
    """Whether `b` holds more than half of the identifying fields `a` holds."""
    held = [k for k in EVIDENCE if a.get(k)]
    return sum(1 for k in held if b.get(k)) * 2 > len(held)


def _same_gaps(rng: random.Random, person: Person, other: Person, f: Faker) -> Person:
    """`other` with a value where `person` has one and none where it has none."""
    return replace(
        other,
        dob=(other.dob or _born(rng)) if person.dob else None,
        email=(other.email or _email(rng, f, other.first, other.last)) if person.email else "",
        phone=(other.phone or _phone(rng, other.locale)) if person.phone else "",
    )


def _typed(
    rng: random.Random, person: Person, recipe: Recipe, errors: dict[str, float], people: People
) -> tuple[Person, list[str]]:
    """The person typed once more, with the recipe's number of errors drawn from `errors`."""
    (count,) = _weighted(rng, recipe.errors_per_pair)
    chosen: list[str] = []
    while len(chosen) < min(count, len(errors)):
        (name,) = _weighted(rng, errors)
        if name not in chosen:
            chosen.append(name)
    f = people.faker(rng, person.locale)
    typed = person
    for name in chosen:
        typed = ERRORS[name](rng, typed, recipe, f)
    return typed, chosen


def _second_record(
    rng: random.Random,
    model: str,
    first: dict[str, str],
    person: Person,
    record_id: str,
    keeps: Callable[[dict[str, str], dict[str, str]], bool],
    recipe: Recipe,
    errors: dict[str, float],
    people: People,
) -> tuple[dict[str, str], list[str]] | None:
    """`person` typed with the recipe's errors until the record `keeps` what it must of
    `first` (its errors with it); None when no draw of a thousand does."""
    for _ in range(1000):
        typed, chosen = _typed(rng, person, recipe, errors, people)
        second = _render(model, typed, record_id, 1)
        if keeps(first, second):
            return second, chosen
    return None


def build_samples(model: str, recipe: Recipe) -> Samples:
    """The model's labelled pairs from the recipe: reproducible, the same rows every time."""
    fields = MATCH_FIELDS if model == "match" else LINK_FIELDS
    rng = random.Random(f"{recipe.seed}:{model}")
    people = People(recipe)
    errors = {k: w for k, w in recipe.errors.items() if model == "match" or k not in NOT_IN_LINK}
    coverage: Counter = Counter()
    rows: list[dict[str, str]] = []
    for n in range(recipe.positives):
        person = people.person(rng)
        a = _render(model, person, f"p{n}a", 0)
        drawn = _second_record(
            rng, model, a, person, f"p{n}b", _identifiable, recipe, errors, people
        )
        if drawn is None:
            raise RecipeError(f"no draw of errors leaves true pair p{n} identifiable: {a}")
        b, chosen = drawn
        coverage.update(chosen)
        if not person.email and not person.phone:
            coverage["no_email_or_phone"] += 1
        rows += pair_rows(f"p{n}", True, a, b, fields)
    for kind, count in recipe.negatives.items():
        for n in range(count):
            person = people.person(rng)
            other = people.lookalike(rng, person, kind)
            # the look-alike holds the fields the person holds, as a true pair's second record
            # does before its errors: a gap on one side only is an error, on both a file's habit
            other = _same_gaps(rng, person, other, people.faker(rng, person.locale))
            # typed with as many errors as a true pair's second record, and kept, as true pairs
            # are, only while it holds most of the identifying fields the first does: errors
            # befall every record, so an error (a gap above all) is never learnt as a sign
            a = _render(model, person, f"{kind}{n}a", 0)
            drawn = _second_record(
                rng, model, a, other, f"{kind}{n}b", _holds_most, recipe, errors, people
            )
            if drawn is None:
                raise RecipeError(f"no draw of errors leaves false pair {kind}{n} usable: {a}")
            b, _ = drawn
            coverage[f"negative_{kind}"] += 1
            rows += pair_rows(f"{kind}{n}", False, a, b, fields)
    return Samples(model, rows, coverage)


def namesakes(
    samples: Path, fields: tuple[str, ...], names: tuple[str, ...], path: Path, seed: int = 7
) -> Path | None:
    """For each true pair of `samples`, a false one: its first record beside another person of
    the samples given the same `names` (written to `path`; None without names or two pairs)."""
    if not names:
        path.unlink(missing_ok=True)
        return None
    with open(samples, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    people: dict[str, dict[str, str]] = {}
    for row in rows:
        if row["z_isMatch"] == "1":
            people.setdefault(row["z_cluster"], row)
    firsts = [people[c] for c in sorted(people)]
    if len(firsts) < 2:
        path.unlink(missing_ok=True)
        return None
    rng = random.Random(seed)
    out: list[dict[str, str]] = []
    for n, person in enumerate(firsts):
        other = firsts[(n + 1 + rng.randrange(len(firsts) - 1)) % len(firsts)]  # never itself
        namesake = {**other, **{f: person[f] for f in names}}
        out += pair_rows(f"namesake{n}", False, person, namesake, fields)
    write_samples(path, out, fields)
    return path


def write_samples(path: Path, rows: list[dict[str, str]], fields: tuple[str, ...]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["z_cluster", "z_isMatch", *fields])
        writer.writeheader()
        writer.writerows(rows)
