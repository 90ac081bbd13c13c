"""The scheduler on chDB: exactly once, resumable, backfill, references, quality,
performance, segments — with the real detectors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from driftscope.alerts.engine import AlertEngine
from driftscope.alerts.model import WindowVerdict
from driftscope.cli import app
from driftscope.config import Config
from driftscope.errors import ConfigError
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D, M = S.DRIFT_RESULTS, S.MONITOR_WINDOWS


def config(**monitor: Any) -> Config:
    base = {"name": "mon", "model": "m", "features": ["x", "plan"],
            "reference": {"kind": "fixed", "start": T0.isoformat(),
                          "end": (T0 + 5 * W).isoformat()}}
    return Config.model_validate({"models": [{"id": "m", "window": "10m"}],
                                  "monitors": [{**base, **monitor}],
                                  "alerts": {"console": False}})


def gen(drift_from: int = 10**9):
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        shift = 1.0 if i >= drift_from else 0.0
        plan = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
        return {"x": rng.normal(shift, 1, n), "plan": plan,
                "segment:country": rng.choice(np.array(["DE", "FR"], dtype=object), n)}
    return g


class Crashing:
    """Wraps the engine and dies on the k-th verdict, like a process killed mid-pass."""

    def __init__(self, engine: AlertEngine, k: int) -> None:
        self.engine, self.k, self.seen = engine, k, 0

    def process(self, v: WindowVerdict) -> Any:
        self.seen += 1
        if self.seen == self.k:
            raise RuntimeError("crash")
        return self.engine.process(v)


def test_each_window_exactly_once_and_resumable_after_a_crash(store: Store) -> None:
    write_windows(store, "m", T0, W, 20, 200, gen(drift_from=14), seed=1)
    cfg = config()
    with pytest.raises(RuntimeError):
        Monitor(store, cfg, alerts=Crashing(AlertEngine(store, cfg.alerts), 11),
                chunk=8).run_once()
    assert store.count(M) == 8  # the first batch was recorded, the second was not
    rest = Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts), chunk=8).run_once()
    assert len(rest) == 12
    assert store.count(f"{M} FINAL") == 20
    keys = f"{D.window_start}, {D.segment}, {D.feature}, {D.metric}"
    (n, distinct, windows), = store.query(
        f"SELECT count(), uniqExact({keys}), uniqExact({D.window_start}) FROM {D} FINAL")
    assert n == distinct and windows == 20  # every window once, no duplicated result
    assert Monitor(store, cfg, alerts=AlertEngine(store, cfg.alerts)).run_once() == []
    assert store.count(f"{S.ALERTS} FINAL") == 1
    fps = store.query(f"SELECT DISTINCT {D.fingerprint} FROM {D} WHERE {D.metric} = 'linf'")
    assert len(fps) == 1 and len(fps[0][0]) == 16


def test_backfill_recomputes_a_range_as_a_new_series(store: Store) -> None:
    write_windows(store, "m", T0, W, 12, 200, gen(), seed=2)
    Monitor(store, config()).run_once()
    changed = config(detectors=[{"name": "linf", "params": {"n_bins": 5}}])
    redone = Monitor(store, changed).backfill(T0 + 6 * W, T0 + 12 * W)
    assert len(redone) == 6
    rows = store.query(f"SELECT {D.fingerprint}, count() FROM {D} WHERE {D.metric} = 'linf' "
                       f"AND {D.segment} = '*' GROUP BY {D.fingerprint} ORDER BY 2")
    # new: 6 windows × 2 features; old: the 6 windows before the range × plan (the default
    # linf is categorical): the redone windows' old rows are gone
    assert [r[1] for r in rows] == [6, 12] and rows[0][0] != rows[1][0]


def test_segments_previous_reference_and_data_quality(store: Store) -> None:
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        cols = gen()(i, rng, n)
        if i == 9:
            cols["x"][: n // 3] = np.nan  # a third missing
            cols["x"][n // 3 : n // 2] = 50.0  # far outside the reference range
            cols["plan"][: n // 4] = "zzz"  # a category never seen
        return cols

    write_windows(store, "m", T0, W, 10, lambda i: 1000 if i == 9 else 200, g, seed=3)
    store.insert(S.DEAD_LETTERS, [("t", 0, 1, "m", "schema", "e", b"{}", 2, T0 + 9 * W, None)],
                 S.DEAD_LETTERS.columns)
    cfg = config(reference={"kind": "previous", "windows": 3}, segments=["country"])
    verdicts = Monitor(store, cfg).run_once()
    last = {(f.feature, f.metric) for f in verdicts[-1].findings if f.kind == "quality"}
    assert {("x", "missing_rate"), ("x", "out_of_range"), ("plan", "new_categories"),
            ("*", "volume"), ("*", "schema_violations")} <= last
    assert not any(v.findings for v in verdicts[3:9])
    segs = {r[0] for r in store.query(f"SELECT DISTINCT {D.segment} FROM {D}")}
    assert {"*", "country=DE", "country=FR"} <= segs


def test_performance_rules_and_prediction_drift_beside_it(store: Store) -> None:
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        y = rng.integers(0, 2, n)
        wrong = rng.uniform(size=n) < (0.3 if i >= 8 else 0.05)
        pred = np.where(wrong, 1 - y, y)
        return {"x": rng.normal(size=n), "label": [str(v) for v in y],
                "output:pred": pred.astype(float), "output:score": pred * 0.6 + 0.2,
                "plan": rng.choice(np.array(["a", "b"], dtype=object), n)}

    write_windows(store, "m", T0, W, 10, 300, g, seed=4)
    cfg = config(outputs=["pred"], rules=[{"metric": "accuracy", "op": "<", "value": 0.9}],
                 performance={"task": "classification", "prediction": "pred",
                              "score": "score"})
    verdicts = Monitor(store, cfg).run_once()
    assert verdicts[0].metrics["accuracy"] > 0.9 and verdicts[-1].metrics["accuracy"] < 0.8
    assert {"accuracy", "f1", "roc_auc"} <= set(verdicts[-1].metrics)
    assert any(f.metric == "accuracy" and f.reason == "rule" for f in verdicts[-1].findings)
    assert not any(f.kind == "performance" for v in verdicts[:8] for f in v.findings)
    assert store.count(D, f"{D.feature} = 'output:pred' AND {D.metric} = 'emd'") == 10


def test_reference_upload_cli_and_dataset_reference(store: Store, tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    train = pd.DataFrame({"x": rng.normal(size=2000),
                          "plan": rng.choice(["a", "b", "c"], 2000), "label": "1"})
    train.to_csv(tmp_path / "train.csv", index=False)
    cfg_file = tmp_path / "driftscope.yaml"
    cfg_file.write_text(yaml.safe_dump({"store": {"dsn": store.dsn,
                                                  "database": store.database}}))
    result = CliRunner().invoke(app, ["reference", "upload", "--model", "m", "-c",
                                      str(cfg_file), str(tmp_path / "train.csv")])
    assert result.exit_code == 0, result.output
    assert "uploaded 2000 rows as reference 'train'" in result.output
    # listed, with its newest upload (a new user found no way to see what was uploaded)
    train.head(500).to_csv(tmp_path / "train.csv", index=False)
    again = CliRunner().invoke(app, ["reference", "upload", "--model", "m", "-c",
                                     str(cfg_file), str(tmp_path / "train.csv")])
    assert again.exit_code == 0, again.output
    listed = CliRunner().invoke(app, ["reference", "list", "-c", str(cfg_file)])
    assert listed.exit_code == 0, listed.output
    (row,) = [line for line in listed.output.splitlines() if " train " in line]
    assert [c.strip() for c in row.split("│")[1:4]] == ["m", "train", "500"], row
    assert "x, plan, label" in row
    none = CliRunner().invoke(app, ["reference", "list", "--model", "other", "-c",
                                    str(cfg_file)])
    assert none.output.startswith("no references of model other in ")
    write_windows(store, "m", T0, W, 6, 300, gen(drift_from=3), seed=6)
    train.to_csv(tmp_path / "train.csv", index=False)  # the reference the monitor reads
    assert CliRunner().invoke(app, ["reference", "upload", "--model", "m", "-c",
                                    str(cfg_file), str(tmp_path / "train.csv")]).exit_code == 0
    cfg = config(reference={"kind": "dataset", "dataset": "train"})
    verdicts = Monitor(store, cfg).run_once()
    assert [v.drifted for v in verdicts] == [False, False, False, True, True, True]


def test_a_window_waits_to_settle_after_it_closed(store: Store) -> None:
    write_windows(store, "m", T0, W, 8, 100, gen(), seed=7)  # window i closes at T0+(i+1)W
    now = T0 + 6 * W
    first = Monitor(store, config(), clock=lambda: now, settle=2 * W).run_once()
    assert [v.window_start for v in first] == [T0 + i * W for i in range(4)]
    later = Monitor(store, config(), clock=lambda: now + 10 * W, settle=2 * W).run_once()
    assert len(later) == 4


def test_a_dataset_reference_never_uploaded_stops_only_its_monitor(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A dataset not uploaded yet (or misspelt) is a one-line error for its monitor; the
    other monitors still run, and so does `serve` (before: the ConfigError ended the pass
    and the process, collector included). Once uploaded, its windows are processed."""
    write_windows(store, "m", T0, W, 8, 100, gen(), seed=8)
    good = config().monitors[0]
    cfg = config(name="vs-train", reference={"kind": "dataset", "dataset": "trian"})
    cfg = cfg.model_copy(update={"monitors": [*cfg.monitors, good]})
    runner = Monitor(store, cfg)
    with caplog.at_level("ERROR", logger="driftscope.monitor"):
        verdicts = runner.run_once()
        assert {v.monitor for v in verdicts} == {"mon"} and len(verdicts) == 8
        msg = runner.broken["vs-train"]
        assert "'trian'" in msg and "driftscope reference upload --model m" in msg
        assert "\n" not in msg
        assert runner.run_once() == [] and list(runner.broken) == ["vs-train"]
    told = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(told) == 1 and told[0].startswith("monitor vs-train: not run: reference")
    assert store.count(M, f"{M.monitor} = 'vs-train'") == 0  # nothing recorded

    cfg_file = tmp_path / "driftscope.yaml"
    cfg_file.write_text(yaml.safe_dump({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m", "window": "10m"}], "alerts": {"console": False},
        "monitors": [{"name": "vs-train", "model": "m", "features": ["x", "plan"],
                      "reference": {"kind": "dataset", "dataset": "trian"}}]}))
    once = CliRunner().invoke(app, ["monitor", "--once", "-c", str(cfg_file)])
    assert once.exit_code == 2, once.output
    assert ("monitor vs-train: not processed (a configuration error: see the error above)"
            in once.output)
    health = CliRunner().invoke(app, ["health", "monitor", "-c", str(cfg_file)])
    assert health.exit_code != 0  # no healthy pass while a monitor cannot run
    rng = np.random.default_rng(5)
    pd.DataFrame({"x": rng.normal(size=500), "plan": rng.choice(["a", "b", "c"], 500)}
                 ).to_csv(tmp_path / "trian.csv", index=False)
    up = CliRunner().invoke(app, ["reference", "upload", "--model", "m", "-c", str(cfg_file),
                                  str(tmp_path / "trian.csv")])
    assert up.exit_code == 0, up.output
    fixed = runner.run_once()
    assert {v.monitor for v in fixed} == {"vs-train"} and len(fixed) == 8
    assert runner.broken == {}


