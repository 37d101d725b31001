"""Output files are written whole or not at all (`repsight.atomic`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from repsight.atomic import replacing, write_text


def test_a_written_file_replaces_the_old_one_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "study.json"
    target.write_text("old")
    write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["study.json"]


def test_a_write_that_fails_leaves_the_old_file_and_removes_the_new_one(tmp_path: Path) -> None:
    target = tmp_path / "study.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), replacing(target) as part:
        part.write_text("half of the n")
        raise RuntimeError("the disk is full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["study.json"]
