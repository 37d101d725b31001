"""Pseudonyms and the workspace key.

The pseudonym of an address is a public contract, so that a customer can
pseudonymise other data sets the same way:

    pseudonym(address) = first 32 hex characters of
                         HMAC-SHA256(key, address.strip().lower())

where `key` is the key file's text, stripped, as UTF-8 bytes.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    import pandas as pd

    from repsight.config import Config
    from repsight.study.document import StudyDocument

from repsight.errors import ConfigError, KeyFileError

__all__ = [
    "KEY_ENV",
    "MIN_KEY_LENGTH",
    "Pseudonymizer",
    "a_few_apart",
    "apart_enough",
    "canonical_address",
    "domain_of",
    "excluded_addresses",
    "group_mean",
    "group_quantiles",
    "is_address",
    "key_fingerprint",
    "large_enough",
    "pseudonym",
    "read_key",
    "suppress_small_groups",
    "suppress_small_study_groups",
    "write_new_key",
]

KEY_ENV = "REPSIGHT_KEY"
MIN_KEY_LENGTH = 16
PSEUDONYM_LENGTH = 32
_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+")


def canonical_address(address: str) -> str:
    """Return the address as the pseudonym sees it: stripped and lower-cased."""
    return address.strip().lower()


def domain_of(address: str) -> str:
    """Return the lower-cased domain of an address ('' when it has none)."""
    _, _, domain = canonical_address(address).rpartition("@")
    return domain if "@" in address else ""


def is_address(text: str) -> bool:
    """Return whether `text` looks like one email address (something@domain, no spaces)."""
    return bool(_ADDRESS.fullmatch(canonical_address(text)))


def excluded_addresses(config: Config) -> list[str]:
    """Return the addresses of `[privacy] excluded` and `excluded_file`, canonical, each once (docs/privacy.md).

    The file holds one address a line; `#` starts a comment, blank lines are
    skipped. A missing file or a line that is not an address is an error
    naming the file and line: a typo must not leave someone in the data.
    """
    found = dict.fromkeys(config.privacy.excluded)
    if config.privacy.excluded_file:
        path = config.resolve(config.privacy.excluded_file)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise ConfigError(f"{path}: [privacy] excluded_file names a file that does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read [privacy] excluded_file: {exc}") from None
        for number, line in enumerate(lines, 1):
            text = line.partition("#")[0].strip()
            if not text:
                continue
            if not is_address(text):
                raise ConfigError(f"{path}, line {number}: {text!r} is not an email address ([privacy] excluded_file)")
            found.setdefault(canonical_address(text))
    return list(found)


def pseudonym(key: str, address: str) -> str:
    """Return the 32-hex-character pseudonym of `address` under `key`."""
    digest = hmac.new(key.encode("utf-8"), canonical_address(address).encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:PSEUDONYM_LENGTH]


def key_fingerprint(key: str) -> str:
    """Return a value that identifies the key without revealing it.

    The workspace stores it, so that loading data under another key (which
    would split every person in two) is refused instead of done.
    """
    return pseudonym(key, "repsight:key-fingerprint")


class Pseudonymizer:
    """Pseudonymises addresses under one key, remembering what it has seen."""

    def __init__(self, key: str) -> None:
        self._key = key.encode("utf-8")
        self._cache: dict[str, str] = {}

    def __call__(self, address: str) -> str:
        canonical = canonical_address(address)
        found = self._cache.get(canonical)
        if found is None:
            digest = hmac.new(self._key, canonical.encode("utf-8"), hashlib.sha256)
            found = digest.hexdigest()[:PSEUDONYM_LENGTH]
            if len(self._cache) < 1_000_000:
                self._cache[canonical] = found
        return found


def _check_key_text(text: str, source: str) -> str:
    key = text.strip()
    if not key:
        raise KeyFileError(f"{source}: the pseudonymisation key is empty")
    if len(key) < MIN_KEY_LENGTH:
        raise KeyFileError(
            f"{source}: the pseudonymisation key is {len(key)} characters long; "
            f"it needs at least {MIN_KEY_LENGTH} (`repsight init` writes 64)"
        )
    return key


def read_key(path: Path) -> str:
    """Return the workspace key: from REPSIGHT_KEY if set, else from the key file."""
    from_env = os.environ.get(KEY_ENV)
    if from_env is not None:
        return _check_key_text(from_env, f"environment variable {KEY_ENV}")
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KeyFileError(
            f"{path}: the pseudonymisation key file is missing; restore it, "
            f"or set {KEY_ENV} (a new key would give everyone new pseudonyms)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"{path}: cannot read the pseudonymisation key: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        # As ssh does with private keys: a key others can read protects nobody.
        raise KeyFileError(
            f"{path}: the pseudonymisation key is readable by others (mode {stat.S_IMODE(mode):04o}); run `chmod 600 {path}`"
        )
    return _check_key_text(text, str(path))


def write_new_key(path: Path) -> None:
    """Write 32 random bytes as 64 hex characters to `path`, readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    os.chmod(path, 0o600)


