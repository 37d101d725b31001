"""What the command line prints, read as a user piping it in 80 columns: plain text, whole figures, the study's own numbers."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from repsight.metrics.catalog import CATALOG, HEADLINE
from tests.support import repsight

WIDTH = 80
HEADINGS = {m.name: m.heading for m in CATALOG}
INTERVAL = re.compile(r"\[[-+]\d+, [-+]\d+\]")

Run = subprocess.CompletedProcess[str]


pytestmark = pytest.mark.xdist_group("cli_output")  # the module's fixtures are built once, on one worker


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Run]]:
    """A small demo workspace, and what each command printed there, piped, in 80 columns."""
    folder = tmp_path_factory.mktemp("narrow")
    commands = {
        "demo": ("demo", "--people", "60", "--months", "3", "--out", "d"),
        "metrics": ("metrics", "-c", "d"),
        "analyze --json": ("analyze", "-c", "d", "--json", "study.json"),
        "analyze": ("analyze", "-c", "d"),
        "status": ("status", "-c", "d"),
        "quarantine": ("quarantine", "-c", "d"),
        "export": ("export", "-c", "d", "--out", "m.csv"),
        "ingest": ("ingest", "-c", "d"),  # again: adds nothing
    }
    runs = {}
    for name, args in commands.items():
        runs[name] = repsight(*args, cwd=folder, columns=WIDTH)
        assert runs[name].returncode == 0, (name, runs[name].stderr)
    return folder, runs


def test_every_line_fits_80_columns(narrow: tuple[Path, dict[str, Run]]) -> None:
    _, runs = narrow
    for name, run in runs.items():
        for line in run.stdout.splitlines():
            assert len(line) <= WIDTH, f"{name}: {line!r}"


def test_piped_output_is_plain_text(narrow: tuple[Path, dict[str, Run]]) -> None:
    _, runs = narrow
    for name, run in runs.items():
        assert "\x1b[" not in run.stdout + run.stderr, name
        assert all(line == line.rstrip() for line in run.stdout.splitlines()), name
        assert "…" not in run.stdout, f"{name}: a cut word"


def _figure(value: Any, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _reading(document: dict[str, Any], metric: str) -> str:
    """Phase 2's reading of `metric`, from the JSON's verdicts (an oracle of `repsight.study.render.phase2_reading`)."""
    verdicts = {attribute: part["heterogeneity"][metric] for attribute, part in document["phase2"].items()}
    specific = [
        f"{attribute} ({', '.join(v['differing_segments']) or 'a segment too small to show'})"
        for attribute, v in verdicts.items()
        if v["verdict"] == "segment-specific"
    ]
    untested = [attribute for attribute, v in verdicts.items() if v["verdict"] == "untested"]
    if specific:
        return "segment-specific: " + "; ".join(specific)
    if len(untested) == len(verdicts):
        return "untested"
    return "consistent" + (f" ({', '.join(untested)} untested)" if untested else "")


def test_analyze_prints_the_json_studys_figures_each_row_on_one_line(narrow: tuple[Path, dict[str, Run]]) -> None:
    folder, runs = narrow
    document = json.loads((folder / "study.json").read_text())
    lines = [" ".join(line.split()) for line in runs["analyze"].stdout.splitlines()]
    reps, periods = document["population"]["reps"], document["population"]["periods"]
    assert lines[0] == f"The study: bottom vs top quarter of sellers, {reps} reps over 1 period ({periods[0]})"
    metrics = [*[m for m in HEADLINE if m in document["phase1"]], *[m for m in document["phase1"] if m not in HEADLINE]]
    assert len(metrics) == 14
    for name in metrics:
        row = document["phase1"][name]
        low, high = row["ci"]
        q = row["q"]
        expected = [
            HEADINGS[name],
            _figure(row["top_mean"], ",.2f"),
            _figure(row["bottom_mean"], ",.2f"),
            _figure(row["bottom_vs_top_pct"], "+.0f") + "%",
            f"[{low:+.0f}, {high:+.0f}]",
            _figure(row["rho"], "+.2f"),
            "<0.001" if q < 0.001 else f"{q:.3f}",
            _reading(document, name),
        ]
        assert " ".join(expected) in lines, (name, " ".join(expected), runs["analyze"].stdout)
    printed = INTERVAL.findall(runs["analyze"].stdout)
    assert len(printed) == len(metrics)
    # The demo ends with the same study, printed alike.
    assert runs["analyze"].stdout in runs["demo"].stdout


def test_every_interval_is_whole_on_its_line(narrow: tuple[Path, dict[str, Run]]) -> None:
    _, runs = narrow
    for name, run in runs.items():
        for line in run.stdout.splitlines():
            assert line.count("[") == line.count("]"), f"{name}: {line!r}"


def test_metrics_prints_the_quartiles_and_the_gap_row_in_80_columns(narrow: tuple[Path, dict[str, Run]]) -> None:
    _, runs = narrow
    lines = [" ".join(line.split()) for line in runs["metrics"].stdout.splitlines()]
    heading = "attainment quartile people " + " ".join(HEADINGS[name] for name in HEADLINE)
    assert heading in lines
    assert [line.split(" ")[0] for line in lines if re.match(r"[1-4] ", line)] == ["1", "2", "3", "4"]
    gaps = next(line for line in lines if line.startswith("lowest vs top "))
    assert re.fullmatch(r"lowest vs top( [-+]\d+%){3}", gaps), gaps


def test_demo_lists_each_next_command_whole_on_its_own_line(narrow: tuple[Path, dict[str, Run]]) -> None:
    _, runs = narrow
    lines = runs["demo"].stdout.splitlines()
    for command in (
        "repsight status -c d/repsight.toml",
        "repsight analyze -c d/repsight.toml --json study.json",
        "repsight demo --out d --serve",
    ):
        assert command in lines
    ingest = [" ".join(line.split()) for line in runs["demo"].stdout.splitlines()]
    assert any(re.fullmatch(r"calendar calendar/export-001\.ics [\d,]+ [\d,]+ [\d,]+ 0 [\d.]+", line) for line in ingest)
    assert any(re.fullmatch(r"total [\d,]+ [\d,]+ [\d,]+ 0 [\d.]+", line) for line in ingest)


def test_a_config_error_prints_its_section_as_written(tmp_path: Path) -> None:
    assert repsight("init", "ws", cwd=tmp_path).returncode == 0
    config = tmp_path / "ws" / "repsight.toml"
    config.write_text(config.read_text().replace("[company]", "[company]\nfavourite_colour = 'blue'", 1))
    result = repsight("status", "-c", "ws", cwd=tmp_path, columns=WIDTH)
    assert result.returncode == 2
    assert "[company] favourite_colour: unknown setting (check the spelling)" in result.stderr
    assert "\x1b[" not in result.stderr