def test_a_dataset_reference_misspelt_is_an_error_in_a_pass_with_no_window_to_judge(
    store: Store,
) -> None:
    """`monitor --once` after a config change, its windows judged already: a dataset name
    not uploaded is the same one-line error as when a window needs it (before: `0
    windows`, exit 0, until a new window closed); the right name runs as before."""
    from driftscope.monitor.upload import upload

    write_windows(store, "m", T0, W, 8, 100, gen(), seed=8)
    rng = np.random.default_rng(5)
    upload(store, "m", "training", pd.DataFrame(
        {"x": rng.normal(size=500), "plan": rng.choice(["a", "b", "c"], 500)}))
    right = config(name="vs-train", reference={"kind": "dataset", "dataset": "training"})
    assert len(Monitor(store, right).run_once()) == 8
    again = Monitor(store, right)
    assert again.run_once() == [] and again.broken == {}
    typo = config(name="vs-train", reference={"kind": "dataset", "dataset": "trainin"})
    runner = Monitor(store, typo)
    assert runner.run_once() == []
    msg = runner.broken["vs-train"]
    assert "'trainin'" in msg and "uploaded: 'training'" in msg and "\n" not in msg


@pytest.mark.parametrize(("name", "content", "message"), [
    ("train.csv", "", "cannot read it as csv"),
    ("train.parquet", "not parquet", "cannot read it as parquet"),
    ("train.json", "{}", "expected a .parquet or .csv file"),
])
def test_a_file_that_cannot_be_read_is_a_one_line_error(tmp_path: Path, name: str,
                                                        content: str, message: str) -> None:
    from driftscope.monitor.upload import read_table

    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as info:
        read_table(path)
    assert "\n" not in str(info.value)


