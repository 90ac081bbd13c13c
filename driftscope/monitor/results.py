"""Writing drift_results and the record of processed windows; reading metric history.

A window counts as processed once its ``monitor_windows`` row exists. Results are written
before that row, and ``drift_results`` is a ReplacingMergeTree keyed by everything but the
computation time, so a crash in between only means the same rows are written again.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from driftscope.alerts.model import WindowVerdict
from driftscope.durations import as_utc
from driftscope.monitor.evaluate import Row, details_json
from driftscope.monitor.frame import closed_query
from driftscope.monitor.judge import QUARANTINE, Past
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.types import UNBOUNDED_SEVERITY, Window


def write_results(
    store: Store, model_id: str, monitor: str,
    windows: Sequence[tuple[Window, Sequence[Row]]], now: datetime,
) -> int:
    """Insert the rows of a batch of windows into drift_results (one insert)."""
    D = S.DRIFT_RESULTS
    out = [
        (model_id, monitor, window.start, window.end, r.segment, r.feature, r.metric,
         float(r.statistic), _finite(r.threshold), r.policy, int(bool(r.drifted)), r.p_value,
         _severity(r), int(r.n_ref), int(r.n_cur), r.fingerprint, details_json(r), now)
        for window, rows in windows for r in rows
    ]
    return store.insert(D, out, D.columns)


def _finite(x: float) -> float:
    return float(x) if x == x and abs(x) != float("inf") else 0.0


def _severity(r: Row) -> float:
    """statistic / threshold; beyond a zero threshold (a column constant in the
    reference, any change drift) :data:`~driftscope.types.UNBOUNDED_SEVERITY` (it was 0:
    the Overview's worst severity left out the drift the monitor alerted on)."""
    if not r.threshold or r.threshold != r.threshold:
        return UNBOUNDED_SEVERITY if r.drifted and r.threshold == 0 else 0.0
    value = abs(r.statistic / r.threshold)
    return value if value != float("inf") else 1e9


def mark_processed(
    store: Store, verdicts: Sequence[WindowVerdict], fingerprint: str, now: datetime
) -> None:
    """Record the windows as processed (one insert for a batch)."""
    M = S.MONITOR_WINDOWS
    rows = [
        (v.model_id, v.monitor, v.window_start, v.window_end, fingerprint, int(v.bad),
         v.n_events, json.dumps(_summary(v), sort_keys=True), now)
        for v in verdicts
    ]
    store.insert(M, rows, M.columns)


def drifted_on(v: WindowVerdict) -> list[str]:
    """The features a window's drift findings name (its summary's ``drifted``), those
    against the reference (:attr:`~driftscope.alerts.model.WindowVerdict.drifted`)."""
    return sorted({f.feature for f in v.model_drift})


def drifted_at(
    store: Store, model_id: str, monitor: str, start: datetime, size: timedelta | None = None
) -> list[str]:
    """What the stored window starting at ``start`` drifted on (none if not stored); with
    ``size``, only a window of that size counts (not one of a window size used before)."""
    M = S.MONITOR_WINDOWS
    rows = store.query(
        f"SELECT {M.summary} FROM {M} WHERE {M.model_id} = {{m:String}} "
        f"AND {M.monitor} = {{n:String}} AND {M.window_start} = {{s:DateTime64(3, 'UTC')}} "
        f"{_of_size(size)} ORDER BY {M.processed_at} DESC LIMIT 1",
        {"m": model_id, "n": monitor, "s": start, "w": _seconds(size)})
    if not rows:
        return []
    drifted = json.loads(rows[0][0]).get("drifted", [])
    return [str(f) for f in drifted] if isinstance(drifted, list) else []


UNLIKE_NORMAL = frozenset({"volume", "schema_violations"})
"""Quality metrics that do not make a window unlike the normal its neighbours are held to
(its traffic, rejected events): every other finding of drift or data quality does."""


def unlike_normal(v: WindowVerdict) -> bool:
    """Whether a window holds drift or a data-quality fault: left out of the sliding
    references of later windows (:func:`driftscope.monitor.reference.reference_windows`).
    A segment's drift against the rest of its own window (``versus_rest``: a canary unlike
    the version it joins) is not the window's traffic unlike its neighbours'
    (:attr:`~driftscope.alerts.model.WindowVerdict.drifted`)."""
    return v.drifted or any(f.kind == "quality" and f.metric not in UNLIKE_NORMAL
                            for f in v.findings)


def unlike_windows(store: Store, model_id: str, monitor: str, since: datetime,
                   until: datetime, size: timedelta | None = None) -> set[datetime]:
    """The stored windows (of ``size``) from ``since`` to ``until`` judged
    :func:`unlike_normal` as last processed (those stored before the flag was kept: the
    windows that drifted)."""
    M = S.MONITOR_WINDOWS
    rows = store.query(
        f"SELECT {M.window_start} FROM {M} WHERE {M.model_id} = {{m:String}} "
        f"AND {M.monitor} = {{n:String}} AND {M.window_start} >= {{a:DateTime64(3, 'UTC')}} "
        f"AND {M.window_start} < {{b:DateTime64(3, 'UTC')}} {_of_size(size)} "
        f"GROUP BY {M.window_start} HAVING argMax(if(JSONHas({M.summary}, 'unlike'), "
        f"JSONExtractBool({M.summary}, 'unlike'), JSONLength({M.summary}, 'drifted') > 0), "
        f"{M.processed_at})",
        {"m": model_id, "n": monitor, "a": since, "b": until, "w": _seconds(size)})
    return {as_utc(r[0]) for r in rows}


def _summary(v: WindowVerdict) -> dict[str, object]:
    return {
        "findings": len(v.findings),
        "unlike": unlike_normal(v),
        "drifted": drifted_on(v),
        "features": sorted({f.feature for f in v.findings}),
        "kinds": sorted({f.kind for f in v.findings}),
        "metrics": dict(v.metrics),
        **({"labels_start": v.labels_start.isoformat()} if v.labels_start else {}),
        **({"unjudged": sorted(v.unjudged)} if v.unjudged else {}),
        **({"judged": sorted(v.judged)} if v.judged is not None else {}),
        **({"persistence_z": round(v.persistence_z, 3), "carried": v.carried,
            "follows": v.follows}
           if v.persistence_z is not None and math.isfinite(v.persistence_z)
           else {"carried": True} if v.carried else {}),  # (a label_delay catch-up's)
    }


def processed(
    store: Store, model_id: str, monitor: str, size: timedelta | None = None,
    since: datetime | None = None,
) -> set[datetime]:
    """Starts of the windows this monitor already processed; with ``size``, of windows of
    that size only: after a window size change, a new window starting where an old one
    did is not processed yet. (A changed configuration does not reprocess history by
    itself: ``driftscope backfill`` does that on purpose.) With ``since``, those starting
    from then on only (a live pass: from :func:`read_from`)."""
    rows = store.query(
        f"SELECT DISTINCT {S.MONITOR_WINDOWS.window_start} FROM ({_done(size, since)})",
        {"m": model_id, "n": monitor, "w": _seconds(size),
         **({} if since is None else {"since": as_utc(since)})},
    )
    return {as_utc(r[0]) for r in rows}


def _done(size: timedelta | None, since: datetime | None = None) -> str:
    """The starts of a monitor's processed windows (of ``size``, from ``since`` on), a
    row per record: parameters ``m``, ``n``, ``w`` (and ``since``)."""
    M = S.MONITOR_WINDOWS
    after = "" if since is None else f" AND {M.window_start} >= {{since:DateTime64(3, 'UTC')}}"
    return (f"SELECT {M.window_start} FROM {M} WHERE {M.model_id} = {{m:String}} "
            f"AND {M.monitor} = {{n:String}} {_of_size(size)}{after}")


def read_from(
    store: Store, model_id: str, monitor: str, size: timedelta,
    until: datetime | None = None, closed_before: datetime | None = None,
    first: datetime | None = None, latest: int = 1, after: datetime | None = None,
) -> datetime | None:
    """Where a live pass's reads of this monitor's :func:`processed` windows and of the
    model's :func:`~driftscope.monitor.frame.closed_windows` (with ``until`` and
    ``closed_before``) can begin and still find all they do from the start of the store
    (None: from the start). Its windows to do begin at the earliest closed window not
    processed (a late one older than windows processed since included), or at ``first``
    (a window the pass may judge besides: a silence's), if earlier; before that, every
    closed window is processed. The reads begin at the window before it, or at the
    ``latest``-th processed window before it if earlier: they find the same windows to do,
    and the same processed ones around them (the one before each, the last one before the
    first, the ``latest`` before them), whatever the history behind. Two queries: the
    first, an anti-join in ClickHouse, still reads the whole history there (from
    ``after`` on: the windows before it are known never to be done, their data expired),
    but returns one value."""
    M = S.MONITOR_WINDOWS
    closed, params = closed_query(model_id, size, after, until, closed_before, starts=True)
    params |= {"n": monitor, "w": _seconds(size)}  # (since: closed_query's parameter)
    (todo,), = store.query(
        f"SELECT minOrNull({S.WINDOWS.window_start}) FROM ({closed}) "
        f"WHERE {S.WINDOWS.window_start} NOT IN ({_done(size, after)})", params)
    lo = min((as_utc(t) for t in (todo, first) if t is not None), default=None)
    before = "" if lo is None else f"AND {M.window_start} < {{lo:DateTime64(3, 'UTC')}}"
    got = store.query(  # (the latest first: read in the table's order)
        f"SELECT DISTINCT {M.window_start} FROM ({_done(size)} {before}) "
        f"ORDER BY {M.window_start} DESC LIMIT {{k:UInt32}}",
        {**params, "k": max(1, latest), **({} if lo is None else {"lo": lo})})
    return min([*(as_utc(r[0]) for r in got), *([] if lo is None else [lo - size])],
               default=after)  # (nothing processed, nothing to do: from after on)


def _of_size(size: timedelta | None) -> str:
    """The condition keeping windows of ``size`` (``{w:Int64}`` seconds); none for None."""
    M = S.MONITOR_WINDOWS
    if size is None:
        return ""
    return f"AND dateDiff('second', {M.window_start}, {M.window_end}) = {{w:Int64}}"


def _seconds(size: timedelta | None) -> int:
    return 0 if size is None else int(size.total_seconds())


def forget(store: Store, model_id: str, monitor: str, starts: Sequence[datetime]) -> None:
    """Forget that the windows starting at ``starts`` were processed, so that backfill
    recomputes them: those it processes again, no fewer and no more."""
    _delete_windows(store, S.MONITOR_WINDOWS, model_id, monitor, starts)


def drop_results(store: Store, model_id: str, monitor: str,
                 starts: Sequence[datetime]) -> None:
    """Delete this monitor's ``drift_results`` rows of the windows starting at ``starts``
    (a backfill, just before it writes them again): rows of every fingerprint, so that
    none the current configuration no longer makes stays beside those it makes."""
    _delete_windows(store, S.DRIFT_RESULTS, model_id, monitor, starts)


def _delete_windows(store: Store, table: S._Table, model_id: str, monitor: str,
                    starts: Sequence[datetime]) -> None:
    """Delete ``table``'s rows of this monitor's windows starting at ``starts``."""
    if starts:
        store.command(
            f"DELETE FROM {table} WHERE model_id = {{m:String}} AND monitor = {{n:String}} "
            "AND window_start IN {ws:Array(DateTime64(3, 'UTC'))}",
            {"m": model_id, "n": monitor, "ws": list(starts)},
        )


def caught_up(store: Store, model_id: str, monitor: str, since: datetime
              ) -> dict[datetime, datetime]:
    """Windows from ``since`` on whose performance a later window's pass wrote (their own
    partner ``label_delay`` later had no traffic), each with that later window."""
    D = S.DRIFT_RESULTS
    rows = store.query(
        f"SELECT {D.window_start}, any(JSONExtractString({D.details}, 'caught_up_by')) "
        f"FROM {D} WHERE {D.model_id} = {{m:String}} AND {D.monitor} = {{n:String}} "
        f"AND {D.fingerprint} = 'performance' AND {D.window_start} >= "
        f"{{a:DateTime64(3, 'UTC')}} AND JSONHas({D.details}, 'caught_up_by') "
        f"GROUP BY {D.window_start}",
        {"m": model_id, "n": monitor, "a": since})
    return {as_utc(r[0]): as_utc(datetime.fromisoformat(r[1])) for r in rows}


def metric_history(
    store: Store, model_id: str, monitor: str, before: datetime, metrics: Sequence[str],
    limit: int, since: datetime | None = None, segments: Collection[str] | None = None,
    unwritten: dict[str, datetime] | None = None,
) -> dict[tuple[str, str, str], list[Past]]:
    """Past values (oldest first) of performance metrics, keyed (segment, feature,
    metric): the latest ``limit`` × (1 + QUARANTINE) of windows where the metric was not
    bad (what is normal, however long ago an incident began), and the bad ones among and
    after them (as many at most: which good ones followed a bad one, and whether the latest
    were bad —
    :func:`driftscope.monitor.judge.usable`), each with its standard error (NaN in rows
    written before it was kept) and window start.

    ``segments``: of these segments only (a pass needs those its windows judge, not every
    campaign a segment key ever had). ``since`` (with ``segments``): the windows from
    then on are read first, and the whole history only of the segments where a metric has
    fewer good windows since, none included (an incident longer than that, a history still
    short, a customer back after a weekend away): each pass read every row the monitor
    ever wrote, 0.85 s a pass after 16 days of one-minute windows. ``unwritten`` (kept
    by the caller from pass to pass, of the segments asked for only): the segments known
    to have no row before a time, which the whole history is read from (a new campaign's
    value: its whole history is its few windows since it began)."""
    D = S.DRIFT_RESULTS
    se = (f"if(JSONHas({D.details}, 'standard_error'), "
          f"JSONExtractFloat({D.details}, 'standard_error'), nan)")
    # (the good ones that follow a bad one are not learnt, QUARANTINE of them each: read
    # enough that as many as a pass that kept them all in memory are left — with only
    # `limit`, one bad window left a history of 8 under min_history, the band off, and the
    # first windows of a fall after it learnt)
    k = limit * (1 + QUARANTINE)
    params = {"m": model_id, "n": monitor, "ms": list(metrics), "b": before, "k": k}

    def read(bad: bool, lower: datetime | None, segs: Collection[str] | None
             ) -> list[tuple[Any, ...]]:
        also = "" if lower is None else f"AND {D.window_start} >= {{a:DateTime64(3, 'UTC')}} "
        if segs is not None:
            also += f"AND {D.segment} IN {{sg:Array(String)}} "
        return store.query(
            f"SELECT {D.segment}, {D.feature}, {D.metric}, {D.window_start}, {D.statistic}, "
            f"{se} FROM {D} FINAL WHERE {D.model_id} = {{m:String}} AND {D.monitor} = "
            f"{{n:String}} AND {'' if bad else 'NOT '}{D.drifted} AND {D.metric} IN "
            f"{{ms:Array(String)}} AND {D.window_start} < {{b:DateTime64(3, 'UTC')}} {also}"
            f"ORDER BY {D.window_start} DESC LIMIT {{k:UInt32}} BY {D.segment}, {D.feature}, "
            f"{D.metric}", {**params, **({} if lower is None else {"a": lower}),
                            **({} if segs is None else {"sg": sorted(segs)})})

    def collect(segs: Collection[str] | None, lower: datetime | None
                ) -> dict[tuple[str, str, str], list[tuple[datetime, float, float, bool]]]:
        got: dict[tuple[str, str, str], list[tuple[datetime, float, float, bool]]] = {}
        for bad in (False, True):
            for seg, feat, metric, start, value, err in read(bad, lower, segs):
                got.setdefault((seg, feat, metric), []).append(
                    (as_utc(start), float(value), float(err), bad))
        return got

    if segments is None:  # (the bound holds only where the segments judged are known)
        since = None
    rows = collect(segments, since)
    if since is not None and segments is not None:
        # the good windows before `since` count where too few are after it (or none)
        good: Counter[tuple[str, str]] = Counter()
        for (seg, _, metric), got in rows.items():
            good[seg, metric] += sum(not bad for *_, bad in got)
        short = {seg for seg in segments for metric in metrics if good[seg, metric] < k}
        if short:
            rows = {key: got for key, got in rows.items() if key[0] not in short}
            known = {seg: unwritten[seg] for seg in short if unwritten and seg in unwritten}
            if known:
                rows |= collect(known, min(known.values()))
            if rest := short - known.keys():
                whole = collect(rest, None)
                rows |= whole
                if unwritten is not None:  # (none before `before`: the pass writes after)
                    unwritten |= dict.fromkeys(rest - {key[0] for key in whole}, before)
    if unwritten is not None and segments is not None:
        for seg in unwritten.keys() - set(segments):  # (a value no longer seen: forgotten)
            del unwritten[seg]
    out: dict[tuple[str, str, str], list[Past]] = {}
    for key, got in rows.items():
        oldest = min((t for t, _, _, bad in got if not bad), default=None)
        out[key] = [Past(value, err, t, bad) for t, value, err, bad in sorted(got)
                    if not bad or (oldest is not None and t >= oldest)]
    return out


def record_pass(store: Store, now: datetime, windows: int,
                monitors: Sequence[tuple[str, str]]) -> None:
    """Record that a monitor pass finished, with the windows it judged and the
    ``(model_id, monitor)`` it was configured with (a dispatcher beside the monitor waits
    for the pass; the dashboards count a backlog only for monitors still configured)."""
    P = S.MONITOR_PASSES
    store.insert(P, [(now, windows, list(monitors))], P.columns)
