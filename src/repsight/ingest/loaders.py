"""Loaders: turn reader output into rows of the store's tables, pseudonymised, in batches.

One loader per kind of input. Reference data (roster, accounts, KPIs, the
Viva identity mapping, a Salesforce export) is small and each file is a
snapshot: loaded again, it replaces what was stored under the same key, and
what an earlier load of the same file stored under a key the file no longer
has is removed (README, *Inputs*). Events (messages, meetings) are
immutable: an event already stored is skipped whole, and the event tables
receive pseudonyms and domains, never addresses.

Every loader leaves out the people of `excluded` (`[privacy] excluded` and
the `forgotten` table, as pseudonyms; docs/privacy.md) as if they were not
there: no row of theirs, no event they sent or organised, no place among
another event's recipients or attendees, and no reference to them as a
manager or an account's owner. Such records count in `left_out`, not in the
quarantine: nothing is wrong with them.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from repsight.config import Config
from repsight.privacy import Pseudonymizer, canonical_address, domain_of
from repsight.schema import KEYS
from repsight.sources.records import (
    Account,
    Kpi,
    MeetingBatch,
    MessageBatch,
    Person,
    Rejected,
    VivaIdentity,
    VivaWeek,
    series_key,
)
from repsight.store import Store

__all__ = ["LOADERS", "SNAPSHOT_KINDS", "Loader"]


def pseudonymise(pseudo: Pseudonymizer, addresses: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Return the pseudonym, domain and canonical form of each of `addresses` (the readers' and Spark's tasks' one way)."""
    # Each distinct address goes through Python once, so the pseudonym is
    # exactly the published contract (Python's strip and lower), not a
    # look-alike built from Arrow's Unicode tables.
    unique = pc.unique(addresses)
    where = pc.index_in(addresses, unique)
    raw = unique.to_pylist()
    canonical = pa.array([canonical_address(a) for a in raw], pa.string())
    pseudonyms = pa.array([pseudo(a) for a in raw], pa.string())
    domains = pa.array([domain_of(a) for a in raw], pa.string())
    return pc.take(pseudonyms, where), pc.take(domains, where), pc.take(canonical, where)


