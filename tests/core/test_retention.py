"""`[privacy] retention_months`: `repsight purge` and every ingest delete the events older than the retention (docs/privacy.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from repsight.config import Config
from repsight.retention import retention_cutoff
from repsight.store import Store
from repsight.workspace import init_workspace
from tests.support import ROSTER_HEADER, repsight, roster_rows, write_csv

MAIL = ["message_id", "sent_at", "sender", "to", "cc", "bcc"]
CALENDAR = ["event_id", "start", "end", "organizer", "attendees", "declined", "is_cancelled", "is_all_day"]


@pytest.mark.parametrize(
    ("months", "today", "first_kept"),
    [
        (1, date(2025, 3, 31), date(2025, 2, 28)),
        (12, date(2024, 2, 29), date(2023, 2, 28)),
        (3, date(2025, 1, 15), date(2024, 10, 15)),
    ],
)
def test_the_cutoff_is_whole_calendar_months_before_today(months: int, today: date, first_kept: date) -> None:
    assert retention_cutoff(months, today) == first_kept


def events_workspace(folder: Path) -> Config:
    """Return a workspace holding a message and a meeting 400 days old, and one of each 10 days old."""
    config = init_workspace(folder, domains=["acme.example"], mail=["mail/*.csv"], calendar=["calendar/*.csv"])
    write_csv(folder / "roster.csv", ROSTER_HEADER, roster_rows())
    write_csv(folder / "accounts.csv", ["account_id", "name", "domains", "type"], [])
    write_csv(folder / "kpis.csv", ["email", "period", "quota", "bookings"], [])
    old, new = (datetime.now(UTC) - timedelta(days=d) for d in (400, 10))
    write_csv(
        folder / "mail" / "m.csv",
        MAIL,
        [
            [k, t.strftime("%Y-%m-%dT09:00:00Z"), "ana@acme.example", "ben@acme.example", "", ""]
            for k, t in (("old", old), ("new", new))
        ],
    )
    write_csv(
        folder / "calendar" / "c.csv",
        CALENDAR,
        [
            [
                k,
                t.strftime("%Y-%m-%dT09:00:00Z"),
                t.strftime("%Y-%m-%dT10:00:00Z"),
                "ana@acme.example",
                "ben@acme.example",
                "",
                "",
                "",
            ]
            for k, t in (("old", old), ("new", new))
        ],
    )
    return config


def retain(config: Config, months: int) -> None:
    text = config.path.read_text(encoding="utf-8")
    config.path.write_text(text.replace("# retention_months = 24", f"retention_months = {months}"), encoding="utf-8")


def event_days(config: Config) -> list[tuple[str, int]]:
    """Return (table, age in days) of every stored event and participant row's event."""
    today = datetime.now(UTC).replace(tzinfo=None)
    with Store.open(config) as store:
        messages = store.table("messages").to_pyarrow().to_pylist()
        meetings = store.table("meetings").to_pyarrow().to_pylist()
        recipients, attendees = store.count("message_recipients"), store.count("meeting_attendees")
    ages = [("messages", (today - m["sent_at"]).days) for m in messages] + [
        ("meetings", (today - m["start_at"]).days) for m in meetings
    ]
    return sorted(ages) + [("message_recipients", recipients), ("meeting_attendees", attendees)]


def test_purge_deletes_the_events_before_the_cutoff_and_keeps_the_later(tmp_path: Path) -> None:
    config = events_workspace(tmp_path / "ws")
    assert repsight("ingest", "-c", "ws", cwd=tmp_path).returncode == 0
    assert [t for t, _ in event_days(config)].count("messages") == 2
    retain(config, 12)
    result = repsight("purge", "-c", "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    cutoff = retention_cutoff(12, datetime.now(UTC).date())
    kept = (datetime.now(UTC) - timedelta(days=10)).date()
    assert (
        f"retention ([privacy] retention_months = 12): deleted 1 messages and 1 meetings before {cutoff:%Y-%m-%d}; "
        f"events left: {kept:%Y-%m-%d} to {kept:%Y-%m-%d}"
    ) in " ".join(result.stdout.split())
    days = event_days(config)
    assert [t for t, _ in days] == ["meetings", "messages", "message_recipients", "meeting_attendees"]
    assert all(age < 12 for t, age in days if t in ("meetings", "messages"))
    assert dict(days)["message_recipients"] == 1 and dict(days)["meeting_attendees"] == 2
    with Store.open(config) as store:
        assert store.setting("retention_cutoff") == cutoff.isoformat()


def test_ingest_with_a_retention_purges(tmp_path: Path) -> None:
    config = events_workspace(tmp_path / "ws")
    retain(config, 12)
    result = repsight("ingest", "-c", "ws", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "deleted 1 messages and 1 meetings before" in " ".join(result.stdout.split())
    days = event_days(config)
    assert [t for t, _ in days] == ["meetings", "messages", "message_recipients", "meeting_attendees"]
    assert all(age < 12 for t, age in days if t in ("meetings", "messages"))
    assert dict(days)["message_recipients"] == 1 and dict(days)["meeting_attendees"] == 2


def test_purge_without_a_retention_names_the_setting(tmp_path: Path) -> None:
    events_workspace(tmp_path / "ws")
    result = repsight("purge", "-c", "ws", cwd=tmp_path)
    assert result.returncode == 2
    assert "[privacy] retention_months is not set: there is nothing to purge" in result.stderr
    assert "Traceback" not in result.stderr