def test_a_quality_fault_in_one_segment_is_found_where_the_whole_hides_it(store: Store) -> None:
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        cols = gen()(i, rng, n)
        country = rng.choice(np.array(["DE", "FR"], dtype=object), n, p=[0.1, 0.9])
        cols["segment:country"] = country
        if i >= 8:  # a broken client in DE: 40 % of its x missing, 4 % of all events
            de = np.flatnonzero(country == "DE")
            cols["x"][de[: int(len(de) * 0.4)]] = np.nan
        return cols

    write_windows(store, "m", T0, W, 10, 2000, g, seed=5)
    cfg = config(reference={"kind": "previous", "windows": 3}, segments=["country"])
    verdicts = Monitor(store, cfg).run_once()
    found = {(f.segment, f.feature, f.metric) for v in verdicts[8:] for f in v.findings
             if f.kind == "quality"}
    assert found == {("country=DE", "x", "missing_rate")}  # the whole is at 4 % < 5 %
    assert not any(v.findings for v in verdicts[:8])  # no segment cries wolf before
    row = store.query(f"SELECT {D.n_cur}, {D.statistic} FROM {D} WHERE {D.segment} = "
                      f"'country=DE' AND {D.metric} = 'missing_rate' AND {D.feature} = 'x' "
                      f"ORDER BY {D.window_start} DESC LIMIT 1")
    assert 150 < row[0][0] < 250 and 0.35 < row[0][1] < 0.45  # the segment's own counts


