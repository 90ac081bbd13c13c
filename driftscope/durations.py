"""Durations as written in driftscope.yaml and on the command line, and UTC times.

One parser and one UTC normaliser for the whole package; it imports nothing from
driftscope, so any module (``driftscope.config``, ``driftscope.monitor.config``,
``driftscope.alerts.config``, the store readers) can use it.

Examples
--------
>>> parse_duration("5m"), parse_duration(90)
(datetime.timedelta(seconds=300), datetime.timedelta(seconds=90))
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(value: Any) -> timedelta:
    """``"5m"``, ``"1h"``, ``"30s"``, ``"1d"``, ``"1w"`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError("expected a duration such as 30s, 5m, 1h, 1d or 1w")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def show_duration(d: timedelta) -> str:
    """A duration as written in driftscope.yaml: ``1h``, ``90s``, ``7d``.

    >>> show_duration(timedelta(hours=36)), show_duration(timedelta(seconds=90))
    ('36h', '90s')
    """
    seconds = int(d.total_seconds())
    for unit, n in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % n == 0:
            return f"{seconds // n}{unit}"
    return f"{seconds}s"


def as_utc(t: datetime) -> datetime:
    """An aware UTC datetime: naive ones (as clickhouse-connect returns) are taken as UTC.

    >>> as_utc(datetime(2026, 1, 1)).isoformat()
    '2026-01-01T00:00:00+00:00'
    """
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
