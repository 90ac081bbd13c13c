"""What `reference upload` records of each row: a missing prediction is a missing
prediction (not a missing feature named after it), and a row whose time cannot be read
stops the upload before the store is touched."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftscope.errors import ConfigError
from driftscope.monitor.upload import upload
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

R = S.REFERENCE_EVENTS


def test_an_empty_output_cell_is_a_missing_prediction(store: Store) -> None:
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0], "score": [0.5, np.nan, 0.7]})
    assert upload(store, "m", "train", frame, outputs=["score"]) == 3
    rows = store.query(f"SELECT {R.event_id}, {R.features_null}, {R.pred_num} FROM {R} "
                       f"ORDER BY {R.event_id}")
    assert [(list(nulls), dict(pred)) for _, nulls, pred in rows] == [
        ([], {"score": 0.5}), (["x"], {}), ([], {"score": 0.7})]


@pytest.mark.parametrize(("value", "says"), [
    ("soon", "row 2, column timestamp: 'soon'"),
    (np.nan, "row 2, column timestamp: empty"),
    ("", "row 2, column timestamp: empty"),
])
def test_a_row_without_a_readable_time_stops_the_upload(store: Store, value: object,
                                                        says: str) -> None:
    good = pd.DataFrame({"x": [1.0], "timestamp": ["2026-01-01T00:00Z"]})
    upload(store, "m", "train", good)
    bad = pd.DataFrame({"x": [1.0, 2.0], "timestamp": ["2026-01-02T00:00Z", value]})
    with pytest.raises(ConfigError) as info:
        upload(store, "m", "train", bad)
    assert str(info.value).startswith(says) and "\n" not in str(info.value)
    (t,), = store.query(f"SELECT {R.timestamp} FROM {R}")  # the reference before, intact
    assert t.replace(tzinfo=UTC) == datetime(2026, 1, 1, tzinfo=UTC)


def test_a_placeholder_named_missing_makes_a_parquet_column_numeric(tmp_path: Any,
                                                                    store: Store) -> None:
    from driftscope.monitor.upload import read_table

    path = tmp_path / "train.parquet"
    pd.DataFrame({"age": ["31", "unknown", "45"], "plan": ["a", "unknown", "b"]}).to_parquet(path)
    frame = read_table(path, text=["plan"], na_values=["unknown"])
    assert pd.api.types.is_numeric_dtype(frame["age"]) and frame["age"].isna().sum() == 1
    assert list(frame["plan"]) == ["a", "unknown", "b"]  # (a segment keeps its text)
    upload(store, "m", "train", frame)
    rows = store.query(f"SELECT {R.features_num}, {R.features_null} FROM {R} "
                       f"ORDER BY {R.event_id}")
    assert [(dict(num), list(nulls)) for num, nulls in rows] == [
        ({"age": 31.0}, []), ({}, ["age"]), ({"age": 45.0}, [])]


def test_a_thin_dataset_is_named_at_upload() -> None:
    from driftscope.config import Config
    from driftscope.monitor.upload import thin_columns

    cfg = Config.model_validate({
        "models": [{"id": "m", "window": "1h"}],
        "monitors": [{"name": "mon", "model": "m", "features": ["x"],
                      "reference": {"kind": "dataset", "dataset": "train"}}]})
    frame = pd.DataFrame({"x": np.arange(20.0), "gone": [np.nan] * 20})
    assert thin_columns(cfg, "m", "train", frame) == [
        "20 rows, fewer than min_events=30 of the monitors that compare with it: they will "
        "score no drift against it",
        "column gone holds no value: nothing can be found on it"]
    assert thin_columns(cfg, "m", "other", frame[["x"]]) == []
