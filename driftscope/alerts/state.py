"""Alert state in the store: the ``alerts`` table, silences, and each pair's track.

``alerts`` is a ReplacingMergeTree on ``updated_at``: every state change inserts a new
version of the alert's row, read back with ``FINAL``. Versions of one alert get strictly
increasing ``updated_at`` even within one millisecond.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from driftscope.alerts.rules import (
    OPEN_STATES,
    RESOLVED,
    RULE,
    Alert,
    Track,
    acknowledge,
    drift_held,
    features_of,
    gap,
    next_drift,
    next_streak,
    next_wait,
    shares,
    waits,
)
from driftscope.durations import as_utc
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

AlertRow = tuple[Alert, str, dict[str, Any]]

A, M, SIL = S.ALERTS, S.MONITOR_WINDOWS, S.ALERT_SILENCES
_MS = timedelta(milliseconds=1)


class AlertStore:
    """Reads and writes alerts, silences and tracks."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._stamp: dict[str, datetime] = {}
        self._silences: list[tuple[str, str, datetime]] | None = None

    # -- alerts -----------------------------------------------------------------
    def save(self, alert: Alert, summary: str, details: dict[str, Any], now: datetime) -> None:
        """Insert a new version of the alert's row."""
        prev = self._stamp.get(alert.alert_id) or self._updated_at(alert.alert_id)
        stamp = max(as_utc(now), prev + _MS) if prev else as_utc(now)
        self._stamp[alert.alert_id] = stamp
        body = {**details, "last_window": alert.last_window.isoformat(), "windows": alert.windows,
                "notified": alert.notified, "reason": alert.reason,
                "notified_at": alert.notified_at.isoformat() if alert.notified_at else None,
                "kinds": sorted(alert.kinds), "seen": sorted(alert.seen),
                "escalated": sorted(alert.escalated),
                "escalated_at": alert.escalated_at.isoformat() if alert.escalated_at else None,
                "told_resolved": alert.told_resolved,
                **({"unjudged_since": alert.unjudged_since.isoformat(),
                    "unjudged_for": alert.unjudged_for.total_seconds()}
                   if alert.unjudged_since else {})}
        self.store.insert(A, [(alert.alert_id, alert.model_id, alert.monitor, alert.opened_window,
                               RULE, alert.state, float(alert.severity), summary,
                               json.dumps(body, sort_keys=True, default=str), stamp, stamp)],
                          A.columns)

    def _updated_at(self, alert_id: str) -> datetime | None:
        rows = self.store.query(f"SELECT max({A.updated_at}) FROM {A} WHERE {A.alert_id} = "
                                "{a:String}", {"a": alert_id})
        value = rows[0][0] if rows else None
        return None if value is None or value.year < 1971 else as_utc(value)

    def get(self, alert_id: str) -> AlertRow | None:
        rows = self._select(f"{A.alert_id} = {{a:String}}", {"a": alert_id})
        return rows[0] if rows else None

    def recent(self, state: str | None = None, model_id: str | None = None,
             limit: int = 50) -> list[AlertRow]:
        """Alerts, newest first; optionally one state or model."""
        where, params = ["1"], {}
        if state:
            where.append(f"{A.state} = {{s:String}}")
            params["s"] = state
        if model_id:
            where.append(f"{A.model_id} = {{m:String}}")
            params["m"] = model_id
        return self._select(" AND ".join(where), params, limit)

    def _select(self, where: str, params: dict[str, Any],
                limit: int = 50) -> list[AlertRow]:
        rows = self.store.query(
            f"SELECT {A.alert_id}, {A.model_id}, {A.monitor}, {A.window_start}, {A.state}, "
            f"{A.severity}, {A.summary}, {A.details} FROM {A} FINAL WHERE {where} "
            f"ORDER BY {A.window_start} DESC, {A.updated_at} DESC LIMIT {int(limit)}", params)
        out = []
        for aid, model, monitor, opened, state, sev, summary, details in rows:
            d = json.loads(details or "{}")
            last = datetime.fromisoformat(d.get("last_window", as_utc(opened).isoformat()))
            # (alerts stored before kinds were kept: those of the last window's findings)
            kinds = d["kinds"] if "kinds" in d else [f.get("kind") for f in d.get("findings", [])]
            told = frozenset(k for k in kinds if k)
            alert = Alert(aid, model, monitor, as_utc(opened), last, state, float(sev),
                          int(d.get("windows", 1)), bool(d.get("notified")), d.get("reason", ""),
                          _time(d.get("notified_at")), told,
                          frozenset(d.get("escalated") or ()), _time(d.get("escalated_at")),
                          frozenset(d["seen"]) if "seen" in d else told,
                          _time(d.get("unjudged_since")),
                          timedelta(seconds=float(d.get("unjudged_for") or 0)),
                          bool(d.get("told_resolved")))
            out.append((alert, summary, d))
        return out

    def pair(self, model_id: str, monitor: str, limit: int = 1000) -> list[AlertRow]:
        """A model × monitor's alerts, newest first."""
        return self._select(f"{A.model_id} = {{m:String}} AND {A.monitor} = {{n:String}}",
                            {"m": model_id, "n": monitor}, limit)

    def open_alerts(self) -> list[AlertRow]:
        """Every firing or acknowledged alert."""
        return self._select(f"{A.state} IN ({{f:String}}, {{k:String}})",
                            {"f": OPEN_STATES[0], "k": OPEN_STATES[1]}, 10_000)

    def resolve(self, alert_id: str, who: str, now: datetime) -> Alert | None:
        """Close an open alert by hand (its monitor was removed): resolved, with who did it
        in its details; None when no open alert has that id."""
        found = self.get(alert_id)
        if found is None or found[0].state not in OPEN_STATES:
            return None
        alert, summary, details = found
        done = replace(alert, state=RESOLVED, reason="resolved by hand")
        self.save(done, summary, {**details, "resolved_by": who}, now)
        return done

    def ids_starting(self, prefix: str, limit: int = 3) -> list[str]:
        """Alert ids that start with ``prefix`` (at most ``limit``, sorted)."""
        rows = self.store.query(
            f"SELECT DISTINCT {A.alert_id} FROM {A} WHERE startsWith({A.alert_id}, {{p:String}}) "
            f"ORDER BY {A.alert_id} LIMIT {int(limit)}", {"p": prefix})
        return [r[0] for r in rows]

    def acknowledge(self, alert_id: str, who: str, now: datetime) -> Alert | None:
        found = self.get(alert_id)
        if found is None:
            return None
        alert, summary, details = found
        if alert.state == RESOLVED:  # over: nothing to acknowledge, nothing written
            return alert
        acked = acknowledge(alert)
        self.save(acked, summary, {**details, "acknowledged_by": who}, now)
        return acked

    # -- silences ----------------------------------------------------------------
    def silence(self, model_id: str, monitor: str, until: datetime, reason: str,
                now: datetime) -> str:
        sid = uuid.uuid4().hex[:12]
        self.store.insert(SIL, [(sid, model_id, monitor, as_utc(until), reason, as_utc(now))],
                          SIL.columns)
        return sid

    def active_silences(self, at: datetime) -> list[tuple[str, str, str, datetime, str]]:
        """(id, model, monitor, until, reason) of the silences in force at ``at``."""
        rows = self.store.query(
            f"SELECT {SIL.silence_id}, {SIL.model_id}, {SIL.monitor}, {SIL.until}, "
            f"{SIL.reason} FROM {SIL} FINAL WHERE {SIL.until} > {{t:DateTime64(3, 'UTC')}} "
            f"ORDER BY {SIL.until}, {SIL.silence_id}", {"t": as_utc(at)})
        return [(r[0], r[1], r[2], as_utc(r[3]), r[4]) for r in rows]

    def end_silence(self, silence_id: str, now: datetime) -> bool:
        """End a silence in force now (a new version of its row); False if none is.

        The versions it replaces are deleted: under ``store.retention.results`` rows are
        dated by their end, so the ended version, ending first, would expire first and
        bring the silence back until its first end (migration 207 clears stores that
        kept them)."""
        for sid, model, monitor, _, reason in self.active_silences(now):
            if sid == silence_id:
                version = as_utc(now) + _MS
                self.store.insert(SIL, [(sid, model, monitor, as_utc(now), reason, version)],
                                  SIL.columns)
                self.store.command(
                    f"DELETE FROM {SIL} WHERE {SIL.silence_id} = {{s:String}} AND "
                    f"{SIL.created_at} < {{v:DateTime64(3, 'UTC')}}", {"s": sid, "v": version})
                self._silences = None
                return True
        return False

    def silenced(self, model_id: str, monitor: str, at: datetime, cached: bool = False) -> bool:
        """Whether a silence covers this model × monitor at ``at`` (``*`` matches any).

        With ``cached`` the silences are read once per :class:`AlertStore` (one pass).
        """
        if cached:
            if self._silences is None:
                self._silences = [(r[0], r[1], as_utc(r[2])) for r in self.store.query(
                    f"SELECT {SIL.model_id}, {SIL.monitor}, {SIL.until} FROM {SIL} FINAL")]
            return any(m in (model_id, "*") and n in (monitor, "*") and until > as_utc(at)
                       for m, n, until in self._silences)
        n = self.store.count(
            f"{SIL} FINAL",
            f"{SIL.model_id} IN ({{m:String}}, '*') AND {SIL.monitor} IN ({{n:String}}, '*') "
            f"AND {SIL.until} > {{t:DateTime64(3, 'UTC')}}",
            m=model_id, n=monitor, t=as_utc(at),
        )
        return n > 0

    # -- tracks ------------------------------------------------------------------
    def track(self, model_id: str, monitor: str, lookback: int = 50,
              before: datetime | None = None) -> Track:
        """Rebuild a pair's track from processed windows and its latest alerts (an open
        one first: a backfill that re-judged older windows may have opened one before the
        latest, resolved, alert). ``before``: the streaks of the windows before that start
        only (a backfill re-judging from there; :meth:`AlertEngine.recall`)."""
        bound = "" if before is None else f"AND {M.window_start} < {{b:DateTime64(3, 'UTC')}} "
        rows = self.store.query(
            f"SELECT {M.window_start}, {M.bad}, "
            f"length(JSONExtractArrayRaw({M.summary}, 'drifted')) > 0, "
            f"JSONExtractBool({M.summary}, 'carried'), "
            f"NOT JSONHas({M.summary}, 'follows') OR JSONExtractBool({M.summary}, 'follows'), "
            f"JSONExtract({M.summary}, 'features', 'Array(String)'), {M.window_end}, "
            f"JSONExtract({M.summary}, 'unjudged', 'Array(String)'), "
            f"JSONExtract({M.summary}, 'kinds', 'Array(String)'), "
            f"JSONHas({M.summary}, 'judged'), "
            f"JSONExtract({M.summary}, 'judged', 'Array(String)') "
            f"FROM {M} FINAL WHERE {M.model_id} = {{m:String}} "
            f"AND {M.monitor} = {{n:String}} {bound}"
            f"ORDER BY {M.window_start} DESC LIMIT {{k:UInt32}}",
            {"m": model_id, "n": monitor, "k": lookback,
             **({} if before is None else {"b": as_utc(before)})},
        )
        alerts = self._select(f"{A.model_id} = {{m:String}} AND {A.monitor} = {{n:String}}",
                              {"m": model_id, "n": monitor}, 20)
        alerts.sort(key=lambda r: r[0].state not in OPEN_STATES)  # (stable: newest first)
        current = alerts[0][0] if alerts else None
        if current is not None and "seen" not in alerts[0][2]:  # stored before it was kept
            current = replace(current, seen=current.seen | _seen(rows, current.opened_window))
        waits_for = current.seen if current and current.state in OPEN_STATES else frozenset()
        last = as_utc(rows[0][0]) if rows else None
        end = as_utc(rows[0][6]) if rows else None
        bad = points = good = drift = 0
        named: frozenset[str] = frozenset()
        prev: datetime | None = None
        since: datetime | None = None  # Track.waiting_since
        waited = timedelta(0)
        for r in reversed(rows):  # the streak rules replayed, oldest first (as in step)
            if gap(prev, as_utc(r[0])):
                bad = points = drift = 0
                named = frozenset()
            now = features_of(r[5]) if r[1] else frozenset()
            bad, points = next_streak(bad, points, bool(r[1]), bool(r[4]) and shares(named, now),
                                      bool(r[3]))
            # as in step: no good window for it (a summary stored before ``judged`` was
            # kept tested every segment it could)
            judged = r[10] if r[9] else None
            waiting = not r[1] and waits(waits_for, r[7], judged)
            good = 0 if r[1] else good + (0 if waiting else 1)
            since, waited = next_wait(since, waited, as_utc(r[0]), as_utc(r[6]), waiting)
            drift = next_drift(drift, bool(r[2]), drift_held(waits_for, r[7], judged))
            named, prev = now, as_utc(r[6])
        kept = current.unjudged_since if current is not None else None
        if since is not None and kept is not None and current is not None and kept < since:
            # a wait longer than the windows read back: the alert kept it (saved each window)
            since, waited = kept, max(waited, current.unjudged_for)
        ahead = None  # the alert saw windows not recorded yet (a crash between the two)
        if current is not None and last is not None and current.last_window > last:
            ahead = current.last_window
        notified = [a.notified_at for a, _, _ in alerts if a.notified_at is not None]
        return Track(last, bad, good, current, max(notified, default=None), drift, points, named,
                     end, ahead, since, waited)


def _seen(rows: list[tuple[Any, ...]], opened: datetime) -> frozenset[str]:
    """The kinds of problem the rebuilt windows found from ``opened`` on (the summary's
    ``kinds``: a window with no event is ``quality`` there, not ``silence``)."""
    return frozenset(k for r in rows if r[1] and as_utc(r[0]) >= opened for k in r[8])


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def is_open(alert: Alert | None) -> bool:
    return alert is not None and alert.state in OPEN_STATES
