"""The scheduler: every closed window × every monitor, exactly once, resumable.

For each monitor it lists the closed windows (``windows`` table) not yet recorded in
``monitor_windows``, oldest first, and for each one: evaluates it, writes
``drift_results``, hands the verdict to the alert engine, then records the window as
processed. Re-running does nothing new; after a crash the unrecorded windows are redone
(results are replaced, the alert engine ignores a window it has already applied).

Examples
--------
>>> monitor = Monitor(store, config, alerts=AlertEngine(store, config.alerts))  # doctest: +SKIP
>>> verdicts = monitor.run_once()                                                # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import pairwise
from typing import Any, Protocol

from driftscope.alerts.model import VERSUS_REST, WindowVerdict
from driftscope.alerts.rules import check_of
from driftscope.alerts.state import AlertStore
from driftscope.config import Config
from driftscope.errors import ConfigError, StoreUnavailable
from driftscope.logs import Retelling
from driftscope.monitor import evaluate as ev
from driftscope.monitor import judge, names, quality, results
from driftscope.monitor.config import VERSION_KEY, MonitorConfig
from driftscope.monitor.detect import Fitter, check_detectors
from driftscope.monitor.frame import (
    Frame,
    Marks,
    Profiled,
    Sampled,
    Silence,
    Source,
    closed_windows,
    concat,
    first_closed,
    floor_window,
    part_counts,
    read_events,
    read_labels,
    silence,
    still_stored,
    stored_counts,
    stored_marks,
    window_counts,
)
from driftscope.monitor.kept import KeptReads
from driftscope.monitor.reference import (
    HOLD,
    ReferenceReader,
    digest,
    not_uploaded,
    reference_key,
)
from driftscope.monitor.sketch_noise import SketchNoise
from driftscope.store import schema as S
from driftscope.store.clickhouse import Store
from driftscope.types import Window

log = logging.getLogger("driftscope.monitor")
RETELL = 600.0  # seconds between two ERRORs of a monitor a configuration error stops
_ORPHANS: set[str] = set()  # open alerts of unconfigured monitors already warned of


GAPPY_OF = (8, 12)
"""A monitor whose latest 12 windows with events include 8 that follow windows without
any (a nightly batch judged in hourly windows) is warned of: a gap ends every streak of
bad windows, so it never alerts nor asks for retraining."""
_GAPS_TOLD: dict[tuple[str, str], float] = {}
EXPIRED_RECHECK = timedelta(hours=1)
"""How long a live pass trusts that the windows whose data expired stay so (the end it
kept, :meth:`Monitor._note_expired`): after that it reads back to them once and keeps
their end again, so old events replayed into one of them are judged within the hour."""
GAPS_RETELL = 86400.0  # seconds between two warnings of one monitor's gaps


def _warn_of_gaps(cfg: MonitorConfig, size: timedelta, starts: list[datetime]) -> None:
    """One WARNING a day per monitor whose windows with events mostly follow windows
    without any: 11 of 14 nightly batches drifted, and nothing was told (measured)."""
    gaps, of = GAPPY_OF
    latest = starts[-(of + 1):]
    after_gap = sum(b - a > size for a, b in itertools.pairwise(latest))
    key, now = (cfg.model, cfg.name), time.monotonic()
    told = _GAPS_TOLD.get(key)
    if len(latest) <= of or after_gap < gaps or (told is not None and now - told < GAPS_RETELL):
        return
    _GAPS_TOLD[key] = now
    log.warning("monitor %s: %d of the model's last %d windows with events followed windows "
                "without any; alerts and retraining need bad windows in a row, which a gap "
                "ends, so this monitor never alerts: set the model's window to the time its "
                "traffic spans (a nightly batch: window: 1d)", cfg.name, after_gap, of)


def _looked_back(cfg: MonitorConfig, size: timedelta) -> timedelta:
    """How far before a window its sliding reference may reach (windows unlike the normal
    left out: :func:`driftscope.monitor.reference.reference_windows`)."""
    spec = cfg.reference
    if spec.kind == "seasonal":
        return 2 * spec.period + spec.width * size  # (a window left out: one period earlier)
    return HOLD * spec.width * size


def _unjudged(cfg: MonitorConfig, rows: list[ev.Row], scored: bool) -> frozenset[str]:
    """The checks a window could not make, so that it cannot resolve an alert about them
    (``alerts.rules.seen_of``): ``performance`` configured and nothing scored (too few
    labels: not in yet, or lost); ``drift`` and ``columns`` (the column checks) when the
    window held fewer than ``min_events`` events, or the reference did."""
    made = {check_of(r.kind, r.metric, r.reason) for r in rows if r.segment == "*"}
    wanted = {"drift": bool(cfg.features or cfg.outputs),
              "columns": cfg.quality.enabled and bool(cfg.features)}
    out = {c for c, on in wanted.items() if on and c not in made}
    return frozenset(out | ({"performance"} if cfg.performance and not scored else set()))


STOP_WITHIN = timedelta(days=1)
"""Windows shorter than this are checked for a drift that stopped partway through them
(:func:`driftscope.monitor.persistence.stopped`); a longer one holds the day's own rhythm
(a drift of business hours only), which looks just like that."""

Clock = Callable[[], datetime]
Progress = Callable[[str, int, int], None]  # (monitor, done, total)


class VerdictSink(Protocol):
    """What the scheduler hands verdicts to (the alert engine)."""

    def process(self, verdict: WindowVerdict) -> Any: ...


def _now() -> datetime:
    return datetime.now(UTC)


class _Stopped(ConfigError):
    """A configuration error met at a window of a monitor's pass: ``judged``, the windows
    before it, were written and recorded."""

    def __init__(self, error: ConfigError, judged: list[WindowVerdict]) -> None:
        super().__init__(str(error))
        self.judged = judged


@dataclass
class _Run:
    """One monitor's pass: its configuration and what is read once for all its windows."""

    cfg: MonitorConfig
    size: timedelta
    fp: str
    fitter: Fitter
    refs: ReferenceReader
    names: list[str]
    labels: bool
    counts: list[int]  # event counts of the latest windows: the volume history
    dead: bool  # the model has dead letters (so schema violations are counted)
    ref_key: str
    drifted: tuple[datetime, list[str]] | None = None  # latest window: what it drifted on
    lag: int = 0  # windows between a window and the one whose labels are in (label_delay)
    silence: Silence | None = None  # the stream has stopped (quality.silence)
    quiet_counts: list[int] | None = None  # the volume history up to its last event
    source: Source = None  # read from the windows' samples or profiles (no raw logging)
    prev: datetime | None = None  # the window processed before (label_delay catch-up)
    known: frozenset[datetime] = frozenset()  # windows processed or to be (their own pass)
    # labelled window → the later window whose pass scored it (its partner had no traffic)
    caught_up: dict[datetime, datetime] = field(default_factory=dict)
    noise: SketchNoise | None = None  # a profile's sketch error, allowed for (profiles)
    read: Frame | None = None  # the last batch's events, lead included (the next one's lead)
    # windows judged unlike the normal (drift, a data fault): out of sliding references
    unlike: set[datetime] = field(default_factory=set)
    # windows whose volume fell (an outage): not a seasonal volume expectation
    fallen: set[datetime] = field(default_factory=set)
    normal_at: datetime | None = None  # the latest window in the volume history
    # of ``fallen``, those judged with no same-phase count (Monitor._earlier)
    fallen_plain: set[datetime] = field(default_factory=set)
    # the event counts of the same windows a day and a week before the batch's (its own
    # windows' too, as they are judged): Monitor._earlier
    phase_counts: dict[datetime, int] = field(default_factory=dict)
    # segment values whose traffic fell (segment:KEY=VALUE → the share they are held to)
    held: dict[str, float] = field(default_factory=dict)
    marks: Marks | None = None  # what was stored of ``read``'s range when it was read
    broken: ConfigError | None = None  # what stopped the monitor at a window of the batch


