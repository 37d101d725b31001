"""Writing an output file whole or not at all: a run killed while writing leaves the previous file, never half of one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["replacing", "write_bytes", "write_text"]


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a new file's path beside `path` to write; when the block ends, put it on disk and in `path`'s place at once.

    The file is moved over `path` with one rename, so a reader, or a run
    killed at any moment, sees the old file or the new one whole. Where the
    block fails, `path` is left as it was and the new file is removed.
    """
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        yield part
        with part.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(part, path)
    finally:
        part.unlink(missing_ok=True)


def write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (`replacing`)."""
    with replacing(path) as part:
        part.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` whole or not at all (`replacing`)."""
    write_bytes(path, text.encode("utf-8"))
