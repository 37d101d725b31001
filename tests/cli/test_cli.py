"""The command line as a user runs it: in a subprocess, reading what it prints."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from repsight.metrics.catalog import CATALOG
from tests.support import ROSTER_HEADER, repsight, roster_rows, write_csv

CUSTOMER_TIME = next(m.heading for m in CATALOG if m.name == "customer_hours")
"""The customer-time row's heading in a terminal table ("customer h/wk")."""


def test_init_then_ingest_prints_per_file_counts(tmp_path: Path) -> None:
    result = repsight("init", "ws", "--domain", "acme.example", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "ws" / ".repsight.key").stat().st_mode) == 0o600
    rows = [*roster_rows(), ["", "No Email", "mgr@acme.example", "X", 3, "Sales", "", "", "", ""]]
    write_csv(tmp_path / "ws" / "roster.csv", ROSTER_HEADER, rows)
    write_csv(
        tmp_path / "ws" / "accounts.csv",
        ["account_id", "name", "domains", "type"],
        [["A1", "Northwind", "northwind.example", "customer"]],
    )
    write_csv(tmp_path / "ws" / "kpis.csv", ["email", "period", "quota", "bookings"], [["ana@acme.example", "2025Q1", 100, 90]])
    result = repsight("ingest", "-c", "ws/repsight.toml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.replace("│", " ").split()) for line in result.stdout.splitlines()]
    assert "roster roster.csv 6 5 5 1" in " | ".join(lines)
    assert "accounts accounts.csv 1 1 1 0" in " | ".join(lines)
    assert "kpis kpis.csv 1 1 1 0" in " | ".join(lines)
    assert "note: mail: no file matches mail/*.mbox" in result.stdout
    assert "repsight quarantine -c ws/repsight.toml" in result.stdout
    listing = repsight("quarantine", "-c", "ws", cwd=tmp_path)
    assert "row 7" in listing.stdout and "is empty; every person needs an email" in listing.stdout
    status = repsight("status", "-c", "ws", cwd=tmp_path)
    lines = [" ".join(line.replace("│", " ").split()) for line in status.stdout.splitlines()]
    assert "people 5" in lines and "kpis 1" in lines and "quarantine 1" in lines
    assert any(line.startswith("roster.csv 6 5 1 ") for line in lines)  # no file changed or removed a row: no such columns


def test_config_error_is_one_clear_line_without_traceback(tmp_path: Path) -> None:
    result = repsight("ingest", "-c", "missing/repsight.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "error: missing/repsight.toml: no configuration file here; create one with `repsight init DIR`"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = repsight("--debug", "ingest", "-c", "missing/repsight.toml", cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "ConfigError" in result.stderr


def test_missing_key_names_the_key_file(tmp_path: Path) -> None:
    repsight("init", "ws", cwd=tmp_path)
    (tmp_path / "ws" / ".repsight.key").unlink()
    result = repsight("ingest", "-c", "ws", cwd=tmp_path)
    assert result.returncode == 2
    assert "ws/.repsight.key: the pseudonymisation key file is missing" in result.stderr
    assert "Traceback" not in result.stderr


def test_key_from_environment_needs_no_key_file(tmp_path: Path) -> None:
    result = repsight("init", "ws", cwd=tmp_path, env={"REPSIGHT_KEY": "a-key-from-the-environment"})
    assert result.returncode == 0
    assert not (tmp_path / "ws" / ".repsight.key").exists()
    env = {"REPSIGHT_KEY": "a-key-from-the-environment"}
    before = repsight("status", "-c", "ws", cwd=tmp_path, env=env)
    assert before.returncode == 1 and "no workspace database yet; load data with `repsight ingest" in before.stderr
    assert not (tmp_path / "ws" / "repsight.duckdb").exists(), "reading must not create the workspace"
    repsight("ingest", "-c", "ws", cwd=tmp_path, env=env)
    after = repsight("status", "-c", "ws", cwd=tmp_path, env=env)
    assert after.returncode == 0 and "people" in after.stdout


def test_demo_generates_ingests_and_says_where_to_look_next(tmp_path: Path) -> None:
    result = repsight("demo", "--people", "60", "--months", "3", "--out", "d", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Generated 60 people" in result.stdout
    assert "Where to look next" in result.stdout and "repsight status -c d/repsight.toml" in result.stdout
    assert (tmp_path / "d" / "truth.json").exists() and (tmp_path / "d" / "repsight.duckdb").exists()
    assert "Measured 60 people" in result.stdout
    # The demo ends with the study's headline table and its caveat.
    assert "The study: bottom vs top quarter of sellers" in result.stdout
    assert CUSTOMER_TIME in result.stdout and "Caveat: These are associations" in result.stdout
    # A second demo into the same folder replaces the first.
    again = repsight("demo", "--people", "60", "--months", "3", "--out", "d", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_demo_refuses_a_folder_that_is_not_an_earlier_demo(tmp_path: Path) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("do not delete")
    result = repsight("demo", "--people", "60", "--months", "3", "--out", "precious", cwd=tmp_path)
    assert result.returncode == 2
    assert "precious: not empty and not an earlier demo; choose another --out folder" in result.stderr
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "do not delete"


def test_metrics_then_export_in_every_format(tmp_path: Path) -> None:
    assert repsight("demo", "--people", "60", "--months", "3", "--out", "d", cwd=tmp_path).returncode == 0
    again = repsight("metrics", "-c", "d", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Nothing was loaded since the last run: the stored metrics of 60 people stand" in " ".join(again.stdout.split())
    result = repsight("metrics", "-c", "d", "--full", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Measured 60 people" in result.stdout and "on duckdb" in result.stdout
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    quartiles = [line for line in lines if line.startswith(("1 (lowest)", "2 ", "3 ", "4 (top)"))]
    assert len(quartiles) == 4
    for fmt, name in (("csv", "m.csv"), ("parquet", "m.parquet"), ("viva", "viva.csv")):
        exported = repsight("export", "-c", "d", "--format", fmt, "--out", name, cwd=tmp_path)
        assert exported.returncode == 0, exported.stderr
        assert f"to {name}" in exported.stdout
    header = (tmp_path / "viva.csv").read_text().splitlines()[0]
    assert header.startswith('"PersonId","MetricDate"')
    for column in ("Collaboration_hours", "Internal_network_size", "Network_outside_organisation", "Organization"):
        assert f'"{column}"' in header
    weeks = repsight("export", "-c", "d", "--table", "person_week", "--out", "w.csv", cwd=tmp_path)
    assert weeks.returncode == 0, weeks.stderr


def test_export_before_metrics_says_what_to_run(tmp_path: Path) -> None:
    assert repsight("init", "ws", "--domain", "acme.example", cwd=tmp_path).returncode == 0
    write_csv(tmp_path / "ws" / "roster.csv", ROSTER_HEADER, roster_rows())
    repsight("ingest", "-c", "ws", cwd=tmp_path)  # roster only: accounts, KPIs and exports are missing
    result = repsight("export", "-c", "ws", "--out", "x.csv", cwd=tmp_path)
    assert result.returncode == 1
    advice = f"the person_period table is empty; compute the metrics first with `repsight metrics -c {tmp_path / 'ws' / 'repsight.toml'}`"
    assert advice in " ".join(result.stderr.split())
    metrics = repsight("metrics", "-c", "ws", cwd=tmp_path)
    assert metrics.returncode == 1
    assert "no messages or meetings are stored yet" in metrics.stderr and "Traceback" not in metrics.stderr


def test_analyze_prints_the_headline_table_and_writes_the_json_contract(tmp_path: Path) -> None:
    assert repsight("demo", "--people", "60", "--months", "3", "--out", "d", cwd=tmp_path).returncode == 0
    result = repsight("analyze", "-c", "d", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert any(line.startswith(f"{CUSTOMER_TIME} ") for line in lines), result.stdout
    assert "Caveat:" in result.stdout
    written = repsight("analyze", "-c", "d", "--json", "out/study.json", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    document = json.loads((tmp_path / "out" / "study.json").read_text())
    assert set(document) >= {"population", "thresholds", "phase1", "model", "phase2", "dynamics", "leading"}
    assert document["population"]["periods"] == ["2024Q3"]
    assert document["phase1"]["customer_hours"]["ci"][0] <= document["phase1"]["customer_hours"]["ci"][1]


def test_analyze_before_metrics_says_what_to_run(tmp_path: Path) -> None:
    assert repsight("demo", "--people", "60", "--months", "3", "--out", "d", cwd=tmp_path).returncode == 0
    subprocess.run(
        [sys.executable, "-c", "import duckdb; duckdb.connect('d/repsight.duckdb').execute('DELETE FROM person_period')"],
        cwd=tmp_path,
        check=True,
    )
    result = repsight("analyze", "-c", "d", cwd=tmp_path)
    assert result.returncode == 1
    advice = f"no rep has both metrics and an attainment for a period: run `repsight metrics -c {tmp_path / 'd' / 'repsight.toml'}` first"
    assert advice in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    unwritable = repsight("metrics", "-c", "d", cwd=tmp_path)
    assert unwritable.returncode == 0
    (tmp_path / "blocked").write_text("a file, not a folder")
    result = repsight("analyze", "-c", "d", "--json", "blocked/study.json", cwd=tmp_path)
    assert result.returncode == 1 and "blocked/study.json: cannot write the study" in result.stderr
    assert "Traceback" not in result.stderr


def test_quarantine_and_status_in_80_columns_keep_timestamps_and_dated_file_names_whole(tmp_path: Path) -> None:
    assert repsight("init", "ws", "--domain", "acme.example", cwd=tmp_path).returncode == 0
    config = tmp_path / "ws" / "repsight.toml"
    roster = "hr/exports/2024-06-30/roster-2024-06-30.csv"
    config.write_text(config.read_text().replace('roster = "roster.csv"', f'roster = "{roster}"', 1))
    timestamp = "'2024-13-45T99:99:99.123456+00:00'"
    rows = [
        *roster_rows(),
        ["dee@acme.example", "Dee Rep", "mgr@acme.example", "Sales NA SMB", 3, "Sales", "NA", "", "", timestamp[1:-1]],
    ]
    write_csv(tmp_path / "ws" / roster, ROSTER_HEADER, rows)
    ingested = repsight("ingest", "-c", "ws", cwd=tmp_path, columns=80)  # roster only: accounts and KPIs are missing
    assert "`repsight quarantine -c ws/repsight.toml`" in ingested.stdout.splitlines()  # a command to copy: whole
    for command in ("quarantine", "status"):
        result = repsight(command, "-c", "ws", cwd=tmp_path, columns=80)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert all(len(line) <= 80 for line in lines) and "…" not in result.stdout, result.stdout
        # The file name wraps after a "/" where it must, never inside a part; a timestamp is one word.
        assert any(line.startswith("roster-2024-06-30.csv") for line in lines), result.stdout
        assert any(line.startswith("hr/exports/") for line in lines), result.stdout
        if command == "quarantine":
            assert any(timestamp in line for line in lines), result.stdout
