"""The benchmarks' own code (bench/) is importable here: its bulk generator is tested like the package."""

from __future__ import annotations

import sys

from tests.support import REPO

if str(REPO / "bench") not in sys.path:
    sys.path.insert(0, str(REPO / "bench"))
