"""Upload a reference dataset (Parquet or CSV), e.g. the training set, into the store.

Each row becomes a ``reference_events`` row of the named reference: numeric columns are
numeric features, others categorical (a boolean column too: ``true``/``false``, as the
collector stores an event's boolean); ``label`` is the label; columns named in
``outputs`` are predictions and those in ``segments`` segments; ``timestamp`` is kept
when present. A ``references`` row records the upload.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from driftscope.config import Config
from driftscope.errors import ConfigError
from driftscope.events import canonical, is_missing
from driftscope.monitor.config import VERSION, MonitorConfig
from driftscope.monitor.seed import Payload, missing
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

MOSTLY_NUMBERS = 0.9
"""A text column whose present values are numbers at least this often is a numeric column
with a few placeholders ('?', 'n/a', 'unknown'), not categories."""


def read_table(path: Path, text: Sequence[str] = (),
               na_values: Sequence[str] = ()) -> pd.DataFrame:
    """A DataFrame from a ``.parquet`` or ``.csv`` file.

    CSV columns named in ``text`` (segments, the label) are read as text, as events carry
    them: a zip code ``01000`` stays ``01000`` and a tier ``1`` does not become ``1.0``.
    Values in ``na_values`` ('?', 'unknown') are missing values, in either kind of file.
    """
    if not path.exists():
        raise ConfigError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv"):
        raise ConfigError(f"{path}: expected a .parquet or .csv file")
    try:
        if suffix != ".csv":
            return _placeholders_missing(pd.read_parquet(path), na_values, text)
        header = pd.read_csv(path, nrows=0).columns
        frame = pd.read_csv(path, dtype={c: str for c in text if c in header},
                            na_values=list(na_values) or None)
    except (ValueError, OSError, ImportError) as exc:  # parser errors are ValueErrors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: cannot read it as {suffix[1:]}: {first}") from None
    _no_repeated_columns(path)
    return frame


def _no_repeated_columns(path: Path) -> None:
    """A CSV header naming a column twice is a one-line :class:`ConfigError`: pandas renamed
    the second ``age.1``, and it went in as a feature of its own, without a word."""
    import csv
    from collections import Counter

    with path.open(newline="", encoding="utf-8", errors="replace") as f:
        names = next(csv.reader(f), [])
    twice = [n for n, k in Counter(names).items() if k > 1]
    if twice:
        raise ConfigError(f"{path}: the header names column{'s' if len(twice) > 1 else ''} "
                          f"{', '.join(twice)} twice; give each column its own name")


def _placeholders_missing(frame: pd.DataFrame, na_values: Sequence[str],
                          text: Sequence[str]) -> pd.DataFrame:
    """A Parquet file's text columns with ``na_values`` made missing, and read as numbers
    where every value left is one (as read_csv does for a CSV file)."""
    if not na_values:
        return frame
    for col in frame.columns:
        if frame[col].dtype != object or col in text:
            continue
        values = frame[col].where(~frame[col].isin(list(na_values)))
        numbers = pd.to_numeric(values, errors="coerce")
        frame[col] = numbers if numbers.notna().sum() == values.notna().sum() else values
    return frame


def check_values(frame: pd.DataFrame, text: Sequence[str]) -> None:
    """A one-line :class:`ConfigError` for a column of numbers with a few text values among
    them: read as text, the feature was judged as categories (a `type_mismatch` in every
    window against numeric events, and no drift measured on it)."""
    for col in frame.columns:
        if frame[col].dtype != object or col in text or col in ("label", "timestamp"):
            continue
        present = frame[col].dropna()
        if present.empty or present.map(lambda v: isinstance(v, bool)).any():
            continue
        numbers = pd.to_numeric(present.astype(str), errors="coerce")
        words = present[numbers.isna()]
        if len(words) and len(words) <= (1 - MOSTLY_NUMBERS) * len(present):
            shown = ", ".join(repr(str(w)) for w in pd.unique(words.astype(str))[:3])
            raise ConfigError(
                f"column {col}: {len(present) - len(words):,} numbers and {len(words):,} "
                f"text values ({shown}): read as text, it would be judged as categories; "
                f"if they mean missing, pass --na-values {shown.split(', ')[0]}, or fix "
                "the file")


def readers(config: Config, model_id: str, name: str) -> list[MonitorConfig]:
    """The monitors of ``model_id`` that compare with the dataset ``name``: those that name
    it, else those whose ``{model_version}`` name it matches (``training-{model_version}``
    takes ``training-3``, not ``training-holdout`` when a monitor names that)."""
    mine = [m for m in config.monitors if m.model == model_id and m.reference.takes(name)]
    named = [m for m in mine if m.reference.dataset == name]
    return named or mine


def thin_columns(config: Config, model_id: str, name: str, frame: pd.DataFrame) -> list[str]:
    """Warnings for a dataset too thin to judge with: fewer rows than the ``min_events`` of
    a monitor that compares with it (its windows get no drift score), and columns with no
    value at all (nothing found on them, whatever they do)."""
    notes = []
    mons = readers(config, model_id, name)
    for mon in mons:
        absent = [o for o in mon.outputs if o not in frame.columns]
        if absent:
            notes.append(f"no column for output{_s(absent)} {', '.join(absent)} of monitor "
                         f"{mon.name}: its output drift is not judged against this dataset")
    needs = [m.min_events for m in mons]
    if needs and len(frame) < max(needs):
        notes.append(f"{len(frame)} rows, fewer than min_events={max(needs)} of the monitors "
                     "that compare with it: they will score no drift against it")
    empty = [str(c) for c in frame.columns if frame[c].isna().all()]
    if empty:
        notes.append(f"column{'s' if len(empty) > 1 else ''} {', '.join(empty)} "
                     "holds no value: nothing can be found on it")
    return notes


def upload(
    store: Store, model_id: str, name: str, frame: pd.DataFrame, *,
    outputs: Sequence[str] = (), segments: Sequence[str] = (), now: datetime | None = None,
) -> int:
    """Write ``frame`` as reference ``name`` of ``model_id``; returns the rows written."""
    if VERSION in name:  # (no monitor could read it: each version's is its own name)
        raise ConfigError(f"dataset name {name!r}: upload each version's under its own "
                          f"name ({name.replace(VERSION, '3')!r} for version 3); a "
                          f"monitor's {VERSION} picks the one of the version serving")
    now = now or datetime.now(UTC)
    numeric = {c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])}  # a flag is categorical, as in events
    special = {"label", "timestamp", *outputs, *segments}
    rows: list[tuple[Any, ...]] = []
    for i, rec in enumerate(frame.to_dict(orient="records")):
        p = Payload()
        for col, v in rec.items():
            col = str(col)
            if col in special and col not in outputs and col not in segments:
                continue
            if col in segments:
                if not missing(v):
                    # an app writes a segment with str(): True is "True"
                    p.segs[col] = str(v) if isinstance(v, bool) else canonical(v)
            elif col in outputs:
                if not is_missing(v):  # a missing prediction is absent, as in an event
                    p.output(col, v, col in numeric)
            else:
                p.feature(col, v, col in numeric)
        label = rec.get("label")
        ts = _time(rec["timestamp"], i + 1) if "timestamp" in rec else now
        rows.append((name, model_id, "", f"{name}-{i}", ts, *p.maps(),
                     None if missing(label) else canonical(label), p.segs))
    R = S.REFERENCE_EVENTS
    store.command(f"DELETE FROM {R} WHERE {R.model_id} = {{m:String}} AND "
                  f"{R.reference_name} = {{n:String}}", {"m": model_id, "n": name})
    for k in range(0, len(rows), 20000):
        store.insert(R, rows[k : k + 20000], R.columns)
    spec = {"columns": [str(c) for c in frame.columns], "outputs": list(outputs),
            "segments": list(segments)}
    store.insert(S.REFERENCES, [(model_id, name, "dataset", json.dumps(spec), len(rows), now)],
                 S.REFERENCES.columns)
    return len(rows)


def _time(value: Any, row: int) -> datetime:
    """Row ``row``'s ``timestamp`` (UTC when it has no zone); an empty or unreadable one is
    a one-line :class:`ConfigError` naming the row and the column."""
    try:
        t = None if is_missing(value) else pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):  # (out of bounds is a ValueError)
        t = None
    if t is None or pd.isna(t):
        shown = "empty" if is_missing(value) or not str(value).strip() else repr(value)
        raise ConfigError(f"row {row}, column timestamp: {shown}; expected a time such as "
                          "2026-01-01T00:00Z (rows count from 1, after the header)")
    ts: datetime = t.to_pydatetime()
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def check_columns(config: Config, store: Store, model_id: str, name: str, frame: pd.DataFrame,
                  outputs: Sequence[str], segments: Sequence[str]) -> None:
    """A one-line :class:`ConfigError` for an upload that cannot be what was meant: a model
    neither configured nor seen in the store (when some are), ``--outputs``/``--segments``
    columns the file
    lacks, or features that a monitor using this dataset watches and the file lacks (with
    the column it most likely meant: ``Age`` for ``age``)."""
    have = [str(c) for c in frame.columns]
    known_models = {m.id for m in config.models} | {r[0] for r in store.query(
        f"SELECT DISTINCT {S.MODEL_FEATURES.model_id} FROM {S.MODEL_FEATURES}")}
    if known_models and model_id not in known_models:  # (a first model may come later)
        raise ConfigError(f"model {model_id!r} is neither configured nor in the store "
                          f"(known: {', '.join(sorted(known_models))}): check --model, or "
                          "add a model not deployed yet to models: in driftscope.yaml")
    for option, wanted in (("--outputs", outputs), ("--segments", segments)):
        lacking = [c for c in wanted if c not in have]
        if lacking:
            raise ConfigError(f"{option}: the file has no column {_names(lacking, have)} "
                              f"(its columns: {', '.join(have)})")
    for mon in readers(config, model_id, name):
        lacking = [f for f in mon.features if f not in have]
        if lacking:
            raise ConfigError(f"monitor {mon.name} compares with this dataset, and the file "
                              f"has no column {_names(lacking, have)} (its columns: "
                              f"{', '.join(have)})")
        # (an output column not named an output uploads as a feature: the monitor's
        # output drift was never judged, and nothing said so)
        unnamed = [o for o in mon.outputs if o in have and o not in outputs]
        if unnamed:
            raise ConfigError(f"monitor {mon.name} compares its output{_s(unnamed)} "
                              f"{', '.join(unnamed)} with this dataset: name "
                              f"{'them' if len(unnamed) > 1 else 'it'} --outputs "
                              f"{','.join(dict.fromkeys([*outputs, *unnamed]))}")


def _s(names: Sequence[str]) -> str:
    return "s" if len(names) > 1 else ""


def _names(lacking: Sequence[str], have: Sequence[str]) -> str:
    """``age (did you mean Age?), plan``: a name the file has in another case is named."""
    lower = {h.lower(): h for h in have}
    return ", ".join(f"{c} (did you mean {lower[c.lower()]}?)" if c.lower() in lower else c
                     for c in lacking)
