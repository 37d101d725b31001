"""Every seed and every saved fuzzing find, read again by its reader without atheris.

An input passes when its reader reads it to the end (records, quarantine,
or the reader's own InputError) within `HANG_SECONDS`, and no record holds
an address that cannot be real. The files of `fuzz/regressions/` that still
fail, because their reader is not fixed yet, are listed in `NOT_FIXED_YET`
with the bug they show; each passes again (xpass) once it is fixed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fuzz.crashes import HANG_SECONDS, replay
from fuzz.targets import TARGETS, impossible_address, salesforce_files

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"

NOT_FIXED_YET: dict[str, str] = {}
"""Saved inputs (`regressions/<target>/<file>`) that show a bug not fixed yet, and the bug."""


def _inputs() -> list[Any]:
    params = []
    for kind in ("corpus", "regressions"):
        for folder in sorted((FUZZ / kind).glob("*/")):
            for path in sorted(folder.iterdir()):
                if path.name.startswith(".") or not path.is_file():
                    continue
                name = f"{kind}/{folder.name}/{path.name}"
                reason = NOT_FIXED_YET.get(name)
                marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
                params.append(pytest.param(folder.name, path, id=name, marks=marks))
    return params


def test_every_corpus_and_regression_folder_names_a_target() -> None:
    folders = {p.name for kind in ("corpus", "regressions") for p in (FUZZ / kind).glob("*/")}
    assert folders <= set(TARGETS)
    assert {p.name for p in (FUZZ / "corpus").glob("*/")} == set(TARGETS)


@pytest.mark.parametrize(("target", "path"), _inputs())
def test_input_is_read_to_the_end_in_time_with_only_possible_addresses(target: str, path: Path) -> None:
    outcome = replay(target, path.read_bytes())
    assert outcome.problem is None, f"{outcome.signature}: {outcome.problem}"
    assert outcome.seconds <= HANG_SECONDS


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("ana@acme.example", None),
        ('"a@b"@acme.example', None),
        ("jürgen@müller.example", None),
        ("a" * 64 + "@" + "b" * 189, None),  # 254 octets: the longest there is
        ("ana\x00@acme.example", "control-character"),
        ("ana@acme.example\n", "control-character"),
        ("ana@acme.example\x85", "control-character"),
        ("acme.example", "no-at"),
        ("@acme.example", "no-local-part"),
        ("ana@", "no-domain"),
        ("a" * 65 + "@acme.example", "local-part-too-long"),
        ("ü" * 33 + "@acme.example", "local-part-too-long"),  # 66 octets in UTF-8
        ("a@" + "b" * 256, "domain-too-long"),
        ("a" * 64 + "@" + "b" * 190, "too-long"),
    ],
)
def test_impossible_address_names_the_rule_an_address_breaks(address: str, rule: str | None) -> None:
    broken = impossible_address(address)
    assert (broken[0] if broken else None) == rule


def test_a_salesforce_bundle_splits_into_its_files_by_their_header_lines() -> None:
    bundle = b"ignored\n==> User.csv <==\nId,Email\n==> Account.csv <==\r\nId,Name\n1,A\n==> User.csv <==\nsecond copy\n"
    assert salesforce_files(bundle) == {"User.csv": b"Id,Email\n", "Account.csv": b"Id,Name\n1,A\n"}
