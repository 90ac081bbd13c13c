"""The `driftscope collect` command, added to the root CLI by :func:`register`."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from prometheus_client import CollectorRegistry

from driftscope.cli_options import ConfigOption

if TYPE_CHECKING:
    from driftscope.config import Config

log = logging.getLogger("driftscope.collector")


def collect(
    config: ConfigOption = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve /metrics on 127.0.0.1:PORT (default: collector.metrics_port)."),
    ] = None,
) -> None:
    """Consume prediction events from Kafka into the store until SIGTERM or Ctrl-C.

    On SIGTERM or SIGINT the collector flushes what it holds, commits and exits.
    """
    from driftscope.collector.service import Collector
    from driftscope.config import Secrets, kafka_client_options, load_config
    from driftscope.store.clickhouse import Store

    cfg = load_config(config)
    secrets = Secrets.from_env()
    store = Store.from_config(cfg.store, secrets)
    options = kafka_client_options(cfg.kafka, secrets)
    registry, server = prepare(cfg, options, metrics_port)
    stop = threading.Event()

    def _stop(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():  # (a second signal, from a supervisor or `timeout`: once is enough)
            log.debug("collector: %s received again; still flushing", name)
            return
        log.info("collector: %s received; flushing and stopping", name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        Collector(cfg, store, kafka_options=options, registry=registry).run(stop)
    finally:
        if server is not None:
            server.shutdown()
        store.close()


def prepare(
    cfg: Config, options: dict[str, Any], metrics_port: int | None,
    extra_topics: Sequence[str] = (),
) -> tuple[CollectorRegistry, Any]:
    """What a collector needs before it starts: its topics (and ``extra_topics``), created
    with ``kafka.partitions`` where missing, and its metrics registry, served on
    ``metrics_port`` (default ``collector.metrics_port``; the server is None when neither
    is set)."""
    from driftscope.broker import ensure_topics
    from driftscope.telemetry import serve_metrics

    k = cfg.kafka
    ensure_topics(
        options["bootstrap_servers"],
        [k.topic, k.dead_letter_topic, *extra_topics],
        partitions=k.partitions,
        client_options={key: v for key, v in options.items() if key != "bootstrap_servers"},
    )
    registry = CollectorRegistry()
    port = metrics_port if metrics_port is not None else cfg.collector.metrics_port
    server = serve_metrics(registry, port) if port is not None else None
    if server is not None:
        log.info("collector: metrics on http://127.0.0.1:%d/metrics", server.server_port)
    return registry, server


def register(app: typer.Typer) -> None:
    """Add ``driftscope collect`` to the root CLI."""
    app.command("collect")(collect)
