"""The panels of a model logged without raw events (``logging: [sample]`` or
``[profile]``) show its traffic and quality, not "no events".

Only ``raw`` writes ``events``; every mode writes the collector's ``window_parts`` and the
monitor's ``drift_results``. Each model here is written as the collector would
(:func:`driftscope.monitor.seed.write_windows`) and processed by the real
:class:`~driftscope.monitor.scheduler.Monitor`: ``smp`` as samples only (the sample holds
every event: ``sample_size`` above the windows' counts), ``prf`` as profiles only, and
``both`` raw and sampled (its samples a subset of its events, which must not count twice).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dashfill import filled_database, panel_rows

from driftscope.config import Config
from driftscope.dashboards import panels_drift, panels_overview, panels_quality
from driftscope.dashboards.build import ALL_VALUES
from driftscope.dashboards.macros import ALL, expand
from driftscope.dashboards.spec import PanelSpec
from driftscope.monitor.scheduler import Monitor
from driftscope.monitor.seed import write_windows
from driftscope.monitor.upload import upload
from driftscope.store import schema
from driftscope.store.clickhouse import Store

T0 = datetime(2026, 4, 1, tzinfo=UTC)
H = timedelta(hours=1)
T1 = T0 + 4 * H
COUNTS = [40, 50, 60, 80]  # events per hourly window
MISSING = [0.1, 0.2, 0.3, 0.5]  # share of the window's events without "age"
LOGGING = {"smp": ["sample"], "prf": ["profile"], "both": ["raw", "sample"]}
DEAD_AT = T0 + timedelta(minutes=30)  # one dead letter of smp, in hour 0


def _gen(i: int, rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Window ``i``: ages 0, 1, 2 … with the first MISSING[i] of them missing; plans
    alternate basic / premium."""
    age = np.arange(n, dtype=float)
    age[:round(MISSING[i] * n)] = np.nan
    plan = np.array(["basic", "premium"] * (n // 2), dtype=object)
    return {"age": age, "plan": plan}


def _config() -> Config:
    return Config.model_validate({
        "models": [{"id": m, "window": "1h", "logging": log, "sample_size": 1000}
                   for m, log in LOGGING.items()],
        "monitors": [{"name": f"mon-{m}", "model": m, "features": ["age", "plan"],
                      "reference": {"kind": "dataset", "dataset": "base"}}
                     for m in LOGGING],
        "alerts": {"console": False}})


def _fill(store: Store) -> None:
    reference = pd.DataFrame({"age": np.arange(100, dtype=float),
                              "plan": ["basic", "premium"] * 50})
    for model, log in LOGGING.items():
        upload(store, model, "base", reference, now=T0 - 24 * H)
        write_windows(store, model, T0, H, len(COUNTS), lambda i: COUNTS[i], _gen, seed=1,
                      sampled=log == ["sample"], profiled=log == ["profile"])
    # both: its sample holds its premium events only (a subset of its raw events)
    S, E = schema.SAMPLES, schema.EVENTS
    payload = ", ".join(schema.EVENT_PAYLOAD)
    store.command(
        f"INSERT INTO {S} ({', '.join(S.columns)}) SELECT toStartOfHour({E.timestamp}), "
        f"3600, '', cityHash64({E.event_id}), {payload}, {E.kafka_partition}, "
        f"{E.kafka_offset} FROM {E} WHERE {E.model_id} = 'both' "
        f"AND {E.features_cat}['plan'] = 'premium'")
    store.insert(schema.DEAD_LETTERS, [("t", 0, 1, "smp", "schema", "bad", "{}", 2, DEAD_AT, None)],
                 schema.DEAD_LETTERS.columns)
    Monitor(store, _config(), clock=lambda: T1 + 2 * H).run_once()


@pytest.fixture(scope="module")
def modes(chdb_dsn: str) -> Iterator[Store]:
    yield from filled_database(chdb_dsn, "modes", _fill)


def _run(store: Store, spec: PanelSpec, model: str, interval: int = 3600,
         **more: list[str]) -> list[dict[str, Any]]:
    variables = {"model": [model], "monitor": [ALL], "feature": ["age", "plan"],
                 "segment": ["all"]} | more
    return panel_rows(store, spec, T0, T1, interval, variables)


def _hour(t: datetime) -> int:
    return int((t.replace(tzinfo=UTC) - T0) / H)


def test_the_fill_is_what_each_logging_mode_writes(modes: Store) -> None:
    def count(table: schema._Table, model: str) -> int:
        return modes.count(table, "model_id = {m:String}", m=model)

    assert [count(schema.EVENTS, m) for m in LOGGING] == [0, 0, sum(COUNTS)]
    assert [count(schema.SAMPLES, m) for m in LOGGING] == [sum(COUNTS), 0, sum(COUNTS) // 2]
    assert count(schema.PROFILES, "prf") == len(COUNTS)
    assert all(count(schema.WINDOW_PARTS, m) == len(COUNTS) for m in LOGGING)
    (n,), = modes.query(f"SELECT count() FROM {schema.DRIFT_RESULTS} "
                        "WHERE metric = 'missing_rate' AND segment = '*'")
    assert n == len(LOGGING) * len(COUNTS) * 2, "the monitor checked every window"


def test_event_volume_counts_every_logging_mode(modes: Store) -> None:
    for model in LOGGING:
        rows = _run(modes, panels_overview.event_volume(), model)
        assert [(_hour(r["time"]), r["model"], r["events"]) for r in rows] == [
            (i, model, n) for i, n in enumerate(COUNTS)], model  # 40, 50, 60, 80 written


def test_event_volume_under_all_has_every_model(modes: Store) -> None:
    spec = panels_overview.event_volume()
    _, rows = modes.query_columns(expand(spec.sql, T0, T1, 3600, {"model": [ALL]},
                                         all_values=ALL_VALUES))
    totals: dict[str, int] = {}
    for _, model, n in rows:
        totals[model] = totals.get(model, 0) + n
    assert totals == {m: sum(COUNTS) for m in LOGGING}  # 230 each, whatever the mode


def test_dead_letter_rate_counts_the_events_of_a_sampled_model(modes: Store) -> None:
    rows = _run(modes, panels_overview.dead_letter_rate(), "smp")
    got = {_hour(r["time"]): r["dead_letter_rate"] for r in rows}
    # hour 0: 1 dead letter beside the 40 events flushed then; later hours none
    assert got == pytest.approx({0: 1 / 41, 1: 0.0, 2: 0.0, 3: 0.0})


WRITTEN_MISSING = {**{(i, "age"): m for i, m in enumerate(MISSING)},
                   **{(i, "plan"): 0.0 for i in range(len(COUNTS))}}


def test_missing_rate_for_every_logging_mode(modes: Store) -> None:
    """The written shares: from the raw events of ``both`` (its monitor rows are not
    added to them), from the monitor's checks of ``smp``'s sample and ``prf``'s profile."""
    for model in LOGGING:
        rows = _run(modes, panels_quality.missing_rate(), model)
        keys = [(_hour(r["time"]), r["feature"]) for r in rows]
        assert len(keys) == len(set(keys)), f"{model}: one value per window and feature"
        got = {k: r["missing_rate"] for k, r in zip(keys, rows, strict=True)}
        assert got == pytest.approx(WRITTEN_MISSING), model


def test_missing_rate_without_raw_events_weights_windows_by_their_events(
    modes: Store,
) -> None:
    for model in ("smp", "prf"):  # two windows per 2 h interval
        rows = _run(modes, panels_quality.missing_rate(), model, 7200, feature=["age"])
        assert {_hour(r["time"]): r["missing_rate"] for r in rows} == pytest.approx(
            {0: (0.1 * 40 + 0.2 * 50) / 90, 2: (0.3 * 60 + 0.5 * 80) / 140}), model


def _current(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {r["bin"]: r["current"] for r in rows if r["current"]}


def test_reference_vs_current_reads_the_samples_of_a_model_logged_without_raw(
    modes: Store,
) -> None:
    spec = panels_drift.reference_vs_current()
    cats = _run(modes, spec, "smp", feature=["plan"])
    assert [(r["bin"], r["reference"], r["current"]) for r in cats] == [
        ("basic", 0.5, 0.5), ("premium", 0.5, 0.5)]  # 115 of 230 sampled events each
    ages = _run(modes, spec, "smp", feature=["age"])
    present = [a for i, n in enumerate(COUNTS) for a in range(round(MISSING[i] * n), n)]
    expected: dict[float, float] = {}
    for a in present:  # 20 bins of width 99 / 20 over the reference's 0 … 99
        b = round(99 / 20 * min(int(a // (99 / 20)), 19), 3)
        expected[b] = expected.get(b, 0) + 1 / len(present)
    assert {float(b): v for b, v in _current(ages).items()} == pytest.approx(expected)
    assert len(ages) == 20 and sum(r["reference"] for r in ages) == pytest.approx(1.0)


def test_reference_vs_current_of_a_raw_and_sampled_model_counts_each_event_once(
    modes: Store,
) -> None:
    cats = _run(modes, panels_drift.reference_vs_current(), "both", feature=["plan"])
    # its events alone: half premium (with its premium-only sample added: 2/3 premium)
    assert _current(cats) == pytest.approx({"basic": 0.5, "premium": 0.5})
    assert _current(_run(modes, panels_drift.reference_vs_current(), "smp",
                         feature=["plan"])) == pytest.approx({"basic": 0.5, "premium": 0.5})


def test_a_profile_only_model_is_said_to_have_no_events(modes: Store) -> None:
    """What cannot be drawn without events is empty, and its panel says why."""
    ref = panels_drift.reference_vs_current()
    assert _current(_run(modes, ref, "prf", feature=["plan"])) == {}
    assert "profiles" in ref.description and "samples" in (ref.no_value or "")
    cov = panels_quality.label_coverage()
    for model in ("smp", "prf"):
        assert _run(modes, cov, model) == []
    assert _run(modes, cov, "both"), "a raw model's coverage is drawn"
    assert "raw" in (cov.no_value or "") and "samples or profiles" in cov.description
    # … while its volume and missing values are drawn from what every mode writes
    assert _run(modes, panels_overview.event_volume(), "prf")
    assert _run(modes, panels_quality.missing_rate(), "prf")
