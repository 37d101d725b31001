"""Pages rendered on the server: the Jinja2 templates (package data, no build step) and the one function that renders them."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from repsight.web.access import CSRF_FIELD, csrf_token

if TYPE_CHECKING:
    from fastapi import Request

    from repsight.web.access import User

__all__ = ["page"]


def _json_script(value: str) -> str:
    # JSON inside <script type="application/json">: no character may close the tag.
    return value.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@cache
def _templates() -> Environment:
    templates = Environment(loader=PackageLoader("repsight.web", "templates"), autoescape=select_autoescape(["html"]))
    templates.filters["json_script"] = _json_script
    return templates


def page(request: Request, template: str, user: User | None, *, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Return a page: `template` rendered for `user` (None: signed out), with the session's CSRF token and the minimum group size."""
    html = (
        _templates()
        .get_template(template)
        .render(
            user=user,
            csrf=csrf_token(request),
            csrf_field=CSRF_FIELD,
            minimum=request.app.state.config.privacy.min_group_size,
            **values,
        )
    )
    return HTMLResponse(html, status_code=status_code)
