"""Benchmark: the mbox reader against what a user would otherwise write, on the same file.

    .venv/bin/python bench/bench_mbox.py                      # 200,000 messages
    .venv/bin/python bench/bench_mbox.py --messages 20000     # a quick look

The file holds messages as mail clients and servers write them: a Received
chain, a DKIM signature, a multipart/alternative body (text and HTML),
display names, folded To lists, Cc. The synthetic company supplies the
people, customers and partners.

The baseline is the obvious script: `mailbox.mbox` with the `email`
package's full parse of every message, then `getaddresses` on From, To, Cc
and Bcc and `parsedate_to_datetime` on Date. It keys, validates and
quarantines nothing; repsight's reader does all three and returns Arrow
batches ready to store. Each side runs in its own process, so each peak
memory (maximum resident set size) is its own.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import textwrap
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, formataddr
from pathlib import Path

OUT = Path(__file__).parent / "out"
TEXT = (
    "Hi all, thanks for the time today. As discussed, the next step is a short call with "
    "procurement to confirm the renewal terms, and a review of the pilot results with the "
    "operations team. I have attached the updated proposal and the pricing summary. "
)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_mbox(path: Path, messages: int, seed: int = 11) -> None:
    """Write `messages` realistic messages among the synthetic company's people and accounts."""
    from repsight.synth.org import build_company
    from repsight.synth.random import Rng

    company = build_company(300, Rng(seed), date(2024, 7, 1), date(2025, 12, 31))
    people = [(e.name, e.email) for e in company.employees]
    external = [(f"{org.name} ({i + 1})", contact) for org in company.accounts for i, contact in enumerate(org.contacts[:3])]
    rng = random.Random(seed)
    start = datetime(2024, 7, 1, tzinfo=UTC)
    body_text = "\n".join(textwrap.wrap(TEXT * 5, 76))
    body_html = "<html><body><div>" + "</div>\n<div>".join(textwrap.wrap(TEXT * 8, 70)) + "</div></body></html>"
    signature = "\n\t".join(textwrap.wrap("".join(rng.choice("ABCDEFGHabcdefgh0123456789+/") for _ in range(344)), 70))
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for n in range(messages):
            sender = rng.choice(people)
            to = rng.sample(people, rng.randint(1, 4)) + (rng.sample(external, rng.randint(0, 2)))
            cc = rng.sample(people, rng.randint(0, 3))
            sent = start + timedelta(seconds=rng.randrange(0, 540 * 86400))
            lines = [
                f"From {sender[1]} {sent:%a %b %d %H:%M:%S %Y}",
                f"Return-Path: <{sender[1]}>",
                f"Received: from mail-{n % 97}.acme.example (mail-{n % 97}.acme.example [10.0.{n % 250}.7])\n"
                f"\tby mx.acme.example with ESMTPS id {n:08x}; {format_datetime(sent)}",
                f"Received: by mail-{n % 97}.acme.example with SMTP id {n:010x};\n\t{format_datetime(sent)}",
                "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=acme.example; s=s1;\n"
                "\th=from:to:cc:subject:date:message-id; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;\n"
                f"\tb={signature}",
                f"Message-ID: <{n}.{sent:%Y%m%d%H%M%S}@mail.acme.example>",
                f"Date: {format_datetime(sent)}",
                f"From: {formataddr(sender)}",
                "To: " + ",\n ".join(formataddr(a) for a in to),
            ]
            if cc:
                lines.append("Cc: " + ", ".join(formataddr(a) for a in cc))
            lines += [
                "Subject: Re: Q3 pipeline review and next steps",
                "MIME-Version: 1.0",
                'Content-Type: multipart/alternative; boundary="b1"',
                "",
                "--b1",
                'Content-Type: text/plain; charset="utf-8"',
                "",
                body_text,
                "--b1",
                'Content-Type: text/html; charset="utf-8"',
                "",
                body_html,
                "--b1--",
                "",
            ]
            out.write("\n".join(lines) + "\n")


def step_repsight(path: Path) -> dict[str, float]:
    from repsight.sources import open_source
    from repsight.sources.mbox import read_mbox
    from repsight.sources.records import MessageBatch

    started = time.perf_counter()
    messages = recipients = rejected = 0
    with open_source(path) as source:
        for item in read_mbox(source):
            if isinstance(item, MessageBatch):
                messages += len(item)
                recipients += item.participants.num_rows
            else:
                rejected += 1
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "messages": messages, "recipients": recipients, "rejected": rejected, "peak_mb": _peak_mb()}


def step_baseline(path: Path) -> dict[str, float]:
    import mailbox
    from email.utils import getaddresses, parsedate_to_datetime

    started = time.perf_counter()
    messages = recipients = 0
    for message in mailbox.mbox(path):
        getaddresses(message.get_all("From", []))
        found = getaddresses(message.get_all("To", []) + message.get_all("Cc", []) + message.get_all("Bcc", []))
        parsedate_to_datetime(message["Date"])
        message.get("Message-ID")
        messages += 1
        recipients += len({address.lower() for _, address in found})
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "messages": messages, "recipients": recipients, "peak_mb": _peak_mb()}


def _in_subprocess(step: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--step", step, "--file", str(path)], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--step", choices=["repsight", "baseline"])
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.step:
        step = step_repsight if args.step == "repsight" else step_baseline
        print(json.dumps(step(args.file)))
        return
    OUT.mkdir(exist_ok=True)
    path = OUT / f"bench-{args.messages}.mbox"
    if not path.exists():
        started = time.perf_counter()
        write_mbox(path, args.messages)
        print(f"wrote {path} ({path.stat().st_size / 2**20:.0f} MB) in {time.perf_counter() - started:.0f} s")
    ours = _in_subprocess("repsight", path)
    base = _in_subprocess("baseline", path)
    assert ours["messages"] == base["messages"] == args.messages, (ours, base)
    assert ours["recipients"] == base["recipients"], (ours, base)
    print(f"{'':28}{'messages/s':>12}{'seconds':>10}{'peak MB':>10}")
    for name, r in (("repsight read_mbox", ours), ("mailbox + email (baseline)", base)):
        print(f"{name:28}{r['messages'] / r['seconds']:>12,.0f}{r['seconds']:>10.1f}{r['peak_mb']:>10.0f}")
    print(f"ratio: {base['seconds'] / ours['seconds']:.1f}x the baseline's speed")


if __name__ == "__main__":
    main()
