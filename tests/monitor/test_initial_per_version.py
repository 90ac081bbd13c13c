"""``reference: {kind: initial, per_version: true}``: each model version learns its own
normal from the first windows it served, for a model without a training set to upload.

Before, an ``initial`` reference was the model's first windows for good: a retrained
version whose inputs or outputs had moved was flagged for drift in every window, and
could ask to be retrained again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from driftscope.config import Config
from driftscope.monitor import reference
from driftscope.monitor.config import ReferenceSpec
from driftscope.monitor.reference import reference_key
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import event_rows, write_windows
from driftscope.monitor.upload import upload
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 3, 1, tzinfo=UTC)
W = timedelta(minutes=10)
D = S.DRIFT_RESULTS
PER_VERSION = {"kind": "initial", "windows": 3, "per_version": True}


def config(reference: dict[str, Any], persistence: bool = False,
           logging: tuple[str, ...] = ("raw",), **model: Any) -> Config:
    return Config.model_validate({
        "models": [{"id": "m", "window": "10m", "logging": list(logging), **model}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"], "reference": reference,
                      "persistence": {"enabled": persistence}}],
        "alerts": {"console": False}})


def served(loc: float, version: str) -> Any:
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(loc, 1, n), "model_version": np.full(n, version, dtype=object)}
    return make


def judged(store: Store) -> dict[int, tuple[bool, str, int]]:
    """Each scored window's index: its EMD verdict, the version whose first windows it was
    judged against, and the reference's size."""
    rows = store.query(
        f"SELECT {D.window_start}, {D.drifted}, "
        f"JSONExtractString({D.details}, 'reference_model_version'), {D.n_ref} FROM {D} "
        f"FINAL WHERE {D.metric} = 'emd' ORDER BY {D.window_start}")
    return {int((t.replace(tzinfo=UTC) - T0) / W): (bool(d), str(v), int(n))
            for t, d, v, n in rows}


def test_each_version_is_judged_against_its_own_first_windows(store: Store) -> None:
    write_windows(store, "m", T0, W, 6, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 6 * W, W, 6, 500, served(1.5, "2"), seed=1)
    Monitor(store, config(PER_VERSION)).run_once()
    assert judged(store) == {
        **{i: (False, "1", 1500) for i in (3, 4, 5)},  # (0-2: version 1 learns)
        **{i: (False, "2", 1500) for i in (9, 10, 11)},  # (6-8: version 2 learns)
    }


def test_one_initial_reference_for_the_model_flags_the_retrained_version(
    store: Store,
) -> None:
    """The same windows against the model's first windows: what per_version spares."""
    write_windows(store, "m", T0, W, 6, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 6 * W, W, 6, 500, served(1.5, "2"), seed=1)
    Monitor(store, config({"kind": "initial", "windows": 3})).run_once()
    got = judged(store)
    assert [i for i, (d, _, _) in got.items() if d] == list(range(6, 12))
    assert {v for _, v, _ in got.values()} == {""}  # (no version named)


def test_a_version_drifting_after_it_learnt_its_normal_is_flagged(store: Store) -> None:
    """With the persistence check on (the default), which reads the windows before."""
    write_windows(store, "m", T0, W, 4, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 4 * W, W, 5, 500, served(1.5, "2"), seed=1)
    write_windows(store, "m", T0 + 9 * W, W, 3, 500, served(3.0, "2"), seed=2)
    Monitor(store, config(PER_VERSION, persistence=True)).run_once()
    got = judged(store)
    assert [i for i, (d, _, _) in got.items() if d] == [9, 10, 11]
    assert {i: v for i, (_, v, _) in got.items()} == {3: "1", 7: "2", 8: "2", 9: "2", 10: "2",
                                                      11: "2"}