PHASES = {"1d": (timedelta(days=1), 3), "1w": (timedelta(weeks=1), 2)}
"""The periods of a traffic cycle the volume check knows without a seasonal reference,
and how many of them back it looks past windows whose volume fell: a window like the
same one a day or a week before is not flagged for its volume
(:func:`driftscope.monitor.quality.volume_check`)."""


MAX_VALUES = 20_000_000
"""The most values (events × names read) a batch of windows reads besides its lead (a
window read peaks at about 3.6 × 8 bytes a value, benchmarks/wide_read.py: ~0.6 GB). A
backfill of a 200-feature model with 20,000 events a window read 64 windows and their
26-window lead at once (session 12's review: 60 windows of it peaked at 9 GB); it now
reads them a few at a time."""

def batches(todo: list[tuple[Window, int]], most: int,
            per_event: int) -> Iterator[list[tuple[Window, int]]]:
    """``todo`` in consecutive batches of at most ``most`` windows and
    :data:`MAX_VALUES` values (a window alone may hold more)."""
    batch: list[tuple[Window, int]] = []
    held = 0
    for w, n in todo:
        if batch and (len(batch) >= most or (held + n) * per_event > MAX_VALUES):
            yield batch
            batch, held = [], 0
        batch.append((w, n))
        held += n
    if batch:
        yield batch


