"""Streaming the resources of a Microsoft Graph JSON export, one at a time.

Graph exports come as a JSON array of resources; as paged envelopes
(`{"@odata.context": ..., "value": [...], "@odata.nextLink": ...}`: one,
several concatenated, one per line, or an array of them); or as JSON Lines
(one resource or envelope per line, as Graph Data Connect writes them).

The text is read in blocks and each resource is decoded on its own with
`json.JSONDecoder.raw_decode`: memory holds one resource and one block,
never the file. An object is an envelope when its first key that is not an
annotation (`@odata.*`) is `value` and holds an array; the envelope's other
keys are skipped.

A malformed value that starts and fails on one line is quarantined as that
line and reading goes on at the next line; so is an object that fails on a
later line in JSON Lines (a `.jsonl` or `.ndjson` file, or one whose values
so far each took one line): a line cut short. Where resources of that
object (a page) were already yielded, reading goes on at the line after
the last one consumed, so no resource is yielded twice. Nesting deeper than
Python's recursion limit and integers too long to convert are malformed
JSON too. A number that reaches the end of a block is decoded again with
the next block, so the results never depend on the block size. Any other value that spans
lines (a pretty-printed array or page) cannot be resynchronised: reading
stops with one Rejected for the rest of the file ("from line N").

`field_text`, `field_flag` and the like read one field of a decoded
resource, raising FieldError (a quarantine entry) where it has the wrong type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from repsight.errors import InputError
from repsight.sources.csvfile import FieldError, shown
from repsight.sources.records import Rejected

__all__ = ["BLOCK_CHARS", "Resource", "field_flag", "field_list", "field_number", "field_object", "field_text", "read_resources"]

BLOCK_CHARS = 1 << 16
"""Characters read from the file at a time."""

_DECODER = json.JSONDecoder()
_NOT_WHITESPACE = re.compile(r"[^ \t\n\r]")
# An object whose first key is neither an annotation (`@odata.etag`) nor `value`.
_PLAIN_OBJECT = re.compile(r'\{[ \t\n\r]*"(?!@|value")')
_PLAIN_LOOKAHEAD = 256
# A comma between two values of an array, and the first character of the second.
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*([^ \t\n\r])")
# What may still belong to a number that ends at the end of the buffer.
_NUMBER_TAIL = re.compile(r"[0-9.eE+\-]*")
# An error this close to the end of the buffer may only mean the value goes on in the next block.
_NEAR_END = 16


@dataclass(frozen=True, slots=True)
class Resource:
    """One decoded Graph resource and where it starts ("line N")."""

    position: str
    fields: dict[str, Any]


class _Malformed(Exception):
    """JSON that cannot be decoded: what the decoder said, where, and where the failing value starts."""

    def __init__(self, message: str, at: int, start: int) -> None:
        super().__init__(message)
        self.message = message
        self.at = at
        self.start = start


Items = Generator[Resource | Rejected, None, int]


class _Stream:
    """A window on the text: positions are offsets in the whole file; only what is still needed is kept."""

    def __init__(self, text: IO[str], block_chars: int) -> None:
        self._text = text
        self._block_chars = block_chars
        self._buffer = ""
        self._base = 0  # file offset of the buffer's first character
        self._keep = 0  # file offset before which nothing is needed any more
        self._mark = 0  # file offset whose line is `_mark_line`
        self._mark_line = 1
        self._base_line_start = 0  # file offset where the line holding the buffer's first character starts
        self.at_end = False

    def release(self, offset: int) -> None:
        """Let the text before `offset` go: nothing will read it again."""
        self._keep = offset

    @property
    def released(self) -> int:
        """The offset before which everything was consumed (yielded or skipped); it is still in the buffer."""
        return self._keep

    def line_of(self, offset: int) -> int:
        """Return the 1-based line of a file offset that is still in the buffer."""
        if offset >= self._mark:
            self._mark_line += self._buffer.count("\n", self._mark - self._base, offset - self._base)
        else:
            self._mark_line -= self._buffer.count("\n", offset - self._base, self._mark - self._base)
        self._mark = offset
        return self._mark_line

    def column_of(self, offset: int) -> int:
        """Return the 1-based column of a file offset that is still in the buffer."""
        newline = self._buffer.rfind("\n", 0, offset - self._base)
        line_start = self._base + newline + 1 if newline >= 0 else self._base_line_start
        return offset - line_start + 1

    def _more(self, chars: int = 0) -> bool:
        """Read a block (or `chars`) more characters, dropping what was released; return False at the end of the file."""
        if self.at_end:
            return False
        block = self._text.read(chars or self._block_chars)
        if not block:
            self.at_end = True
            return False
        if self._mark < self._keep:
            self.line_of(self._keep)
        drop = self._keep - self._base
        newline = self._buffer.rfind("\n", 0, drop)
        if newline >= 0:
            self._base_line_start = self._base + newline + 1
        self._buffer = self._buffer[drop:] + block
        self._base = self._keep
        return True

    def peek(self, offset: int) -> tuple[str, int]:
        """Return the next character from `offset` that is not white space and its offset ("" at the end)."""
        while True:
            found = _NOT_WHITESPACE.search(self._buffer, offset - self._base)
            if found is not None:
                return found.group(), self._base + found.start()
            offset = self._base + len(self._buffer)
            if not self._more():
                return "", offset

    def plain_object(self, offset: int) -> bool:
        """Return whether the object at `offset` starts with a plain key: a resource, not a page or annotations."""
        # Most resources are known by their first characters; the rest take the key-by-key path.
        while len(self._buffer) - (offset - self._base) < _PLAIN_LOOKAHEAD and self._more():
            pass
        return _PLAIN_OBJECT.match(self._buffer, offset - self._base) is not None

    def after_comma(self, offset: int) -> tuple[str, int] | None:
        """Return the character and offset of the value after a comma at `offset`; None where there is no comma here."""
        found = _COMMA.match(self._buffer, offset - self._base)
        if found is None:
            return None  # a bracket, an error, or the end of the buffer: `peek` decides
        return found.group(1), self._base + found.start(1)

    def decode(self, offset: int) -> tuple[Any, int]:
        """Return the JSON value at `offset` (found by `peek`) and the offset after it, reading more text as needed."""
        chars = self._block_chars
        while True:
            index = offset - self._base
            try:
                value, end = _DECODER.raw_decode(self._buffer, index)
            except json.JSONDecodeError as exc:
                truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(self._buffer) - _NEAR_END
                if truncated and self._more(chars):
                    chars *= 2  # a long resource: read in growing blocks, so re-decoding stays linear
                    continue
                raise _Malformed(exc.msg, self._base + exc.pos, offset) from None
            except RecursionError:
                # Nesting deeper than Python's recursion limit: malformed for repsight, whatever the block size.
                raise _Malformed("the value is nested too deeply", offset, offset) from None
            except ValueError:
                # An integer longer than Python converts (`sys.get_int_max_str_digits`).
                raise _Malformed("a number has too many digits", offset, offset) from None
            # A number that reaches the end of the buffer (`12345` of `12345.5`) may go on in the next block.
            if not isinstance(value, (dict, list, str)) and _NUMBER_TAIL.fullmatch(self._buffer, end) and self._more(chars):
                continue
            return value, self._base + end

    def next_line(self, offset: int) -> int:
        """Return the offset just after the end of the line holding `offset` (the end of the file if none).

        Where `offset` was released, the search starts at the oldest text still held.
        """
        while True:
            index = self._buffer.find("\n", max(offset - self._base, 0))
            if index >= 0:
                return self._base + index + 1
            offset = self._base + len(self._buffer)
            self.release(offset)
            if not self._more():
                return offset

    def expect(self, offset: int, wanted: str, message: str, start: int) -> int:
        """Return the offset after the character `wanted` at `offset`, or raise _Malformed with `message`."""
        char, offset = self.peek(offset)
        if char != wanted:
            raise _Malformed(message, offset, start)
        return offset + 1


def _key(stream: _Stream, offset: int) -> tuple[str, int]:
    """Return a member's key and the offset after its colon."""
    char, offset = stream.peek(offset)
    if char != '"':
        raise _Malformed("Expecting property name enclosed in double quotes", offset, offset)
    key, end = stream.decode(offset)
    return key, stream.expect(end, ":", "Expecting ':' delimiter", offset)