class Loader:
    """Turns records of one kind into rows of the store's tables, in batches."""

    streams = False
    """Whether the loader stores batches as they fill (events), or all at the end (reference data, checked whole)."""

    snapshot = False
    """Whether a file of this kind is a snapshot: its one `flush` also removes what the file's earlier load stored and it lacks."""

    def __init__(
        self, store: Store, pseudo: Pseudonymizer, config: Config, load_id: int, excluded: set[str] | None = None
    ) -> None:
        self.store = store
        self.pseudo = pseudo
        self.config = config
        self.load_id = load_id
        self.excluded: set[str] = excluded if excluded is not None else set()
        """Pseudonyms never stored (docs/privacy.md); shared by a run's loaders, so a Viva identity file can add the PersonIds of excluded emails."""
        self.left_out = 0
        """How many records this load left out because they are an excluded person's (docs/privacy.md)."""
        self.pending = 0
        self.changed = 0
        """How many keys already stored this load gave other values (snapshot kinds)."""
        self.removed = 0
        """How many keys an earlier load of the same file stored that this load no longer has (snapshot kinds)."""

    def add(self, record: Any) -> Rejected | None:
        raise NotImplementedError

    def flush(self) -> int:
        """Store what is pending; return how many records were new."""
        raise NotImplementedError

    def aliases(self) -> dict[str, str]:
        """Return the stored identity mapping: the pseudonym of each mapped Viva PersonId → the pseudonym of its email."""
        rows = self.store.to_arrow(self.store.table("person_aliases").select("alias", "person"))
        return dict(zip(rows["alias"].to_pylist(), rows["person"].to_pylist(), strict=True))

    def store_snapshot(self, table: str, rows: pa.Table) -> tuple[int, set[Any], pa.Table]:
        """Store this file's `rows` of `table`, then remove what an earlier load of the file stored there and it no longer has.

        Returns how many keys are new, the keys stored before with other
        values (`changed` counts them), and the removed keys (`removed`
        counts them). A key the file holds only on a quarantined row is
        removed too: the file no longer says it validly. A file with no valid
        row at all removes nothing: a broken export (every row quarantined)
        must not empty the roster, and with it the KPIs that refer to it.
        """
        key = list(KEYS[table])
        if rows.num_rows == 0:
            return 0, set(), pa.table({c: pa.array([], pa.string()) for c in key})
        changed = self.store.changed(table, rows)
        keys = set(zip(*(changed[c].to_pylist() for c in key), strict=True))
        new = self.store.upsert(table, rows)
        removed = self.store.delete_superseded(table, self.load_id)
        self.changed += len(keys)
        self.removed += removed.num_rows
        return new, keys, removed

    def identity_rows(self, found: dict[str, tuple[str, str]]) -> pa.Table:
        return pa.table(
            {
                "person": pa.array(list(found), pa.string()),
                "email": pa.array([email for email, _ in found.values()], pa.string()),
                "name": pa.array([name for _, name in found.values()], pa.string()),
            }
        )

    def is_excluded(self, person: str | None) -> bool:
        """Return whether `person` (a pseudonym) is excluded or forgotten."""
        return person is not None and person in self.excluded

    def kept(self, person: str | None) -> str | None:
        """Return `person` (a pseudonym referred to: a manager, an owner), or None where they are excluded."""
        return None if self.is_excluded(person) else person

    def excluded_array(self) -> pa.Array:
        return pa.array(sorted(self.excluded), pa.string())

    def renamed(self, identities: pa.Table) -> set[str]:
        """Return the people of `identities` whose stored email or name differs (call before storing them)."""
        return set(self.store.changed("identities", identities)["person"].to_pylist())


ALWAYS = date(1, 1, 1)
"""The effective date of a roster row in force since always (no `effective_date`, no dated file name)."""


def _effective(person: Person) -> date:
    return person.effective_date or ALWAYS


class _RosterLoader(Loader):
    snapshot = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.people: list[Person] = []

    def add(self, record: Person) -> None:
        self.people.append(record)
        self.pending += 1

    def flush(self) -> int:
        p = self.pseudo
        kept = [x for x in self.people if not self.is_excluded(p(x.email))]
        self.left_out += len(self.people) - len(kept)
        self.people = kept
        rows = pa.table(
            {
                "person": pa.array([p(x.email) for x in self.people], pa.string()),
                "effective_date": pa.array([x.effective_date or ALWAYS for x in self.people], pa.date32()),
                "domain": [domain_of(x.email) for x in self.people],
                "manager": [self.kept(p(x.manager_email)) if x.manager_email else None for x in self.people],
                "org": [x.org for x in self.people],
                "level": [x.level for x in self.people],
                "function": [x.function for x in self.people],
                "region": [x.region for x in self.people],
                "segment": [x.segment for x in self.people],
                "channel": [x.channel for x in self.people],
                "hire_date": pa.array([x.hire_date for x in self.people], pa.date32()),
                "leave_date": pa.array([x.leave_date for x in self.people], pa.date32()),
                "timezone": [x.timezone for x in self.people],
                "attributes": [json.dumps(x.attributes, sort_keys=True) if x.attributes else None for x in self.people],
                "load_id": [self.load_id] * len(self.people),
            }
        )
        latest = {p(x.email): (x.email.strip().lower(), x.name) for x in sorted(self.people, key=_effective)}
        identities = self.identity_rows(latest)
        # A new name changes the roster's row; a person new to `people` is new, whatever `identities` held (mail fills it too).
        renamed = self.renamed(identities) - set(self.store.unseen("people", rows.select(["person"]))["person"].to_pylist())
        new, changed, _ = self.store_snapshot("people_history", rows)
        self.changed += len(renamed - {person for person, _ in changed})
        self.store.refresh_people_from_history()
        # A person the roster no longer has keeps their `identities` row: mail and calendars fill it too, and events name them.
        self.store.upsert("identities", identities)
        self.people, self.pending = [], 0
        return new


