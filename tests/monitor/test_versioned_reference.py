"""A retrained model is judged against its own training set: a dataset reference named by
``{model_version}`` compares each window with the dataset of the version that served it.

Before, a deployed retraining started no new reference: the new version's windows were
held to the old training set, and the drift it was retrained for stayed "drift"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from driftscope.cli import app
from driftscope.config import Config
from driftscope.errors import ConfigError
from driftscope.monitor.config import ReferenceSpec
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.monitor.upload import check_columns, thin_columns, upload
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS
VERSIONED = {"kind": "dataset", "dataset": "training-{model_version}"}


def config(reference: dict[str, Any], logging: tuple[str, ...] = ("raw",)) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m", "logging": list(logging)}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": reference,
                      "persistence": {"enabled": False}}],
        "alerts": {"console": False}})


def served(loc: float, version: str | None = None, mix: float = 0.0) -> Any:
    """Window columns around ``loc``; ``version`` serves them, or ``mix`` of them "old"."""
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        cols: dict[str, Any] = {"x": rng.normal(loc, 1, n)}
        if version is not None:
            cols["model_version"] = np.where(rng.random(n) < mix, "old", version)
        return cols
    return make


def judged(store: Store) -> list[tuple[bool, str]]:
    """Each window's EMD verdict and the dataset it was judged against, in time order."""
    rows = store.query(
        f"SELECT {D.drifted}, JSONExtractString({D.details}, 'reference_dataset') FROM {D} "
        f"FINAL WHERE {D.metric} = 'emd' ORDER BY {D.window_start}")
    return [(bool(d), str(name)) for d, name in rows]


def train(store: Store, name: str, loc: float, seed: int) -> None:
    upload(store, "m", name, pd.DataFrame(
        {"x": np.random.default_rng(seed).normal(loc, 1, 3000)}))


def test_each_version_is_judged_against_its_own_training_set(store: Store) -> None:
    train(store, "training-1", 0.0, 1)
    train(store, "training-2", 1.5, 2)  # retrained on the world as it became
    write_windows(store, "m", T0, W, 2, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 2 * W, W, 2, 500, served(1.5, "2"), seed=1)
    Monitor(store, config(VERSIONED)).run_once()
    assert judged(store) == [(False, "training-1")] * 2 + [(False, "training-2")] * 2


def test_one_dataset_for_every_version_flags_the_retrained_version(store: Store) -> None:
    """The same windows against one name: what the template spares a retrained model."""
    train(store, "training-1", 0.0, 1)
    write_windows(store, "m", T0, W, 2, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 2 * W, W, 2, 500, served(1.5, "2"), seed=1)
    Monitor(store, config({"kind": "dataset", "dataset": "training-1"})).run_once()
    assert [d for d, _ in judged(store)] == [False, False, True, True]


def test_during_a_rollout_the_version_serving_most_of_a_window_names_its_dataset(
    store: Store,
) -> None:
    train(store, "training-2", 1.5, 2)
    train(store, "training-old", 0.0, 1)
    # 30 % of the window still served by the old version: judged as version 2's
    write_windows(store, "m", T0, W, 1, 1000, served(1.5, "2", mix=0.3), seed=0)
    write_windows(store, "m", T0 + W, W, 1, 1000, served(0.0, "2", mix=0.7), seed=1)
    Monitor(store, config(VERSIONED)).run_once()
    assert [name for _, name in judged(store)] == ["training-2", "training-old"]


