"""The dashboard's scripts, served by the dashboard itself (no CDN): Plotly and the few lines that draw the charts."""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter
from fastapi.responses import Response

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_CHARTS_JS = """
document.querySelectorAll('[data-figure]').forEach(function (el) {
  var spec = JSON.parse(document.getElementById(el.dataset.figure).textContent);
  Plotly.newPlot(el, spec.data, spec.layout, {displaylogo: false, responsive: true});
});
"""


@cache
def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    script: str = get_plotlyjs()
    return script


@router.get("/static/plotly.min.js")
def plotly_js() -> Response:
    return Response(_plotly_js(), media_type="application/javascript", headers={"Cache-Control": "max-age=86400"})


@router.get("/static/charts.js")
def charts_js() -> Response:
    return Response(_CHARTS_JS, media_type="application/javascript")
