"""Opening input files: one place that counts bytes for progress and decodes text."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from repsight.errors import InputError

__all__ = ["ByteCounter", "Source", "open_source"]


class ByteCounter(io.RawIOBase):
    """A raw binary file that counts and hashes the bytes read through it.

    The count drives progress bars; the hash identifies the file in `loads`,
    without a second pass over it.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.bytes_read = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        self.sha256.update(data)
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


@dataclass(frozen=True)
class Source:
    """An input file opened for one read: its path, size, text and a byte count."""

    path: Path
    size: int
    counter: ByteCounter
    text: IO[str]

    @property
    def bytes_read(self) -> int:
        return self.counter.bytes_read


@contextmanager
def open_source(path: Path) -> Iterator[Source]:
    """Open `path` as UTF-8 text (a byte-order mark is allowed), counting bytes read."""
    try:
        raw = path.open("rb")
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror}") from None
    counter = ByteCounter(raw)
    # Undecodable bytes become U+FFFD so that the one bad row is quarantined
    # instead of the whole file failing half-way.
    text = io.TextIOWrapper(io.BufferedReader(counter, buffer_size=1 << 16), encoding="utf-8-sig", errors="replace", newline="")
    try:
        yield Source(path, size, counter, text)
    finally:
        text.close()
