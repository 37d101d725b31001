"""Schemathesis against the dashboard's JSON API, in-process, as each role: no 5xx, every answer as /api/openapi.json describes it.

Each operation of the API description is called with generated path
parameters (a bounded, derandomised number) and with the people of the cast,
so that the 200s are checked as well as the refusals; every response goes
through all of Schemathesis's checks (status codes, content types and bodies
against the schema, no server error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from repsight.web import dashboard
from tests.support.web_org import Cast, signed_in

schemathesis = pytest.importorskip("schemathesis")

if TYPE_CHECKING:
    from fastapi import FastAPI

    from repsight.config import Config
    from repsight.web.data import WorkspaceData

EXAMPLES = 25
"""Generated cases per operation and role (operations without parameters stop after one)."""
ANSWERED = {
    "rep": {200, 403},
    "manager": {200, 403},
    "small_manager": {200, 403},
    "executive": {200, 403},
    "analyst": {200, 403},
    "admin": {403},  # accounts and the audit log only: no call of the API is an admin's
    "signed out": {401},
}
"""Who asks (the cast, tests/support/web_org.py, and nobody signed in), and the statuses the walk gets from the API."""


@pytest.fixture(scope="module")
def app(workspace: tuple[Config, WorkspaceData, Cast]) -> FastAPI:
    return dashboard(workspace[0])  # as `repsight serve` builds it


@pytest.fixture(scope="module")
def schema(app: FastAPI) -> Any:
    return schemathesis.openapi.from_asgi("/api/openapi.json", app)


def _session(app: FastAPI, cast: Cast, who: str) -> dict[str, str]:
    if who == "signed out":
        return {}
    client = signed_in(app, getattr(cast, who))
    return {"repsight_session": str(client.cookies["repsight_session"])}


def test_the_api_description_lists_every_api_route(schema: Any) -> None:
    operations = sorted((op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations())
    assert operations == [
        ("GET", "/api/org"),
        ("GET", "/api/people/{person}"),
        ("GET", "/api/people/{person}/accounts"),
        ("GET", "/api/people/{person}/guidance"),
        ("GET", "/api/study"),
        ("GET", "/api/team"),
        ("GET", "/api/team/coaching"),
    ]


@pytest.mark.parametrize("who", ANSWERED)
def test_every_api_operation_answers_as_its_schema_says(
    app: FastAPI, schema: Any, workspace: tuple[Config, WorkspaceData, Cast], who: str
) -> None:
    _, data, cast = workspace
    cookies = _session(app, cast, who)
    people = [cast.rep_person, cast.other_rep_person, data.person_of_email[cast.manager], "nobody"]
    statuses: list[int] = []

    def call(case: Any) -> None:
        response = case.call_and_validate(cookies=cookies)  # every check: no 5xx, status, content type, body
        statuses.append(response.status_code)

    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def generated(case: Any) -> None:
            call(case)

        generated()
        if "{person}" in operation.path:
            for person in people:
                call(operation.Case(path_parameters={"person": person}))
    assert set(statuses) == ANSWERED[who]
    assert len(statuses) > EXAMPLES * 3  # the generated paths of the three operations with a person, at least
