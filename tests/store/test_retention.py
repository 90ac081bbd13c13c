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
from driftscope.store.clickhouse import Store, migrations

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
    assert store.count(S.SCHEMA_MIGRATIONS) == len(migrations())


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


def _load(data: dict[str, Any], tmp_path: Path) -> Config:
    file = tmp_path / "driftscope.yaml"
    file.write_text(yaml.safe_dump(data))
    return load_config(file, environ={})


def _refused(data: dict[str, Any], needle: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _load(data, tmp_path)
    file = tmp_path / "driftscope.yaml"
    assert needle in str(info.value) and "\n" not in str(info.value), str(info.value)
    assert str(info.value).startswith(f"{file}: store.retention.") or \
        str(info.value).startswith(f"{file}: monitor 'd'")


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
         # 14 windows before (persistence), each with its 12 previous: 26d, + 1d + 1m
         "shorter than monitor 'd''s look-back into the model's events (38881m"),
        ({"store": {"retention": {"profiles": "30d"}}, "models": [{"id": "m"}],
          "monitors": [{"name": "d", "model": "m", "features": ["x"],
                        "reference": {"kind": "initial"}}]},
         "an initial reference is the model's first windows"),
        ({"store": {"retention": {"events": "30d"}}, "models": [{"id": "m"}],
          "monitors": [{"name": "d", "model": "m", "features": ["x"], "reference": {
              "kind": "fixed", "start": "2026-01-01T00:00Z", "end": "2026-01-02T00:00Z"}}]},
         "a fixed reference reads stored events"),
        ({"store": {"retention": {"results": "12h"}}, "models": [{"id": "m", "window": "1d"}],
          "monitors": [{"name": "d", "model": "m", "features": ["x"]}]},
         "store.retention.results = 12h is shorter than monitor 'd''s window plus "
         "allowed_lateness (1441m)"),
        ({"store": {"retention": {"results": "2h"}}, "alerts": {"cooldown": "6h"}},
         "store.retention.results = 2h is shorter than alerts.cooldown = 6h"),
    ],
)
def test_a_retention_shorter_than_a_service_needs_is_refused_on_load(
    data: dict[str, Any], needle: str, tmp_path: Path
) -> None:
    _refused(data, needle, tmp_path)


FIXED = {"kind": "fixed", "start": "2026-01-01T00:00Z", "end": "2026-01-02T00:00Z"}


def _setup(keep: dict[str, str], reference: dict[str, Any], logging: list[str] | None = None,
           window: str = "1h", **monitor: Any) -> dict[str, Any]:
    """One model logged as ``logging`` (default raw) with one monitor ``d`` of it."""
    model: dict[str, Any] = {"id": "m", "window": window}
    if logging is not None:
        model["logging"] = logging
    return {"store": {"retention": keep}, "models": [model],
            "monitors": [{"name": "d", "model": "m", "features": ["x"],
                          "reference": reference, **monitor}]}