def _object(stream: _Stream, start: int, line: int) -> Items:
    """Yield the object at `start`: a resource, or the resources of an envelope's `value`; return the offset after it."""
    if stream.plain_object(start):
        return (yield from _whole(stream, start, line))
    char, offset = stream.peek(start + 1)
    if char == "}":
        yield Resource(f"line {line}", {})
        return offset + 1
    key, offset = _key(stream, offset)
    if key != "value" and not key.startswith("@"):
        return (yield from _whole(stream, start, line))
    envelope = False
    while True:
        char, offset = stream.peek(offset)
        if key == "value" and char == "[" and not envelope:
            envelope = True
            offset = yield from _array(stream, offset, in_envelope=True)
        elif envelope or key.startswith("@"):
            _, offset = stream.decode(offset)  # an annotation (`@odata.nextLink`): not a resource
        else:
            # A resource whose first keys are annotations (`@odata.etag`).
            return (yield from _whole(stream, start, line))
        char, offset = stream.peek(offset)
        if char == "}":
            return offset + 1
        if char != ",":
            raise _Malformed("Expecting ',' delimiter", offset, offset)
        key, offset = _key(stream, offset + 1)


def _whole(stream: _Stream, start: int, line: int) -> Items:
    """Yield the resource at `start`, decoded whole; return the offset after it."""
    fields, offset = stream.decode(start)
    yield Resource(f"line {line}", fields)
    return offset


