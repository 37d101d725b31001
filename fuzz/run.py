"""Fuzz the readers with atheris (libFuzzer), one target at a time, and save the inputs that find bugs.

    python -m fuzz.run                       # every target, 60 s each
    python -m fuzz.run --seconds 180 ics mbox
    python -m fuzz.run --minimize fuzz/regressions/mbox/crash-… mbox

Each target runs in a worker process under libFuzzer with `-timeout`
(a hang), `-rss_limit_mb` and `-max_len`, its seeds `fuzz/corpus/<target>/`
and the inputs it found before (`fuzz/work/<target>/`, not kept in git).
An input that finds a new bug is saved to `fuzz/regressions/<target>/`
(libFuzzer's `crash-<sha1>`, `timeout-<sha1>`, `oom-<sha1>`), and the
worker starts again: a bug it has seen (by `crashes.signature`, those of
the saved regressions included) is counted, not reported again, so that
one common bug does not stop the search for the others. Replay what is
saved with `pytest tests/fuzz`.

atheris is not a dependency of repsight: `make fuzz` installs it.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CORPUS", "REGRESSIONS", "WORK", "FuzzRun", "fuzz_target", "main", "minimize"]

ROOT = Path(__file__).resolve().parent
CORPUS = ROOT / "corpus"
"""Seed inputs, kept in git: `corpus/<target>/…`."""
REGRESSIONS = ROOT / "regressions"
"""Inputs that found bugs, kept in git and replayed by the tests: `regressions/<target>/…`."""
WORK = ROOT / "work"
"""What the fuzzer found and keeps between runs (not in git), and each run's log."""

_SIGNATURE = "FUZZ-SIGNATURE: "
_EXECUTED = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_PROGRESS = re.compile(r"^#(\d+)\s", re.MULTILINE)
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_MOST_TIMEOUTS = 3
"""Hangs a target may find before it stops: a hang cannot be told apart from the last one, and each costs a restart."""
_STARTUP_SECONDS = 5
"""A restart with less time left than this is not worth it."""
# The modules a reader runs through, instrumented for coverage (the standard library's C parts are not Python).
_INSTRUMENTED = ["repsight", "email", "icalendar", "recurring_ical_events", "x_wr_timezone", "dateutil", "publicsuffixlist"]


@dataclass
class FuzzRun:
    """What fuzzing one target gave: executions, restarts, and each new bug with the input saved for it."""

    target: str
    executions: int = 0
    seconds: float = 0.0
    restarts: int = 0
    bugs: list[tuple[str, str]] = field(default_factory=list)
    """(signature, saved input) of each bug found."""

    def summary(self) -> str:
        rate = self.executions / self.seconds if self.seconds else 0.0
        lines = [
            f"{self.target}: {self.executions:,} executions in {self.seconds:.0f} s ({rate:,.0f}/s), {len(self.bugs)} new bug(s)"
        ]
        lines += [f"  {sig}\n    {path}" for sig, path in self.bugs]
        return "\n".join(lines)


def _worker(target: str, known_file: Path | None, libfuzzer_args: list[str]) -> None:
    """Run `target` under atheris; never returns (libFuzzer exits the process)."""
    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports(include=_INSTRUMENTED):
        from repsight import sources
        from repsight.sources import accounts, calendar_csv, ics, kpis, mail_csv, mbox, msgraph, roster, salesforce, viva

        del sources, accounts, calendar_csv, ics, kpis, mail_csv, mbox, msgraph, roster, salesforce, viva
    from fuzz.crashes import replay, signature
    from fuzz.targets import TARGETS
    from repsight.errors import InputError

    known = set(known_file.read_text().splitlines()) if known_file and known_file.exists() else set()
    saved = REGRESSIONS / target
    for path in sorted(saved.iterdir()) if saved.is_dir() else []:
        if not path.name.startswith(("timeout-", "oom-", ".")):
            found = replay(target, path.read_bytes()).signature
            known |= {found} if found else set()
    run = TARGETS[target].run

    def test_one_input(data: bytes) -> None:
        try:
            run(data)
        except InputError:
            return
        except Exception as exc:
            found = signature(target, exc)
            if found in known:
                return
            print(f"{_SIGNATURE}{found}", file=sys.stderr, flush=True)
            raise

    atheris.Setup([sys.argv[0], *libfuzzer_args], test_one_input)
    atheris.Fuzz()


