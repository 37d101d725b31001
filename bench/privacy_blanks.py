"""What the no-differencing rule costs: the share of weekly means left blank in team and org views.

    .venv/bin/python bench/privacy_blanks.py          # after bench/bench_study.py (or bench/load.py) built the company

On the 1,500-person, 18-month company of `bench/bench_study.py`, for the 40
managers with the most direct reports, as a manager who is also an
executive: `views.team_view` and `views.org_view` (the dashboard's `/api/team`
and `/api/org`). A weekly mean is blank where its week has fewer people than
the minimum group, or where showing it beside another of the viewer's means
would single out a few people (`privacy.apart_enough`, `charts.mean_by_week`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "benchmark-key-0123456789abcdef"


def main() -> None:
    os.environ.setdefault("REPSIGHT_KEY", KEY)
    from repsight import load_config
    from repsight.store import Store
    from repsight.web import views
    from repsight.web.access import User
    from repsight.web.data import load_data
    from repsight.web.roles import Role

    folder = ROOT / "bench" / "out" / "study" / "1500"
    if not (folder / "measured.json").exists():
        raise SystemExit(f"{folder}: no company; run bench/bench_study.py first")
    config = load_config(folder)
    with Store.open(config, read_only=True) as store:
        data = load_data(store, config)
    managers = sorted(data.reports, key=lambda m: (-len(data.reports[m]), m))[:40]
    blank = {"team": [0, 0], "org": [0, 0]}
    started = time.perf_counter()
    for manager in managers:
        user = User("bench", manager, frozenset({Role.MANAGER, Role.EXECUTIVE}))
        for name, view in (("team", views.team_view), ("org", views.org_view)):
            values = [v for chart in view(data, user, config.privacy).get("charts") or [] for v in chart["values"]]
            blank[name][0] += sum(v is None for v in values)
            blank[name][1] += len(values)
    seconds = (time.perf_counter() - started) / (2 * len(managers))
    every = [sum(counts) for counts in zip(*blank.values(), strict=True)]
    print(f"{len(managers)} managers' team and org views, minimum group {config.privacy.min_group_size}:")
    for name, (empty, shown) in blank.items():
        print(f"  {name}: {empty:,} of {shown:,} weekly means blank ({100 * empty / max(shown, 1):.1f}%)")
    print(f"  both: {100 * every[0] / max(every[1], 1):.1f}% blank; {1000 * seconds:.0f} ms per view")


if __name__ == "__main__":
    main()
