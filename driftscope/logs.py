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
