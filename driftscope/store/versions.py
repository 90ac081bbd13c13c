"""Which model version served a span of a model's events.

An application logs each prediction with the ``model_version`` that made it
(``PredictionLogger(model_version=...)``). During a rollout two versions serve side by
side; the version that served a window is the one that made most of its versioned
predictions (of two with as many, the one that served last; events logged without a
version, by an instance not upgraded yet, are not counted). A model logged only as
profiles keeps no version: profiles merge the events.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftscope.durations import as_utc

from . import schema as S
from .clickhouse import Store

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def serving_version(store: Store, model_id: str, start: datetime, end: datetime,
                    sample: tuple[int, int | None] | None = None) -> str | None:
    """The version that made most of ``model_id``'s versioned predictions timed in
    [start, end); "" when none of them carries one, None when there are none.

    ``sample``: read the windows' samples instead of the raw events, ``(window seconds,
    k)``: the k smallest hashes of each window and stratum, the sample a monitor reads
    (the table holds more candidates: the first events of each window among them); with
    k None, every candidate (a rough count, for a caller that does not know k)."""
    E = S.SAMPLES if sample else S.EVENTS
    params: dict[str, object] = {"m": model_id, "a": start, "b": end}
    rows_sql = (f"SELECT {E.model_version} AS v, {E.timestamp} AS t FROM {E} "
                f"WHERE {E.model_id} = {{m:String}} "
                f"AND {E.timestamp} >= {{a:DateTime64(3, 'UTC')}} "
                f"AND {E.timestamp} < {{b:DateTime64(3, 'UTC')}}")
    if sample is not None and sample[1] is not None:
        seconds, k = sample
        Sm = S.SAMPLES
        size = timedelta(seconds=seconds)  # (the window holding start: its sample's key)
        first = EPOCH + (as_utc(start) - EPOCH) // size * size
        rows_sql += (f" AND {Sm.window_seconds} = {{w:UInt32}} "
                     f"AND {Sm.window_start} >= {{ws:DateTime64(3, 'UTC')}} "
                     f"AND {Sm.window_start} < {{b:DateTime64(3, 'UTC')}} "
                     f"ORDER BY {Sm.window_start}, {Sm.stratum}, {Sm.hash}, "
                     f"{Sm.kafka_partition}, {Sm.kafka_offset} "
                     f"LIMIT {{k:UInt64}} BY {Sm.window_start}, {Sm.stratum}")
        params.update(w=seconds, k=k, ws=first)
    rows = store.query(
        f"SELECT v FROM ({rows_sql}) GROUP BY v "
        f"ORDER BY v != '' DESC, count() DESC, max(t) DESC LIMIT 1", params)
    return str(rows[0][0]) if rows else None
