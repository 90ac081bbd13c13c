"""``segments: [model_version]``: a rollout's versions side by side in the same windows
(a canary) — each version's performance, column checks and drift rows of its own.

Before, ``model_version`` was no segment key (the events' segment map does not hold it):
a canary serving a tenth of the traffic was averaged into the old version's figures, and
its broken feature or worse accuracy was diluted below every limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from driftscope.alerts import retrain
from driftscope.alerts.config import AlertsConfig, RetrainPolicy
from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import VERSUS_REST, Finding, WindowVerdict
from driftscope.alerts.rules import drift_held, seen_of, waits
from driftscope.config import Config
from driftscope.monitor.config import MonitorConfig
from driftscope.monitor.detect import Fitter
from driftscope.monitor.evaluate import _comparisons, _in_segment, drift_rows
from driftscope.monitor.frame import Frame, read_events
from driftscope.monitor.results import drifted_on, unlike_normal
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D, OUT, AL = S.DRIFT_RESULTS, S.ALERT_OUTBOX, S.ALERTS


def config(segments: list[str], reference: dict[str, Any] | None = None,
           rules: list[dict[str, Any]] | None = None, name: str = "mon") -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": name, "model": "m", "features": ["x", "y"],
                      "segments": segments,
                      "reference": reference or {"kind": "initial", "windows": 3},
                      "performance": {"task": "classification", "prediction": "pred",
                                      "metrics": ["accuracy"]},
                      "rules": [{"metric": "accuracy", "op": "<", "value": 0.85}]
                      if rules is None else rules,
                      "persistence": {"enabled": False}}],
        "alerts": {"console": False}})


def rollout(canary: float, broken: bool = True) -> Any:
    """Version 1 serves everything; from window 4, version 2 serves ``canary`` of each
    window, with ``y`` missing in half its events and a worse accuracy (broken)."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        v2 = (rng.random(n) < canary) if i >= 4 else np.zeros(n, dtype=bool)
        y = rng.normal(0, 1, n).astype(object)
        if broken:
            y[v2 & (rng.random(n) < 0.5)] = None
        label = rng.integers(0, 2, n)
        right = rng.random(n) < np.where(v2 & broken, 0.6, 0.9)
        return {"x": rng.normal(0, 1, n), "y": y, "label": label.astype(str).astype(object),
                "output:pred": np.where(right, label, 1 - label).astype(float),
                "model_version": np.where(v2, "2", "1").astype(object)}
    return make


def rows(store: Store, metric: str) -> dict[tuple[int, str, str], tuple[float, bool]]:
    got = store.query(
        f"SELECT {D.window_start}, {D.segment}, {D.feature}, {D.statistic}, {D.drifted} "
        f"FROM {D} FINAL WHERE {D.metric} = {{k:String}}", {"k": metric})
    return {(int((t.replace(tzinfo=UTC) - T0) / W), s, f): (float(v), bool(d))
            for t, s, f, v, d in got}


def test_a_canary_is_judged_side_by_side_with_the_version_it_replaces(store: Store) -> None:
    write_windows(store, "m", T0, W, 8, 1000, rollout(0.1), seed=0)
    Monitor(store, config(["model_version"])).run_once()
    acc = rows(store, "accuracy")
    for i in range(4, 8):  # each version's accuracy, in the same window
        assert 0.86 < acc[(i, "model_version=1", "*")][0] < 0.94
        assert 0.45 < acc[(i, "model_version=2", "*")][0] < 0.75
        assert acc[(i, "*", "*")][0] > 0.85  # (all events: the canary diluted)
    assert (3, "model_version=2", "*") not in acc  # (no canary yet)
    # the accuracy rule fires for the canary's segment only
    assert {(i, s) for (i, s, _), (_, bad) in acc.items() if bad} == {
        (i, "model_version=2") for i in range(4, 8)}
    missing = rows(store, "missing_rate")
    flagged = {(i, s) for (i, s, f), (_, bad) in missing.items() if bad and f == "y"}
    # the canary's broken feature, in each of its windows; never the old version's
    assert {(i, "model_version=2") for i in range(4, 8)} <= flagged
    assert not {s for _, s in flagged} & {"model_version=1"}


