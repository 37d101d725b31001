"""The workspace database: one connection, the documented tables (`repsight.schema`), keyed loads.

This module owns the connection: it opens it (reading the workspace key
itself), and every other module asks it for tables as Ibis expressions
(`table`) and for their rows (`to_arrow`, `to_pandas`). No module outside
this one sends SQL text.

What is DuckDB-only, and why: the workspace is always one DuckDB file, so
the writes here are DuckDB statements (Ibis has no UPDATE or keyed DELETE,
and lending a batch to DuckDB with `register` avoids copying it): `unseen`,
`changed`, `append`, `upsert`, `replace`, `delete_where`, `delete_superseded`,
`refresh_people_from_history`, `erase_people`, `purge_events`,
`start_load`, `finish_load`, `transaction`, `write_parquet`,
`set_memory_limit`, and the upgrade of an older workspace's tables when a
writer opens it. Reads go through
Ibis and would work on any backend. Where the metrics are *computed* is a
separate choice (`[engine] backend`, repsight.metrics.engine).

Event tables hold pseudonyms and domains only; names and addresses live in
`identities` alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from repsight.errors import KeyFileError, StoreError
from repsight.lake import EVENT_TABLES, Lake
from repsight.privacy import key_fingerprint, read_key
from repsight.schema import KEYS, PERSON_MENTIONS, PERSON_REFERENCES, SCHEMA_VERSION, TABLES

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pandas as pd

    from repsight.config import Config

__all__ = ["WRITER_LOCK_WAIT_SECONDS", "Store"]


def _write_failures() -> tuple[type[Exception], ...]:
    import duckdb

    """Return DuckDB's errors of a write the file cannot take (a full disk); the last leaves the database invalidated."""
    return (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.TransactionException, duckdb.FatalException)


WRITER_LOCK_WAIT_SECONDS = 10.0
"""How long a writer waits for the database while another process holds it."""


