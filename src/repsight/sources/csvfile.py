"""Reading CSV inputs: header checks, row positions, field parsing shared by all CSV readers.

The field parsers are every reader's, not only the CSV readers': mail
addresses in particular are judged here, by `address_problem`, whatever the
format they come in.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import IO, Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from repsight.errors import InputError
from repsight.sources.files import Source
from repsight.sources.records import EventBatch, Rejected

T = TypeVar("T")
B = TypeVar("B", bound=EventBatch[Any])

__all__ = [
    "BARE_ADDRESS",
    "CHUNK_ROWS",
    "MAX_ADDRESS_OCTETS",
    "MAX_DOMAIN_OCTETS",
    "MAX_LOCAL_PART_OCTETS",
    "CsvChunk",
    "CsvRow",
    "FieldError",
    "address_problem",
    "any_per_row",
    "count_per_row",
    "first_mentions",
    "is_bare_address",
    "parse_address",
    "parse_address_list",
    "parse_bool",
    "parse_chunks",
    "parse_date",
    "parse_number",
    "parse_row",
    "parse_rows",
    "parse_timestamp",
    "parse_timestamps",
    "read_csv",
    "read_csv_chunks",
    "shown",
    "split_list",
]


SHOWN_CHARACTERS = 60
"""The most characters of a value a quarantine reason quotes."""


def shown(value: str) -> str:
    """Return a value quoted for a quarantine reason, unless it may be a person's address; a long one is cut short.

    The quarantine must not become a second identity table, nor hold a
    file's 5 MB field.
    """
    if "@" in value:
        return "(a value that looks like a mail address)"
    if len(value) > SHOWN_CHARACTERS:
        return f"{value[:SHOWN_CHARACTERS]!r}… ({len(value):,} characters)"
    return repr(value)


class FieldError(ValueError):
    """A field's value is wrong; the reader turns it into a quarantine entry."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row: its position as a spreadsheet shows it (header = row 1) and its fields."""

    position: str
    fields: dict[str, str]
    problem: FieldError | None = None


def _open_reader(text: IO[str], path: Path, required: tuple[str, ...], keep_case: bool = False) -> tuple[list[str], Any]:
    """Return the lower-cased column names (stripped only, with `keep_case`) and a csv reader positioned after the header."""
    # An all-hands invitation lists thousands of addresses in one field.
    csv.field_size_limit(1 << 26)
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path}: the file is empty; expected a header row") from None
    except csv.Error as exc:
        raise InputError(f"{path}: row 1: not CSV: {exc}") from None
    names = [h.strip() if keep_case else h.strip().lower() for h in header]
    missing = [c for c in required if c not in {n.lower() for n in names}]
    if missing:
        raise InputError(
            f"{path}: row 1: missing column(s) {', '.join(missing)}; the header has {', '.join(n or '(blank)' for n in names)}"
        )
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise InputError(f"{path}: row 1: column(s) {', '.join(duplicated)} appear more than once")
    return names, reader


def _raw_rows(names: list[str], reader: Any) -> Iterator[tuple[int, list[str] | FieldError]]:
    """Yield (first line, values) for each non-blank row, or (line, problem) for a broken one."""
    last_line = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line, last_line = last_line + 1, reader.line_num
            yield line, FieldError("(row)", f"not CSV: {exc}")
            continue
        line, last_line = last_line + 1, reader.line_num
        if not "".join(values).strip():
            continue
        if len(values) != len(names):
            yield line, FieldError("(row)", f"has {len(values)} fields; the header has {len(names)}")
            continue
        yield line, values


def _fields(names: list[str], values: list[str]) -> tuple[dict[str, str], FieldError | None]:
    fields = {name: value.strip() for name, value in zip(names, values, strict=True)}
    bad = next((n for n, v in fields.items() if "\ufffd" in v), None)
    return fields, None if bad is None else FieldError(bad, "not valid UTF-8")


def read_csv(text: IO[str], path: Path, *, required: tuple[str, ...], keep_case: bool = False) -> Iterator[CsvRow]:
    """Yield the data rows of a CSV file whose header holds the `required` columns.

    Column names are matched case-insensitively and lower-cased in the
    fields (kept as written, stripped, with `keep_case`); blank lines are
    skipped. A row with the wrong number of fields, or undecodable bytes,
    comes with its `problem` set.
    """
    names, reader = _open_reader(text, path, required, keep_case)
    for line, values in _raw_rows(names, reader):
        if isinstance(values, FieldError):
            yield CsvRow(f"row {line}", {}, values)
            continue
        fields, problem = _fields(names, values)
        yield CsvRow(f"row {line}", fields, problem)