def test_a_new_version_or_one_that_stopped_is_no_data_quality_fault(store: Store) -> None:
    """A rollout brings a version the reference never had, and the old one's traffic
    stops: what a deploy does, not a broken client (a segment value new or gone)."""
    write_windows(store, "m", T0, W, 4, 500, rollout(0.0), seed=0)
    write_windows(store, "m", T0 + 4 * W, W, 4, 500, rollout(1.0, broken=False), seed=1)
    Monitor(store, config(["model_version"])).run_once()
    volume = rows(store, "volume")
    new = rows(store, "new_categories")
    assert not [k for k in volume if k[2].startswith("segment:model_version")]
    assert not [k for k in new if k[2] == "segment:model_version"]
    assert not [k for k, (_, bad) in {**volume, **new}.items() if bad]


def test_a_version_with_enough_events_in_the_reference_is_scored_for_drift(
    store: Store,
) -> None:
    """Against the windows before (a canary running since), each version's inputs are
    judged against its own past: the canary's shift is found, the old version's not."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        v2 = rng.random(n) < 0.3
        x = rng.normal(0, 1, n) + np.where(v2 & (i >= 6), 1.0, 0.0)
        return {"x": x, "y": rng.normal(0, 1, n), "label": np.full(n, "1", dtype=object),
                "output:pred": np.ones(n), "model_version": np.where(v2, "2", "1")}
    write_windows(store, "m", T0, W, 7, 1000, make, seed=0)
    Monitor(store, config(["model_version"], {"kind": "previous", "windows": 3})).run_once()
    emd = {(i, s): d for (i, s, f), (_, d) in rows(store, "emd").items() if f == "x"}
    assert emd[(6, "model_version=2")] and not emd[(6, "model_version=1")]
    assert not any(d for (i, _), d in emd.items() if i < 6)


def test_the_version_is_read_only_where_a_monitor_asks_for_it(store: Store) -> None:
    """Other monitors' frames (and the digests of their references) are as before; an
    event's own segment map key ``model_version`` is not what the key reads."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(0, 1, n), "model_version": np.full(n, "7", dtype=object),
                "segment:model_version": np.full(n, "stale", dtype=object)}
    write_windows(store, "m", T0, W, 1, 50, make, seed=0)
    plain = read_events(store, "m", T0, T0 + W, ["x"])
    assert set(plain.segments) == {"model_version"}  # (the map's key, as before)
    assert set(plain.segments["model_version"]) == {"stale"}
    asked = read_events(store, "m", T0, T0 + W, ["x"], versions=True)
    assert set(asked.segments["model_version"]) == {"7"}


CANARY_RULE = {"metric": "accuracy", "versus": "rest", "op": "<", "value": -0.05,
               "segment": "model_version"}


def versus_config(rules: list[dict[str, Any]], segments: tuple[str, ...] = ("model_version",),
                  name: str = "mon") -> Config:
    return config(list(segments), rules=rules, name=name)


def test_a_canary_worse_than_the_rest_of_its_windows_fires_a_versus_rule(
    store: Store,
) -> None:
    """``{metric: accuracy, versus: rest, op: "<", value: -0.05}``: each version against
    the other versions' events of the same window. The canary fires; the version it
    replaces (better than the rest) and all events' rows never do."""
    write_windows(store, "m", T0, W, 8, 1000, rollout(0.1), seed=0)
    engine = AlertEngine(store, AlertsConfig(console=True))
    Monitor(store, versus_config([CANARY_RULE]), alerts=engine).run_once()
    (sent,) = store.query(f"SELECT {OUT.payload} FROM {OUT} FINAL WHERE {OUT.channel} = "
                          "'console'")[0]
    line = [x for x in json.loads(sent)["lines"] if x.startswith("accuracy")]
    assert line and line[0].startswith("accuracy [model_version=2] (accuracy 0.")
    assert "rule < rest -0.05) — on " in line[0] and "; the rest of the window 0.9" in line[0]
    got = store.query(
        f"SELECT {D.window_start}, {D.segment}, {D.statistic}, {D.threshold}, {D.policy}, "
        f"JSONExtractFloat({D.details}, 'rest', 'value'), {D.drifted} FROM {D} FINAL "
        f"WHERE {D.metric} = 'accuracy'")
    flagged = {(int((t.replace(tzinfo=UTC) - T0) / W), s) for t, s, *_, d in got if d}
    assert flagged == {(i, "model_version=2") for i in range(4, 8)}
    for _, _, value, bound, policy, rest, d in got:
        if d:  # the bound on the canary's own value: the rest's, 0.05 lower
            assert policy == "rule < rest -0.05"
            assert bound == pytest.approx(rest - 0.05) and 0.86 < rest < 0.94
            assert value < bound


