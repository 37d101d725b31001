"""The Viva Insights person-query reader: every header style and spelling, dates, numbers, HR columns, quarantine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from repsight.errors import InputError
from repsight.sources import open_source, reader_for
from repsight.sources.records import Rejected, VivaIdentity, VivaWeek
from repsight.sources.viva import METRIC_OF, canonical_name, kept_attribute, parse_metric_date


def read(path: Path, kind: str = "viva") -> list[VivaWeek | VivaIdentity | Rejected]:
    with open_source(path) as source:
        return list(reader_for(kind, path)(source))


def write(tmp_path: Path, text: str, *, bom: bool = False, name: str = "query.csv") -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Collaboration_hours", "collaboration_hours"),
        ("Collaboration hours", "collaboration_hours"),
        ("collaboration_hours", "collaboration_hours"),
        (" Meeting and call hours with manager 1:1 ", "meeting_and_call_hours_with_manager_1_1"),
        ("Network_outside_organization", "network_outside_organisation"),
        ("Network_outside_organisation", "network_outside_organisation"),
        ("Networking_outside_organization", "network_outside_organisation"),
        ("Networking_outside_company", "network_outside_company"),
        ("Manager_coaching_hours_1_on_1", "meeting_and_call_hours_with_manager_1_1"),
        ("Meeting_hours_with_manager_1_on_1", "meeting_and_call_hours_with_manager_1_1"),
        ("Meeting_hours_with_manager", "meeting_and_call_hours_with_manager"),
        ("Date", "metric_date"),
        ("MetricDate", "metric_date"),
        ("\ufeffPersonId", "person_id"),
        ("PersonID", "person_id"),
        ("Email %", "email_pct"),
        ("Organization", "organisation"),
        ("LevelDesignation", "level_designation"),
        ("Level Designation", "level_designation"),
    ],
)
def test_every_header_style_and_spelling_is_one_canonical_name(header: str, expected: str) -> None:
    assert canonical_name(header) == expected


def test_viva_columns_fill_repsight_metrics_by_the_documented_mapping() -> None:
    assert METRIC_OF["collaboration_hours"] == "collaboration_hours"
    assert METRIC_OF["meeting_and_call_hours_with_manager"] == "manager_hours"
    assert METRIC_OF["meeting_and_call_hours_with_manager_1_1"] == "manager_1on1_hours"
    assert METRIC_OF["network_outside_organisation"] == "org_span"
    assert METRIC_OF["external_collaboration_hours"] == "external_hours"
    assert METRIC_OF["time_with_leadership"] == "leadership_hours"
    assert METRIC_OF["meeting_and_call_hours_with_skip_level"] == "skip_level_hours"
    # repsight's own lower-case names, as its export writes them for metrics Viva has no column for
    assert METRIC_OF["customer_hours"] == "customer_hours"
    # nothing in a person query is customer time or a network score
    assert "customer_hours" not in {METRIC_OF[c] for c in METRIC_OF if c != "customer_hours"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/31/2024", date(2024, 3, 31)),
        ("3/31/2024", date(2024, 3, 31)),
        ("2024-03-31", date(2024, 3, 31)),
        ("2024-03-31T00:00:00", date(2024, 3, 31)),
        ("2024-03-31 00:00:00", date(2024, 3, 31)),
    ],
)
def test_metric_dates_in_us_and_iso_forms(text: str, expected: date) -> None:
    assert parse_metric_date(text) == expected


def test_a_display_name_query_with_bom_index_column_and_percent_gives_exact_weeks(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        ",PersonId,MetricDate,Collaboration hours,Internal network size,Email %,Organization,LevelDesignation,Level\n"
        '0,p-1,03/31/2024,12.5,"1,204",40%,Sales,Senior IC,3\n'
        "1,p-1,04/07/2024,10,7,,Sales,Senior IC,3\n"
        "2,p-2,2024-03-31,0,0,0,Finance,,\n",
        bom=True,
    )
    assert read(path) == [
        VivaWeek(
            "row 2",
            "p-1",
            date(2024, 3, 31),
            {"collaboration_hours": 12.5, "internal_network_size": 1204.0, "email_pct": 40.0},
            {"Organization": "Sales", "LevelDesignation": "Senior IC", "Level": "3"},
        ),
        VivaWeek(
            "row 3",
            "p-1",
            date(2024, 4, 7),
            {"collaboration_hours": 10.0, "internal_network_size": 7.0},
            {"Organization": "Sales", "LevelDesignation": "Senior IC", "Level": "3"},
        ),
        VivaWeek(
            "row 4",
            "p-2",
            date(2024, 3, 31),
            {"collaboration_hours": 0.0, "internal_network_size": 0.0, "email_pct": 0.0},
            {"Organization": "Finance"},
        ),
    ]


def test_older_names_and_the_date_column_read_as_todays(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "PersonId,Date,Meeting_hours_with_manager_1_on_1,Networking_outside_organization,ManagerId\na,2023-01-01,1.5,4,boss\n",
    )
    [week] = read(path)
    assert isinstance(week, VivaWeek)
    assert week.values == {"meeting_and_call_hours_with_manager_1_1": 1.5, "network_outside_organisation": 4.0}
    assert week.manager_id == "boss"
    assert week.hr == {}


def test_each_bad_row_is_quarantined_with_row_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "PersonId,MetricDate,Collaboration_hours,Organization\n"
        "a,2024-03-31,1,Sales\n"
        ",2024-03-31,1,Sales\n"
        "b,31.03.2024,1,Sales\n"
        "c,2024-03-31,lots,Sales\n"
        "d,2024-03-31,-2,Sales\n"
        "a,03/31/2024,5,Sales\n"
        "e,2024-03-31,1\n",
    )
    found = read(path)
    assert [type(r).__name__ for r in found] == ["VivaWeek"] + ["Rejected"] * 6
    assert [(r.position, r.field, r.reason) for r in found if isinstance(r, Rejected)] == [
        ("row 3", "PersonId", "is empty"),
        ("row 4", "MetricDate", "'31.03.2024' is not a date (MM/DD/YYYY or YYYY-MM-DD)"),
        ("row 5", "Collaboration_hours", "'lots' is not a number"),
        ("row 6", "Collaboration_hours", "'-2' is negative"),
        ("row 7", "MetricDate", "duplicate row: the same PersonId and MetricDate are on row 2"),
        ("row 8", "(row)", "has 3 fields; the header has 4"),
    ]


def test_a_file_without_person_id_or_metric_date_is_refused_whole(tmp_path: Path) -> None:
    path = write(tmp_path, "Person,When,Collaboration_hours\na,2024-03-31,1\n")
    with pytest.raises(InputError, match=r"row 1: no PersonId and MetricDate column"):
        read(path)


def test_text_columns_are_hr_attributes_and_numeric_unknown_columns_are_kept_metrics(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "PersonId,MetricDate,Copilot_actions_taken_in_Teams,SupervisorIndicator,eSat\n"
        "a,2024-03-31,4,Manager,\n"
        "b,2024-03-31,0,IC,3\n",
    )
    first, second = read(path)
    assert isinstance(first, VivaWeek) and isinstance(second, VivaWeek)
    assert first.values == {"copilot_actions_taken_in_teams": 4.0}
    assert second.values == {"copilot_actions_taken_in_teams": 0.0, "e_sat": 3.0}
    assert (first.hr, second.hr) == ({"SupervisorIndicator": "Manager"}, {"SupervisorIndicator": "IC"})


def test_identity_mapping_rows_and_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "PersonId,email,name\na,Ana@Acme.example,Ana\na,b@acme.example,\nc,not an address,\n", name="ids.csv")
    found = read(path, "viva_identities")
    assert found[0] == VivaIdentity("row 2", "a", "Ana@Acme.example", "Ana")
    assert [(r.position, r.field) for r in found[1:] if isinstance(r, Rejected)] == [("row 3", "PersonId"), ("row 4", "email")]


def test_kept_attributes_match_by_canonical_name() -> None:
    texts = ['{"LevelDesignation": "Senior IC"}', None, '{"Level Designation": "Executive"}']
    assert kept_attribute(texts, "LevelDesignation") == ["Senior IC", None, "Executive"]
    assert kept_attribute(texts, "level_designation") == ["Senior IC", None, "Executive"]
