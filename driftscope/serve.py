"""Everything in one process: the collector, the monitor loop and the alerts, and, on
request, the embedded broker.

The embedded store (chDB) is opened by one process at a time, so on a machine without a
ClickHouse server `driftscope collect` and `driftscope monitor` cannot run side by side.
:func:`serve` runs them together on one :class:`~driftscope.store.clickhouse.Store` (its
calls are serialised by a lock): the collector in a thread, a monitor pass every
``interval`` seconds in the calling thread, and the outbox delivered by a thread of its
own, woken after each pass (as ``alerts run --follow`` beside ``monitor``: a window's
alerts from several monitors still go out as one message), so that a receiver that is
down or slow never holds up the monitoring while its retries wait. It returns
when ``stop`` is set (the collector flushes and commits first) and raises when a part
fails for good, so a service manager restarts the whole. When ``stop`` is set, the collector
flushes and leaves at once; a monitor pass under way finishes first (a process killed
during it loses nothing: windows are marked processed only when written).

Examples
--------
>>> stop = threading.Event()                                  # doctest: +SKIP
>>> serve(load_config(None), Secrets.from_env(), stop, broker=True)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from driftscope.config import Config, Secrets
from driftscope.errors import BrokerError, ConfigError

log = logging.getLogger("driftscope.serve")

LOOPBACK = {"127.0.0.1", "localhost"}  # the embedded broker listens on IPv4
DEFAULT_STORE_PORT = 8123  # ClickHouse's own HTTP port: what Grafana's data source expects
DRAIN_SECONDS = 30.0  # at a stop, how long the collector reads what the embedded broker holds
DEAD_BROKER_WAIT = 5.0  # seconds the collector gets to stop once the embedded broker died


class _Stopping(BaseException):
    """Raised in the delivery thread's retry wait when serve stops (the run's lease is
    released on the way out; the message stays ``sending`` and goes with the next run)."""


def broker_address(config: Config) -> tuple[str, int]:
    """The (host, port) an embedded broker takes: the one loopback server configured."""
    servers = [s.strip() for s in config.kafka.bootstrap_servers.split(",") if s.strip()]
    host, _, port = servers[0].rpartition(":") if len(servers) == 1 else ("", "", "")
    host = host.strip("[]")
    if host not in LOOPBACK or not port.isdigit():
        raise ConfigError(
            "--broker runs the embedded broker on this machine: kafka.bootstrap_servers must "
            "be one loopback address such as 127.0.0.1:9092, got "
            f"{config.kafka.bootstrap_servers!r}"
        )
    return ("127.0.0.1" if host == "localhost" else host), int(port)


def _serve_store(store: Any, port: int) -> Any:
    """The embedded store on ClickHouse's HTTP interface (a free port when ``port`` is
    taken: the other commands find it in the store's directory; Grafana needs it said)."""
    try:
        http = store.serve_http(port)
    except OSError as exc:
        if not port:
            raise
        http = store.serve_http(0)
        log.warning("serve: port %d is taken (%s): the store is served on %s instead; "
                    "point Grafana there, or free the port (--store-port)",
                    port, exc.strerror or exc, http.url)
    else:
        log.info("serve: the store answers ClickHouse's HTTP interface on %s: the other "
                 "driftscope commands (alerts, report, health) and Grafana read it there%s",
                 http.url, "" if store.has_password else
                 " (Grafana: set DRIFTSCOPE_CLICKHOUSE_PASSWORD and give it that password)")
    return http


