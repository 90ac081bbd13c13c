"""Detection-quality harness: power, false alarms and delay of the drift detectors.

The decision rule measured here is the monitor's own, run by the monitor's own code:
per-feature scores from the default detectors (:mod:`~driftscope.simulators.calibration`,
which calls :func:`driftscope.monitor.detect.score_one`), the model-level decision across
the tests of a window (:func:`driftscope.monitor.judge.model_level`: statistic above its
reference-quantile threshold and minimum effect, and rejected by Benjamini–Hochberg at
``alpha``), the persistence check (:mod:`driftscope.monitor.persistence`: a flagged
window whose window before moved the same way on its flagged features counts that window
as bad too) and the alert state machine (:func:`driftscope.alerts.rules.step`: an alert
opens at the ``consecutive``-th bad window in a row and resolves after two good ones).

Metrics, per scenario × detector × window size ``n``:

power       share of fully drifted windows (drift weight 1 everywhere) flagged drifted;
delay       windows from the onset window to the alert, counting both (1 = alert in
            the onset window; "within 3 windows" means delay ≤ 3). As in the change-point
            literature (conditional average detection delay), a trial whose alert was
            already open when the drift began — a false alarm before the onset that had not
            resolved — has no delay to measure: it is counted in ``pre_onset_open`` and left
            out of the delay figures, and its alarm counts in the pre-onset false alarms;
within3     share of those trials alerted with delay ≤ 3;
flagged3    share of those trials whose first window flagged drifted (what the drift
            panels show, before the 2-window alert rule) came with delay ≤ 3;
false alarms  alerts opened per 1,000 windows of a stream that should stay silent;
paged       (temporary bursts) share of trials whose alert opened in the burst window or
            the one after it — the alerts the burst itself can make (one two windows later
            would need a third bad window in a row after it); ``alerted``
            also counts any later alert of the trial (a chance alarm on the clean windows
            after the burst, at the no-drift rate).

Examples
--------
>>> consecutive_alerts([True, False, True, True, True, False, False, True, True]).tolist()
[False, False, False, True, False, False, False, False, True]
>>> from driftscope.types import Score
>>> rq = lambda stat, p: Score(stat, 0.5, "reference-quantile", p)
>>> w = lambda p: [rq(1.0, p), rq(0.1, 0.5)]
>>> default_monitor_decision([w(0.001), w(0.002), w(0.3)]).tolist()
[False, True, False]
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import numpy as np

from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.rules import Policy, Track, step
from driftscope.errors import ConfigError, DetectorInputError, RegistryError
from driftscope.monitor.config import DEFAULT_REFERENCE_WINDOWS, FdrSpec, PersistenceSpec
from driftscope.monitor.detect import Scored
from driftscope.monitor.judge import model_level
from driftscope.monitor.persistence import (
    Evidence,
    Shift,
    measure,
    reference_error,
    shifts,
    size_ratio,
    verdict,
)
from driftscope.types import Score

from .calibration import FeatureMonitor, FittedMonitor, detector_specs, harness_detectors
from .scenarios import Clock, Scenario, Stream, get_scenario
from .sources import Batch, get_source, list_sources

DEFAULT_ALPHA = FdrSpec().alpha
DEFAULT_CONSECUTIVE = Policy().min_windows
DEFAULT_PERSISTENCE = PersistenceSpec()
DEFAULT_SEASONAL_WIDTH = DEFAULT_REFERENCE_WINDOWS["seasonal"]
SIZES = (100, 500, 1000, 5000)
PHASES = ("start", "random")
"""Where in its window a trial's onset (or burst) falls (:attr:`EvalConfig.phase`)."""
LABEL = "__label__"
"""Column name of the (delayed) labels when the harness also watches them."""
_T0 = datetime(2026, 1, 1, tzinfo=UTC)
_HOUR = timedelta(hours=1)


def window_drifted(
    scores: Sequence[Score | Scored],
    *,
    alpha: float = DEFAULT_ALPHA,
    correction: str = "bh",
    min_effects: Sequence[float] | None = None,
) -> bool:
    """One window's model-level verdict: any test passing the monitor's decision.

    That is :func:`driftscope.monitor.judge.model_level` — statistic above its threshold
    and its minimum effect (from ``Scored``, else ``min_effects``, else 0), and rejected
    by Benjamini–Hochberg (``correction="bonferroni"``: Bonferroni) at ``alpha`` across
    the window's tests. ``correction="none"`` skips the multiple-testing step (each test
    judged alone at its reference quantile) — for comparison only.
    """
    plain = [s.score if isinstance(s, Scored) else s for s in scores]
    if min_effects is None:
        min_effects = [s.min_effect if isinstance(s, Scored) else 0.0 for s in scores]
    return any(model_level(plain, min_effects, correction, alpha))


