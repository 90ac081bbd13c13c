"""The collector's pure parts: windows, bottom-k, feature kinds, profiles, backoff, arrays."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftscope.collector.model import ModelRegistry, guess_model_id, payload
from driftscope.collector.outage import Backoff
from driftscope.collector.profiling import merge_profiles, profile_bytes
from driftscope.collector.rows import to_arrays
from driftscope.collector.sampling import BottomK, sample_hash
from driftscope.collector.windows import WindowTracker
from driftscope.config import Config
from driftscope.errors import EventError
from driftscope.events import PredictionEvent


def test_windows_close_on_watermark_and_flag_late() -> None:
    t = WindowTracker()
    assert t.assign("m", 1_000, 10_000, 2_000) == (0, False)
    assert t.assign("m", 11_000, 10_000, 2_000) == (10_000, False)  # watermark 9 s
    assert t.take_closed() == []
    assert t.assign("m", 12_500, 10_000, 2_000) == (10_000, False)  # watermark 10.5 s
    assert t.take_closed() == [("m", 0, 10_000)]
    assert t.assign("m", 9_999, 10_000, 2_000) == (0, True)
    assert t.take_closed() == [("m", 0, 10_000)]  # its counts are rewritten
    assert t.assign("other", 9_999, 10_000, 2_000) == (0, False)  # watermarks are per model
    assert t.watermark("m") == 10_500


def test_a_partition_read_later_is_not_late_while_it_lags() -> None:
    t = WindowTracker()
    t.set_lagging({0, 1, 2})
    assert t.assign("m", 1_000, 10_000, 0, partition=1) == (0, False)
    assert t.assign("m", 25_000, 10_000, 0, partition=0) == (20_000, False)
    assert t.watermark("m") is None  # nothing read from lagging partition 2 yet: hold all
    t.set_lagging({0, 1})
    # partition 0 is read two windows ahead while partition 1 still has unread messages
    assert t.assign("m", 25_000, 10_000, 0, partition=0) == (20_000, False)
    assert t.take_closed() == []  # held back at partition 1's 1 s
    assert t.assign("m", 9_000, 10_000, 0, partition=1) == (0, False)  # on time, not late
    t.set_lagging({0})  # partition 1 caught up: it holds nothing back any more
    assert t.take_closed() == [("m", 0, 10_000)]
    assert t.assign("m", 5_000, 10_000, 0, partition=1) == (0, True)  # now truly late


def test_a_lagging_partition_holds_each_model_at_its_own_time() -> None:
    """Two models on one topic, one's event times a day ahead of the other's: a lagging
    partition holds each model back to that model's latest time read from it, not to the
    other model's (which would close the slower model's windows ahead of its unread events
    and flag them late)."""
    day, hour, minute = 86_400_000, 3_600_000, 60_000
    t = WindowTracker()
    t.set_lagging({0, 1})
    assert t.assign("a", 30 * minute, hour, minute, partition=1) == (0, False)
    assert t.assign("b", day + 40 * minute, hour, minute, partition=1) == (day, False)
    assert t.assign("a", 10 * hour, hour, minute, partition=0) == (10 * hour, False)
    assert t.assign("b", day + 70 * minute, hour, minute, partition=1) == (day + hour, False)
    assert t.watermark("a") == 29 * minute  # partition 1 read to 00:30 for model a
    assert t.assign("a", 50 * minute, hour, minute, partition=1) == (0, False)  # on time
    assert t.take_closed() == []
    t.set_lagging({1})  # partition 0 caught up; b's own time in partition 1 holds it
    assert t.take_closed() == [("b", day, hour)]
    t.set_lagging(set())  # partition 1 caught up too
    assert t.take_closed()[0] == ("a", 0, hour)


def test_windows_restore_closes_what_the_store_left_open() -> None:
    t = WindowTracker()
    t.restore("m", 25_000, 1_000, [(0, 10_000), (10_000, 10_000), (20_000, 10_000)])
    assert t.take_closed() == [("m", 0, 10_000), ("m", 10_000, 10_000)]
    assert t.assign("m", 15_000, 10_000, 1_000) == (10_000, True)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 300),
    k=st.integers(1, 20),
    parts=st.integers(1, 5),
    flush=st.integers(1, 50),
    seed=st.integers(0, 2**16),
)
def test_bottom_k_candidates_merge_exactly(
    n: int, k: int, parts: int, flush: int, seed: int
) -> None:
    """Partitions, restarts (state lost) and replays: the k smallest candidates are exact."""
    rng = np.random.default_rng(seed)
    ids = [f"e{seed}-{i}" for i in range(n)]
    owner = rng.integers(0, parts, n)
    stored: list[int] = []
    for p in range(parts):
        state = BottomK()
        for j, eid in enumerate(e for e, o in zip(ids, owner, strict=True) if o == p):
            if j % flush == 0 and rng.random() < 0.3:
                state = BottomK()  # a restart: the collector forgets what it saw
            h = sample_hash(eid)
            if state.offer(("m", 0, ""), h, k):
                stored.append(h)
    assert sorted(stored)[:k] == sorted(sample_hash(e) for e in ids)[:k]


def test_sample_hash_is_seeded_and_stable() -> None:
    assert sample_hash("a") == sample_hash("a") != sample_hash("b")
    assert sample_hash("a", seed=b"other") != sample_hash("a")


def _event(**kw: object) -> PredictionEvent:
    base: dict[str, object] = {"model_id": "m", "features": {"x": 1, "c": "a"}}
    base.update(kw)
    return PredictionEvent.model_validate(base)


def test_feature_kinds_and_type_change() -> None:
    reg = ModelRegistry(Config())
    assert sorted(reg.check(_event(predictions={"p": 0.3}))) == [
        ("m", "c", "categorical"),
        ("m", "prediction.p", "numeric"),
        ("m", "x", "numeric"),
    ]
    assert reg.check(_event(features={"x": 2.5, "c": None})) == []  # int and float agree
    with pytest.raises(EventError) as err:
        reg.check(_event(features={"x": "2"}))
    assert err.value.reason == "type_change"
    with pytest.raises(EventError):
        reg.check(_event(features={"x": True}))


def test_a_type_change_names_a_feature_whose_name_holds_a_line_break() -> None:
    """The dead letter keeps the first line of an error: a name with a line break left
    ``type_change: 'col'``; names are escaped as in a ``schema`` error."""
    reg = ModelRegistry(Config())
    for name in ("col\nB", "col\u2028C"):
        reg.check(_event(features={name: 1}))
        with pytest.raises(EventError) as err:
            reg.check(_event(features={name: "x"}))
        assert len(str(err.value).splitlines()) == 1
        assert str(err.value).startswith(ascii(name)[1:-1] + ": was numeric, now categorical")


def test_unknown_models_policy() -> None:
    assert ModelRegistry(Config()).model("new").logging == ["raw"]
    strict = Config.model_validate({"collector": {"unknown_models": "dead_letter"}})
    with pytest.raises(EventError) as err:
        ModelRegistry(strict).model("new")
    assert err.value.reason == "unknown_model"


def test_guess_model_id() -> None:
    assert guess_model_id(b'{"x": 1, "model_id" : "churn", "features": {') == "churn"
    assert guess_model_id(b"\xff\xfe") == ""


def test_profile_parts_merge_to_the_whole() -> None:
    kinds = {"x": "numeric", "c": "categorical"}
    recs = [{"x": float(i), "c": "ab"[i % 2]} for i in range(30)] + [{"x": None, "c": None}]
    parts = [profile_bytes(recs[i : i + 7], kinds) for i in range(0, len(recs), 7)]
    whole = merge_profiles(parts)
    reverse = merge_profiles(reversed(parts))
    for view in (whole, reverse):
        counts = view.get_column("x").get_metric("counts")
        assert counts.n.value == 31 and counts.null.value == 1
        assert view.get_column("x").get_metric("distribution").max == 29.0
    assert merge_profiles([]) is None


def test_numeric_profile_equals_whylogs_own_pandas_path() -> None:
    import pandas as pd
    from whylogs.core import DatasetProfile, DatasetProfileView

    from driftscope.collector.profiling import _schema

    rng = np.random.default_rng(3)
    x = rng.normal(size=2000)
    x[rng.random(2000) < 0.1] = np.nan
    recs = [{"x": None if np.isnan(v) else float(v), "c": "ab"[i % 2]} for i, v in enumerate(x)]
    ours = DatasetProfileView.deserialize(profile_bytes(recs, {"x": "numeric", "c": "cat"}))
    reference = DatasetProfile(schema=_schema())
    reference.track(pandas=pd.DataFrame({"x": x}))
    theirs = reference.view()
    a, b = ours.get_column("x").to_summary_dict(), theirs.get_column("x").to_summary_dict()
    exact = [k for k in a if not k.startswith("distribution/")]
    assert exact and {k: a[k] for k in exact} == {k: b[k] for k in exact}  # counts, types, HLL
    assert a["distribution/n"] == b["distribution/n"] == int((~np.isnan(x)).sum())
    assert a["distribution/min"] == b["distribution/min"]
    assert a["distribution/max"] == b["distribution/max"]
    finite = np.sort(x[~np.isnan(x)])
    for q in ("q_10", "median", "q_90"):  # KLL is randomised: compare with the exact rank
        rank = np.searchsorted(finite, a[f"distribution/{q}"]) / len(finite)
        target = {"q_10": 0.1, "median": 0.5, "q_90": 0.9}[q]
        assert abs(rank - target) < 0.02


def test_rows_to_arrays_missing_values() -> None:
    e1 = payload(_event(features={"x": 1, "c": "a"}, predictions={"p": [0.2, 0.8]}, label=1))
    e2 = payload(_event(features={"x": None}, predictions={"p": [0.5, 0.5]}))
    rows = [(p[2], 0, p[4], p[5], p[7], p[8], p[9], p[11], p[10], 0) for p in (e1, e2)]
    out = to_arrays(rows, {"x": "numeric", "c": "categorical"})
    assert out.features["x"][0] == 1.0 and np.isnan(out.features["x"][1])
    assert list(out.features["c"]) == ["a", None]
    assert out.probs["p"].shape == (2, 2)
    assert list(out.labels) == ["1", None]
    empty = to_arrays([], {"x": "numeric"})
    assert len(empty) == 0 and empty.features["x"].dtype == np.float64


def test_backoff_logs_once_per_state_change(caplog: pytest.LogCaptureFixture) -> None:
    b = Backoff(logging.getLogger("t"), first=0.1, cap=0.4)
    assert b.fail(RuntimeError("x")) is True
    assert [b.fail(RuntimeError("x")) for _ in range(3)] == [False] * 3
    assert b.delay == 0.4
    b.ok()
    b.ok()
    assert len(caplog.records) == 2


def test_processor_rejects_sub_second_windows_and_survives_huge_numbers() -> None:
    from datetime import UTC, datetime

    from driftscope.collector.batch import Batch, Message, Processor
    from driftscope.errors import ConfigError

    # refused when the config loads (a pydantic ValidationError, a ValueError)
    with pytest.raises((ConfigError, ValueError), match="whole number of seconds"):
        cfg = Config.model_validate({"models": [{"id": "m", "window": "0.5s"}]})
        Processor(cfg, ModelRegistry(cfg), lambda: datetime.now(UTC))
    cfg = Config()
    proc = Processor(cfg, ModelRegistry(cfg), lambda: datetime.now(UTC))
    batch = Batch()
    huge = b'{"model_id": "m", "features": {"x": 1' + b"0" * 400 + b"}}"
    proc.process(batch, Message("t", 0, 5, huge))
    proc.process(batch, Message("t", 0, 6, b'{"model_id": "m", "features": {"x": 1}}'))
    assert [(d.reason, d.offset) for d in batch.dead] == [("schema", 5)]
    assert batch.dead[0].error.startswith("features.x: an integer beyond")  # (not "a value
    # cannot be stored: int too large to convert to float", naming no field)
    assert len(batch.events) == 1 and batch.consumed == 2


def test_run_waits_for_a_store_that_is_down_at_start(caplog: pytest.LogCaptureFixture) -> None:
    """An http:// store on a port that refuses connections: run() backs off, never raises."""
    import threading

    from driftscope.broker import free_port
    from driftscope.collector.service import Collector
    from driftscope.store.clickhouse import Store

    store = Store(f"http://127.0.0.1:{free_port()}", database="nowhere")
    c = Collector(Config(), store, kafka_options={"bootstrap_servers": ["127.0.0.1:1"]})
    stop = threading.Event()
    threading.Timer(1.5, stop.set).start()
    with caplog.at_level(logging.WARNING, logger="driftscope.collector"):
        c.run(stop)
    lines = [r.getMessage() for r in caplog.records]
    assert sum("store unavailable" in m for m in lines) == 1, lines
    assert not any("available again" in m for m in lines)  # it never came back
    assert c.metrics.registry.get_sample_value("driftscope_collector_store_up") == 0