class Store:
    """An open workspace database."""

    def __init__(self, backend: ibis.BaseBackend, *, key: str, transactional: bool) -> None:
        self.backend: Any = backend
        self.key = key
        """The workspace's pseudonymisation key (checked against the database's fingerprint)."""
        self._transactional = transactional
        self._path: Path | None = None
        """The database file, where `open` opened one: named in a write's failure."""
        self._in_transaction = False
        self._registrations = 0
        self.lake: Lake | None = None
        self._config: Config | None = None
        """Where the event tables live, with `[engine] lake` (`repsight.lake`); None: in this database."""

    @classmethod
    def open(cls, config: Config, *, read_only: bool = False, key: str | None = None) -> Store:
        """Open the workspace database of `config`, checking that its key is the database's key.

        The key is the workspace's (REPSIGHT_KEY, else the key file), unless
        `key` is given. A writer creates the database and its tables if
        needed, and adds the columns that a table made by an older version
        lacks (`SCHEMA_VERSION`). A reader (`read_only`) changes nothing and
        needs a database that exists; it reads an older workspace's tables as
        they are: a column added since is missing until a writer opens it.
        """
        import duckdb
        import ibis

        if key is None:
            key = read_key(config.key_path)

        # The workspace is always a DuckDB file; `engine.backend` chooses
        # where the metrics are computed (repsight.metrics.engine).
        path: Path = config.database_path
        if read_only and not path.exists():
            raise StoreError(f"{path}: no workspace database yet; load data with `repsight ingest -c {config.path}`")
        # A writer waits a little for a lock another process holds (the dashboard
        # rereads the file for a moment after each change); a reader does not.
        deadline = time.monotonic() + (0.0 if read_only else WRITER_LOCK_WAIT_SECONDS)
        while True:
            try:
                backend = ibis.duckdb.connect(str(path), read_only=read_only)
                break
            except duckdb.Error as exc:
                if "lock" in str(exc).lower() and time.monotonic() < deadline:
                    time.sleep(0.2)
                    continue
                if "lock" in str(exc).lower():
                    raise StoreError(
                        f"{path}: the workspace database is in use by another process; try again when it has finished ({exc})"
                    ) from None
                raise StoreError(f"{path}: cannot open the workspace database: {exc}") from None
        store = cls(backend, key=key, transactional=True)
        store._path = path
        store.lake = Lake.of(config)
        store._config = config
        try:
            store.set_memory_limit(config.engine.memory_limit)
            # Long queries would draw DuckDB's own bar over the command's output.
            backend.raw_sql("SET enable_progress_bar = false")
        except duckdb.Error as exc:
            backend.disconnect()
            raise StoreError(f"{config.path}: [engine] memory_limit: {exc}") from None
        if not read_only:
            try:
                store._create_tables()
            except StoreError as exc:
                backend.disconnect()
                raise StoreError(f"{path}: {exc}") from None
        store._check_key(key, config, read_only=read_only)
        return store

    def close(self) -> None:
        self.backend.disconnect()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _create_tables(self) -> None:
        import ibis

        existing = set(self.backend.list_tables())
        for name, columns in TABLES.items():
            if name not in existing:
                self.backend.create_table(name, schema=ibis.schema(columns))
        if "workspace" not in existing:
            self.insert_new("workspace", pa.table({"name": ["schema_version"], "value": [str(SCHEMA_VERSION)]}))
        else:
            self._upgrade_tables(existing)

    def _upgrade_tables(self, existing: set[str]) -> None:
        """Add to each stored table the columns of `TABLES` it lacks (null in stored rows); record `SCHEMA_VERSION`."""
        import ibis
        from ibis.backends.sql.datatypes import DuckDBType

        with self.transaction():
            for name, columns in TABLES.items():
                if name not in existing:
                    continue
                stored = list(self.backend.table(name).columns)  # the database's own table, not the lake's
                missing = [c for c in columns if c not in stored]
                if not missing:
                    continue
                # Rows are inserted by position: the stored columns must lead the schema's, in its order.
                if list(columns)[: len(stored)] != stored:
                    raise StoreError(
                        f"table {name} has the columns {', '.join(stored)}; this version of repsight expects "
                        f"{', '.join(columns)} and can only add the missing ones at the end"
                    )
                for column in missing:
                    kind = DuckDBType.to_string(ibis.dtype(columns[column]))
                    self.backend.con.execute(f"ALTER TABLE {name} ADD COLUMN {column} {kind}")
            version = self.setting("schema_version")
            if version is None or int(version) < SCHEMA_VERSION:
                self.upsert("workspace", pa.table({"name": ["schema_version"], "value": [str(SCHEMA_VERSION)]}))

    def _check_key(self, key: str, config: Config, *, read_only: bool) -> None:
        fingerprint = key_fingerprint(key)
        stored = self.setting("key_fingerprint")
        if stored is None and not read_only:
            self.insert_new("workspace", pa.table({"name": ["key_fingerprint"], "value": [fingerprint]}))
        elif stored != fingerprint:
            raise KeyFileError(
                f"{config.key_path}: this is not the key the workspace {config.database_path} "
                "was loaded with; its pseudonyms would not match the stored ones"
            )

    def setting(self, name: str) -> str | None:
        """Return a value of the `workspace` table, or None."""
        rows = self.table("workspace").filter(lambda t: t.name == name).value.to_pyarrow().to_pylist()
        return rows[0] if rows else None

    def table(self, name: str) -> ir.Table:
        """Return a stored table as an Ibis expression (an event table from the lake, where there is one)."""
        if self.lake is not None and name in EVENT_TABLES:
            columns = ", ".join(TABLES[name])
            if self.lake.folder is None:  # an object store: the files listed now, read through fsspec
                import ibis

                found = self.lake.dataset(name, ibis.schema(TABLES[name]).to_pyarrow())
                if found is not None:
                    self.backend.con.register(f"lake_{name}_files", found)
                    self.backend.con.execute(
                        f"CREATE OR REPLACE TEMP VIEW lake_{name} AS SELECT {columns} FROM lake_{name}_files"
                    )
                    return self.backend.table(f"lake_{name}")
                return self.backend.table(name)
            files = self.lake.files(name)
            if files is not None:
                # The lake's files as they are now: a view, read again by every query.
                self.backend.con.execute(
                    f"CREATE OR REPLACE TEMP VIEW lake_{name} AS SELECT {columns} FROM read_parquet({_sql_text(files)})"
                )
                return self.backend.table(f"lake_{name}")
        return self.backend.table(name)

    def own_events(self) -> int:
        """Return how many messages and meetings this database's own tables hold, whatever the lake holds."""
        return int(self.backend.table("messages").count().execute() + self.backend.table("meetings").count().execute())

    def count(self, name: str) -> int:
        """Return how many rows table `name` holds."""
        return int(self.table(name).count().execute())

    def has_table(self, name: str) -> bool:
        """Return whether the database holds table `name` (a workspace made by an older version may lack a stage's tables)."""
        return name in self.backend.list_tables()

    def to_arrow(self, expr: ir.Expr) -> pa.Table:
        """Return the rows of an Ibis expression over this store's tables as an Arrow table."""
        rows: pa.Table = self.backend.to_pyarrow(expr)
        return rows

    def write_parquet(self, name: str, path: Path, rows: ir.Table | None = None) -> None:
        """Write the stored table `name` (or `rows`, an expression over the stored tables) to the Parquet file `path`.

        How the Spark engine is handed its inputs.
        """
        if rows is not None:
            self.backend.to_parquet(rows, path)
            return
        # DuckDB-only: its COPY streams the table to the file without holding it in memory.
        self.backend.con.execute(f"COPY (SELECT * FROM {name}) TO {_sql_text(str(path))} (FORMAT parquet)")

    def delete_from(self, name: str, column: str, first: object) -> None:
        """Delete the rows of table `name` whose `column` is `first` or later (an incremental run's weeks)."""
        self.backend.con.execute(f"DELETE FROM {name} WHERE {column} >= ?", [first])

    def set_memory_limit(self, limit: str) -> None:
        """Let DuckDB use at most `limit` (e.g. "2GB") for this connection; beyond it, it spills to disk."""
        self.backend.raw_sql(f"SET memory_limit = {_sql_text(limit)}")

    def to_pandas(self, expr: ir.Expr) -> pd.DataFrame:
        """Return the rows of an Ibis expression over this store's tables as a pandas DataFrame (through Arrow, so types are kept)."""
        return self.to_arrow(expr).to_pandas()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block as one transaction: all of it is stored, or none of it."""
        if not self._transactional or self._in_transaction:
            yield
            return
        self.backend.raw_sql("BEGIN TRANSACTION")
        self._in_transaction = True
        try:
            try:
                yield
            except BaseException:
                self.backend.raw_sql("ROLLBACK")
                raise
            else:
                self.backend.raw_sql("COMMIT")
        except _write_failures() as exc:
            # The file cannot take the write (a full disk, a file size limit): nothing of the block is stored,
            # and nothing more can be (DuckDB may invalidate the connection). The run must stop here.
            cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(
                f"{self._path or 'the workspace database'}: cannot write the workspace database ({cause}); "
                "nothing of the interrupted step was stored: free space, then run the command again"
            ) from exc
        finally:
            self._in_transaction = False

    def _conform(self, name: str, rows: pa.Table) -> pa.Table:
        import ibis

        schema = ibis.schema(TABLES[name]).to_pyarrow()
        for field in schema:  # columns the caller leaves out are null
            if field.name not in rows.column_names:
                rows = rows.append_column(field.name, pa.nulls(rows.num_rows, field.type))
        return rows.select(schema.names).cast(schema)

    @contextmanager
    def _registered(self, rows: pa.Table) -> Iterator[str]:
        """Lend `rows` to DuckDB under a fresh name for one statement, then take them back.

        Ibis registers every memtable for the life of the connection, which
        would keep each loaded batch in memory; loads register and drop their own.
        """
        self._registrations += 1
        name = f"_repsight_batch_{self._registrations}"
        self.backend.con.register(name, rows)
        try:
            yield name
        finally:
            self.backend.con.unregister(name)

    def unseen(self, name: str, keys: pa.Table) -> pa.Table:
        """Return the rows of `keys` (key columns of `name`) that the table does not hold yet."""
        on = " AND ".join(f"stored.{c} = batch.{c}" for c in KEYS[name])
        with self._registered(keys) as batch:
            query = f"SELECT batch.* FROM {batch} AS batch ANTI JOIN {name} AS stored ON {on}"
            result: pa.Table = self.backend.con.execute(query).to_arrow_table()
        return result

    def changed(self, name: str, rows: pa.Table) -> pa.Table:
        """Return the keys of `rows` that the table holds with other values (every column but the key and `load_id`).

        Columns the caller leaves out count as null, as `upsert` would store them.
        """
        key = list(KEYS[name])
        rows = _first_of_each_key(self._conform(name, rows), key)
        values = [c for c in TABLES[name] if c not in key and c != "load_id"]
        if not values or rows.num_rows == 0:
            return rows.select(key).slice(0, 0)
        on = " AND ".join(f"stored.{c} = batch.{c}" for c in key)
        differs = " OR ".join(f"stored.{c} IS DISTINCT FROM batch.{c}" for c in values)
        selected = ", ".join(f"batch.{c}" for c in key)
        with self._registered(rows) as batch:
            query = f"SELECT {selected} FROM {batch} AS batch JOIN {name} AS stored ON {on} WHERE {differs}"
            result: pa.Table = self.backend.con.execute(query).to_arrow_table()
        return result

    def refresh_people_from_history(self) -> None:
        """Make each roster person's `people` row their latest row of `people_history` (by effective date).

        Rows a roster load stored that the history no longer has go; rows of
        other sources (a Viva Insights person query's HR columns) stay.
        """
        columns = ", ".join(TABLES["people"])
        roster_loads = "SELECT load_id FROM loads WHERE kind = 'roster'"
        with self.transaction():
            self.backend.con.execute(
                f"DELETE FROM people WHERE load_id IN ({roster_loads}) OR person IN (SELECT person FROM people_history)"
            )
            self.backend.con.execute(
                f"INSERT INTO people SELECT {columns} FROM people_history"
                " QUALIFY row_number() OVER (PARTITION BY person ORDER BY effective_date DESC) = 1"
            )

    def delete_superseded(self, name: str, load_id: int) -> pa.Table:
        """Delete the rows of `name` that an earlier load of load `load_id`'s file (as the same kind) stored; return their keys.

        Called once the load has stored its rows (each then carries its `load_id`), this takes out what the file no longer says.
        Rows stored from another file are left alone.
        """
        earlier = (
            "SELECT earlier.load_id FROM loads AS earlier JOIN loads AS this"
            " ON earlier.source = this.source AND earlier.kind = this.kind AND earlier.load_id <> this.load_id"
            " WHERE this.load_id = ?"
        )
        key = ", ".join(KEYS[name])
        query = f"DELETE FROM {name} WHERE load_id IN ({earlier}) RETURNING {key}"
        result: pa.Table = self.backend.con.execute(query, [load_id]).to_arrow_table()
        return result

    def insert_new(self, name: str, rows: pa.Table) -> int:
        """Insert the rows whose key the table does not hold yet (the first of equal keys); return how many."""
        if rows.num_rows == 0:
            return 0
        key = list(KEYS[name])
        rows = _first_of_each_key(self._conform(name, rows), key)
        fresh = self.unseen(name, rows.select(key))
        rows = rows.join(fresh, key, join_type="inner").select(rows.column_names) if fresh.num_rows < rows.num_rows else rows
        self.append(name, rows)
        return int(rows.num_rows)

    def append(self, name: str, rows: pa.Table) -> None:
        """Insert rows the caller knows to be new (their keys were checked with `unseen`)."""
        if rows.num_rows:
            rows = self._conform(name, rows)
            with self._registered(rows) as batch:
                self.backend.con.execute(f"INSERT INTO {name} SELECT * FROM {batch}")

    def upsert(self, name: str, rows: pa.Table) -> int:
        """Store `rows`, replacing stored rows with the same key; return how many keys are new."""
        if rows.num_rows == 0:
            return 0
        key = list(KEYS[name])
        rows = _first_of_each_key(self._conform(name, rows), key)
        new = int(self.unseen(name, rows.select(key)).num_rows)
        on = " AND ".join(f"{name}.{c} = batch.{c}" for c in key)
        with self.transaction(), self._registered(rows.select(key)) as batch:
            self.backend.con.execute(f"DELETE FROM {name} WHERE EXISTS (SELECT 1 FROM {batch} AS batch WHERE {on})")
            self.append(name, rows)
        return new

    def replace(self, name: str, rows: pa.Table) -> None:
        """Replace the whole content of table `name` with `rows`."""
        with self.transaction():
            self.backend.con.execute(f"DELETE FROM {name}")
            self.append(name, rows)

    def next_load_id(self) -> int:
        current = self.table("loads").load_id.max().execute()
        return 1 if current is None or current != current else int(current) + 1

    def start_load(self, load_id: int, source: str, kind: str, size_bytes: int) -> None:
        """Record that a load has begun (`finish_load` completes the row) and clear the file's old quarantine.

        The quarantine shows what is wrong with each file as last loaded: once
        a file is fixed and loaded again, its old entries go.
        """
        row = {"load_id": load_id, "source": source, "kind": kind, "size_bytes": size_bytes, "started_at": _now()}
        with self.transaction():
            self.backend.con.execute("DELETE FROM quarantine WHERE source = ?", [source])
            self.append("loads", pa.Table.from_pylist([row]))

    def delete_matching(self, name: str, keys: pa.Table) -> None:
        """Delete the rows of `name` that equal a row of `keys` on all of its columns (a part of the table's key)."""
        if keys.num_rows == 0:
            return
        on = " AND ".join(f"{name}.{c} = batch.{c}" for c in keys.column_names)
        with self._registered(keys) as batch:
            self.backend.con.execute(f"DELETE FROM {name} WHERE EXISTS (SELECT 1 FROM {batch} AS batch WHERE {on})")

    def rename_values(self, name: str, column: str, mapping: pa.Table) -> None:
        """Replace, in `column` of `name`, each value of `mapping`'s first column with its second (an identity mapping applied late)."""
        if mapping.num_rows == 0:
            return
        old, new = mapping.column_names
        with self._registered(mapping) as batch:
            self.backend.con.execute(
                f"UPDATE {name} SET {column} = batch.{new} FROM {batch} AS batch WHERE {name}.{column} = batch.{old}"
            )

    def delete_where(self, name: str, column: str, values: pa.Array) -> None:
        """Delete the rows of `name` whose `column` is one of `values`."""
        with self._registered(pa.table({"value": values})) as batch:
            self.backend.con.execute(f"DELETE FROM {name} WHERE {column} IN (SELECT value FROM {batch})")

    def erase_people(self, people: list[str], addresses: list[str]) -> dict[str, int]:
        """Remove every row of these pseudonyms (`PERSON_REFERENCES`, `PERSON_MENTIONS`), in one transaction; return the rows removed or cleared per table.

        A message or meeting of theirs goes with its recipients or attendees;
        one they only received or attended is counted again without them, and
        a message left with no recipient goes (a reader refuses one). Free
        text that mentions a pseudonym or one of `addresses` (lower-cased)
        goes whole. `forgotten` is not touched.
        """
        touched: dict[str, int] = {}

        def note(table: str, rows: int) -> None:
            if rows:
                touched[table] = touched.get(table, 0) + rows

        if not people:
            return touched
        if self.lake is not None and self._config is not None and self._lake_mentions(people, addresses):
            # First, as it cannot be undone: a failure there changes nothing here, and running it again completes it.
            from repsight.lake.rewrite import erase_from_lake

            for table, rows in erase_from_lake(self._config, people, addresses).items():
                note(table, rows)
        existing = set(self.backend.list_tables())
        con = self.backend.con
        with self.transaction(), self._registered(pa.table({"value": pa.array(people, pa.string())})) as them:
            # Their own events first, with every participant row.
            for events, participants, key, owner in (
                ("messages", "message_recipients", "message_key", "sender"),
                ("meetings", "meeting_attendees", "meeting_key", "organizer"),
            ):
                own = f"SELECT {key} FROM {events} WHERE {owner} IN (SELECT value FROM {them})"
                note(participants, _count(con.execute(f"DELETE FROM {participants} WHERE {key} IN ({own})")))
                note(events, _count(con.execute(f"DELETE FROM {events} WHERE {owner} IN (SELECT value FROM {them})")))
            # Then their part in other people's events: the event is counted again without them.
            for events, participants, key, role, counted in (
                ("messages", "message_recipients", "message_key", "recipient", "recipient_count"),
                ("meetings", "meeting_attendees", "meeting_key", "attendee", "attendee_count"),
            ):
                gone = con.execute(
                    f"DELETE FROM {participants} WHERE {role} IN (SELECT value FROM {them}) RETURNING {key}"
                ).to_arrow_table()
                note(participants, gone.num_rows)
                if gone.num_rows == 0:
                    continue
                with self._registered(gone.group_by(key).aggregate([])) as affected:
                    con.execute(
                        f"UPDATE {events} SET {counted} = (SELECT count(*) FROM {participants} AS p"
                        f" WHERE p.{key} = {events}.{key}) WHERE {key} IN (SELECT {key} FROM {affected})"
                    )
                    if events == "messages":
                        emptied = f"DELETE FROM messages WHERE recipient_count = 0 AND message_key IN (SELECT message_key FROM {affected})"
                        note(events, _count(con.execute(emptied)))
            for table, columns in PERSON_REFERENCES.items():
                if table in ("messages", "message_recipients", "meetings", "meeting_attendees") or table not in existing:
                    continue
                for column, action in columns.items():
                    if action == "delete":
                        statement = f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM {them})"
                    else:
                        statement = f"UPDATE {table} SET {column} = NULL WHERE {column} IN (SELECT value FROM {them})"
                    note(table, _count(con.execute(statement)))
            with self._registered(_needles(people, addresses)) as mentions:
                for table, texts in PERSON_MENTIONS.items():
                    if table not in existing:
                        continue
                    said = " OR ".join(f"contains(lower({c}), lower(m.value))" for c in texts)
                    statement = f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {mentions} AS m WHERE {said})"
                    note(table, _count(con.execute(statement)))
        return touched

    def _lake_mentions(self, people: list[str], addresses: list[str]) -> bool:
        """Return whether the lake holds a row of `people` (an event table) or mentioning them (its quarantine): what `erase_people` rewrites."""
        import ibis

        assert self.lake is not None
        for name, columns in PERSON_REFERENCES.items():
            if name in EVENT_TABLES:
                table = self.table(name)  # the workspace's own (empty) table where the lake has none yet
                if self.to_arrow(table.filter(ibis.or_(*(table[c].isin(people) for c in columns))).limit(1)).num_rows:
                    return True
        rows = self._lake_quarantine()
        if rows is None:
            return False
        with self._registered(rows) as quarantine, self._registered(_needles(people, addresses)) as mentions:
            said = " OR ".join(f"contains(lower(q.{c}), lower(m.value))" for c in PERSON_MENTIONS["quarantine"])
            return (
                self.backend.con.execute(f"SELECT 1 FROM {quarantine} AS q, {mentions} AS m WHERE {said} LIMIT 1").fetchone()
                is not None
            )

    def _lake_quarantine(self) -> pa.Table | None:
        """Return the rows of the lake's quarantine (`<lake>/quarantine`), or None where it has none."""
        assert self.lake is not None
        if self.lake.folder is None:
            found = self.lake.dataset("quarantine", partitioned=False)
            return None if found is None else found.to_table()
        folder = self.lake.folder / "quarantine"
        if next(folder.glob("*.parquet"), None) is None:
            return None
        return self.backend.con.execute(f"SELECT * FROM read_parquet({_sql_text(str(folder / '*.parquet'))})").to_arrow_table()

    def purge_events(self, before: datetime) -> dict[str, int]:
        """Delete the messages sent and the meetings begun before `before` (UTC), with their participants, in one transaction; return the rows per table."""
        removed: dict[str, int] = {}
        if self.lake is not None and self._config is not None:  # the lake's events (`repsight.lake.rewrite`)
            from repsight.lake.rewrite import purge_lake

            removed = purge_lake(self._config, before)
        con = self.backend.con
        with self.transaction():
            for events, participants, key, when in (
                ("messages", "message_recipients", "message_key", "sent_at"),
                ("meetings", "meeting_attendees", "meeting_key", "start_at"),
            ):
                old = f"SELECT {key} FROM {events} WHERE {when} < ?"
                gone = _count(con.execute(f"DELETE FROM {participants} WHERE {key} IN ({old})", [before]))
                removed[participants] = removed.get(participants, 0) + gone
                removed[events] = removed.get(events, 0) + _count(con.execute(f"DELETE FROM {events} WHERE {when} < ?", [before]))
        return removed

    def finish_load(self, load_id: int, **counts: int | str) -> None:
        """Record a load's hash and counts, and when it finished."""
        # Ibis has no UPDATE: DuckDB-only, like every write here.
        columns = {**counts, "finished_at": _now()}
        assignments = ", ".join(f"{name} = ?" for name in columns)
        self.backend.con.execute(f"UPDATE loads SET {assignments} WHERE load_id = ?", [*columns.values(), load_id])


def _first_of_each_key(rows: pa.Table, key: list[str]) -> pa.Table:
    """Return `rows` without later rows whose key an earlier row has."""
    positions = pa.array(range(rows.num_rows), pa.int64())
    first = rows.select(key).append_column("__position", positions).group_by(key, use_threads=False)
    firsts = first.aggregate([("__position", "min")])["__position_min"]
    return rows.take(firsts.take(pc.sort_indices(firsts)))


def _needles(people: list[str], addresses: list[str]) -> pa.Table:
    """Return what free text that mentions `people` holds: a pseudonym, or one of their `addresses` lower-cased."""
    return pa.table({"value": pa.array([*people, *(a.lower() for a in addresses)], pa.string())})


def _count(cursor: Any) -> int:
    """Return how many rows a DuckDB DELETE or UPDATE changed."""
    found = cursor.fetchone()
    return int(found[0]) if found else 0


def _sql_text(text: str) -> str:
    """Return `text` as an SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