def _array(stream: _Stream, start: int, *, in_envelope: bool) -> Items:
    """Yield the resources of the array at `start` (pages too, outside an envelope); return the offset after it."""
    char, offset = stream.peek(start + 1)
    if char == "]":
        return offset + 1
    while True:
        stream.release(offset)
        line = stream.line_of(offset)
        if char == "{" and not in_envelope:
            offset = yield from _object(stream, offset, line)
        else:
            value, offset = stream.decode(offset)
            if isinstance(value, dict):
                yield Resource(f"line {line}", value)
            else:
                yield Rejected(f"line {line}", "(json)", "not a Graph resource (a JSON object)")
        following = stream.after_comma(offset)
        if following is not None:
            char, offset = following
            continue
        char, offset = stream.peek(offset)
        if char == "]":
            return offset + 1
        if char != ",":
            raise _Malformed("Expecting ',' delimiter", offset, offset)
        char, offset = stream.peek(offset + 1)


def read_resources(text: IO[str], path: Path, *, block_chars: int = BLOCK_CHARS) -> Iterator[Resource | Rejected]:
    """Yield each resource of a Graph JSON export in file order, or Rejected where the JSON is malformed.

    Raises InputError when the file holds no JSON at all.
    """
    stream = _Stream(text, block_chars)
    char, offset = stream.peek(0)
    if not char:
        raise InputError(f"{path}: the file is empty; expected Microsoft Graph JSON")
    if char not in "[{":
        raise InputError(
            f"{path}: line {stream.line_of(offset)}: not JSON; expected Microsoft Graph JSON"
            ' (an array of resources, {"value": [...]} pages or JSON Lines)'
        )
    # In JSON Lines (by name, or once a value has started and ended on one line)
    # an object that fails on a later line is a line cut short, not a value spanning lines.
    json_lines = path.suffix.lower() in (".jsonl", ".ndjson")
    while char:
        stream.release(offset)
        start, line = offset, stream.line_of(offset)
        try:
            if char == "{":
                offset = yield from _object(stream, offset, line)
            elif char == "[":
                offset = yield from _array(stream, offset, in_envelope=False)
            else:
                raise _Malformed("Expecting an object or an array", offset, offset)
            json_lines = json_lines or stream.line_of(offset - 1) == line
        except _Malformed as exc:
            error_line, column = stream.line_of(exc.at), stream.column_of(exc.at)
            if error_line == line:
                yield Rejected(f"line {line}", "(json)", f"not valid JSON: {exc.message} (column {column})")
            elif json_lines and char == "{":
                yield Rejected(f"line {line}", "(json)", f"not valid JSON: {exc.message} (line {error_line}, column {column})")
            else:
                yield Rejected(
                    f"from line {stream.line_of(exc.start)}",
                    "(json)",
                    f"not valid JSON: {exc.message} (line {error_line}, column {column}); the rest of the file is not read",
                )
                return
            # Resume on the line after the last one consumed: never before the value's start, nor
            # inside what was already yielded from it (a page spanning lines), whatever the block size.
            offset = stream.next_line(max(start, stream.released))
        char, offset = stream.peek(offset)


def field_text(value: Any, field: str) -> str:
    """Return a JSON string field stripped ("" where absent), or raise FieldError."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise FieldError(field, "is not text")
    return value.strip()


def field_flag(value: Any, field: str) -> bool:
    """Return a JSON boolean field (also written "true"/"false"; false where absent), or raise FieldError."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FieldError(field, f"{shown(str(value))} is not true or false")


def field_number(value: Any, field: str, default: int) -> int:
    """Return a JSON whole-number field (`default` where absent), or raise FieldError."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, f"{shown(str(value))} is not a whole number")
    return value


def field_object(value: Any, field: str) -> dict[str, Any]:
    """Return a JSON object field, or raise FieldError where it is absent or not an object."""
    if not isinstance(value, dict):
        raise FieldError(field, "is missing" if value is None else "is not a JSON object")
    return value


def field_list(value: Any, field: str) -> list[Any]:
    """Return a JSON list field (empty where absent), or raise FieldError."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(field, "is not a list")
    return value
