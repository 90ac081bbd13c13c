"""store.retention as ClickHouse TTLs, on real chDB: old rows go, new ones stay, the
tables that must never expire keep everything, and unsetting a retention removes its TTL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from driftscope.config import Config, RetentionConfig, Secrets, StoreConfig, load_config
from driftscope.errors import ConfigError
from driftscope.store import retention
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store

DAY = dt.timedelta(days=1)
KEEP = RetentionConfig(
    events="10d", profiles="20d", results="30d", dead_letters="5d", collector_stats="3d")
RULES = [(group, rule) for group, rules in retention.GROUPS.items() for rule in rules]


def _value(kind: str, tag: str, now: dt.datetime) -> Any:
    """A value of a column type: strings are the row's tag (unique sorting keys, so that
    a ReplacingMergeTree merge keeps every row), times ``now``."""
    kind = kind.removeprefix("LowCardinality(").removesuffix(")")
    if kind.startswith("Nullable("):
        return None
    if kind == "String":
        return tag
    if kind.startswith("DateTime64"):
        return now
    if kind.startswith("Map("):
        return {}
    if kind.startswith("Array("):
        return []
    if kind.startswith("Float"):
        return 0.0
    return 0


def _insert(store: Store, table: S._Table, rows: list[tuple[str, dict[str, dt.datetime]]],
            now: dt.datetime) -> None:
    """Insert one row per (tag, {time column: value}); other columns get plain values."""
    kinds = [(r[0], r[1]) for r in store.query(f"DESCRIBE TABLE {table}")]
    body = []
    for tag, times in rows:
        body.append([times.get(name, _value(kind, tag, now)) for name, kind in kinds])
    store.insert(table, body, [name for name, _ in kinds])


def _tags(store: Store, table: S._Table) -> set[str]:
    """The tags of the rows left (the first string column holds them)."""
    column = next(r[0] for r in store.query(f"DESCRIBE TABLE {table}")
                  if r[1] in ("String", "LowCardinality(String)"))
    return {str(r[0]) for r in store.query(f"SELECT {column} FROM {table}")}


def _optimize(store: Store, tables: list[str]) -> None:
    """Force the TTL merge ClickHouse would otherwise run in the background."""
    for table in tables:
        store.command(f"OPTIMIZE TABLE {table} FINAL")


def _rows_around_deadline(
    rule: retention.Rule, keep: dt.timedelta, now: dt.datetime, phase: str
) -> list[tuple[str, dict[str, dt.datetime]]]:
    """A row half a day inside its table's retention (kept) and one half a day past it."""
    deadline = keep + dt.timedelta(seconds=rule.slack)
    return [
        (f"{phase}-new", {rule.column: now - deadline + DAY / 2}),
        (f"{phase}-old", {rule.column: now - deadline - DAY / 2}),
    ]


def test_old_rows_expire_new_rows_stay_and_kept_tables_keep_everything(store: Store) -> None:
    now = dt.datetime.now(dt.UTC)
    ancient = now - 5 * 365 * DAY
    # before: the TTL is materialised over rows already there when it is set
    for group, rule in RULES:
        _insert(store, rule.table, _rows_around_deadline(rule, getattr(KEEP, group), now,
                                                         "before"), now)
    for table in retention.KEPT:
        if table is not S.SCHEMA_MIGRATIONS:
            kinds = store.query(f"DESCRIBE TABLE {table}")
            _insert(store, table, [("kept", {r[0]: ancient for r in kinds
                                             if str(r[1]).startswith("DateTime64")})], now)

    store.retention = KEEP
    store.migrate()  # no migration left to apply: sets the TTLs
    ttls = retention.current(store)
    managed = {str(rule.table) for _, rule in RULES}
    assert {t for t, ttl in ttls.items() if ttl} == managed | {"monitor_passes"}
    # after: rows written later expire in TTL merges
    for group, rule in RULES:
        _insert(store, rule.table, _rows_around_deadline(rule, getattr(KEEP, group), now,
                                                         "after"), now)
    # a replay: events dated years ago but stored now stay (events expire by ingestion)
    _insert(store, S.EVENTS, [("replay", {"timestamp": ancient})], now)
    _insert(store, S.FEEDBACK, [("replay", {"timestamp": ancient})], now)
    # a silence set years ago that still runs stays (silences expire after their end)
    _insert(store, S.ALERT_SILENCES, [("running", {"created_at": ancient, "until": now + DAY})],
            now)
    _optimize(store, [str(t) for t in ttls])

    for _, rule in RULES:
        expected = {"before-new", "after-new"}
        if rule.table in (S.EVENTS, S.FEEDBACK):
            expected.add("replay")
        if rule.table is S.ALERT_SILENCES:
            expected.add("running")
        assert _tags(store, rule.table) == expected, rule
    for table in retention.KEPT:
        assert ttls[str(table)] is None, table
        if table is not S.SCHEMA_MIGRATIONS:
            assert _tags(store, table) == {"kept"}, table
    assert store.count(S.SCHEMA_MIGRATIONS) == 5


