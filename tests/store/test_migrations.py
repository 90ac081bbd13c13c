from __future__ import annotations

import datetime as dt

import pytest

from driftscope.errors import StoreError
from driftscope.store import schema
from driftscope.store.clickhouse import Store, migrations


def test_schema_names_match_the_migrated_tables(store: Store) -> None:
    for table in schema.ALL_TABLES:
        columns = tuple(r[0] for r in store.query(f"DESCRIBE TABLE {table}"))
        assert columns == table.columns, table.table_name


def test_migrations_apply_once_and_are_recorded(store: Store) -> None:
    assert store.migrate() == []
    recorded = [r[0] for r in store.query("SELECT name FROM schema_migrations ORDER BY version")]
    assert recorded == [name for _, name, _ in migrations()]


def test_user_values_are_parameters_not_sql(store: Store) -> None:
    hostile = "x'); DROP TABLE events; --"
    store.insert(
        schema.DEAD_LETTERS,
        [("t", 0, 1, hostile, "schema", "e", b"raw", 3, dt.datetime.now(dt.UTC), None)],
        schema.DEAD_LETTERS.columns,
    )
    n = store.count(schema.DEAD_LETTERS, "model_id = {m:String}", m=hostile)
    assert n == 1
    assert store.count(schema.EVENTS) == 0  # still there


def test_bad_sql_is_a_one_line_store_error(store: Store) -> None:
    with pytest.raises(StoreError) as info:
        store.query("SELECT * FROM no_such_table")
    assert "\n" not in str(info.value)
