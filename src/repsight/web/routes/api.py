"""The JSON API behind the dashboard's charts (described at /api/openapi.json)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from repsight.errors import GuidanceError
from repsight.web import views
from repsight.web.access import sees_names
from repsight.web.routes.policy import (
    AccountsReader,
    CoachingReader,
    Downloader,
    Executive,
    GuidanceReader,
    Manager,
    PersonReader,
)

if TYPE_CHECKING:
    from repsight.study.document import StudyDocument

__all__ = ["router"]


class Problem(BaseModel):
    """Why a call was not answered: what the dashboard says to the user."""

    detail: str


def _problem(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


# Every answer the API gives is in its description (/api/openapi.json), refusals included: Schemathesis checks them all.
router = APIRouter(
    prefix="/api",
    responses={
        401: _problem("Not signed in."),
        403: _problem("The signed-in user's roles do not allow this call (written to the audit log)."),
    },
)
_NO_GUIDANCE: dict[int | str, dict[str, Any]] = {
    503: _problem("The workspace cannot give guidance yet; the detail says what to run.")
}


@router.get("/people/{person}", response_class=JSONResponse)
def person_api(person: str, visit: PersonReader) -> JSONResponse:
    """One person's weekly behaviours, the top tier's band of their segment, where they stand, their network and customer engagement."""
    # Plain JSON of plain values: FastAPI's encoder would walk every number again.
    named = sees_names(visit.user, person, visit.data, visit.config.privacy)
    return JSONResponse(views.with_top_tier(views.person_view(visit.data, person, named=named)))


@router.get("/people/{person}/accounts")
def accounts_api(person: str, visit: AccountsReader) -> dict[str, Any]:
    """The accounts the signed-in rep touched in their latest period: name, contacts, weeks, last touch. Their own only."""
    return views.account_list(visit.data, person)


@router.get("/people/{person}/guidance", responses={**_NO_GUIDANCE, 404: _problem("The person has no metrics.")})
def guidance_api(person: str, visit: GuidanceReader) -> dict[str, Any]:
    """The signed-in person's guidance in their latest period, as `repsight advise --json` writes it. Their own only.

    503 where the workspace cannot give guidance yet (the detail says what to run); 404 for a person without metrics.
    """
    data = visit.data
    if data.guidance is None:
        raise HTTPException(status_code=503, detail=data.guidance_missing)
    try:
        return data.advice(person).to_json()
    except GuidanceError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from None


@router.get("/team")
def team_api(visit: Manager) -> dict[str, Any]:
    """The signed-in manager's team: weekly means and customer engagement by period, or only its size when it is smaller than the minimum group."""
    return views.team_view(visit.data, visit.user, visit.config.privacy)


@router.get("/team/coaching", responses=_NO_GUIDANCE)
def coaching_api(visit: CoachingReader) -> dict[str, Any]:
    """The signed-in manager's coaching view: how many reps below them have each gap (and as their first), only for at least the minimum group.

    Each member's advice only where the workspace lets managers see individuals; 503 where the workspace cannot give guidance yet.
    """
    data = visit.data
    if data.guidance is None:
        raise HTTPException(status_code=503, detail=data.guidance_missing)
    found = data.coaching(visit.user.person or "").to_json()
    if not visit.config.privacy.manager_sees_individuals:
        found["members"] = []
    return found


@router.get("/org")
def org_api(visit: Executive) -> dict[str, Any]:
    """The signed-in executive's org: its reps' weekly means (or its size when too small), and the study's phase 2."""
    view = views.org_view(visit.data, visit.user, visit.config.privacy)
    study: StudyDocument = view.pop("study")
    view["phase2"] = study["phase2"]
    return view


@router.get("/study")
def study_api(visit: Downloader) -> dict[str, Any]:
    """The whole study (docs/study.md), for analysts."""
    return dict(visit.data.study)
