"""repsight: people analytics for sales teams, from collaboration metadata.

The Python API, for notebooks and scripts:

    import repsight
    ws = repsight.open("acme")      # a workspace folder, or its repsight.toml
    ws.person_period()              # pandas: metrics per person and period, HR attributes, attainment
    ws.study()                      # the latest study; its headline table in Jupyter
    ws.figure("headline")           # the report's charts as Plotly figures (ws.figures() names them)

and each stage on its own: `run_ingest(load_config("acme"))`, `run_metrics`,
`run_study`. Importing `repsight` imports none of them: each name is
imported on first use, so a notebook pays for the engines it calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from repsight._lazy import lazy_exports

if TYPE_CHECKING:
    from repsight.config import Config, load_config
    from repsight.errors import RepsightError
    from repsight.ingest import FileResult, IngestReport, run_ingest
    from repsight.metrics import run_metrics
    from repsight.notebook import Workspace, open
    from repsight.privacy import pseudonym
    from repsight.study import run_study
    from repsight.workspace import init_workspace

__all__ = [
    "Config",
    "FileResult",
    "IngestReport",
    "RepsightError",
    "Workspace",
    "__version__",
    "init_workspace",
    "load_config",
    "open",
    "pseudonym",
    "run_ingest",
    "run_metrics",
    "run_study",
]

__version__ = "0.1.0"

_HOMES = {
    "Config": "repsight.config",
    "load_config": "repsight.config",
    "RepsightError": "repsight.errors",
    "FileResult": "repsight.ingest",
    "IngestReport": "repsight.ingest",
    "run_ingest": "repsight.ingest",
    "run_metrics": "repsight.metrics",
    "Workspace": "repsight.notebook",
    "open": "repsight.notebook",
    "pseudonym": "repsight.privacy",
    "run_study": "repsight.study",
    "init_workspace": "repsight.workspace",
}


__getattr__ = lazy_exports(__name__, _HOMES, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
