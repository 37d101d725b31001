"""Opening input files: one place that counts bytes for progress and decodes text.

A source is a file, or a folder of files (a tree of `.eml` messages, a
maildir). Readers take bytes (`binary`, `members`) or text (`text`) from it;
every byte goes through one counter, which drives the progress bar and
hashes the input for the `loads` table.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from repsight.errors import InputError

__all__ = ["MAX_OCCURRENCES", "ByteCounter", "Source", "Window", "folder_members", "open_source"]


class ByteCounter(io.RawIOBase):
    """A raw binary file that counts and hashes the bytes read through it.

    The count drives progress bars; the hash identifies the file in `loads`,
    without a second pass over it.
    """

    def __init__(self, raw: IO[bytes] | None) -> None:
        self._raw = raw
        self.bytes_read = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def counted(self, data: bytes) -> bytes:
        """Count and hash bytes read some other way (a folder's files); return them."""
        self.bytes_read += len(data)
        self.sha256.update(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._raw is None:
            return 0
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.counted(data)
        return len(data)

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()
        super().close()


MAX_OCCURRENCES = 10_000
"""The most occurrences a reader expands one recurring meeting into (a daily meeting for 27 years); bounds time and memory."""


@dataclass(frozen=True)
class Window:
    """The span of time recurring meetings are expanded within; None is open-ended."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass
class Source:
    """An input opened for one read: its path, size in bytes, and a byte count.

    Read a file as `binary` or as `text` (not both); read a folder through
    `members`.
    """

    path: Path
    size: int
    counter: ByteCounter
    window: Window = field(default_factory=Window)
    _binary: io.BufferedReader | None = None
    _text: IO[str] | None = None
    _files: list[Path] | None = None

    @property
    def bytes_read(self) -> int:
        return self.counter.bytes_read

    @property
    def binary(self) -> io.BufferedReader:
        """The file's bytes."""
        if self._binary is None:
            raise InputError(f"{self.path}: is a folder; this format is read from a single file")
        return self._binary

    @property
    def text(self) -> IO[str]:
        """The file as UTF-8 text (a byte-order mark is skipped)."""
        if self._text is None:
            # Undecodable bytes become U+FFFD so that the one bad row is
            # quarantined instead of the whole file failing half-way.
            self._text = io.TextIOWrapper(self.binary, encoding="utf-8-sig", errors="replace", newline="")
        return self._text

    def members(self) -> Iterator[tuple[str, bytes]]:
        """Yield (path relative to the source, bytes) for each file: the folder's, or the file itself."""
        if self._files is None:
            yield self.path.name, self.binary.read()
            return
        for path in self._files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"{path}: cannot read: {exc.strerror}") from None
            yield path.relative_to(self.path).as_posix(), self.counter.counted(data)

    def close(self) -> None:
        if self._text is not None:
            self._text.close()
        elif self._binary is not None:
            self._binary.close()


def folder_members(folder: Path) -> list[Path]:
    """Return the message files under `folder`, sorted: every regular file, at any depth.

    Hidden files and maildir's `tmp` folders (messages still being
    delivered) are left out.
    """
    found = []
    for path in folder.rglob("*"):
        relative = path.relative_to(folder).parts
        if any(part.startswith(".") for part in relative) or "tmp" in relative[:-1]:
            continue
        if path.is_file():
            found.append(path)
    return sorted(found)


@contextmanager
def open_source(path: Path, window: Window | None = None) -> Iterator[Source]:
    """Open `path` (a file or a folder of message files) for one read, counting bytes read."""
    window = window or Window()
    if path.is_dir():
        files = folder_members(path)
        size = sum(f.stat().st_size for f in files)
        yield Source(path, size, ByteCounter(None), window, _files=files)
        return
    try:
        raw = path.open("rb")
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror}") from None
    counter = ByteCounter(raw)
    source = Source(path, size, counter, window, _binary=io.BufferedReader(counter, buffer_size=1 << 16))
    try:
        yield source
    finally:
        source.close()
