"""The notebook API: a workspace's tables as pandas DataFrames, its study typed, the report's charts as Plotly figures.

    import repsight
    ws = repsight.open("acme")      # a workspace folder, or its repsight.toml
    ws.person_period()              # one row per person and period: metrics, HR attributes, attainment
    ws.study()                      # the latest stored study; displays its headline table in Jupyter
    ws.figure("headline")           # one of the report's charts (ws.figures() names them)

Every call opens the workspace database read-only and closes it before it
returns, so `repsight metrics` or `analyze` can write it between two cells;
the next call sees their results. Figures go through the same minimum group
size as the report, because figures are made to be shared.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from repsight.config import Config, load_config
from repsight.errors import MetricsError, RepsightError
from repsight.metrics.catalog import HEADLINE, label_with_unit
from repsight.schema import PERSON_COLUMNS

if TYPE_CHECKING:
    import pandas as pd
    import plotly.graph_objects as go

    from repsight.store import Store
    from repsight.study.document import StudyDocument

__all__ = ["HR_COLUMNS", "Study", "Workspace", "WorkspaceSummary", "open"]

HR_COLUMNS: tuple[str, ...] = PERSON_COLUMNS
"""The roster columns each table carries beside the pseudonym (`repsight.schema.PERSON_COLUMNS`)."""
"""The HR attributes joined to each metric row: the `people` table's columns (manager, org, level, …, timezone)."""

# What the workspace's summary counts, stage by stage.
_SUMMARY_TABLES = ("people", "kpis", "messages", "meetings", "quarantine", "person_week", "person_period", "study_results")


@dataclass(frozen=True, repr=False)
class Study:
    """A stored study (`repsight analyze`), as typed data and as the report's charts; shown as its headline table in Jupyter."""

    document: StudyDocument
    """The whole study as stored (docs/study.md): every figure, for the analyst."""
    studied_at: datetime
    """When the study ran (UTC)."""
    min_group_size: int
    """The minimum group size of what this object draws or displays: the workspace's now, or the study's if larger."""

    def __repr__(self) -> str:
        population = self.document["population"]
        return (
            f"<Study of {population['reps']} reps, {population['rep_periods']} rep-periods, "
            f"run {self.studied_at:%Y-%m-%d %H:%M} UTC>"
        )

    @cached_property
    def shown(self) -> StudyDocument:
        """Return the document without a figure over fewer than `min_group_size` reps: what figures and the display draw (computed once)."""
        from repsight.privacy import suppress_small_study_groups

        return suppress_small_study_groups(self.document, self.min_group_size)

    def figures(self) -> list[str]:
        """Return the names of the report's charts for this study, in the report's order: what `figure` accepts."""
        from repsight.report.figures import chart_names

        return chart_names(self.shown)

    def figure(self, name: str) -> go.Figure:
        """Return the report's chart `name` ("headline", "phase1", "phase2", "dynamics-customer_hours", "leading") as a Plotly figure."""
        from repsight.report.figures import chart

        available = self.figures()
        if name not in available:
            raise ValueError(f"no figure {name!r} in this study; choose one of {', '.join(available)}")
        return chart(self.shown, name)

    def phase1(self) -> pd.DataFrame:
        """Return phase 1 as a table: one row per metric (the headline behaviours first), top and bottom means, the gap, its interval, rho, q, which way is better and the rep-periods without a value."""
        return _phase1_rows(self.document)

    def verdicts(self) -> pd.DataFrame:
        """Return phase 2's verdicts: one row per metric and segmenting attribute, with I², q and the segments that differ."""
        return _verdict_rows(self.document)

    def _repr_html_(self) -> str:
        shown = self.shown
        population = shown["population"]
        periods = population["periods"]
        span = f"{periods[0]} to {periods[-1]}" if len(periods) > 1 else ", ".join(periods)
        share = f"{100 * float(shown['thresholds']['tier_fraction']):g}%"
        parts = [
            '<div class="repsight-study">',
            f"<p><strong>repsight study</strong> of {population['reps']:,} reps, {population['rep_periods']:,} rep-periods "
            f"({html.escape(span)}), run {self.studied_at:%Y-%m-%d %H:%M} UTC; tiers: top and bottom {share} "
            "of each period by attainment.</p>",
            _headline_table(shown).to_html(index=False, border=0),
        ]
        verdicts = _verdict_table(shown)
        if verdicts is not None:
            attributes = html.escape(", ".join(verdicts.columns[1:]))
            parts += [f"<p>Phase 2: is each gap the same in every {attributes}?</p>", verdicts.to_html(index=False, border=0)]
        left_out = [f"{a}: {', '.join(part['left_out'])}" for a, part in shown["phase2"].items() if part["left_out"]]
        if left_out:
            parts.append(
                f"<p>Segments of fewer than {self.min_group_size} reps, in no figure: {html.escape('; '.join(left_out))}.</p>"
            )
        parts += [f"<p><em>{html.escape(shown['caveat'])}</em></p>", "</div>"]
        return "\n".join(parts)


