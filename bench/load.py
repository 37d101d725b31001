"""Load: the dashboard under 50 signed-in users of every role for 60 s, and ingest of a 1 GB mbox at constant memory.

    .venv/bin/python bench/load.py                       # both parts (`make load`)
    .venv/bin/python bench/load.py --part web --users 50 --seconds 60
    .venv/bin/python bench/load.py --part mbox --gigabytes 1

`web`: the 1,500-person, 18-month company of `bench/bench_study.py` (built,
measured, validated and studied here when missing). The dashboard runs as a
user runs it, `repsight serve --workers 2` on 127.0.0.1 only. The users are
reps, managers, executives, analysts and admins in the proportions of a
sales organisation (30/10/5/3/2 of 50); each signs in (Argon2), then requests
its role's pages and API calls in turn, pausing 0.5 to 1.5 s as a reader
does, until the time is up: the loop stops by itself. Every answer must be a
200: the error rate is printed and is the benchmark's pass mark, with p50
and p95 latency per route. `--closed-loop` sends the next request as soon
as the last one answered (the worst case).

`mbox`: one mbox file of the given size (the messages of
`bench/bench_mbox.py`: Received chains, DKIM, multipart bodies) is
ingested by `repsight ingest` in its own process, whose resident memory is
sampled; a file a tenth of the size is ingested the same way first. Memory
is constant when both peaks are about the same.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench_web import _percentile, serving

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "load"
KEY = "benchmark-key-0123456789abcdef"
PASSWORD = "load test password"
# Of every 50 users: reps, managers, executives, analysts, admins.
MIX = {"rep": 30, "manager": 10, "executive": 5, "analyst": 3, "admin": 2}


# ---------------------------------------------------------------- the dashboard


def _study_workspace(folder: Path) -> None:
    """Build, measure, validate and study the 1,500-person company in `folder` unless that was done."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_study import _prepare

    os.environ["REPSIGHT_KEY"] = KEY
    _prepare(folder, 1500)
    done = folder / "studied.json"
    if done.exists():
        return
    from repsight.config import load_config
    from repsight.study import run_study
    from repsight.validation import run_validation

    config = load_config(folder)
    run_validation(config)
    run_study(config)
    done.write_text(json.dumps({"studied": True}))


def _users(folder: Path, count: int) -> list[tuple[str, str, str]]:
    """Return (role, email, own page) for `count` users in the proportions of `MIX`, and create their accounts."""
    from repsight import load_config
    from repsight.store import Store
    from repsight.web import Accounts

    config = load_config(folder)
    with Store.open(config, read_only=True) as store:
        people = store.to_pandas(store.table("people").select("person", "manager", "level", "function"))
        identities = store.to_pandas(store.table("identities").select("person", "email"))
        tiered = set(store.to_pandas(store.table("study_tiers").select("person"))["person"])
    email_of = dict(zip(identities["person"], identities["email"], strict=True))
    managers = set(people["manager"].dropna()) - set(people.loc[people["manager"] == people["person"], "person"])
    senior = set(people.loc[people["level"] >= config.company.senior_level, "person"])
    reps = [p for p in people["person"] if p in tiered and p not in managers and p not in senior]
    pools = {
        "rep": sorted(reps),
        "manager": sorted(managers - senior),
        "executive": sorted(senior),
        # Granted roles go to people with a page of their own but no role of the roster's.
        "analyst": sorted(set(people["person"]) - managers - senior - tiered),
        "admin": sorted(set(people["person"]) - managers - senior - tiered),
    }
    shares = {role: max(1, round(count * n / sum(MIX.values()))) for role, n in MIX.items()}
    shares["rep"] += count - sum(shares.values())
    accounts_file = folder / "accounts.sqlite"  # the benchmark's own workspace: its accounts are throw-away
    accounts_file.unlink(missing_ok=True)
    accounts = Accounts(accounts_file)
    users, taken = [], 0
    for role, n in shares.items():
        pool = pools[role][taken if role == "admin" else 0 :]
        if len(pool) < n:
            raise SystemExit(f"the company has {len(pool)} people for the role {role}, not {n}")
        for person in pool[:n]:
            accounts.add(email_of[person], PASSWORD, [role] if role in ("analyst", "admin") else [])
            users.append((role, email_of[person], f"/people/{person}"))
        if role == "analyst":
            taken = n  # admins are other people than the analysts
    return users


