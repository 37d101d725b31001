"""Benchmark: generate and ingest the demo and the study-scale company, next to a pandas baseline.

    .venv/bin/python bench/bench_ingest.py                 # demo (200 people) and study scale (1,500)
    .venv/bin/python bench/bench_ingest.py --sizes demo    # just the demo size

Each step runs in its own process, so its peak memory is its own. The
baseline is what an analyst would otherwise write: pandas reads every mail
and calendar CSV, drops duplicate events, pseudonymises addresses with
hashlib and writes the tables to DuckDB. It validates nothing and keeps no
quarantine; repsight does both, so the comparison favours the baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

SIZES = {"demo": (200, 18), "study": (1500, 18)}
KEY = "benchmark-key-0123456789abcdef"


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_generate(folder: Path, people: int, months: int) -> dict[str, float]:
    from repsight.synth.demo import create_demo_workspace

    started = time.perf_counter()
    # CSV, so that the pandas baseline reads the very same exports.
    _, synth = create_demo_workspace(folder, people=people, months=months, seed=7, formats="csv")
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {"seconds": seconds, "peak_mb": _peak_mb(), "events": synth.messages + synth.meetings, "input_mb": size / 2**20}


def step_ingest(folder: Path) -> dict[str, float]:
    from repsight import load_config, run_ingest

    config = load_config(folder)
    started = time.perf_counter()
    report = run_ingest(config)
    seconds = time.perf_counter() - started
    total = report.total()
    assert report.ok and total.quarantined == 0, "the benchmark data must load cleanly"
    return {
        "seconds": seconds,
        "peak_mb": _peak_mb(),
        "rows": total.read,
        "stored": total.new,
        "db_mb": config.database_path.stat().st_size / 2**20,
    }


def step_baseline(folder: Path) -> dict[str, float]:
    import hashlib
    import hmac

    import duckdb
    import pandas as pd

    started = time.perf_counter()
    key = KEY.encode()
    cache: dict[str, str] = {}

    def pseudo(address: str) -> str:
        found = cache.get(address)
        if found is None:
            found = cache[address] = hmac.new(key, address.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]
        return found

    mail = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((folder / "mail").glob("*.csv"))])
    mail = mail.drop_duplicates("message_id")
    messages = pd.DataFrame(
        {
            "message_key": mail.message_id,
            "sent_at": pd.to_datetime(mail.sent_at, utc=True, format="ISO8601"),
            "sender": mail.sender.map(pseudo),
        }
    )
    recipients = mail.assign(recipient=(mail.to + ";" + mail.cc + ";" + mail.bcc).str.split(";"))[["message_id", "recipient"]]
    recipients = recipients.explode("recipient")
    recipients = recipients[recipients.recipient != ""]
    recipients["recipient"] = recipients.recipient.map(pseudo)
    calendar = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted((folder / "calendar").glob("*.csv"))])
    calendar = calendar.drop_duplicates(["event_id", "start"])
    meetings = pd.DataFrame(
        {
            "meeting_key": calendar.event_id + "|" + calendar.start,
            "start_at": pd.to_datetime(calendar.start, utc=True, format="ISO8601"),
            "end_at": pd.to_datetime(calendar.end, utc=True, format="ISO8601"),
            "organizer": calendar.organizer.map(pseudo),
        }
    )
    attendees = calendar.assign(attendee=calendar.attendees.str.split(";"))[["event_id", "start", "attendee"]].explode("attendee")
    attendees["attendee"] = attendees.attendee.map(pseudo)
    database = folder / "baseline.duckdb"
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as con:
        for name, frame in (
            ("messages", messages),
            ("message_recipients", recipients),
            ("meetings", meetings),
            ("meeting_attendees", attendees),
        ):
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
            con.unregister("frame")
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "peak_mb": _peak_mb(),
        "rows": len(mail) + len(calendar),
        "db_mb": database.stat().st_size / 2**20,
    }


def _run(step: str, folder: Path, *extra: str) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--step", step, "--folder", str(folder), *extra],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="demo,study", help="comma-separated: demo, study")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--people", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--months", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "generate":
        print(json.dumps(step_generate(args.folder, args.people, args.months)))
        return
    if args.step in ("ingest", "baseline"):
        print(json.dumps({"ingest": step_ingest, "baseline": step_baseline}[args.step](args.folder)))
        return

    print("| size | people | step | seconds | peak MB | rows | rows/s | notes |")
    print("|---|---|---|---:|---:|---:|---:|---|")
    for size in args.sizes.split(","):
        people, months = SIZES[size]
        folder = args.out / size
        if folder.exists():
            shutil.rmtree(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        g = _run("generate", folder, "--people", str(people), "--months", str(months))
        _row(size, people, "generate", g, f"{g['events']:,.0f} events", g["events"], f"{g['input_mb']:.0f} MB of input files")
        i = _run("ingest", folder)
        notes = f"{i['stored']:,.0f} stored once; {i['db_mb']:.0f} MB database; validated, quarantine, keyed"
        _row(size, people, "repsight ingest", i, f"{i['rows']:,.0f}", i["rows"], notes)
        b = _run("baseline", folder)
        notes = f"{b['db_mb']:.0f} MB database; no validation, all in memory"
        _row(size, people, "pandas baseline", b, f"{b['rows']:,.0f} unique", b["rows"], notes)


def _row(size: str, people: int, step: str, result: dict[str, float], rows: str, count: float, notes: str) -> None:
    rate = count / result["seconds"]
    print(
        f"| {size} | {people:,} | {step} | {result['seconds']:.1f} | {result['peak_mb']:.0f} | {rows} | {rate:,.0f} | {notes} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
