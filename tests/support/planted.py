"""An independent reading of a synthetic company's files: the planted effects, measured.

Written plainly with pandas and no repsight code, so that it checks the
generator's output files, not its internals. Metrics follow DESIGN.md in
simplified form (meeting hours are summed, not unioned).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SENIOR_LEVEL = 7


def _read_all(folder: Path, kind: str, key: str) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((folder / kind).glob("*.csv"))]
    table = pd.concat(frames, ignore_index=True)
    table = table.drop_duplicates(subset=["event_id", "start"]) if kind == "calendar" else table.drop_duplicates(subset=[key])
    return table


def _week(moments: pd.Series) -> pd.Series:
    utc = pd.to_datetime(moments, utc=True, format="ISO8601")
    return utc.dt.tz_localize(None).dt.normalize() - pd.to_timedelta(utc.dt.day_of_week, unit="D")


def person_weeks(folder: Path) -> pd.DataFrame:
    """Return one row per rep and week with the measured behaviour."""
    roster = pd.read_csv(folder / "roster.csv", dtype=str, keep_default_na=False)
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str)
    customer_domains = set(accounts.loc[accounts.type.isin(["customer", "prospect"]), "domains"])
    level = dict(zip(roster.email, roster.level.astype(int), strict=True))
    manager = dict(zip(roster.email, roster.manager_email, strict=True))
    reps = set(pd.read_csv(folder / "kpis.csv").email)
    internal = set(roster.email)

    def is_customer(address: str) -> bool:
        return address.split("@")[-1] in customer_domains

    rows: list[dict[str, object]] = []
    mail = _read_all(folder, "mail", "message_id")
    mail["week"] = _week(mail.sent_at)
    for m in mail.itertuples():
        recipients = [a for a in f"{m.to};{m.cc};{m.bcc}".split(";") if a]
        everyone = [m.sender, *recipients]
        broadcast = len(recipients) > 50
        for person in everyone:
            if person not in reps:
                continue
            sent = person == m.sender
            minutes = 5.0 if sent else 2.5
            others = [a for a in everyone if a != person]
            # Ties: the sender with each recipient, not recipients with each other.
            tied = recipients if sent else [m.sender]
            rows.append(
                {
                    "person": person,
                    "week": m.week,
                    "customer": minutes if not broadcast and any(is_customer(a) for a in others) else 0.0,
                    "senior": minutes
                    if not broadcast and len(everyone) <= 8 and any(level.get(a, 0) >= SENIOR_LEVEL for a in others)
                    else 0.0,
                    "manager": minutes if not broadcast and len(everyone) <= 8 and manager.get(person) in others else 0.0,
                    "ties": [a for a in tied if a in internal] if not broadcast and len(everyone) <= 5 else [],
                }
            )
    calendar = _read_all(folder, "calendar", "event_id")
    calendar = calendar[
        (calendar.is_cancelled == "false") & (calendar.is_all_day == "false") & (calendar.is_transparent == "false")
    ]
    calendar["week"] = _week(calendar.start)
    hours = (
        pd.to_datetime(calendar.end, utc=True, format="ISO8601") - pd.to_datetime(calendar.start, utc=True, format="ISO8601")
    ).dt.total_seconds() / 3600
    calendar["hours"] = hours
    for m in calendar.itertuples():
        declined = set(filter(None, m.declined.split(";")))
        counted = [a for a in [m.organizer, *m.attendees.split(";")] if a and a not in declined]
        if len(counted) < 2:
            continue
        for person in counted:
            if person not in reps:
                continue
            others = [a for a in counted if a != person]
            rows.append(
                {
                    "person": person,
                    "week": m.week,
                    "customer": m.hours * 60 if any(is_customer(a) for a in others) else 0.0,
                    "senior": m.hours * 60 if len(counted) <= 8 and any(level.get(a, 0) >= SENIOR_LEVEL for a in others) else 0.0,
                    "manager": m.hours * 60 if len(counted) <= 8 and manager.get(person) in others else 0.0,
                    "ties": [a for a in others if a in internal] if len(counted) <= 5 else [],
                }
            )
    events = pd.DataFrame(rows)
    weekly = (
        events.groupby(["person", "week"]).agg(
            customer_hours=("customer", "sum"), senior_leader_hours=("senior", "sum"), manager_hours=("manager", "sum")
        )
        / 60
    )
    ties = events[["person", "week", "ties"]].explode("ties").dropna()
    weeks = sorted(events.week.unique())
    network: dict[tuple[str, pd.Timestamp], int] = {}
    tie_counts = ties.groupby(["person", "week", "ties"]).size().rename("n").reset_index()
    for i, week in enumerate(weeks):
        window = tie_counts[tie_counts.week.isin(weeks[max(0, i - 3) : i + 1])]
        sizes = window.groupby(["person", "ties"]).n.sum()
        per_person = (sizes >= 2).groupby(level="person").sum()
        for person, size in per_person.items():
            network[(person, week)] = int(size)
    weekly["internal_network_size"] = [network.get(k, 0) for k in weekly.index]
    return weekly.reset_index()


def quarter_table(folder: Path) -> pd.DataFrame:
    """Return one row per rep and quarter: mean weekly behaviour and attainment."""
    weekly = person_weeks(folder)
    weekly["period"] = weekly.week.dt.to_period("Q").astype(str).str.replace("Q", "Q")
    means = weekly.groupby(["person", "period"]).mean(numeric_only=True).reset_index()
    kpis = pd.read_csv(folder / "kpis.csv")
    kpis["attainment"] = kpis.bookings / kpis.quota
    table = kpis.rename(columns={"email": "person"}).merge(means, on=["person", "period"])
    table["quartile"] = table.groupby("period").attainment.transform(lambda a: pd.qcut(a, 4, labels=False))
    return table


def bottom_vs_top(table: pd.DataFrame, metric: str) -> float:
    """Return how much lower (negative) the bottom quartile's mean is than the top's, as a share."""
    top = table.loc[table.quartile == 3, metric].mean()
    bottom = table.loc[table.quartile == 0, metric].mean()
    return float(bottom / top - 1)