def fuzz_target(target: str, seconds: int, *, timeout: int = 2, rss_limit_mb: int = 2048, max_len: int = 8192) -> FuzzRun:
    """Fuzz one target for `seconds`, restarting after each new bug; return what it found."""
    result = FuzzRun(target)
    work = WORK / target
    work.mkdir(parents=True, exist_ok=True)
    saved = REGRESSIONS / target
    saved.mkdir(parents=True, exist_ok=True)
    known_file = WORK / f"{target}.known"
    known_file.write_text("")
    log = WORK / f"{target}.log"
    log.write_text("")
    started = time.monotonic()
    timeouts = 0
    while (left := seconds - (time.monotonic() - started)) >= _STARTUP_SECONDS or result.restarts == 0:
        args = [
            f"-max_total_time={max(int(left), 1)}",
            f"-timeout={timeout}",
            f"-rss_limit_mb={rss_limit_mb}",
            f"-max_len={max_len}",
            f"-artifact_prefix={saved}/",
            "-print_final_stats=1",
            str(work),
            str(CORPUS / target),
        ]
        command = [sys.executable, "-m", "fuzz.run", "--worker", target, "--known", str(known_file), "--", *args]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT.parent), os.environ.get("PYTHONPATH")]))}
        done = subprocess.run(command, cwd=ROOT.parent, env=env, capture_output=True, text=True, errors="replace", check=False)
        output = done.stdout + done.stderr
        with log.open("a") as handle:
            handle.write(f"$ {' '.join(command)}\n{output}\n")
        result.restarts += 1
        stats = _EXECUTED.findall(output)
        result.executions += int(stats[-1]) if stats else max((int(n) for n in _PROGRESS.findall(output)), default=0)
        artifacts = _ARTIFACT.findall(output)
        if done.returncode == 0 or not artifacts:
            if done.returncode != 0:
                print(f"{target}: the worker failed (exit {done.returncode}); see {log}", file=sys.stderr)
            break
        found = [line.removeprefix(_SIGNATURE) for line in output.splitlines() if line.startswith(_SIGNATURE)]
        # libFuzzer names the input by what it did: crash-, timeout- (a hang), oom-, leak-.
        kind = Path(artifacts[-1]).name.partition("-")[0]
        sig = found[-1] if found else f"{target}: {kind} (see {log.name})"
        result.bugs.append((sig, artifacts[-1]))
        with known_file.open("a") as handle:
            handle.write(sig + "\n")
        if kind == "timeout":
            timeouts += 1
            if timeouts >= _MOST_TIMEOUTS:
                print(f"{target}: stopped after {timeouts} hangs", file=sys.stderr)
                break
    result.seconds = time.monotonic() - started
    return result


def minimize(target: str, path: Path) -> Path:
    """Write the smallest input found that shows the same bug as `path` (lines, then bytes, removed), beside it; return its path."""
    from fuzz.crashes import replay

    data = path.read_bytes()
    wanted = replay(target, data).signature
    if wanted is None:
        raise SystemExit(f"{path}: shows no bug to {target}")

    def same(candidate: bytes) -> bool:
        return replay(target, candidate).signature == wanted

    for unit in ("lines", "bytes"):
        parts: list[bytes] = data.splitlines(keepends=True) if unit == "lines" else [bytes([b]) for b in data]
        size = max(len(parts) // 2, 1)
        while size >= 1:
            i = 0
            while i < len(parts):
                candidate = parts[:i] + parts[i + size :]
                if candidate and same(b"".join(candidate)):
                    parts = candidate
                else:
                    i += size
            size //= 2
        data = b"".join(parts)
    out = path.with_name(path.name + ".min")
    out.write_bytes(data)
    print(f"{wanted}\n{len(path.read_bytes())} → {len(data)} bytes: {out}")
    return out


def main(argv: list[str] | None = None) -> int:
    from fuzz.targets import TARGETS

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        split = argv.index("--")
        known = Path(argv[argv.index("--known") + 1]) if "--known" in argv[:split] else None
        _worker(argv[1], known, argv[split + 1 :])
        return 0
    parser = argparse.ArgumentParser(prog="python -m fuzz.run", description=__doc__.split("\n", 1)[0])
    parser.add_argument("targets", nargs="*", metavar="target", help=f"targets to fuzz (default: all): {', '.join(TARGETS)}")
    parser.add_argument("--seconds", type=int, default=60, help="how long to fuzz each target (default 60)")
    parser.add_argument("--timeout", type=int, default=2, help="seconds one input may take before it is a hang (default 2)")
    parser.add_argument("--rss-limit-mb", type=int, default=2048, help="memory limit of a worker (default 2048)")
    parser.add_argument("--max-len", type=int, default=8192, help="the longest input libFuzzer makes, in bytes (default 8192)")
    parser.add_argument("--minimize", type=Path, metavar="INPUT", help="minimise this saved input of the (one) target instead")
    options = parser.parse_args(argv)
    unknown = [t for t in options.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; the targets are {', '.join(TARGETS)}")
    if options.minimize is not None:
        if len(options.targets) != 1:
            parser.error("--minimize needs exactly one target")
        minimize(options.targets[0], options.minimize)
        return 0
    runs = []
    for target in options.targets or list(TARGETS):
        run = fuzz_target(
            target, options.seconds, timeout=options.timeout, rss_limit_mb=options.rss_limit_mb, max_len=options.max_len
        )
        print(run.summary(), flush=True)
        runs.append(run)
    total = sum(len(r.bugs) for r in runs)
    print(f"{sum(r.executions for r in runs):,} executions; {total} new bug(s) saved under {REGRESSIONS}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
