"""Multi-pass blocking: every record goes to Zingg once per blocking key, and the clusters of
its copies are joined again.

Zingg compares two records only when its learnt blocking tree gives them the same block, and
the tree gives each record one block. On files where any field can be mistyped or missing, no
single key keeps the true pairs together: on FEBRL the best single key (a postcode's first
digit) keeps 96 % of them, the tree Zingg learnt 76–87 %. The classic answer, used by every
record-linkage toolkit, is several passes whose union is compared: two records are compared
when they agree on any of the keys (the postcode, the birth date, how the surname sounds, how
the first name sounds keep 99.8 % of FEBRL's true pairs together).

Here each pass is a copy of the record whose `block` field holds the pass's name and key
(`postcode:75011`). The model lists `block` first among its fields, and its training samples
carry one value there for both records of every pair, so the first splits Zingg learns are on
`block` and lose no training pair: copies of one pass with one key stay in one block, copies
of two passes never meet. After the match, the copies of a record are one record again and the
clusters Zingg formed in any pass are joined (union-find).

The passes are configuration (`platform.blockingPasses` in `zingg_configs/<model>.json`), each
a field and how its key is read: `value` (the folded field as it is) or `sounds` (its Soundex
code, so that "smith" and "smyth" share a key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import jellyfish

BLOCK_FIELD = "block"
# a copy's id is the record's id, this separator and the pass's name; split from the right,
# so that an operator's ids may hold the separator too
SEPARATOR = "~"
# the block of the copy a record gets when none of the passes has a key for it
NO_KEY = "none"


def _sounds(text: str) -> str:
    return jellyfish.soundex(text) if text else ""


KEYS: dict[str, Callable[[str], str]] = {"value": lambda text: text, "sounds": _sounds}


class PassError(ValueError):
    pass


@dataclass(frozen=True)
class BlockingPass:
    name: str
    field: str
    key: str  # one of KEYS

    def key_of(self, record: dict[str, str]) -> str:
        return KEYS[self.key](record.get(self.field) or "")


def parse_passes(raw: object, fields: tuple[str, ...], where: str) -> tuple[BlockingPass, ...]:
    """`platform.blockingPasses` of a model: a list of {"name", "field", "key"}."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PassError(f"{where}: platform.blockingPasses is not a list")
    passes: list[BlockingPass] = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict) or set(item) != {"name", "field", "key"}:
            raise PassError(
                f"{where}: platform.blockingPasses[{n}] {item!r} needs exactly name, field, key"
            )
        name, field, key = (str(item[k]) for k in ("name", "field", "key"))
        if field not in fields or field in ("record_id", BLOCK_FIELD):
            raise PassError(f"{where}: blocking pass {name!r} reads {field!r}, not a match field")
        if key not in KEYS:
            raise PassError(
                f"{where}: blocking pass {name!r} has key {key!r}: one of {', '.join(KEYS)}"
            )
        if not name or SEPARATOR in name or name in (p.name for p in passes) or name == NO_KEY:
            raise PassError(f"{where}: blocking pass name {name!r} is empty, repeated or reserved")
        passes.append(BlockingPass(name, field, key))
    if passes and BLOCK_FIELD not in fields:
        raise PassError(f"{where}: blocking passes need a {BLOCK_FIELD!r} field (EXACT)")
    return tuple(passes)


def replicate(
    records: Iterable[dict[str, str]], passes: tuple[BlockingPass, ...]
) -> Iterator[dict[str, str]]:
    """One copy of each record per pass with a key for it (one copy in the keyless block when
    no pass has one: every record reaches Zingg and comes back). No passes: the records."""
    if not passes:
        yield from records
        return
    for record in records:
        keys = [(p.name, k) for p in passes if (k := p.key_of(record))]
        for name, key in keys or [(NO_KEY, "")]:
            yield {
                **record,
                "record_id": f"{record['record_id']}{SEPARATOR}{name}",
                BLOCK_FIELD: f"{name}:{key}",
            }


def original_id(copy_id: str) -> str:
    return copy_id.rsplit(SEPARATOR, 1)[0]


class Components:
    """Union-find over record ids: records joined by any cluster are one component, named by
    its smallest id (so that the name does not depend on the order clusters come in)."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self._parent.setdefault(item, item)
        root = item
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[item] != root:  # path compression
            self._parent[item], item = root, self._parent[item]
        return root

    def join(self, members: Iterable[str]) -> None:
        roots = sorted({self.find(m) for m in members})
        for root in roots[1:]:
            self._parent[root] = roots[0]