def test_a_version_whose_dataset_is_not_uploaded_holds_its_windows_until_it_is(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    train(store, "training-1", 0.0, 1)
    write_windows(store, "m", T0, W, 1, 500, served(0.0, "1"), seed=0)
    kept = Monitor(store, config(VERSIONED))
    kept.run_once()
    write_windows(store, "m", T0 + W, W, 1, 500, served(1.5, "2"), seed=1)  # deployed
    kept.run_once()
    assert judged(store) == [(False, "training-1")]  # (version 2's window waits)
    line = next(r.getMessage() for r in caplog.records if "not run" in r.getMessage())
    assert "'training-2'" in line and "version '2'" in line and "'training-1'" in line
    train(store, "training-2", 1.5, 2)
    kept.run_once()
    assert judged(store) == [(False, "training-1"), (False, "training-2")]


def test_windows_whose_events_carry_no_version_are_a_one_line_error(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    train(store, "training-1", 0.0, 1)
    write_windows(store, "m", T0, W, 1, 500, served(0.0, ""), seed=0)
    Monitor(store, config(VERSIONED)).run_once()
    assert judged(store) == []
    line = next(r.getMessage() for r in caplog.records if "not run" in r.getMessage())
    assert "carries a model_version" in line and "\n" not in line


def test_the_name_holds_no_other_braces_and_matches_each_versions_upload(
    store: Store,
) -> None:
    with pytest.raises(ValueError, match="the one name in braces it may hold"):
        ReferenceSpec(kind="dataset", dataset="training-{version}")
    spec = ReferenceSpec(kind="dataset", dataset="train-{model_version}.v")
    assert spec.takes("train-2026-03.v") and not spec.takes("train-.v")
    assert not spec.takes("train-3.w") and not ReferenceSpec().takes("train-3.v")
    cfg = config(VERSIONED)
    # an upload of a version's dataset is checked against the monitors that read it
    with pytest.raises(ConfigError, match="monitor mon compares with this dataset"):
        check_columns(cfg, store, "m", "training-7", pd.DataFrame({"y": [1.0]}), [], [])
    assert thin_columns(cfg, "m", "training-7", pd.DataFrame({"x": [1.0]}))


def test_a_model_logged_only_as_profiles_cannot_name_a_dataset_by_version() -> None:
    with pytest.raises(ValueError, match="each event's model_version"):
        config(VERSIONED, logging=("profile",))


def test_a_version_no_longer_serving_without_its_dataset_is_left_unscored(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    """A monitor added to a model with a history: versions 1 (whose training set is gone)
    and unversioned events before it do not hold up version 2's windows."""
    train(store, "training-2", 1.5, 2)
    write_windows(store, "m", T0, W, 1, 500, served(0.0, ""), seed=0)
    write_windows(store, "m", T0 + W, W, 2, 500, served(0.0, "1"), seed=1)
    write_windows(store, "m", T0 + 3 * W, W, 2, 500, served(1.5, "2"), seed=2)
    assert len(Monitor(store, config(VERSIONED)).run_once()) == 5
    assert judged(store) == [(False, "training-2")] * 2
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"
              and "not scored for drift" in r.getMessage()]
    assert len(warned) == 2  # (once for the unversioned events, once for version 1)
    assert "no dataset 'training-1' is uploaded" in warned[1] and "'2' serves now" in warned[1]


def versioned(**monitor: Any) -> Config:
    """The versioned monitor with persistence on (the default) and other options."""
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m", "allowed_lateness": "1m"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": VERSIONED,
                      **monitor}],
        "alerts": {"console": False}})


def not_scored(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"
            and "not scored for drift" in r.getMessage()]


def test_the_persistence_check_needs_no_dataset_of_another_version(
    store: Store, caplog: pytest.LogCaptureFixture,
) -> None:
    """A drift in the model's first windows, one after a window without traffic, and one
    in version 2 right after version 1 (whose training set is gone): the check leaves out
    the windows before that another version served (or none). Before session 31's fix, it
    asked each window before for its own version's dataset, and the monitor stopped for
    good on windows that had no event or no upload."""
    train(store, "training-2", 0.0, 2)
    write_windows(store, "m", T0, W, 2, 500, served(2.0, "1"), seed=0)  # drifted at once
    write_windows(store, "m", T0 + 3 * W, W, 2, 500, served(2.0, "2"), seed=1)  # a gap
    verdicts = Monitor(store, versioned()).run_once()
    assert [int((v.window_start - T0) / W) for v in verdicts] == [0, 1, 3, 4]
    # version 1 no longer serves and its training set is gone: its windows are unscored
    assert judged(store) == [(True, "training-2")] * 2
    (warned,) = not_scored(caplog)  # (version 1's; not the gap's, nor the time before)
    assert "version '1' served the window 2026-02-01 00:00" in warned


