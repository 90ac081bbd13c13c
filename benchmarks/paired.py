"""Run a benchmark's child process on this checkout and on a baseline checkout, in
alternating order: each code in its own process on the same data (``--child``), the
baseline by putting its tree first on ``PYTHONPATH`` (``git worktree add /tmp/base REV``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from typing import Any


def child(script: str, tree: str | None, argv: Sequence[str]) -> dict[str, Any]:
    """``script --child argv`` run with ``tree``'s code (None: this checkout's); its last
    line of output, read as JSON."""
    env = dict(os.environ)
    if tree:
        env["PYTHONPATH"] = tree
    out = subprocess.run([sys.executable, script, "--child", *argv], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def alternated(baseline_tree: str | None, repeats: int) -> Iterator[tuple[str, str | None]]:
    """(name, tree) of each run: baseline then now, now then baseline, … (only "now"
    without a baseline)."""
    order = [("baseline", baseline_tree), ("now", None)]
    for r in range(repeats):
        for name, tree in order if r % 2 == 0 else order[::-1]:
            if name == "now" or tree:
                yield name, tree
