"""The Collector and system dashboard's *Alert delivery* panel, run on chDB: per channel,
what waits now (how many failed, the oldest's wait, the last error) and what was
delivered in the range; a channel whose messages all went out shows 0 waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from driftscope.alerts.outbox import Outbox
from driftscope.dashboards import build as b
from driftscope.dashboards import panels_collector
from driftscope.dashboards.macros import expand
from driftscope.store.clickhouse import Store

NOW = datetime.now(UTC)  # set again by each test: the panel measures waits from now()


@pytest.fixture(autouse=True)
def _now() -> None:
    global NOW
    NOW = datetime.now(UTC).replace(microsecond=0)


def _rows(store: Store, since: datetime) -> list[dict[str, Any]]:
    spec = panels_collector.alert_delivery()
    cols, rows = store.query_columns(expand(spec.sql, since, NOW + timedelta(minutes=1), 60,
                                            {}, all_values=b.ALL_VALUES))
    assert tuple(cols) == spec.columns or not rows
    return [dict(zip(cols, r, strict=True)) for r in rows]


def _box(store: Store, minutes_ago: float) -> Outbox:
    at = NOW - timedelta(minutes=minutes_ago)
    return Outbox(store, clock=lambda: at)


def test_alert_delivery_shows_what_waits_per_channel_and_why(store: Store) -> None:
    for i, ago in enumerate((40, 25, 3)):  # slack down for 40 minutes: 3 waiting, 2 failed
        _box(store, ago).enqueue(f"s{i}", f"a{i}", "firing", "slack", {"text": "x"})
    old = Outbox(store).pending()
    _box(store, 20).mark(old[:2], "failed", [6, 6], "slack answered HTTP 503: unavailable")
    _box(store, 1).mark(Outbox(store).pending(include_failed=True)[:1], "failed", [7],
                        "slack answered HTTP 500: oops")
    _box(store, 30).enqueue("w0", "a0", "firing", "webhook", {"x": 1})  # delivered
    _box(store, 29).mark([d for d in Outbox(store).pending() if d.channel == "webhook"],
                         "sent", [1])
    _box(store, 50 * 60).enqueue("c0", "old", "firing", "console", {"text": "x"})
    _box(store, 50 * 60).mark([d for d in Outbox(store).pending() if d.channel == "console"],
                              "sent", [1])  # delivered long before the range: not listed

    got = _rows(store, NOW - timedelta(hours=1))
    assert [r["channel"] for r in got] == ["slack", "webhook"]
    slack, webhook = got
    assert (slack["waiting"], slack["failed"], slack["delivered"]) == (3, 2, 0)
    assert slack["oldest_waiting"].startswith("40 minutes"), slack  # (and the test's seconds)
    assert slack["last_error"] == "slack answered HTTP 500: oops"  # the latest attempt's
    assert (webhook["waiting"], webhook["failed"], webhook["oldest_waiting"],
            webhook["delivered"], webhook["last_error"]) == (0, 0, "", 1, "")
    assert _rows(store, NOW - timedelta(minutes=10))[1:] == []  # webhook: sent before
    assert "driftscope health alerts" in panels_collector.alert_delivery().description


def test_a_discarded_message_no_longer_waits(store: Store) -> None:
    _box(store, 40).enqueue("s0", "a0", "firing", "slack", {"text": "x"})
    _box(store, 39).mark(Outbox(store).pending(), "failed", [1], "slack answered HTTP 400")
    assert _rows(store, NOW - timedelta(hours=1))[0]["waiting"] == 1
    assert [d.delivery_id for d in Outbox(store).discard("s0", "discarded by ana")] == ["s0"]
    assert _rows(store, NOW - timedelta(hours=1)) == []
