from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repsight.config import CompanyConfig, Config, StudyConfig
from repsight.errors import KeyFileError
from repsight.privacy import (
    KEY_ENV,
    Pseudonymizer,
    group_mean,
    group_quantiles,
    pseudonym,
    read_key,
    suppress_small_study_groups,
)
from repsight.store import Store
from repsight.study import study_document
from repsight.study.document import StudyDocument
from repsight.workspace import init_workspace
from tests.support import TEST_KEY
from tests.support.study_org import DEMO_LIKE, Plan, rep_period_rows


def test_pseudonym_matches_the_published_test_vector() -> None:
    assert pseudonym("repsight-test-key", " Ana.Brandt@Acme.Example ") == "4b93aa4b30b8009e7a1423f81c2d3fb9"


def test_pseudonym_is_hmac_sha256_of_the_stripped_lowercased_address() -> None:
    # The contract, computed independently with the standard library.
    expected = hmac.new(b"some-other-key-1234", b"ben@partner.example", hashlib.sha256).hexdigest()[:32]
    assert pseudonym("  some-other-key-1234\n", "BEN@Partner.example") != expected  # the key is not stripped here
    assert pseudonym("some-other-key-1234", "\tBEN@Partner.example ") == expected


def test_cached_pseudonymizer_agrees_with_the_function() -> None:
    pseudo = Pseudonymizer(TEST_KEY)
    for address in ("Ana.Brandt@Acme.Example", "ana.brandt@acme.example", "x@y.example", "x@y.example"):
        assert pseudo(address) == pseudonym(TEST_KEY, address)


def test_init_writes_a_64_hex_key_readable_by_its_owner_only(tmp_path: Path) -> None:
    config = init_workspace(tmp_path, domains=["acme.example"])
    text = config.key_path.read_text()
    assert len(text.strip()) == 64
    int(text.strip(), 16)
    assert stat.S_IMODE(config.key_path.stat().st_mode) == 0o600
    assert (tmp_path / "repsight.toml").exists()


def test_init_refuses_to_overwrite_a_workspace(tmp_path: Path) -> None:
    init_workspace(tmp_path, domains=["acme.example"])
    key = (tmp_path / ".repsight.key").read_text()
    with pytest.raises(Exception, match="a workspace is already here"):
        init_workspace(tmp_path, domains=["other.example"])
    assert (tmp_path / ".repsight.key").read_text() == key


def test_key_file_text_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text(f"  {TEST_KEY}\n")
    os.chmod(path, 0o600)
    assert read_key(path) == TEST_KEY


def test_environment_key_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, f"{TEST_KEY}\n")
    assert read_key(tmp_path / "missing") == TEST_KEY


def test_missing_key_file_names_the_file_and_the_variable(tmp_path: Path) -> None:
    with pytest.raises(
        KeyFileError, match=rf"{tmp_path}/\.repsight\.key: the pseudonymisation key file is missing; .*REPSIGHT_KEY"
    ):
        read_key(tmp_path / ".repsight.key")


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text(TEST_KEY)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match=r"readable by others \(mode 0644\); run `chmod 600"):
        read_key(path)


@pytest.mark.parametrize(("text", "message"), [("", "is empty"), ("short", "is 5 characters long; it needs at least 16")])
def test_empty_or_short_key_is_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "k"
    path.write_text(text)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match=message):
        read_key(path)


def test_a_different_key_cannot_open_a_workspace_loaded_with_another(workspace: Config) -> None:
    Store.open(workspace).close()
    with pytest.raises(KeyFileError, match=r"\.repsight\.key: this is not the key the workspace .* was loaded with"):
        Store.open(workspace, key="a-completely-different-key")


# -- the one minimum-group check -------------------------------------------------------------------


def test_a_group_mean_counts_only_the_people_with_a_value() -> None:
    rows = pd.DataFrame(
        {
            "week": [1] * 5 + [2] * 5,
            "person": list("abcde") * 2,
            "hours": [1.0, None, None, None, None, 1.0, 2.0, 3.0, 4.0, 5.0],
            "calls": [1.0, 2.0, 3.0, 4.0, 5.0] * 2,
        }
    )
    found = group_mean(rows, "week", ["hours", "calls"], 5)
    # Week 1 holds five people, but only one has hours: their mean would be that person's value.
    assert found["people"].tolist() == [5, 5]
    assert np.isnan(found.at[1, "hours"]) and found.at[2, "hours"] == 3.0
    assert found["calls"].tolist() == [3.0, 3.0]
    assert group_mean(rows, "week", ["hours"], 1).at[1, "hours"] == 1.0


