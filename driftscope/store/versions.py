"""Which model version served a span of a model's events.

An application logs each prediction with the ``model_version`` that made it
(``PredictionLogger(model_version=...)``). During a rollout two versions serve side by
side; the version that served a window is the one that made most of its versioned
predictions (of two with as many, the one that served last; events logged without a
version, by an instance not upgraded yet, are not counted). A model logged only as
profiles keeps no version: profiles merge the events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from driftscope.durations import as_utc

from . import schema as S
from .clickhouse import Store
from .samples import EPOCH, bottom_k, bottom_k_params


def serving_version(store: Store, model_id: str, start: datetime, end: datetime,
                    sample: tuple[int, int | None] | None = None) -> str | None:
    """The version that made most of ``model_id``'s versioned predictions timed in
    [start, end); "" when none of them carries one, None when there are none.

    ``sample``: read the windows' samples instead of the raw events, ``(window seconds,
    k)``: the k smallest hashes of each window and stratum, the sample a monitor reads
    (the table holds more candidates: the first events of each window among them); with
    k None, every candidate (a rough count, for a caller that does not know k)."""
    return serving_versions(store, model_id, start, end, None, sample).get(as_utc(start))


def serving_versions(store: Store, model_id: str, start: datetime, end: datetime,
                     size: timedelta | None,
                     sample: tuple[int, int | None] | None = None,
                     on_time: bool = False) -> dict[datetime, str]:
    """:func:`serving_version` of each window of ``size`` in [start, end) that holds
    events, by its start, in one query (``size`` None: [start, end) as one window);
    ``on_time``: of the raw events that came while their window was open only (what it
    held when it closed: a late batch from an old instance does not change it)."""
    E = S.SAMPLES if sample else S.EVENTS
    params: dict[str, object] = {"m": model_id, "a": start, "b": end}
    key = f"{S.SAMPLES.window_start}" if sample and sample[1] is not None else E.timestamp
    bucket = "0" if size is None else \
        f"intDiv(toUnixTimestamp64Milli({key}), {int(size.total_seconds() * 1000)})"
    rows_sql = (f"SELECT {bucket} AS w, {E.model_version} AS v, {E.timestamp} AS t FROM {E} "
                f"WHERE {E.model_id} = {{m:String}} "
                f"AND {E.timestamp} >= {{a:DateTime64(3, 'UTC')}} "
                f"AND {E.timestamp} < {{b:DateTime64(3, 'UTC')}}"
                + (f" AND NOT {S.EVENTS.late}" if on_time and not sample else ""))
    if sample is not None and sample[1] is not None:  # (the monitor's read of it)
        where, order = bottom_k()
        rows_sql += f"{where} ORDER BY {order}"
        params.update(bottom_k_params(start, sample[0], sample[1]))
    rows = store.query(
        f"SELECT w, argMax(v, (v != '', n, last)) FROM (SELECT w, v, count() AS n, "
        f"max(t) AS last FROM ({rows_sql}) GROUP BY w, v) GROUP BY w", params)
    if size is None:
        return {as_utc(start): str(v) for _, v in rows}
    return {EPOCH + int(w) * size: str(v) for w, v in rows}