def _metric_order(document: StudyDocument) -> list[str]:
    """Return the studied metrics as the report lists them: the three headline behaviours first."""
    metrics = list(document["phase1"])
    return [m for m in HEADLINE if m in metrics] + [m for m in metrics if m not in HEADLINE]


def _headline_table(document: StudyDocument) -> pd.DataFrame:
    """Return the headline behaviours' row of phase 1 as text, written as the report writes them."""
    import pandas as pd

    from repsight.report.numbers import interval, plain, q_value, signed

    rows = _phase1_rows(document)
    rows = rows.loc[[m for m in HEADLINE if m in rows.index]]
    share = f"{100 * float(document['thresholds']['tier_fraction']):g}%"
    confidence = f"{100 * float(document['thresholds']['confidence']):g}%"
    return pd.DataFrame(
        {
            "Behaviour": list(rows["label"]),
            f"Top {share}": [plain(v) for v in rows["top_mean"]],
            f"Bottom {share}": [plain(v) for v in rows["bottom_mean"]],
            "Bottom vs top": [signed(v, 1, "%") for v in rows["bottom_vs_top_pct"]],
            f"{confidence} interval": [
                interval([lo, hi], 1, "%") for lo, hi in zip(rows["ci_low"], rows["ci_high"], strict=True)
            ],
            "q": [q_value(v) for v in rows["q"]],
        }
    )


def _verdict_table(document: StudyDocument) -> pd.DataFrame | None:
    """Return phase 2's verdicts as text, one row per metric and a column per attribute with segments; None when none has."""
    from repsight.study.document import SEGMENT_SPECIFIC, differing_segments

    verdicts = _verdict_rows(document)
    if verdicts.empty:
        return None
    text = verdicts.assign(
        behaviour=[label_with_unit(m) for m in verdicts["metric"]],
        shown=[
            f"{v}: {differing_segments(d)}" if v == SEGMENT_SPECIFIC else v
            for v, d in zip(verdicts["verdict"], verdicts["differing_segments"], strict=True)
        ],
    )
    grid = text.pivot(index="behaviour", columns="attribute", values="shown")
    grid = grid.reindex(index=list(dict.fromkeys(text["behaviour"])), columns=list(dict.fromkeys(text["attribute"])))
    return grid.rename_axis(index="Behaviour", columns=None).reset_index()


def _phase1_rows(document: StudyDocument) -> pd.DataFrame:
    import pandas as pd

    from repsight.study.phases import better

    phase1 = document["phase1"]
    rows = [
        {
            "metric": m,
            "label": label_with_unit(m),
            "top_mean": phase1[m]["top_mean"],
            "bottom_mean": phase1[m]["bottom_mean"],
            "bottom_vs_top_pct": phase1[m]["bottom_vs_top_pct"],
            "ci_low": phase1[m]["ci"][0],
            "ci_high": phase1[m]["ci"][1],
            "rho": phase1[m]["rho"],
            "q": phase1[m]["q"],
            "better": phase1[m].get("better", better(m)),
            "missing": phase1[m].get("missing", 0),
        }
        for m in _metric_order(document)
    ]
    columns = ["metric", "label", "top_mean", "bottom_mean", "bottom_vs_top_pct", "ci_low", "ci_high", "rho", "q"]
    frame = pd.DataFrame(rows, columns=[*columns, "better", "missing"]).set_index("metric")
    # The stored JSON writes a figure that does not exist as null: NaN here.
    numbers = columns[2:]
    frame[numbers] = frame[numbers].astype("float64")
    return frame


def _verdict_rows(document: StudyDocument) -> pd.DataFrame:
    import pandas as pd

    metrics = _metric_order(document)
    rows = [
        {
            "metric": m,
            "attribute": attribute,
            "verdict": test["verdict"],
            "i2": test["i2"],
            "q": test["q"],
            "differing_segments": list(test["differing_segments"]),
        }
        for attribute, part in document["phase2"].items()
        if part["segments"]
        for m in metrics
        if (test := part["heterogeneity"].get(m)) is not None
    ]
    frame = pd.DataFrame(rows, columns=["metric", "attribute", "verdict", "i2", "q", "differing_segments"])
    frame[["i2", "q"]] = frame[["i2", "q"]].astype("float64")
    return frame