def test_every_table_is_expired_kept_or_has_a_ttl_of_its_own(store: Store) -> None:
    tables = set(retention.current(store))
    managed = {str(rule.table) for _, rule in RULES}
    kept = {str(t) for t in retention.KEPT}
    own = {str(t) for t in retention.OWN_TTL}
    assert not managed & kept and not managed & own
    assert tables == managed | kept | own  # a new table must be put in one of them


def test_setting_is_idempotent_a_change_alters_and_unsetting_removes(store: Store) -> None:
    first = retention.apply(store, KEEP)
    assert len(first) == len(RULES)
    assert retention.apply(store, KEEP) == []  # twice: nothing new
    longer = KEEP.model_copy(update={"events": dt.timedelta(days=31)})
    changed = retention.apply(store, longer)
    assert changed == [f"ALTER TABLE {r.table} MODIFY TTL "
                       f"{retention.ttl_expression(r, 31 * 86400)}"
                       for r in retention.GROUPS["events"]]
    assert retention.current(store)["events"] == retention.ttl_expression(
        retention.Rule(S.EVENTS, "ingested_at"), 31 * 86400)
    removed = retention.apply(store, longer.model_copy(update={"results": None}))
    assert removed == [f"ALTER TABLE {r.table} REMOVE TTL" for r in retention.GROUPS["results"]]
    assert retention.apply(store, RetentionConfig()) != []
    ttls = retention.current(store)
    assert {t for t, ttl in ttls.items() if ttl} == {"monitor_passes"}  # migration 203's own
    assert retention.apply(store, RetentionConfig()) == []


def test_a_ttl_written_by_hand_stays_until_a_retention_replaces_it(store: Store) -> None:
    store.command("ALTER TABLE feedback MODIFY TTL toDateTime(timestamp) + INTERVAL 90 DAY")
    assert retention.apply(store, RetentionConfig()) == []
    assert retention.current(store)["feedback"] == "toDateTime(timestamp) + toIntervalDay(90)"
    retention.apply(store, RetentionConfig(events="30d"))
    assert retention.current(store)["feedback"] == retention.ttl_expression(
        retention.Rule(S.FEEDBACK, "ingested_at"), 30 * 86400)


@pytest.fixture
def configured(chdb_dsn: str) -> Iterator[StoreConfig]:
    cfg = StoreConfig(dsn=chdb_dsn, database=f"t_{uuid.uuid4().hex[:12]}",
                      retention=RetentionConfig(dead_letters="30d"))
    try:
        yield cfg
    finally:
        Store(chdb_dsn, database=cfg.database).drop_database()


def test_a_store_from_the_configuration_sets_its_retention_when_migrated(
    configured: StoreConfig,
) -> None:
    store = Store.from_config(configured, Secrets())
    store.migrate()
    ttls = retention.current(store)
    assert ttls["dead_letters"] == retention.ttl_expression(
        retention.Rule(S.DEAD_LETTERS, "received_at"), 30 * 86400)
    assert ttls["events"] is None
    # the setting removed from driftscope.yaml: the next migrate removes the TTL
    again = Store.from_config(configured.model_copy(update={"retention": RetentionConfig()}),
                              Secrets())
    again.migrate()
    assert retention.current(again)["dead_letters"] is None
    # a store made by hand (tests, the demo) leaves the TTLs as they are
    plain = Store(configured.dsn, database=configured.database)
    retention.apply(plain, RetentionConfig(dead_letters="30d"))
    plain.migrate()
    assert retention.current(plain)["dead_letters"] is not None


