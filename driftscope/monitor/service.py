"""One monitoring pass, end to end: the function the CLI and the demo call.

Examples
--------
>>> from driftscope.config import Config, Secrets
>>> verdicts, sent = run_pass(store, config, Secrets.from_env())   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from driftscope.alerts.channels import dispatcher
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import WindowVerdict
from driftscope.config import Config, Secrets
from driftscope.monitor.scheduler import Monitor, Progress
from driftscope.store.clickhouse import Store


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