@dataclass(frozen=True)
class WorkspaceSummary:
    """Who a workspace holds, and how far it has been taken (rows per stage's table)."""

    people: int
    """People on the roster (`people`)."""
    sellers: int
    """Roster people of `[company] sales_functions`."""
    reps: int
    """Sellers with an attainment in the KPIs: whom the study can tier."""
    people_measured: int
    """People with a `person_period` row."""
    periods: list[str]
    """The periods measured, in order."""
    tables: dict[str, int]
    """Rows of each stage's main tables, from `people` to `study_results` (0 where the table is absent)."""


class Workspace:
    """A repsight workspace, read from a notebook: tables as DataFrames, the study, the report's charts."""

    def __init__(self, config: Config) -> None:
        self.config = config
        """The workspace's configuration (repsight.toml)."""

    @property
    def path(self) -> Path:
        """The workspace's repsight.toml."""
        return self.config.path

    def __repr__(self) -> str:
        return f"Workspace({str(self.path)!r})"

    def _open(self) -> Store:
        from repsight.store import Store

        return Store.open(self.config, read_only=True)

    def _measured(self, store: Store, table: str) -> None:
        # A workspace made before the metrics stage existed has no such table at all.
        if not store.has_table(table) or store.count(table) == 0:
            raise MetricsError(f"the workspace has no metrics yet: run `repsight metrics -c {self.path}`")

    def person_week(self) -> pd.DataFrame:
        """Return `person_week` (one row per person and week, by pseudonym) with each person's HR attributes (`HR_COLUMNS`)."""
        with self._open() as store:
            self._measured(store, "person_week")
            measured = store.table("person_week")
            people = store.table("people")
            joined = measured.left_join(people, measured.person == people.person)
            rows = joined.select(*[measured[c] for c in measured.columns], *[people[c] for c in HR_COLUMNS])
            return store.to_pandas(rows.order_by(["person", "week"]))

    def person_period(self) -> pd.DataFrame:
        """Return `person_period` (one row per person and period) with HR attributes, and `attainment` where the KPIs have one."""
        with self._open() as store:
            self._measured(store, "person_period")
            measured = store.table("person_period")
            people = store.table("people")
            kpis = store.table("kpis")
            joined = measured.left_join(people, measured.person == people.person).left_join(
                kpis, (measured.person == kpis.person) & (measured.period == kpis.period)
            )
            rows = joined.select(*[measured[c] for c in measured.columns], *[people[c] for c in HR_COLUMNS], kpis.attainment)
            return store.to_pandas(rows.order_by(["person", "period"]))

    def group_means(self, metric: str, by: str) -> pd.DataFrame:
        """Return the mean weekly `metric` per group of the HR attribute `by`, as Viva Insights' `create_bar` computes it.

        Each person's weeks are averaged first, then the people of each group;
        `n` is the group's people. A group of fewer people than
        `[privacy] min_group_size` is left out, as `create_bar(mingroup=...)`
        leaves it out. `by` is a roster column (`org`) or any HR column of the
        roster or person query by its header (`Organization`, `LevelDesignation`).
        Columns: `by`, `metric`, `n`, the largest mean first.
        """
        import pandas as pd

        from repsight.metrics.catalog import WEEKLY
        from repsight.privacy import large_enough

        if metric not in WEEKLY:
            raise MetricsError(f"{metric!r} is not a weekly metric ({', '.join(WEEKLY)})")
        with self._open() as store:
            self._measured(store, "person_week")
            weeks = store.table("person_week")
            means = store.to_pandas(weeks.group_by("person").aggregate(value=weeks[metric].mean()))
            people = store.to_pandas(store.table("people").drop("load_id"))
        groups = _attribute(people, by)
        means = means.merge(groups.rename("group"), left_on="person", right_index=True, how="inner").dropna()
        table = means.groupby("group").agg(metric=("value", "mean"), n=("person", "nunique")).reset_index()
        table = table[large_enough(table["n"], self.config.privacy.min_group_size)]
        table = table.sort_values("metric", ascending=False, kind="stable").reset_index(drop=True)
        return pd.DataFrame({by: table["group"], "metric": table["metric"], "n": table["n"].astype("int64")})

    def study(self) -> Study:
        """Return the latest stored study (`repsight analyze`)."""
        from repsight.report.report import latest_study

        with self._open() as store:
            document, studied_at = latest_study(store, self.config)
        # As the report: the workspace's minimum now, or the study's own if that is larger.
        min_group = max(self.config.privacy.min_group_size, document["thresholds"]["min_group_size"])
        return Study(document, studied_at, min_group)

    def figures(self) -> list[str]:
        """Return the names of the report's charts for the latest study: what `figure` accepts."""
        return self.study().figures()

    def figure(self, name: str) -> go.Figure:
        """Return the report's chart `name` of the latest study as a Plotly figure, small groups suppressed as in the report."""
        return self.study().figure(name)

    def summary(self) -> WorkspaceSummary:
        """Return who the workspace holds and how many rows each stage's tables have."""
        with self._open() as store:
            tables = {t: store.count(t) if store.has_table(t) else 0 for t in _SUMMARY_TABLES}
            people = store.table("people")
            sellers = self.config.company.sellers(people)
            reps = sellers.semi_join(store.table("kpis").filter(lambda t: t.attainment.notnull()), "person")
            counts = store.to_arrow(
                sellers.aggregate(n=sellers.person.nunique()).cross_join(reps.aggregate(r=reps.person.nunique()))
            )
            measured, periods = 0, []
            if tables["person_period"]:
                rows = store.table("person_period")
                measured = store.to_arrow(rows.aggregate(n=rows.person.nunique()))["n"][0].as_py()
                periods = store.to_arrow(rows.select("period").distinct().order_by("period"))["period"].to_pylist()
        return WorkspaceSummary(
            people=tables["people"],
            sellers=int(counts["n"][0].as_py() or 0),
            reps=int(counts["r"][0].as_py() or 0),
            people_measured=int(measured or 0),
            periods=[str(p) for p in periods],
            tables=tables,
        )

    def _repr_html_(self) -> str:
        path = html.escape(str(self.path))
        title = f"<p><strong>repsight workspace</strong> {html.escape(', '.join(self.config.company.domains))} ({path})</p>"
        try:
            found = self.summary()
        except RepsightError as exc:
            return f'<div class="repsight-workspace">{title}<p>{html.escape(str(exc))}</p></div>'
        periods = found.periods
        population = [
            ("People on the roster", f"{found.people:,}"),
            (f"In sales functions ({', '.join(self.config.company.sales_functions)})", f"{found.sellers:,}"),
            ("Reps (with an attainment)", f"{found.reps:,}"),
            ("People measured", f"{found.people_measured:,}"),
            (
                "Periods measured",
                f"{periods[0]} to {periods[-1]} ({len(periods)})" if len(periods) > 1 else ", ".join(periods) or "none",
            ),
        ]
        tables = found.tables
        if not tables["person_week"]:
            step = f"next: `repsight metrics -c {self.path}`"
        elif not tables["study_results"]:
            step = f"next: `repsight analyze -c {self.path}`"
        else:
            step = "measured and studied: ws.person_period(), ws.study(), ws.figures()"
        rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in population)
        counts = "".join(f"<tr><th>{t}</th><td>{n:,}</td></tr>" for t, n in tables.items())
        return (
            f'<div class="repsight-workspace">{title}'
            f"<table><thead><tr><th>Population</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
            f"<table><thead><tr><th>Table</th><th>Rows</th></tr></thead><tbody>{counts}</tbody></table>"
            f"<p>{html.escape(step)}</p></div>"
        )


def _attribute(people: pd.DataFrame, name: str) -> pd.Series:
    """Return each person's (index: pseudonym) value of HR attribute `name`: a roster column, else a kept HR column by header."""
    import pandas as pd

    from repsight.sources.viva import HR_COLUMNS as VIVA_HR
    from repsight.sources.viva import canonical_name, kept_attribute

    column = name if name in people.columns else VIVA_HR.get(canonical_name(name))
    if column is not None and column in people.columns and column not in ("person", "attributes"):
        return people.set_index("person")[column].astype("string")
    values = kept_attribute([text if isinstance(text, str) else None for text in people["attributes"]], name)
    if all(v is None for v in values):
        raise MetricsError(f"{name!r} is neither a roster column nor an HR column of any person")
    return pd.Series(values, index=people["person"], dtype="string")


def open(path: str | Path) -> Workspace:
    """Return the workspace at `path`: a folder holding repsight.toml, or the file itself."""
    return Workspace(load_config(path))
