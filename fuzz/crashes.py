"""What counts as a bug when a target reads one input, and the signature that tells two bugs apart.

Shared by the atheris worker (`fuzz.run`) and the plain replay of the
corpus (`tests/fuzz/test_corpus_replay.py`), so that both judge an input
alike: a reader may return, quarantine, or raise its own `InputError`;
any other exception, an impossible address in a record, or more than
`HANG_SECONDS` for one input is a bug.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from fuzz.targets import TARGETS, ImpossibleAddress

__all__ = ["HANG_SECONDS", "Outcome", "replay", "signature"]

HANG_SECONDS = 2.0
"""The longest one input may take before it counts as a hang (libFuzzer's `-timeout` too)."""

_SOURCES = str(Path(__file__).resolve().parents[1] / "src" / "repsight")


def signature(target: str, exc: BaseException) -> str:
    """Return what identifies a bug: the target and, for an exception, its type and where in repsight it was raised.

    An impossible address is told apart by record field and kind (a control
    character, no domain, too long); an exception by its type and the
    innermost repsight frame it passed through (else its innermost frame).
    """
    if isinstance(exc, ImpossibleAddress):
        return f"{target}: ImpossibleAddress {exc.record}.{exc.field} {exc.kind}"
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if f.filename.startswith(_SOURCES)]
    if not (ours or frames):
        return f"{target}: {type(exc).__name__}"
    frame = (ours or frames)[-1]
    where = f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
    return f"{target}: {type(exc).__name__} at {where}"


@dataclass(frozen=True)
class Outcome:
    """How one input went: how long it took, and the bug it shows (None: none)."""

    seconds: float
    error: BaseException | None = None
    signature: str | None = None

    @property
    def problem(self) -> str | None:
        """A one-line description of the bug, or None."""
        if self.error is not None:
            return f"{type(self.error).__name__}: {self.error}"
        if self.seconds > HANG_SECONDS:
            return f"hang: {self.seconds:.2f} s (over {HANG_SECONDS} s)"
        return None


def replay(target: str, data: bytes) -> Outcome:
    """Read `data` with `target` without atheris; return the outcome (the reader's InputError is no bug)."""
    from repsight.errors import InputError

    started = time.perf_counter()
    try:
        TARGETS[target].run(data)
    except InputError:
        pass
    except Exception as exc:
        return Outcome(time.perf_counter() - started, exc, signature(target, exc))
    seconds = time.perf_counter() - started
    return Outcome(seconds, None, f"{target}: hang" if seconds > HANG_SECONDS else None)
