"""`repsight export`: the metric tables as CSV, Parquet or a Viva Insights person query.

`--format viva` writes today's person-query names (`Meeting_and_call_hours_with_manager_1_1`,
`Network_outside_organisation`, …; docs/viva.md) and repsight's lower-case names for the
metrics Viva has no column for; the Viva reader reads such a file back to the same metrics.

Every export names people by pseudonym only and carries their HR attributes
and, per period, their attainment, so the file stands alone for analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import pyarrow as pa
import pyarrow.compute as pc

from repsight.atomic import replacing
from repsight.errors import MetricsError, StoreError
from repsight.metrics.catalog import CATALOG, PERIOD_ONLY, WEEKLY
from repsight.schema import HR_ATTRIBUTES

if TYPE_CHECKING:
    from rich.text import Text

    from repsight.config import Config
    from repsight.store import Store

__all__ = [
    "EXPORT_TABLES",
    "FORMULA_START",
    "VIVA_NAMES",
    "ExportResult",
    "export_table",
    "inert_cells",
    "metric_rows",
    "run_export",
]

FORMULA_START = "=+-@\t\r"
"""A text cell starting with one of these is a formula to a spreadsheet: every CSV written prefixes it with `'`."""

EXPORT_TABLES = ("person_week", "person_period")
ExportFormat = Literal["csv", "parquet", "viva"]

_VIVA_HR = {
    "org": "Organization",
    "level": "LevelDesignation",
    "function": "FunctionType",
    "region": "Region",
    "segment": "Segment",
    "channel": "Channel",
    "hire_date": "HireDate",
}
HR_COLUMNS = {name: _VIVA_HR.get(name, name) for name in (*HR_ATTRIBUTES, "hire_date")}
"""The HR attributes the export carries, with their Viva Insights names."""
VIVA_NAMES = {m.name: m.viva for m in CATALOG if m.viva}
"""Metrics with a Viva Insights person-query name (from the catalogue); the others keep repsight's."""


@dataclass(frozen=True)
class ExportResult:
    """A written export: where, which table, how many rows, which columns."""

    path: Path
    rows: int
    columns: list[str]
    table: str

    def summary(self) -> str:
        """Return what was written, in one sentence: "Wrote 1,234 rows of person_period (27 columns) to metrics.csv"."""
        return f"Wrote {self.rows:,} rows of {self.table} ({len(self.columns)} columns) to {self.path}"

    def __rich__(self) -> Text:
        """Return the summary, for a terminal (never read as markup)."""
        from rich.text import Text

        return Text(self.summary())


def metric_rows(store: Store, table: str, config_path: Path | None = None) -> pa.Table:
    """Return `table` (person_week or person_period) with HR attributes and attainment, one row per person and week or period.

    `config_path`, where given, is named in the advice to compute the metrics first.
    """
    if table not in EXPORT_TABLES:
        raise StoreError(f"--table {table}: not a metric table; choose one of {', '.join(EXPORT_TABLES)}")
    advice = f"compute the metrics first with `repsight metrics -c {config_path or 'CFG'}`"
    # A workspace made before the metrics existed has no such table at all.
    if not store.has_table(table):
        raise MetricsError(f"the workspace has no {table} table; {advice}")
    if store.count(table) == 0:
        raise MetricsError(f"the {table} table is empty; {advice}")
    date_column = "week" if table == "person_week" else "period_start"
    extra = list(PERIOD_ONLY) if table == "person_period" else []
    measured = store.table(table)
    people = store.table("people").select("person", *HR_COLUMNS, "manager")
    kpis = store.table("kpis").select("person", "period", "attainment")
    joined = measured.left_join(people, "person").left_join(kpis, ["person", "period"])
    # A weekly metric is in the export where the workspace measures it: not a Viva-only metric in a workspace of
    # mail and calendar events, not customer time in one of a Viva Insights person query (docs/viva.md).
    available = [m for m in WEEKLY if m in measured.columns]
    counts = store.to_arrow(measured.aggregate(**{m: measured[m].count() for m in available}))
    weekly = [m for m in available if counts[m][0].as_py()]
    rows = joined.select(
        measured.person, measured[date_column], measured.period, *HR_COLUMNS, "manager", "attainment", *weekly, *extra
    )
    return store.to_arrow(rows.order_by(["person", date_column]))


def _viva(rows: pa.Table, date_column: str) -> pa.Table:
    """Return `rows` with Viva Insights person-query column names, every date as MM/DD/YYYY text."""
    columns: dict[str, pa.Array | pa.ChunkedArray] = {"PersonId": rows["person"], "MetricDate": _us_date(rows[date_column])}
    for name in rows.column_names:
        if name in ("person", date_column):
            continue
        values = rows[name]
        if pa.types.is_date(values.type):
            values = _us_date(values)
        columns[HR_COLUMNS.get(name) or VIVA_NAMES.get(name) or name] = values
    return pa.table(columns)


def _us_date(dates: pa.ChunkedArray) -> pa.ChunkedArray:
    """Return dates as MM/DD/YYYY text, as Viva Insights writes them (nulls stay null)."""
    text: pa.ChunkedArray = pc.strftime(dates.cast(pa.timestamp("s")), format="%m/%d/%Y")
    return text


def export_table(store: Store, table: str, fmt: ExportFormat, out: Path, config_path: Path | None = None) -> ExportResult:
    """Write the metric table `table` to `out` in format `fmt`; return what was written.

    `config_path`, where given, is named in the advice to compute the metrics first.
    """
    rows = metric_rows(store, table, config_path)
    if fmt == "viva":
        rows = _viva(rows, "week" if table == "person_week" else "period_start")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with replacing(out) as part:
            if fmt == "parquet":
                import pyarrow.parquet as pq

                pq.write_table(rows, part)
            else:
                import pyarrow.csv as csv

                csv.write_csv(inert_cells(rows), part)
    except OSError as exc:
        raise StoreError(f"{out}: cannot write the export: {exc.strerror or exc}") from None
    return ExportResult(out, rows.num_rows, rows.column_names, table)


def inert_cells(rows: pa.Table) -> pa.Table:
    """Return `rows` with every text cell a spreadsheet would run as a formula (`=HYPERLINK(…)`) prefixed with `'`."""
    pattern = "^([" + "".join(f"\\x{ord(c):02x}" for c in FORMULA_START) + "])"
    for i, name in enumerate(rows.column_names):
        if pa.types.is_string(rows[name].type) or pa.types.is_large_string(rows[name].type):
            rows = rows.set_column(i, name, pc.replace_substring_regex(rows[name], pattern=pattern, replacement="'\\1"))
    return rows


def run_export(config: Config, table: str, fmt: ExportFormat, out: Path) -> ExportResult:
    """Write the metric table `table` of the workspace of `config` to `out` in format `fmt`; return what was written."""
    from repsight.store import Store

    with Store.open(config, read_only=True) as store:
        return export_table(store, table, fmt, out, config_path=config.path)
