"""Benchmark: read a shared iCalendar export with `read_ics`, next to the icalendar + recurring-ical-events baseline.

    .venv/bin/python bench/bench_ics.py                  # a small and a 4x larger company
    .venv/bin/python bench/bench_ics.py --sizes small    # just the small one

The input is what a company hands over as one file: the synthetic company's
iCalendar exports (one per group of mailboxes, with RRULE and RDATE series,
EXDATE, RECURRENCE-ID overrides, VTIMEZONEs) concatenated, so the file holds
many VCALENDARs and the same meeting in several of them.

The baseline is the obvious program: `icalendar.Calendar.from_ical` on the
whole file, `recurring_ical_events.of(calendar).between(start, end)` on each
calendar, and the same fields read from each occurrence (UID, start, end,
organizer, each attendee's address, PARTSTAT and CN, STATUS, TRANSP). Both
expand series within the company's span. The baseline yields every copy of
an occurrence; `read_ics` yields a series' occurrence once per file (and
checks every event, keeps a quarantine, and drops no more than it reports),
so each rate counts what that reader yields and the speed-up compares times.

Each reader runs in its own process, twice: once timed, once under
tracemalloc for the peak of Python memory while reading (max RSS is printed
too; it includes the interpreter and libraries).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

SIZES = {"small": (100, 6), "large": (400, 6)}


def _span(folder: Path) -> tuple[datetime, datetime]:
    truth = json.loads((folder / "company" / "truth.json").read_text())
    start, end = date.fromisoformat(truth["start"]), date.fromisoformat(truth["end"])
    return datetime.combine(start, datetime.min.time(), UTC), datetime.combine(end, datetime.min.time(), UTC)


def read_with_repsight(path: Path, start: datetime, end: datetime) -> int:
    from repsight.sources import open_source
    from repsight.sources.files import Window
    from repsight.sources.ics import read_ics
    from repsight.sources.records import Meeting

    count = 0
    with open_source(path, Window(start, end)) as source:
        for record in read_ics(source):
            assert isinstance(record, Meeting), record  # the synthetic exports are clean
            count += 1
    return count


def read_with_baseline(path: Path, start: datetime, end: datetime) -> int:
    import icalendar
    import recurring_ical_events

    count = 0
    for calendar in icalendar.Calendar.from_ical(path.read_bytes(), multiple=True):
        for event in recurring_ical_events.of(calendar).between(start, end):
            fields = [str(event["UID"]), event["DTSTART"].dt, event["DTEND"].dt, str(event["ORGANIZER"])]
            attendees = event.get("ATTENDEE", [])
            for attendee in attendees if isinstance(attendees, list) else [attendees]:
                fields += [str(attendee), attendee.params.get("PARTSTAT"), attendee.params.get("CN")]
            fields += [str(event.get("STATUS", "")), str(event.get("TRANSP", ""))]
            count += 1
    return count


READERS: dict[str, Callable[[Path, datetime, datetime], int]] = {"repsight": read_with_repsight, "baseline": read_with_baseline}


def step_read(reader: str, folder: Path) -> dict[str, float]:
    start, end = _span(folder)
    read = READERS[reader]
    read(folder / "company" / "calendar" / "export-001.ics", start, end)  # imports and caches, outside the timing
    began = time.perf_counter()
    count = read(folder / "shared.ics", start, end)
    seconds = time.perf_counter() - began
    tracemalloc.start()
    read(folder / "shared.ics", start, end)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "occurrences": count, "peak_mb": peak / 2**20, "rss_mb": rss}


def step_generate(folder: Path, people: int, months: int) -> dict[str, float]:
    from repsight.synth import generate

    generate(folder / "company", people=people, months=months, seed=7, formats="mixed")
    exports = sorted((folder / "company" / "calendar").glob("*.ics"))
    with (folder / "shared.ics").open("wb") as shared:
        for path in exports:
            shared.write(path.read_bytes())
    text = (folder / "shared.ics").read_bytes()
    return {
        "mb": len(text) / 2**20,
        "calendars": text.count(b"BEGIN:VCALENDAR"),
        "events": text.count(b"BEGIN:VEVENT"),
        "series": text.count(b"\nRRULE:") + text.count(b"\nRDATE"),
    }


def _run(*args: str) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, *args], check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="small,large", help="comma-separated: " + ", ".join(SIZES))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out" / "ics")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--months", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "generate":
        print(json.dumps(step_generate(args.folder, args.people, args.months)))
        return
    if args.step in READERS:
        print(json.dumps(step_read(args.step, args.folder)))
        return

    print("| size | input | reader | seconds | occurrences | occurrences/s | peak MB (tracemalloc) | max RSS MB |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for size in args.sizes.split(","):
        people, months = SIZES[size]
        folder = args.out / size
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        g = _run("--step", "generate", "--folder", str(folder), "--people", str(people), "--months", str(months))
        shown = f"{people} people, {months} months: {g['mb']:.1f} MB, {g['calendars']:.0f} calendars, {g['events']:,.0f} VEVENTs"
        results = {reader: _run("--step", reader, "--folder", str(folder)) for reader in READERS}
        for reader, r in results.items():
            rate = r["occurrences"] / r["seconds"]
            print(
                f"| {size} | {shown} | {reader} | {r['seconds']:.2f} | {r['occurrences']:,.0f} | {rate:,.0f} "
                f"| {r['peak_mb']:.1f} | {r['rss_mb']:.0f} |",
                flush=True,
            )
        ours, theirs = results["repsight"], results["baseline"]
        rates = (ours["occurrences"] / ours["seconds"]) / (theirs["occurrences"] / theirs["seconds"])
        print(
            f"\n{size}: read_ics is {theirs['seconds'] / ours['seconds']:.1f}x faster "
            f"({rates:.1f}x in occurrences/s), peak memory {ours['peak_mb']:.1f} MB vs {theirs['peak_mb']:.1f} MB\n",
            flush=True,
        )


if __name__ == "__main__":
    main()
