"""Which model version served a span of a model's events.

An application logs each prediction with the ``model_version`` that made it
(``PredictionLogger(model_version=...)``). During a rollout two versions serve side by
side; the version that served a window is the one that made most of its predictions (of
two with as many, the one that served last). A model logged only as profiles keeps no
version: profiles merge the events.
"""

from __future__ import annotations

from datetime import datetime

from . import schema as S
from .clickhouse import Store


def serving_version(store: Store, model_id: str, start: datetime, end: datetime,
                    sampled: bool = False) -> str:
    """The version that made most of ``model_id``'s predictions timed in [start, end): its
    raw events, or with ``sampled`` its windows' samples; "" when none carries one."""
    E = S.SAMPLES if sampled else S.EVENTS
    rows = store.query(
        f"SELECT {E.model_version} FROM {E} WHERE {E.model_id} = {{m:String}} "
        f"AND {E.timestamp} >= {{a:DateTime64(3, 'UTC')}} "
        f"AND {E.timestamp} < {{b:DateTime64(3, 'UTC')}} AND {E.model_version} != '' "
        f"GROUP BY {E.model_version} ORDER BY count() DESC, max({E.timestamp}) DESC LIMIT 1",
        {"m": model_id, "a": start, "b": end})
    return str(rows[0][0]) if rows else ""
