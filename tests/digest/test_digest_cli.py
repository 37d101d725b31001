"""`repsight digest` as a user runs it: a table of messages and a line of counts; errors in one line, without a traceback."""

from __future__ import annotations

from pathlib import Path

from repsight.config import Config
from tests.digest.conftest import Relay
from tests.digest.oracle import read_company
from tests.support import repsight


def add_digest(config: Config, text: str) -> None:
    with config.path.open("a", encoding="utf-8") as handle:
        handle.write("\n[digest]\n" + text)


def test_digest_to_an_outbox_lists_each_message_and_says_who_got_nothing(fresh: Config, tmp_path: Path) -> None:
    stored = read_company(fresh)
    reps = stored.reps(stored.latest_week, stored.period)
    done = repsight("digest", "-c", str(fresh.path), "--outbox", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Weekly digest, week of 2024-09-30 (2024Q3)"
    assert sorted(line.split()[0] for line in lines[3:-1]) == sorted(reps)
    assert {line.split()[1] for line in lines[3:-1]} == {"written"}
    assert lines[-1].startswith(f"{len(reps)} written to {tmp_path / 'out'} (WEEK_EMAIL.eml). No digest for: ")
    assert "11 without a rep role" in lines[-1]
    assert len(list((tmp_path / "out").glob("2024-09-30_*.eml"))) == len(reps)


def test_a_week_that_is_not_a_monday_is_one_line(fresh: Config, tmp_path: Path) -> None:
    done = repsight("digest", "-c", str(fresh.path), "--week", "2024-09-25", "--outbox", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == "error: --week 2024-09-25: a week starts on a Monday, and that day is a Wednesday\n"
    assert done.stdout == ""


def test_outbox_or_send_is_required_and_not_both(fresh: Config, tmp_path: Path) -> None:
    for extra in ([], ["--outbox", str(tmp_path), "--send"]):
        done = repsight("digest", "-c", str(fresh.path), *extra, cwd=tmp_path)
        assert done.returncode == 2
        assert "give one of --outbox DIR and --send" in done.stderr


def test_send_with_an_unset_password_variable_is_a_config_error(fresh: Config, tmp_path: Path) -> None:
    add_digest(fresh, 'smtp_user = "digest"\nsmtp_password_env = "REPSIGHT_TEST_UNSET_PASSWORD"\n')
    done = repsight("digest", "-c", str(fresh.path), "--send", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"error: {fresh.path}: [digest] smtp_password_env: the environment variable REPSIGHT_TEST_UNSET_PASSWORD "
        "is not set; set it to the relay's password\n"
    )


def test_send_reports_each_message_and_exits_1_when_one_failed(fresh: Config, relay: Relay, tmp_path: Path) -> None:
    stored = read_company(fresh)
    reps = sorted(stored.reps(stored.latest_week, stored.period))
    keep = reps[:3]
    opted = [r["email"] for r in stored.roster if r["email"] not in keep]
    add_digest(
        fresh,
        f'smtp_host = "{relay.host}"\nsmtp_port = {relay.port}\nsmtp_security = "none"\nsender = "digest@acme.example"\n'
        f"opt_out = [{', '.join(repr(e).replace(chr(39), chr(34)) for e in opted)}]\n",
    )
    relay.handler.refuse = {keep[2]}
    done = repsight("digest", "-c", str(fresh.path), "--send", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in done.stdout.splitlines()[2:-1] if "@" in line}
    assert rows[keep[0]] == ["delivered", "1"] and rows[keep[1]] == ["delivered", "1"]
    assert rows[keep[2]] == ["failed", "1  550 5.1.1 Mailbox unavailable"]
    assert done.stdout.splitlines()[-1].startswith("2 delivered, 1 failed, 0 skipped. No digest for: ")
    again = repsight("digest", "-c", str(fresh.path), "--send", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stdout.splitlines()[-1].startswith("0 delivered, 1 failed, 2 skipped.")


def test_the_help_names_the_settings_section_send_uses(tmp_path: Path) -> None:
    shown = repsight("digest", "--help", cwd=tmp_path)
    assert shown.returncode == 0 and "relay of the [digest] settings" in " ".join(shown.stdout.split())