def _paths(role: str, own: str) -> list[str]:
    """Return what a user of `role` requests, in turn: their pages and the API calls behind them."""
    api = own.replace("/people/", "/api/people/")
    mine = [own, api, f"{api}/guidance", f"{api}/accounts"]
    return {
        "rep": mine,
        "manager": ["/team", "/api/team", "/api/team/coaching", *mine],
        "executive": ["/org", "/api/org", own, api],
        "analyst": ["/analysis", "/api/study", "/analysis/study.json", "/analysis/person_period.csv"],
        "admin": ["/admin", own],
    }[role]


async def _user(
    base: str,
    role: str,
    email: str,
    own: str,
    until: list[float],
    closed: bool,
    timings: dict[str, list[float]],
    errors: dict[str, int],
    seed: int,
    everyone_in: asyncio.Barrier,
) -> int:
    import httpx

    jitter = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        form = (await client.get("/login")).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "no sign-in form"
        signed = await client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
        if signed.status_code not in (200, 303):
            raise SystemExit(f"{role} {email}: sign-in answered {signed.status_code}")
        paths = _paths(role, own)
        for path in paths:  # each route once before the clock starts: a refusal is the benchmark's mistake, not load
            answer = await client.get(path)
            if answer.status_code != 200:
                raise SystemExit(f"{role}: {path} answered {answer.status_code} before any load: {answer.text[:200]}")
        await everyone_in.wait()
        if not until:
            until.append(time.monotonic() + _SECONDS[0])
        await asyncio.sleep(0 if closed else jitter.uniform(0, 1))
        done = 0
        while time.monotonic() < until[0]:
            path = paths[done % len(paths)]
            name = f"{role:9} {re.sub(r'/people/[0-9a-f]+', '/people/{me}', path)}"
            started = time.perf_counter()
            try:
                answer = await client.get(path)
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            timings[name].append(time.perf_counter() - started)
            if not ok:
                errors[name] += 1
            done += 1
            if not closed:
                await asyncio.sleep(jitter.uniform(0.5, 1.5))
        return done


_SECONDS = [60.0]


async def _load(base: str, users: list[tuple[str, str, str]], closed: bool) -> dict[str, Any]:
    timings: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    until: list[float] = []
    everyone_in = asyncio.Barrier(len(users))
    done = await asyncio.gather(
        *[
            _user(base, role, email, own, until, closed, timings, errors, seed, everyone_in)
            for seed, (role, email, own) in enumerate(users)
        ]
    )
    requests = sum(done)
    every = [value for values in timings.values() for value in values]
    return {
        "requests": requests,
        "errors": sum(errors.values()),
        "requests_per_second": requests / _SECONDS[0],
        "routes": {
            name: {
                "requests": len(values),
                "errors": errors.get(name, 0),
                "p50_ms": 1000 * _percentile(values, 0.5),
                "p95_ms": 1000 * _percentile(values, 0.95),
            }
            for name, values in sorted(timings.items())
        },
        "all": {"p50_ms": 1000 * _percentile(every, 0.5), "p95_ms": 1000 * _percentile(every, 0.95)},
    }