def large_enough(people: Any, min_group_size: int) -> Any:
    """Return whether an aggregate over `people` people may be shown (element-wise for an array or Series).

    This is the one minimum-group comparison of repsight: every output
    (report, command line, dashboard, API, exports for non-analysts) asks it,
    directly or through `group_mean`, `group_quantiles`,
    `suppress_small_groups` and `suppress_small_study_groups`, so that no
    output can show a group small enough to single a person out.
    """
    import numpy as np

    shown = np.greater_equal(people, min_group_size)
    return bool(shown) if np.ndim(shown) == 0 else shown


def group_mean(
    rows: pd.DataFrame, by: str | list[str], values: list[str], min_group_size: int, *, people: str = "person"
) -> pd.DataFrame:
    """Return per group of `by` the number of distinct `people` and the mean of each of `values`.

    A value is NaN where fewer than `min_group_size` people of the group
    have one: a mean skips missing values, so it is over the people with a
    value, and they are the ones counted. The frame is indexed by the
    groups, in sorted order; its columns are `people` and then `values`.
    """
    grouped = rows.groupby(by, sort=True)
    found = grouped[values].mean()
    for value in values:
        found.loc[
            ~large_enough(_people_with(rows, by, value, people).reindex(found.index, fill_value=0), min_group_size), value
        ] = float("nan")
    found.insert(0, "people", grouped[people].nunique().astype("int64"))
    return found


def a_few_apart(these: frozenset[str], those: frozenset[str], min_group_size: int) -> bool:
    """Return whether two groups' people differ by a few (1 to `min_group_size` − 1): their two means side by side would give those few away."""
    return 0 < len(these ^ those) < min_group_size


def apart_enough(people: dict[Any, frozenset[str]], min_group_size: int) -> set[Any]:
    """Return the groups of one series (its weeks, its periods) whose means may be shown side by side.

    Two means of the same behaviour over people who differ by a few (1 to
    `min_group_size` − 1: a team's week before and after one member left)
    give those few away. Groups too small to show are not taken; of the
    rest, the sets of people shared by the most groups come first (then the
    earliest group's), and a set is taken where it differs from every set
    taken by no one or by at least `min_group_size` people.
    """
    by_set: dict[frozenset[str], list[Any]] = {}
    for group in sorted(people):
        if large_enough(len(people[group]), min_group_size):
            by_set.setdefault(people[group], []).append(group)
    taken: list[frozenset[str]] = []
    for members, _ in sorted(by_set.items(), key=lambda item: (-len(item[1]), item[1][0])):
        # Sets whose sizes differ by the minimum or more differ by at least as many people: no need to compare them.
        close = (t for t in taken if abs(len(t) - len(members)) < min_group_size)
        if not any(a_few_apart(members, t, min_group_size) for t in close):
            taken.append(members)
    return {group for members in taken for group in by_set[members]}


def group_quantiles(
    rows: pd.DataFrame,
    by: str | list[str],
    value: str,
    quantiles: list[float],
    min_group_size: int,
    *,
    people: str = "person",
) -> pd.DataFrame:
    """Return per group of `by` the number of distinct `people` with a `value` and its given quantiles (one column each); NaN where fewer people have one."""
    grouped = rows.groupby(by, sort=True)
    found = grouped[value].quantile(quantiles).unstack().reindex(columns=quantiles)
    counted = _people_with(rows, by, value, people).reindex(found.index, fill_value=0)
    found.loc[~large_enough(counted, min_group_size), quantiles] = float("nan")
    found.insert(0, "people", counted.astype("int64"))
    return found


