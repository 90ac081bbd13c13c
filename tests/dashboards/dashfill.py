"""A realistic store for dashboard tests: 2 models × 3 features × 48 hourly windows.

Drift starts halfway: feature ``x1`` shifts, ``x2`` widens, ``color`` changes mix; the
monitor-side tables (drift_results, alerts) are written as the monitor and alerts would.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from driftscope.dashboards.conventions import (
    MONITOR_MULTIVARIATE,
    MONITOR_PERFORMANCE,
    MONITOR_PROXY,
    MONITOR_QUALITY,
)
from driftscope.store import schema
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 1, 1, tzinfo=UTC)
N_WINDOWS = 48
WINDOW = timedelta(hours=1)
T1 = T0 + N_WINDOWS * WINDOW
MODELS = ("churn", "fraud")
FEATURES = ("x1", "x2", "color")
SEGMENTS = ("", "region=eu")
PER_WINDOW = 20


def _rows(table: schema._Table, dicts: list[dict[str, Any]]) -> tuple[list[list[Any]], list[str]]:
    cols = [c for c in table.columns if c in dicts[0]]
    return [[d[c] for c in cols] for d in dicts], cols


def _insert(store: Store, table: schema._Table, dicts: list[dict[str, Any]]) -> None:
    rows, cols = _rows(table, dicts)
    store.insert(table, rows, cols)


def _event(rng: random.Random, model: str, i: int, ts: datetime, drifted: bool) -> dict[str, Any]:
    x1 = rng.gauss(2.0 if drifted else 0.0, 1.0)
    x2 = rng.gauss(5.0, 3.0 if drifted else 1.0)
    color = rng.choice(["red", "red", "blue"] if drifted else ["red", "blue", "green"])
    null = ["x2"] if rng.random() < (0.2 if drifted else 0.02) else []
    nums = {"x1": x1} | ({} if null else {"x2": x2})
    pred = 1 if x1 > 1 else 0
    return {
        "model_id": model, "model_version": "1", "event_id": f"{model}-{i}", "timestamp": ts,
        "features_num": nums, "features_cat": {"color": color}, "features_null": null,
        "pred_num": {"score": 1 / (1 + 2.718 ** -x1)}, "pred_cat": {"label": str(pred)},
        "pred_probs": {}, "label": str(pred) if rng.random() < 0.3 else None,
        "segments": {"region": rng.choice(["eu", "us"])}, "late": int(rng.random() < 0.05),
        "ingested_at": ts, "kafka_partition": i % 4, "kafka_offset": i,
    }


def _result(model: str, monitor: str, start: datetime, segment: str, feature: str, metric: str,
            statistic: float, threshold: float) -> dict[str, Any]:
    return {
        "model_id": model, "monitor": monitor, "window_start": start,
        "window_end": start + WINDOW, "segment": segment, "feature": feature, "metric": metric,
        "statistic": statistic, "threshold": threshold, "policy": "constant",
        "drifted": int(statistic > threshold), "p_value": None,
        "severity": statistic / threshold, "n_ref": 500, "n_cur": PER_WINDOW,
        "fingerprint": f"{monitor}-{metric}", "details": "{}", "computed_at": start + WINDOW,
    }


def _results(rng: random.Random, model: str, w: int, start: datetime) -> list[dict[str, Any]]:
    drift = w >= N_WINDOWS // 2
    out = []
    for seg in SEGMENTS:
        for f in FEATURES:
            base = 0.3 if drift and f != "x2" else 0.05
            out.append(_result(model, "features", start, seg, f, "psi",
                               base + rng.random() * 0.05, 0.2))
            out.append(_result(model, "features", start, seg, f, "emd",
                               base * 2 + rng.random() * 0.1, 0.4))
        out.append(_result(model, MONITOR_QUALITY, start, seg, "x2", "missing_rate",
                           0.2 if drift else 0.02, 0.1))
        out.append(_result(model, MONITOR_PERFORMANCE, start, seg, "", "accuracy",
                           0.7 if drift else 0.92, 0.85))
        out.append(_result(model, MONITOR_PROXY, start, seg, "", "prediction_drift",
                           0.25 if drift else 0.03, 0.1))
        out.append(_result(model, MONITOR_MULTIVARIATE, start, seg, "", "mmd",
                           0.08 if drift else 0.01, 0.05))
        out.append(_result(model, MONITOR_MULTIVARIATE, start, seg, "pca0", "emd",
                           0.5 if drift else 0.1, 0.3))
    return out


def fill(store: Store, seed: int = 7) -> None:
    """Write every table the dashboards read."""
    rng = random.Random(seed)
    events, results, windows, stats, feedback = [], [], [], [], []
    for model in MODELS:
        ref = [_event(rng, model, -k - 1, T0 - timedelta(days=1), False) for k in range(200)]
        ref_rows = [{k: v for k, v in e.items() if k in schema.REFERENCE_EVENTS.columns}
                    | {"reference_name": f"{model}-baseline"} for e in ref]
        _insert(store, schema.REFERENCE_EVENTS, ref_rows)
        for w in range(N_WINDOWS):
            start = T0 + w * WINDOW
            for k in range(PER_WINDOW):
                ts = start + timedelta(seconds=k * 170 + 1)
                events.append(_event(rng, model, w * PER_WINDOW + k, ts, w >= N_WINDOWS // 2))
            windows.append({"model_id": model, "window_start": start, "window_end": start + WINDOW,
                            "window_seconds": 3600, "n_events": PER_WINDOW, "n_late": w % 3,
                            "closed_at": start + WINDOW})
            results += _results(rng, model, w, start)
            feedback.append({"model_id": model, "event_id": f"{model}-{w * PER_WINDOW}",
                             "label": "1", "timestamp": start + timedelta(minutes=30),
                             "ingested_at": start + timedelta(minutes=31),
                             "kafka_partition": 0, "kafka_offset": w})
    for w in range(N_WINDOWS * 4):
        at = T0 + w * WINDOW / 4 + timedelta(seconds=5)
        stats.append({"flushed_at": at, "collector_id": f"c{w % 2}", "consumed": 210,
                      "stored": 200, "dead_lettered": 10, "late": w % 4, "batch_size": 200,
                      "flush_ms": 20.0 + w % 7, "lag": 100 - w % 50})
    _insert(store, schema.EVENTS, events)
    _insert(store, schema.WINDOWS, windows)
    _insert(store, schema.DRIFT_RESULTS, results)
    _insert(store, schema.FEEDBACK, feedback)
    _insert(store, schema.COLLECTOR_STATS, stats)
    _insert(store, schema.DEAD_LETTERS, _dead_letters())
    _insert(store, schema.ALERTS, _alerts())
    _insert(store, schema.RETRAIN_REQUESTS, [
        {"request_id": f"rq-{m}", "model_id": m, "policy": "drift",
         "window_start": T0 + 27 * WINDOW,
         "window_end": T0 + 28 * WINDOW, "train_since": T0 + 24 * WINDOW,
         "train_until": T0 + 28 * WINDOW, "evidence": "{}", "created_at": T0 + 28 * WINDOW}
        for m in MODELS])


def _dead_letters() -> list[dict[str, Any]]:
    out = []
    for i, reason in enumerate(["schema", "malformed_json", "schema", "oversized"] * 12):
        out.append({"topic": "driftscope.predictions", "kafka_partition": i % 4,
                    "kafka_offset": 1000 + i, "model_id": MODELS[i % 2] if i % 3 else "",
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
                        "monitor": "features", "window_start": start, "rule": rule,
                        "state": state, "severity": 1.5, "summary": f"{rule} on {model}",
                        "details": json.dumps({"features": ["x1"]}),
                        "created_at": start + WINDOW, "updated_at": start + WINDOW})
    return out


def variables(model: str = MODELS[0]) -> dict[str, list[str]]:
    """Template variables as Grafana would set them with everything selected."""
    return {"model": [model], "feature": list(FEATURES), "segment": ["all", "region=eu"]}