def test_a_rolled_back_version_keeps_its_own_windows_and_no_others(store: Store) -> None:
    """Version 1 serves a window, version 2 three, then version 1 again: version 1's
    initial windows are its first and the ones after the rollback, not version 2's."""
    write_windows(store, "m", T0, W, 1, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + W, W, 3, 500, served(1.5, "2"), seed=1)
    write_windows(store, "m", T0 + 4 * W, W, 4, 500, served(0.0, "1"), seed=2)
    Monitor(store, config({**PER_VERSION, "windows": 2})).run_once()
    got = judged(store)
    assert got[3] == (False, "2", 1000)  # (version 2's windows 1 and 2)
    assert {i: got[i] for i in (5, 6, 7)} == {i: (False, "1", 1000) for i in (5, 6, 7)}
    assert 4 not in got  # (version 1's second window learns)


def test_late_events_do_not_move_a_versions_first_windows(store: Store) -> None:
    """A drained old instance's events, late, in the new version's first window: the
    version's first windows stay those it served on time, and its reference with them
    (before, its first windows moved one on, and a window already scored was then one of
    them: unscored by a later backfill)."""
    write_windows(store, "m", T0, W, 4, 500, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 4 * W, W, 6, 500, served(1.5, "2"), seed=1)
    Monitor(store, config(PER_VERSION)).run_once()
    rng = np.random.default_rng(9)
    rows = event_rows("m", T0 + 4 * W, W, 600, {"x": rng.normal(0, 1, 600), "model_version":
                                                np.full(600, "1", dtype=object)}, "late")
    late = S.EVENTS.columns.index("late")
    store.insert(S.EVENTS, [(*r[:late], 1, *r[late + 1:]) for r in rows], S.EVENTS.columns)
    write_windows(store, "m", T0 + 10 * W, W, 2, 500, served(1.5, "2"), seed=3)
    Monitor(store, config(PER_VERSION)).run_once()
    digests = store.query(
        f"SELECT DISTINCT JSONExtractString({D.details}, 'reference_version') FROM {D} FINAL "
        f"WHERE {D.metric} = 'emd' AND {D.window_start} >= {{t:DateTime64(3, 'UTC')}}",
        {"t": T0 + 7 * W})
    assert len(digests) == 1
    assert sorted(judged(store)) == [3, 7, 8, 9, 10, 11]
    # the window the late batch landed in is version 2's, in the verdict too (what a
    # retraining request names), though most of its events are now version 1's
    again = Monitor(store, config(PER_VERSION)).backfill(T0 + 4 * W, T0 + 5 * W)
    assert [v.model_version for v in again] == ["2"]


@pytest.mark.parametrize("spec, queries", [
    (PER_VERSION, 2),  # (the window's neighbourhood, and its version's first windows)
    ({"kind": "dataset", "dataset": "training-{model_version}"}, 1),
])
def test_a_live_pass_asks_which_version_served_once(
    store: Store, monkeypatch: pytest.MonkeyPatch, spec: dict[str, Any], queries: int,
) -> None:
    """The persistence check reads the 14 windows before a drift, and each asked on its
    own which version served it (13 queries for one drifted window, with a dataset)."""
    upload(store, "m", "training-1", pd.DataFrame(
        {"x": np.random.default_rng(4).normal(0, 1, 3000)}))
    write_windows(store, "m", T0, W, 20, 500, served(0.0, "1"), seed=0)
    Monitor(store, config(spec, persistence=True)).run_once()
    write_windows(store, "m", T0 + 20 * W, W, 1, 500, served(2.0, "1"), seed=1)
    asked: list[datetime] = []
    versions = reference.serving_versions

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(args[2])
        return versions(*args, **kwargs)

    monkeypatch.setattr(reference, "serving_versions", counted)
    (v,) = Monitor(store, config(spec, persistence=True)).run_once()
    assert v.drifted and v.persistence_z is not None and v.model_version == "1"
    assert len(asked) == queries


