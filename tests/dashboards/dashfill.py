"""A store filled from simulated scenarios: 2 models × 48 hourly windows, drift at half.

Events and the reference come from :mod:`driftscope.simulators` (``churn``: an
instantaneous covariate shift; ``fraud``: a gradual one). The monitor-side rows
(drift_results, alerts, retrain requests) are computed here from those events with simple
statistics (standardised mean shift for numbers, L-inf between category shares) and shaped
as driftscope/monitor/evaluate.py writes them, so every panel has realistic data to read.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from driftscope.dashboards.build import ALL_VALUES
from driftscope.dashboards.macros import ALL, expand
from driftscope.dashboards.spec import PanelSpec
from driftscope.simulators.scenarios import Clock, get_scenario
from driftscope.store import schema
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
N_WINDOWS = 48
WINDOW = timedelta(hours=1)
T1 = T0 + N_WINDOWS * WINDOW
MODELS = {"churn": "instantaneous-covariate", "fraud": "gradual-covariate"}
FEATURES = ("age", "latency_ms", "plan")
DRIFTING = "age"
SEGMENTS = ("*", "region=north")
MONITOR = "default"
ALERTS_MONITOR = "features"
PER_WINDOW = 100
THRESHOLDS = {"mean_shift": 0.35, "linf": 0.15}


def filled_database(dsn: str, prefix: str, fill_with: Callable[[Store], None]) -> Iterator[Store]:
    """A fresh migrated database under ``dsn``, filled by ``fill_with``, dropped after
    (the body of a module-scoped fixture)."""
    s = Store(dsn, database=f"{prefix}_{uuid.uuid4().hex[:10]}")
    s.migrate()
    fill_with(s)
    try:
        yield s
    finally:
        s.drop_database()


def _insert(store: Store, table: schema._Table, dicts: list[dict[str, Any]]) -> None:
    cols = [c for c in table.columns if c in dicts[0]]
    store.insert(table, [[d[c] for c in cols] for d in dicts], cols)


def window_parts(events: list[dict[str, Any]], size: timedelta = WINDOW) -> list[dict[str, Any]]:
    """The collector's ``window_parts`` of stored ``events``: one flush per model, window
    and partition, made when its last event was ingested (every logging mode writes them)."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    parts: dict[tuple[str, datetime, int], list[dict[str, Any]]] = {}
    for e in events:
        start = epoch + ((e["timestamp"] - epoch) // size) * size
        parts.setdefault((e["model_id"], start, e["kafka_partition"]), []).append(e)
    return [{"model_id": m, "window_start": start, "window_seconds": int(size.total_seconds()),
             "kafka_partition": p, "first_offset": min(e["kafka_offset"] for e in evs),
             "last_offset": max(e["kafka_offset"] for e in evs), "n": len(evs),
             "n_late": sum(e["late"] for e in evs),
             "max_event_time": max(e["timestamp"] for e in evs),
             "created_at": max(e["ingested_at"] for e in evs)}
            for (m, start, p), evs in parts.items()]


def _row(model: str, ev: dict[str, Any], offset: int) -> dict[str, Any]:
    feats = ev["features"]
    nums = {k: float(v) for k, v in feats.items() if isinstance(v, float | int)}
    cats = {k: str(v) for k, v in feats.items() if isinstance(v, str)}
    score = 1 / (1 + np.exp(-(nums.get("age", 40.0) - 40.0) / 10))
    return {
        "model_id": model, "model_version": "1", "event_id": ev["event_id"],
        "timestamp": ev["timestamp"], "features_num": nums, "features_cat": cats,
        "features_null": sorted(k for k, v in feats.items() if v is None),
        "pred_num": {"score": float(score)}, "pred_cat": {"label": str(int(score > 0.5))},
        "pred_probs": {}, "label": str(ev["label"]) if offset % 3 == 0 else None,
        "segments": ev["segments"], "late": int(offset % 40 == 0),
        "ingested_at": ev["timestamp"], "kafka_partition": offset % 4, "kafka_offset": offset,
    }


def _result(model: str, fp: str, start: datetime, segment: str, feature: str,
            metric: str, statistic: float, threshold: float, policy: str = "constant",
            ) -> dict[str, Any]:
    """A row as driftscope/monitor/evaluate.py writes it (kind told by fingerprint)."""
    return {
        "model_id": model, "monitor": MONITOR, "window_start": start,
        "window_end": start + WINDOW, "segment": segment, "feature": feature, "metric": metric,
        "statistic": float(statistic), "threshold": threshold, "policy": policy,
        "drifted": int(statistic > threshold), "p_value": None,
        "severity": float(statistic / threshold) if threshold else 0.0, "n_ref": 400,
        "n_cur": PER_WINDOW, "fingerprint": fp, "details": "{}", "computed_at": start + WINDOW,
    }


def _shares(values: list[str]) -> dict[str, float]:
    counts = Counter(values)
    return {k: c / max(len(values), 1) for k, c in counts.items()}


def _statistic(feature: str, cur: list[dict[str, Any]], ref: list[dict[str, Any]]) -> float:
    if feature in ref[0]["features_cat"]:
        a = _shares([r["features_cat"].get(feature, "") for r in cur])
        b = _shares([r["features_cat"].get(feature, "") for r in ref])
        return max(abs(a.get(k, 0) - b.get(k, 0)) for k in set(a) | set(b))
    x = [r["features_num"][feature] for r in cur if feature in r["features_num"]]
    y = [r["features_num"][feature] for r in ref if feature in r["features_num"]]
    return abs(float(np.mean(x)) - float(np.mean(y))) / (float(np.std(y)) or 1.0)


def _window_results(model: str, start: datetime, cur: list[dict[str, Any]],
                    ref: list[dict[str, Any]], w: int) -> list[dict[str, Any]]:
    out = []
    for seg in SEGMENTS:
        rows = cur if seg == "*" else [r for r in cur if r["segments"].get("region") == "north"]
        shifts = []
        for f in FEATURES:
            metric = "linf" if f == "plan" else "mean_shift"
            stat = _statistic(f, rows, ref)
            shifts.append(stat)
            out.append(_result(model, f"fp-{metric}", start, seg, f, metric, stat,
                               THRESHOLDS[metric]))
        labelled = [r for r in rows if r["label"] is not None]
        accuracy = np.mean([r["label"] == r["pred_cat"]["label"] for r in labelled])
        score = np.mean([r["pred_num"]["score"] for r in rows])
        ref_score = np.mean([r["pred_num"]["score"] for r in ref])
        band = w >= 8  # the monitor's predicted range needs history first
        out += [
            _result(model, "performance", start, seg, "*", "accuracy", accuracy,
                    0.6 if band else 0.0, "band" if band else "none"),
            _result(model, "fp-emd", start, seg, "output:score", "emd",
                    abs(score - ref_score), 0.1),
            _result(model, "fp-mmd", start, seg, "multivariate", "mmd",
                    float(np.mean(shifts)) ** 2, 0.05),
            _result(model, "fp-mean_shift", start, seg, "projection:pca.0", "mean_shift",
                    float(np.mean(shifts[:2])), 0.35),
        ]
    for f in FEATURES:
        missing = np.mean([f in r["features_null"] for r in cur])
        out.append(_result(model, "quality", start, "*", f, "missing_rate", missing, 0.1,
                           "limit"))
    out.append(_result(model, "quality", start, "*", "*", "volume", 0.5, 3.0, "limit"))
    return out


def _simulate(model: str, scenario: str, seed: int) -> tuple[list[dict[str, Any]],
                                                              list[dict[str, Any]]]:
    sc = get_scenario(scenario)
    clock = Clock(start=T0, events_per_second=PER_WINDOW / 3600)
    stream = sc.generate(np.random.default_rng(seed), N_WINDOWS * PER_WINDOW, onset=0.5,
                         intensity="high", clock=clock)
    events = [_row(model, ev, i) for i, ev in enumerate(stream.events())]
    ref_stream = sc.generate(np.random.default_rng(seed + 100), 400, onset=1.0,
                             clock=Clock(start=T0 - timedelta(days=2)))
    ref = [_row(model, ev, i) for i, ev in enumerate(ref_stream.events())]
    return events, ref


def fill(store: Store, seed: int = 7) -> None:
    """Write every table the dashboards read."""
    events, results, windows, stats, feedback = [], [], [], [], []
    for k, (model, scenario) in enumerate(MODELS.items()):
        evs, ref = _simulate(model, scenario, seed + k)
        _insert(store, schema.REFERENCE_EVENTS, [
            {c: r[c] for c in schema.REFERENCE_EVENTS.columns if c in r}
            | {"reference_name": f"{model}-baseline"} for r in ref])
        _insert(store, schema.REFERENCES, [  # as `driftscope reference upload` records it
            {"model_id": model, "name": f"{model}-baseline", "kind": "dataset", "spec": "{}",
             "n_rows": len(ref), "created_at": T0 - timedelta(days=1)}])
        events += evs
        for w in range(N_WINDOWS):
            start = T0 + w * WINDOW
            cur = evs[w * PER_WINDOW:(w + 1) * PER_WINDOW]
            windows.append({"model_id": model, "window_start": start, "window_end": start + WINDOW,
                            "window_seconds": 3600, "n_events": len(cur),
                            "n_late": sum(r["late"] for r in cur), "closed_at": start + WINDOW})
            results += _window_results(model, start, cur, ref, w)
            feedback.append({"model_id": model, "event_id": cur[1]["event_id"],
                             "label": "1", "timestamp": start + timedelta(minutes=30),
                             "ingested_at": start + timedelta(minutes=31),
                             "kafka_partition": 0, "kafka_offset": w})
    for w in range(N_WINDOWS * 4):
        at = T0 + w * WINDOW / 4 + timedelta(seconds=5)
        stats.append({"flushed_at": at, "collector_id": f"c{w % 2}", "consumed": 210,
                      "stored": 200, "dead_lettered": 10, "late": w % 4, "batch_size": 200,
                      "flush_ms": 20.0 + w % 7, "lag": 100 - w % 50})
    _insert(store, schema.EVENTS, events)
    _insert(store, schema.WINDOW_PARTS, window_parts(events))
    spans: dict[tuple[str, str], list[datetime]] = {}  # the collector's model_versions rows
    for e in events:
        spans.setdefault((e["model_id"], e["model_version"]), []).append(e["timestamp"])
    _insert(store, schema.MODEL_VERSIONS, [
        {"model_id": m, "model_version": v, "first_seen": min(ts), "last_seen": max(ts)}
        for (m, v), ts in spans.items()])
    _insert(store, schema.WINDOWS, windows)
    _insert(store, schema.DRIFT_RESULTS, results)
    _insert(store, schema.MONITOR_WINDOWS, [  # each window judged 10-50 s after it closed
        {"model_id": w["model_id"], "monitor": MONITOR, "window_start": w["window_start"],
         "window_end": w["window_end"], "fingerprint": "fp", "bad": 0, "n_cur": w["n_events"],
         "summary": "{}", "processed_at": w["closed_at"] + timedelta(seconds=10 * (k % 5 + 1))}
        for k, w in enumerate(windows)])
    keep_monitor_passes(store)
    _insert(store, schema.MONITOR_PASSES, [  # a pass a minute after each hour, its 2 windows
        {"finished_at": T0 + (w + 1) * WINDOW + timedelta(minutes=1), "windows": len(MODELS)}
        for w in range(N_WINDOWS)])
    _insert(store, schema.FEEDBACK, feedback)
    _insert(store, schema.COLLECTOR_STATS, stats)
    _insert(store, schema.DEAD_LETTERS, _dead_letters())
    _insert(store, schema.ALERTS, _alerts())
    _insert(store, schema.ALERT_OUTBOX, [  # each alert sent to Slack, at the second attempt
        {"delivery_id": f"{a['alert_id']}:firing:slack", "alert_id": a["alert_id"],
         "kind": "firing", "channel": "slack", "payload": "{}", "status": "sent", "attempts": 2,
         "last_error": "", "created_at": a["created_at"],
         "updated_at": a["created_at"] + timedelta(seconds=40), "version": 1, "group_key": "",
         "send_key": f"{a['alert_id']}:firing:slack"} for a in _alerts()])
    _insert(store, schema.RETRAIN_REQUESTS, [
        {"request_id": f"rq-{m}", "model_id": m, "policy": "drift",
         "window_start": T0 + 27 * WINDOW, "window_end": T0 + 28 * WINDOW,
         "train_since": T0 + 24 * WINDOW, "train_until": T0 + 28 * WINDOW,
         "evidence": "{}", "created_at": T0 + 28 * WINDOW}
        for m in MODELS])


def keep_monitor_passes(store: Store) -> None:
    """Let ``monitor_passes`` keep rows of any date: its 7-day TTL drops older rows as they
    are inserted, and the fills are dated months ago."""
    store.command(f"ALTER TABLE {schema.MONITOR_PASSES} REMOVE TTL")


def _dead_letters() -> list[dict[str, Any]]:
    out = []
    for i, reason in enumerate(["schema", "malformed_json", "schema", "oversized"] * 12):
        out.append({"topic": "driftscope.predictions", "kafka_partition": i % 4,
                    "kafka_offset": 1000 + i, "model_id": list(MODELS)[i % 2] if i % 3 else "",
                    "reason": reason, "error": f"{reason}: bad", "raw": "{}", "raw_size": 2,
                    "received_at": T0 + i * WINDOW + timedelta(minutes=7)})
    return out


def _alerts() -> list[dict[str, Any]]:
    out = []
    for model in MODELS:
        for w, rule, state in ((26, "feature_drift", "firing"), (30, "performance", "resolved"),
                               (32, "data_quality", "firing")):
            start = T0 + w * WINDOW
            out.append({"alert_id": f"{model}-{rule}-{w}", "model_id": model,
                        "monitor": ALERTS_MONITOR, "window_start": start, "rule": rule,
                        "state": state, "severity": 1.5, "summary": f"{rule} on {model}",
                        "details": json.dumps({"features": [DRIFTING]}),
                        "created_at": start + WINDOW, "updated_at": start + WINDOW})
    return out


def variables(model: str = "churn") -> dict[str, list[str]]:
    """Template variables as Grafana would set them with everything selected (the monitor
    variable's *All*: pass ``all_values``, :data:`driftscope.dashboards.build.ALL_VALUES`)."""
    return {"model": [model], "monitor": [ALL], "feature": list(FEATURES),
            "segment": ["all", "region=north"]}


def panel_rows(store: Store, spec: PanelSpec, t0: datetime, t1: datetime, interval: int,
               variables: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The panel's rows as Grafana gets them (its macros and variables expanded, *All* as
    the dashboards send it), each a dict by column; its columns are the spec's."""
    cols, rows = store.query_columns(expand(spec.sql, t0, t1, interval, variables,
                                            all_values=ALL_VALUES))
    assert tuple(cols) == spec.columns or not rows, spec.key
    return [dict(zip(cols, r, strict=True)) for r in rows]
