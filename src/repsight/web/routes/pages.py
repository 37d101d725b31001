"""The dashboard's pages: a person's, a manager's team, an executive's organisation, the analyst's tables and downloads."""

from __future__ import annotations

import csv
import io
import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from repsight.export import FORMULA_START
from repsight.web import views
from repsight.web.access import sees_names
from repsight.web.charts import figure_json, network_chart, standing_chart, weekly_chart
from repsight.web.data import BEHAVIOURS, LABELS
from repsight.web.render import page
from repsight.web.routes.policy import (
    ACCOUNT_LIST,
    GUIDANCE,
    HOMES,
    Analyst,
    Anyone,
    Executive,
    OnRoster,
    PersonReader,
    StudyDownloader,
    TableDownloader,
    TeamPageReader,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(visit: Anyone) -> Response:
    path = next(path for role, path in HOMES if visit.user.has(role))
    return RedirectResponse(path, status_code=303)


@router.get("/me")
def me(visit: OnRoster) -> Response:
    return RedirectResponse(f"/people/{visit.user.person}", status_code=303)


@router.get("/people/{person}", response_class=HTMLResponse)
def person_page(request: Request, person: str, visit: PersonReader) -> HTMLResponse:
    view = views.person_view(visit.data, person, named=sees_names(visit.user, person, visit.data, visit.config.privacy))
    yours = person == visit.user.person
    figures = [
        figure_json(weekly_chart(c["label"], c["weeks"], c["values"], "you" if yours else view["name"], c["band"]))
        for c in view["charts"]
    ]
    placed = [row for row in view["standing"] if row["percentile"] is not None]
    unplaced = [row for row in view["standing"] if row["percentile"] is None]  # too few reps to place anyone among
    standing = figure_json(standing_chart(placed)) if placed else None
    network = figure_json(network_chart(view["network"]["by_org"])) if view["network"]["by_org"] else None
    accounts = views.account_list(visit.data, person) if ACCOUNT_LIST.allows(visit) else None
    guidance = views.guidance_view(visit.data, person) if GUIDANCE.allows(visit) else None
    return page(
        request,
        "person.html",
        visit.user,
        view=view,
        figures=figures,
        standing=standing,
        unplaced=unplaced,
        network=network,
        accounts=accounts,
        guidance=guidance,
    )


@router.get("/team", response_class=HTMLResponse)
def team_page(request: Request, visit: TeamPageReader) -> HTMLResponse:
    data = visit.data
    view = views.team_view(data, visit.user, visit.config.privacy)
    figures = []
    if not view["suppressed"]:
        band_person = data.reports[visit.user.person or ""][0]
        figures = [
            figure_json(weekly_chart(c["label"], c["weeks"], c["values"], "team mean", data.top_band(band_person, c["metric"])))
            for c in view["charts"]
        ]
    coaching = views.coaching_view(data, visit.user.person or "", visit.config.privacy)
    return page(
        request,
        "team.html",
        visit.user,
        view=view,
        figures=figures,
        labels=LABELS,
        behaviours=BEHAVIOURS,
        coaching=coaching,
    )


@router.get("/org", response_class=HTMLResponse)
def org_page(request: Request, visit: Executive) -> HTMLResponse:
    from repsight.report.figures import headline_figure, phase2_grid_figure

    view = views.org_view(visit.data, visit.user, visit.config.privacy)
    study = view.pop("study")
    trends = [
        figure_json(weekly_chart(c["label"], c["weeks"], c["values"], "your org's reps, mean", None))
        for c in view.get("charts", [])
    ]
    return page(
        request,
        "org.html",
        visit.user,
        view=view,
        study=study,
        headline=figure_json(headline_figure(study)),
        grid=figure_json(phase2_grid_figure(study)),
        trends=trends,
    )


@router.get("/analysis", response_class=HTMLResponse)
def analysis_page(request: Request, visit: Analyst) -> HTMLResponse:
    periods = views.person_period_table(visit.data).head(50)
    flags = visit.data.validation
    return page(
        request,
        "analysis.html",
        visit.user,
        study=visit.data.study,
        labels=LABELS,
        rows=periods.to_dict("records"),
        columns=list(periods.columns),
        flag_counts=flags["rule"].value_counts().to_dict() if flags is not None else {},
        flags=flags.head(200).to_dict("records") if flags is not None else [],
    )


@router.get("/analysis/person_period.csv")
def analysis_csv(visit: TableDownloader) -> Response:
    buffer = io.StringIO()
    table = views.person_period_table(visit.data)
    text = table.select_dtypes(include=["object", "string"]).columns
    # A roster value such as `=HYPERLINK(…)` is an inert cell, as in `repsight export` (`export.inert_cells`).
    for column in text:
        table[column] = table[column].map(_inert, na_action="ignore")
    table.to_csv(buffer, index=False, quoting=csv.QUOTE_NONNUMERIC)
    return PlainTextResponse(buffer.getvalue(), media_type="text/csv", headers=_attachment("person_period.csv"))


@router.get("/analysis/study.json")
def study_download(visit: StudyDownloader) -> Response:
    return Response(json.dumps(visit.data.study, indent=2), media_type="application/json", headers=_attachment("study.json"))


def _inert(value: object) -> object:
    return f"'{value}" if isinstance(value, str) and value[:1] in tuple(FORMULA_START) else value


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}
