"""The landing contract as typed Python objects.

The operator's feed formats are external; the platform keeps its own copy (`sources.yaml` beside
this module) so that the loader, the generator and the warehouse DDL read one statement of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CONTRACT_PATH = Path(__file__).with_name("sources.yaml")
COLUMN_TYPES = ("string", "enum", "date", "timestamp", "decimal", "integer")
DECIMAL_PLACES = 4


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entity:
    source: str
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        """`<source>_<entity>`: the raw table name and the asset key's last part."""
        return f"{self.source}_{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.qualified} has no column {name!r}")


@dataclass(frozen=True)
class Contract:
    version: int
    entities: tuple[Entity, ...]

    def entity(self, source: str, name: str) -> Entity:
        for e in self.entities:
            if e.source == source and e.name == name:
                return e
        raise KeyError(f"the contract has no entity {source}.{name}")

    def by_qualified(self, qualified: str) -> Entity:
        for e in self.entities:
            if e.qualified == qualified:
                return e
        raise KeyError(f"the contract has no entity {qualified}")


class ContractError(ValueError):
    """The contract file itself is malformed."""


def parse_contract(document: dict) -> Contract:
    try:
        version = int(document["version"])
        sources = document["sources"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ContractError(f"contract needs 'version' and 'sources': {exc}") from exc
    entities: list[Entity] = []
    for source, source_entities in sources.items():
        for name, spec in source_entities.items():
            columns = []
            for col_name, col_spec in spec["columns"].items():
                col_type = col_spec.get("type")
                if col_type not in COLUMN_TYPES:
                    raise ContractError(f"{source}.{name}.{col_name}: unknown type {col_type!r}")
                values = tuple(col_spec.get("values", ()))
                if col_type == "enum" and not values:
                    raise ContractError(f"{source}.{name}.{col_name}: enum without values")
                columns.append(
                    Column(col_name, col_type, bool(col_spec.get("required", False)), values)
                )
            key = tuple(spec["key"])
            names = {c.name for c in columns}
            if not key or not set(key) <= names:
                raise ContractError(f"{source}.{name}: key {key} must name its columns")
            entities.append(Entity(source, name, key, tuple(columns)))
    return Contract(version, tuple(entities))


@cache
def load_contract(path: Path = CONTRACT_PATH) -> Contract:
    with open(path, encoding="utf-8") as fh:
        return parse_contract(yaml.safe_load(fh))
