"""Precision and recall of the validation flags on a synthetic company with planted faults, and the study with and without them.

    .venv/bin/python bench/validation_recall.py --people 1500 --months 18 --out /tmp/faults
    .venv/bin/python bench/validation_recall.py --people 300 --months 6 --out /tmp/faults   # a quick look

The generator (`repsight.synth.Faults`) leaves some reps' own mailboxes and,
separately, calendars out of the exports, stops nearly all activity in
holiday weeks, sends some people on leave and gives some a second address;
truth.json says who and when. This script ingests, measures and validates the
company, then compares each flag with what was planted:

- `no_own_mailbox`, `no_own_calendar`: flagged people against planted reps
  (people with a KPI; the rule checks only them) and against every planted
  person;
- `holiday_week`: flagged weeks against planted holiday weeks;
- `inactive_week`: flagged (person, week) against the planted leave weeks
  and the weeks a person wrote under their second address (their roster
  address is silent then);
- `duplicate_person`: flagged addresses against the planted second addresses.

Then it runs the study twice, with the flags applied (the default) and with
`[validation]`'s exclusions off, and prints the headline behaviours'
bottom-vs-top gaps of both beside the generator's planted gaps. It also
gives the seconds each stage took.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any


def _score(flagged: set[Any], planted: set[Any]) -> dict[str, Any]:
    hits = len(flagged & planted)
    return {
        "planted": len(planted),
        "flagged": len(flagged),
        "true": hits,
        "precision": hits / len(flagged) if flagged else None,
        "recall": hits / len(planted) if planted else None,
    }


def _mondays(first: str, last: str) -> list[date]:
    day, end = date.fromisoformat(first), date.fromisoformat(last)
    found = []
    while day <= end:
        found.append(day)
        day += timedelta(weeks=1)
    return found


def main(argv: list[str] | None = None) -> int:
    from repsight.config import ValidationConfig
    from repsight.ingest import run_ingest
    from repsight.metrics import run_metrics
    from repsight.report.numbers import percent
    from repsight.store import Store
    from repsight.study import compute_study
    from repsight.synth import Faults, generate
    from repsight.synth.demo import prepare_folder
    from repsight.validation import run_validation
    from repsight.workspace import init_workspace

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--months", type=int, default=18)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--missing-share", type=float, default=0.1, help="share of reps whose own mailbox (and, others, calendar) is missing"
    )
    parser.add_argument("--out", type=Path, required=True, help="the workspace folder to create")
    parser.add_argument("--formats", default="mixed", help='"mixed" (mbox, Graph JSON, iCalendar, CSV: display names) or "csv"')
    parser.add_argument("--json", type=Path, help="write every figure here")
    args = parser.parse_args(argv)

    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = round(now - clock, 1)
        clock = now

    prepare_folder(args.out)
    config = init_workspace(
        args.out, domains=["acme.example"], mail=["mail/*"], calendar=["calendar/*"], timezone="America/New_York"
    )
    faults = Faults(missing_mailbox_share=args.missing_share, missing_calendar_share=args.missing_share)
    generate(args.out, people=args.people, months=args.months, seed=args.seed, formats=args.formats, faults=faults)
    lap("generate")
    if not run_ingest(config).ok:
        print("the load failed", file=sys.stderr)
        return 1
    lap("ingest")
    run_metrics(config)
    lap("metrics")
    result = run_validation(config)
    lap("validate")

    truth = json.loads((args.out / "truth.json").read_text(encoding="utf-8"))
    planted = truth["faults"]
    with Store.open(config, read_only=True) as store:
        kpis = store.to_pandas(store.table("kpis").select("person").distinct())
        identities = store.to_pandas(store.table("identities"))
    email_of = dict(zip(identities["person"], identities["email"], strict=True))
    reps = {email_of.get(p) for p in kpis["person"]}

    def flagged(rule: str) -> list[Any]:
        return [f for f in result.flags if f.rule == rule]

    def people(rule: str) -> set[str]:
        return {email_of.get(f.person or "", f.person or "") for f in flagged(rule)}

    scores = {
        "no_own_mailbox (reps)": _score(people("no_own_mailbox"), set(planted["missing_mailbox"]) & reps),
        "no_own_mailbox (everyone)": _score(people("no_own_mailbox"), set(planted["missing_mailbox"])),
        "no_own_calendar (reps)": _score(people("no_own_calendar"), set(planted["missing_calendar"]) & reps),
        "no_own_calendar (everyone)": _score(people("no_own_calendar"), set(planted["missing_calendar"])),
        "holiday_week": _score(
            {f.week for f in flagged("holiday_week")}, {date.fromisoformat(w) for w in planted["holiday_weeks"]}
        ),
        # Planted quiet weeks: leave, and a second address's span, when the roster address is silent.
        "inactive_week": _score(
            {(email_of.get(f.person or ""), f.week) for f in flagged("inactive_week")},
            {(email, week) for email, span in planted["leave"].items() for week in _mondays(span["first"], span["last"])}
            | {(email, week) for email, span in planted["duplicates"].items() for week in _mondays(span["first"], span["last"])},
        ),
        "duplicate_person": _score(people("duplicate_person"), {d["alias"] for d in planted["duplicates"].values()}),
    }
    with Store.open(config) as store:
        with_flags = compute_study(store, config).document
        lap("study with the flags")
        off = ValidationConfig(exclude_no_own_mailbox=False, exclude_no_own_calendar=False, exclude_flagged_weeks=False)
        without = compute_study(store, config.model_copy(update={"validation": off})).document
        lap("study without")
        compute_study(store, config)  # the stored study is the default one
    expected = truth["params"]["expected_bottom_vs_top"]
    headline = {
        m: {
            "planted": expected.get(m),
            "with_flags": with_flags["phase1"][m]["bottom_vs_top_pct"],
            "with_flags_ci": with_flags["phase1"][m]["ci"],
            "without_flags": without["phase1"][m]["bottom_vs_top_pct"],
            "without_flags_ci": without["phase1"][m]["ci"],
        }
        for m in ("customer_hours", "internal_network_size", "senior_leader_hours")
        if m in with_flags["phase1"]
    }
    print(f"{args.people:,} people, {args.months} months, seed {args.seed}; {len(result.flags):,} flags")
    print(f"{'flag':<28}{'planted':>8}{'flagged':>8}{'true':>6}{'precision':>11}{'recall':>8}")
    for name, s in scores.items():
        shown = [f"{s[k]:.1%}" if s[k] is not None else "-" for k in ("precision", "recall")]
        print(f"{name:<28}{s['planted']:>8}{s['flagged']:>8}{s['true']:>6}{shown[0]:>11}{shown[1]:>8}")
    print(f"\n{'behaviour':<24}{'planted':>9}{'with flags':>26}{'without flags':>26}")
    for m, h in headline.items():

        def gap(value: float, ci: list[float]) -> str:
            return f"{percent(value)} [{percent(ci[0])}, {percent(ci[1])}]"

        planted_gap = percent(100 * h["planted"]) if h["planted"] is not None else "-"
        print(
            f"{m:<24}{planted_gap:>9}{gap(h['with_flags'], h['with_flags_ci']):>26}{gap(h['without_flags'], h['without_flags_ci']):>26}"
        )
    print(f"\nreps studied: {with_flags['population']['reps']:,} with the flags, {without['population']['reps']:,} without")
    print("seconds: " + ", ".join(f"{k} {v}" for k, v in seconds.items()))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"scores": scores, "headline": headline, "seconds": seconds, "removed": with_flags["validation"]},
                indent=2,
                default=str,
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