def test_a_silent_window_needs_no_version(store: Store,
                                          caplog: pytest.LogCaptureFixture) -> None:
    train(store, "training-1", 0.0, 1)
    write_windows(store, "m", T0, W, 11, 200, served(0.0, "1"), seed=1)
    write_windows(store, "m", T0 + 11 * W, W, 1, 200, served(0.0, "1"), seed=2, closed=False)
    cfg = versioned(quality={"silence": "20m"})
    clock = lambda: T0 + 12 * W + timedelta(minutes=30)  # noqa: E731
    got = Monitor(store, cfg, clock=clock).run_once()
    assert [int((v.window_start - T0) / W) for v in got] == list(range(14))
    assert [f.reason for f in got[-1].findings] == ["silence"]
    assert not_scored(caplog) == []  # (an empty window has no version to miss)


def test_the_windows_before_a_missing_dataset_are_kept(store: Store) -> None:
    """Before, the batch they shared with the waiting window was thrown away, and judged
    again at every pass until the upload."""
    train(store, "training-1", 0.0, 1)
    write_windows(store, "m", T0, W, 3, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 3 * W, W, 1, 500, served(1.5, "2"), seed=1)
    kept = Monitor(store, config(VERSIONED))
    assert len(kept.run_once()) == 3
    assert len(kept.run_once()) == 0  # (not judged again)
    assert judged(store) == [(False, "training-1")] * 3


def drift_rows(store: Store) -> list[tuple[int, int]]:
    """(window index, its EMD rows) and (window index, 1 when recorded as processed)."""
    rows = store.query(f"SELECT {D.window_start}, count() FROM {D} WHERE {D.metric} = 'emd' "
                       f"GROUP BY 1 ORDER BY 1")
    return [(int((t.replace(tzinfo=UTC) - T0) / W), int(n)) for t, n in rows]


def test_a_backfill_stopped_by_a_missing_dataset_keeps_the_windows_it_did_not_redo(
    store: Store,
) -> None:
    """Before, it forgot the batch's windows before judging them: those after the stop
    were judged again by the next live pass beside their old rows (two of each)."""
    train(store, "training-1", 0.0, 1)
    train(store, "training-2", 1.5, 2)
    write_windows(store, "m", T0, W, 2, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 2 * W, W, 2, 500, served(1.5, "2"), seed=1)
    Monitor(store, config(VERSIONED)).run_once()
    R = S.REFERENCES
    store.command(f"DELETE FROM {S.REFERENCE_EVENTS} WHERE reference_name = 'training-2'")
    store.command(f"DELETE FROM {R} WHERE {R.name} = 'training-2'")
    kept = Monitor(store, config(VERSIONED))
    assert len(kept.backfill(T0, T0 + 4 * W)) == 2  # windows 0 and 1, then the stop
    train(store, "training-2", 1.5, 2)
    assert kept.run_once() == []  # windows 2 and 3 are still processed
    assert drift_rows(store) == [(0, 1), (1, 1), (2, 1), (3, 1)]


