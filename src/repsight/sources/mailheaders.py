"""RFC 5322 message headers: the fields repsight reads, parsed from raw bytes.

Only the header block of a message is ever decoded; bodies are skipped
unread. Address lists go through the standard library's parser
(`email.utils.getaddresses`), RFC 2047 display names through
`email.header`, dates through `email.utils.parsedate_tz`.

Address lists are split at the commas outside quoted strings and comments
(lists with groups, domain literals or escapes are parsed whole), and each
element is parsed once and remembered: colleagues' addresses recur in every
other message. The result is the standard parser's on the whole list (a
test compares the two on generated lists).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.errors import MessageError
from email.header import decode_header, make_header
from email.utils import getaddresses, parsedate_tz

__all__ = ["HeaderError", "MailHeaders", "parse_addresses", "parse_date", "parse_headers"]

# The header fields read: a name, then the value, continued on lines that
# begin with white space (folding). The regex engine skips the other fields.
# (Each match starts at a newline, so the engine scans for newlines, not every position.)
_FIELD = re.compile(
    rb"\n(message-id|in-reply-to|references|date|from|sender|to|cc|bcc|resent-[a-z-]+)[ \t]*:(.*(?:\r?\n[ \t].*)*)",
    re.IGNORECASE,
)
_RESENT = b"resent-"
ADDRESS_FIELDS = ("to", "cc", "bcc")


class HeaderError(ValueError):
    """A header the message cannot be read without is missing or unreadable."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _text(raw: bytes) -> str:
    # 8-bit headers: UTF-8 (RFC 6532) when it decodes, else the legacy Latin-1.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@dataclass
