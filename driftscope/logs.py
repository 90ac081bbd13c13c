"""Log filters the command line installs (:func:`driftscope.cli._root`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class OncePerInterval(logging.Filter):
    """Lets one record a message template through per ``seconds`` (per logger and level),
    for loggers under ``prefix`` (others pass): a client retrying a broker that does not
    answer logs the same error many times a second.

    >>> f = OncePerInterval(60.0, "kafka", clock=iter([0.0, 1.0, 61.0]).__next__)
    >>> r = logging.LogRecord("kafka.x", logging.ERROR, "", 0, "lost %s", ("a",), None)
    >>> [f.filter(r), f.filter(r), f.filter(r)]
    [True, False, True]
    >>> f.filter(logging.LogRecord("driftscope", logging.ERROR, "", 0, "x", (), None))
    True
    """

    def __init__(self, seconds: float, prefix: str = "",
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.seconds, self.prefix, self.clock = seconds, prefix, clock
        self._last: dict[tuple[str, int, str], float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.prefix):
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.seconds:
            return False
        self._last[key] = now
        return True


class Retelling:
    """Whether a lasting problem is to be told now: when it is new (its ``key`` differs
    from the one told last) or ``every`` seconds after it was last told — not at every
    pass of a loop that meets it again.

    >>> r = Retelling(600.0, clock=iter([0.0, 1.0, 2.0, 700.0]).__next__)
    >>> [r.due("a"), r.due("a"), r.due("b"), r.due("b")]
    [True, False, True, True]
    """

    def __init__(self, every: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self.clock = every, clock
        self._last: tuple[str, float] | None = None  # the key told, and when

    def due(self, key: str) -> bool:
        now = self.clock()
        if self._last is None or self._last[0] != key or now - self._last[1] >= self.every:
            self._last = (key, now)
            return True
        return False

    @property
    def told(self) -> bool:
        """Whether something was told since the last :meth:`clear`."""
        return self._last is not None

    def clear(self) -> None:
        """The problem is over: the next one is told at once."""
        self._last = None
