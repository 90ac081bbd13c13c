"""The console notifier: one readable block per alert on a text stream."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import Any


class ConsoleNotifier:
    """Write the payload's ``text`` (and its ``lines``) through ``write``."""

    name = "console"

    def __init__(self, write: Callable[[str], Any] | None = None) -> None:
        self.write = write or (lambda s: print(s, file=sys.stdout, flush=True))

    def send(self, payload: Mapping[str, Any], key: str) -> None:
        lines = [str(payload.get("text", ""))] + [f"  {x}" for x in payload.get("lines", [])]
        self.write("\n".join(lines))
