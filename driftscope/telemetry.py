"""Prometheus metrics of Driftscope's own services, on an injected registry.

Nothing is registered at import time: build :class:`CollectorMetrics` on the registry you
pass (a fresh ``CollectorRegistry()`` per test), and serve it with :func:`serve_metrics`
on ``127.0.0.1``. Drift statistics are not metrics; they are rows in ClickHouse.

Services without an HTTP port (the monitor, the alert dispatcher) :func:`beat` after each
successful pass, with what the pass saw that health depends on (the alert dispatcher: its
undelivered messages); :func:`heartbeat` is what ``driftscope health NAME`` (the
docker-compose healthcheck) reads.

Examples
--------
>>> from prometheus_client import CollectorRegistry
>>> reg = CollectorRegistry()
>>> m = CollectorMetrics(reg)
>>> m.consumed.inc(3)
>>> reg.get_sample_value("driftscope_collector_consumed_total")
3.0
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from driftscope.errors import ConfigError

_FLUSH_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BATCH_BUCKETS = (1, 10, 100, 500, 1000, 5000, 10_000, 50_000)


class CollectorMetrics:
    """The collector's counters, gauges and histograms."""

    def __init__(self, registry: CollectorRegistry) -> None:
        p = "driftscope_collector_"
        self.registry = registry
        self.consumed = Counter(p + "consumed", "Kafka messages consumed", registry=registry)
        self.stored = Counter(p + "stored", "Events and feedback stored", registry=registry)
        self.dead_lettered = Counter(
            p + "dead_lettered", "Messages dead-lettered", ["reason"], registry=registry
        )
        self.late = Counter(p + "late", "Events later than the allowed lateness", registry=registry)
        self.lag = Gauge(p + "lag", "Messages behind the log end", ["partition"], registry=registry)
        self.flush_seconds = Histogram(
            p + "flush_seconds",
            "Time to write one batch",
            buckets=_FLUSH_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            p + "batch_size",
            "Messages per flushed batch",
            buckets=_BATCH_BUCKETS,
            registry=registry,
        )
        self.store_up = Gauge(  # 0 until the store first answers (a collector started
            p + "store_up", "1 when the last store call succeeded", registry=registry
        )  # with its store down is not healthy: docker-compose's healthcheck reads it)
        self.broker_up = Gauge(  # 0 until a first connection, and once none for a while
            p + "broker_up", "1 while the collector holds a connection to a broker",
            registry=registry)
        self.new_logs = Counter(
            p + "new_logs",
            "Partitions found holding a new log (a restarted broker, a topic created again)",
            registry=registry,
        )


def serve_metrics(registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> Any:
    """Serve ``/metrics`` for the registry; returns the server (``.shutdown()`` stops it).

    ``port=0`` picks a free port: read it from ``server.server_port``.
    """
    try:
        server, _thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        raise ConfigError(f"cannot serve metrics on {host}:{port}: {exc.strerror or exc}") from None
    return server


HEARTBEAT_DIR_ENV = "DRIFTSCOPE_HEARTBEAT_DIR"


def _heartbeat_path(name: str, store: str = "") -> Path:
    base = os.environ.get(HEARTBEAT_DIR_ENV) or os.path.join(
        tempfile.gettempdir(), "driftscope-heartbeats")
    if store:  # one file per store: another store's service on the machine is not this one
        name = f"{name}-{hashlib.sha256(store.encode()).hexdigest()[:12]}"
    return Path(base) / f"{name}.beat"


def beat(name: str, store: str = "", detail: Mapping[str, Any] | None = None) -> None:
    """Record that service ``name`` just finished a healthy pass over ``store`` (its
    :meth:`~driftscope.config.StoreConfig.identity`), in a file's content: the time, then
    ``detail`` (JSON) where given.

    Never raises: a heartbeat that cannot be written shows as unhealthy, it does not stop
    the service.
    """
    path = _heartbeat_path(name, store)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    text = f"{time.time():.3f}\n"
    if detail:
        text += json.dumps(detail, sort_keys=True, default=str) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text)
        tmp.replace(path)
    except OSError as exc:
        logging.getLogger("driftscope").warning("heartbeat %s not written: %s", path, exc)


STOPPED = "stopped"
"""The detail key of the beat a service writes when it stops cleanly (:func:`stopped`)."""


def stopped(name: str, store: str = "") -> None:
    """Record that service ``name`` stopped cleanly: its last beat said healthy, and
    ``driftscope health`` answered so for ``--max-age`` after a stop (5 minutes by default
    of a service that was not there). Another instance's next pass beats over it."""
    beat(name, store, {STOPPED: os.getpid()})


@dataclass(frozen=True)
class Heartbeat:
    """A service's last beat: seconds since, and the detail it wrote."""

    age: float
    detail: dict[str, Any] = field(default_factory=dict)


def heartbeat(name: str, store: str = "") -> Heartbeat | None:
    """Service ``name``'s last beat for ``store``; None when it never did.

    >>> import tempfile; os.environ[HEARTBEAT_DIR_ENV] = tempfile.mkdtemp()
    >>> heartbeat("doc", "a") is None
    True
    >>> beat("doc", "a", {"waiting": 2}); b = heartbeat("doc", "a")
    >>> b.age < 5, b.detail, heartbeat("doc", "b")
    (True, {'waiting': 2}, None)
    """
    try:
        first, _, rest = _heartbeat_path(name, store).read_text().partition("\n")
        age = max(0.0, time.time() - float(first))
    except (OSError, ValueError):
        return None
    try:
        detail = json.loads(rest) if rest.strip() else {}
    except ValueError:  # (half a file cannot be: it is replaced whole)
        detail = {}
    return Heartbeat(age, detail if isinstance(detail, dict) else {})


def heartbeat_age(name: str, store: str = "") -> float | None:
    """Seconds since service ``name`` last beat for ``store``; None when it never did."""
    got = heartbeat(name, store)
    return None if got is None else got.age