def serve(
    config: Config,
    secrets: Secrets,
    stop: threading.Event,
    *,
    broker: bool = False,
    interval: float = 30.0,
    settle: timedelta = timedelta(seconds=10),
    metrics_port: int | None = None,
    store_port: int | None = DEFAULT_STORE_PORT,
    write: Callable[[str], Any] | None = None,
    ready: Callable[[], Any] | None = None,
) -> None:
    """Run the collector and the monitor (and the broker) until ``stop`` is set.

    An embedded store is served on ClickHouse's HTTP interface at 127.0.0.1:``store_port``
    (another free port when that one is taken; ``None``: not served), so that the other
    ``driftscope`` commands and Grafana read it while this process holds it.
    ``ready`` is called once everything has started, before the first monitor pass."""
    from driftscope.alerts.channels import build_channels, dispatcher
    from driftscope.broker import HOLDS_EVERYTHING, LocalBroker
    from driftscope.collector.commands import prepare
    from driftscope.collector.service import Collector
    from driftscope.config import kafka_client_options
    from driftscope.errors import StoreUnavailable
    from driftscope.monitor.scheduler import Monitor
    from driftscope.monitor.service import PassFailures, run_pass
    from driftscope.store.clickhouse import Store, redact_dsn
    from driftscope.telemetry import beat, stopped

    build_channels(config, secrets)  # a missing webhook secret fails now, not after a pass
    local = None
    if broker:
        host, port = broker_address(config)
        local = LocalBroker(port=port, host=host)
    store = None
    server = None
    http = None
    failed: list[BaseException] = []
    thread = sender = None
    wake = threading.Event()  # set after each monitor pass: deliver what it enqueued
    try:
        if local is not None:
            local.start()
            log.warning("serve: %s", HOLDS_EVERYTHING)
            log.info("serve: embedded broker on %s (messages in memory only)", local.bootstrap)
        options = kafka_client_options(config.kafka, secrets)
        # (the retrain topic too when we run the broker: nobody else creates it there)
        try:
            registry, server = prepare(config, options, metrics_port,
                                       [config.kafka.retrain_topic] if broker else [])
        except BrokerError as exc:
            if local is not None:
                raise
            raise BrokerError(f"{exc} (no Kafka there? `driftscope serve --broker` runs "
                              "the embedded broker on this machine)") from None
        store = Store.from_config(config.store, secrets)
        store.migrate()
        if store.embedded and store_port is not None:
            http = _serve_store(store, store_port)
        collector = Collector(config, store, kafka_options=options, registry=registry,
                              fresh_broker=local is not None)
        log.info(
            "serve: store %s (database %s); monitors %s; a pass every %g s; Ctrl-C stops",
            redact_dsn(store.dsn), store.database,
            ", ".join(m.name for m in config.monitors) or "none", interval,
        )
        if not config.monitors:
            log.warning("serve: no monitor is configured: events are stored, nothing is judged "
                        "(add a monitors: section to the configuration; docs/monitor.md)")

        def collect() -> None:
            try:  # flushes as soon as stop is set, a pass or not; with our broker, whose
                # messages die with it, what it holds is read first
                collector.run(stop, drain_for=DRAIN_SECONDS if local is not None else 0.0,
                              alive=local.running if local is not None else None)
            except BaseException as exc:  # surfaced by the loop below
                failed.append(exc)
                stop.set()

        def nap(seconds: float) -> None:  # a retry's wait, cut short by a stop
            if stop.wait(seconds):
                raise _Stopping

        outbox = dispatcher(store, config, secrets, write=write, sleep=nap)

        def deliver() -> None:
            try:
                while not stop.is_set():
                    wake.wait(interval)
                    wake.clear()
                    if stop.is_set():
                        return
                    try:  # (failed messages too, once per backoff_max, as monitor does)
                        sent = outbox.run(include_failed=True, hold=config.alerts.group_wait,
                                          pace_failed=True)
                        undelivered = outbox.health(config.alerts.group_wait)
                    except StoreUnavailable as exc:
                        log.warning("serve: delivery skipped, the store is unavailable: %s",
                                    exc)
                        continue
                    if sent["sent"] or sent["failed"]:
                        log.info("serve: delivered: %d sent, %d failed, %d held",
                                 sent["sent"], sent["failed"], sent["held"])
                    beat("alerts", config.store.identity(), undelivered)
            except _Stopping:
                return
            except BaseException as exc:  # surfaced by the loop below
                failed.append(exc)
                stop.set()

        thread = threading.Thread(target=collect, name="collector", daemon=True)
        thread.start()
        sender = threading.Thread(target=deliver, name="alerts", daemon=True)
        sender.start()
        if ready is not None:
            ready()
        monitor = Monitor(store, config)  # kept: its nulls serve the next passes
        failures = PassFailures("serve")
        while not stop.is_set():
            started = time.monotonic()
            try:
                verdicts, _ = run_pass(store, config, secrets, write=write, settle=settle,
                                       deliver=False, monitor=monitor)
            except StoreUnavailable as exc:
                log.warning("serve: monitor pass skipped, the store is unavailable: %s", exc)
            except Exception as exc:  # (before: serve stopped, its collector with it)
                failures.failed(exc)
            else:
                failures.ok()
                if verdicts:
                    log.info("serve: monitor pass: %d windows, %d bad", len(verdicts),
                             sum(v.bad for v in verdicts))
                if not monitor.broken:  # (`health monitor` goes stale while one is)
                    beat("monitor", config.store.identity())
                wake.set()
            until = started + interval
            while not stop.wait(max(0.0, min(1.0, until - time.monotonic()))):
                if local is not None and not local.running():  # (seen within a second,
                    # not after the next pass)
                    raise BrokerError(
                        f"the embedded broker on {local.bootstrap} exited by itself")
                if time.monotonic() >= until:
                    break
    finally:
        stop.set()
        wake.set()
        if sender is not None:  # (a send under way ends within alerts.timeout)
            sender.join(config.alerts.timeout.total_seconds() + 5)
        if thread is not None:  # its drain, then a final flush that may wait for the
            # store's lock behind a query through the port (at most MAX_SECONDS)
            from driftscope.store.gateway import MAX_SECONDS

            limit = DRAIN_SECONDS + MAX_SECONDS + 30
            if local is not None and not local.running():  # a request to the dead broker
                limit = DEAD_BROKER_WAIT  # waits out kafka-python's 30 s (it did, 1 in 3)
            thread.join(limit)
            if thread.is_alive():
                log.error("serve: the collector did not stop within %.0f s; what it read and "
                          "did not store is read again at the next start (with the embedded "
                          "broker: lost with it)", limit)
        if local is not None:  # its log is in memory and nobody reads it now: ended at
            local.stop(grace=0)  # once, it stops acknowledging writes that would be lost
        if server is not None:
            server.shutdown()
        if http is not None:
            http.stop()
        if store is not None:
            store.close()
        if local is not None:
            local.stop()
    if failed:
        raise failed[0]
    for service in ("monitor", "alerts"):  # (a clean stop: `health` says so at once)
        stopped(service, config.store.identity())