def test_a_canary_as_good_as_the_rest_stays_quiet(store: Store) -> None:
    """Ten windows of 1,000 events, a healthy 10 % canary (about 100 labels a window):
    the accuracy it draws either side of the old version's, within its noise, fires none
    (over 1,000 such windows about 11 are expected: docs/monitor.md)."""
    write_windows(store, "m", T0, W, 14, 1000, rollout(0.1, broken=False), seed=3)
    Monitor(store, versus_config([CANARY_RULE])).run_once()
    quiet = store.query(f"SELECT count() FROM {D} FINAL WHERE {D.metric} = 'accuracy' "
                        f"AND {D.drifted}")[0][0]
    assert quiet == 0
    rests = store.query(f"SELECT count() FROM {D} FINAL WHERE {D.metric} = 'accuracy' AND "
                        f"JSONHas({D.details}, 'rest')")[0][0]
    assert rests == 2 * 10  # (each version's rows of windows 4-13 were compared)


def split(key: str, worse: str, other: str, accuracy: float) -> Any:
    """Three tenths of each window's events in segment ``key=worse``, right at
    ``accuracy``, the others in ``key=other`` at 0.9; all served by version 1."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        bad = rng.random(n) < 0.3
        label = rng.integers(0, 2, n)
        right = rng.random(n) < np.where(bad, accuracy, 0.9)
        return {"x": rng.normal(0, 1, n), "y": rng.normal(0, 1, n),
                "label": label.astype(str).astype(object),
                "output:pred": np.where(right, label, 1 - label).astype(float),
                f"segment:{key}": np.where(bad, worse, other).astype(object),
                "model_version": np.full(n, "1", dtype=object)}
    return make


def test_a_versus_rule_judges_only_the_segment_key_it_names(store: Store) -> None:
    """A country whose accuracy is always lower is not a canary: with ``segment:
    model_version`` its rows are not judged against the rest."""
    write_windows(store, "m", T0, W, 5, 1000, split("country", "FR", "DE", 0.7), seed=0)
    Monitor(store, versus_config([CANARY_RULE], ("country", "model_version"))).run_once()
    assert store.query(f"SELECT count() FROM {D} FINAL WHERE {D.drifted} "
                       f"AND {D.metric} = 'accuracy'")[0][0] == 0
    # (nor measured against their rest: only the rows a versus rule judges are)
    assert store.query(f"SELECT DISTINCT {D.segment} FROM {D} FINAL WHERE "
                       f"JSONHas({D.details}, 'rest')") == []  # (one version: no rest)
    Monitor(store, versus_config([{**CANARY_RULE, "segment": None}],
                                 ("country", "model_version"), "every")).run_once()
    fired = store.query(f"SELECT DISTINCT {D.segment} FROM {D} FINAL WHERE {D.drifted} "
                        f"AND {D.metric} = 'accuracy' AND {D.monitor} = 'every'")
    assert fired == [("country=FR",)]
    assert store.query(f"SELECT DISTINCT {D.segment} FROM {D} FINAL WHERE "
                       f"JSONHas({D.details}, 'rest') AND {D.monitor} = 'every' "
                       f"ORDER BY 1") == [("country=DE",), ("country=FR",)]
    # a plain rule on one value judges that value's rows only
    Monitor(store, versus_config([{"metric": "accuracy", "op": "<", "value": 0.85,
                                   "segment": "country=FR"}], ("country", "model_version"),
                                 "fr")).run_once()
    assert store.query(f"SELECT DISTINCT {D.segment} FROM {D} FINAL WHERE {D.drifted} "
                       f"AND {D.metric} = 'accuracy' AND {D.monitor} = 'fr'") == [
        ("country=FR",)]


def test_a_segment_key_holding_an_equals_sign_is_compared_with_its_rest(
    store: Store,
) -> None:
    """A key may hold ``=`` (``plan=tier``): its rows ``plan=tier=gold`` are still split
    into key and value (before, every window failed with a KeyError and was retried)."""
    write_windows(store, "m", T0, W, 4, 1000, split("plan=tier", "gold", "basic", 0.6),
                  seed=0)
    Monitor(store, versus_config([{**CANARY_RULE, "segment": "plan=tier"}],
                                 ("plan=tier",))).run_once()
    assert store.query(f"SELECT DISTINCT {D.segment} FROM {D} FINAL WHERE {D.drifted} "
                       f"AND {D.metric} = 'accuracy'") == [("plan=tier=gold",)]


@pytest.mark.parametrize(("rule", "segments", "said"), [
    ({"metric": "accuracy", "versus": "rest", "op": "<", "value": 0.02}, ["model_version"],
     "fires on a segment as good as the rest"),
    ({"metric": "accuracy", "versus": "rest", "op": "<", "value": -5}, ["model_version"],
     "lies in [-1, 1]"),
    ({"metric": "accuracy", "versus": "rest", "op": ">", "value": -0.02}, ["model_version"],
     "fires on a segment as good as the rest; did you mean < -0.02?"),
    ({"metric": "f1", "versus": "rest", "op": "<=", "value": -1}, ["model_version"],
     "never fires"),
    ({"metric": "mae", "versus": "rest", "op": "<", "value": 1.0}, ["model_version"],
     "did you mean > 1?"),
    ({"metric": "type_mismatch", "op": ">", "value": 0, "segment": "model_version"},
     ["model_version"], "are the whole model's"),
    ({"metric": "missing_rate", "versus": "rest", "op": ">", "value": 0.1}, ["model_version"],
     "missing_rate is not a performance metric"),
    ({"metric": "emd", "versus": "rest", "op": ">", "value": -1}, ["model_version"],
     "emd is not a performance metric"),
    ({**CANARY_RULE, "segment": "*"}, ["model_version"], "all events have no rest"),
    ({"metric": "volume", "op": ">", "value": 6, "segment": "model_version"},
     ["model_version"], "are the whole model's"),
    ({**CANARY_RULE, "segment": "model_version="}, ["model_version"], "names no version"),
    ({"metric": "accuracy", "versus": "rest", "op": "<", "value": -0.05}, [],
     "this monitor has no segments"),
    ({"metric": "accuracy", "op": "<", "value": 0.8, "segment": "model_versoin"},
     ["model_version"], "not a segment key of this monitor, nor one of its values (its "
     "segments: model_version); did you mean model_version?"),
])
def test_a_versus_rule_that_cannot_work_is_refused_in_one_line(
    rule: dict[str, Any], segments: list[str], said: str,
) -> None:
    with pytest.raises(ValidationError) as err:
        versus_config([rule], tuple(segments))
    assert said in str(err.value)


def test_a_rule_on_a_key_leaves_out_the_rows_of_a_longer_key_it_begins() -> None:
    """Keys ``a`` and ``a=b``: the row ``a=b=y`` is key ``a=b``'s (the longest key it
    begins with, as the rest is split), so a rule on ``a`` does not judge it."""
    keys = ["a", "a=b"]
    assert _in_segment("a", "a=x", keys) and not _in_segment("a", "a=b=y", keys)
    assert _in_segment("a=b", "a=b=y", keys) and not _in_segment("a", "*", keys)
    assert _in_segment(None, "a=b=y", keys) and _in_segment("*", "*", keys)


def pipeline(shift: float, version_of_rest: str = "1", since: int = 4) -> Any:
    """From window ``since``, version 2 serves a tenth of each window; its ``x`` is
    ``shift`` higher (a feature pipeline of its own) and its outputs are the old version's."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        v2 = (rng.random(n) < 0.1) if i >= since else np.zeros(n, dtype=bool)
        return {"x": rng.normal(0, 1, n) + np.where(v2, shift, 0.0), "y": rng.normal(0, 1, n),
                "label": np.full(n, "1", dtype=object), "output:pred": rng.normal(0, 1, n),
                "model_version": np.where(v2, "2", version_of_rest).astype(object)}
    return make