PROFILED = ["profile"]
# a 1h window with the default persistence (baseline 12): it compares the window before
# and 12 windows from 3 to 14 before, each with its own moving reference
SEASONAL_1W = {"kind": "seasonal", "period": "1w"}  # 3 windows centred a week before
PREVIOUS_24 = {"kind": "previous", "windows": 24}


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        # a profile-only model is read from its profiles: profiles cover the look-back
        # (1w + 14h + 1h (the seasonal window before the centre) + 1h window + 1m = 184h1m)
        (_setup({"profiles": "2d"}, SEASONAL_1W, PROFILED),
         "store.retention.profiles = 2d is shorter than monitor 'd''s look-back into the "
         "model's profiles (11041m: its 1h window, its seasonal reference, the 14 windows "
         "before that its persistence check reads (and their references), allowed_lateness)"),
        (_setup({"profiles": "7d"}, SEASONAL_1W, PROFILED),
         "look-back into the model's profiles (11041m"),
        # 14h + 24h + 1h + 1m
        (_setup({"profiles": "2h"}, PREVIOUS_24, PROFILED),
         "store.retention.profiles = 2h is shorter than monitor 'd''s look-back into the "
         "model's profiles (2341m"),
        (_setup({"profiles": "39h"}, PREVIOUS_24, PROFILED), "(2341m"),
        (_setup({"profiles": "2d"}, FIXED, PROFILED),
         "monitor 'd': a fixed reference reads stored profiles, which "
         "store.retention.profiles deletes after 2d"),
        (_setup({"profiles": "400d"}, {"kind": "initial"}, PROFILED),
         "an initial reference is the model's first windows (their windows rows and "
         "profiles), which store.retention.profiles deletes"),
        # a sample-only model is read from its samples, in events
        (_setup({"events": "30d", "profiles": "2h"}, FIXED, ["sample", "profile"]),
         "a fixed reference reads stored samples, which store.retention.events deletes"),
        (_setup({"events": "1w", "profiles": "400d"}, {"kind": "initial"}, ["sample"]),
         "(their windows rows and samples), which store.retention.events and .profiles "
         "delete"),
        (_setup({"events": "1w"}, {"kind": "previous", "windows": 200}, ["sample"]),
         "store.retention.events = 1w is shorter than monitor 'd''s look-back into the "
         "model's samples (12901m"),  # 14h + 200h + 1h + 1m = 215h1m
        # the persistence check reads 14 windows before: 14d + the 1d window + 1m
        (_setup({"events": "2w"}, {"kind": "dataset", "dataset": "train"}, window="1d"),
         "store.retention.events = 2w is shorter than monitor 'd''s look-back into the "
         "model's events (21601m: its 1d window, the 14 windows before that its "
         "persistence check reads, allowed_lateness)"),
        ({**_setup({"events": "3d"}, {"kind": "dataset", "dataset": "train"}, window="1d",
                   persistence={"baseline": 1}), "collector": {"feedback_horizon": "1d"}},
         "(5761m: its 1d window, the 3 windows before"),  # 3d + 1d + 1m
        # and each of them its seasonal reference: 1d + 14h + 1h + 1h + 1m (30h1m without)
        ({**_setup({"events": "30h"}, {"kind": "seasonal"}), "collector": {
            "feedback_horizon": "1d"}},
         "look-back into the model's events (2401m"),
        # a label delay is read as far back as it goes (not added to the reference's)
        ({**_setup({"events": "73h"}, PREVIOUS_24, performance={
            "prediction": "y", "label_delay": "3d"}), "collector": {"feedback_horizon": "73h"}},
         "(4381m: its 1h window, its previous reference, the 14 windows before that its "
         "persistence check reads (and their references), its 3d label delay"),
        # labels are joined to a raw model's events, here one not configured (5m windows)
        ({"store": {"retention": {"events": "3d"}}, "models": [{"id": "m",
                                                                "logging": PROFILED}],
          "monitors": [{"name": "d", "model": "other", "features": ["x"],
                        "reference": {"kind": "dataset", "dataset": "train"}}]},
         "store.retention.events = 3d is shorter than collector.feedback_horizon = 1w"),
        ({"store": {"retention": {"events": "30d"}}, "models": [{"id": "m",
                                                                 "logging": PROFILED}],
          "monitors": [{"name": "d", "model": "other", "features": ["x"],
                        "reference": FIXED}]},
         "monitor 'd': a fixed reference reads stored events"),
    ],
)
def test_each_monitor_is_checked_against_the_group_its_model_is_read_from(
    data: dict[str, Any], needle: str, tmp_path: Path
) -> None:
    _refused(data, needle, tmp_path)