def test_group_quantiles_count_the_people_with_a_value() -> None:
    rows = pd.DataFrame({"week": [1] * 4 + [2] * 3, "person": list("abcdabc"), "hours": [1.0, 2.0, 3.0, None, 4.0, 5.0, 6.0]})
    found = group_quantiles(rows, "week", "hours", [0.5], 3)
    assert found["people"].tolist() == [3, 3] and found[0.5].tolist() == [2.0, 5.0]
    assert group_quantiles(rows, "week", "hours", [0.5], 4)[0.5].isna().all()


def small_tier_document() -> StudyDocument:
    """A study of 40 reps: three segments of about 13, each with tiers of a few reps."""
    rows = rep_period_rows(Plan(reps=40, effects=DEMO_LIKE))
    config = Config(
        company=CompanyConfig(domains=["acme.example"]), study=StudyConfig(bootstrap_resamples=200, segment_by=["segment"])
    )
    document, _ = study_document(rows, config)
    return document


def test_phase1_tier_figures_are_emptied_when_a_tier_is_smaller_than_the_minimum_now() -> None:
    document = small_tier_document()
    tier = min(document["tiers"]["top_reps"], document["tiers"]["bottom_reps"])
    kept = suppress_small_study_groups(document, tier)["phase1"]["customer_hours"]
    assert kept == document["phase1"]["customer_hours"]
    hidden = suppress_small_study_groups(document, tier + 1)["phase1"]["customer_hours"]
    assert all(np.isnan(hidden[k]) for k in ("top_mean", "bottom_mean", "bottom_vs_top_pct", "se"))
    assert all(np.isnan(bound) for bound in hidden["ci"])
    original = document["phase1"]["customer_hours"]
    assert (hidden["rho"], hidden["p"], hidden["q"]) == (original["rho"], original["p"], original["q"])


def test_a_segment_whose_tier_is_smaller_than_the_minimum_now_is_left_out() -> None:
    document = small_tier_document()
    segments = document["phase2"]["segment"]["segments"]
    name, smallest = min(segments.items(), key=lambda item: min(item[1]["top_reps"], item[1]["bottom_reps"]))
    tier = min(smallest["top_reps"], smallest["bottom_reps"])
    assert smallest["n_reps"] > tier  # the segment is large enough; its tier is not
    shown = suppress_small_study_groups(document, tier + 1)["phase2"]["segment"]
    assert name not in shown["segments"] and name in shown["left_out"]
    assert all(name not in test["slopes"] for test in shown["heterogeneity"].values())
    assert name in suppress_small_study_groups(document, tier)["phase2"]["segment"]["segments"]


def test_a_metric_few_of_a_tiers_reps_have_is_emptied_where_the_rest_is_shown() -> None:
    """A reply time known for only a few of the top tier's reps: its tier means would show those few."""
    rows = rep_period_rows(Plan(reps=80, effects=DEMO_LIKE))
    document, tiers = study_document(rows, Config(company=CompanyConfig(domains=["acme.example"])))
    top = tiers.loc[tiers["tier"] == 1, "person"].unique()
    keep = set(top[:4])  # every other top rep never replies to a customer
    no_reply = rows["person"].isin(set(top) - keep)
    rows.loc[no_reply, "customer_reply_hours"] = np.nan
    document, _ = study_document(
        rows, Config(company=CompanyConfig(domains=["acme.example"]), study=StudyConfig(bootstrap_resamples=200))
    )
    found = document["phase1"]["customer_reply_hours"]
    assert found["top_reps"] == len(keep) < document["tiers"]["top_reps"] and found["missing"] == int(no_reply.sum())
    shown = suppress_small_study_groups(document, 5)
    assert all(np.isnan(shown["phase1"]["customer_reply_hours"][k]) for k in ("top_mean", "bottom_mean", "bottom_vs_top_pct"))
    assert shown["phase1"]["customer_hours"] == document["phase1"]["customer_hours"]  # every rep has customer time
    assert suppress_small_study_groups(document, 4)["phase1"]["customer_reply_hours"] == found
    for part in shown["phase2"].values():
        for segment in part["segments"].values():
            assert (
                np.isnan(segment["metrics"]["customer_reply_hours"]["top_mean"])
                or segment["metrics"]["customer_reply_hours"]["top_reps"] >= 5
            )