def drift_config(versus_rest: list[str], name: str = "mon", **extra: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": name, "model": "m", "features": ["x", "y"], "outputs": ["pred"],
                      "segments": ["model_version"], "versus_rest": versus_rest,
                      "reference": {"kind": "previous", "windows": 3},
                      "persistence": {"enabled": False}, **extra}],
        "alerts": {"console": True}})


def test_a_canary_whose_inputs_differ_from_the_rest_of_its_window_is_flagged_in_each(
    store: Store,
) -> None:
    """``versus_rest: [model_version]``: the canary's inputs against the old version's of
    the same window, from its first window on and with no labels. Against its own past
    windows (the reference otherwise) a release whose pipeline was wrong from its first
    event is normal once its past holds it: it was flagged in none of its windows."""
    write_windows(store, "m", T0, W, 8, 1000, pipeline(0.6), seed=0)
    engine = AlertEngine(store, AlertsConfig.model_validate({"console": True, "retrain": {
        "kafka": False, "policies": [{"name": "d", "kind": "drift_sustained", "windows": 2}]}}))
    verdicts = Monitor(store, drift_config(["model_version"]), alerts=engine).run_once()
    assert [v.bad for v in verdicts] == [False] * 4 + [True] * 4
    # the canary unlike the rest is no drift of the model's data: its windows are kept in
    # a sliding reference, and they ask no retraining (a rollback is what they ask)
    canary_only = [v for v in verdicts if v.bad and all(f.segment != "*" for f in v.findings)]
    assert len(canary_only) >= 3 and not any(unlike_normal(v) or v.drifted for v in canary_only)
    assert store.count(S.RETRAIN_REQUESTS) == 0
    got = store.query(
        f"SELECT {D.window_start}, {D.segment}, {D.feature}, "
        f"JSONExtractBool({D.details}, 'model_level'), {D.n_ref}, "
        f"{D.n_cur}, JSONExtractString({D.details}, 'versus') FROM {D} FINAL "
        f"WHERE {D.metric} = 'emd' AND {D.segment} != '*'")
    at = {(int((t.replace(tzinfo=UTC) - T0) / W), s, f): (d, r, c, v)
          for t, s, f, d, r, c, v in got}
    assert {(i, s, f) for (i, s, f), (d, *_) in at.items() if d} == {
        (i, "model_version=2", "x") for i in range(4, 8)}
    assert {s for _, s, _ in at} == {"model_version=2"}  # (the largest is the rest)
    assert {f for *_, f in at} == {"x", "y", "output:pred"}
    for _, n_rest, n_canary, versus in at.values():
        assert versus == "rest" and n_rest + n_canary == 1000 and 60 < n_canary < 140
    lines = [x for (p,) in store.query(f"SELECT {OUT.payload} FROM {OUT} FINAL WHERE "
                                       f"{OUT.channel} = 'console'")
             for x in json.loads(p)["lines"] if x.startswith("x [model_version=2] (emd ")]
    assert lines and lines[0].endswith(") — against the rest of its window")
    # the same events against the canary's own past windows (no versus_rest)
    Monitor(store, drift_config([], "own-past")).run_once()
    own = {int((t.replace(tzinfo=UTC) - T0) / W) for (t,) in store.query(
        f"SELECT {D.window_start} FROM {D} FINAL WHERE {D.monitor} = 'own-past' AND "
        f"{D.segment} = 'model_version=2' AND {D.feature} = 'x' AND {D.drifted}")}
    assert own == set()  # (window 4: no reference of its own; 5-7: its own past)


