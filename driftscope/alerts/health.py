"""What ``driftscope health alerts`` judges beyond the heartbeat: messages that wait.

Kept apart from :mod:`driftscope.alerts.outbox` (and its store client) so that the
healthcheck, run every few seconds, imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def overdue(health: Mapping[str, Any], limit: float, now: float) -> str | None:
    """One line naming the channels whose oldest undelivered message (per
    :meth:`driftscope.alerts.outbox.Dispatcher.health`) has waited more than ``limit``
    seconds; None when none has.

    >>> h = {"undelivered": [{"channel": "slack", "messages": 3, "failed": 2, "oldest": 0.0,
    ...                       "error": "slack answered HTTP 500"}]}
    >>> overdue(h, 300, 720.0)
    'slack: 3 undelivered (2 failed), the oldest for 12 min; last error: slack answered HTTP 500'
    >>> overdue(h, 900, 720.0) is None
    True
    """
    late = []
    for c in health.get("undelivered", []):
        waited = now - float(c["oldest"])
        if waited > limit:
            why = f"; last error: {c['error']}" if c.get("error") else ""
            late.append(f"{c['channel']}: {c['messages']} undelivered ({c['failed']} failed), "
                        f"the oldest for {waited / 60:.0f} min{why}")
    return "; ".join(late) or None