class _AccountLoader(Loader):
    snapshot = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accounts: list[Account] = []

    def add(self, record: Account) -> None:
        self.accounts.append(record)
        self.pending += 1

    def flush(self) -> int:
        a = self.accounts
        rows = pa.table(
            {
                "account_id": pa.array([x.account_id for x in a], pa.string()),
                "name": [x.name for x in a],
                "type": [x.type for x in a],
                "domains": [";".join(x.domains) for x in a],
                "load_id": [self.load_id] * len(a),
                # The owner is a person: pseudonymised like every address.
                "owner": [self.kept(self.pseudo(x.owner_email)) if x.owner_email else None for x in a],
            }
        )
        domains = [
            (d, x.account_id, x.type, owner) for x, owner in zip(a, rows["owner"].to_pylist(), strict=True) for d in x.domains
        ]
        new, _, removed = self.store_snapshot("accounts", rows)
        # An account's domains are replaced whole: a domain it dropped goes, and so do a removed account's.
        accounts = pa.concat_arrays(
            [rows["account_id"].combine_chunks(), removed["account_id"].combine_chunks().cast(pa.string())]
        )
        self.store.delete_where("account_domains", "account_id", accounts)
        self.store.upsert(
            "account_domains",
            pa.table(
                {
                    "domain": pa.array([d for d, _, _, _ in domains], pa.string()),
                    "account_id": pa.array([i for _, i, _, _ in domains], pa.string()),
                    "type": pa.array([t for _, _, t, _ in domains], pa.string()),
                    "owner": pa.array([o for _, _, _, o in domains], pa.string()),
                }
            ),
        )
        self.accounts, self.pending = [], 0
        return new


class _KpiLoader(Loader):
    snapshot = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kpis: list[tuple[str, Kpi]] = []
        self.roster = set(self.store.table("people").person.to_pyarrow().to_pylist())
        self.mapped = self.aliases()

    def add(self, record: Kpi) -> Rejected | None:
        if record.by_viva_id:
            alias = self.pseudo(record.email)
            person = self.mapped.get(alias, alias)
            if self.is_excluded(person) or self.is_excluded(alias):
                self.left_out += 1
                return None
            if person not in self.roster:
                return Rejected(record.position, "PersonId", "the person is not in the Viva Insights person query or the roster")
        else:
            person = self.pseudo(record.email)
            if self.is_excluded(person):
                self.left_out += 1
                return None
            if person not in self.roster:
                return Rejected(record.position, "email", "the person is not in the roster")
        self.kpis.append((person, record))
        self.pending += 1
        return None

    def flush(self) -> int:
        k = [x for _, x in self.kpis]
        rows = pa.table(
            {
                "person": pa.array([person for person, _ in self.kpis], pa.string()),
                "period": pa.array([x.period for x in k], pa.string()),
                "period_start": pa.array([x.period_start for x in k], pa.date32()),
                "period_end": pa.array([x.period_end for x in k], pa.date32()),
                "quota": pa.array([x.quota for x in k], pa.float64()),
                "bookings": pa.array([x.bookings for x in k], pa.float64()),
                "attainment": pa.array([x.attainment for x in k], pa.float64()),
                "load_id": pa.array([self.load_id] * len(k), pa.int64()),
            }
        )
        self.kpis, self.pending = [], 0
        new, _, _ = self.store_snapshot("kpis", rows)
        return new