@pytest.mark.parametrize("old", ["1", ""])
def test_a_canary_drawn_from_the_same_traffic_as_the_rest_is_never_flagged(
    store: Store, old: str,
) -> None:
    """A healthy canary, twenty windows: its 100-odd events a window against the rest's
    900 are judged at the thresholds of their sizes and none is flagged. Events that name
    no version are the rest too: the canary, the only version named, is compared."""
    write_windows(store, "m", T0, W, 24, 1000, pipeline(0.0, old), seed=4)
    Monitor(store, drift_config(["model_version"])).run_once()
    got = store.query(f"SELECT countIf(JSONExtractBool({D.details}, 'model_level')), "
                      f"count() FROM {D} FINAL WHERE {D.segment} = 'model_version=2' AND "
                      f"JSONHas({D.details}, 'versus')")
    assert got == [(0, 20 * 3)]


@pytest.mark.parametrize(("keys", "said"), [
    (["model_version"], "versus_rest: 'model_version' is not a segment key of this monitor "
     "(its segments: country); add it to segments"),
    (["country", "country"], "versus_rest: a key named twice (country, country)"),
])
def test_versus_rest_names_a_segment_key_or_is_refused_in_one_line(
    keys: list[str], said: str,
) -> None:
    with pytest.raises(ValidationError) as err:
        Config.model_validate({"models": [{"id": "m"}], "monitors": [
            {"name": "m", "model": "m", "features": ["x"], "segments": ["country"],
             "versus_rest": keys}]})
    assert said in str(err.value)