@pytest.mark.parametrize(
    "data",
    [
        # a profile-only model's monitors read no events: events may be short (shorter
        # than collector.feedback_horizon and than its window: no labels, no rows there)
        _setup({"events": "1h", "profiles": "185h"}, SEASONAL_1W, PROFILED, window="1h"),
        _setup({"events": "1h", "profiles": "16d"}, {"kind": "dataset", "dataset": "train"},
               PROFILED, window="1d"),  # 14d + 1d + 1m
        _setup({"profiles": "2341m"}, PREVIOUS_24, PROFILED),  # exactly the look-back
        _setup({"events": "30d"}, FIXED, PROFILED),
        _setup({"events": "30d"}, {"kind": "initial"}, PROFILED),
        # a model logging raw is read from its events, whatever else it logs
        _setup({"events": "30d", "profiles": "2h"}, PREVIOUS_24, ["raw", "profile"]),
        _setup({"events": "30d", "profiles": "2h"}, SEASONAL_1W, ["raw", "sample"]),
        # a sample-only model: from its samples (events); profiles only for open windows
        _setup({"events": "9d", "profiles": "2h"}, SEASONAL_1W, ["sample"]),
        # without the persistence check, only the window (and the reference) is read
        _setup({"events": "1w"}, {"kind": "dataset", "dataset": "train"}, window="1d",
               persistence={"enabled": False}),
        {**_setup({"events": "26h"}, PREVIOUS_24, persistence={"enabled": False}),
         "collector": {"feedback_horizon": "1d"}},  # 24h + 1h + 1m
        {**_setup({"events": "27h"}, {"kind": "seasonal"}, persistence={"enabled": False}),
         "collector": {"feedback_horizon": "1d"}},  # 1d + 1h + 1h + 1m
        {**_setup({"events": "49h"}, {"kind": "dataset", "dataset": "train"}, window="1d",
                  persistence={"baseline": 0}),  # the window before only: 2d + 1m
         "collector": {"feedback_horizon": "1d"}},
        {**_setup({"events": "41h"}, {"kind": "seasonal"}),
         "collector": {"feedback_horizon": "1d"}},  # 1d + 14h + 1h + 1h + 1m
        # the label delay and the persistence look-back are not added up
        {**_setup({"events": "74h"}, PREVIOUS_24, performance={
            "prediction": "y", "label_delay": "3d"}), "collector": {"feedback_horizon": "74h"}},
    ],
)
def test_retentions_covering_what_each_monitor_reads_are_accepted_on_load(
    data: dict[str, Any], tmp_path: Path
) -> None:
    assert _load(data, tmp_path).store.retention is not None


def test_a_silence_ended_early_stays_ended_under_a_retention(store: Store) -> None:
    """Ending a silence writes a newer version of its row with an earlier end: dated by
    its end, that version expired first and the silence came back, muting the model
    until its first end. The versions it replaces are deleted now, and migration 207
    deletes those a store kept from before."""
    from driftscope.alerts.state import AlertStore

    now = dt.datetime.now(dt.UTC)
    alerts = AlertStore(store)
    kept = alerts.silence("m", "*", now + 7 * DAY, "before 207", now - DAY)
    _insert(store, S.ALERT_SILENCES, [(kept, {"until": now - DAY, "created_at": now})], now)
    sql = next(text for number, _, text in migrations() if number == 207)
    store.command(sql)
    store.command(sql)  # again: nothing more goes
    rows = store.query(f"SELECT until FROM {S.ALERT_SILENCES} WHERE silence_id = {{s:String}}",
                       {"s": kept})
    assert len(rows) == 1 and rows[0][0].replace(tzinfo=dt.UTC) < now

    retention.apply(store, RetentionConfig(results="1h"))
    sid = alerts.silence("m", "*", now + 7 * DAY, "maintenance", now - DAY)
    assert alerts.silenced("m", "mon", now)
    assert alerts.end_silence(sid, now - 3 * dt.timedelta(hours=1))
    _optimize(store, [str(S.ALERT_SILENCES)])
    assert not alerts.silenced("m", "mon", now)