def test_the_backfill_command_says_how_far_it_got_before_the_stop(
    store: Store, tmp_path: Path,
) -> None:
    """Before, it said "not backfilled" of a monitor whose first windows it had done."""
    train(store, "training-1", 0.0, 1)
    write_windows(store, "m", T0, W, 2, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 2 * W, W, 2, 500, served(1.5, "2"), seed=1)
    cfg = tmp_path / "driftscope.yaml"
    cfg.write_text(yaml.safe_dump({
        "store": {"dsn": store.dsn, "database": store.database},
        "models": [{"id": "m", "window": "10m"}], "alerts": {"console": False},
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": VERSIONED}]}))
    out = CliRunner().invoke(app, ["backfill", "--since", T0.isoformat(),
                                   "--until", (T0 + 4 * W).isoformat(), "-c", str(cfg)])
    assert out.exit_code == 2, out.output
    assert ("monitor mon: 2 window(s) backfilled, then stopped (a configuration error: see "
            "the error above)") in out.output


def test_a_sampled_models_version_is_its_samples(store: Store) -> None:
    """The samples table holds more candidates than a window's bottom-k sample, the
    window's first events among them: version 1 served the window's first 40 % (1,800
    candidates kept), version 2 the rest; the sample (k = 100) is mostly version 2's."""
    from driftscope.monitor.seed import event_rows
    from driftscope.store.versions import serving_version

    rng = np.random.default_rng(0)
    rows = []
    for version, n, low in (("1", 1800, 2**62), ("2", 900, 0)):
        cols = {"x": rng.normal(size=n), "model_version": [version] * n}
        for r in event_rows("m", T0, W, n, cols, version):  # (v1: hashes above v2's)
            rows.append((T0, 600, "", int(rng.integers(low, low + 2**61)), *r[:12], *r[-2:]))
    store.insert(S.SAMPLES, rows, S.SAMPLES.columns)
    assert serving_version(store, "m", T0, T0 + W, sample=(600, 100)) == "2"
    assert serving_version(store, "m", T0, T0 + W, sample=(600, None)) == "1"  # (rough)
    assert serving_version(store, "m", T0 + W, T0 + 2 * W, sample=(600, 100)) is None
    # the monitor's verdict names it (what a retraining request names: the alert engine,
    # not knowing k, would count every candidate)
    store.insert(S.WINDOWS, [("m", T0, T0 + W, 600, 2700, 0, T0 + W)], S.WINDOWS.columns)
    store.insert(S.MODEL_VERSIONS, [("m", v, T0, T0 + W) for v in "12"],
                 S.MODEL_VERSIONS.columns)  # (as the collector writes them)
    (verdict,) = Monitor(store, config({"kind": "previous"}, logging=("sample",))).run_once()
    assert verdict.model_version == "2"


def test_a_name_another_monitor_uses_is_that_monitors(store: Store) -> None:
    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "10m"}],
        "monitors": [{"name": "per-version", "model": "m", "features": ["x"],
                      "reference": VERSIONED},
                     {"name": "holdout", "model": "m", "features": ["y"],
                      "reference": {"kind": "dataset", "dataset": "training-holdout"}}]})
    check_columns(cfg, store, "m", "training-holdout", pd.DataFrame({"y": [1.0]}), [], [])
    with pytest.raises(ConfigError, match="monitor per-version compares"):
        check_columns(cfg, store, "m", "training-3", pd.DataFrame({"y": [1.0]}), [], [])
    with pytest.raises(ConfigError, match="'training-3' for version 3"):
        upload(store, "m", "training-{model_version}", pd.DataFrame({"x": [1.0]}))
    for bad in ("{model_version}", "t-{model_version}-{model_version}"):
        with pytest.raises(ValueError, match="once, beside a fixed part"):
            ReferenceSpec(kind="dataset", dataset=bad)
    assert ReferenceSpec(kind="dataset", dataset="train{2025}").dataset == "train{2025}"


def test_a_window_without_events_does_not_stand_in_for_one_without_a_version(
    store: Store,
) -> None:
    """A reader that met a silent window first: before, its empty reference was kept under
    the key an unversioned window shares, which then went unscored and unsaid."""
    from driftscope.monitor.reference import ReferenceReader
    from driftscope.types import Window

    train(store, "training-1", 0.0, 1)
    write_windows(store, "m", T0 + W, W, 1, 500, served(0.0, ""), seed=0)
    reader = ReferenceReader(store, "m", ["x"], 30)
    spec = ReferenceSpec.model_validate(VERSIONED)
    assert reader.frame(spec, Window("m", T0, W)).n == 0  # (no events: nothing to judge)
    with pytest.raises(ConfigError, match="carries a model_version"):
        reader.frame(spec, Window("m", T0 + W, W))
