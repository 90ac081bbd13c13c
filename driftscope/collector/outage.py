"""Store outages: exponential backoff and one log line per change of state."""

from __future__ import annotations

import logging
import time


class Backoff:
    """Tracks whether the store is down and when to try again.

    Examples
    --------
    >>> b = Backoff(logging.getLogger("doc"), first=0.5, cap=4.0)
    >>> b.fail(RuntimeError("no route")), b.down     # True: the state changed
    (True, True)
    >>> b.fail(RuntimeError("no route")), b.delay
    (False, 1.0)
    >>> b.ok(); b.down
    False
    """

    def __init__(self, log: logging.Logger, first: float = 0.25, cap: float = 10.0) -> None:
        self.log = log
        self.first = first
        self.cap = cap
        self.delay = first
        self.down = False
        self._since = 0.0
        self._retry_at = 0.0
        self.failures = 0

    def fail(self, exc: BaseException) -> bool:
        """Record a failure; True when the store just went down (pause consumption)."""
        self.failures += 1
        now = time.monotonic()
        if not self.down:
            self.down = True
            self._since = now
            self.delay = self.first
            self.log.warning(
                "store unavailable (%s); consumption paused, retrying with backoff", exc
            )
            changed = True
        else:
            self.delay = min(self.delay * 2, self.cap)
            changed = False
        self._retry_at = now + self.delay
        return changed

    def due(self) -> bool:
        """True when the next retry is due."""
        return time.monotonic() >= self._retry_at

    def ok(self) -> None:
        """Record a success; logs once when the store comes back."""
        if self.down:
            self.log.warning(
                "store available again after %.1f s and %d failed attempts; consumption resumed",
                time.monotonic() - self._since,
                self.failures,
            )
        self.down = False
        self.failures = 0
        self.delay = self.first