class MailHeaders:
    """The header fields repsight reads, each with every value it had, in order (unfolded, decoded)."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    resent: list[dict[str, list[str]]] = field(default_factory=list)
    """Each resending (Resent-* fields, newest first), by field name without the prefix."""


def parse_headers(block: bytes) -> MailHeaders:
    """Return the wanted fields of a raw header block (bytes up to the blank line)."""
    headers = MailHeaders()
    resending: dict[str, list[str]] | None = None
    for match in _FIELD.finditer(b"\n" + block):
        name = match.group(1).lower()
        if name.startswith(_RESENT):
            short = name[len(_RESENT) :].decode("ascii")
            # A resending's fields sit together, newest first; a single-valued
            # field seen again starts the next (older) resending.
            if resending is None or (short in resending and short not in ADDRESS_FIELDS):
                resending = {}
                headers.resent.append(resending)
            resending.setdefault(short, []).append(_value(match.group(2)))
        else:
            headers.fields.setdefault(name.decode("ascii"), []).append(_value(match.group(2)))
    return headers


def _value(raw: bytes) -> str:
    if b"\n" in raw:
        # Unfolding: every line end in a value `_FIELD` matched begins a continuation line
        # (str.replace, several times faster than a regex substitution on every folded value).
        raw = raw.replace(b"\r\n", b"").replace(b"\n", b"")
    return _text(raw).strip()


# Lists the element split does not handle: groups, domain literals, escapes.
_PARSED_WHOLE = re.compile(r"[:;\[\]\\]")
# Without these (nor the above), every comma separates two elements.
_QUOTES_OR_COMMENTS = re.compile(r'["():;\[\]\\]')
# An element: quoted strings and (unnested) comments may hold commas. A list
# is split only where it is all such elements between single commas.
_ELEMENT = r'(?:"[^"]*"|\([^()]*\)|[^,"()])+'
_ELEMENTS = re.compile(_ELEMENT)
_SPLITTABLE = re.compile(f"{_ELEMENT}(?:,{_ELEMENT})*")
_ADDRESS_CACHE: dict[str, list[tuple[str, str]]] = {}
_CACHE_LIMIT = 1 << 18
_CACHED_LENGTH = 320


def _parsed(element: str) -> list[tuple[str, str]]:
    found = _ADDRESS_CACHE.get(element)
    if found is None:
        try:
            parsed = getaddresses([element])
        except RecursionError:  # thousands of nested comments
            raise HeaderError("address", "is nested too deeply to read") from None
        # Entries without an address (an empty group such as
        # `undisclosed-recipients:;`) are left out.
        found = [(_display_name(name), address) for name, address in parsed if "@" in address]
        if len(element) <= _CACHED_LENGTH:  # one element, not a whole list: memory stays bounded
            if len(_ADDRESS_CACHE) >= _CACHE_LIMIT:
                _ADDRESS_CACHE.clear()
            _ADDRESS_CACHE[element] = found
    return found


def _display_name(name: str) -> str:
    if "=?" not in name:
        return name
    try:
        return str(make_header(decode_header(name)))
    except (ValueError, LookupError, MessageError):  # a malformed encoded word or an unknown charset
        return name


def parse_addresses(values: list[str]) -> list[tuple[str, str]]:
    """Return the (display name, address) pairs of address-list header values, as `getaddresses` gives them.

    Display names are decoded (RFC 2047); entries without an address (an
    empty group such as `undisclosed-recipients:;`) are left out.
    """
    pairs: list[tuple[str, str]] = []
    cache = _ADDRESS_CACHE
    for value in values:
        if "," not in value:
            elements = [value]
        elif not _QUOTES_OR_COMMENTS.search(value):
            elements = value.split(",")  # every comma separates
        elif not _PARSED_WHOLE.search(value) and _SPLITTABLE.fullmatch(value):
            elements = _ELEMENTS.findall(value)
        else:
            elements = [value]
        for element in elements:
            element = element.strip()
            found = cache.get(element)
            pairs += _parsed(element) if found is None else found
    return pairs


# Zone names that parsedate_tz does not know, where they are unambiguous.
_ZONES = {
    "WET": 0,
    "WEST": 1,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "MET": 1,
    "MEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "HKT": 8,
    "SGT": 8,
    "JST": 9,
    "KST": 9,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
}
# The zone follows the time of day: a numeric offset (authoritative, RFC
# 5322) or a name (ctime puts the year between them or after it).
_OFFSET = re.compile(r"\d:\d\d(?::\d\d)?\s*(?:(?:GMT|UTC|UT)\s*)?([+-])(\d{1,2})(?::?(\d\d))?(?!\d)", re.IGNORECASE)
_ZONE_NAME = re.compile(r"\d:\d\d(?::\d\d)?(?:\s+\d{4})?\s+\(?([A-Za-z]{3,4})\b")


# The form nearly every mail client writes, read without parsedate_tz
# (which gives the same moment; a test compares the two).
_PLAIN_DATE = re.compile(r"(?:[A-Za-z]{3}, *)?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def parse_date(value: str) -> datetime | None:
    """Return the moment a Date header names, in UTC; None if it names none.

    Numeric offsets are read in any common spelling (`+0200`, `+02:00`,
    `GMT+2`); a zone name is read where it is unambiguous, and a time with
    no zone, or one it does not know, is taken as UTC.
    """
    plain = _PLAIN_DATE.fullmatch(value)
    if plain and plain.group(2).lower() in _MONTHS and int(plain.group(6)) < 60:
        day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = plain.groups()
        if int(year) < 1000:
            return None
        try:
            written = datetime(int(year), _MONTHS[month.lower()], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
            east = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
            return written + east if sign == "-" else written - east
        except (ValueError, OverflowError):
            return None
    parts = parsedate_tz(value)
    if parts is None or parts[0] < 1000:
        return None
    numeric = _OFFSET.search(value)
    named = _ZONE_NAME.search(value)
    offset: int
    if numeric:
        sign = -1 if numeric.group(1) == "-" else 1
        offset = sign * (int(numeric.group(2)) * 3600 + int(numeric.group(3) or 0) * 60)
    elif named and named.group(1).upper() in _ZONES:
        offset = _ZONES[named.group(1).upper()] * 3600
    else:
        offset = parts[9] or 0  # parsedate_tz knows UT, GMT, Z and the North American zones
    try:
        # A leap second (:60) is read as :59.
        year, month, day, hour, minute, second = parts[:6]
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC) - timedelta(seconds=offset)
    except (ValueError, OverflowError):
        return None
