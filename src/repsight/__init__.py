"""repsight: people analytics for sales teams, from collaboration metadata.

The Python API, for notebooks and scripts:

    from repsight import load_config, run_ingest
    config = load_config("repsight.toml")
    report = run_ingest(config)
"""

from __future__ import annotations

from repsight.config import Config, load_config
from repsight.errors import RepsightError
from repsight.ingest import FileResult, IngestReport, run_ingest
from repsight.privacy import pseudonym
from repsight.workspace import init_workspace

__all__ = [
    "Config",
    "FileResult",
    "IngestReport",
    "RepsightError",
    "__version__",
    "init_workspace",
    "load_config",
    "pseudonym",
    "run_ingest",
]

__version__ = "0.1.0"