@dataclass
class CsvChunk:
    """Up to a few thousand rows of a CSV file, by column, for vectorised readers."""

    names: list[str]
    lines: list[int]
    rows: list[list[str]]
    rejected: list[Rejected]

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> pa.StringArray:
        """Return a column's values, stripped of surrounding white space ('' where absent)."""
        if name not in self.names:
            return pa.array([""] * len(self.rows), pa.string())
        index = self.names.index(name)
        return pc.utf8_trim_whitespace(pa.array([row[index] for row in self.rows], pa.string()))

    def fields(self, i: int) -> tuple[str, dict[str, str], FieldError | None]:
        """Return the position, fields and any decoding problem of row `i`, as `read_csv` gives them."""
        fields, problem = _fields(self.names, self.rows[i])
        return f"row {self.lines[i]}", fields, problem


CHUNK_ROWS = 20_000


def read_csv_chunks(text: IO[str], path: Path, *, required: tuple[str, ...]) -> Iterator[CsvChunk]:
    """Yield the rows of a CSV file in chunks of CHUNK_ROWS; broken rows come as the chunk's `rejected`."""
    size = CHUNK_ROWS
    names, reader = _open_reader(text, path, required)
    chunk = CsvChunk(names, [], [], [])
    for line, values in _raw_rows(names, reader):
        if isinstance(values, FieldError):
            chunk.rejected.append(Rejected(f"row {line}", values.field, values.reason))
            continue
        chunk.lines.append(line)
        chunk.rows.append(values)
        if len(chunk.rows) >= size:
            yield chunk
            chunk = CsvChunk(names, [], [], [])
    if chunk.rows or chunk.rejected:
        yield chunk


# A bare address, as the CSV contract has it: checked without the (slow)
# general RFC 5322 parser, which handles every other form. No control
# characters: Python's and Arrow's `\s` differ on them, and the parser,
# then `address_problem`, says why such a value is refused.
BARE_ADDRESS = r"[^\s@<>\"(),;:\x00-\x1f\x7f]+@[^\s@<>\"(),;:.\x00-\x1f\x7f]+(?:\.[^\s@<>\"(),;:.\x00-\x1f\x7f]+)+"
_BARE_ADDRESS = re.compile(BARE_ADDRESS)

MAX_LOCAL_PART_OCTETS = 64
"""The longest local part (before the @) RFC 5321 allows, in UTF-8 octets."""
MAX_DOMAIN_OCTETS = 255
"""The longest domain RFC 5321 allows, in UTF-8 octets."""
MAX_ADDRESS_OCTETS = 254
"""The longest address RFC 5321 allows (a 256-octet path less its angle brackets), in UTF-8 octets."""
# C0 controls, DEL and C1 controls: no mail address holds one.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_CHARACTER = "contains a control character"


def parse_row(
    position: str, fields: dict[str, str], problem: FieldError | None, parse: Callable[[str, dict[str, str]], T]
) -> T | Rejected:
    """Return `parse(position, fields)`, or Rejected where the row or `parse` finds a problem."""
    if problem is not None:
        return Rejected(position, problem.field, problem.reason)
    try:
        return parse(position, fields)
    except FieldError as exc:
        return Rejected(position, exc.field, exc.reason)


def parse_rows(source: Source, required: tuple[str, ...], parse: Callable[[str, dict[str, str]], T]) -> Iterator[T | Rejected]:
    """Yield `parse(position, fields)` for each row, or Rejected where the row or `parse` finds a problem."""
    for row in read_csv(source.text, source.path, required=required):
        yield parse_row(row.position, row.fields, row.problem, parse)


