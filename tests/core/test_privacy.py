from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest

from repsight.config import Config
from repsight.errors import KeyFileError
from repsight.privacy import KEY_ENV, Pseudonymizer, pseudonym, read_key
from repsight.store import Store
from repsight.workspace import init_workspace
from tests.support import TEST_KEY


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
