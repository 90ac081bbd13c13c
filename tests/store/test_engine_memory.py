"""The embedded engine keeps no query condition cache: it kept an entry per filter and
part read (about 29 a window for a live monitor, parts merged away included) up to 100 MiB,
the one part of a long ``serve``'s memory that grew with every window. Neither the store's
own queries nor those through its port add any."""

from __future__ import annotations

import clickhouse_connect

from driftscope.store import gateway
from driftscope.store.clickhouse import Store


def entries(store: Store) -> int:
    rows = store.query("SELECT value FROM system.metrics "
                       "WHERE metric = 'QueryConditionCacheEntries'")
    return int(rows[0][0]) if rows else 0


def parts(store: Store) -> None:
    """A table of several parts, as the monitor's tables are."""
    store.command("CREATE TABLE qc (k UInt32, v Float64) ENGINE = MergeTree ORDER BY k "
                  "SETTINGS index_granularity = 64")
    for p in range(6):
        store.insert("qc", [(p * 1000 + i, float(i % 7)) for i in range(1000)], ["k", "v"])


def test_the_store_s_filtered_reads_add_no_cache_entries(store: Store) -> None:
    parts(store)
    before = entries(store)
    for i in range(30):
        assert store.query(f"SELECT count() FROM qc WHERE v > {i % 7} AND k % 3 = 0")
    assert entries(store) == before


def test_reads_through_the_port_add_none_either(
        store: Store, served: gateway.StoreGateway) -> None:
    parts(store)
    client = clickhouse_connect.get_client(dsn=served.url, database=store.database,
                                           password=served.token)
    before = entries(store)
    for i in range(30):
        client.query(f"SELECT count() FROM qc WHERE v > {i % 7} AND k % 3 = 1")
    assert entries(store) == before