def parse_chunks(
    source: Source,
    required: tuple[str, ...],
    vectorised: Callable[[CsvChunk], tuple[B, pa.BooleanArray]],
    parse: Callable[[str, dict[str, str]], Any],
) -> Iterator[B | Rejected]:
    """Yield one batch per chunk, and the chunk's rejected rows.

    `vectorised` reads the rows in the plain form by column; `parse` (the
    reference) reads the others. Their events are merged back into file
    order, so that "the first copy of an event wins" means the first row.
    """
    for chunk in read_csv_chunks(source.text, source.path, required=required):
        yield from chunk.rejected
        if not len(chunk):
            continue
        batch, plain = vectorised(chunk)
        fast_rows: list[int] = []
        slow_rows: list[int] = []
        records = []
        for i, ok in enumerate(plain.to_pylist()):
            if ok:
                fast_rows.append(i)
                continue
            item = parse_row(*chunk.fields(i), parse)
            if isinstance(item, Rejected):
                yield item
            else:
                records.append(item)
                slow_rows.append(i)
        if records:
            batch = batch.merged(fast_rows, type(batch).of(records), slow_rows)
        if len(batch):
            yield batch


def address_problem(address: str) -> str | None:
    """Return why `address` cannot be a real mail address, or None where it can be.

    Every reader refuses such an address, whatever its format: one with a
    control character (C0, DEL or C1), one without a domain or a local part,
    one longer than RFC 5321 allows (local part 64 octets, domain 255,
    address 254, in UTF-8). A domain without a dot (`localhost`) is left to
    the reader. The reason never quotes the address.
    """
    if _CONTROL.search(address):
        return _CONTROL_CHARACTER
    local, at, domain = address.rpartition("@")
    if not at or not domain:
        return "has no domain"
    if not local:
        return "has no local part (nothing before the @)"
    local_octets, domain_octets = _octets(local), _octets(domain)
    if local_octets > MAX_LOCAL_PART_OCTETS:
        return f"its local part is longer than RFC 5321 allows ({local_octets:,} octets; at most {MAX_LOCAL_PART_OCTETS})"
    if domain_octets > MAX_DOMAIN_OCTETS:
        return f"its domain is longer than RFC 5321 allows ({domain_octets:,} octets; at most {MAX_DOMAIN_OCTETS})"
    octets = local_octets + 1 + domain_octets
    if octets > MAX_ADDRESS_OCTETS:
        return f"is longer than RFC 5321 allows ({octets:,} octets; at most {MAX_ADDRESS_OCTETS})"
    return None


def _octets(text: str) -> int:
    if text.isascii():
        return len(text)
    # A lone surrogate (JSON's "\ud800") is counted as UTF-8 would write it, not raised.
    return len(text.encode("utf-8", "surrogatepass"))


def parse_address(value: str, field: str) -> tuple[str, str]:
    """Return (address, display name) of one mail address, or raise FieldError.

    The address must be one that can be real (`address_problem`). A control
    character anywhere in the value refuses it, display name included: the
    parser would drop a tab or a line end from the address silently.
    """
    value = value.strip()
    if not value:
        raise FieldError(field, "is empty")
    if _BARE_ADDRESS.fullmatch(value):
        address, name = value, ""
    else:
        if _CONTROL.search(value):
            raise FieldError(field, _CONTROL_CHARACTER)
        name, address = parseaddr(value)
        address = address.strip()
    # The value is left out of the reason: it may be a person's name or address,
    # and the quarantine must not become a second identity table.
    if "@" not in address:
        # The parser finds no address in `ana@`: the rule says why, where it can.
        reason = address_problem(value) if "@" in value else None
        raise FieldError(field, reason or "is not a mail address")
    problem = address_problem(address)
    if problem is not None:
        raise FieldError(field, problem)
    domain = address.rpartition("@")[2]
    if "." not in domain or domain.startswith(".") or domain.endswith("."):
        raise FieldError(field, "is not a mail address")
    if any(ch.isspace() for ch in address):
        raise FieldError(field, "is not a mail address")
    return address, name.strip()


def parse_address_list(value: str, field: str) -> list[tuple[str, str]]:
    """Return the `;`-separated addresses of a field (none when it is empty)."""
    found = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        found.append(parse_address(part, field))
    return found


def parse_number(value: str, field: str) -> float:
    """Return a finite number, allowing thousands separators, or raise FieldError."""
    cleaned = value.replace(",", "").replace("_", "").strip()
    try:
        number = float(cleaned)
    except ValueError:
        raise FieldError(field, f"{shown(value)} is not a number") from None
    if not math.isfinite(number):
        raise FieldError(field, f"{shown(value)} is not a finite number")
    return number