def _people_with(rows: pd.DataFrame, by: str | list[str], value: str, people: str) -> pd.Series:
    """Return per group of `by` the number of distinct `people` whose `value` is not missing."""
    present = rows[rows[value].notna()]
    counted: pd.Series = present.groupby(by, sort=True)[people].nunique()
    return counted


def suppress_small_groups(rows: pa.Table, people_column: str, value_columns: list[str], min_group_size: int) -> pa.Table:
    """Return `rows` (an aggregate computed by the engine) with `value_columns` emptied (null) in every row over fewer than `min_group_size` people."""
    import pyarrow.compute as pc

    small = pa.array(~large_enough(rows[people_column].to_numpy(zero_copy_only=False), min_group_size))
    for name in value_columns:
        index = rows.column_names.index(name)
        column = rows[name]
        rows = rows.set_column(index, name, pc.if_else(small, pa.scalar(None, column.type), column))
    return rows


def suppress_small_study_groups(document: StudyDocument, min_group_size: int) -> StudyDocument:
    """Return a copy of a study document (docs/study.md) without a figure over fewer than `min_group_size` reps.

    The study leaves out what is smaller than its own minimum; a report or
    dashboard applies the workspace's minimum now, which may have been raised
    since:

    - phase 1: when the top or the bottom tier holds fewer reps, each
      metric's tier means, gap, interval and its spread are emptied (NaN; rho
      and its test, over every rep, stay); so are one metric's, in phase 1 or
      in a segment, where fewer of a tier's reps have a value of it (an
      optional metric such as a reply time: the comparison's `top_reps`,
      `bottom_reps`);
    - phase 2: a segment of fewer reps, or whose top or bottom tier holds
      fewer, joins its attribute's `left_out` (by name only) and leaves every
      figure and every list of differing segments;
    - dynamics: a tier-week of fewer reps loses its values.
    """
    from repsight.study.document import TIERS, dynamics_reps, dynamics_series

    shown = copy.deepcopy(document)
    tiers = shown["tiers"]
    everyone = large_enough(min(tiers["top_reps"], tiers["bottom_reps"]), min_group_size)
    in_segments = [c for part in shown["phase2"].values() for s in part["segments"].values() for c in s["metrics"].values()]
    for found, tiers_large_enough in [*((c, everyone) for c in shown["phase1"].values()), *((c, True) for c in in_segments)]:
        # A comparison stored before its own tier counts has none: its tiers' (a segment's are checked below).
        own = min(found.get("top_reps", tiers["top_reps"]), found.get("bottom_reps", tiers["bottom_reps"]))
        if not (tiers_large_enough and large_enough(own, min_group_size)):
            found["top_mean"] = found["bottom_mean"] = found["bottom_vs_top_pct"] = found["se"] = _NAN
            found["ci"] = [_NAN, _NAN]
    for part in shown["phase2"].values():
        small = [
            name
            for name, segment in part["segments"].items()
            if not large_enough(min(segment["n_reps"], segment["top_reps"], segment["bottom_reps"]), min_group_size)
        ]
        if not small:
            continue
        part["segments"] = {name: segment for name, segment in part["segments"].items() if name not in small}
        part["left_out"] = sorted([*part["left_out"], *small])
        for test in part["heterogeneity"].values():
            test["differing_segments"] = [s for s in test["differing_segments"] if s not in small]
            test["slopes"] = {s: slope for s, slope in test["slopes"].items() if s not in small}
    weekly = shown["dynamics"]
    for tier in TIERS:
        if f"{tier}_reps" not in weekly:  # a study without weekly rows has no dynamics at all
            continue
        reps = dynamics_reps(shown, tier)
        kept = [n is not None and large_enough(n, min_group_size) for n in reps]
        for metric in list(weekly):
            series = dynamics_series(shown, metric)
            if series is not None:
                series[tier] = [v if ok else None for v, ok in zip(series[tier], kept, strict=True)]
        weekly[f"{tier}_reps"] = [n if ok else None for n, ok in zip(reps, kept, strict=True)]
    return shown


_NAN = float("nan")
