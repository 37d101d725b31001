"""Load test: dashboard latency at 20 concurrent users on the study-scale organisation, on loopback only.

    .venv/bin/python bench/bench_web.py                  # after bench/bench_study.py has built the workspace
    .venv/bin/python bench/bench_web.py --requests 40    # requests per user and endpoint

The workspace is the one `bench/bench_study.py` builds (1,500 people, 18
months, measured and studied). The dashboard runs as a user runs it,
`repsight serve --workers N` on 127.0.0.1 (one process, then two: one per
core), with 20 rep accounts in that workspace's accounts file. Twenty users sign in, then each requests its own
page (`/people/{me}`, what `/me` redirects to) and its API call
(`/api/people/{me}`) in turn, a bounded number of times:

- `closed loop`: each user sends the next request as soon as the last one
  answered: the worst case, 20 requests always in flight;
- `paced`: each user waits about a second between requests (0.5–1.5 s,
  and arrives within the first second), as a person reading a page would.

It prints p50 and p95 latency per endpoint and mode; the target is p95 < 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = "benchmark-key-0123456789abcdef"
PASSWORD = "benchmark password"
USERS = 20


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _reps(folder: Path, count: int) -> list[str]:
    from repsight import load_config
    from repsight.store import Store

    config = load_config(folder)
    with Store.open(config, read_only=True) as store:
        people = store.table("people").filter(lambda t: t.function.isin(config.company.sales_functions))
        tiered = people.semi_join(store.table("study_tiers"), "person")
        emails = store.table("identities").semi_join(tiered, "person").select("email").distinct()
        rows = store.to_arrow(emails.order_by("email").limit(count))
    return [str(email) for email in rows["email"].to_pylist()]


async def _user(
    base: str, email: str, requests: int, pause: float, timings: dict[str, list[float]], seed: int, everyone_in: asyncio.Barrier
) -> None:
    import random

    import httpx

    jitter = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        started = time.perf_counter()
        form = (await client.get("/login")).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert token, "no sign-in form"
        signed = await client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
        assert signed.status_code in (200, 303), signed.status_code
        timings["sign-in (Argon2)"].append(time.perf_counter() - started)
        me = (await client.get("/me", follow_redirects=False)).headers["location"]
        # Page views are timed once everyone is signed in: twenty Argon2 checks at once
        # (deliberately slow, about 50 ms of CPU each) would otherwise queue the first views.
        await everyone_in.wait()
        if pause:  # people do not all arrive in the same millisecond
            await asyncio.sleep(jitter.uniform(0, pause))
        for _ in range(requests):
            for name, path in (("page /people/{me}", me), ("api /api/people/{me}", me.replace("/people/", "/api/people/"))):
                started = time.perf_counter()
                response = await client.get(path)
                timings[name].append(time.perf_counter() - started)
                assert response.status_code == 200, (path, response.status_code)
                if pause:
                    await asyncio.sleep(jitter.uniform(0.5 * pause, 1.5 * pause))


@contextmanager
def serving(folder: Path, workers: int) -> Iterator[str]:
    """Run `repsight serve -c folder --workers N` on a free loopback port until the block ends; yield its base address."""
    port = _free_port()
    command = [sys.executable, "-m", "repsight", "serve", "-c", str(folder), "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("the dashboard did not start") from None
                time.sleep(0.2)
        time.sleep(2 if workers > 1 else 0)  # every worker process loads the workspace
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(30)


def _percentile(values: list[float], share: float) -> float:
    import numpy as np

    return float(np.percentile(values, 100 * share))


async def _load(base: str, emails: list[str], requests: int, pause: float) -> dict[str, dict[str, float]]:
    timings: dict[str, list[float]] = {"page /people/{me}": [], "api /api/people/{me}": [], "sign-in (Argon2)": []}
    everyone_in = asyncio.Barrier(len(emails))
    await asyncio.gather(*[_user(base, email, requests, pause, timings, seed, everyone_in) for seed, email in enumerate(emails)])
    return {
        name: {"requests": len(v), "p50_ms": 1000 * _percentile(v, 0.5), "p95_ms": 1000 * _percentile(v, 0.95)}
        for name, v in timings.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", type=Path, default=ROOT / "bench" / "out" / "study" / "1500")
    parser.add_argument("--requests", type=int, default=25, help="requests per user and endpoint")
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2], help="server processes to try")
    args = parser.parse_args()
    os.environ["REPSIGHT_KEY"] = KEY
    if not (args.folder / "measured.json").exists():
        raise SystemExit(f"{args.folder}: no workspace; run bench/bench_study.py first")
    from repsight.web import Accounts

    emails = _reps(args.folder, USERS)
    accounts_file = args.folder / "accounts.sqlite"  # the benchmark's own workspace: its accounts are throw-away
    accounts_file.unlink(missing_ok=True)
    accounts = Accounts(accounts_file)
    for email in emails:
        accounts.add(email, PASSWORD)
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for workers in args.workers:
        with serving(args.folder, workers) as base:
            results[f"{workers} process{'es' if workers > 1 else ''}"] = {
                "closed loop": asyncio.run(_load(base, emails, args.requests, 0.0)),
                "paced (about 1 s between requests)": asyncio.run(_load(base, emails, max(5, args.requests // 3), 1.0)),
            }
    out = ROOT / "bench" / "out" / "web"
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps({"users": USERS, "results": results}, indent=2))
    print(f"{USERS} concurrent users on {args.folder.name} people (loopback, `repsight serve --workers N`)")
    for processes, modes in results.items():
        for mode, endpoints in modes.items():
            for name, figures in endpoints.items():
                print(
                    f"  {processes:12} {mode:36} {name:22} n={figures['requests']:5}  "
                    f"p50 {figures['p50_ms']:6.1f} ms  p95 {figures['p95_ms']:6.1f} ms"
                )


if __name__ == "__main__":
    main()
