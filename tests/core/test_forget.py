"""`repsight forget` (GDPR article 17): every row of the person goes, the record holds no address, a reload does not bring them back."""

from __future__ import annotations

from pathlib import Path

import pytest

from repsight.config import Config, load_config
from repsight.privacy import KEY_ENV, pseudonym
from repsight.schema import PERSON_MENTIONS, PERSON_REFERENCES, TABLES
from repsight.store import Store
from repsight.web.accounts import Accounts
from tests.ingest.test_excluded import EVE, company, mentions, stored
from tests.support import TEST_KEY, repsight

ENV = {KEY_ENV: TEST_KEY}


@pytest.fixture(autouse=True)
def _test_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, TEST_KEY)


def measured(folder: Path, *, with_eve: bool) -> Config:
    """Return the tiny company's workspace, ingested and measured through the command line."""
    config = company(folder, with_eve=with_eve)
    for command in ("ingest", "metrics"):
        result = repsight(command, "-c", str(config.path), cwd=folder, env=ENV)
        assert result.returncode == 0, result.stderr
    return config


def test_every_string_column_is_a_person_reference_a_mention_or_known_to_hold_no_person() -> None:
    no_person = {
        ("workspace", "name"), ("workspace", "value"), ("loads", "source"), ("loads", "kind"), ("loads", "sha256"),
        ("quarantine", "source"), ("quarantine", "kind"), ("identities", "email"), ("identities", "name"),
    }  # fmt: skip
    unclassified = [
        (name, column)
        for name, columns in TABLES.items()
        for column, kind in columns.items()
        if kind == "string"
        and column not in PERSON_REFERENCES.get(name, {})
        and column not in PERSON_MENTIONS.get(name, ())
        and (name, column) not in no_person
        and not column.endswith(("domain", "_key", "period", "kind", "response"))
        and name != "forgotten"
    ]
    # Each is an attribute, an id or a label: none holds a pseudonym (the forget test below scans the values too).
    assert sorted(unclassified) == sorted(
        [
            (t, c)
            for t in ("people", "people_history")
            for c in ("org", "function", "region", "segment", "channel", "timezone", "attributes")
        ]
        + [("accounts", c) for c in ("account_id", "name", "type", "domains")]
        + [("account_domains", "account_id"), ("account_domains", "type"), ("viva_values", "metric")]
        + [("account_touches", "account_id"), ("validation", "rule")]
        + [("digest_sent", c) for c in ("message_id", "status", "error")]
        + [("digest_holdout", "stratum"), ("digest_holdout", "group")]
    )


def test_forget_removes_every_row_of_the_person_and_a_reload_does_not_bring_them_back(tmp_path: Path) -> None:
    config = measured(tmp_path / "ws", with_eve=True)
    eve = pseudonym(TEST_KEY, EVE)
    accounts = Accounts(config.accounts_path)
    accounts.add(EVE, "a-password-for-eve")
    accounts.audit("ana@acme.example", "viewed", f"/person/{eve}")
    assert {table for table, _, _ in mentions(config, [eve])} >= {"messages", "people", "person_week", "week_ties", "kpis"}

    result = repsight("forget", "-c", "ws", "--person", " Eve@Acme.Example ", cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    assert f"Forgot {eve}" in result.stdout
    assert "colleagues' metrics" in result.stdout and "until `repsight metrics` runs again" in result.stdout
    assert mentions(config, [eve, EVE, "Eve Rep"]) == []
    with Store.open(config) as store:
        (record,) = store.table("forgotten").to_pyarrow().to_pylist()
    assert record["person"] == eve and "@" not in str(record)
    assert accounts.get(EVE) is None
    assert [row for row in accounts.audit_log() if EVE in str(row) or eve in str(row)] == []

    again = repsight("ingest", "-c", "ws", cwd=tmp_path, env=ENV)
    assert again.returncode == 0, again.stderr
    assert "privacy: 5 records of excluded or forgotten people left out" in again.stdout
    assert mentions(config, [eve, EVE]) == []
    # Reloaded and measured again, the workspace is the one whose files never had her.
    assert repsight("metrics", "-c", "ws", cwd=tmp_path, env=ENV).returncode == 0
    never = measured(tmp_path / "never", with_eve=False)
    assert stored(config) == stored(never)


def test_forgetting_an_unknown_address_is_an_error_and_changes_nothing(tmp_path: Path) -> None:
    config = measured(tmp_path / "ws", with_eve=True)
    before = stored(config)
    result = repsight("forget", "-c", "ws", "--person", "nobody@acme.example", cwd=tmp_path, env=ENV)
    assert result.returncode == 1
    assert result.stderr.startswith("error: nobody@acme.example: no one with this address in the workspace")
    assert "nothing was changed" in result.stderr and "Traceback" not in result.stderr
    assert stored(config) == before
    assert not config.accounts_path.exists()


def test_forgetting_twice_says_when_and_changes_nothing(tmp_path: Path) -> None:
    config = measured(tmp_path / "ws", with_eve=True)
    assert repsight("forget", "-c", "ws", "--person", EVE, cwd=tmp_path, env=ENV).returncode == 0
    before = stored(load_config(config.path))
    second = repsight("forget", "-c", "ws", "--person", EVE, cwd=tmp_path, env=ENV)
    assert second.returncode == 0 and "was forgotten on" in second.stdout
    assert stored(config) == before
