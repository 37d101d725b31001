"""The workspace configuration, `repsight.toml`: value objects, loading, writing."""

from __future__ import annotations

import glob
import json
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from repsight.errors import ConfigError
from repsight.metrics.catalog import STUDY_DEFAULT
from repsight.schema import METRIC_COLUMNS

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

__all__ = [
    "CONFIG_FILENAME",
    "CompanyConfig",
    "Config",
    "DigestConfig",
    "EngineConfig",
    "GuidanceConfig",
    "MetricsConfig",
    "PrivacyConfig",
    "SalesforceConfig",
    "SourcesConfig",
    "StudyConfig",
    "ValidationConfig",
    "WebConfig",
    "load_config",
    "render_config",
    "render_viva_config",
]

CONFIG_FILENAME = "repsight.toml"
_DOMAIN = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
MIN_GROUP_SIZE_FLOOR = 3


class _Section(BaseModel):
    # A typo in a key must not be silently ignored: it would leave a default
    # in force that the user believes they changed. Each setting's docstring
    # is its field's description, so the report can say what a threshold means.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class CompanyConfig(_Section):
    """Who the company is: its mail domains, its senior leaders, its sellers."""

    domains: list[str] = Field(default_factory=list)
    """Internal mail domains; an address in one of them is a colleague (needed with mail or calendar exports; a Viva Insights workspace may leave it empty)."""
    senior_level: int = Field(default=7, ge=1)
    """A person whose roster level is at least this is a senior leader."""
    sales_functions: list[str] = Field(default_factory=lambda: ["Sales"], min_length=1)
    """Roster `function` values whose people carry quota; ["*"]: everyone with a KPI is a seller, whatever their function."""
    timezone: str = "UTC"
    """Weeks start on Monday 00:00 in this time zone."""
    personal_domains: list[str] = Field(default_factory=lambda: ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com"])
    """Free-mail domains: personal mail, excluded from the metrics."""

    @field_validator("domains", "personal_domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        cleaned = [d.strip().lower().lstrip("@") for d in value]
        for domain in cleaned:
            if not _DOMAIN.fullmatch(domain):
                raise ValueError(f"{domain!r} is not a mail domain")
        return cleaned

    @property
    def everyone_sells(self) -> bool:
        """Whether `sales_functions` is ["*"]: every person with a KPI is a seller."""
        return "*" in self.sales_functions

    def sellers(self, people: ir.Table) -> ir.Table:
        """Return the rows of the `people` table (an Ibis table) whose people carry quota (`sales_functions`)."""
        return people if self.everyone_sells else people.filter(people.function.isin(self.sales_functions))

    def is_seller(self, functions: pd.Series) -> pd.Series:
        """Return, for a pandas column of roster `function` values, whether each person carries quota (`sales_functions`)."""
        return functions.isin(self.sales_functions) | self.everyone_sells

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the zone database ("Europe")
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. 'Europe/Berlin')") from None
        return value


class SourcesConfig(_Section):
    """Where the input files are, relative to the configuration file."""

    roster: str | None = "roster.csv"
    """The HR roster (CSV); a glob (`roster/roster-*.csv`) loads several dated roster files, an org chart's history."""
    accounts: str | None = "accounts.csv"
    """CRM accounts with their mail domains (CSV)."""
    kpis: str | None = "kpis.csv"
    """Quota and bookings per person and period (CSV)."""
    viva: list[str] = Field(default_factory=list)
    """Globs of Viva Insights person-query CSVs (docs/viva.md): weekly metrics per PersonId, instead of mail and calendar."""
    viva_identities: str | None = None
    """A CSV of `PersonId`, `email`: who each Viva PersonId is, so that people can sign in and KPIs and the roster may use emails (optional)."""
    salesforce: str | None = None
    """A folder of Salesforce object CSVs (docs/salesforce.md): accounts, owners, bookings and quotas, instead of `accounts` and `kpis`."""
    mail: list[str] = Field(default_factory=lambda: ["mail/*.mbox"])
    """Globs of mail exports; the format follows from the extension."""
    calendar: list[str] = Field(default_factory=lambda: ["calendar/*.ics"])
    """Globs of calendar exports; the format follows from the extension."""
    calendar_from: date | None = None
    """Recurring meetings are read from this date on (default: from each series' first occurrence)."""
    calendar_until: date | None = None
    """Recurring meetings are read up to this date, inclusive (default: open-ended series end where the export's other events end)."""

    @model_validator(mode="after")
    def _ordered_window(self) -> SourcesConfig:
        if self.calendar_from and self.calendar_until and self.calendar_until < self.calendar_from:
            raise ValueError("calendar_until is before calendar_from")
        return self


class PrivacyConfig(_Section):
    """How people are protected."""

    min_group_size: int = Field(default=5, ge=MIN_GROUP_SIZE_FLOOR)
    """No aggregate over fewer people is shown to anyone but an analyst."""
    key_file: str = ".repsight.key"
    """The pseudonymisation key (unless REPSIGHT_KEY is set)."""
    manager_sees_individuals: bool = False
    """Whether a manager's dashboard shows each team member's row, not only the team's aggregates."""
    excluded: list[str] = Field(default_factory=list)
    """Addresses of people who objected (GDPR art. 21): ingest leaves out every record of theirs, as if they were not there (docs/privacy.md)."""
    excluded_file: str | None = None
    """A text file of more such addresses, one a line, `#` starts a comment (relative to this file; docs/privacy.md)."""
    retention_months: int | None = Field(default=None, ge=1)
    """Events (messages, meetings) older than this many months before today are deleted by `repsight purge` and every `repsight ingest`; none: kept for good."""

    @field_validator("excluded")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        from repsight.privacy import canonical_address, is_address

        for address in value:
            if not is_address(address):
                raise ValueError(f"{address!r} is not an email address")
        return list(dict.fromkeys(canonical_address(a) for a in value))


_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_HOURS = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)")


