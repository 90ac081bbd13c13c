"""One monitoring pass, end to end: the function the CLI and the demo call.

Examples
--------
>>> from driftscope.config import Config, Secrets
>>> verdicts, sent = run_pass(store, config, Secrets.from_env())   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from driftscope.alerts.channels import dispatcher
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import WindowVerdict
from driftscope.config import Config, Secrets
from driftscope.logs import Retelling
from driftscope.monitor.scheduler import Monitor, Progress
from driftscope.store.clickhouse import Store

log = logging.getLogger("driftscope.monitor")


def run_pass(
    store: Store,
    config: Config,
    secrets: Secrets,
    *,
    write: Callable[[str], Any] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    progress: Progress | None = None,
    deliver: bool = True,
    settle: timedelta = timedelta(0),
    monitor: Monitor | None = None,
) -> tuple[list[WindowVerdict], dict[str, int]]:
    """Process every closed, unprocessed window, then deliver the outbox (failed messages
    again at most once per ``alerts.backoff_max``).

    Returns the verdicts and the delivery counts (``sent``, ``failed``, ``skipped``,
    ``held``).
    ``write`` receives console alerts (default: stdout); ``settle`` delays a window
    until that long after it closed. ``monitor``: the :class:`Monitor` of the passes
    before (``serve`` and ``driftscope monitor`` keep one: its fits' bootstrap nulls serve
    the next windows of a sliding reference — a new one each pass drew them all again);
    its alert engine is made anew each pass (another process may have acknowledged or
    resolved an alert since).
    """
    engine = AlertEngine(store, config.alerts)
    if monitor is None:
        monitor = Monitor(store, config, alerts=engine, settle=settle)
    else:
        monitor.alerts, monitor.settle = engine, settle
    verdicts = monitor.run_once(since, until, progress)
    sent = {"sent": 0, "failed": 0, "skipped": 0, "held": 0}
    if deliver:
        # failed messages too (once per backoff_max), or one whose retries were spent
        # while a receiver was down would never go out under `driftscope monitor` alone
        sent = dispatcher(store, config, secrets, write=write).run(include_failed=True,
                                                                   pace_failed=True)
    return verdicts, sent


class PassFailures:
    """What a long-running loop (``serve``, ``driftscope monitor``) says of passes that
    raised (a store error, a bug): the loop goes on — with it the collector, whose events
    would otherwise pile up or, with the embedded broker, be lost — and the next pass
    tries again. One ERROR per distinct error, again every ``every`` seconds while it
    lasts (not one per pass), and one line when passes work again."""

    def __init__(self, who: str, every: float = 600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.who = who
        self._tell = Retelling(every, clock)
        self.count = 0  # passes failed in a row

    def failed(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}".splitlines()[0]
        self.count += 1
        if self._tell.due(re.sub(r"\d+(\.\d+)?", "#", text)):  # (a memory error names
            # its amount: the same error all the same)
            log.error("%s: monitor pass failed (%d in a row); the next pass tries again: %s",
                      self.who, self.count, text)
        log.debug("%s: monitor pass failed", self.who, exc_info=exc)

    def ok(self) -> None:
        if self.count:
            log.info("%s: monitor passes work again, after %d failed", self.who, self.count)
        self._tell.clear()
        self.count = 0