def consecutive_alerts(
    flags: Sequence[bool] | np.ndarray,
    *,
    consecutive: int = DEFAULT_CONSECUTIVE,
    carried: Sequence[bool] | np.ndarray | None = None,
    follows: Sequence[bool] | np.ndarray | None = None,
) -> np.ndarray:
    """Where an alert *opens*, by the alert engine's state machine on these verdicts.

    :func:`driftscope.alerts.rules.step` with the default :class:`~driftscope.alerts.rules.Policy`
    (``min_windows=consecutive``): an alert opens at the ``consecutive``-th bad window in
    a row, stays open while windows are bad and resolves after two good ones.
    """
    return alert_states(flags, consecutive=consecutive, carried=carried, follows=follows)[0]


def alert_states(
    flags: Sequence[bool] | np.ndarray,
    *,
    consecutive: int = DEFAULT_CONSECUTIVE,
    carried: Sequence[bool] | np.ndarray | None = None,
    follows: Sequence[bool] | np.ndarray | None = None,
    drifted: Sequence[Sequence[str]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Where an alert opens, and where one is open after the window (same state machine).

    ``carried``: per window, whether the window before moved the same way
    (:mod:`driftscope.monitor.persistence`); it then counts as bad for the streak.
    ``follows``: per window, False where a bad window is not the same incident as the
    bad one before it (:func:`driftscope.alerts.rules.next_streak`). ``drifted``: per
    window, the features it drifted on (two bad windows with none in common are not one
    incident: :func:`driftscope.alerts.rules.shares`).

    >>> opens, open_ = alert_states([True, True, False, False, True])
    >>> opens.tolist(), open_.tolist()
    ([False, True, False, False, False], [False, True, True, False, False])
    >>> alert_states([False, True], carried=[False, True])[0].tolist()
    [False, True]
    """
    policy = Policy(min_windows=consecutive)
    track = Track()
    opens, open_ = np.zeros(len(flags), dtype=bool), np.zeros(len(flags), dtype=bool)
    for i, bad in enumerate(flags):
        start = _T0 + i * _HOUR
        found = tuple(Finding("drift", "*", f, "harness", 1.0, 0.5, "harness", "fdr")
                      for f in (drifted[i] if drifted is not None else ("*",)))
        v = WindowVerdict("harness", "harness", start, start + _HOUR, 0, found if bad else (),
                          carried=bool(carried[i]) if carried is not None else False,
                          follows=bool(follows[i]) if follows is not None else True)
        d = step(track, v, policy, silenced=False)
        track, opens[i] = d.track, d.action == "open"
        open_[i] = d.action in ("open", "update")
    return opens, open_


def delay_after(opens: np.ndarray, open_: np.ndarray, onset: int) -> float | None:
    """Windows from the onset window to the first alert opened, both counted (``inf``:
    none); None when an alert was already open at the onset (a false alarm before it
    that had not resolved: no delay to measure).

    >>> delay_after(np.array([0, 0, 0, 1]), np.array([0, 0, 0, 1]), 2)
    2.0
    >>> delay_after(np.array([0, 1, 0, 0]), np.array([0, 1, 1, 0]), 2) is None
    True
    """
    if onset and open_[onset - 1]:
        return None
    after = np.nonzero(opens[onset:])[0]
    return float(after[0] + 1) if len(after) else float("inf")


def opened_by_burst(alerts: np.ndarray, burst_windows: int) -> bool:
    """Whether an alert opened while a burst of ``burst_windows`` windows could be in its
    streak: in the burst's windows or the one after them (``alerts`` from the onset on).

    >>> opened_by_burst(np.array([False, True, False]), 1)
    True
    >>> opened_by_burst(np.array([False, False, False, False, True]), 1)  # a later alarm
    False
    """
    return bool(alerts[: burst_windows + 1].any())


def default_monitor_decision(
    windows: Sequence[Sequence[Score | Scored]],
    *,
    alpha: float = DEFAULT_ALPHA,
    consecutive: int = DEFAULT_CONSECUTIVE,
) -> np.ndarray:
    """Alert openings for a sequence of windows, each given as its tests' scores."""
    flags = [window_drifted(s, alpha=alpha) for s in windows]
    return consecutive_alerts(flags, consecutive=consecutive)


@dataclass(frozen=True)
class Flags:
    """A stream's window-level decisions, as the alert engine sees them."""

    flags: np.ndarray  # the window is bad (a drifted feature)
    carried: np.ndarray  # its window before moved its way (persistence check)
    follows: np.ndarray  # it may extend the bad window before it
    drifted: list[tuple[str, ...]]  # the features it drifted on
    evidence: dict[int, Evidence] = field(default_factory=dict)  # flagged window → check

    def alerts(self, consecutive: int = DEFAULT_CONSECUTIVE) -> tuple[np.ndarray, np.ndarray]:
        """Where an alert opens, and where one is open (:func:`alert_states`)."""
        return alert_states(self.flags, consecutive=consecutive, carried=self.carried,
                            follows=self.follows, drifted=self.drifted)

    def replay(self, spec: PersistenceSpec) -> Flags:
        """The same windows judged with another persistence setting (the measurements
        kept in ``evidence`` are what any setting decides on; they were taken with the
        recorded run's ``baseline``, so ``spec.baseline`` and ``spec.enabled`` are not
        replayed)."""
        carried, follows = np.zeros_like(self.carried), np.ones_like(self.follows)
        for i, e in self.evidence.items():
            carried[i], follows[i] = judge(e, spec)
        return replace(self, carried=carried, follows=follows)


def judge(e: Evidence, spec: PersistenceSpec) -> tuple[bool, bool]:
    """``(carried, follows)`` of a flagged window's evidence under ``spec``."""
    return verdict(e, spec.alpha, spec.follow_alpha, spec.fade_alpha, spec.jump_ratio,
                   spec.directed_alpha, spec.stop_alpha)


@dataclass(frozen=True)
class EvalConfig:
    """What the harness runs; the defaults are the ones recorded in BENCHMARKS.md.

    Examples
    --------
    >>> EvalConfig().sizes, EvalConfig(trials=2).alpha
    ((100, 500, 1000, 5000), 0.01)
    """

    sizes: tuple[int, ...] = SIZES
    source: str = "synthetic"
    n_reference: int = 10_000
    windows_before: int = 6
    windows_after: int = 10
    trials: int = 5
    gradual_span_windows: int = 4
    null_windows: int = 2000
    references: int = 4  # drift trials and silent streams cycle over this many references
    periodic_windows: int = 1200
    periodic_sizes: tuple[int, ...] = (1000,)
    n_null: int | None = None
    alpha: float = DEFAULT_ALPHA
    consecutive: int = DEFAULT_CONSECUTIVE
    persistence: PersistenceSpec | None = DEFAULT_PERSISTENCE
    correction: str = "bh"
    watch_labels: bool = False
    seasonal_width: int = DEFAULT_SEASONAL_WIDTH
    period: timedelta = timedelta(days=1)
    seed: int = 0
    # where in its window each trial's onset (or burst) falls: "start" (on the window
    # grid, the best case) or "random" (uniform within the window, as in production)
    phase: str = "start"

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ConfigError(f"phase: {' or '.join(PHASES)}; got {self.phase!r}")
        if not self.sizes or min(self.sizes) < 1:
            raise ConfigError(f"sizes: every window size must be at least 1, got {self.sizes}")
        for name in ("trials", "gradual_span_windows", "seasonal_width"):
            if getattr(self, name) < 1:  # 0 windows wide: a seasonal reference of no cycle
                raise ConfigError(f"{name}: must be at least 1, got {getattr(self, name)}")
        if self.seed < 0:  # numpy's generators take no negative seed
            raise ConfigError(f"seed: must be at least 0, got {self.seed}")
        if self.source not in list_sources():  # (was a traceback once the suite ran)
            raise ConfigError(f"source: unknown source {self.source!r}; valid: "
                              f"{', '.join(list_sources())}")


@dataclass
class Result:
    """One row of the report; metrics keyed by window size.

    Examples
    --------
    >>> Result("no-drift", "default", "none", false_alarms={1000: 0.0}).false_alarms
    {1000: 0.0}
    """

    scenario: str
    detector: str
    intensity: str
    power: dict[int, float] = field(default_factory=dict)
    delay: dict[int, float] = field(default_factory=dict)
    delay_max: dict[int, float] = field(default_factory=dict)
    false_alarms: dict[int, float] = field(default_factory=dict)
    alerted: dict[int, float] = field(default_factory=dict)
    windows: dict[int, int] = field(default_factory=dict)
    pre_onset_open: dict[int, int] = field(default_factory=dict)
    within3: dict[int, float] = field(default_factory=dict)
    flagged3: dict[int, float] = field(default_factory=dict)
    paged: dict[int, float] = field(default_factory=dict)  # temporary: alert by the burst
    measured: dict[int, int] = field(default_factory=dict)  # trials with a delay measured


class Harness:
    """Runs scenarios through a detector configuration with the default decision rule.

    Examples
    --------
    >>> cfg = EvalConfig(sizes=(500,), trials=1, n_reference=2000, n_null=100,
    ...                  windows_before=2, windows_after=3)
    >>> r = Harness(cfg).drift("instantaneous-covariate", "high")
    >>> r.power[500], r.delay[500]
    (1.0, 2.0)
    """

    def __init__(self, cfg: EvalConfig, detector: str = "default") -> None:
        self.cfg = cfg
        self.detector = detector
        self.shown = detector + ("+labels" if cfg.watch_labels else "")
        self.source = get_source(cfg.source)
        self._monitors: dict[int, FittedMonitor] = {}

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.cfg.seed, *key])

    def monitor(self, ref_id: int = 0) -> FittedMonitor:
        """The monitor fitted on reference number ``ref_id`` (cached)."""
        if ref_id not in self._monitors:
            sc = get_scenario("no-drift").with_(source=self.cfg.source)
            ref = sc.reference(self._rng(1, ref_id), self.cfg.n_reference, source=self.source)
            fm = FeatureMonitor(self.detector, n_null=self.cfg.n_null)
            self._monitors[ref_id] = fm.fit(self._columns(ref), rng=self._rng(2, ref_id))
        return self._monitors[ref_id]

    def flags(
        self, monitor: FittedMonitor | Sequence[FittedMonitor], windows: Sequence[Stream]
    ) -> Flags:
        """Window-level model decisions, the features each drifted on, and the monitor's
        persistence check of each flagged window: whether its predecessor carried its
        drift, whether it follows its predecessor (:mod:`driftscope.monitor.persistence`).

        ``monitor``: one fitted monitor for every window, or one per window (seasonal
        references: each window against its own phase).
        """
        mons = [monitor] * len(windows) if isinstance(monitor, FittedMonitor) else monitor
        flags = np.zeros(len(windows), dtype=bool)
        carried = np.zeros(len(windows), dtype=bool)
        follows = np.ones(len(windows), dtype=bool)
        drifted: list[tuple[str, ...]] = []
        known: dict[tuple[int, str], Shift] = {}  # (window, feature) → its shift
        evidence: dict[int, Evidence] = {}

        def shift(j: int, feature: str) -> Shift:
            if (j, feature) not in known:
                values = self._columns(windows[j])[feature]
                known[(j, feature)] = shifts(mons[j].reference[feature], values)
            return known[(j, feature)]

        for i, (mon, w) in enumerate(zip(mons, windows, strict=True)):
            cols = self._columns(w)
            scores = mon.scores(cols)
            decided = model_level([s.score for s in scores], [s.min_effect for s in scores],
                                  self.cfg.correction, self.cfg.alpha)
            hit = sorted({s.feature for s, ok in zip(scores, decided, strict=True)
                          if ok})
            flags[i] = bool(hit)
            drifted.append(tuple(hit))
            if hit and i > 0 and self.cfg.persistence is not None:
                spec, n_ref = self.cfg.persistence, len(mon.reference[hit[0]])
                now, prev, *base = (
                    {f: shift(j, f) for f in hit}
                    for j in (i, i - 1, *range(max(0, i - 2 - spec.baseline), i - 2)))
                was = drifted[i - 1]  # what the window before was flagged on, if anything
                evidence[i] = measure(
                    now, prev, base, {f: mon.reference[f] for f in hit},
                    reference_error(len(w), n_ref), size_ratio(len(windows[i - 1]), len(w), n_ref),
                    {f: shift(i - 1, f) for f in was}, {f: shift(i, f) for f in was},
                    {f: mon.reference[f] for f in was}, window={f: cols[f] for f in hit})
                carried[i], follows[i] = judge(evidence[i], spec)
        return Flags(flags, carried, follows, drifted, evidence)

    def _columns(self, rows: Stream | Batch) -> dict[str, np.ndarray]:
        """What the monitor watches: the features, plus the labels when configured."""
        if not self.cfg.watch_labels:
            return rows.features
        return {**rows.features, LABEL: rows.labels.astype(str).astype(object)}

    def _scenario(self, name: str, n: int) -> Scenario:
        sc = get_scenario(name).with_(source=self.cfg.source)
        if sc.temporal == "periodic":
            sc = sc.with_(period=self.cfg.period)
        return sc.with_(span=self.cfg.gradual_span_windows * n, burst=n)

    def trial(
        self, name: str, intensity: str, n: int, t: int
    ) -> tuple[Flags, list[Stream]]:
        """Trial ``t`` of a drift scenario at window size ``n``: its windows' decisions,
        and the windows (onset after ``windows_before`` windows)."""
        wins = self.windows(name, intensity, n, t)
        # trials cycle over the references: a result is not one reference's luck
        return self.flags(self.monitor(t % self.cfg.references), wins), wins

    def offset(self, name: str, n: int, t: int) -> int:
        """Events into window ``windows_before`` at which trial ``t``'s drift begins: 0
        (``phase="start"``), or uniform in [0, n) (``"random"``)."""
        if self.cfg.phase == "start":
            return 0
        return int(self._rng(6, n, t, zlib.crc32(name.encode())).integers(0, n))

    def windows(self, name: str, intensity: str, n: int, t: int) -> list[Stream]:
        """The windows of trial ``t`` (what :meth:`trial` scores), onset in window
        ``windows_before``, :meth:`offset` events into it."""
        cfg, sc = self.cfg, self._scenario(name, n)
        rng = self._rng(3, n, t, zlib.crc32(name.encode()))
        stream = sc.generate(rng, (cfg.windows_before + cfg.windows_after) * n,
                             onset=cfg.windows_before * n + self.offset(name, n, t),
                             intensity=intensity, source=self.source)
        return list(stream.windows(n))

    def silent_streams(self, name: str, intensity: str, n: int) -> list[Flags]:
        """The decisions on each reference's share of a no-drift or periodic stream."""
        cfg, sc = self.cfg, self._scenario(name, n)
        periodic = sc.temporal == "periodic"
        clock = Clock(events_per_second=n / 3600)  # one window per simulated hour
        n_windows = cfg.periodic_windows if periodic else cfg.null_windows
        per_ref = -(-n_windows // cfg.references)
        out = []
        for r in range(cfg.references):
            stream = sc.generate(self._rng(4, n, r), per_ref * n, intensity=intensity,
                                 clock=clock, source=self.source)
            wins = list(stream.windows(n))
            mons = self._seasonal(sc, wins, intensity, r) if periodic else self.monitor(r)
            out.append(self.flags(mons, wins))
        return out

    def drift(self, name: str, intensity: str) -> Result:
        """Power, delay and pre-onset false alarms of a scenario with an onset."""
        cfg, res = self.cfg, Result(name, self.shown, intensity)
        for n in cfg.sizes:
            sc = self._scenario(name, n)
            hits, full, delays, pre_alarms, pre_open, paged = 0, 0, [], 0, 0, 0
            first_flags: list[float] = []
            for t in range(cfg.trials):
                found, wins = self.trial(name, intensity, n, t)
                flags = found.flags
                alerts, open_ = found.alerts(cfg.consecutive)
                is_full = np.asarray([w.weights.min() >= 1.0 for w in wins])
                hits += int(flags[is_full].sum())
                full += int(is_full.sum())
                pre_alarms += int(alerts[: cfg.windows_before].sum())
                delay = delay_after(alerts, open_, cfg.windows_before)
                if delay is None:
                    pre_open += 1
                    continue
                # the windows the burst touches (two when it does not start on the grid)
                touched = -(-(self.offset(name, n, t) + int(sc.burst)) // n)
                paged += opened_by_burst(alerts[cfg.windows_before :], touched)
                delays.append(delay)
                flagged = np.nonzero(flags[cfg.windows_before :])[0]
                first_flags.append(float(flagged[0] + 1) if len(flagged) else np.inf)
            res.pre_onset_open[n] = pre_open
            res.measured[n] = len(delays)
            res.power[n] = hits / full if full else float("nan")
            finite = [d for d in delays if np.isfinite(d)]
            res.delay[n] = (float(np.mean(finite)) if finite
                            else float("inf") if delays else float("nan"))
            res.delay_max[n] = float(np.max(delays)) if delays else float("nan")
            res.alerted[n] = float(np.mean(np.isfinite(delays))) if delays else float("nan")
            if sc.temporal == "temporary":
                res.paged[n] = paged / len(delays) if delays else float("nan")
            res.within3[n] = float(np.mean(np.asarray(delays) <= 3)) if delays else float("nan")
            res.flagged3[n] = (float(np.mean(np.asarray(first_flags) <= 3)) if first_flags
                               else float("nan"))
            res.false_alarms[n] = 1000.0 * pre_alarms / (cfg.trials * cfg.windows_before)
            res.windows[n] = cfg.trials * (cfg.windows_before + cfg.windows_after)
        return res

    def silent(self, name: str, intensity: str) -> Result:
        """False alarms per 1,000 windows on a no-drift or periodic stream."""
        cfg, res = self.cfg, Result(name, self.shown, intensity)
        periodic = get_scenario(name).temporal == "periodic"
        for n in cfg.periodic_sizes if periodic else cfg.sizes:
            streams = self.silent_streams(name, intensity, n)
            alarms = sum(int(f.alerts(cfg.consecutive)[0].sum()) for f in streams)
            windows = sum(len(f.flags) for f in streams)
            res.false_alarms[n] = 1000.0 * alarms / windows
            res.windows[n] = windows
        return res

    def _seasonal(
        self, sc: Scenario, wins: Sequence[Stream], intensity: str, ref_id: int
    ) -> list[FittedMonitor]:
        """Each window's monitor, fitted on a reference of its own phase (the same hours,
        earlier days).

        The reference spans ``seasonal_width`` windows centred on the window's hour.
        """
        period = round(sc.period / timedelta(hours=1))
        n, width = len(wins[0]), self.cfg.seasonal_width
        cycle = sc.weights(period * n, clock=wins[0].clock).reshape(period, n)
        monitors: dict[int, FittedMonitor] = {}
        out = []
        for w in wins:
            phase = (w.first_index // n) % period
            if phase not in monitors:
                rng = self._rng(5, ref_id, phase)
                hours = [(phase + d) % period for d in range(-(width // 2), width - width // 2)]
                weights = np.resize(cycle[hours].ravel(), self.cfg.n_reference)
                ref, _ = sc.sample(rng, weights, intensity=intensity, source=self.source)
                fm = FeatureMonitor(self.detector, n_null=self.cfg.n_null)
                monitors[phase] = fm.fit(self._columns(ref), rng=rng)
            out.append(monitors[phase])
        return out


Progress = Callable[[str], None]


def check_detectors(names: Sequence[str], option: str = "detectors") -> None:
    """Refuse, before any work, a name the harness cannot run: an empty one (a stray
    comma), an unknown one, or a detector that does not score one feature at a time."""
    for name in names:
        try:
            detector_specs(name)
        except (RegistryError, DetectorInputError) as exc:
            why = ("an empty name (a stray comma?)" if not name
                   else f"unknown detector {name!r}" if isinstance(exc, RegistryError)
                   else str(exc))
            raise ConfigError(
                f"{option}: {why}; valid names: {', '.join(harness_detectors())}") from None


def detector_names(text: str) -> list[str]:
    """The names of a comma-separated ``--detectors`` option, each checked now
    (:func:`check_detectors`), so a bad one fails before any result is computed.

    >>> detector_names("default, ks")
    ['default', 'ks']
    """
    names = [name.strip() for name in text.split(",")]
    check_detectors(names, "--detectors")
    return names


def run_suite(
    cfg: EvalConfig,
    detectors: Sequence[str],
    drift: Sequence[tuple[str, str]],
    silent: Sequence[tuple[str, str]],
    progress: Progress | None = None,
) -> list[Result]:
    """Every (scenario, intensity) of ``drift`` and ``silent`` for every detector.

    Every name is checked first (:func:`check_detectors`): a bad one fails before any
    result is computed, not after the detectors before it have run.
    """
    check_detectors(detectors)
    out: list[Result] = []
    for det in detectors:
        h = Harness(cfg, det)
        for name, level in drift:
            if progress:
                progress(f"{det}: {name} {level}")
            out.append(h.drift(name, level))
        for name, level in silent:
            if progress:
                progress(f"{det}: {name} {level} (silent)")
            out.append(h.silent(name, level))
    return out
