"""What ``driftscope health alerts`` judges beyond the heartbeat: messages that wait.

Kept apart from :mod:`driftscope.alerts.outbox` (and its store client) so that the
healthcheck, run every few seconds, imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def overdue(health: Mapping[str, Any], limit: float, now: float) -> str | None:
    """One line naming the channels whose first undelivered message (per
    :meth:`driftscope.alerts.outbox.Dispatcher.health`) has been due for more than
    ``limit`` seconds; None when none has. A message held by design — a group waiting
    for the monitor's pass, a receiver's ``429`` wait — is not due yet (a pass longer than
    the limit made the alerts service unhealthy).

    >>> h = {"undelivered": [{"channel": "slack", "messages": 3, "failed": 2, "oldest": 0.0,
    ...                       "due": 60.0, "error": "slack answered HTTP 500"}]}
    >>> print(*overdue(h, 300, 780.0).split("; "), sep=";" + chr(10))
    slack: 3 undelivered (2 failed), the oldest for 13 min, due for 12;
    last error: slack answered HTTP 500
    >>> overdue(h, 900, 780.0) is None
    True
    """
    late = []
    for c in health.get("undelivered", []):
        due = float(c.get("due", c["oldest"]))  # (a heartbeat written before "due")
        if now - due > limit:
            why = f"; last error: {c['error']}" if c.get("error") else ""
            waited = (now - float(c["oldest"])) / 60
            since = "" if round(waited) == round((now - due) / 60) else \
                f", due for {(now - due) / 60:.0f}"
            late.append(f"{c['channel']}: {c['messages']} undelivered ({c['failed']} failed), "
                        f"the oldest for {waited:.0f} min{since}{why}")
    return "; ".join(late) or None