def test_a_model_auto_registered_for_the_first_time_is_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An app sending ``Loan`` for ``loan``: its events are kept under ``Loan``, and the log
    says so once, with the likely name; a model the store already had says nothing."""
    cfg = Config.model_validate({"models": [{"id": "loan"}],
                                 "collector": {"unknown_models": "auto_register"}})
    reg = ModelRegistry(cfg, known={"shadow": {"x": "numeric"}})
    with caplog.at_level(logging.WARNING, logger="driftscope.collector"):
        for name in ("Loan", "Loan", "shadow", "loan"):
            assert reg.model(name).id == name
    assert [r.getMessage() for r in caplog.records] == [
        "collector: model 'Loan' is not in models: and has no event stored; collecting it "
        "with the defaults (unknown_models: auto_register); did you mean 'loan'?"]


def test_many_new_models_are_told_twenty_times_and_matched_to_configured_ones_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Found in review: an app sending a version or a request id as ``model_id`` got a
    WARNING per id, each matched against every id seen so far (each new event slower than
    the last: 11 ms an event after 1,500 ids), and the hint named another unconfigured id
    (``fraud-v2``: did you mean ``fraud-v1``?)."""
    cfg = Config.model_validate({"models": [{"id": "churn"}],
                                 "collector": {"unknown_models": "auto_register"}})
    reg = ModelRegistry(cfg)
    with caplog.at_level(logging.WARNING, logger="driftscope.collector"):
        reg.model("fraud-v1")
        reg.model("fraud-v2")
        for i in range(100):
            reg.model(f"req-{i}")
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 20 and "did you mean" not in told[1]
    assert told[-1].endswith("; further new models are not told")



def test_new_models_beyond_max_models_are_dead_lettered_and_known_ones_kept() -> None:
    """Found in review: every auto-registered model keeps windows open of its own (3 KB
    each), so request ids sent as ``model_id`` grew the collector without end."""
    cfg = Config.model_validate({"models": [{"id": "churn"}],
                                 "collector": {"max_models": 4}})
    reg = ModelRegistry(cfg, known={"old": {"x": "numeric"}})
    for name in ("churn", "old", "a", "b"):
        assert reg.model(name).id == name
    with pytest.raises(EventError) as info:
        reg.model("c")
    assert info.value.reason == "unknown_model" and "collector.max_models" in str(info.value)
    assert reg.model("a").id == "a" and reg.model("churn").id == "churn"
    # a model the store has is kept after a restart, whatever the count
    again = ModelRegistry(cfg, known={"old": {}, "a": {}, "b": {}, "d": {}, "e": {}})
    assert again.model("e").id == "e"
    with pytest.raises(EventError):
        again.model("f")
