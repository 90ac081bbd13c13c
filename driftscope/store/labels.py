"""How a stored prediction gets its label, for every read that joins one.

An event's label is the latest feedback given for its ``event_id`` from ``skew`` before
the event's time to ``horizon`` after it (``collector.feedback_skew``: clocks of two
services apart; ``collector.feedback_horizon``: how late a label may come), else the label
sent with the prediction, else None. Of two feedback labels given at the same time, the one
stored last wins.

``feedback`` has a projection ordered by (model, time) (migration 206), so a read scans
only the feedback given from its range's start less the skew to its end plus the horizon —
a few minutes' labels for a live window — not every label the model was ever given.
"""

from __future__ import annotations

from datetime import timedelta

from . import schema as s

DEFAULT_HORIZON = timedelta(days=7)
DEFAULT_SKEW = timedelta(hours=1)


def label_join(events: s._Table, in_range: str, since: str, until: str) -> tuple[str, str]:
    """The label expression and the ``LEFT JOIN`` it needs, for rows of ``events`` (alias
    ``e``) matching ``in_range``. ``since`` and ``until``: SQL times no later and no earlier
    than any matched event's (the feedback read lies between them, less the skew and plus
    the horizon).

    Query parameters: ``m`` (the model), ``h`` (the horizon) and ``sk`` (the skew), both in
    milliseconds (:func:`params`). ``n`` is 0 where no feedback matched (a LEFT JOIN fills
    defaults, not NULL).
    """
    F = s.FEEDBACK
    return f"if(f.n > 0, f.fb, e.{events.label})", (
        f" LEFT JOIN (SELECT fl.{F.event_id} AS event_id, "
        f"argMax(fl.{F.label}, (fl.{F.timestamp}, fl.{F.ingested_at}, fl.{F.kafka_offset})) "
        f"AS fb, "
        f"count() AS n FROM {F} AS fl "
        f"INNER JOIN (SELECT {events.event_id}, max({events.timestamp}) AS ets "
        f"FROM {events} AS e WHERE {in_range} GROUP BY {events.event_id}) AS ev "
        f"ON fl.{F.event_id} = ev.{events.event_id} "
        f"WHERE fl.{F.model_id} = {{m:String}} "
        f"AND fl.{F.timestamp} >= {since} - toIntervalMillisecond({{sk:Int64}}) "
        f"AND fl.{F.timestamp} <= {until} + toIntervalMillisecond({{h:Int64}}) "
        f"AND fl.{F.timestamp} >= ev.ets - toIntervalMillisecond({{sk:Int64}}) "
        f"AND fl.{F.timestamp} <= ev.ets + toIntervalMillisecond({{h:Int64}}) "
        f"GROUP BY fl.{F.event_id}) AS f ON e.{events.event_id} = f.event_id")


def params(horizon: timedelta, skew: timedelta) -> dict[str, int]:
    """The query parameters :func:`label_join` needs besides the model."""
    return {"h": _ms(horizon), "sk": _ms(skew)}


def _ms(d: timedelta) -> int:
    return int(d.total_seconds() * 1000)
