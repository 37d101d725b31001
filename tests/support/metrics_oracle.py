"""An independent oracle of docs/metrics.md: the weekly and period metrics in plain pandas and networkx.

Written from the specification alone, sharing no code with the engine
(`repsight.metrics`), so that the two can be compared. It is also the
"plain pandas" baseline of the metrics benchmark, hence vectorised where that
is as clear as a loop.

Internally every instant is an int64 count of microseconds since the epoch
(UTC, or local wall-clock time once converted), and every week is the day
number (days since 1970-01-01) of its Monday.

Readings of the specification where it leaves a choice (each one also
commented where it is applied):

- Domains are compared lower-cased and exactly (no subdomain matching); a
  null domain is `other_external`.
- Null `is_cancelled` / `is_all_day` / `is_transparent` are false; events
  with a null time are in no week and never count; a null sender or
  organiser is no one.
- The organiser is a counted person even when their own attendee row says
  `declined` ("its organiser and its attendees whose response is not
  declined"). Responses are compared lower-cased.
- A meeting's whole length is credited to the week of its start, and unions
  are taken within a week only: a meeting that starts on Sunday and runs
  into Monday is not merged with an overlapping meeting of the next week.
- Senior-leader and manager email time follows the table literally: messages
  with at most `small_meeting_max_people` people, with no separate broadcast
  test (with the defaults such a message cannot be a broadcast anyway).
- A tie is a fact of the data: ties in weeks outside a person's reported
  weeks (before the hire week, say) still count in the network window of
  their reported weeks, and a week without activity still has the
  `internal_network_size` / `org_span` its window gives ("zeros" is read as
  zero hours and counts).
- `org_span` ignores null or empty `org` values; a person with no org of
  their own excludes nothing.
- `period_start` is the first day of the period (as in `kpis.period_start`),
  not the first Monday in it.
- Eigenvector centrality: when several components share the largest leading
  eigenvalue (relative difference under 1e-9), each of them keeps its own
  leading eigenvector scaled to a largest entry of 1 (the specification
  leaves the choice inside a degenerate eigenspace open).
- Betweenness is always exact: sampling above `betweenness_exact_max_people`
  is not implemented here.
- Customer engagement: a customer address's account is the `account_id` of
  its domain's `account_domains` row (domains compared as for classes); a
  null `account_id` adds no account, though its address is still a contact.
  The period's engagement (`accounts_touched`, `contacts_per_account`,
  `account_cadence`) reads only interactions in the person's weeks (the
  weeks of their `person_week` rows), as the weekly counts do.
- A reply to a customer is counted in the period of its own week (the
  week of its `sent_at`), among the person's weeks; its parent may be any
  stored message (counted or not, in any week), and "the person as a
  recipient" is any stored recipient row of the parent. Reply times are
  differences of whole seconds (each time's fraction dropped first).
- Book coverage: an account's owner is its `account_domains.owner` (a
  pseudonym); an owner who is not on the roster owns nothing measured. With
  no owner on any stored row, both columns are empty for everyone; a person
  who owns no account has `owned_accounts` 0 and an empty share.
- `account_touches`: one row per person, period and account touched, with
  the distinct contacts met at it, the person's weeks with an interaction
  with it, and the time of the last one (whole seconds).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import networkx as nx
import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse.linalg

from repsight.config import Config

__all__ = [
    "COUNT_COLUMNS",
    "ENGAGEMENT_COLUMNS",
    "HOUR_COLUMNS",
    "PERIOD_COLUMNS",
    "PERIOD_ENGAGEMENT_COLUMNS",
    "WEEK_COLUMNS",
    "oracle_account_touches",
    "oracle_graph_scores",
    "oracle_metrics",
    "oracle_person_period",
    "oracle_person_week",
    "oracle_week_ties",
]

US_PER_SECOND = 1_000_000
US_PER_HOUR = 3_600 * US_PER_SECOND
US_PER_DAY = 86_400 * US_PER_SECOND
EPOCH = date(1970, 1, 1)

HOUR_COLUMNS = [
    "meeting_hours",
    "email_hours",
    "collaboration_hours",
    "customer_hours",
    "external_hours",
    "senior_leader_hours",
    "manager_hours",
    "manager_1on1_hours",
    "after_hours_collaboration_hours",
]
ENGAGEMENT_COLUMNS = ["customer_accounts", "customer_contacts", "customer_meetings"]
COUNT_COLUMNS = ["meetings", "emails_sent", "emails_received", "internal_network_size", "org_span", *ENGAGEMENT_COLUMNS]
WEEK_COLUMNS = HOUR_COLUMNS + COUNT_COLUMNS
SCORE_COLUMNS = ["network_prominence", "network_brokerage"]
PERIOD_ENGAGEMENT_COLUMNS = [
    "accounts_touched",
    "contacts_per_account",
    "account_cadence",
    "customer_reply_hours",
    "owned_accounts",
    "owned_accounts_touched_pct",
]
# person_period's metric columns, in the order the specification's *Tables written* gives.
PERIOD_COLUMNS = (
    [c for c in WEEK_COLUMNS if c not in ENGAGEMENT_COLUMNS] + SCORE_COLUMNS + ENGAGEMENT_COLUMNS + PERIOD_ENGAGEMENT_COLUMNS
)

# The email part of each hour column: which per-message flag gates the time.
_EMAIL_PARTS = {
    "email_hours": None,
    "customer_hours": "customer",
    "external_hours": "external",
    "senior_leader_hours": "senior",
    "manager_hours": "manager",
    "after_hours_collaboration_hours": "after_hours",
}
# The meeting part of each hour column: the union over meetings with this flag.
_MEETING_PARTS = {
    "meeting_hours": None,
    "customer_hours": "customer",
    "external_hours": "external",
    "senior_leader_hours": "senior",
    "manager_hours": "manager",
    "manager_1on1_hours": "one_on_one",
}
_CUSTOMER_TYPES = ("customer", "prospect")
_MONTH_PERIOD = re.compile(r"^\d{4}-\d{2}$")


# ---------------------------------------------------------------- small helpers


def _frame(table: pd.DataFrame | pa.Table) -> pd.DataFrame:
    """Return a pandas copy of an input table (pyarrow tables are accepted too), strings as Python objects."""
    frame = table.to_pandas() if isinstance(table, pa.Table) else table.copy()
    # pandas 3's arrow-backed strings make `isin` against a large column a Python loop; objects hash.
    for column in frame.columns:
        if pd.api.types.is_string_dtype(frame[column].dtype) and frame[column].dtype != object:
            frame[column] = frame[column].astype(object)
    return frame


def _micros(values: pd.Series) -> np.ndarray:
    """Return naive UTC timestamps as int64 microseconds since the epoch (nulls must be dropped first)."""
    return pd.DatetimeIndex(pd.to_datetime(values)).as_unit("us").asi8.astype(np.int64)


def _local_micros(utc_us: np.ndarray, tz: str) -> np.ndarray:
    """Return the local wall-clock time in `tz` of UTC instants, both as microseconds since the epoch."""
    if len(utc_us) == 0:
        return np.asarray(utc_us, dtype=np.int64)
    moments = pd.DatetimeIndex(pd.to_datetime(np.asarray(utc_us, dtype=np.int64), unit="us", utc=True))
    return moments.tz_convert(tz).tz_localize(None).as_unit("us").asi8.astype(np.int64)


def _monday(day: np.ndarray) -> np.ndarray:
    """Return the day number of the Monday on or before each day number (1970-01-01 was a Thursday)."""
    day = np.asarray(day, dtype=np.int64)
    return day - (day + 3) % 7


def _weekday(day: np.ndarray) -> np.ndarray:
    """Return the weekday of day numbers, Monday 0 to Sunday 6."""
    return (np.asarray(day, dtype=np.int64) + 3) % 7


def _week_of(utc_us: np.ndarray, tz: str) -> np.ndarray:
    """Return the week (day number of the local Monday in `tz`) of UTC instants."""
    return _monday(np.floor_divide(_local_micros(utc_us, tz), US_PER_DAY))


def _day_number(values: pd.Series) -> pd.Series:
    """Return dates (or nulls) as day numbers since the epoch, nullable."""
    stamps = pd.to_datetime(values)
    return ((stamps - pd.Timestamp(EPOCH)) // pd.Timedelta(days=1)).astype("Int64")


def _to_date(day: int) -> date:
    """Return the date of a day number."""
    return EPOCH + timedelta(days=int(day))


def _valid_zone(name: object, fallback: str) -> str:
    """Return `name` if it is an IANA time zone, else `fallback` (the company's zone)."""
    if not isinstance(name, str) or not name.strip():
        return fallback
    # The name is taken as written: " Europe/Berlin" is not an IANA name.
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback
    return name


def _period_granularity(kpis: pd.DataFrame | None, setting: str) -> str:
    """Return "month" or "quarter" for the `metrics.period` setting."""
    if setting != "auto":
        return setting
    if kpis is None or kpis.empty:
        return "quarter"
    labels = kpis["period"].dropna().astype(str)
    return "month" if labels.str.match(_MONTH_PERIOD).any() else "quarter"


def _period_of(day: date, granularity: str) -> tuple[str, date]:
    """Return the label and first day of the period holding `day`."""
    if granularity == "month":
        return f"{day.year}-{day.month:02d}", date(day.year, day.month, 1)
    quarter = (day.month - 1) // 3 + 1
    return f"{day.year}Q{quarter}", date(day.year, 3 * quarter - 2, 1)


# ---------------------------------------------------------------- preparation


@dataclass
class _Prepared:
    """Everything both outputs need, computed once. Addresses are int codes into `names`."""

    config: Config
    names: np.ndarray  # the address of each code
    people: pd.DataFrame  # person, manager, org, level, zone, first_week, last_week (roster)
    msg_rows: pd.DataFrame  # one row per counted message and roster participant
    meet_rows: pd.DataFrame  # one row per counted meeting and roster counted person
    ties: pd.DataFrame  # a, b (a < b, both internal), week, n
    engagement: pd.DataFrame  # person, week and the ENGAGEMENT_COLUMNS, where a customer interaction happened
    customer_pairs: pd.DataFrame  # person, week, second, contact, account (None: no account): one row per interaction and contact
    replies: pd.DataFrame  # person, week, seconds: each reply to a customer with its reply time
    owned: pd.DataFrame | None  # person (a code), account: who owns what; None when no stored account has an owner
    granularity: str


def _per_unique(values: pd.Series, function: Callable[[pd.Series], pd.Series], null: object) -> np.ndarray:
    """Return `function` applied to the distinct non-null values, spread back to every row (`null` for nulls)."""
    codes, uniques = pd.factorize(values.to_numpy(dtype=object))
    results = function(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
    return np.where(codes >= 0, results[np.maximum(codes, 0)] if len(results) else null, null)


def _classify(domains: pd.Series, config: Config, account_types: dict[str, str]) -> np.ndarray:
    """Return the class of each domain: internal, personal, an account type, or other_external."""
    company = config.company

    def classify(unique: pd.Series) -> pd.Series:
        # Domains are compared lower-cased and exactly (no subdomains).
        lowered = unique.astype(str).str.strip().str.lower()
        classes = lowered.map(account_types).astype(object).fillna("other_external")
        classes = classes.where(~lowered.isin(company.personal_domains), "personal")
        return classes.where(~lowered.isin(company.domains), "internal")

    # A null domain matches nothing: other_external.
    return _per_unique(domains, classify, "other_external")


def _encode(tables: dict[str, pd.DataFrame | pa.Table]) -> tuple[dict[str, pd.DataFrame], np.ndarray]:
    """Return the tables with addresses and event keys as int64 codes (-1 for null), and the address of each code.

    Codes keep the joins and `isin`s on integers (fast); an event's key code is
    its row number in its deduplicated table, so per-event values are looked
    up by position. Events with a null time are in no week and are dropped.
    """
    people = _frame(tables["people"]).drop_duplicates("person").reset_index(drop=True)
    messages = _frame(tables["messages"])
    messages = messages[messages["sent_at"].notna()].drop_duplicates("message_key").reset_index(drop=True)
    meetings = _frame(tables["meetings"])
    meetings = meetings[meetings["start_at"].notna()].drop_duplicates("meeting_key").reset_index(drop=True)
    recipients = _frame(tables["message_recipients"])
    attendees = _frame(tables["meeting_attendees"])
    # A message's parent by position (-1: none, or not stored); a message may name itself.
    parent_keys = messages["parent_key"] if "parent_key" in messages.columns else pd.Series([None] * len(messages))
    messages["parent"] = pd.Index(messages["message_key"].to_numpy(dtype=object)).get_indexer(parent_keys.to_numpy(dtype=object))
    for events, parts, key in ((messages, recipients, "message_key"), (meetings, attendees, "meeting_key")):
        parts[key] = pd.Index(events[key].to_numpy(dtype=object)).get_indexer(parts[key].to_numpy(dtype=object))
        events[key] = np.arange(len(events), dtype=np.int64)
    recipients = recipients[recipients["message_key"] >= 0].reset_index(drop=True)
    attendees = attendees[attendees["meeting_key"] >= 0].reset_index(drop=True)
    columns = [
        (people, "person"),
        (people, "manager"),
        (messages, "sender"),
        (recipients, "recipient"),
        (meetings, "organizer"),
        (attendees, "attendee"),
    ]
    codes, names = pd.factorize(np.concatenate([frame[column].to_numpy(dtype=object) for frame, column in columns]))
    offset = 0
    for frame, column in columns:
        frame[column] = codes[offset : offset + len(frame)].astype(np.int64)
        offset += len(frame)
    frames = {"people": people, "messages": messages, "message_recipients": recipients, "meetings": meetings}
    frames["meeting_attendees"] = attendees
    return frames, np.asarray(names, dtype=object)


def _flags(parts: pd.DataFrame, senior: np.ndarray) -> pd.DataFrame:
    """Add per-address flags (customer, external, senior, internal) to participant rows with a `cls` column."""
    parts["is_customer"] = parts["cls"].isin(_CUSTOMER_TYPES)
    parts["is_external"] = ~parts["cls"].isin(["internal", "personal"])
    parts["is_senior"] = parts["address"].isin(senior)
    parts["is_internal"] = parts["cls"].eq("internal")
    return parts


def _person_rows(parts: pd.DataFrame, key: str, people: pd.DataFrame) -> pd.DataFrame:
    """Return one row per event and roster participant, with the event's `others` flags for that person.

    `parts` holds each event's participants once each (key, address, flags), so
    "the others include X" is "the event has more X than the person alone is".
    """
    events = int(parts[key].max()) + 1 if len(parts) else 0
    rows = parts[parts["address"].isin(people["person"])].rename(columns={"address": "person"})
    event = rows[key].to_numpy()
    for flag in ("customer", "external", "senior"):
        total = np.bincount(parts[key], weights=parts[f"is_{flag}"].astype(np.int64), minlength=events)
        rows[f"others_{flag}"] = total[event] - rows[f"is_{flag}"].astype(np.int64) > 0
    # The manager is among the others if the (event, manager) pair is a participant row.
    rows["manager"] = rows["person"].map(people.set_index("person")["manager"]).astype(np.int64)
    width = int(max(parts["address"].max() if len(parts) else 0, people["manager"].max() if len(people) else 0)) + 2
    pairs = parts[key].to_numpy(dtype=np.int64) * width + parts["address"].to_numpy(dtype=np.int64) + 1
    wanted = event.astype(np.int64) * width + rows["manager"].to_numpy() + 1
    rows["others_manager"] = (
        pd.Series(wanted, index=rows.index).isin(pairs) & (rows["manager"] >= 0) & rows["manager"].ne(rows["person"])
    )
    return rows


def _prepare(tables: dict[str, pd.DataFrame | pa.Table], config: Config) -> _Prepared:
    """Return the counted events per roster person, the ties and the roster facts."""
    metrics, company = config.metrics, config.company
    tz = company.timezone
    frames, names = _encode(tables)
    people, messages, recipients = frames["people"], frames["messages"], frames["message_recipients"]
    meetings, attendees = frames["meetings"], frames["meeting_attendees"]

    accounts = _frame(tables["account_domains"]) if "account_domains" in tables else pd.DataFrame(columns=["domain", "type"])
    account_types = dict(
        zip(
            accounts["domain"].astype(str).str.strip().str.lower(),
            accounts["type"].astype("object").where(accounts["type"].notna(), "other_external").astype(str).str.lower(),
            strict=True,
        )
    )
    account_ids = {}
    if "account_id" in accounts.columns:
        named = accounts[accounts["account_id"].notna()]
        account_ids = dict(zip(named["domain"].astype(str).str.strip().str.lower(), named["account_id"].astype(str), strict=True))
    kpis = _frame(tables["kpis"]) if "kpis" in tables else None
    senior = people.loc[people["level"].fillna(-1).astype(int) >= company.senior_level, "person"].to_numpy()
    roster = people[["person", "manager", "org", "level"]].copy()
    roster["zone"] = [_valid_zone(z, tz) for z in people["timezone"]]
    zone_of = dict(zip(roster["person"], roster["zone"], strict=True))

    # ---- messages: week, participants, counted ones
    messages["t"] = _micros(messages["sent_at"])
    messages["week"] = _week_of(messages["t"].to_numpy(), tz)
    messages["cls"] = _classify(messages["sender_domain"], config, account_types)
    recipients = recipients[recipients["recipient"] >= 0].copy()
    recipients["week"] = messages["week"].to_numpy()[recipients["message_key"]]
    recipients["cls"] = _classify(recipients["recipient_domain"], config, account_types)

    # Personal addresses are removed first; then a sender listed as recipient is not one.
    valid_sender = (messages["sender"] >= 0) & messages["cls"].ne("personal")
    sender_of = messages["sender"].to_numpy()[recipients["message_key"]]
    rec = recipients[recipients["cls"].ne("personal") & recipients["recipient"].ne(sender_of)]
    rec = rec[valid_sender.to_numpy()[rec["message_key"]]].drop_duplicates(["message_key", "recipient"])
    messages["n_recipients"] = np.bincount(rec["message_key"], minlength=len(messages))
    messages["people"] = messages["n_recipients"] + 1
    messages["broadcast"] = messages["n_recipients"] > metrics.broadcast_recipients
    messages["counted"] = valid_sender & (messages["n_recipients"] >= 1)
    counted = messages[messages["counted"]]

    mparts = pd.concat(
        [
            counted[["message_key", "sender", "cls", "sender_domain"]]
            .rename(columns={"sender": "address", "sender_domain": "domain"})
            .assign(is_sender=True),
            rec[["message_key", "recipient", "cls", "recipient_domain"]]
            .rename(columns={"recipient": "address", "recipient_domain": "domain"})
            .assign(is_sender=False),
        ],
        ignore_index=True,
    )
    mparts = _flags(mparts, senior)
    msg_rows = _person_rows(mparts, "message_key", roster)
    for column in ("t", "week", "people", "broadcast"):
        msg_rows[column] = messages[column].to_numpy()[msg_rows["message_key"]]
    small = msg_rows["people"] <= metrics.small_meeting_max_people
    msg_rows["hours"] = np.where(msg_rows["is_sender"], metrics.email_sent_minutes, metrics.email_received_minutes) / 60.0
    msg_rows["customer"] = ~msg_rows["broadcast"] & msg_rows["others_customer"]
    msg_rows["external"] = ~msg_rows["broadcast"] & msg_rows["others_external"]
    # Literal reading of the table: "messages with at most 8 people", no separate broadcast test.
    msg_rows["senior"] = small & msg_rows["others_senior"]
    msg_rows["manager"] = small & msg_rows["others_manager"]
    msg_rows["after_hours"] = ~msg_rows["broadcast"] & _outside_working_hours(msg_rows, zone_of, config)

    # ---- meetings: week, counted people, counted ones
    meetings["start"] = _micros(meetings["start_at"])
    meetings["week"] = _week_of(meetings["start"].to_numpy(), tz)
    has_end = meetings["end_at"].notna()
    meetings["end"] = meetings["start"]
    meetings.loc[has_end, "end"] = _micros(meetings.loc[has_end, "end_at"])
    meetings["cls"] = _classify(meetings["organizer_domain"], config, account_types)
    attendees = attendees[attendees["attendee"] >= 0].copy()
    attendees["week"] = meetings["week"].to_numpy()[attendees["meeting_key"]]
    attendees["cls"] = _classify(attendees["attendee_domain"], config, account_types)
    declined = _per_unique(attendees["response"], lambda u: u.astype(str).str.strip().str.lower().eq("declined"), False)
    # The organiser counts whatever their own attendee row says (see the module docstring).
    cparts = pd.concat(
        [
            meetings.loc[meetings["organizer"] >= 0, ["meeting_key", "organizer", "cls", "organizer_domain"]].rename(
                columns={"organizer": "address", "organizer_domain": "domain"}
            ),
            attendees.loc[~declined.astype(bool), ["meeting_key", "attendee", "cls", "attendee_domain"]].rename(
                columns={"attendee": "address", "attendee_domain": "domain"}
            ),
        ],
        ignore_index=True,
    )
    cparts = cparts[cparts["cls"].ne("personal")].drop_duplicates(["meeting_key", "address"])
    meetings["people"] = np.bincount(cparts["meeting_key"], minlength=len(meetings))
    flag = meetings[["is_cancelled", "is_all_day", "is_transparent"]].astype("boolean").fillna(False).astype(bool)
    length = meetings["end"] - meetings["start"]
    meetings["counted"] = (
        ~flag.any(axis=1)
        & has_end
        & (length > 0)
        & (length < metrics.meeting_max_hours * US_PER_HOUR)
        & (meetings["people"] >= 2)
    )
    cparts = _flags(cparts[meetings["counted"].to_numpy()[cparts["meeting_key"]]].copy(), senior)
    meet_rows = _person_rows(cparts, "meeting_key", roster)
    for column in ("start", "end", "week", "people"):
        meet_rows[column] = meetings[column].to_numpy()[meet_rows["meeting_key"]]
    msmall = meet_rows["people"] <= metrics.small_meeting_max_people
    meet_rows["customer"] = meet_rows["others_customer"]
    meet_rows["external"] = meet_rows["others_external"]
    meet_rows["senior"] = msmall & meet_rows["others_senior"]
    meet_rows["manager"] = msmall & meet_rows["others_manager"]
    meet_rows["one_on_one"] = meet_rows["people"].eq(2) & meet_rows["others_manager"]

    # ---- ties: meaningful interactions between two different internal addresses
    meaningful = (~messages["broadcast"] & (messages["people"] <= metrics.meaningful_max_people)).to_numpy()
    internal_m = mparts[mparts["is_internal"] & meaningful[mparts["message_key"]]]
    senders = internal_m[internal_m["is_sender"]][["message_key", "address"]]
    receivers = internal_m[~internal_m["is_sender"]][["message_key", "address"]]
    message_pairs = senders.merge(receivers, on="message_key", suffixes=("_x", "_y"))
    message_pairs["week"] = messages["week"].to_numpy()[message_pairs["message_key"]]
    meaningful = (meetings["people"] <= metrics.meaningful_max_people).to_numpy()
    internal_c = cparts[cparts["is_internal"] & meaningful[cparts["meeting_key"]]][["meeting_key", "address"]]
    meeting_pairs = internal_c.merge(internal_c, on="meeting_key", suffixes=("_x", "_y"))
    meeting_pairs = meeting_pairs[meeting_pairs["address_x"] < meeting_pairs["address_y"]]
    meeting_pairs["week"] = meetings["week"].to_numpy()[meeting_pairs["meeting_key"]]
    pairs = pd.concat([message_pairs, meeting_pairs], ignore_index=True)
    pairs = pairs[pairs["address_x"] != pairs["address_y"]]
    ties = pd.DataFrame(
        {
            "a": np.minimum(pairs["address_x"], pairs["address_y"]).to_numpy(dtype=np.int64),
            "b": np.maximum(pairs["address_x"], pairs["address_y"]).to_numpy(dtype=np.int64),
            "week": pairs["week"].to_numpy(dtype=np.int64),
        }
    )
    ties = ties.groupby(["a", "b", "week"], as_index=False).size().rename(columns={"size": "n"})

    # ---- appearances: any stored event, whatever its status, fixes a person's weeks
    appearances = pd.DataFrame(
        {
            "person": np.concatenate([messages["sender"], recipients["recipient"], meetings["organizer"], attendees["attendee"]]),
            "week": np.concatenate([messages["week"], recipients["week"], meetings["week"], attendees["week"]]),
        }
    )
    appearances = appearances[appearances["person"].isin(roster["person"])]
    span = appearances.groupby("person")["week"].agg(first_week="min", last_week="max")
    seen = roster["person"].isin(span.index).to_numpy()
    hire = _day_number(people["hire_date"]).to_numpy(dtype="float64", na_value=np.nan)
    leave = _day_number(people["leave_date"]).to_numpy(dtype="float64", na_value=np.nan)
    hire_week = np.where(np.isnan(hire), -np.inf, _monday(np.nan_to_num(hire).astype(np.int64)))
    leave_week = np.where(np.isnan(leave), np.inf, _monday(np.nan_to_num(leave).astype(np.int64)))
    # Someone never seen has no range, whatever their hire and leave dates.
    roster["first_week"] = np.where(
        seen, np.maximum(roster["person"].map(span["first_week"]).to_numpy(dtype=float), hire_week), np.nan
    )
    roster["last_week"] = np.where(
        seen, np.minimum(roster["person"].map(span["last_week"]).to_numpy(dtype=float), leave_week), np.nan
    )

    # ---- customer engagement: each interaction's customer addresses (contacts) and their accounts
    not_broadcast = ~messages["broadcast"].to_numpy()
    # Whole seconds: each time's fraction dropped (floor, also before 1970).
    message_seconds = messages["t"].to_numpy(dtype=np.int64) // US_PER_SECOND
    engagement, customer_pairs = _engagement(
        [
            (mparts[not_broadcast[mparts["message_key"]]], "message_key", messages["week"].to_numpy(), message_seconds),
            (cparts, "meeting_key", meetings["week"].to_numpy(), meetings["start"].to_numpy(dtype=np.int64) // US_PER_SECOND),
        ],
        roster["person"],
        account_ids,
    )
    replies = _replies(messages, message_seconds, recipients, roster["person"], metrics.reply_max_days)
    owned = _owned(accounts, roster["person"], names)

    return _Prepared(
        config=config,
        names=names,
        people=roster,
        msg_rows=msg_rows,
        meet_rows=meet_rows,
        ties=ties,
        engagement=engagement,
        customer_pairs=customer_pairs,
        replies=replies,
        owned=owned,
        granularity=_period_granularity(kpis, metrics.period),
    )


def _replies(
    messages: pd.DataFrame, seconds: np.ndarray, recipients: pd.DataFrame, roster: pd.Series, max_days: int
) -> pd.DataFrame:
    """Return person, week, seconds: each reply to a customer (a counted message of a roster person) with its reply time.

    `messages` are the stored messages by position with `parent`, `counted`,
    `cls` (the sender's class) and `week`; `seconds` their whole epoch
    seconds; `recipients` every stored recipient row (message_key, recipient).
    """
    parent = messages["parent"].to_numpy(dtype=np.int64)
    child = np.flatnonzero(messages["counted"].to_numpy(dtype=bool) & messages["sender"].isin(roster).to_numpy() & (parent >= 0))
    replies = pd.DataFrame(
        {
            "child": child,
            "parent": parent[child],
            "person": messages["sender"].to_numpy(dtype=np.int64)[child],
        }
    )
    replies = replies[messages["cls"].isin(_CUSTOMER_TYPES).to_numpy()[replies["parent"]]]
    read = recipients[["message_key", "recipient"]].rename(columns={"message_key": "parent", "recipient": "person"})
    replies = replies.merge(read.drop_duplicates(), on=["parent", "person"])
    delay = seconds[replies["child"]] - seconds[replies["parent"]]
    kept = (delay >= 0) & (delay <= max_days * 86_400)
    return pd.DataFrame(
        {
            "person": replies["person"].to_numpy(dtype=np.int64)[kept],
            "week": messages["week"].to_numpy(dtype=np.int64)[replies["child"].to_numpy()[kept]],
            "seconds": delay[kept].astype(np.int64),
        }
    )


def _owned(accounts: pd.DataFrame, roster: pd.Series, names: np.ndarray) -> pd.DataFrame | None:
    """Return person (a code), account: the accounts each roster person owns; None when no account row has an owner."""
    if "owner" not in accounts.columns or not accounts["owner"].notna().any():
        return None
    owned = accounts.loc[accounts["owner"].notna(), ["owner", "account_id"]].drop_duplicates()
    code_of = {address: code for code, address in enumerate(names)}
    owned["person"] = owned["owner"].map(code_of)
    owned = owned[owned["person"].notna()]
    owned = owned[owned["person"].astype(np.int64).isin(roster)]
    return pd.DataFrame(
        {"person": owned["person"].to_numpy(dtype=np.int64), "account": owned["account_id"].astype(str).to_numpy()}
    )


def _engagement(
    sources: list[tuple[pd.DataFrame, str, np.ndarray, np.ndarray]], roster: pd.Series, account_ids: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return person, week, customer_accounts, customer_contacts, customer_meetings per person-week with a customer interaction.

    And the pairs they are counted from: person, week, second, contact, account.

    Each source is (participants of the events that may be interactions, each
    once, with `address`, `domain` and `is_customer`; the event key column;
    the week of each event by key; its whole epoch second by key). An interaction is an event of a roster
    participant whose others include a customer address: one pair per
    (person, customer address other than the person) of the event.
    """
    frames = []
    for parts, key, weeks, seconds in sources:
        persons = parts.loc[parts["address"].isin(roster), [key, "address"]].rename(columns={"address": "person"})
        customers = parts.loc[parts["is_customer"], [key, "address", "domain"]].rename(columns={"address": "contact"})
        pairs = persons.merge(customers, on=key)
        pairs = pairs[pairs["person"] != pairs["contact"]]
        frames.append(
            pd.DataFrame(
                {
                    "person": pairs["person"].to_numpy(dtype=np.int64),
                    "week": weeks[pairs[key].to_numpy(dtype=np.int64)].astype(np.int64),
                    "second": seconds[pairs[key].to_numpy(dtype=np.int64)].astype(np.int64),
                    "contact": pairs["contact"].to_numpy(dtype=np.int64),
                    # Domains compared lower-cased, as for the classes.
                    "account": pairs["domain"].astype(str).str.strip().str.lower().map(account_ids).to_numpy(dtype=object),
                    "meeting": pairs[key].to_numpy(dtype=np.int64) if key == "meeting_key" else np.full(len(pairs), -1),
                }
            )
        )
    pairs = pd.concat(frames, ignore_index=True)
    grouped = pairs.groupby(["person", "week"])
    out = pd.DataFrame(
        {
            "customer_accounts": grouped["account"].nunique(dropna=True),
            "customer_contacts": grouped["contact"].nunique(),
        }
    )
    # Messages carry no meeting (-1): the counted meetings among the interactions.
    meetings = pairs[pairs["meeting"] >= 0].groupby(["person", "week"])["meeting"].nunique()
    out["customer_meetings"] = meetings.reindex(out.index, fill_value=0)
    return out.reset_index(), pairs[["person", "week", "second", "contact", "account"]]


def _outside_working_hours(rows: pd.DataFrame, zone_of: dict[str, str], config: Config) -> pd.Series:
    """Return whether each message row's `t` falls outside working hours in the row's person's time zone."""
    start, end = config.metrics.working_seconds
    days = set(config.metrics.working_weekdays)
    outside = pd.Series(False, index=rows.index)
    zones = rows["person"].map(zone_of)
    for zone, group in rows.groupby(zones, sort=False):
        local = _local_micros(group["t"].to_numpy(), str(zone))
        day = np.floor_divide(local, US_PER_DAY)
        second = (local - day * US_PER_DAY) / US_PER_SECOND
        inside = np.isin(_weekday(day), list(days)) & (second >= start) & (second < end)
        outside.loc[group.index] = ~inside
    return outside


# ---------------------------------------------------------------- meeting unions


def _union(intervals: pd.DataFrame) -> pd.DataFrame:
    """Return the union of [start, end) intervals per (person, week), as disjoint intervals."""
    if intervals.empty:
        return pd.DataFrame({"person": [], "week": [], "start": [], "end": []})
    iv = intervals[["person", "week", "start", "end"]].sort_values(["person", "week", "start", "end"], ignore_index=True)
    reach = iv.groupby(["person", "week"], sort=False)["end"].cummax()
    previous = reach.groupby([iv["person"], iv["week"]], sort=False).shift(1)
    # A new block starts where an interval begins after everything before it in the group has ended.
    block = (previous.isna() | (iv["start"] > previous)).cumsum()
    return iv.groupby(block, sort=False).agg(
        person=("person", "first"), week=("week", "first"), start=("start", "min"), end=("end", "max")
    )


def _empty_by_week() -> pd.Series:
    """Return an empty float Series indexed by (person, week)."""
    return pd.Series([], dtype=float, index=pd.MultiIndex.from_arrays([[], []], names=["person", "week"]))


def _union_hours(intervals: pd.DataFrame) -> pd.Series:
    """Return the union hours per (person, week)."""
    merged = _union(intervals)
    if merged.empty:
        return _empty_by_week()
    merged["hours"] = (merged["end"] - merged["start"]) / US_PER_HOUR
    return merged.groupby(["person", "week"])["hours"].sum()


def _after_hours(merged: pd.DataFrame, zone_of: dict[str, str], config: Config) -> pd.Series:
    """Return the after-hours part of union intervals per (person, week), each moved by its start's offset."""
    if merged.empty:
        return _empty_by_week()
    ws, we = (s * US_PER_SECOND for s in config.metrics.working_seconds)
    days = list(config.metrics.working_weekdays)
    merged = merged.reset_index(drop=True)
    offset = np.zeros(len(merged), dtype=np.int64)
    zones = merged["person"].map(zone_of)
    for zone, group in merged.groupby(zones, sort=False):
        starts = group["start"].to_numpy(dtype=np.int64)
        offset[group.index.to_numpy()] = _local_micros(starts, str(zone)) - starts
    local_start = merged["start"].to_numpy(dtype=np.int64) + offset
    local_end = merged["end"].to_numpy(dtype=np.int64) + offset
    # One row per local calendar day the interval touches; overlap with that day's working window.
    first_day = np.floor_divide(local_start, US_PER_DAY)
    last_day = np.floor_divide(local_end - 1, US_PER_DAY)
    repeats = (last_day - first_day + 1).astype(np.int64)
    row = np.repeat(np.arange(len(merged)), repeats)
    day = first_day[row] + (np.arange(len(row)) - np.repeat(np.cumsum(repeats) - repeats, repeats))
    overlap = np.clip(
        np.minimum(local_end[row], day * US_PER_DAY + we) - np.maximum(local_start[row], day * US_PER_DAY + ws), 0, None
    )
    overlap = np.where(np.isin(_weekday(day), days), overlap, 0)
    inside = np.bincount(row, weights=overlap, minlength=len(merged))
    merged["after"] = (local_end - local_start - inside) / US_PER_HOUR
    return merged.groupby(["person", "week"])["after"].sum()


# ---------------------------------------------------------------- person_week


def _network(prep: _Prepared) -> pd.DataFrame:
    """Return internal_network_size and org_span per (person, week) where the window holds ties."""
    metrics = prep.config.metrics
    ties = prep.ties
    directed = pd.concat(
        [ties.rename(columns={"a": "person", "b": "other"}), ties.rename(columns={"b": "person", "a": "other"})],
        ignore_index=True,
    )
    directed = directed[directed["person"].isin(prep.people["person"])]
    if directed.empty:
        return pd.DataFrame({"person": [], "week": [], "internal_network_size": [], "org_span": []})
    # A tie in week v is in the window of weeks v, v+1, ..., v+(window-1).
    spread = pd.concat(
        [directed.assign(week=directed["week"] + 7 * k) for k in range(metrics.network_window_weeks)], ignore_index=True
    )
    window = spread.groupby(["person", "other", "week"], as_index=False)["n"].sum()
    window = window[window["n"] >= metrics.network_min_interactions]
    org = prep.people.set_index("person")["org"]
    org = org[org.notna() & org.astype(str).str.strip().ne("")]
    window["other_org"] = window["other"].map(org)
    window["own_org"] = window["person"].map(org)
    size = window.groupby(["person", "week"]).size().rename("internal_network_size")
    spanning = window[window["other_org"].notna() & window["other_org"].ne(window["own_org"])]
    span = spanning.groupby(["person", "week"])["other_org"].nunique().rename("org_span")
    return pd.concat([size, span], axis=1).fillna(0).reset_index()


def _person_week(prep: _Prepared) -> pd.DataFrame:
    """Return the person_week table, weeks still as day numbers (persons decoded to their addresses)."""
    config = prep.config
    zone_of = dict(zip(prep.people["person"], prep.people["zone"], strict=True))

    # The grid: every week of every person's range.
    ranged = prep.people.dropna(subset=["first_week", "last_week"])
    ranged = ranged[ranged["first_week"] <= ranged["last_week"]]
    count = ((ranged["last_week"] - ranged["first_week"]) // 7 + 1).astype(np.int64).to_numpy()
    grid = pd.DataFrame(
        {
            "person": np.repeat(ranged["person"].to_numpy(dtype=object), count),
            "week": np.repeat(ranged["first_week"].to_numpy(dtype=np.int64), count)
            + 7 * (np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)),
        }
    )
    grid = pd.MultiIndex.from_frame(grid)

    out = pd.DataFrame(0.0, index=grid, columns=WEEK_COLUMNS)

    def add(column: str, values: pd.Series) -> None:
        # Events in weeks outside the person's range are not reported.
        out[column] += values.reindex(out.index, fill_value=0).to_numpy(dtype=np.float64)

    # Email parts.
    m = prep.msg_rows
    by_week = [m["person"], m["week"]]
    for column, gate in _EMAIL_PARTS.items():
        add(column, (m["hours"] if gate is None else m["hours"].where(m[gate], 0.0)).groupby(by_week).sum())
    add("emails_sent", m["is_sender"].astype(np.int64).groupby(by_week).sum())
    add("emails_received", (~m["is_sender"]).astype(np.int64).groupby(by_week).sum())

    # Meeting parts: a union per subset of the person's counted meetings of the week.
    r = prep.meet_rows
    for column, gate in _MEETING_PARTS.items():
        add(column, _union_hours(r if gate is None else r[r[gate]]))
    add("after_hours_collaboration_hours", _after_hours(_union(r), zone_of, config))
    add("meetings", r.groupby(["person", "week"]).size())
    out["collaboration_hours"] = out["meeting_hours"] + out["email_hours"]

    network = _network(prep).set_index(["person", "week"])
    add("internal_network_size", network["internal_network_size"])
    add("org_span", network["org_span"])
    engagement = prep.engagement.set_index(["person", "week"])
    for column in ENGAGEMENT_COLUMNS:
        add(column, engagement[column])
    for column in COUNT_COLUMNS:
        out[column] = out[column].round().astype(np.int64)
    out = out.reset_index()[["person", "week", *WEEK_COLUMNS]]
    periods = {w: _period_of(_to_date(w), prep.granularity) for w in out["week"].unique()}
    out.insert(2, "period", out["week"].map(lambda w: periods[w][0]).astype(object))
    out["person"] = prep.names[out["person"].to_numpy(dtype=np.int64)]
    return out.sort_values(["person", "week"], ignore_index=True)


def _dated(person_week: pd.DataFrame) -> pd.DataFrame:
    """Return person_week with weeks as datetime.date."""
    out = person_week.copy()
    days = {w: _to_date(w) for w in out["week"].unique()}
    out["week"] = out["week"].map(days).astype(object)
    return out


# ---------------------------------------------------------------- graph scores


def _eigenvector(graph: nx.Graph) -> dict[str, float]:
    """Return eigenvector centrality, nonzero only on the component(s) with the largest leading eigenvalue, max 1."""
    found: list[tuple[float, list[str], np.ndarray]] = []
    for component in nx.connected_components(graph):
        nodes = sorted(component)
        matrix = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight="weight", dtype=float, format="csr")
        if len(nodes) <= 1000:
            values, vectors = np.linalg.eigh(matrix.toarray())
            value, vector = float(values[-1]), vectors[:, -1]
        else:
            values, vectors = scipy.sparse.linalg.eigsh(matrix, k=1, which="LA", tol=0)
            value, vector = float(values[0]), vectors[:, 0]
        # The Perron vector of a connected component has one sign; take it positive.
        vector = np.abs(vector)
        found.append((value, nodes, vector / vector.max()))
    if not found:
        return {}
    top = max(value for value, _, _ in found)
    scores = dict.fromkeys(graph.nodes, 0.0)
    for value, nodes, vector in found:
        if value >= top - 1e-9 * abs(top):
            scores.update(zip(nodes, vector.tolist(), strict=True))
    return scores


def _percentiles(raw: pd.Series, graph_max: float) -> pd.Series:
    """Return percentiles of raw scores: scaled by the graph's largest, rounded to 9 places, average ranks."""
    scaled = (raw / graph_max if graph_max > 0 else raw * 0.0).round(9)
    n = len(scaled)
    if n == 1:
        return pd.Series(50.0, index=raw.index)
    return 100.0 * (scaled.rank(method="average") - 1.0) / (n - 1)


def _graph_scores(prep: _Prepared, person_week: pd.DataFrame) -> pd.DataFrame:
    """Return network_prominence and network_brokerage per (person, period) with a person_period row."""
    members = person_week[["person", "period"]].drop_duplicates()
    ties = prep.ties.copy()
    periods = {w: _period_of(_to_date(w), prep.granularity)[0] for w in ties["week"].unique()}
    ties["period"] = ties["week"].map(periods)
    weights = ties.groupby(["period", "a", "b"], as_index=False)["n"].sum()
    frames = []
    for period, group in members.groupby("period", sort=True):
        edges = weights[weights["period"] == period]
        graph = nx.Graph()
        a, b = prep.names[edges["a"].to_numpy(dtype=np.int64)], prep.names[edges["b"].to_numpy(dtype=np.int64)]
        graph.add_weighted_edges_from(zip(a, b, edges["n"].astype(float), strict=True))
        prominence = _eigenvector(graph)
        # Exact betweenness, unweighted shortest paths, each unordered pair once.
        brokerage = nx.betweenness_centrality(graph, normalized=False) if graph.number_of_nodes() else {}
        people = group["person"].to_numpy(dtype=object)
        raw_p = pd.Series([prominence.get(p, 0.0) for p in people], index=people, dtype=float)
        raw_b = pd.Series([brokerage.get(p, 0.0) for p in people], index=people, dtype=float)
        frames.append(
            pd.DataFrame(
                {
                    "person": people,
                    "period": period,
                    "network_prominence": _percentiles(raw_p, max(prominence.values(), default=0.0)).to_numpy(),
                    "network_brokerage": _percentiles(raw_b, max(brokerage.values(), default=0.0)).to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {
                "person": pd.Series(dtype=object),
                "period": pd.Series(dtype=object),
                "network_prominence": [],
                "network_brokerage": [],
            }
        )
    return pd.concat(frames, ignore_index=True).sort_values(["person", "period"], ignore_index=True)


def _period_pairs(prep: _Prepared, person_week: pd.DataFrame) -> pd.DataFrame:
    """Return the customer pairs in the person's weeks (person as a pseudonym), with their `period`."""
    rows = person_week[["person", "week", "period"]]
    pairs = prep.customer_pairs.assign(person=prep.names[prep.customer_pairs["person"].to_numpy(dtype=np.int64)])
    # Only interactions in the person's weeks: an inner merge with their rows.
    return pairs.merge(rows, on=["person", "week"])


def _period_engagement(prep: _Prepared, person_week: pd.DataFrame) -> pd.DataFrame:
    """Return the PERIOD_ENGAGEMENT_COLUMNS per (person, period) of `person_week`.

    Counted over the person's customer interactions in their weeks of the
    period; a person-period without an account scores 0 on the first three,
    one without a reply to a customer has no reply time.
    """
    rows = person_week[["person", "week", "period"]]
    weeks = rows.groupby(["person", "period"]).size().rename("weeks")
    out = pd.DataFrame(0.0, index=weeks.index, columns=PERIOD_ENGAGEMENT_COLUMNS)
    out["customer_reply_hours"] = np.nan
    pairs = _period_pairs(prep, person_week)
    touched_by: dict[tuple[str, str], set[str]] = {}
    if len(pairs):
        grouped = pairs.groupby(["person", "period"])
        accounts = grouped["account"].nunique(dropna=True)
        contacts = grouped["contact"].nunique()
        # For each account touched: the share of the person's weeks of the period with an interaction with it.
        per_account = pairs.dropna(subset=["account"]).groupby(["person", "period", "account"])["week"].nunique()
        shares = per_account / weeks.reindex(per_account.index.droplevel("account")).to_numpy(dtype=np.float64)
        cadence = shares.groupby(level=["person", "period"]).mean()
        touched = accounts[accounts > 0]
        out.loc[touched.index, "accounts_touched"] = touched.astype(np.float64)
        out.loc[touched.index, "contacts_per_account"] = (contacts[touched.index] / touched).astype(np.float64)
        out.loc[cadence.index, "account_cadence"] = cadence.astype(np.float64)
        for person, period, account in per_account.index:
            touched_by.setdefault((person, period), set()).add(account)

    # Reply time: the median over the replies sent in the person's weeks of the period.
    replies = prep.replies.assign(person=prep.names[prep.replies["person"].to_numpy(dtype=np.int64)]).merge(
        rows, on=["person", "week"]
    )
    if len(replies):
        medians = replies.groupby(["person", "period"])["seconds"].median() / 3600.0
        out.loc[medians.index, "customer_reply_hours"] = medians.astype(np.float64)

    # Book coverage: the accounts owned, and the share of them touched in the period.
    if prep.owned is None:
        out["owned_accounts"] = np.nan
        out["owned_accounts_touched_pct"] = np.nan
    else:
        owned = prep.owned.assign(person=prep.names[prep.owned["person"].to_numpy(dtype=np.int64)])
        books = owned.groupby("person")["account"].apply(set).to_dict()
        counts, shares_touched = [], []
        for person, period in out.index:
            book = books.get(person, set())
            counts.append(float(len(book)))
            touched_now = touched_by.get((person, period), set())
            shares_touched.append(100.0 * len(book & touched_now) / len(book) if book else np.nan)
        out["owned_accounts"] = counts
        out["owned_accounts_touched_pct"] = shares_touched
    return out.reset_index()


def _account_touches(prep: _Prepared, person_week: pd.DataFrame) -> pd.DataFrame:
    """Return person, period, account_id, contacts, weeks, last_touch (whole epoch seconds): each account touched in a period."""
    pairs = _period_pairs(prep, person_week).dropna(subset=["account"])
    grouped = pairs.groupby(["person", "period", "account"])
    out = pd.DataFrame(
        {
            "contacts": grouped["contact"].nunique().astype(np.int64),
            "weeks": grouped["week"].nunique().astype(np.int64),
            "last_touch": grouped["second"].max().astype(np.int64),
        }
    ).reset_index()
    out = out.rename(columns={"account": "account_id"})
    return out.sort_values(["person", "period", "account_id"], ignore_index=True)


def _person_period(prep: _Prepared, person_week: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Return the person_period table from person_week (weeks as day numbers) and the graph scores."""
    grouped = person_week.groupby(["person", "period"], sort=True)
    out = grouped[WEEK_COLUMNS].mean().astype(np.float64)
    out.insert(0, "weeks", grouped.size().astype(np.int64))
    out = out.reset_index()
    starts = {label: start for label, start in (_period_of(_to_date(w), prep.granularity) for w in person_week["week"].unique())}
    out.insert(2, "period_start", out["period"].map(starts).astype(object))
    out = out.merge(scores, on=["person", "period"], how="left")
    out = out.merge(_period_engagement(prep, person_week), on=["person", "period"], how="left")
    out = out[["person", "period", "period_start", "weeks", *PERIOD_COLUMNS]]
    return out.sort_values(["person", "period"], ignore_index=True)


# ---------------------------------------------------------------- public API


def oracle_person_week(tables: dict[str, pd.DataFrame], config: Config) -> pd.DataFrame:
    """Return person_week: one row per roster person and week of their range, sorted by person and week."""
    return _dated(_person_week(_prepare(tables, config)))


def oracle_graph_scores(tables: dict[str, pd.DataFrame], config: Config, person_week: pd.DataFrame) -> pd.DataFrame:
    """Return (person, period, network_prominence, network_brokerage) for the person/period pairs of `person_week`."""
    return _graph_scores(_prepare(tables, config), person_week)


def oracle_person_period(tables: dict[str, pd.DataFrame], config: Config) -> pd.DataFrame:
    """Return person_period: one row per roster person and period they have weeks in, sorted by person and period."""
    return oracle_metrics(tables, config)[1]


def oracle_week_ties(tables: dict[str, pd.DataFrame], config: Config) -> pd.DataFrame:
    """Return week_ties: week (a date), a, b (pseudonyms, a < b), interactions; sorted by week, a and b."""
    prep = _prepare(tables, config)
    ties = prep.ties
    first, second = prep.names[ties["a"].to_numpy(dtype=np.int64)], prep.names[ties["b"].to_numpy(dtype=np.int64)]
    out = pd.DataFrame(
        {
            "week": [_to_date(int(w)) for w in ties["week"]],
            "a": np.where(first < second, first, second),
            "b": np.where(first < second, second, first),
            "interactions": ties["n"].to_numpy(dtype=np.int64),
        }
    )
    return out.sort_values(["week", "a", "b"], ignore_index=True)


def oracle_account_touches(tables: dict[str, pd.DataFrame], config: Config) -> pd.DataFrame:
    """Return account_touches (last_touch as whole epoch seconds), sorted by person, period and account."""
    prep = _prepare(tables, config)
    return _account_touches(prep, _person_week(prep))


def oracle_metrics(tables: dict[str, pd.DataFrame], config: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (person_week, person_period) computed from the stored tables."""
    prep = _prepare(tables, config)
    weekly = _person_week(prep)
    scores = _graph_scores(prep, weekly)
    return _dated(weekly), _person_period(prep, weekly, scores)


def _roster_on(people: pd.DataFrame, history: pd.DataFrame, day: date) -> tuple[tuple[object, ...], pd.DataFrame]:
    """Return the roster in force on `day` and a key naming it: each person's latest row from on or before `day`.

    A person with history takes their row of the latest effective date on or
    before `day`, or their first row when every row is later; a person
    without history keeps their `people` row.
    """
    rows = []
    key: list[object] = []
    for person, versions in history.sort_values("effective_date", kind="stable").groupby("person", sort=True):
        before = versions[versions["effective_date"] <= day]
        chosen = before.iloc[-1] if len(before) else versions.iloc[0]
        rows.append(chosen)
        key.append((person, chosen["effective_date"]))
    chosen_rows = pd.DataFrame(rows).drop(columns="effective_date") if rows else people.iloc[:0]
    roster = pd.concat([people[~people["person"].isin(history["person"])], chosen_rows[people.columns]], ignore_index=True)
    return tuple(key), roster


def oracle_metrics_in_force(
    tables: dict[str, pd.DataFrame | pa.Table], history: pd.DataFrame, config: Config
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (person_week, person_period) where each week reads the roster in force on its last day (its Sunday).

    Computed the plain way, sharing nothing with how the engine joins facts
    per week: the whole oracle runs once on each roster that `history`
    (`people_history` rows: person, effective_date and every `people`
    column) puts in force in some week, and each week's rows are taken from
    the run on its own roster. Period values are the means of those weeks.
    """
    people = _frame(tables["people"])
    history = _frame(history)
    history["effective_date"] = [pd.Timestamp(d).date() if not isinstance(d, date) else d for d in history["effective_date"]]
    latest = _prepare(tables, config)
    weeks = sorted(_person_week(latest)["week"].unique())
    by_roster: dict[tuple[object, ...], tuple[pd.DataFrame, list[int]]] = {}
    for week in weeks:
        key, roster = _roster_on(people, history, _to_date(int(week) + 6))
        by_roster.setdefault(key, (roster, []))[1].append(int(week))
    parts = []
    for roster, its_weeks in by_roster.values():
        weekly = _person_week(_prepare({**tables, "people": roster}, config))
        parts.append(weekly[weekly["week"].isin(its_weeks)])
    weekly = pd.concat(parts, ignore_index=True).sort_values(["person", "week"], ignore_index=True)
    return _dated(weekly), _person_period(latest, weekly, _graph_scores(latest, weekly))