def test_window_times_beyond_datetime_do_not_wrap_round(store: Store) -> None:
    """A window dated 1969 or 2200 (events are accepted from 1900 to 2299): the first is
    long past its retention, the second far from it, not the other way round."""
    now = dt.datetime.now(dt.UTC)
    retention.apply(store, RetentionConfig(profiles="400d"))
    _insert(store, S.WINDOW_PARTS, [
        ("past", {"window_start": dt.datetime(1969, 12, 1, tzinfo=dt.UTC)}),
        ("future", {"window_start": dt.datetime(2200, 1, 1, tzinfo=dt.UTC)}),
    ], now)
    _optimize(store, ["window_parts"])
    assert _tags(store, S.WINDOW_PARTS) == {"future"}
    # nor does the longest retention push a fresh row's deadline past 2106
    retention.apply(store, RetentionConfig(events="36500d"))
    _insert(store, S.EVENTS, [("fresh", {})], now)
    _optimize(store, ["events"])
    assert _tags(store, S.EVENTS) == {"fresh"}


# -- configuration ----------------------------------------------------------------------
def test_retention_defaults_to_keeping_everything() -> None:
    keep = Config().store.retention
    assert all(getattr(keep, group) is None for group in retention.GROUPS)
    assert set(RetentionConfig.model_fields) == set(retention.GROUPS)


@pytest.mark.parametrize(
    ("value", "needle"),
    [(30, "from 1h to 36500d"), ("20m", "from 1h"), ("36501d", "from 1h"),
     ("a month", "expected a duration")],
)
def test_a_bad_retention_is_a_config_error(value: object, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        Config.model_validate({"store": {"retention": {"events": value}}})


def _check(data: dict[str, Any]) -> None:
    retention.check(Config.model_validate(data))


def test_check_accepts_retentions_the_services_can_live_with() -> None:
    _check({"store": {"retention": {"events": "7d", "profiles": "1d"}},
            "models": [{"id": "m", "window": "1h"}],
            "monitors": [{"name": "d", "model": "m", "features": ["x"],
                          "reference": {"kind": "seasonal", "period": "1d"}},
                         {"name": "e", "model": "m", "features": ["x"],
                          "reference": {"kind": "dataset", "dataset": "train"}}]})
    _check({"models": [{"id": "m"}],  # nothing set: nothing to check
            "monitors": [{"name": "d", "model": "m", "features": ["x"],
                          "reference": {"kind": "initial"}}]})


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"store": {"retention": {"events": "3d"}}},
         "store.retention.events = 3d is shorter than collector.feedback_horizon = 1w"),
        ({"store": {"retention": {"profiles": "1h"}}, "models": [{"id": "m", "window": "1h"}]},
         "model 'm''s window plus allowed_lateness (61m)"),
        ({"store": {"retention": {"events": "7d"}}, "models": [{"id": "m", "window": "1d"}],
          "monitors": [{"name": "d", "model": "m", "features": ["x"],
                        "reference": {"kind": "previous", "windows": 12}}]},
         "shorter than monitor 'd''s look-back (18721m"),
        ({"store": {"retention": {"profiles": "30d"}}, "models": [{"id": "m"}],
          "monitors": [{"name": "d", "model": "m", "features": ["x"],
                        "reference": {"kind": "initial"}}]},
         "an initial reference is the model's first windows"),
        ({"store": {"retention": {"events": "30d"}}, "models": [{"id": "m"}],
          "monitors": [{"name": "d", "model": "m", "features": ["x"], "reference": {
              "kind": "fixed", "start": "2026-01-01T00:00Z", "end": "2026-01-02T00:00Z"}}]},
         "a fixed reference reads stored events"),
    ],
)
def test_a_retention_shorter_than_a_service_needs_is_refused_on_load(
    data: dict[str, Any], needle: str, tmp_path: Path
) -> None:
    file = tmp_path / "driftscope.yaml"
    file.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(file, environ={})
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith(f"{file}: store.retention.") or \
        str(info.value).startswith(f"{file}: monitor 'd'")