def test_an_initial_reference_is_the_models_first_windows_whatever_their_dates(
    store: Store,
) -> None:
    start = datetime(2027, 6, 3, 7, tzinfo=UTC)  # no date in the configuration
    write_windows(store, "m", start, W, 20, 300, gen(drift_from=15), seed=7)
    # a client with a wrong clock: 3 events a day early do not move the reference
    write_windows(store, "m", start - timedelta(days=1), W, 1, 3, gen(), seed=8)
    cfg = config(reference={"kind": "initial", "windows": 6})
    verdicts = Monitor(store, cfg).run_once()[1:]
    assert len(verdicts) == 20
    scored = store.query(f"SELECT DISTINCT {D.window_start} FROM {D} "
                         f"WHERE {D.metric} IN ('emd', 'linf') ORDER BY 1")
    assert [r[0].replace(tzinfo=UTC) for r in scored] == [start + i * W for i in range(6, 20)]
    drifted = [i for i, v in enumerate(verdicts) if v.drifted]
    assert drifted == list(range(15, 20))
    refs = store.query(f"SELECT DISTINCT {D.n_ref} FROM {D} WHERE {D.metric} IN ('emd', 'linf') "
                       f"AND {D.segment} = '*'")
    assert refs == [(1800,)]  # 6 windows × 300 events