class MetricsConfig(_Section):
    """How behaviour is measured: every threshold of docs/metrics.md."""

    period: Literal["auto", "quarter", "month"] = "auto"
    """Periods the weeks are averaged over; "auto" follows the KPIs (months if any KPI period is a month)."""
    meeting_max_hours: float = Field(default=8.0, gt=0)
    """Meetings this long or longer are not counted (placeholders, blocked days)."""
    email_sent_minutes: float = Field(default=5.0, ge=0)
    """Time credited for each email a person sends."""
    email_received_minutes: float = Field(default=2.5, ge=0)
    """Time credited for each email a person receives."""
    broadcast_recipients: int = Field(default=50, ge=1)
    """A message to more than this many recipients is a broadcast: email time only, no ties."""
    meaningful_max_people: int = Field(default=5, ge=2)
    """An interaction with at most this many people makes network ties."""
    small_meeting_max_people: int = Field(default=8, ge=2)
    """Senior-leader and manager time counts interactions with at most this many people."""
    network_window_weeks: int = Field(default=4, ge=1)
    """The internal network of a week looks back over this many weeks, that week included."""
    network_min_interactions: int = Field(default=2, ge=1)
    """Meaningful interactions within the window that make a colleague part of the network."""
    working_hours: str = "08:00-18:00"
    """Local working hours (start inclusive, end exclusive); time outside them is after hours."""
    working_days: list[str] = Field(default_factory=lambda: ["Mon", "Tue", "Wed", "Thu", "Fri"])
    """Local working days."""
    betweenness_exact_max_people: int = Field(default=5_000, ge=2)
    """Above this many people in a period's network, betweenness is estimated from samples (exact costs people × ties)."""
    betweenness_samples: int = Field(default=1_000, ge=1)
    """Source nodes sampled for estimated betweenness."""
    betweenness_seed: int = 0
    """Seed of the betweenness sample: the same data give the same estimate."""
    reply_max_days: int = Field(default=14, ge=1)
    """A reply counts when it is sent at most this many days after the message it answers."""

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        match = _HOURS.fullmatch(value.replace(" ", ""))
        if not match or match.group(3, 4) > ("24", "00") or match.group(1, 2) >= match.group(3, 4):
            raise ValueError(f"{value!r} is not a working-hours range like '08:00-18:00'")
        return value.replace(" ", "")

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [d.strip()[:3].title() for d in value]
        for day, given in zip(days, value, strict=True):
            if day not in _WEEKDAYS:
                raise ValueError(f"{given!r} is not a weekday (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
        return sorted(set(days), key=_WEEKDAYS.index)

    @property
    def working_seconds(self) -> tuple[int, int]:
        """Return the start and end of working hours as seconds after local midnight."""
        start, end = self.working_hours.split("-")
        return _seconds(start), _seconds(end)

    @property
    def working_weekdays(self) -> list[int]:
        """Return the working days as numbers, Monday 0 to Sunday 6."""
        return [_WEEKDAYS.index(d) for d in self.working_days]


def _seconds(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


SEGMENT_ATTRIBUTES = ("region", "segment", "channel", "org", "function", "level", "timezone")
"""The roster's own columns; `[study] segment_by` may also name any other column of the roster or the Viva person query (kept in `people.attributes`)."""
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .-]{0,63}")


class StudyConfig(_Section):
    """How the study compares top and bottom sellers: every threshold of docs/study.md."""

    metrics: list[str] = Field(default_factory=lambda: list(STUDY_DEFAULT), min_length=1)
    """The person-period metrics the study tests."""
    segment_by: list[str] = Field(default_factory=lambda: ["region", "segment", "channel"])
    """Roster attributes that phase 2 splits the sellers by: a roster column (region, segment, channel, org, function, level, timezone) or any other HR column of the roster or the Viva person query, by its header (e.g. "LevelDesignation")."""
    tier_fraction: float = Field(default=0.25, gt=0, le=0.5)
    """Share of each period's sellers in the top tier, and in the bottom tier."""
    bootstrap_resamples: int = Field(default=2_000, ge=100)
    """Resamples of sellers behind each confidence interval."""
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    """Coverage of the confidence intervals."""
    seed: int = 0
    """Seed of the bootstrap: the same data give the same intervals."""
    q_threshold: float = Field(default=0.05, gt=0, lt=1)
    """A Benjamini-Hochberg q-value below this is a finding."""
    heterogeneity_i2: float = Field(default=0.5, ge=0, le=1)
    """I-squared at or above this (with a significant interaction) makes a metric segment-specific."""

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, value: list[str]) -> list[str]:
        for name in value:
            if name not in METRIC_COLUMNS:
                raise ValueError(f"{name!r} is not a person-period metric ({', '.join(METRIC_COLUMNS)})")
        return list(dict.fromkeys(value))

    @field_validator("segment_by")
    @classmethod
    def _known_attributes(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _ATTRIBUTE_NAME.fullmatch(name):
                raise ValueError(f"{name!r} is not an attribute name (a roster column such as {', '.join(SEGMENT_ATTRIBUTES)})")
        return list(dict.fromkeys(value))


class WebConfig(_Section):
    """The dashboard: where it listens, who may sign in and how."""

    host: str = "127.0.0.1"
    """Address `repsight serve` listens on."""
    port: int = Field(default=8000, ge=1, le=65535)
    """Port `repsight serve` listens on."""
    accounts_file: str = "accounts.sqlite"
    """Accounts, role grants and the audit log (SQLite, next to the workspace)."""
    session_hours: float = Field(default=12.0, gt=0)
    """A signed-in session lasts this long."""
    secure_cookies: bool = False
    """Send the session cookie over HTTPS only (set it when serving behind TLS)."""
    trusted_header: str | None = None
    """Single sign-on: take the signed-in user's email from this header (e.g. "X-Forwarded-Email")..."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """...but only on requests from these addresses (the authenticating reverse proxy)."""
    max_sign_in_failures: int = Field(default=5, ge=1)
    """After this many failed sign-ins for one email within `sign_in_window_minutes`, it is locked for `lockout_minutes`, right password or not."""
    max_address_failures: int = Field(default=20, ge=1)
    """After this many failed sign-ins from one client address within `sign_in_window_minutes`, it is refused for `lockout_minutes`."""
    sign_in_window_minutes: float = Field(default=15.0, gt=0)
    """The window in which failed sign-ins are counted."""
    lockout_minutes: float = Field(default=15.0, gt=0)
    """How long a locked email, or a refused client address, may not sign in."""

    @model_validator(mode="after")
    def _proxy_for_header(self) -> WebConfig:
        if self.trusted_header and not self.trusted_proxies:
            raise ValueError("trusted_header needs trusted_proxies: the addresses of the proxy that sets it")
        return self


class GuidanceConfig(_Section):
    """Personal guidance (docs/guidance.md): how many suggestions, and who is never suggested."""

    max_suggestions: int = Field(default=5, ge=1, le=20)
    """At most this many colleagues to connect with, and as many leaders to meet."""
    exclude: list[str] = Field(default_factory=list)
    """Emails of people never suggested to anyone (executives' assistants, people on leave, …)."""

    @field_validator("exclude")
    @classmethod
    def _lower_case(cls, value: list[str]) -> list[str]:
        return [email.strip().lower() for email in value]


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class DigestConfig(_Section):
    """The private weekly digest (`repsight digest`): where each rep's link points, who gets nothing, the SMTP relay."""

    public_url: str = "http://localhost:8000"
    """The dashboard's address as reps reach it; each digest links to the rep's own page under it, and to nothing else."""
    sender: str | None = None
    """The digest's From address (default: repsight@ the first of `company.domains`)."""
    opt_out: list[str] = Field(default_factory=list)
    """Emails of people who get no digest (compared lower-cased)."""
    smtp_host: str = "localhost"
    """The SMTP relay `repsight digest --send` delivers through."""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    """The relay's port (587 for starttls, 465 for tls, 25 for none, as a rule)."""
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    """How the connection to the relay is encrypted: "starttls" (upgrade after connecting), "tls" (from the start) or "none"."""
    smtp_user: str | None = None
    """The user name the relay is signed into with (default: no sign-in)."""
    smtp_password_env: str | None = None
    """The NAME of the environment variable that holds the relay's password (never the password itself)."""
    holdout_fraction: float = Field(default=0.0, ge=0, lt=1)
    """Measuring the digest: this share of reps, drawn within each segment and tier, gets no digest for `holdout_weeks` (0: everyone gets it)."""
    holdout_weeks: int = Field(default=8, ge=1)
    """How many weeks, from the first digest sent, the holdout gets none."""
    holdout_seed: int = 0
    """The seed of the holdout's draw: the same reps and seed hold out the same reps."""

    @field_validator("public_url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(f"{value!r} is not a web address like 'https://repsight.acme.example'")
        return value

    @field_validator("sender")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value.strip()):
            raise ValueError(f"{value!r} is not an email address")
        return None if value is None else value.strip()

    @field_validator("opt_out")
    @classmethod
    def _lower_case(cls, value: list[str]) -> list[str]:
        return [email.strip().lower() for email in value]

    @field_validator("smtp_password_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.fullmatch(value):
            raise ValueError("must be the name of an environment variable (e.g. REPSIGHT_SMTP_PASSWORD), not the password")
        return value

    @model_validator(mode="after")
    def _user_and_password(self) -> DigestConfig:
        if (self.smtp_user is None) != (self.smtp_password_env is None):
            raise ValueError("smtp_user and smtp_password_env go together: set both to sign into the relay, or neither")
        return self


_ACCOUNT_TYPES = ("customer", "prospect", "partner", "vendor")


class SalesforceConfig(_Section):
    """Reading a Salesforce export (`[sources] salesforce`, docs/salesforce.md): account types, won stages, quota periods."""

    account_types: dict[str, str] = Field(
        default_factory=lambda: {
            "Customer*": "customer",
            "Prospect*": "prospect",
            "*Partner*": "partner",
            "*Reseller*": "partner",
            "Distributor*": "partner",
            "Vendor*": "vendor",
            "Supplier*": "vendor",
        }
    )
    """Account `Type` picklist values (glob patterns, case-insensitive, the first match wins) and the account type each is: customer, prospect, partner or vendor."""
    won_stages: list[str] = Field(default_factory=lambda: ["Closed Won"])
    """Opportunity `StageName` values that are won (case-insensitive), where a row has no `IsWon`."""
    quota_period: Literal["quarter", "month"] = "quarter"
    """The period a quota covers: a `ForecastingQuota` `StartDate` must be the first day of a calendar quarter, or of a month."""

    @field_validator("account_types")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        cleaned = {}
        for pattern, kind in value.items():
            if not pattern.strip():
                raise ValueError("a pattern is empty")
            if kind.strip().lower() not in _ACCOUNT_TYPES:
                raise ValueError(f"{pattern!r} = {kind!r}: the type must be one of {', '.join(_ACCOUNT_TYPES)}")
            cleaned[pattern.strip()] = kind.strip().lower()
        return cleaned

    @field_validator("won_stages")
    @classmethod
    def _stripped(cls, value: list[str]) -> list[str]:
        return [stage.strip() for stage in value]


class ValidationConfig(_Section):
    """Checks of the data before the study (`repsight validate`, docs/validation.md), and what the study leaves out because of them."""

    min_messages: int = Field(default=20, ge=1)
    """A person in at least this many stored messages is expected to have their own mailbox in the export; with none of the messages only their own mailbox holds, they are flagged `no_own_mailbox`."""
    min_meetings: int = Field(default=5, ge=1)
    """The same for calendars: at least this many stored meetings, none that only their own calendar holds, flags `no_own_calendar`."""
    holiday_fraction: float = Field(default=0.5, gt=0, lt=1)
    """A week whose company-wide collaboration is below this share of the median of the weeks around it is a `holiday_week`."""
    holiday_window_weeks: int = Field(default=4, ge=1)
    """The weeks on each side a week's collaboration is compared with."""
    inactive_fraction: float = Field(default=0.2, gt=0, lt=1)
    """A person's week with less collaboration than this share of their own median week, not a company holiday, is an `inactive_week` (leave, sickness)."""
    max_weekly_hours: float = Field(default=100.0, gt=0)
    """A weekly hours value above this (or above the 168 hours of a week) is an `implausible_value`."""
    min_attainment: float = 0.0
    """Attainment below this (a share: 0.95 is 95%) is an `implausible_attainment`."""
    max_attainment: float = Field(default=5.0, gt=0)
    """Attainment above this (5.0 is 500%) is an `implausible_attainment`."""
    exclude_no_own_mailbox: bool = True
    """The study leaves out the rep-periods of people flagged `no_own_mailbox`: their customer mail is missing, not absent."""
    exclude_no_own_calendar: bool = True
    """The study leaves out the rep-periods of people flagged `no_own_calendar`: their customer meetings are missing."""
    exclude_flagged_weeks: bool = True
    """The study leaves flagged weeks (holiday, inactive, partial, implausible) out of each rep's period means."""

    @model_validator(mode="after")
    def _ordered_attainment(self) -> ValidationConfig:
        if self.max_attainment <= self.min_attainment:
            raise ValueError("max_attainment must be above min_attainment")
        return self


class EngineConfig(_Section):
    """Where the data lives and what computes on it."""

    backend: Literal["duckdb", "pyspark"] = "duckdb"
    """The Ibis backend that runs the computations."""
    database: str = "repsight.duckdb"
    """The workspace database file, relative to the configuration file."""
    memory_limit: str = Field(default="2GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    """How much memory DuckDB may use (e.g. "2GB"); beyond it, it spills to disk."""
    spark_master: str | None = None
    """With backend "pyspark": the Spark master (e.g. "local[4]", "spark://host:7077"); default: Spark's own settings, else local[*]."""
    spark_staging: str = ".repsight-spark"
    """With backend "pyspark": where input tables are staged as Parquet for Spark (on a cluster: a path every node can read)."""
    spark_conf: dict[str, str | bool | int | float] = Field(default_factory=dict)
    """With backend "pyspark": more Spark settings for the session (e.g. {"spark.executor.memory" = "4g"}); docs/spark.md."""
    lake: str | None = None
    """Where the event tables live as Parquet partitioned by week (a path, or a URI Spark writes: s3://, abfss://, dbfs:/).

    Set, `repsight ingest` reads mail and calendar files on Spark and writes
    them there; the workspace reads them from it (docs/spark.md, *The lake*).
    """

    @model_validator(mode="after")
    def _lake_needs_spark(self) -> EngineConfig:
        if self.lake is not None and self.backend != "pyspark":
            raise ValueError('lake needs backend = "pyspark": the lake is written by Spark')
        return self


class Config(_Section):
    """A whole `repsight.toml`, plus the file it came from."""

    company: CompanyConfig
    sources: SourcesConfig = Field(default_factory=SourcesConfig)
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    study: StudyConfig = Field(default_factory=StudyConfig)
    web: WebConfig = Field(default_factory=WebConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    guidance: GuidanceConfig = Field(default_factory=GuidanceConfig)
    digest: DigestConfig = Field(default_factory=DigestConfig)
    salesforce: SalesforceConfig = Field(default_factory=SalesforceConfig)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    path: Path = Field(default=Path(CONFIG_FILENAME), exclude=True)

    @model_validator(mode="after")
    def _domains_for_events(self) -> Config:
        if not self.company.domains and (self.sources.mail or self.sources.calendar):
            raise ValueError(
                "[company] domains is empty, but mail or calendar exports are configured: list the internal mail "
                "domains, or set [sources] mail = [] and calendar = [] (a Viva Insights workspace)"
            )
        return self

    @property
    def root(self) -> Path:
        """The folder that relative paths in the configuration start from."""
        return self.path.parent

    def resolve(self, relative: str) -> Path:
        """Return `relative` as a path from the configuration file's folder."""
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    @property
    def database_path(self) -> Path:
        return self.resolve(self.engine.database)

    @property
    def key_path(self) -> Path:
        return self.resolve(self.privacy.key_file)

    @property
    def accounts_path(self) -> Path:
        return self.resolve(self.web.accounts_file)

    def expand(self, patterns: list[str]) -> list[Path]:
        """Return the files matched by `patterns`, sorted, each once."""
        found: dict[Path, None] = {}
        for pattern in patterns:
            for match in sorted(glob.glob(str(self.resolve(pattern)), recursive=True)):
                found.setdefault(Path(match), None)
        return list(found)


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        where = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else loc[0] if loc else "(top)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling)"
        elif item["type"] == "missing":
            message = "required setting is missing"
        lines.append(f"  {where}: {message}")
    return "\n".join(lines)


def load_config(path: str | Path) -> Config:
    """Return the configuration read from `path` (a file, or a folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_FILENAME
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no configuration file here; create one with `repsight init DIR`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the configuration: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate({**raw, "path": path.resolve()})
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration:\n{_describe(exc)}") from None


def _toml_list(values: list[str]) -> str:
    # A JSON string is a valid TOML basic string, escapes included.
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def render_config(
    domains: list[str],
    *,
    mail: list[str] | None = None,
    calendar: list[str] | None = None,
    timezone: str = "UTC",
) -> str:
    """Return the text of a commented `repsight.toml` for a new workspace."""
    defaults = SourcesConfig()
    company = CompanyConfig(domains=domains, timezone=timezone)
    return f"""\
# repsight workspace configuration. Paths are relative to this file.

[company]
domains = {_toml_list(company.domains)}          # internal mail domains
senior_level = {company.senior_level}                    # level >= this is a senior leader
sales_functions = {_toml_list(company.sales_functions)}         # roster `function` values that carry quota
timezone = {json.dumps(company.timezone)}                    # weeks start Monday 00:00 here
personal_domains = {_toml_list(company.personal_domains)}

[sources]
roster = "{defaults.roster}"
accounts = "{defaults.accounts}"
kpis = "{defaults.kpis}"
mail = {_toml_list(mail if mail is not None else defaults.mail)}              # globs; format inferred from extension/content
calendar = {_toml_list(calendar if calendar is not None else defaults.calendar)}

[privacy]                           # every rule: docs/privacy.md
min_group_size = 5
key_file = ".repsight.key"          # or set REPSIGHT_KEY
excluded = []                       # addresses of people who objected: never loaded, as if not there
# excluded_file = "excluded.txt"    # more of them, one address a line, "#" comments
# retention_months = 24             # events older than this are deleted by `repsight purge` and every ingest

[metrics]                           # every rule and threshold: docs/metrics.md
period = "auto"                     # "quarter", "month", or as the KPIs use
working_hours = "08:00-18:00"       # local, in each person's roster time zone
working_days = ["Mon", "Tue", "Wed", "Thu", "Fri"]

[study]                             # every rule and threshold: docs/study.md
segment_by = ["region", "segment", "channel"]
bootstrap_resamples = 2000
seed = 0

[guidance]                          # personal guidance: docs/guidance.md
max_suggestions = 5                 # colleagues to connect with, leaders to meet
exclude = []                        # emails never suggested to anyone

[engine]
backend = "duckdb"                  # or "pyspark" (pip install 'repsight[spark]')
database = "repsight.duckdb"
"""


VIVA_STUDY_METRICS = (
    "customer_hours",
    "internal_network_size",
    "senior_leader_hours",
    "collaboration_hours",
    "external_hours",
    "manager_hours",
    "leadership_hours",
    "skip_level_hours",
    "org_span",
    "after_hours_collaboration_hours",
)
"""The metrics a new Viva Insights workspace studies: the three headline behaviours (customer and senior-leader time are absent from a person query, and every output says so) and the person query's closest to the study's behaviours (docs/viva.md)."""


def render_viva_config(timezone: str = "UTC") -> str:
    """Return the text of a commented `repsight.toml` for a workspace of a Viva Insights person query (`repsight init --from viva`)."""
    company = CompanyConfig(domains=[], timezone=timezone)
    return f"""\
# repsight workspace of a Viva Insights person query (docs/viva.md). Paths are relative to this file.

[company]
domains = []                        # no mail or calendar here: the person query has the weekly metrics
sales_functions = ["*"]             # everyone with a KPI is a seller; or the FunctionType values that carry quota
timezone = {json.dumps(company.timezone)}

[sources]
viva = ["viva/*.csv"]               # the person query export(s), as Viva Insights writes them
kpis = "kpis.csv"                   # PersonId (or email, with viva_identities), period, quota and bookings or attainment
# viva_identities = "identities.csv"  # PersonId, email: lets people sign in to their own dashboard
roster = ""                         # HR attributes come from the person query's columns
accounts = ""
mail = []
calendar = []

[privacy]                           # every rule: docs/privacy.md
min_group_size = 5
key_file = ".repsight.key"          # or set REPSIGHT_KEY
excluded = []                       # addresses of people who objected (matched through viva_identities)
# excluded_file = "excluded.txt"    # more of them, one address a line, "#" comments

[metrics]
period = "auto"                     # "quarter", "month", or as the KPIs use

[study]                             # every rule and threshold: docs/study.md
# A person query has no customer time, senior-leader time, network scores or customer engagement (they need the
# CRM's domains, the roster's levels and who met whom): the study says them absent and tests what the query
# measures. Any HR column of the query can split phase 2.
metrics = {_toml_list(list(VIVA_STUDY_METRICS))}
segment_by = ["org", "function"]    # Organization, FunctionType; e.g. add "LevelDesignation"
bootstrap_resamples = 2000
seed = 0

[engine]
database = "repsight.duckdb"
"""