def test_a_canary_is_compared_with_the_rest_before_the_reference_is_ready(store: Store) -> None:
    """An ``initial`` reference of 5 windows: the canary, shifted in windows 0-1 and
    healthy after, is compared in each window (the multivariate test too); its rows name
    no reference once there is one; a rule on its rows leaves them no drift of the model's
    data; the alert it opened resolves in windows with no drift test over all events."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        v2 = rng.random(n) < 0.2
        return {"x": rng.normal(0, 1, n) + np.where(v2 & (i < 2), 1.0, 0.0),
                "y": rng.normal(0, 1, n), "output:pred": rng.normal(0, 1, n),
                "model_version": np.where(v2, "2", "1").astype(object)}
    write_windows(store, "m", T0, W, 4, 1000, make, seed=3)
    engine = AlertEngine(store, AlertsConfig(console=False, resolve_windows=2))
    cfg = drift_config(["model_version"], reference={"kind": "initial", "windows": 5},
                       detectors=[{"name": "emd"}, {"name": "mmd"}],
                       rules=[{"metric": "emd", "op": ">", "value": 0.3,
                               "segment": "model_version"}])
    verdicts = Monitor(store, cfg, alerts=engine).run_once()
    (state,) = store.query(f"SELECT argMax({AL.state}, {AL.updated_at}) FROM {AL}")[0]
    assert state == "resolved"  # (windows 2-3: no test over all events, the segment's made)
    write_windows(store, "m", T0 + 4 * W, W, 3, 1000,
                  lambda i, rng, n: make(i + 4, rng, n), seed=4)
    verdicts += Monitor(store, cfg, alerts=engine).run_once()
    got = store.query(
        f"SELECT {D.window_start}, {D.metric}, {D.feature}, {D.details} FROM {D} FINAL "
        f"WHERE {D.segment} = 'model_version=2'")
    seen = {(int((t.replace(tzinfo=UTC) - T0) / W), m, f) for t, m, f, _ in got}
    assert {(i, "mmd", "multivariate") for i in range(5)} <= seen
    assert {(i, "emd", "x") for i in range(5)} <= seen
    details = [json.loads(d) for *_, d in got if json.loads(d).get("versus") == "rest"]
    assert len(details) == 7 * 4 and not [d for d in details if "reference_version" in d]
    (judged,) = store.query(f"SELECT count() FROM {D} FINAL WHERE {D.segment} = '*' AND "
                            f"JSONHas({D.details}, 'reference_version')")[0]
    assert judged == 2 * 4  # (windows 5-6, against the reference: x, y, pred, mmd)
    # (window 6 is judged against windows 0-4 over all events: 0-1 held the canary's x)
    assert [v.bad for v in verdicts][:6] == [True, True] + [False] * 4
    ruled = [f for v in verdicts for f in v.findings if f.policy == "rule > 0.3"]
    assert ruled and all(f.reason == VERSUS_REST for f in ruled)
    assert not any(v.drifted or drifted_on(v) for v in verdicts[:6])  # (summary, persistence)


def canary_verdict(*more: Finding) -> WindowVerdict:
    """A window with the canary's ``x`` flagged against the rest of it, and ``more``."""
    versus = Finding("drift", "model_version=2", "x", "emd", 0.5, 0.2, "reference-quantile",
                     VERSUS_REST)
    return WindowVerdict("m", "mon", T0, T0 + W, 1000, (versus, *more))