def test_a_segment_whose_traffic_stops_is_a_volume_finding(store: Store) -> None:
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        cols = gen()(i, rng, n)
        p = [0.1, 0.9] if i < 8 else [0.0, 1.0]  # the DE client breaks at window 8
        cols["segment:country"] = rng.choice(np.array(["DE", "FR"], dtype=object), n, p=p)
        return cols

    write_windows(store, "m", T0, W, 10, 2000, g, seed=9)
    cfg = config(reference={"kind": "previous", "windows": 3}, segments=["country"])
    verdicts = Monitor(store, cfg).run_once()
    assert not any(v.findings for v in verdicts[:8])
    for v in verdicts[8:]:
        found = {(f.feature, f.metric) for f in v.findings if f.kind == "quality"}
        assert ("segment:country=DE", "volume") in found, found
    row = store.query(f"SELECT {D.details} FROM {D} WHERE {D.feature} = 'segment:country=DE' "
                      f"ORDER BY {D.window_start} DESC LIMIT 1")
    assert '"n": 0' in row[0][0]


def test_a_segment_whose_traffic_stops_stays_found_once_a_sliding_reference_has_passed(
    store: Store,
) -> None:
    """A `previous` reference of 3 windows learnt the stop: DE's volume was flagged in 3
    windows (8-10), then "recovered" with its traffic still gone. A value whose traffic fell
    is held to its share until it comes back, across passes too, and its return is not a
    new category."""
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        cols = gen()(i, rng, n)
        p = [0.0, 1.0, 0.0] if 8 <= i < 16 else [0.3, 0.7, 0.0]  # DE broken for 8 windows
        if i == 16:  # DE back, and a new country at 1.5 % (its share of all the events,
            p = [0.3, 0.685, 0.015]  # not of those but DE's: 2.1 %, over the 2 % limit)
        cols["segment:country"] = rng.choice(np.array(["DE", "FR", "NL"], dtype=object), n,
                                             p=p)
        return cols

    cfg = config(reference={"kind": "previous", "windows": 3}, segments=["country"])
    write_windows(store, "m", T0, W, 12, 2000, g, seed=9)
    verdicts = Monitor(store, cfg).run_once()  # a pass ends inside the stop
    write_windows(store, "m", T0 + 12 * W, W, 10, 2000, lambda i, rng, n: g(i + 12, rng, n),
                  seed=10)
    verdicts += Monitor(store, cfg).run_once()
    assert len(verdicts) == 22
    de = [i for i, v in enumerate(verdicts) if any(
        f.feature == "segment:country=DE" and f.metric == "volume" for f in v.findings)]
    assert de == list(range(8, 16))
    late = [(i, f.feature, f.metric, round(f.statistic, 4), f.threshold)
            for i, v in enumerate(verdicts) if i >= 16
            for f in v.findings if f.feature.startswith("segment:")]
    assert not late, late


