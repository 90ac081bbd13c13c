"""`driftscope serve` runs the collector beside the monitor passes: a stop does not wait
for a pass under way before the collector flushes."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
from collector_support import event, make_config, produce

from driftscope.broker import LocalBroker
from driftscope.config import Secrets
from driftscope.store.clickhouse import Store


def test_a_stop_flushes_the_collector_without_waiting_for_a_pass(
    broker: LocalBroker, topic: str, chdb_dsn: str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SIGTERM during a long monitor pass: the collector flushes and leaves at once (a
    service manager's SIGKILL a few seconds later loses nothing); the pass then ends."""
    from driftscope import serve as serve_module
    from driftscope.monitor import service

    database = f"t_{uuid.uuid4().hex[:12]}"
    cfg = make_config(broker.bootstrap, topic,
                      store={"dsn": chdb_dsn, "database": database},
                      collector={"batch_size": 100_000, "flush_interval": "1h"},
                      alerts={"console": False, "slack": False})
    in_pass, release = threading.Event(), threading.Event()
    passes: list[int] = []

    def slow_pass(*_a: object, **_k: object) -> tuple[list[object], dict[str, int]]:
        passes.append(1)
        if len(passes) == 2:  # the second pass: long
            in_pass.set()
            release.wait(60)
        return [], {"sent": 0, "failed": 0, "skipped": 0, "held": 0}

    monkeypatch.setattr(service, "run_pass", slow_pass)
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            serve_module.serve(cfg, Secrets(), stop, interval=0.5, store_port=0)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    caplog.set_level(logging.INFO, logger="driftscope.collector")
    store = Store(chdb_dsn, database=database)
    try:
        assert in_pass.wait(60), errors
        deadline = time.monotonic() + 60
        while not any("assigned partitions" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the collector did not join"
            time.sleep(0.2)
        produce(broker.bootstrap, topic, [event(i) for i in range(50)])
        time.sleep(3)  # read and buffered: the next flush is an hour away
        assert store.count("events") == 0
        stop.set()
        deadline = time.monotonic() + 30
        while store.count("events") < 50 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.count("events") == 50  # flushed while the pass is still under way
        assert thread.is_alive()
    finally:
        release.set()
        thread.join(60)
    assert not thread.is_alive() and not errors, errors


def test_a_failed_monitor_pass_leaves_serve_and_its_collector_running(
    broker: LocalBroker, topic: str, chdb_dsn: str, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A pass that raises (a store error, a bug) is told once and tried again; the
    collector goes on storing (before: serve stopped, and with the embedded broker the
    events sent meanwhile were lost)."""
    from driftscope import serve as serve_module
    from driftscope.errors import StoreError
    from driftscope.monitor import service

    database = f"t_{uuid.uuid4().hex[:12]}"
    cfg = make_config(broker.bootstrap, topic,
                      store={"dsn": chdb_dsn, "database": database},
                      alerts={"console": False, "slack": False})
    real, passes = service.run_pass, []

    def failing_pass(*a: object, **k: object) -> object:
        passes.append(1)
        if len(passes) <= 6:
            raise StoreError("query failed: Code: 241. DB::Exception: Memory limit exceeded")
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "run_pass", failing_pass)
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            serve_module.serve(cfg, Secrets(), stop, interval=0.5, store_port=None)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    caplog.set_level(logging.INFO)
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    store = Store(chdb_dsn, database=database)
    try:
        deadline = time.monotonic() + 60
        while not any("assigned partitions" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline and not errors, errors
            time.sleep(0.2)
        produce(broker.bootstrap, topic, [event(i) for i in range(50)])
        deadline = time.monotonic() + 60
        while store.count("events") < 50 or len(passes) < 8:
            assert time.monotonic() < deadline and not errors, errors
            time.sleep(0.2)
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive() and not errors, errors
    told = [r.getMessage() for r in caplog.records if "monitor pass failed" in r.getMessage()]
    assert told == ["serve: monitor pass failed (1 in a row); the next pass tries again: "
                    "StoreError: query failed: Code: 241. DB::Exception: Memory limit "
                    "exceeded"]
    assert any(r.getMessage() == "serve: monitor passes work again, after 6 failed"
               for r in caplog.records)
