"""Walking loaded JSON and YAML documents, for the tests that check configuration files."""

from collections.abc import Iterator


def strings(node: object) -> Iterator[str]:
    """Every string value in a document, however deeply nested (mapping keys excluded)."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
