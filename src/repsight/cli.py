"""The command line: parses, calls the Python API, prints. No logic of its own."""

from __future__ import annotations

import sys
import time
import traceback
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from repsight.config import CONFIG_FILENAME, Config, load_config
from repsight.errors import RepsightError
from repsight.ingest import IngestReport

if TYPE_CHECKING:
    from repsight.metrics import MetricsReport
    from repsight.study import StudyResult

__all__ = ["app", "main"]

app = typer.Typer(
    help="People analytics for sales teams: the behaviours behind quota attainment.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)
_debug = {"on": False}

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The workspace's repsight.toml (or its folder).")]


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    _debug["on"] = debug


class _FileProgress:
    """Rich progress bars for the ingest stage: one per file, bytes and records."""

    def __init__(self, console: Console) -> None:
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[records]:>10,} records"),
            TextColumn("{task.fields[rate]:>8,.0f}/s"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self._task: TaskID | None = None
        self._started = 0.0

    def __enter__(self) -> _FileProgress:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def start(self, path: Path, total_bytes: int) -> None:
        self._task = self._bar.add_task(path.name, total=total_bytes, records=0, rate=0.0)
        self._started = time.perf_counter()

    def advance(self, bytes_read: int, records: int) -> None:
        if self._task is not None:
            elapsed = time.perf_counter() - self._started
            rate = records / elapsed if elapsed > 0 else 0.0
            self._bar.update(self._task, completed=bytes_read, records=records, rate=rate)

    def finish(self) -> None:
        if self._task is not None:
            self._bar.remove_task(self._task)
            self._task = None


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _print_ingest(report: IngestReport, config: Config) -> None:
    table = Table(title="Ingest", title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    table.add_column("kind", no_wrap=True)
    table.add_column("file", overflow="fold", min_width=16)
    for column in ("read", "loaded", "new", "quarantined", "seconds"):
        table.add_column(column, justify="right", no_wrap=True)
    for f in report.files:
        name = _shown(f.path, config.root)
        if f.error is not None:
            table.add_row(f.kind, name, "[red]not loaded[/red]", "", "", "", "")
            continue
        quarantined = f"[yellow]{f.quarantined:,}[/yellow]" if f.quarantined else "0"
        table.add_row(f.kind, name, f"{f.read:,}", f"{f.loaded:,}", f"{f.new:,}", quarantined, f"{f.seconds:.1f}")
    if len(report.files) > 1:
        t = report.total()
        table.add_section()
        table.add_row("", "total", f"{t.read:,}", f"{t.loaded:,}", f"{t.new:,}", f"{t.quarantined:,}", f"{t.seconds:.1f}")
    out.print(table)
    for note in report.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    for f in report.files:
        if f.error is not None:
            err.print(f"[red]error:[/red] {f.error}")
            if f.exception is not None and _debug["on"]:
                err.print("".join(traceback.format_exception(f.exception)), markup=False, highlight=False)
    if report.total().quarantined:
        shown = _shown(config.path, Path.cwd())
        out.print(f"Quarantined records are in the workspace: `repsight quarantine -c {shown}`")


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace.")],
    domain: Annotated[
        list[str] | None, typer.Option("--domain", "-d", help="An internal mail domain (repeat for several).")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Weeks start Monday 00:00 in this IANA zone.")] = "UTC",
) -> None:
    """Create a workspace: repsight.toml and a pseudonymisation key."""
    from repsight.workspace import init_workspace

    config = init_workspace(directory, domains=domain or ["acme.example"], timezone=timezone)
    out.print(f"Created {config.path}")
    if not domain:
        out.print("Its [company] domains is the placeholder acme.example: put your company's mail domains there.")
    out.print(f"Key: {config.key_path} (keep it safe and out of version control; or set REPSIGHT_KEY)")
    out.print(f"Next: put the roster, accounts, KPIs and exports beside it, then `repsight ingest -c {config.path}`")


@app.command()
def ingest(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """Load the configured roster, accounts, KPIs, mail and calendars into the workspace."""
    from repsight.ingest import run_ingest

    cfg = load_config(config)
    with _FileProgress(err) as progress:
        report = run_ingest(cfg, progress=progress)
    _print_ingest(report, cfg)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def quarantine(
    config: ConfigOption = Path(CONFIG_FILENAME),
    limit: Annotated[int, typer.Option(min=0, help="Show at most this many records.")] = 50,
) -> None:
    """List the records that could not be loaded, with file, position, field and reason."""
    from repsight.store import Store

    cfg = load_config(config)
    with Store.open(cfg, read_only=True) as store:
        rows = store.table("quarantine").order_by(["source", "load_id"]).limit(limit).to_pyarrow().to_pylist()
        total = store.count("quarantine")
    table = Table(title=f"Quarantine ({total:,} records)", title_justify="left")
    for column in ("file", "position", "field", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(_shown(Path(row["source"]), cfg.root), row["position"], row["field"], row["reason"])
    out.print(table)
    if total > len(rows):
        out.print(f"{total - len(rows):,} more; use --limit")


@app.command()
def status(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """Show what the workspace holds: rows per table and the latest loads."""
    from repsight.schema import TABLES
    from repsight.store import Store

    cfg = load_config(config)
    with Store.open(cfg, read_only=True) as store:
        counts = {name: store.count(name) for name in TABLES if name != "workspace"}
        loads = store.table("loads").order_by("load_id").to_pyarrow().to_pylist()
    table = Table(title=f"Workspace {_shown(cfg.database_path, Path.cwd())}", title_justify="left")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    out.print(table)
    latest: dict[str, dict[str, object]] = {str(row["source"]): row for row in loads}
    history = Table(title="Files, as last loaded", title_justify="left")
    history.add_column("file", overflow="fold")
    for column in ("read", "new", "quarantined", "finished (UTC)"):
        history.add_column(column, justify="right")
    for source, row in latest.items():
        finished = row["finished_at"]
        history.add_row(
            _shown(Path(source), cfg.root),
            f"{row['rows_read'] or 0:,}",
            f"{row['rows_new'] or 0:,}",
            f"{row['rows_quarantined'] or 0:,}",
            f"{finished:%Y-%m-%d %H:%M}" if finished else "[yellow]interrupted: run ingest again[/yellow]",
        )
    if latest:
        out.print(history)


class TableName(StrEnum):
    person_week = "person_week"
    person_period = "person_period"


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    viva = "viva"


def _print_metrics(report: MetricsReport) -> None:
    out.print(
        f"Measured [bold]{report.people:,}[/bold] people: {report.person_weeks:,} person-weeks "
        f"({report.first_week} to {report.last_week}) and {report.person_periods:,} person-{report.grain}s "
        f"({', '.join(report.periods)}) on {report.backend} in {report.seconds:.1f} s"
    )
    for period, people in report.estimated_betweenness.items():
        out.print(
            f"[yellow]note:[/yellow] {period}: network_brokerage is estimated from sampled paths "
            f"({people:,} people in the network; exact up to [metrics] betweenness_exact_max_people)"
        )


def _print_headline(rows: list[dict[str, object]], min_group_size: int) -> None:
    from repsight.metrics import HEADLINE

    table = Table(
        title="Headline behaviours by attainment quartile (sellers' person-periods)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("attainment quartile")
    table.add_column("people", justify="right")
    labels_of = {
        "customer_hours": "customer hours/week",
        "internal_network_size": "internal network",
        "senior_leader_hours": "senior-leader hours/week",
    }
    for name in HEADLINE:
        table.add_column(labels_of.get(name, name), justify="right")
    labels = {1: "1 (lowest)", 4: "4 (top)"}
    for row in rows:
        values = [row[name] for name in HEADLINE]
        cells = [f"{v:.2f}" if isinstance(v, float) else f"[dim]fewer than {min_group_size}[/dim]" for v in values]
        table.add_row(labels.get(int(str(row["quartile"])), str(row["quartile"])), f"{row['people']:,}", *cells)
    by_quartile = {int(str(row["quartile"])): row for row in rows}
    lowest, top = by_quartile.get(1), by_quartile.get(4)
    if lowest and top and all(isinstance(lowest[n], float) and isinstance(top[n], float) for n in HEADLINE):
        gaps = [float(str(lowest[n])) / float(str(top[n])) - 1 if top[n] else 0.0 for n in HEADLINE]
        table.add_section()
        table.add_row("lowest vs top", "", *[f"{gap:+.0%}" for gap in gaps])
    out.print(table)


@app.command()
def metrics(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """Compute the behaviour metrics per person and week, and per person and period (docs/metrics.md)."""
    from repsight.metrics import headline_by_quartile, run_metrics
    from repsight.store import Store

    cfg = load_config(config)
    with err.status(f"Computing the metrics on {cfg.engine.backend}…"):
        report = run_metrics(cfg)
    _print_metrics(report)
    with Store.open(cfg, read_only=True) as store:
        _print_headline(headline_by_quartile(store, cfg).to_pylist(), cfg.privacy.min_group_size)


_LABELS = {
    "customer_hours": "customer time (h/week)",
    "internal_network_size": "internal network (people)",
    "senior_leader_hours": "senior-leader time (h/week)",
    "manager_hours": "manager time (h/week)",
    "org_span": "org units reached",
    "network_prominence": "network prominence (pct)",
    "network_brokerage": "network brokerage (pct)",
    "collaboration_hours": "collaboration (h/week)",
    "external_hours": "external time (h/week)",
    "after_hours_collaboration_hours": "after-hours (h/week)",
}


def _phase2_verdict(document: dict[str, object], metric: str) -> str:
    phase2 = document["phase2"]
    assert isinstance(phase2, dict)
    specific = [
        f"{attribute} ({', '.join(part['heterogeneity'][metric]['differing_segments']) or 'no single segment'})"
        for attribute, part in phase2.items()
        if part["heterogeneity"][metric]["verdict"] == "segment-specific"
    ]
    untested = [a for a, part in phase2.items() if part["heterogeneity"][metric]["verdict"] == "untested"]
    if specific:
        return "[yellow]segment-specific:[/yellow] " + "; ".join(specific)
    if untested and len(untested) == len(phase2):
        return "[dim]not testable (too few segments)[/dim]"
    return "[green]consistent[/green]" if phase2 else "[dim]no segments[/dim]"


def _print_study(result: StudyResult) -> None:
    from repsight.metrics import HEADLINE

    doc = result.document
    population, phase1 = doc["population"], doc["phase1"]
    threshold = doc["thresholds"]["q_threshold"]
    table = Table(
        title=(
            f"The study: bottom vs top quarter of sellers, {population['reps']:,} reps over "
            f"{len(population['periods'])} periods ({population['periods'][0]} to {population['periods'][-1]})"
        ),
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    for name, justify in (
        ("behaviour", "left"),
        ("top", "right"),
        ("bottom", "right"),
        ("bottom vs top [95% CI]", "right"),
        ("rho", "right"),
        ("q", "right"),
        ("by region, segment, channel", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    headline = [m for m in HEADLINE if m in phase1]
    others = [m for m in phase1 if m not in HEADLINE]
    for metric in [*headline, *others]:
        if metric == (others[0] if others else None):
            table.add_section()
        row = phase1[metric]
        low, high = row["ci"]
        gap = "–" if row["bottom_vs_top_pct"] != row["bottom_vs_top_pct"] else f"{row['bottom_vs_top_pct']:+.0f}%"
        interval = "" if low != low else f" [{low:+.0f}, {high:+.0f}]"
        q = row["q"]
        style = "bold" if q == q and q < threshold else "dim"
        table.add_row(
            f"[{style}]{_LABELS.get(metric, metric)}[/{style}]",
            f"{row['top_mean']:.2f}",
            f"{row['bottom_mean']:.2f}",
            gap + interval,
            "–" if row["rho"] != row["rho"] else f"{row['rho']:+.2f}",
            "–" if q != q else ("<0.001" if q < 0.001 else f"{q:.3f}"),
            _phase2_verdict(doc, metric),
        )
    out.print(table)
    out.print(
        f"[dim]Top and bottom: the highest and lowest quarter of each period's reps by attainment. q: Benjamini-Hochberg; "
        f"bold where q < {threshold}. Phase 2 compares the segments of each attribute; see --json for every figure.[/dim]"
    )
    out.print(f"[bold]Caveat:[/bold] {doc['caveat']}")


@app.command()
def analyze(
    config: ConfigOption = Path(CONFIG_FILENAME),
    json_file: Annotated[Path | None, typer.Option("--json", help="Write the whole study as JSON to this file.")] = None,
) -> None:
    """Run the study: top vs bottom sellers' behaviour, whole org then segment by segment (docs/study.md)."""
    from repsight.study import run_study as run_analysis

    cfg = load_config(config)
    with err.status("Running the study…"):
        result = run_analysis(cfg)
    if json_file is not None:
        _write_text(json_file, result.to_json())
        out.print(f"Wrote the study ({result.document['population']['rep_periods']:,} rep-periods) to {json_file}")
        return
    _print_study(result)


def _write_text(path: Path, text: str) -> None:
    from repsight.errors import StudyError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise StudyError(f"{path}: cannot write the study: {exc.strerror or exc}") from None


@app.command()
def export(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The file to write.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    table: Annotated[TableName, typer.Option("--table", help="Which metric table.")] = TableName.person_period,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="csv, parquet, or viva (Viva Insights person-query columns, CSV).")
    ] = ExportFormat.csv,
) -> None:
    """Export a metric table, people as pseudonyms with their HR attributes and attainment."""
    from repsight.export import export_table
    from repsight.store import Store

    cfg = load_config(config)
    with Store.open(cfg, read_only=True) as store:
        result = export_table(store, table.value, fmt.value, out_file, config_path=cfg.path)
    out.print(f"Wrote {result.rows:,} rows of {table.value} ({len(result.columns)} columns) to {result.path}")


@app.command()
def report(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.")] = Path("report.html"),
    config: ConfigOption = Path(CONFIG_FILENAME),
) -> None:
    """Write the study as one self-contained HTML report (opens offline)."""
    from repsight.report import write_report

    cfg = load_config(config)
    result = write_report(cfg, out_file)
    out.print(f"Wrote the report ({result.bytes / 1e6:.1f} MB, {result.figures} charts) to {result.path}")


@app.command()
def serve(
    config: ConfigOption = Path(CONFIG_FILENAME),
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: [web] host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: [web] port).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes; each holds the workspace in memory (one per core).")] = 1,
) -> None:
    """Serve the dashboard: reps, managers, executives, analysts and admins each see what their role allows."""
    cfg = load_config(config)
    _serve(cfg, host or cfg.web.host, port or cfg.web.port, workers)


def _serve(cfg: Config, host: str, port: int, workers: int = 1) -> None:
    import os

    import uvicorn

    from repsight.web import CONFIG_ENV, dashboard

    if workers > 1:
        # Worker processes build their own app: check the workspace here first, so that errors are one line.
        with err.status("Checking the workspace…"):
            dashboard(cfg)
        os.environ[CONFIG_ENV] = str(cfg.path)
        out.print(f"Serving the dashboard on http://{host}:{port}/ with {workers} processes (Ctrl-C stops it)")
        uvicorn.run(
            "repsight.web:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            proxy_headers=False,
        )
        return
    with err.status("Loading the workspace…"):
        application = dashboard(cfg)
    out.print(f"Serving the dashboard on http://{host}:{port}/ (Ctrl-C stops it)")
    # No proxy-header rewriting: the single sign-on check must see the real peer address, not X-Forwarded-For.
    uvicorn.run(application, host=host, port=port, log_level="warning", proxy_headers=False)


users_app = typer.Typer(help="Dashboard accounts: add them, grant roles, reset passwords.", no_args_is_help=True)
app.add_typer(users_app, name="users")
RoleOption = Annotated[
    list[str] | None, typer.Option("--role", help="A role to grant: analyst, admin, executive, manager (repeat).")
]


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(help="The user's email (their roster email, to see their own page).")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    role: RoleOption = None,
) -> None:
    """Create an account with a new password, printed once."""
    from repsight.web import Accounts, new_password

    cfg = load_config(config)
    password = new_password()
    account = Accounts(cfg.accounts_path).add(email, password, frozenset(role or []))
    roles = ", ".join(sorted(account.roles)) or "none granted (the roster's apply)"
    out.print(f"Created {account.email} (roles: {roles}); password, shown once: [bold]{password}[/bold]")


@users_app.command("set-role")
def users_set_role(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
    role: RoleOption = None,
) -> None:
    """Replace the roles granted to an account (none given: remove every grant; the roster's roles stay)."""
    from repsight.web import Accounts

    cfg = load_config(config)
    accounts = Accounts(cfg.accounts_path)
    accounts.set_roles(email, frozenset(role or []))
    accounts.audit(None, f"set roles (command line): {', '.join(sorted(role or [])) or 'none'}", email.strip().lower())
    out.print(f"{email.strip().lower()}: granted roles now {', '.join(sorted(role or [])) or 'none'}")


@users_app.command("reset-password")
def users_reset_password(
    email: Annotated[str, typer.Argument(help="The account's email.")],
    config: ConfigOption = Path(CONFIG_FILENAME),
) -> None:
    """Give an account a new password, printed once."""
    from repsight.web import Accounts, new_password

    cfg = load_config(config)
    password = new_password()
    Accounts(cfg.accounts_path).set_password(email, password)
    out.print(f"{email.strip().lower()}: new password, shown once: [bold]{password}[/bold]")


@users_app.command("list")
def users_list(config: ConfigOption = Path(CONFIG_FILENAME)) -> None:
    """List the accounts and their granted roles."""
    from repsight.web import Accounts

    cfg = load_config(config)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("email")
    table.add_column("granted roles")
    for account in Accounts(cfg.accounts_path).all():
        table.add_row(account.email, ", ".join(sorted(account.roles)))
    out.print(table)


@app.command()
def demo(
    people: Annotated[int, typer.Option(help="Employees of the synthetic company.")] = 200,
    months: Annotated[int, typer.Option(help="Months of mail and calendar data.")] = 18,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed writes the same bytes.")] = 7,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the demo workspace.")] = Path("demo"),
    serve_after: Annotated[
        bool, typer.Option("--serve", help="Then create demo accounts (printed once) and serve the dashboard.")
    ] = False,
) -> None:
    """Generate a synthetic sales organisation and run every stage of repsight on it."""
    from repsight.ingest import run_ingest
    from repsight.metrics import run_metrics
    from repsight.study import run_study as run_analysis
    from repsight.synth.demo import DemoResult, create_demo_workspace

    with err.status(f"Generating {people:,} people and {months} months of mail and meetings…"):
        config, synth = create_demo_workspace(out_dir, people=people, months=months, seed=seed)
    with _FileProgress(err) as progress:
        report = run_ingest(config, progress=progress)
    measured = studied = None
    if report.ok:
        with err.status("Computing the metrics…"):
            measured = run_metrics(config)
        with err.status("Running the study…"):
            studied = run_analysis(config)
    result = DemoResult(config, synth, report, measured, studied)
    s = result.synth
    out.print(
        f"Generated [bold]{s.people:,}[/bold] people ({s.reps:,} quota-carrying reps), {s.accounts:,} CRM accounts, "
        f"{s.messages:,} emails and {s.meetings:,} meetings over {len(s.quarters)} quarters "
        f"({', '.join(s.quarters)}) into {out_dir}"
    )
    _print_ingest(result.ingest, result.config)
    if result.metrics is not None:
        _print_metrics(result.metrics)
    config_path = _shown(result.config.path, Path.cwd())
    out.print("\n[bold]Where to look next[/bold]")
    hints = Table.grid(padding=(0, 2))
    hints.add_column(no_wrap=True)
    hints.add_column()
    hints.add_row(f"repsight status -c {config_path}", "what the workspace holds")
    hints.add_row(f"repsight quarantine -c {config_path}", "records that could not be loaded, and why")
    hints.add_row(f"repsight analyze -c {config_path} --json study.json", "every figure of the study, as JSON")
    hints.add_row(f"repsight report -c {config_path} --out report.html", "the study as one HTML file (opens offline)")
    hints.add_row(f"repsight demo --out {_shown(out_dir, Path.cwd())} --serve", "the same, then the dashboard with demo accounts")
    hints.add_row(f"repsight export -c {config_path} --out metrics.csv", "the metrics, for a spreadsheet")
    hints.add_row(_shown(out_dir / "truth.json", Path.cwd()), "the planted effects and each rep's hidden skill")
    hints.add_row(_shown(result.config.database_path, Path.cwd()), "the tables, for SQL (DuckDB)")
    out.print(hints)
    if result.study is not None:
        out.print()
        _print_study(result.study)
    if not result.ingest.ok:
        raise typer.Exit(1)
    if serve_after:
        _serve_demo(config)


def _serve_demo(config: Config) -> None:
    from repsight.store import Store
    from repsight.web.data import load_data
    from repsight.web.demo import demo_accounts

    with Store.open(config, read_only=True) as store:
        accounts = demo_accounts(config, load_data(store, config))
    table = Table(title="Demo accounts (passwords shown once)", title_justify="left", box=box.SIMPLE_HEAD)
    for column in ("view", "email", "password"):
        table.add_column(column)
    for account in accounts:
        table.add_row(account.view, account.email, account.password)
    out.print(table)
    _serve(config, config.web.host, config.web.port)


def main() -> None:
    """Run the command line; errors are one clear line each (tracebacks only with --debug)."""
    try:
        app()
    except RepsightError as exc:
        if _debug["on"]:
            raise
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted: whole batches are kept; run the command again to complete the load")
        sys.exit(130)
    except Exception as exc:  # a bug: say so, without a traceback unless asked
        if _debug["on"]:
            raise
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc} (run with --debug for the traceback)")
        sys.exit(70)
