"""The ingest stage: the configured sources read, pseudonymised, quarantined and stored.

`run` reads every configured file (`run_ingest` is the stage's entry point);
`loaders` turns each input kind's records into the store's tables.
"""

from repsight.ingest.run import FileResult, IngestReport, Progress, calendar_window, configured_files, ingest_file, run_ingest

__all__ = ["FileResult", "IngestReport", "Progress", "calendar_window", "configured_files", "ingest_file", "run_ingest"]