def test_a_rollback_reads_the_versions_first_windows_not_the_months_between(
    store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_windows(store, "m", T0, W, 1, 300, served(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + W, W, 100, 300, served(1.5, "2"), seed=1)
    write_windows(store, "m", T0 + 101 * W, W, 4, 300, served(0.0, "1"), seed=2)
    read: list[int] = []
    events = reference.read_events

    def counted(*args: Any, **kwargs: Any) -> Any:
        frame = events(*args, **kwargs)
        read.append(frame.n)
        return frame

    monkeypatch.setattr(reference, "read_events", counted)
    Monitor(store, config(PER_VERSION)).run_once()
    assert judged(store)[104] == (False, "1", 900)
    assert max(read) == 900  # (3 windows; before: v1 read the 102 between, 30,900 events)


def test_the_persistence_check_leaves_out_windows_another_version_served(
    store: Store,
) -> None:
    """A spike in version 2's first scored window is judged as it would be with nothing
    before version 2 (before, version 1's windows were read against version 2's reference,
    and their shift set the check's baseline)."""
    def story(model: str, before: bool) -> list[tuple[Any, ...]]:
        if before:
            write_windows(store, model, T0, W, 12, 500, served(0.0, "1"), seed=0)
        write_windows(store, model, T0 + 12 * W, W, 3, 500, served(-1.0, "2"), seed=1)
        write_windows(store, model, T0 + 15 * W, W, 1, 500, served(-0.6, "2"), seed=2)
        write_windows(store, model, T0 + 16 * W, W, 2, 500, served(-1.0, "2"), seed=3)
        cfg = Config.model_validate({
            "models": [{"id": model, "window": "10m"}],
            "monitors": [{"name": model, "model": model, "features": ["x"],
                          "reference": PER_VERSION}],
            "alerts": {"console": False}})
        got = Monitor(store, cfg).backfill(T0 + 15 * W, T0 + 18 * W)
        return [(v.drifted, v.carried, v.follows, v.persistence_z) for v in got]

    alone = story("alone", before=False)
    assert alone[0][0] and alone[0][3] is not None  # (the spike drifted: the check ran)
    assert story("after", before=True) == alone


def test_a_broken_deploy_is_found_in_its_first_window(store: Store) -> None:
    """Version 2 ships with a feature null in half the events: inside its first windows,
    which have no reference of their own, its features are held to version 1's (before,
    nothing was checked there, and then the broken windows were its normal). Its outputs,
    which a new model may well move, are not."""
    def broken(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        x = rng.normal(0, 1, n)
        x[: n // 2] = np.nan
        return {"x": x, "output:score": rng.uniform(5, 6, n),  # (v1's lie in [0, 1))
                "model_version": np.full(n, "2", dtype=object)}

    def first(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {**served(0.0, "1")(i, rng, n), "output:score": rng.uniform(0, 1, n)}

    write_windows(store, "m", T0, W, 4, 500, first, seed=0)
    write_windows(store, "m", T0 + 4 * W, W, 3, 500, broken, seed=1)
    cfg = config(PER_VERSION)
    cfg = cfg.model_copy(update={"monitors": [cfg.monitors[0].model_copy(
        update={"outputs": ["score"]})]})
    verdicts = Monitor(store, cfg).run_once()
    found = {int((v.window_start - T0) / W): {(f.feature, f.metric) for f in v.findings}
             for v in verdicts}
    assert found[4] == found[5] == found[6] == {("x", "missing_rate")}
    assert not any(found[i] for i in range(4))


def missing(share: float, version: str) -> Any:
    def make(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        x = rng.normal(0, 1, n)
        x[rng.random(n) < share] = np.nan
        return {"x": x, "model_version": np.full(n, version, dtype=object)}
    return make


def test_a_version_is_held_to_the_one_before_it_whatever_was_rolled_back_since(
    store: Store,
) -> None:
    """Version 2 logs x 40 % missing (its own feature pipeline, on purpose), version 3
    likewise; after version 3, a rollback to version 1 (x complete). A backfill holds
    version 3's first windows to version 2, which served before it, not to version 1
    (whose events came last): before, they were all flagged 40 % missing."""
    write_windows(store, "m", T0, W, 4, 500, missing(0.0, "1"), seed=0)
    write_windows(store, "m", T0 + 4 * W, W, 4, 500, missing(0.4, "2"), seed=1)
    write_windows(store, "m", T0 + 8 * W, W, 4, 500, missing(0.4, "3"), seed=2)
    write_windows(store, "m", T0 + 12 * W, W, 4, 500, missing(0.0, "1"), seed=3)
    got = Monitor(store, config(PER_VERSION)).backfill(T0, T0 + 16 * W)
    assert [bool(v.findings) for v in got[8:11]] == [False] * 3
    assert {f.metric for v in got[4:7] for f in v.findings} == {"missing_rate"}  # (v1's)


def test_the_first_version_logged_is_held_to_the_unversioned_windows_before_it(
    store: Store,
) -> None:
    write_windows(store, "m", T0, W, 4, 500, missing(0.0, ""), seed=0)
    write_windows(store, "m", T0 + 4 * W, W, 3, 500, missing(0.5, "1"), seed=1)
    got = Monitor(store, config(PER_VERSION)).run_once()
    assert [{f.metric for f in v.findings} for v in got[4:]] == [{"missing_rate"}] * 3


def test_windows_without_a_version_are_a_version_of_their_own(store: Store) -> None:
    """An application that began logging versions later: its unversioned windows are
    judged against the first unversioned ones, the versioned against their version's."""
    write_windows(store, "m", T0, W, 4, 500, served(0.0, ""), seed=0)
    write_windows(store, "m", T0 + 4 * W, W, 4, 500, served(1.5, "7"), seed=1)
    Monitor(store, config(PER_VERSION)).run_once()
    assert judged(store) == {3: (False, "", 1500), 7: (False, "7", 1500)}


def test_a_sampled_model_reads_each_versions_first_windows_samples(store: Store) -> None:
    write_windows(store, "m", T0, W, 4, 500, served(0.0, "1"), seed=0, sampled=True)
    write_windows(store, "m", T0 + 4 * W, W, 4, 500, served(1.5, "2"), seed=1, sampled=True)
    Monitor(store, config(PER_VERSION, logging=("sample",), sample_size=200)).run_once()
    assert judged(store) == {3: (False, "1", 600), 7: (False, "2", 600)}


def test_per_version_is_for_an_initial_reference_and_needs_events() -> None:
    with pytest.raises(ValidationError, match="per_version is for an initial reference"):
        ReferenceSpec(kind="previous", per_version=True)
    with pytest.raises(ValidationError, match=r"holds \{model_version\} instead"):
        ReferenceSpec(kind="dataset", dataset="training", per_version=True)
    with pytest.raises(ValidationError, match="initial per_version"):
        config(PER_VERSION, logging=("profile",))


def test_the_fingerprints_of_existing_references_do_not_change() -> None:
    """A new option off: the rows a monitor wrote before keep their fingerprint."""
    assert "per_version" not in reference_key(ReferenceSpec(kind="initial"))
    assert "per_version" in reference_key(ReferenceSpec(kind="initial", per_version=True))


def test_with_one_version_it_judges_as_the_models_initial_reference(store: Store) -> None:
    """The persistence check included (the windows before that the same version served
    are read as they are judged: inside its first windows, without a reference)."""
    def drifting(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
        return {"x": rng.normal(1.0 if i >= 14 else 0.0, 1, n),
                "model_version": np.full(n, "1", dtype=object)}

    write_windows(store, "m", T0, W, 17, 500, drifting, seed=3)

    def verdicts(reference: dict[str, Any]) -> list[tuple[Any, ...]]:
        got = Monitor(store, config(reference, persistence=True)).backfill(T0, T0 + 17 * W)
        return [(v.drifted, v.carried, v.follows, v.persistence_z) for v in got]

    plain = verdicts({"kind": "initial", "windows": 12})
    assert [d for d, *_ in plain] == [False] * 14 + [True] * 3
    assert plain[14][3] is not None  # (the check was made)
    assert verdicts(PER_VERSION | {"windows": 12}) == plain