def test_a_canary_unlike_the_rest_holds_no_retraining_streak_and_is_no_drifted_column(
) -> None:
    """While a canary's alert is open, a window that did not compare it (rolled back, too
    few events) does not hold a ``drift_sustained`` streak, as one that did not test a
    country does; and a request asked by a drift over all events lists neither the
    canary's column nor its data fault (which held the request before)."""
    seen = seen_of(canary_verdict())
    assert not drift_held(seen, frozenset(), frozenset())  # (the canary not compared)
    assert waits(seen, frozenset(), frozenset())  # (its alert waits all the same)
    assert not waits(seen, frozenset({"drift"}), frozenset({"versus:model_version=2"}))
    fr = seen_of(WindowVerdict("m", "mon", T0, T0 + W, 1000, (Finding(
        "drift", "country=FR", "x", "emd", 0.5, 0.2, "reference-quantile", "fdr"),)))
    assert drift_held(fr, frozenset(), frozenset())  # (a country's drift does hold it)
    v = canary_verdict(
        Finding("drift", "*", "y", "emd", 0.3, 0.1, "reference-quantile", "fdr"),
        Finding("quality", "model_version=2", "x", "missing_rate", 0.5, 0.05, "limit", ""))
    policy = RetrainPolicy(name="d", kind="drift_sustained", windows=1)
    req = retrain.decide(policy, v, drift_streak=1, last_request=None)
    assert req is not None and req.evidence["drifted"] == ["y"]
    assert [t[0] for t in req.evidence["top"]] == ["y"]


def test_a_key_holding_an_equals_sign_is_told_apart_from_its_rows() -> None:
    """Keys ``a`` (versus the rest) and ``a=b``: value ``b=c`` of ``a`` and value ``c`` of
    ``a=b`` both read ``a=b=c``. The first is compared with the rest of key ``a`` (before,
    the key parsed back from the row was ``a=b``: a rest of none), the second with the
    reference, and only the first is marked as judged against the rest."""
    cfg = MonitorConfig(name="m", model="m", features=["x"], segments=["a", "a=b"],
                        versus_rest=["a"], min_events=30)
    n, rng = 1000, np.random.default_rng(0)
    frame = Frame(np.arange(n).astype("datetime64[ms]"), {"x": rng.normal(size=n)},
                  {"a": np.array(["b=c"] * 100 + ["z"] * 900, dtype=object),
                   "a=b": np.array(["c"] * 500 + ["d"] * 500, dtype=object)})
    got = [(seg, c.n, r.n, rest) for seg, c, r, rest in _comparisons(cfg, frame, frame)]
    assert ("a=b=c", 100, 900, True) in got and ("a=b=c", 500, 500, False) in got
    rows = drift_rows(cfg, Fitter(0), frame, frame)
    got = sorted((r.n_ref, r.reason, r.details.get("versus")) for r in rows
                 if r.segment == "a=b=c")
    assert got == [(500, "fdr", None), (900, VERSUS_REST, "rest")]