class _EventLoader(Loader):
    """Batching, de-duplication and pseudonymisation shared by messages and meetings."""

    streams = True
    table = ""
    key_column = ""
    participants_table = ""
    batch_type: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.internal = pa.array(self.config.company.domains, pa.string())
        self.records: list[Any] = []
        self.batches: list[Any] = []

    def add(self, record: Any) -> None:
        if isinstance(record, self.batch_type):
            self.batches.append(record)
            self.pending += len(record)
        else:
            self.records.append(record)
            self.pending += 1

    def pending_batch(self) -> tuple[pa.Table, pa.Table]:
        """Return the pending events, each key once (its first copy), with that copy's participants; then clear them."""
        batches = self.batches + ([self.batch_type.of(self.records)] if self.records else [])
        self.records, self.batches, self.pending = [], [], 0
        offset, participants = 0, []
        for batch in batches:
            shifted = pc.add(batch.participants["event"], pa.scalar(offset, pa.int64()))
            participants.append(batch.participants.set_column(0, "event", shifted))
            offset += len(batch)
        events = pa.concat_tables([b.events for b in batches]).combine_chunks()
        everyone = pa.concat_tables(participants).combine_chunks()
        events = events.append_column("event", pa.array(range(events.num_rows), pa.int64()))
        # Two copies of an event (two mailboxes in one export): the first is kept, whole.
        firsts = events.group_by("key", use_threads=False).aggregate([("event", "min")])["event_min"]
        kept = firsts.take(pc.sort_indices(firsts))
        return events.take(kept).drop_columns("event"), everyone.filter(pc.is_in(everyone["event"], kept))

    def pseudonymise(self, addresses: pa.Array) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Return pseudonyms, domains and canonical addresses; colleagues go to `identities`."""
        return pseudonymise(self.pseudo, addresses)

    def fresh(self, events: pa.Table, participants: pa.Table) -> tuple[pa.Table, pa.Table]:
        """Return the events (and their participants) that the store does not hold yet."""
        new_keys = self.store.unseen(self.table, pa.table({self.key_column: events["key"]}))[self.key_column]
        return events.filter(pc.is_in(events["key"], new_keys)), participants.filter(pc.is_in(participants["key"], new_keys))

    def store_identities(self, addresses: pa.Array, names: pa.Array) -> None:
        pseudonyms, domains, canonical = self.pseudonymise(addresses)
        colleagues = pa.table({"person": pseudonyms, "email": canonical, "name": names}).filter(
            pc.and_(pc.is_in(domains, self.internal), pc.invert(pc.is_in(pseudonyms, self.excluded_array())))
        )
        if colleagues.num_rows == 0:
            return
        # One row per person; a display name wins over none.
        rows = colleagues.group_by("person", use_threads=False).aggregate([("email", "first"), ("name", "max")])
        self.store.insert_new("identities", rows.rename_columns(["person", "email", "name"]))

    def without_excluded(
        self, events: pa.Table, owners: pa.Array, participants: pa.Table, rows: pa.Table, role: str, *, need_others: bool
    ) -> tuple[pa.Table, pa.Array, pa.Table, pa.Table]:
        """Return the events whose sender or organiser (`owners`, pseudonyms) is not excluded, with their participants; excluded participants' `rows` go.

        With `need_others` an event left with no participant row goes too (a
        message with no recipient, which a reader refuses). Returns the
        events, their owners, their raw participants and their participant rows.
        """
        if not self.excluded:
            return events, owners, participants, rows
        excluded = self.excluded_array()
        rows = rows.filter(pc.invert(pc.is_in(rows[role], excluded)))
        keep = pc.invert(pc.is_in(owners, excluded))
        if need_others:
            keep = pc.and_(keep, pc.is_in(events["key"], rows[self.key_column]))
        self.left_out += int(events.num_rows - pc.sum(keep).as_py()) if events.num_rows else 0
        events, owners = events.filter(keep), pc.filter(owners, keep)
        rows = rows.filter(pc.is_in(rows[self.key_column], events["key"]))
        participants = participants.filter(pc.is_in(participants["key"], events["key"]))
        return events, owners, participants, rows

    def participant_rows(self, participants: pa.Table, role: str, extra: str) -> pa.Table:
        """Return participant rows keyed by (event, pseudonym), the first mention of a person winning."""
        pseudonyms, domains, _ = self.pseudonymise(participants["address"])
        rows = pa.table(
            {
                self.key_column: participants["key"],
                role: pseudonyms,
                f"{role}_domain": domains,
                extra: participants[extra],
            }
        )
        return (
            rows.group_by([self.key_column, role], use_threads=False)
            .aggregate([(f"{role}_domain", "first"), (extra, "first")])
            .rename_columns([self.key_column, role, f"{role}_domain", extra])
        )


class _MailLoader(_EventLoader):
    table, key_column, participants_table, batch_type = "messages", "message_key", "message_recipients", MessageBatch

    def flush(self) -> int:
        if not self.pending:
            return 0
        messages, recipients = self.fresh(*self.pending_batch())
        recipient_rows = self.participant_rows(recipients, "recipient", "kind")
        senders, _, _ = self.pseudonymise(messages["sender"])
        messages, senders, recipients, recipient_rows = self.without_excluded(
            messages, senders, recipients, recipient_rows, "recipient", need_others=True
        )
        counts = recipient_rows.group_by("message_key").aggregate([("recipient", "count")])
        senders, sender_domains, _ = self.pseudonymise(messages["sender"])
        rows = pa.table(
            {
                "message_key": messages["key"],
                "sent_at": pc.cast(messages["sent_at"], pa.timestamp("us")),
                "sender": senders,
                "sender_domain": sender_domains,
                "load_id": pa.repeat(self.load_id, messages.num_rows),
                "parent_key": messages["parent_key"],
            }
        ).join(counts.rename_columns(["message_key", "recipient_count"]), "message_key")
        self.store.append("messages", rows)
        self.store.append("message_recipients", recipient_rows)
        self.store_identities(
            pa.concat_arrays([messages["sender"].combine_chunks(), recipients["address"].combine_chunks()]),
            pa.concat_arrays([messages["sender_name"].combine_chunks(), recipients["name"].combine_chunks()]),
        )
        return int(rows.num_rows)


class _CalendarLoader(_EventLoader):
    table, key_column, participants_table, batch_type = "meetings", "meeting_key", "meeting_attendees", MeetingBatch

    def flush(self) -> int:
        if not self.pending:
            return 0
        meetings, attendees = self.fresh(*self.pending_batch())
        attendee_rows = self.participant_rows(attendees, "attendee", "response")
        organizers, _, _ = self.pseudonymise(meetings["organizer"])
        # An event left with its organiser alone is kept, as a reader keeps a meeting without attendees.
        meetings, organizers, attendees, attendee_rows = self.without_excluded(
            meetings, organizers, attendees, attendee_rows, "attendee", need_others=False
        )
        counts = attendee_rows.group_by("meeting_key").aggregate([("attendee", "count")])
        organizers, organizer_domains, _ = self.pseudonymise(meetings["organizer"])
        rows = pa.table(
            {
                "meeting_key": meetings["key"],
                "series_key": pa.array([series_key(uid) for uid in meetings["uid"].to_pylist()], pa.string()),
                "start_at": pc.cast(meetings["start"], pa.timestamp("us")),
                "end_at": pc.cast(meetings["end"], pa.timestamp("us")),
                "organizer": organizers,
                "organizer_domain": organizer_domains,
                "is_cancelled": meetings["is_cancelled"],
                "is_all_day": meetings["is_all_day"],
                "is_transparent": meetings["is_transparent"],
                "load_id": pa.repeat(self.load_id, meetings.num_rows),
            }
        ).join(counts.rename_columns(["meeting_key", "attendee_count"]), "meeting_key")
        self.store.append("meetings", rows)
        self.store.append("meeting_attendees", attendee_rows)
        self.store_identities(attendees["address"].combine_chunks(), attendees["name"].combine_chunks())
        return int(rows.num_rows)


class _VivaIdentityLoader(Loader):
    """Who each Viva PersonId is: `person_aliases` (pseudonym of the id → pseudonym of the email) and `identities`.

    A mapping the file no longer has is removed from `person_aliases`; the
    values already moved to the email's pseudonym stay where they are.
    """

    snapshot = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: list[VivaIdentity] = []

    def add(self, record: VivaIdentity) -> None:
        self.rows.append(record)
        self.pending += 1

    def flush(self) -> int:
        p = self.pseudo
        for x in self.rows:
            if self.is_excluded(p(x.email)):
                # Their PersonId is left out too, by the person query loads that follow in this run.
                self.excluded.add(p(x.person_id))
        kept = [x for x in self.rows if not self.is_excluded(p(x.email))]
        self.left_out += len(self.rows) - len(kept)
        self.rows = kept
        aliases = pa.table(
            {
                "alias": pa.array([p(x.person_id) for x in self.rows], pa.string()),
                "person": pa.array([p(x.email) for x in self.rows], pa.string()),
                "load_id": pa.array([self.load_id] * len(self.rows), pa.int64()),
            }
        )
        identities = self.identity_rows({p(x.email): (x.email.strip().lower(), x.name) for x in self.rows})
        renamed = self.renamed(identities)
        fresh = set(self.store.unseen("person_aliases", aliases.select(["alias"]))["alias"].to_pylist())
        new, changed, _ = self.store_snapshot("person_aliases", aliases)
        # A new name is a change of the mapping's row, as in a roster.
        moved = {alias for (alias,) in changed} | fresh
        self.changed += len(
            {a for a, x in zip(aliases["alias"].to_pylist(), self.rows, strict=True) if a not in moved and p(x.email) in renamed}
        )
        self.store.upsert("identities", identities)
        # People already loaded under their Viva id move to their email's pseudonym.
        for table, column in (("viva_values", "person"), ("people", "person"), ("kpis", "person"), ("people", "manager")):
            self.store.rename_values(table, column, aliases.select(["alias", "person"]))
        self.rows, self.pending = [], 0
        return new


def _whole_number(text: str | None) -> int | None:
    try:
        number = float(text) if text else None
    except ValueError:
        return None
    return int(number) if number is not None and number.is_integer() else None


class _VivaLoader(Loader):
    """A Viva Insights person query: every numeric value to `viva_values`, each person's latest HR attributes to `people`.

    A person-week loaded again replaces what was stored for it (a value no
    longer in the file goes), so loading a corrected export is safe.
    """

    streams = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mapped = self.aliases()
        self.weeks: list[tuple[str, VivaWeek]] = []
        self.latest: dict[str, VivaWeek] = {}

    def person(self, person_id: str) -> str:
        alias = self.pseudo(person_id)
        return self.mapped.get(alias, alias)

    def add(self, record: VivaWeek) -> None:
        person = self.person(record.person_id)
        if self.is_excluded(person) or self.is_excluded(self.pseudo(record.person_id)):
            self.left_out += 1
            return
        self.weeks.append((person, record))
        kept = self.latest.get(person)
        if kept is None or kept.week <= record.week:
            self.latest[person] = record
        self.pending += 1

    def flush(self) -> int:
        new = 0
        if self.weeks:
            keys = pa.table(
                {
                    "person": [person for person, _ in self.weeks],
                    "week": pa.array([x.week for _, x in self.weeks], pa.date32()),
                }
            )
            keys = keys.group_by(["person", "week"], use_threads=False).aggregate([])
            values = [(person, x.week, name, value) for person, x in self.weeks for name, value in x.values.items()]
            rows = pa.table(
                {
                    "person": [v[0] for v in values],
                    "week": pa.array([v[1] for v in values], pa.date32()),
                    "metric": [v[2] for v in values],
                    "value": pa.array([v[3] for v in values], pa.float64()),
                    "load_id": pa.repeat(self.load_id, len(values)),
                }
            )
            stored = self.store.to_arrow(self.store.table("viva_values").select("person", "week").distinct())
            new = int(keys.num_rows - keys.join(stored, ["person", "week"], join_type="inner").num_rows)
            self.store.delete_matching("viva_values", keys)
            self.store.append("viva_values", rows)
        if self.latest:
            self.store.upsert("people", self.people_rows())
        self.weeks, self.pending = [], 0
        return new

    def people_rows(self) -> pa.Table:
        """Return a `people` row per person seen, from the HR columns of their latest week (docs/viva.md)."""
        from repsight.sources.viva import HR_COLUMNS, canonical_name, parse_metric_date

        columns: dict[str, list[Any]] = {c: [] for c in ("person", "manager", "org", "level", "function", "region")}
        columns |= {c: [] for c in ("segment", "channel", "hire_date", "timezone", "attributes")}
        for person, week in self.latest.items():
            known: dict[str, Any] = {}
            for header, value in week.hr.items():
                name = canonical_name(header)
                if name in HR_COLUMNS:
                    known[HR_COLUMNS[name]] = value
                elif name in ("level_designation", "level") and _whole_number(value) is not None:
                    known.setdefault("level", _whole_number(value))
            try:
                hired = parse_metric_date(known["hire_date"]) if known.get("hire_date") else None
            except ValueError:
                hired = None
            columns["person"].append(person)
            columns["manager"].append(self.kept(self.person(week.manager_id)) if week.manager_id else None)
            for column in ("org", "function", "region", "segment", "channel", "timezone"):
                columns[column].append(known.get(column))
            columns["level"].append(known.get("level"))
            columns["hire_date"].append(hired)
            extra = {h: v for h, v in week.hr.items() if HR_COLUMNS.get(canonical_name(h)) is None}
            columns["attributes"].append(json.dumps(extra, sort_keys=True) if extra else None)
        return pa.table(
            {
                **{c: pa.array(v, pa.string()) for c, v in columns.items() if c not in ("level", "hire_date")},
                "level": pa.array(columns["level"], pa.int64()),
                "hire_date": pa.array(columns["hire_date"], pa.date32()),
                "load_id": pa.repeat(self.load_id, len(columns["person"])),
            }
        )


class _SalesforceLoader(Loader):
    """A Salesforce export: its accounts are stored as accounts.csv's, its bookings and quotas as kpis.csv's."""

    snapshot = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accounts = _AccountLoader(*args, **kwargs)
        self.kpis = _KpiLoader(*args, **kwargs)

    def add(self, record: Account | Kpi) -> Rejected | None:
        self.pending += 1
        if isinstance(record, Account):
            self.accounts.add(record)
            return None
        return self.kpis.add(record)

    def flush(self) -> int:
        # Accounts first: a KPI never refers to one, but the order is the one an accounts.csv + kpis.csv load has.
        new = self.accounts.flush() + self.kpis.flush()
        self.changed = self.accounts.changed + self.kpis.changed
        self.removed = self.accounts.removed + self.kpis.removed
        self.left_out = self.accounts.left_out + self.kpis.left_out
        self.pending = 0
        return new


LOADERS: dict[str, type[Loader]] = {
    "roster": _RosterLoader,
    "viva_identities": _VivaIdentityLoader,
    "viva": _VivaLoader,
    "accounts": _AccountLoader,
    "kpis": _KpiLoader,
    "salesforce": _SalesforceLoader,
    "mail": _MailLoader,
    "calendar": _CalendarLoader,
}

SNAPSHOT_KINDS: frozenset[str] = frozenset(kind for kind, loader in LOADERS.items() if loader.snapshot)
"""The kinds of input whose files are snapshots (reference data), as opposed to events, which are only ever added."""
