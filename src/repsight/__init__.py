"""repsight: people analytics for sales teams, from collaboration metadata.

The Python API, for notebooks and scripts:

    from repsight import load_config, ingest
    config = load_config("repsight.toml")
    report = ingest(config)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from repsight.config import Config, load_config
    from repsight.errors import RepsightError
    from repsight.ingest import FileResult, IngestReport, ingest
    from repsight.privacy import pseudonym
    from repsight.workspace import init_workspace

__all__ = [
    "Config",
    "FileResult",
    "IngestReport",
    "RepsightError",
    "__version__",
    "ingest",
    "init_workspace",
    "load_config",
    "pseudonym",
]

__version__ = "0.1.0"

# Names are imported on first use: a process that needs one module (a graph
# worker, the CLI's --help) does not pay for Ibis, DuckDB and pydantic.
_HOMES = {
    "Config": "repsight.config",
    "load_config": "repsight.config",
    "RepsightError": "repsight.errors",
    "FileResult": "repsight.ingest",
    "IngestReport": "repsight.ingest",
    "ingest": "repsight.ingest",
    "pseudonym": "repsight.privacy",
    "init_workspace": "repsight.workspace",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'repsight' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
