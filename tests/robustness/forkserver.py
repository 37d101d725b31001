"""A fork server for the crash tests: it imports repsight once, then runs each command line in a child it forks.

A `repsight` command spends most of its first seconds importing (pandas,
scipy, ibis); a kill drawn over that time would test nothing, and paying it
for each of the fifty kills would take minutes. So this process imports
the command line and its stages once, and forks a child per run, which
calls `repsight.cli.main` with the run's arguments, exactly as the
`repsight` script does. The server is the child's parent: it kills the child
with SIGKILL at the requested moment, before reaping it, so the signal can
only reach that child, and it reports whether the kill landed (the child
died of it) or came too late (the child had exited).

Forking is safe because nothing here has started a thread when it forks:
the math libraries and Arrow's allocator are told not to (`THREAD_FREE`),
and the server refuses to fork if any thread is running.

Requests and replies are JSON lines on standard input and output. Run it
with `python -m tests.robustness.forkserver` from the repository's root.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

__all__ = ["PRELOAD", "THREAD_FREE", "main"]

PRELOAD = (
    "repsight.cli",
    "repsight.ingest",
    "repsight.ingest.render",
    "repsight.store",
    "repsight.forget",
    "repsight.retention",
    "repsight.metrics.engine",
    "repsight.study.run",
)
"""What a run would import, loaded once before any fork; not DuckDB, whose import starts a thread (a child imports it: 0.1 s)."""

THREAD_FREE = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "JE_ARROW_MALLOC_CONF": "background_thread:false",
}
"""The environment under which importing the preloaded modules starts no thread (BLAS pools, Arrow's jemalloc purger)."""


def main() -> None:
    """Import `PRELOAD`, then answer each request line with the run's outcome."""
    for module in PRELOAD:
        importlib.import_module(module)
    _reply({"ready": True, "threads": _threads()})
    for line in sys.stdin:
        _reply(_run(json.loads(line)))


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _run(request: dict[str, Any]) -> dict[str, Any]:
    """Fork a child running `request["argv"]`; kill it after `kill_after` seconds if it still runs; return what became of it."""
    if _threads() != 1:
        return {"error": f"the fork server runs {_threads()} threads; forking now could deadlock the child"}
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(request["argv"], request["cwd"], request["log"], request.get("file_size_limit"), request.get("die_writing"))
    kill_after: float | None = request.get("kill_after")
    pidfd = os.pidfd_open(pid)
    try:
        exited, _, _ = select.select([pidfd], [], [], kill_after)
    finally:
        os.close(pidfd)
    if not exited:
        os.kill(pid, signal.SIGKILL)  # not reaped yet, so this pid is still our child's
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - started
    if os.WIFSIGNALED(status):
        return {"signal": os.WTERMSIG(status), "returncode": None, "seconds": seconds}
    return {"signal": None, "returncode": os.WEXITSTATUS(status), "seconds": seconds}


def _child(argv: list[str], cwd: str, log: str, file_size_limit: int | None, die_writing: tuple[str, int] | None) -> None:
    """Run the command line as the `repsight` script would, output to `log`; never return.

    `file_size_limit` makes every write past that size fail as on a full
    disk. `die_writing` (a path and a size) kills the process the moment it
    writes that file (or a file named after it in its folder, written to
    replace it) past that size: once such a file is opened for writing,
    the limit is set and the kernel's SIGXFSZ ends the process mid-write.
    """
    code = 70
    try:
        os.chdir(cwd)
        nothing = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nothing, 0)  # not the server's requests
        os.close(nothing)
        output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        if file_size_limit is not None:
            # A write past the limit then fails with EFBIG, as one fails with ENOSPC on a full disk
            # (by default the kernel would kill the process instead).
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
        if die_writing is not None:
            _die_writing(Path(die_writing[0]), die_writing[1])
        sys.argv = ["repsight", *argv]
        from repsight.cli import main as command_line

        command_line()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _die_writing(path: Path, size: int) -> None:
    target = path.resolve()

    def hook(event: str, args: tuple[Any, ...]) -> None:
        writing = event == "open" and isinstance(args[0], str | Path) and isinstance(args[1], str) and "w" in args[1]
        # The file itself, or a file written to take its place (`.study.json.<pid>.part`).
        opened = Path(args[0]).resolve() if writing else None
        if opened is not None and opened.parent == target.parent and target.name in opened.name:
            resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)  # Python ignores it; the kernel's default ends the process
    sys.addaudithook(hook)


if __name__ == "__main__":
    main()
