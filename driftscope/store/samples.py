"""Which stored sample candidates are a window's sample.

The collector keeps, per window and stratum, more candidates than the sample's ``k`` (the
first events of a window among them, driftscope.collector.sampling); a window's sample is
its ``k`` smallest hashes per stratum. Every read of a sample picks them the same way:
the monitor's reads (driftscope.monitor.frame.read_events) and the version that served a
window (driftscope.store.versions).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from driftscope.durations import as_utc

from . import schema as S

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def floor_window(t: datetime, size: timedelta) -> datetime:
    """The start of the window of ``size`` holding ``t`` (windows start on multiples of
    their size since the epoch)."""
    return EPOCH + ((t - EPOCH) // size) * size


def bottom_k(alias: str = "") -> tuple[str, str]:
    """The conditions (to AND to a read of ``samples`` timed in [start, end)) and the
    ``ORDER BY`` tail that keep the k smallest hashes of each window and stratum of the
    windows from the one holding ``start`` to ``end``. Query parameters:
    :func:`bottom_k_params`, with ``b`` the range's end."""
    p = f"{alias}." if alias else ""
    Sm = S.SAMPLES
    where = (f" AND {p}{Sm.window_seconds} = {{w:UInt32}} AND "
             f"{p}{Sm.window_start} >= {{ws:DateTime64(3, 'UTC')}} AND "
             f"{p}{Sm.window_start} < {{b:DateTime64(3, 'UTC')}}")
    order = (f"{p}{Sm.window_start}, {p}{Sm.stratum}, {p}{Sm.hash}, "
             f"{p}{Sm.kafka_partition}, {p}{Sm.kafka_offset} LIMIT {{k:UInt64}} BY "
             f"{p}{Sm.window_start}, {p}{Sm.stratum}")
    return where, order


def bottom_k_params(start: datetime, seconds: int, k: int) -> dict[str, object]:
    """The parameters of :func:`bottom_k` but ``b``: windows of ``seconds``, ``k`` a
    stratum, from the window holding ``start``."""
    return {"w": seconds, "k": k, "ws": floor_window(as_utc(start), timedelta(seconds=seconds))}