def test_uploaded_segments_and_labels_keep_the_spelling_events_use(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "train.csv"
    path.write_text("x,zip,tier,label\n1.0,01000,1,1\n2.0,02000,,0\n3.0,01000,2,\n")
    cfg_file = tmp_path / "driftscope.yaml"
    cfg_file.write_text(yaml.safe_dump({"store": {"dsn": store.dsn,
                                                  "database": store.database}}))
    result = CliRunner().invoke(app, ["reference", "upload", "--model", "m", "--segments",
                                      "zip,tier", "-c", str(cfg_file), str(path)])
    assert result.exit_code == 0, result.output
    R = S.REFERENCE_EVENTS
    rows = store.query(f"SELECT {R.segments}, {R.label} FROM {R} ORDER BY {R.event_id}")
    assert [(dict(r[0]), r[1]) for r in rows] == [
        ({"zip": "01000", "tier": "1"}, "1"), ({"zip": "02000"}, "0"),
        ({"zip": "01000", "tier": "2"}, None)]


def test_segment_volume_ignores_a_busy_models_mix_swings_but_not_a_stop() -> None:
    from driftscope.monitor.config import QualitySpec
    from driftscope.monitor.quality import segment_volume

    ref = np.array(["eu"] * 2400 + ["us"] * 9600, dtype=object)  # 12 windows of 1,000
    swing = np.array(["eu"] * 2300 + ["us"] * 7700, dtype=object)  # 20 % → 23 % at n = 10k
    dip = np.array(["eu"] * 1600 + ["us"] * 8400, dtype=object)  # 20 % → 16 %
    stop = np.array(["us"] * 10000, dtype=object)
    spec = QualitySpec()
    assert not any(r.bad for r in segment_volume("r", ref, swing, spec, 30))
    assert not any(r.bad for r in segment_volume("r", ref, dip, spec, 30))
    assert [r.feature for r in segment_volume("r", ref, stop, spec, 30) if r.bad] == [
        "segment:r=eu"]
    renamed = np.array(["EU"] * 2000 + ["US"] * 8000, dtype=object)
    assert segment_volume("r", ref, renamed, spec, 30) == []  # left to new categories


@pytest.mark.parametrize("reference", [{"kind": "initial", "windows": 4},
                                       {"kind": "previous", "windows": 2}])
def test_windows_without_a_reference_yet_have_no_missing_rate_finding(
    store: Store, reference: dict[str, Any],
) -> None:
    """A feature that is always 30 % missing: the windows before the reference covers
    anything are not held to a missing rate of 0 (they paged on every new deployment)."""
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        cols = gen()(i, rng, n)
        cols["x"][rng.uniform(size=n) < 0.3] = np.nan
        return cols

    write_windows(store, "m", T0, W, 8, 2000, g, seed=9)
    Monitor(store, config(reference=reference),
            alerts=AlertEngine(store, config().alerts)).run_once()
    flagged = store.query(f"SELECT {D.window_start}, {D.segment}, {D.feature} FROM {D} FINAL "
                          f"WHERE {D.metric} = 'missing_rate' AND {D.drifted}")
    assert flagged == []
    checked = store.query(f"SELECT count() FROM {D} FINAL WHERE {D.metric} = 'missing_rate' "
                          f"AND {D.feature} = 'x' AND {D.segment} = '*'")[0][0]
    assert checked >= 4, "the windows with a reference are checked"
    assert store.count(S.ALERTS) == 0


def test_a_busy_models_negligible_shift_is_not_drift(store: Store) -> None:
    """50,000 events a window: a shift of 0.03 standard deviations is significant at that
    size and matters to no model; 0.15 is drift (the floor of EMD: 0.05 of the IQR)."""
    def g(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        cols = gen()(i, rng, n)
        cols["x"] = rng.normal({0: 0.0, 1: 0.0, 2: 0.03, 3: 0.03, 4: 0.15}.get(i, 0.15), 1, n)
        return cols

    write_windows(store, "m", T0, W, 6, 50_000, g, seed=10)
    cfg = config(reference={"kind": "fixed", "start": T0.isoformat(),
                            "end": (T0 + 2 * W).isoformat()}, features=["x"])
    verdicts = Monitor(store, cfg).run_once()
    drifted = [i for i, v in enumerate(verdicts) if v.drifted]
    assert drifted == [4, 5]
    (stat, thr), = store.query(
        f"SELECT {D.statistic}, {D.threshold} FROM {D} FINAL WHERE {D.metric} = "
        f"'emd' AND {D.segment} = '*' AND {D.window_start} = {{t:DateTime64(3, 'UTC')}}",
        {"t": T0 + 2 * W})
    assert thr < stat < 0.05, "above the sample-size threshold, below the practical floor"


def test_reference_upload_refuses_what_cannot_be_what_was_meant(
    store: Store, tmp_path: Path
) -> None:
    train = pd.DataFrame({"Age": [30, 40, 50], "x": [0.1, 0.2, 0.3], "label": ["1", "0", "1"]})
    train.to_csv(tmp_path / "train.csv", index=False)
    cfg_file = tmp_path / "driftscope.yaml"
    cfg_file.write_text(yaml.safe_dump({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m"}],
        "monitors": [{"name": "vs-train", "model": "m", "features": ["age", "x"],
                      "reference": {"kind": "dataset", "dataset": "train"}}]}))

    def upload(*args: str) -> Any:
        return CliRunner().invoke(app, ["reference", "upload", "-c", str(cfg_file), *args,
                                        str(tmp_path / "train.csv")])

    cases = {
        ("--model", "nosuchmodel"): "model 'nosuchmodel' is neither configured",
        ("--model", "m", "--outputs", "prob"): "--outputs: the file has no column prob",
        ("--model", "m", "--segments", "country"): "--segments: the file has no column country",
        ("--model", "m"): "monitor vs-train compares with this dataset, and the file has no "
                          "column age (did you mean Age?)",
    }
    for args, message in cases.items():
        out = upload(*args)
        assert isinstance(out.exception, ConfigError), (args, out.output)
        assert message in str(out.exception) and "\n" not in str(out.exception)
    assert store.count("reference_events") == 0  # nothing uploaded
    ok = upload("--model", "m", "--name", "other")  # no monitor uses "other": as it is
    assert ok.exit_code == 0, ok.output


def test_reference_upload_asks_for_the_outputs_a_monitor_compares(
    store: Store, tmp_path: Path
) -> None:
    """The README's upload, without `--outputs score`: the score went in as a feature, and
    the monitor's output drift was never judged, in silence (20 windows, no output row)."""
    train = pd.DataFrame({"x": [0.1, 0.2, 0.3], "score": [0.2, 0.7, 0.4]})
    train.to_csv(tmp_path / "train.csv", index=False)
    train[["x"]].to_csv(tmp_path / "bare.csv", index=False)
    cfg_file = tmp_path / "driftscope.yaml"
    cfg_file.write_text(yaml.safe_dump({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m"}],
        "monitors": [{"name": "vs-train", "model": "m", "features": ["x"],
                      "outputs": ["score"],
                      "reference": {"kind": "dataset", "dataset": "train"}}]}))

    def upload(file: str, *args: str) -> Any:
        return CliRunner().invoke(app, ["reference", "upload", "-c", str(cfg_file), "-m", "m",
                                        "--name", "train", *args, str(tmp_path / file)])

    out = upload("train.csv")
    assert isinstance(out.exception, ConfigError), out.output
    assert str(out.exception) == ("monitor vs-train compares its output score with this "
                                  "dataset: name it --outputs score")
    assert store.count("reference_events") == 0
    assert upload("train.csv", "--outputs", "score").exit_code == 0
    bare = upload("bare.csv")  # (a training set without the model's scores: as it is)
    assert bare.exit_code == 0, bare.output
    assert ("no column for output score of monitor vs-train: its output drift is not judged "
            "against this dataset") in bare.output


def test_events_that_came_late_do_not_change_an_initial_reference(store: Store) -> None:
    """Old events replayed days later (a second `simulate` run, a straggler batch) land in
    the initial windows, late: the reference stays what those windows held when they
    closed (before: it took them in, and the clean traffic after paged as drift)."""
    from driftscope.monitor.seed import event_rows

    write_windows(store, "m", T0, W, 20, 300, gen(), seed=11)
    rng = np.random.default_rng(12)
    late_at = S.EVENTS.columns.index("late")
    replay = []
    for i in range(10):  # as many again in each initial window, far off and late
        cols = {"x": rng.normal(3.0, 1, 300),
                "plan": rng.choice(np.array(["a", "b", "c"], dtype=object), 300)}
        for row in event_rows("m", T0 + i * W, W, 300, cols, f"late-{i}"):
            replay.append((*row[:late_at], 1, *row[late_at + 1:]))
    store.insert(S.EVENTS, replay, S.EVENTS.columns)
    verdicts = Monitor(store, config(reference={"kind": "initial", "windows": 10})).run_once()
    judged = [v for v in verdicts if v.window_start >= T0 + 10 * W]
    assert len(judged) == 10
    assert not any(v.drifted for v in judged), [v.findings[:1] for v in judged if v.drifted]