def web(users: int, seconds: float, closed: bool, workers: int) -> dict[str, Any]:
    folder = ROOT / "bench" / "out" / "study" / "1500"
    folder.parent.mkdir(parents=True, exist_ok=True)
    _study_workspace(folder)
    cast = _users(folder, users)
    _SECONDS[0] = seconds
    os.environ["REPSIGHT_KEY"] = KEY
    with serving(folder, workers) as base:
        result = asyncio.run(_load(base, cast, closed))
    roles = {role: sum(1 for r, _, _ in cast if r == role) for role in MIX}
    return {"users": len(cast), "roles": roles, "seconds": seconds, "workers": workers, "closed_loop": closed, **result}


# ---------------------------------------------------------------- a 1 GB mbox


def _step_ingest(folder: Path) -> dict[str, float]:
    """Ingest `folder`'s workspace (one mbox) in this process; return its time and message count."""
    from repsight.config import load_config
    from repsight.ingest import run_ingest

    started = time.perf_counter()
    report = run_ingest(load_config(folder))
    stored = sum(f.new for f in report.files)
    return {"seconds": time.perf_counter() - started, "messages": stored}


def _mbox_workspace(folder: Path, size: int) -> int:
    """Create a workspace in `folder` holding one mbox of about `size` bytes (built once); return its bytes."""
    from bench_mbox import write_mbox
    from repsight.workspace import init_workspace

    mbox = folder / "mail" / "export.mbox"
    if not mbox.exists() or abs(mbox.stat().st_size - size) > size // 10:
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
        os.environ["REPSIGHT_KEY"] = KEY
        init_workspace(folder, domains=["acme.example"], mail=["mail/*.mbox"], calendar=[])
        mbox.parent.mkdir(parents=True)
        per_message = 5_000  # bytes, about what `write_mbox` writes for one message
        write_mbox(mbox, max(1, size // per_message))
    for stale in folder.glob("repsight.duckdb*"):
        stale.unlink()  # every run ingests from an empty store
    return mbox.stat().st_size


def mbox(gigabytes: float) -> dict[str, dict[str, Any]]:
    from steps import run_step

    results = {}
    for label, size in (("a tenth", int(gigabytes * 1e8)), ("whole", int(gigabytes * 1e9))):
        folder = OUT / f"mbox-{size // 1_000_000}MB"
        written = _mbox_workspace(folder, size)
        result = run_step(__file__, "ingest", folder, KEY)
        results[label] = {"bytes": written, **result}
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=["web", "mbox", "both"], default="both")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2, help="dashboard processes (one per core)")
    parser.add_argument("--closed-loop", action="store_true", help="no pause between a user's requests")
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--step", choices=["ingest"], default=None)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    if args.step:
        print(json.dumps(_step_ingest(args.folder)))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    if args.part in ("web", "both"):
        found = web(args.users, args.seconds, args.closed_loop, args.workers)
        results["web"] = found
        print(
            f"dashboard: {found['users']} users {found['roles']} for {args.seconds:.0f} s, `repsight serve --workers {args.workers}`"
            f"{' (closed loop)' if args.closed_loop else ' (0.5-1.5 s between requests)'}"
        )
        print(
            f"  {found['requests']:,} requests ({found['requests_per_second']:.1f}/s), {found['errors']} errors; "
            f"all routes p50 {found['all']['p50_ms']:.0f} ms, p95 {found['all']['p95_ms']:.0f} ms"
        )
        for name, figures in found["routes"].items():
            print(
                f"    {name:40} n={figures['requests']:5}  errors {figures['errors']}  p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms"
            )
    if args.part in ("mbox", "both"):
        ingested = mbox(args.gigabytes)
        results["mbox"] = ingested
        for label, figures in ingested.items():
            print(
                f"mbox ingest, {label} ({figures['bytes'] / 1e6:,.0f} MB, {figures['messages']:,} messages): "
                f"{figures['seconds']:.0f} s, peak RSS {figures['peak_mb']:.0f} MB"
            )
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    if "web" in results and results["web"]["errors"]:
        raise SystemExit("the dashboard answered with errors under load")


if __name__ == "__main__":
    main()
