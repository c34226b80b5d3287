"""Landed files as records with their line numbers, tolerant of everything a feed can get wrong.

A record is one CSV row (which may span lines inside quotes) or one JSON line. Undecodable bytes
spoil only the record they sit in, and malformed quoting only the lines it swallowed, so the
rest of a file can still load.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Record:
    line: int  # 1-based physical line where the record starts; a CSV header is line 1
    raw: str
    fields: list[str] | None = None  # CSV
    obj: object = None  # JSONL
    rule: str | None = None  # why the record cannot be read, when it cannot
    error: str | None = None


def _decoded_lines(data: bytes) -> Iterator[tuple[int, str, str | None]]:
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        try:
            yield number, raw.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="backslashreplace")
            yield (
                number,
                text,
                f"bytes {raw[exc.start : exc.end]!r} at column {exc.start + 1} are not UTF-8",
            )


class _LineFeed:
    """Feeds lines to csv.reader while remembering which physical lines each row consumed."""

    def __init__(self, data: bytes) -> None:
        self._lines = _decoded_lines(data)
        self.consumed: list[tuple[int, str, str | None]] = []

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        item = next(self._lines)
        self.consumed.append(item)
        return item[1]

    def take(self) -> tuple[int, str, str | None]:
        """First line number, raw text and first decode error of the lines consumed so far."""
        lines, self.consumed = self.consumed, []
        if not lines:
            return 0, "", None
        errors = [e for _, _, e in lines if e]
        return lines[0][0], "".join(t for _, t, _ in lines), errors[0] if errors else None


def read_csv(data: bytes, has_header: bool = True) -> tuple[list[str] | None, Iterator[Record]]:
    """The header (None for an empty file) and the data records after it.

    Without a header every line is a record: how a file whose first line is not a usable header
    is still accounted for, row by row.
    """
    feed = _LineFeed(data)
    reader = csv.reader(feed, strict=True)
    header: list[str] | None = None
    if not has_header:
        return None, _records(feed, reader)
    try:
        while header is None:
            row = next(reader)
            if row:
                header = row
    except StopIteration:
        return None, iter(())
    except csv.Error:
        feed.take()
        return None, iter(())
    feed.take()

    return header, _records(feed, reader)


def _records(feed: _LineFeed, reader: Iterator[list[str]]) -> Iterator[Record]:
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line, raw, _ = feed.take()
            yield Record(line, raw, rule="malformed_csv", error=f"malformed CSV: {exc}")
            reader = csv.reader(feed, strict=True)
            continue
        line, raw, decode_error = feed.take()
        if not row:
            continue  # blank line: not a record
        if decode_error:
            yield Record(line, raw, row, rule="not_utf8", error=decode_error)
        else:
            yield Record(line, raw, row)


def read_jsonl(data: bytes) -> Iterator[Record]:
    for line, text, decode_error in _decoded_lines(data):
        if not text.strip():
            continue
        if decode_error:
            yield Record(line, text, rule="not_utf8", error=decode_error)
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Record(line, text, rule="bad_json", error=f"not valid JSON: {exc.msg}")
            continue
        if not isinstance(obj, dict):
            yield Record(line, text, rule="bad_json", error="a JSON line must be an object")
            continue
        yield Record(line, text, obj=obj)
