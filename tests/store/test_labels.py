"""Which feedback labels a prediction: every read that joins labels applies one rule
(driftscope.store.labels), and migration 206 keeps every stored label."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from driftscope.collector import reader
from driftscope.monitor.frame import read_events, read_labels
from driftscope.monitor.seed import write_windows
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store, _statements, migrations

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
W = timedelta(minutes=1)
N = 6  # events m-0 … m-5, 10 s apart, sent with the label "sent" (m-5 with none)


def _events(store: Store, versions: bool = True) -> None:
    labels = np.array(["sent"] * (N - 1) + [None], dtype=object)
    write_windows(store, "m", T0, W, 1, N, lambda i, rng, n: {"x": rng.normal(size=n),
                                                              "label": labels}, seed=0,
                  versions=versions)  # (False: a store before model_versions)


def _feedback(store: Store, rows: list[tuple[str, str, timedelta, int]]) -> None:
    """(event, label, its time after the event's, stored this many ms after the first)."""
    store.insert(S.FEEDBACK, [
        ("m", f"0-0-{j}", label, T0 + j * W / N + after, T0 + timedelta(milliseconds=ms),
         0, k) for k, (j, label, after, ms) in enumerate(
            (int(e.rsplit("-", 1)[1]), label, after, ms) for e, label, after, ms in rows)],
        S.FEEDBACK.columns)


def test_a_label_counts_from_the_skew_before_its_event_to_the_horizon_after(
    store: Store,
) -> None:
    _events(store)
    _feedback(store, [
        ("m-0", "early", -timedelta(minutes=59), 0),   # within the skew (1 h): joined
        ("m-1", "too early", -timedelta(minutes=61), 0),  # beyond it: the sent label
        ("m-2", "late", timedelta(days=6), 0),          # within the horizon (7 d)
        ("m-3", "too late", timedelta(days=8), 0),      # beyond it
        ("m-4", "first", timedelta(hours=1), 0),        # the latest given wins …
        ("m-4", "second", timedelta(hours=2), 0),
        ("m-4", "stored last", timedelta(hours=2), 5),  # … of two at once, the last stored
        ("m-5", "only feedback", timedelta(0), 0),
    ])
    want = ["early", "sent", "late", "sent", "stored last", "only feedback"]
    assert list(read_events(store, "m", T0, T0 + W, ["x"], labels=True).labels) == want
    assert list(read_labels(store, "m", T0, T0 + W)) == want
    rows = reader.load_window_rows(store, "m", T0, window_seconds=60)
    assert list(rows.labels) == want
    # a longer skew or a shorter horizon, as configured
    assert list(read_labels(store, "m", T0, T0 + W, horizon=timedelta(days=5),
                            skew=timedelta(hours=2))) == \
        ["early", "too early", "sent", "sent", "stored last", "only feedback"]
    assert list(reader.load_window_rows(store, "m", T0, window_seconds=60,
                                        skew=timedelta(hours=2)).labels)[:2] == \
        ["early", "too early"]


def test_a_correction_given_at_the_same_time_and_stored_in_one_poll_wins(
    store: Store,
) -> None:
    """Found in review: a labeller that stamps labels with the prediction's time sent a
    correction that the collector stored in the same poll (the same ``ingested_at``):
    the first label won. The later offset (a prediction's feedback shares its partition)
    decides."""
    _events(store)
    _feedback(store, [("m-1", "first", timedelta(0), 0), ("m-1", "corrected", timedelta(0), 0),
                      ("m-2", "first", timedelta(0), 0), ("m-2", "corrected", timedelta(0), 0),
                      ("m-2", "corrected again", timedelta(0), 0)])
    want = ["sent", "corrected", "corrected again", "sent", "sent", None]
    assert list(read_labels(store, "m", T0, T0 + W)) == want
    assert list(reader.load_window_rows(store, "m", T0, window_seconds=60).labels) == want


def test_a_label_joins_a_read_that_starts_after_its_time(store: Store) -> None:
    """Feedback given before the read's first event (within the skew) is still found."""
    _events(store)
    _feedback(store, [("m-3", "before", -timedelta(minutes=30), 0)])
    later = T0 + 3 * W / N  # the read starts at m-3
    assert list(read_labels(store, "m", later, T0 + W)) == ["before", "sent", None]


def test_migration_206_keeps_every_label_and_serves_reads_by_time(chdb_dsn: str) -> None:
    store = Store(chdb_dsn, database="t_migration_206")
    try:
        _migrate_to(store, 205)
        _events(store, versions=False)
        _feedback(store, [("m-0", "a", timedelta(minutes=1), 0),
                          ("m-1", "b", timedelta(minutes=2), 0)])
        before = sorted(store.query(f"SELECT * FROM {S.FEEDBACK}"))
        assert store.migrate()[0] == "206_feedback_by_time.sql"
        # run again (after a crash part way, or by a second process at once): harmless
        for statement in _statements(next(s for v, _, s in migrations() if v == 206)):
            store.command(statement)
        assert sorted(store.query(f"SELECT * FROM {S.FEEDBACK}")) == before
        assert list(read_labels(store, "m", T0, T0 + W))[:2] == ["a", "b"]
        # a read bounded by time is served by the projection ordered by time: of a model's
        # 100,000 labels over 28 hours, the last hour's
        store.command(f"INSERT INTO {S.FEEDBACK} SELECT 'busy', toString(number), 'x', "
                      "{t:DateTime64(3, 'UTC')} + toIntervalSecond(number), now64(3), 1, "
                      "number FROM numbers(100000)", {"t": T0})
        plan = "\n".join(r[0] for r in store.query(
            f"EXPLAIN indexes = 1 SELECT {S.FEEDBACK.label} FROM {S.FEEDBACK} WHERE "
            f"{S.FEEDBACK.model_id} = 'busy' AND {S.FEEDBACK.timestamp} >= "
            "{a:DateTime64(3, 'UTC')}", {"a": T0 + timedelta(hours=27)}))
        assert "(by_time)" in plan, plan
        # and the collector's recovery still deletes from it
        store.command(f"DELETE FROM {S.FEEDBACK} WHERE {S.FEEDBACK.kafka_partition} = 0 "
                      f"AND {S.FEEDBACK.kafka_offset} >= 1")
        assert list(read_labels(store, "m", T0, T0 + W))[:2] == ["a", "sent"]
    finally:
        store.drop_database()


def _migrate_to(store: Store, version: int) -> None:
    """Apply the migrations up to ``version``, as an older release did."""
    store.command(f"CREATE DATABASE IF NOT EXISTS {store.database}")
    store.command(f"CREATE TABLE IF NOT EXISTS {S.SCHEMA_MIGRATIONS} (version UInt32, "
                  "name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
                  "ENGINE = MergeTree ORDER BY version")
    for v, name, sql in migrations():
        if v <= version:
            for statement in _statements(sql):
                store.command(statement)
            store.insert(S.SCHEMA_MIGRATIONS, [(v, name)], ["version", "name"])