class Monitor:
    """Runs the configured monitors over closed windows.

    Parameters
    ----------
    store : Store
        The migrated store.
    config : Config
        The whole configuration (monitors, models for window sizes).
    alerts : VerdictSink, optional
        Usually :class:`driftscope.alerts.engine.AlertEngine`; None writes results only.
    clock : callable, optional
        Returns the current UTC time (injected in tests).
    chunk : int
        Windows read from the store per query.
    settle : timedelta
        Process a window only this long after it was first closed, so that events still
        in flight from other partitions are stored first.
    """

    def __init__(
        self,
        store: Store,
        config: Config,
        *,
        alerts: VerdictSink | None = None,
        clock: Clock = _now,
        chunk: int = 64,
        settle: timedelta = timedelta(0),
    ) -> None:
        check_detectors(config.monitors)
        self.store = store
        self.config = config
        self.alerts = alerts
        self.clock = clock
        self.chunk = chunk
        self.settle = settle
        self._fitters: dict[str, Fitter] = {}
        self._noise: dict[str, SketchNoise] = {}  # per monitor configuration, kept
        self._named: set[tuple[str, str]] = set()  # monitors whose names were checked
        self._uploaded: set[tuple[str, str]] = set()  # (model, dataset) found uploaded
        # the last pass's monitors that stopped at a failed window: (monitor, its start,
        # the windows of the pass left undone from it on)
        self.failed: list[tuple[str, datetime, int]] = []
        # the last pass's monitors that a configuration problem kept from running (a
        # dataset not uploaded yet): name -> the one-line error; the others still ran
        self.broken: dict[str, str] = {}
        self.stopped: dict[str, int] = {}  # of those, the windows each judged before it
        # this pass's: which version served each window, shared by a model's monitors
        # (ReferenceReader.served), and whether a model's events carry versions at all
        self._served: dict[tuple[object, ...], dict[datetime, str | None]] = {}
        self._versioned: dict[str, bool] = {}
        self._told: dict[str, Retelling] = {}  # per monitor: its error, told when due
        # per monitor (configuration digest): the last pass's read and its marks, the next
        # pass's lead when they still hold (:meth:`_read`); within the memory that
        # monitor_process.kept_reads_bytes gives them all (driftscope.monitor.kept)
        self._kept = KeptReads(config.monitor_process.kept_reads_bytes)
        # per monitor: the segments with no performance row before a time (a campaign
        # begun since: its history is read from then, not from the store's start)
        self._unwritten: dict[str, dict[str, datetime]] = {}
        # per monitor and window size: the end of the closed windows, oldest first, whose
        # data store.retention expired (never judged), and when it was found: a live pass
        # looks for none before it for EXPIRED_RECHECK
        self._expired: dict[tuple[str, str, timedelta], tuple[datetime, datetime]] = {}

    def window_size(self, cfg: MonitorConfig) -> timedelta:
        model = self.config.model(cfg.model)
        return cfg.window_size(model.window if model else timedelta(minutes=5))

    def run_once(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        progress: Progress | None = None,
        *,
        own_labels: bool = False,
    ) -> list[WindowVerdict]:
        """Process every closed, unprocessed window; return the verdicts, oldest first.

        ``own_labels``: each window's performance from its own labels, not those of the
        window ``label_delay`` earlier (a backfill, whose labels are in)."""
        return self._pass(since, until, progress, own_labels, redo=False)

    def backfill(
        self, since: datetime, until: datetime, progress: Progress | None = None
    ) -> list[WindowVerdict]:
        """Reprocess the windows lying within [since, until) with the current configuration
        (not those whose data has expired), a batch at a time: once a batch is evaluated,
        the record and the old results of the windows it judged are deleted just before the
        new ones are written — a window that failed, or met a configuration error, and the
        windows after it keep theirs. (Forgotten all at once up front, the whole range was
        unprocessed for a ``serve`` beside it, whose next pass evaluated it all again; and
        the rows the new configuration no longer makes — a segment now under
        ``min_events``, a feature removed, quality turned off — stayed, under the
        fingerprint of the rows it does make.) The range's labels are in: each window
        scores its own (no ``label_delay``)."""
        return self._pass(since, until, progress, own_labels=True, redo=True)

    def _pass(self, since: datetime | None, until: datetime | None,
              progress: Progress | None, own_labels: bool, redo: bool) -> list[WindowVerdict]:
        out: list[WindowVerdict] = []
        self.failed, self.broken, self.stopped = [], {}, {}
        self._served.clear()  # (which version served each window: asked afresh a pass)
        self._versioned.clear()
        self._check_orphans()
        for cfg in self.config.monitors:
            try:
                out += self._run_monitor(cfg, since, until, progress, own_labels, redo)
            except ConfigError as exc:  # fixable while we run: the other monitors go on
                judged = exc.judged if isinstance(exc, _Stopped) else []
                out += judged
                self.stopped[cfg.name] = len(judged)
                self._broke(cfg.name, str(exc))
            else:
                told = self._told.pop(cfg.name, None)
                if told is not None and told.told:
                    log.info("monitor %s: runs again", cfg.name)
        self._kept.tell()  # (once per monitor: a read too big to keep for the next pass)
        results.record_pass(self.store, self.clock(), len(out),
                            [(cfg.model, cfg.name) for cfg in self.config.monitors])
        return out

    # -- one monitor ----------------------------------------------------------------
    def _run_monitor(
        self, cfg: MonitorConfig, since: datetime | None, until: datetime | None,
        progress: Progress | None, own_labels: bool = False, redo: bool = False,
    ) -> list[WindowVerdict]:
        """One monitor's pass (``redo``: a backfill's, of every closed window in range)."""
        size = self.window_size(cfg)
        if cfg.window is None:
            cfg = cfg.model_copy(update={"window": size})
        self._check_names(cfg)
        settled = self.clock() - self.settle if self.settle else None
        quiet = self._silence(cfg, size) if since is None and until is None else None
        start = since
        if since is None:  # a live pass reads what its windows to do need, not all history
            start = results.read_from(  # (and as many processed as _warn_of_gaps looks at)
                self.store, cfg.model, cfg.name, size, until, settled,
                min((w.start for w, _ in quiet.windows), default=None) if quiet else None,
                latest=GAPPY_OF[1] + 1, after=self._expired_before(cfg, size))
        done = results.processed(self.store, cfg.model, cfg.name, size,
                                 start if since is None else None)
        closed = closed_windows(self.store, cfg.model, size, start, until, closed_before=settled)
        if quiet is not None:  # the windows a stopped stream leaves open or never opens
            have = {w.start for w, _ in closed}
            closed = sorted(closed + [(w, n) for w, n in quiet.windows if w.start not in have],
                            key=lambda wn: wn[0].start)
        undone = [(w, n) for w, n in closed if redo or w.start not in done]
        todo = self._with_data(cfg, size, undone)
        if since is None:
            self._note_expired(cfg, size, undone, todo)
        if todo and not redo:
            todo = self._in_order(cfg, size, todo, done | {w.start for w, _ in closed})
        if not todo:
            self._check_dataset(cfg)
            return []
        alerts = self.config.alerts
        needs = max([alerts.min_windows, *(p.windows for p in alerts.retrain.policies
                                           if p.kind != "periodic")])
        if not redo and needs > 1:  # (one bad window alerts: a gap hides nothing)
            _warn_of_gaps(cfg, size, sorted(done | {w.start for w, _ in todo}))
        run = self._start(cfg, size, todo[0][0].start)
        run.silence = quiet
        run.prev = max((d for d in done if d < todo[0][0].start), default=None)
        run.known = frozenset(done | {w.start for w, _ in closed})
        if own_labels:
            run.lag = 0
        if run.lag:  # windows already scored by a later pass (their partner came late)
            back = (run.prev or todo[0][0].start) - (run.lag + 1) * size
            run.caught_up = results.caught_up(self.store, cfg.model, cfg.name, back)
        out: list[WindowVerdict] = []
        recall = getattr(self.alerts, "recall", None)  # (AlertEngine.recall; a sink of
        if redo and recall is not None:  # its own may have none): alerts keep what they saw,
            # and re-judge from a window they saw good that is bad now (late labels)
            recall(cfg.model, cfg.name, todo[0][0].start, todo[-1][0].start)
        try:
            self._judge(cfg, run, todo, out, progress, redo)
        finally:
            redone = getattr(self.alerts, "redone", None)
            if redo and redone is not None:
                redone(cfg.model, cfg.name)
        return out

    def _judge(self, cfg: MonitorConfig, run: _Run, todo: list[tuple[Window, int]],
               out: list[WindowVerdict], progress: Progress | None, redo: bool) -> None:
        """Evaluate ``todo`` a batch at a time, record it and hand its verdicts to the
        alerts (appended to ``out``)."""
        for batch in batches(todo, self.chunk, len(run.names) + 1):
            written, verdicts, failed = self._evaluate(run, batch)
            if redo:  # (those it judged: a window that failed keeps its rows and record)
                redone = [v.window_start for v in verdicts]
                results.forget(self.store, cfg.model, cfg.name, redone)
                results.drop_results(self.store, cfg.model, cfg.name, redone)
            # results first, then alerts, then the record: a crash anywhere redoes the batch
            results.write_results(self.store, cfg.model, cfg.name, written, self.clock())
            for v in verdicts:
                if self.alerts is not None:
                    self.alerts.process(v)
                out.append(v)
                if progress:
                    progress(cfg.name, len(out), len(todo))
            results.mark_processed(self.store, verdicts, run.fp, self.clock())
            if run.broken is not None:  # (the windows judged before it are kept)
                raise _Stopped(run.broken, out)
            if failed:  # the failed window and those after it wait for the next pass
                self.failed.append((cfg.name, batch[len(verdicts)][0].start,
                                    len(todo) - len(out)))
                break

    def _broke(self, name: str, error: str) -> None:
        """Record a monitor a configuration problem stopped, and log it (again when the
        problem changes, or every ``RETELL`` seconds while it lasts): ``serve`` and the
        collector keep running, and its windows wait, unprocessed, until it is fixed."""
        self.broken[name] = error
        if self._told.setdefault(name, Retelling(RETELL)).due(error):
            log.error("monitor %s: not run: %s; its windows wait until this is fixed, the "
                      "other monitors go on", name, error)

    def _check_orphans(self) -> None:
        """Warn once per process of an open alert whose monitor is no longer configured:
        nothing judges its windows, so it never resolves by itself."""
        configured = {(m.model, m.name) for m in self.config.monitors}
        for alert, _, _ in AlertStore(self.store).open_alerts():
            if (alert.model_id, alert.monitor) in configured or alert.alert_id in _ORPHANS:
                continue
            _ORPHANS.add(alert.alert_id)
            moved = sorted(m.model for m in self.config.monitors if m.name == alert.monitor)
            now = (f" (a monitor {alert.monitor!r} is configured for model "
                   f"{', '.join(map(repr, moved))}: a typo in its model?)" if moved else "")
            log.warning(
                "alert %s of monitor %r (model %r) is open, and no monitor %r of model %r is "
                "configured%s: it will not resolve by itself; `driftscope alerts resolve %s` "
                "closes it", alert.alert_id, alert.monitor, alert.model_id, alert.monitor,
                alert.model_id, now, alert.alert_id)

    def _check_names(self, cfg: MonitorConfig) -> None:
        """Warn once per process of a model or feature no event has (a typo, most likely)."""
        if (cfg.model, cfg.name) in self._named:
            return
        settled, line = names.unknown_names(self.store, cfg)
        if settled:
            self._named.add((cfg.model, cfg.name))
        if line:
            log.warning(line)

    def _check_dataset(self, cfg: MonitorConfig) -> None:
        """A ``dataset`` reference of one name, in a pass with no window to judge: a name
        not uploaded is the error a window would meet (`monitor --once` after a typo in
        the configuration said `0 windows` until the next window closed)."""
        spec = cfg.reference
        if spec.kind != "dataset" or spec.versioned or spec.dataset is None \
                or (cfg.model, spec.dataset) in self._uploaded:
            return
        R = S.REFERENCES
        if not self.store.count(R, f"{R.model_id} = {{m:String}} AND {R.name} = {{n:String}}",
                                m=cfg.model, n=spec.dataset):
            raise not_uploaded(self.store, cfg.model, spec.dataset)
        self._uploaded.add((cfg.model, spec.dataset))

    def _with_data(self, cfg: MonitorConfig, size: timedelta,
                   windows: list[tuple[Window, int]]) -> list[tuple[Window, int]]:
        """The windows whose data is still stored (:func:`frame.still_stored`): one that
        ``store.retention`` emptied is neither judged as empty nor, by a backfill,
        overwritten."""
        if not windows:
            return []
        source = self._source(cfg, size)
        stored = stored_counts(self.store, cfg.model, size, windows[0][0].start,
                               windows[-1][0].end, source)
        return still_stored(windows, stored, isinstance(source, Sampled))

    def _note_expired(self, cfg: MonitorConfig, size: timedelta,
                      undone: list[tuple[Window, int]], todo: list[tuple[Window, int]]) -> None:
        """Keep the end of the oldest windows not processed (``undone``, in order) that
        :meth:`_with_data` left out (``todo``: those kept) and that lie past
        ``store.retention`` of the data the monitor reads: their data expired, they are
        never judged, and a live pass no longer reads back to them (a monitor added to a
        model logging for a year, with events kept 30 days, read the year's windows at
        every pass). A window older than the retention that closes later between them (a
        replay of old events into one of them) is judged when the pass reads back to them
        again, ``EXPIRED_RECHECK`` later."""
        retention = self.config.store.retention
        kept = retention.profiles if isinstance(self._source(cfg, size), Profiled) \
            else retention.events
        if kept is None:  # (nothing expires: a window left out waits for its data)
            return
        horizon = self.clock() - kept
        have = {w.start for w, _ in todo}
        end = None
        for w, _ in undone:
            if w.start in have or w.end > horizon:
                break
            end = w.end
        if end is not None:
            self._expired[(cfg.model, cfg.name, size)] = (end, self.clock())

    def _expired_before(self, cfg: MonitorConfig, size: timedelta) -> datetime | None:
        """The end of the windows whose data expired (:meth:`_note_expired`), while it is
        trusted (``EXPIRED_RECHECK``); None: a pass reads back to them."""
        kept = self._expired.get((cfg.model, cfg.name, size))
        if kept is None or self.clock() - kept[1] >= EXPIRED_RECHECK:
            return None
        return kept[0]

    def _in_order(self, cfg: MonitorConfig, size: timedelta, todo: list[tuple[Window, int]],
                  known: set[datetime]) -> list[tuple[Window, int]]:
        """``todo`` up to the first window whose window before holds events the collector
        flushed but is not closed yet (a lagging member of the collector's group): that
        one waits, and those after it, until the window before closes — for at most the
        model's ``allowed_lateness`` past its own settling — so that the window before is
        judged first. (The alert engine applies a model's windows in order: judged after a
        later one, a bad window was recorded bad but answered 'seen', its alert never
        raised.) One query of the collector's ``window_parts`` and ``windows`` rows over
        the windows to do."""
        state = first_closed(self.store, cfg.model, size, todo[0][0].start - size,
                             todo[-1][0].end)
        wait = self.settle + self._lateness(cfg)
        for i, (w, _) in enumerate(todo):
            before, closed = w.start - size, state.get(w.start)
            if before in state and state[before] is None and before not in known \
                    and closed is not None and self.clock() < closed + wait:
                log.debug("monitor %s: window %s waits for the window before to close",
                          cfg.name, f"{w.start:%Y-%m-%d %H:%M}")
                return todo[:i]
        return todo

    def _lateness(self, cfg: MonitorConfig) -> timedelta:
        model = self.config.model(cfg.model)
        return model.allowed_lateness if model else timedelta(minutes=1)

    def _silence(self, cfg: MonitorConfig, size: timedelta) -> Silence | None:
        """The model's silence, when ``quality.silence`` is set and has passed."""
        after = cfg.quality.silence
        if not cfg.quality.enabled or after is None:
            return None
        return silence(self.store, cfg.model, size, self.clock(), after, self._lateness(cfg))

    def _start(self, cfg: MonitorConfig, size: timedelta, first: datetime) -> _Run:
        """What one monitor's pass needs before its first window is evaluated."""
        fp = digest(json.dumps(cfg.model_dump(mode="json"), sort_keys=True))
        fitter = self._fitters.setdefault(fp, Fitter(cfg.seed))
        names = ev.monitored_names(cfg)
        labels = cfg.performance is not None
        source = self._source(cfg, size)
        refs = ReferenceReader(self.store, cfg.model, names, cfg.min_events, source,
                               self._served, VERSION_KEY in cfg.segments)
        back = cfg.anomaly.history * size
        if cfg.reference.kind == "seasonal":  # (a seasonal expectation skips them too)
            back = max(back, _looked_back(cfg, size))
        fallen = quality.fallen_windows(self.store, cfg.model, cfg.name, first - back, first)
        kept = [(w, n) for w, n in window_counts(self.store, cfg.model, size, first,
                                                  cfg.anomaly.history,
                                                  parts=source is not None)
                if w not in fallen]
        counts = [n for _, n in kept]
        unlike = results.unlike_windows(self.store, cfg.model, cfg.name,
                                        first - _looked_back(cfg, size), first, size) \
            if cfg.reference.kind in ("previous", "seasonal") else set()
        dead = cfg.quality.enabled and self.store.count(
            S.DEAD_LETTERS, f"{S.DEAD_LETTERS.model_id} = {{m:String}}", m=cfg.model) > 0
        return _Run(cfg, size, fp, fitter, refs, names, labels, counts, dead,
                    reference_key(cfg.reference),
                    lag=cfg.performance.lag(size) if cfg.performance else 0, source=source,
                    unlike=unlike, fallen=fallen, normal_at=kept[-1][0] if kept else None,
                    held=quality.held_segments(self.store, cfg.model, cfg.name, first)
                    if cfg.quality.enabled and cfg.segments else {},
                    noise=self._noise.setdefault(fp, SketchNoise(cfg.seed))
                    if isinstance(source, Profiled) else None)

    def _has_versions(self, model: str) -> bool:
        """Whether any on-time event of ``model`` carried a version (``model_versions``,
        once a pass): a model without them asks nothing more."""
        if model not in self._versioned:
            V = S.MODEL_VERSIONS
            self._versioned[model] = self.store.count(V, f"{V.model_id} = {{m:String}}",
                                                      m=model) > 0
        return self._versioned[model]

    def _source(self, cfg: MonitorConfig, size: timedelta) -> Source:
        """How a model logged without raw events is read: its windows' samples, else its
        profiles (a model not configured is auto-registered with raw logging)."""
        model = self.config.model(cfg.model)
        if model is None or "raw" in model.logging:
            return None
        if "sample" in model.logging:
            return Sampled(model.sample_size, int(size.total_seconds()))
        return Profiled(int(size.total_seconds()), cfg.seed)

    def _evaluate(
        self, run: _Run, batch: list[tuple[Window, int]]
    ) -> tuple[list[tuple[Window, list[ev.Row]]], list[WindowVerdict], bool]:
        """Rows and verdicts of a batch of consecutive windows (nothing written), up to the
        first window whose evaluation failed (then True: logged, it is retried next pass,
        and the other monitors still run) or met a configuration error (then True, and
        ``run.broken`` holds it: the monitor stops there)."""
        cfg, size = run.cfg, run.size
        # the persistence check reads the window before and its baseline windows too
        lead = (cfg.persistence.baseline + 2) * size if cfg.persistence.enabled else size * 0
        if cfg.reference.kind == "previous":  # (its width, or more with windows to leave out)
            back = _looked_back(cfg, size)
            near = any(t >= batch[0][0].start - back for t in run.unlike)
            lead += back if near else cfg.reference.width * size
        lead = max(lead, run.lag * size)  # the window whose labels are in (label_delay)
        written: list[tuple[Window, list[ev.Row]]] = []
        verdicts: list[WindowVerdict] = []
        window = batch[0][0]
        try:
            source = self._read(run, window.start - lead, batch[-1][0].end, lead)
            hist = self._history(cfg, window.before(run.lag), None if run.lag else
                                 source.between(window.start, batch[-1][0].end))
            if run.source:  # the collector's parts count every event (a sample holds k)
                parts = dict(part_counts(self.store, cfg.model, size, batch[0][0].start,
                                         batch[-1][0].end))
                batch = [(w, parts.get(w.start, n)) for w, n in batch]
            self._phase_counts(run, batch[0][0].start, batch[-1][0].end)
            for window, n in batch:
                rows, perf, v = self._window(run, source, window, n, hist)
                if results.unlike_normal(v):  # (left out of the next windows' references)
                    run.unlike.add(window.start)
                keep = cfg.anomaly.history - 1
                if not any(f.reason == "silence" for f in v.findings) \
                        and not quality.fell(rows):
                    # (a long silence's zeros made the volume history 0, and so did an
                    # outage's few events: its later windows looked normal, and the alert
                    # resolved while the traffic was still down)
                    run.counts = [*run.counts[-keep:], v.n_events] if keep > 0 \
                        else [v.n_events]
                    run.normal_at = window.start
                elif quality.fell(rows):
                    run.fallen.add(window.start)
                    if quality.judged_plain(rows):
                        run.fallen_plain.add(window.start)
                run.held = quality.held_shares(rows, run.held)
                written.append((window, rows))
                written += perf  # under each labelled window's own time (label_delay)
                verdicts.append(v)
                run.prev = window.start
        except ConfigError as exc:  # (its monitor stops; the windows before it are kept)
            run.broken = exc
            return written, verdicts, True
        except StoreUnavailable:
            raise
        except Exception as exc:
            log.warning("monitor %s: window %s failed, retried next pass: %s: %s", cfg.name,
                        f"{window.start:%Y-%m-%d %H:%M}", type(exc).__name__, exc)
            log.debug("monitor %s: window %s", cfg.name, window.start, exc_info=True)
            return written, verdicts, True
        return written, verdicts, False

    def _window(
        self, run: _Run, source: Frame, window: Window, n: int,
        hist: dict[tuple[str, str, str], list[judge.Past]],
    ) -> tuple[list[ev.Row], list[tuple[Window, list[ev.Row]]], WindowVerdict]:
        """The window's drift and quality rows, the performance rows of each window whose
        labels are in (this one; or with ``label_delay`` the one that long before, and
        those before it whose own partner window passed without traffic), and the
        verdict."""
        cfg = run.cfg
        events = source.between(window.start, window.end)
        cur, ref, extra = ev.align(events, run.refs.frame(cfg.reference, window, source,
                                                          run.unlike, run.fallen), cfg)
        version = run.refs.version(cfg.reference, window)  # (a static one's, this pass's)
        run.fitter.hold(version)
        checked = cur, ref, extra  # what the column checks hold the window to
        stand = run.refs.stand_in(cfg.reference, window) if ref.n == 0 else None
        if stand is not None:  # a version's first windows: its features against the
            # version before's (a broken deploy is found at once; the outputs of a new
            # model may well differ: they are not held to the old one's)
            checked = ev.align(events, replace(stand, columns={
                k: v for k, v in stand.columns.items() if k in cfg.features}), cfg)
        if run.dead:
            checked[2].append(quality.schema_violations(self.store, cfg.model, window.start,
                                                        window.end, cfg.quality))
        # a sample holds k of the window's events: the window's own count is the collector's
        sampled = isinstance(run.source, Sampled)
        count = n if sampled else cur.n
        rows = ev.drift_rows(cfg, run.fitter, cur, ref, run.noise)
        for row in rows:
            if row.reason == VERSUS_REST:
                continue  # (judged against the rest of the window: no reference's)
            if version is not None:  # which contents it was judged against: a dataset
                # uploaded again under its name, or a fixed range filled since
                row.details["reference_version"] = version
            row.details.update(run.refs.whose(cfg.reference, window))
        silent = self._silent(run, window, cur)
        rows += ev.quality_rows(cfg, checked[0], checked[1],
                                self._quiet_counts(run) if silent else run.counts,
                                checked[2], silent, count if sampled else None,
                                None if silent else self._earlier(run, window), run.held)
        scored: list[tuple[Window, list[ev.Row]]] = []
        labelled_windows = self._labelled(run, window)
        for labelled in labelled_windows:
            late = labelled is not labelled_windows[-1]  # its partner had no traffic
            if run.caught_up.get(labelled.start, window.start) != window.start:
                continue  # scored by another window's pass (its partner closed late)
            got = ev.performance_rows(
                cfg, self._labelled_frame(run, source, labelled) if run.lag else cur,
                lambda seg, feat, metric, k: hist.get((seg, feat, metric), []), labelled)
            ev.apply_rules(cfg, got)
            for r in got:  # the history the next windows are judged by (bad ones marked)
                hist.setdefault((r.segment, r.feature, r.metric), []).append(judge.Past(
                    r.statistic, r.details.get("standard_error", math.nan), labelled.start,
                    r.bad))
            if got:
                scored.append((labelled, got))
            if got and late:
                run.caught_up[labelled.start] = window.start
                for r in got:
                    r.details["caught_up_by"] = window.start.isoformat()
        perf = [r for _, got in scored for r in got]
        ev.apply_rules(cfg, rows)

        def before(j: int) -> tuple[Frame, Frame]:
            w = window.before(j)
            if cfg.reference.by_version and \
                    run.refs.version_of(cfg.reference, w) != run.refs.version_of(cfg.reference,
                                                                                 window):
                # a window another version served says nothing of whether this version's
                # drift was there already: left out, as a window without events (read
                # against this version's reference, the old model's other outputs, or the
                # world it served, looked like this drift begun before)
                return cur.take(slice(0, 0)), ref
            c, r, _ = ev.align(source.between(w.start, w.end), run.refs.frame(
                cfg.reference, w, source, run.unlike, run.fallen), cfg)
            return c, r

        carried, follows, t = ev.persistence_check(
            cfg, rows, (cur, ref), before, lambda: self._drifted_before(run, window),
            joint=not isinstance(run.source, Profiled), ordered=window.size < STOP_WITHIN)
        # two windows in a row measured bad by this pass (a catch-up after a quiet spell)
        # are two bad windows of one streak, as a carried drift's
        bad = [u.start for u, got in scored if any(r.bad for r in got)]
        carried = carried or any(b - a == window.size for a, b in pairwise(bad))
        unjudged = _unjudged(cfg, rows, bool(scored))
        measured = scored[-1][0] if run.lag and scored else None
        v = ev.verdict(cfg, window, count, rows + perf, run.ref_key, carried, t, follows,
                       measured.start if measured else None, unjudged)
        if self._has_versions(cfg.model) and not isinstance(run.source, Profiled):
            # which version to retrain (the alerts'): the one it was judged against
            judged_as = partial(run.refs.version_of, cfg.reference)
            v = replace(v, model_version=judged_as(window),
                        labels_version=judged_as(measured) if measured else None)
        run.drifted = (window.start, results.drifted_on(v))
        return (rows, scored, v) if run.lag else (rows + perf, [], v)

    @staticmethod
    def _labelled(run: _Run, window: Window) -> list[Window]:
        """The windows whose performance this window's pass scores, oldest first: the one
        ``label_delay`` before, and, when windows without traffic (a quiet night) came
        between this window and the one processed before, the windows whose partner
        ``label_delay`` later was one of those: their labels are in by now too."""
        if not run.lag or run.prev is None:
            return [window.before(run.lag)]
        gap = int((window.start - run.prev) // window.size)  # 1: no window between
        # u = now - lag - j whose partner u + lag fell in the gap (0 < j < gap), and
        # u <= prev (the windows after prev had no events): gap - lag <= j; a partner
        # that has a pass of its own (a window closed out of order) scores it there
        missed = [window.before(run.lag + j)
                  for j in range(gap - 1, max(1, gap - run.lag) - 1, -1)
                  if window.before(j).start not in run.known]
        return [*missed, window.before(run.lag)]

    def _read(self, run: _Run, start: datetime, end: datetime, span: timedelta) -> Frame:
        """A batch's events with its lead: the part read before is not read again (raw
        events) — by the batch before, a moment ago in this pass, or by the pass before,
        where what is stored of each of its windows (:class:`Marks`: events and their
        hashes) is as it was then (an event stored late into the lead, and it is read
        afresh; its labels are read again, feedback having come in since). ``span``: the
        lead, which is what the next pass can reuse of it. A name whose values were numbers
        in some events and strings in others takes its kind from all of them: such a read
        is done whole."""
        held, marks = run.read, run.marks
        raw = run.source is None
        kept = self._kept.pop(run.fp, None) if held is None and raw else None
        if kept is not None:
            held, marks = kept
        b = held.bounds if held is not None else None
        c = self.config.collector
        read = partial(read_events, self.store, run.cfg.model, names=run.names,
                       labels=run.labels, horizon=c.feedback_horizon, skew=c.feedback_skew,
                       source=run.source, versions=run.refs.versions)
        mark = partial(stored_marks, self.store, run.cfg.model, run.size)
        frame, fresh = None, start  # (fresh: where this read's own events begin)
        if held is not None and marks is not None and b is not None and raw \
                and b[0] <= start < b[1] <= end and not held.mixed:
            now = mark(start if kept else b[1], end)  # (marked before it is read)
            lead = held.between(start, b[1])
            # (an event stored or deleted in the lead since the pass before: read it whole)
            holds = kept is None or marks.agree(now, start, b[1])
            if holds and kept is not None and run.labels:
                got = read_labels(self.store, run.cfg.model, start, b[1],
                                  c.feedback_horizon, c.feedback_skew)
                holds, lead = len(got) == lead.n, replace(lead, labels=got)
            if holds:
                part = read(start=b[1], end=end)
                if not part.mixed:
                    frame, fresh = concat(lead, part), b[1]
                    marks = now if kept else marks.then(now)
        if frame is None:
            marks = mark(start, end) if raw else None
            frame = read(start=start, end=end)
        run.read, run.marks = frame, marks
        # kept for the next pass: its lead, if what was read is what the marks say (an
        # event deleted and stored again while it was read — a collector's recovery — is not)
        if raw and marks is not None and not frame.mixed \
                and marks.agree(mark(fresh, end), fresh, end):
            self._kept.keep(run.fp, frame.between(max(start, end - span), end), marks,
                            f"{run.cfg.name!r} of model {run.cfg.model!r}", span, run.size)
        else:  # nor is it carried to the pass's next batch (which then reads whole)
            self._kept.pop(run.fp, None)
            run.marks = None
        return frame

    def _labelled_frame(self, run: _Run, source: Frame, labelled: Window) -> Frame:
        """A labelled window's events: from the batch's frame when it holds them."""
        b = source.bounds
        if b is not None and b[0] <= labelled.start and labelled.end <= b[1]:
            return source.between(labelled.start, labelled.end)
        return read_events(self.store, run.cfg.model, labelled.start, labelled.end, run.names,
                           labels=True, horizon=self.config.collector.feedback_horizon,
                           skew=self.config.collector.feedback_skew,
                           source=run.source, versions=run.refs.versions)

    @staticmethod
    def _silent(run: _Run, window: Window, cur: Frame) -> quality.QualityResult | None:
        """A window that passed in the model's silence with no event: a bad volume."""
        quiet = run.silence
        if quiet is None or cur.n or window.start <= quiet.last_event:
            return None
        return quality.silence(quiet.idle.total_seconds(), quiet.last_event.isoformat())

    def _phase_counts(self, run: _Run, start: datetime, end: datetime) -> None:
        """Read the event counts of the windows one to three days, and one and two weeks,
        before those in [start, end) (:meth:`_earlier`), and which of them fell."""
        if not run.cfg.quality.enabled:
            return
        backs = [back for period, times in PHASES.values()
                 for back in (k * period for k in range(1, times + 1))
                 if not back % run.size and back >= run.size]  # (windows that do not tile
        if not backs:  # the period have no same phase)
            return
        for back in backs:
            a, b = start - back, end - back
            if run.source is not None:
                run.phase_counts.update(part_counts(self.store, run.cfg.model, run.size, a, b))
            else:
                run.phase_counts.update(stored_counts(self.store, run.cfg.model, run.size,
                                                      a, b))
        fell = quality.fallen_judged(self.store, run.cfg.model, run.cfg.name,
                                     start - max(backs), end - min(backs))  # (one query)
        run.fallen |= set(fell)
        run.fallen_plain |= {w for w, plain in fell.items() if plain}

    def _earlier(self, run: _Run, window: Window) -> dict[str, int]:
        """The event counts of the same window one day and one week before (two or three
        days, two weeks, where that one's volume fell: an outage does not make the next
        day's outage normal).
        Where both fell, the nearer one judged with no same-phase count is taken if the
        traffic came back after it: a cycle's low seen for the first time (a first night,
        flagged against the day's history) is then the next one's expectation; an
        outage's windows, judged against the day before, never are."""
        out: dict[str, int] = {}
        for name, (period, times) in PHASES.items():
            seen = [(at, run.phase_counts[at]) for k in range(1, times + 1)
                    if (at := window.start - k * period) in run.phase_counts]
            kept = [n for at, n in seen if at not in run.fallen]
            back = [n for at, n in seen if at in run.fallen_plain
                    and run.normal_at is not None and run.normal_at > at]
            if kept or back:
                out[name] = (kept or back)[0]
        return out

    def _quiet_counts(self, run: _Run) -> list[int]:
        """The volume history a silent window is drawn against: the windows up to the
        last event (the latest windows before it would hold none, deep in a silence)."""
        quiet = run.silence
        if quiet is None:
            return run.counts
        if run.quiet_counts is None:
            end = floor_window(quiet.last_event, run.size) + run.size
            run.quiet_counts = [n for _, n in window_counts(
                self.store, run.cfg.model, run.size, end, run.cfg.anomaly.history,
                parts=run.source is not None)]
        return run.quiet_counts

    def _drifted_before(self, run: _Run, window: Window) -> list[str]:
        """What the window before drifted on: remembered within a pass, read back from
        its stored summary for a pass's first window."""
        start = window.start - window.size
        if run.drifted is not None and run.drifted[0] == start:
            return run.drifted[1]
        return results.drifted_at(self.store, run.cfg.model, run.cfg.name, start, window.size)

    def _history(self, cfg: MonitorConfig, first: Window, judged: Frame | None
                 ) -> dict[tuple[str, str, str], list[judge.Past]]:
        """The performance history of the windows before ``first``. With ``judged`` (the
        events of the windows the batch judges), of the segments they judge only, the
        recent windows first (:func:`results.metric_history`); without (``label_delay``:
        a batch may judge windows older than its read, whose partner passed without
        traffic), all of it."""
        if cfg.performance is None:
            return {}
        limit = max(cfg.anomaly.history, cfg.band.history) * ev.period_windows(cfg)
        if judged is None:
            return results.metric_history(self.store, cfg.model, cfg.name, first.start,
                                          cfg.performance.chosen(), limit)
        return results.metric_history(
            self.store, cfg.model, cfg.name, first.start, cfg.performance.chosen(), limit,
            since=first.start - 2 * limit * (1 + judge.QUARANTINE) * first.size,
            segments={"*", *ev.judged_segments(cfg, judged, first.start, first.size)},
            unwritten=self._unwritten.setdefault(cfg.name, {}))