def parse_date(value: str, field: str) -> date:
    """Return an ISO 8601 date (YYYY-MM-DD), or raise FieldError."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldError(field, f"{shown(value)} is not a date (YYYY-MM-DD)") from None


def parse_timestamp(value: str, field: str) -> datetime:
    """Return an aware ISO 8601 timestamp; one without an offset or `Z` is refused."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(field, f"{shown(value)} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise FieldError(field, f"{shown(value)} has no UTC offset (add 'Z' or '+01:00')")
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise FieldError(field, f"{shown(value)} is out of range (years 1 to 9999 in UTC)") from None
    return moment


_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def parse_bool(value: str, field: str) -> bool:
    """Return a boolean from true/false, 1/0, yes/no (blank is false)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise FieldError(field, f"{shown(value)} is not true or false")


def split_list(values: pa.StringArray) -> tuple[pa.Int64Array, pa.StringArray]:
    """Return (row index, item) for every non-empty item of `;`-separated lists, in order."""
    lists = pc.split_pattern(values, ";")
    parents = pc.list_parent_indices(lists)
    items = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    keep = pc.not_equal(items, "")
    return pc.cast(parents.filter(keep), pa.int64()), items.filter(keep)


def is_bare_address(values: pa.StringArray) -> pa.BooleanArray:
    """Return which values are bare ASCII mail addresses that can be real (the fast path; others take the full parser).

    Arrow's `\\s` knows only ASCII white space, Python's knows Unicode's: an
    address with any non-ASCII character goes to the full parser, which decides.
    So does one with a control character or longer than RFC 5321 allows: the
    full parser refuses it (`address_problem`) and says why.
    """
    bare = pc.and_(pc.string_is_ascii(values), pc.match_substring_regex(values, f"^{BARE_ADDRESS}$"))
    # ASCII: a character is an octet. A bare address has one @, and its domain fits when the whole does.
    fits = pc.and_(
        pc.less_equal(pc.binary_length(values), MAX_ADDRESS_OCTETS),
        pc.less_equal(pc.find_substring(values, "@"), MAX_LOCAL_PART_OCTETS),
    )
    return pc.and_(bare, fits)


# ISO 8601 with a UTC offset, in the forms both Arrow and Python parse alike.
# Years 1000-2999 only: near year 1 or 9999 an offset can leave Python's range,
# and the full parser reports that.
_ISO_WITH_OFFSET = r"^[12]\d{3}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"


def parse_timestamps(values: pa.StringArray) -> tuple[pa.TimestampArray, pa.BooleanArray]:
    """Return UTC timestamps and which values parsed; the others are null and need the full parser."""
    ok = pc.match_substring_regex(values, _ISO_WITH_OFFSET)
    moments = _cast_or_null(pc.if_else(ok, values, pa.scalar(None, pa.string())))
    return moments, pc.and_(ok, pc.is_valid(moments))


def _cast_or_null(values: pa.Array) -> pa.Array:
    """Cast to UTC timestamps; a value Arrow cannot cast (month 13) becomes null.

    One bad value fails a whole cast, so the array is halved until the bad
    values stand alone: a few casts for a few bad values.
    """
    try:
        return pc.cast(values, pa.timestamp("us", "UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(values) == 1:
            return pa.nulls(1, pa.timestamp("us", "UTC"))
        middle = len(values) // 2
        return pa.concat_arrays([_cast_or_null(values[:middle]), _cast_or_null(values[middle:])])


def any_per_row(rows: int, parents: pa.Int64Array, flags: pa.BooleanArray) -> pa.BooleanArray:
    """Return, per row, whether any of its items is flagged."""
    return pc.greater(count_per_row(rows, parents.filter(flags)), 0)


def first_mentions(people: pa.Table) -> pa.Table:
    """Return one row per person (`lower` address) per event `row`: the one with the lowest `order`.

    The column-wise form of the row-by-row readers' rule that the first
    mention of an address in an event wins (To before Cc, organiser first).
    """
    first = people.group_by(["row", "lower"], use_threads=False).aggregate([("order", "min")])
    return people.join(first, ["row", "lower", "order"], ["row", "lower", "order_min"], join_type="inner")


def count_per_row(rows: int, parents: pa.Int64Array) -> pa.Int64Array:
    """Return how many items each row has."""
    import numpy as np

    return pa.array(np.bincount(parents.to_numpy(zero_copy_only=False), minlength=rows).astype("int64"))
