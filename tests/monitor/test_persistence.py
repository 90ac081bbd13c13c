"""The same-direction check of the window before a flagged one: calibrated under no
drift, powerful on a ramp, blind to a drift the other way."""

from __future__ import annotations

import numpy as np
import pytest

from driftscope.monitor.config import PersistenceSpec
from driftscope.monitor.persistence import (
    carried,
    check,
    fading,
    reference_error,
    shifts,
    size_ratio,
    spread,
    stopped,
)

ALPHA = 0.01


def _categories(rng: np.random.Generator, p: list[float], n: int) -> np.ndarray:
    return rng.choice(np.array(["a", "b", "c", "d"], dtype=object), n, p=p)


def test_a_clean_window_before_passes_at_about_alpha_numeric_and_categorical() -> None:
    rng = np.random.default_rng(7)
    ref = {"x": rng.normal(size=10_000), "y": rng.normal(size=10_000),
           "c": _categories(rng, [0.4, 0.3, 0.2, 0.1], 10_000)}

    def clean() -> dict[str, dict[str, float]]:
        return {"x": shifts(ref["x"], rng.normal(0, 1, 1000)),
                "y": shifts(ref["y"], rng.normal(0, 1, 1000)),
                "c": shifts(ref["c"], _categories(rng, [0.4, 0.3, 0.2, 0.1], 1000))}

    trials, hits, ts = 600, 0, []
    baseline = [clean() for _ in range(8)]
    for _ in range(trials):
        flagged = {"x": shifts(ref["x"], rng.normal(0.3, 1, 1000)),
                   "y": shifts(ref["y"], rng.normal(-0.2, 1, 1000)),
                   "c": shifts(ref["c"], _categories(rng, [0.3, 0.3, 0.2, 0.2], 1000))}
        baseline = [*baseline[1:], clean()]  # a stream: each trial's window before is new
        ok, t = carried(flagged, baseline[-1], ALPHA, baseline[:-1])
        hits += ok
        ts.append(t)
    # about N(0, 1) (a little narrower: the categories' shares are tied to each other)
    assert abs(np.mean(ts)) < 0.15 and 0.8 < np.std(ts) < 1.1
    assert hits / trials < 2 * ALPHA


def test_the_baseline_cancels_an_unlucky_references_own_error() -> None:
    rng = np.random.default_rng(10)
    # the reference's mean sits 0.6 standard errors (of a 1,000-event window) high
    ref = rng.normal(size=10_000)
    ref += 0.6 * np.sqrt(1 / 1000 + 1 / 10_000) - ref.mean()
    plain = with_base = 0
    trials = 1000
    for _ in range(trials):
        flagged = {"x": shifts(ref, rng.normal(-0.3, 1, 1000))}  # a drift downwards
        before = [{"x": shifts(ref, rng.normal(0, 1, 1000))} for _ in range(9)]
        plain += carried(flagged, before[-1], ALPHA)[0]
        with_base += carried(flagged, before[-1], ALPHA, before[:-1])[0]
    assert plain / trials > 2.5 * ALPHA  # every clean window looks a little "down" …
    assert with_base / trials < 2 * ALPHA  # … and its baseline says by how much


def test_the_spread_accounts_for_correlated_columns() -> None:
    rng = np.random.default_rng(11)
    cov = [[1.0, 0.8], [0.8, 1.0]]  # two columns that move together (age and tenure …)

    def rows(shift: float, n: int) -> dict[str, np.ndarray]:
        xy = rng.multivariate_normal([shift, shift], cov, n)
        return {"x": xy[:, 0], "y": xy[:, 1]}

    ref = rows(0.0, 10_000)
    plain = scaled = 0
    trials = 1000
    flagged = {f: shifts(ref[f], v) for f, v in rows(0.3, 1000).items()}  # along both
    s = spread(ref, flagged)
    assert s == pytest.approx(np.sqrt(1.8), rel=0.05)  # √(uᵀRu) with u = (1, 1)/√2

    def clean() -> dict[str, dict[str, float]]:
        window = rows(0.0, 1000)
        return {f: shifts(ref[f], window[f]) for f in ref}

    stream = [clean() for _ in range(12)]
    for _ in range(trials):
        stream = [*stream[1:], clean()]
        plain += carried(flagged, stream[-1], ALPHA, stream[:-1])[0]
        scaled += carried(flagged, stream[-1], ALPHA, stream[:-1], scale=s)[0]
    assert plain / trials > 2.5 * ALPHA and scaled / trials < 2 * ALPHA


def test_a_ramps_window_before_moves_the_same_way_and_is_carried() -> None:
    rng = np.random.default_rng(8)
    ref = {"x": rng.normal(size=10_000), "y": rng.normal(size=10_000)}

    def window(weight: float, shift: float) -> dict[str, dict[str, float]]:
        drifted = rng.random(1000) < weight  # a mixture: this share of events drifted
        return {f: shifts(ref[f], rng.normal(np.where(drifted, shift, 0.0), 1)) for f in ref}

    # a 4-window ramp of a 0.35 SD shift: windows 2 and 3 carry 37.5 % and 62.5 % of it;
    # window 1 (12.5 %) and six clean windows before it are the baseline
    def base() -> list[dict[str, dict[str, float]]]:
        return [window(0.0, 0.0) for _ in range(6)] + [window(0.125, 0.35)]

    hits = sum(carried(window(0.625, 0.35), window(0.375, 0.35), 0.002, base())[0]
               for _ in range(300))
    assert hits / 300 > 0.97
    # the same window before, drifted the other way, is not the same incident
    against = sum(carried(window(0.625, 0.35), window(0.375, -0.35), 0.002, base())[0]
                  for _ in range(300))
    assert against == 0


def test_shifts_are_standard_errors_and_missing_values_are_ignored() -> None:
    rng = np.random.default_rng(9)
    ref = rng.normal(size=10_000)
    cur = np.concatenate([rng.normal(0.2, 1, 1000), [np.nan] * 50])
    expected = 0.2 / np.sqrt(1 / 1000 + 1 / 10_000)
    assert shifts(ref, cur)["mean"] == pytest.approx(expected, abs=1.5)
    cats = shifts(np.array(["a"] * 50 + ["b"] * 50, dtype=object),
                  np.array(["a"] * 20 + ["b"] * 20 + [None] * 5 + ["new"] * 10, dtype=object))
    assert set(cats) == {"=a", "=b", "=new"} and cats["=new"] > 3
    assert carried({"x": {}}, {"x": {"mean": 5.0}}, 0.01) == (False, 0.0)  # nothing to check


def test_missing_and_odd_values_neither_inflate_t_nor_crash() -> None:
    rng = np.random.default_rng(12)

    def holes(x: np.ndarray) -> np.ndarray:
        x[rng.random(len(x)) < 0.5] = np.nan  # half of the values missing
        return x

    ref = {"x": holes(rng.normal(size=10_000))}
    flagged = {"x": shifts(ref["x"], holes(rng.normal(0.5, 1, 1000)))}
    s = spread(ref, flagged)
    assert s == pytest.approx(1.0, abs=0.02)
    stream = [{"x": shifts(ref["x"], holes(rng.normal(size=1000)))} for _ in range(12)]
    hits = 0
    for _ in range(600):
        stream = [*stream[1:], {"x": shifts(ref["x"], holes(rng.normal(size=1000)))}]
        hits += carried(flagged, stream[-1], ALPHA, stream[:-1], scale=s)[0]
    assert hits / 600 < 2 * ALPHA
    # an infinite value is ignored, a column that changed type has no shift, and a window
    # before with nothing to compare (its column all missing) neither carries nor splits
    assert np.isfinite(shifts(np.array([0.0, 1.0, 2.0]), np.array([1.0, np.inf]))["mean"])
    assert shifts(np.array([0.0, 1.0]), np.array(["a", "b"], dtype=object)) == {}
    assert check({"x": {"mean": 9.0}}, {"x": {}}, [{"x": {"mean": -3.0}}], ref, 0.002,
                 0.05) == (False, True, 0.0)


def test_a_window_weaker_than_the_spike_before_it_does_not_follow_it() -> None:
    """A spike on x, then a window flagged by chance on x the same way: the drift has
    ended. A steady drift's second window falls short that far about 1 in 1,000 times."""
    rng = np.random.default_rng(13)
    ref = {"x": rng.normal(size=10_000)}
    base = [{"x": shifts(ref["x"], rng.normal(size=1000))} for _ in range(12)]
    spike = {"x": shifts(ref["x"], rng.normal(0.5, 1, 1000))}  # about 15 standard errors
    chance = {"x": {"mean": 3.5}}  # flagged by chance, the spike's way
    assert fading(chance, spike) < -5
    _, follows, t = check(chance, spike, base, ref, 0.002, 0.05)
    assert t > 10 and not follows  # the spike moved its way, but far more strongly
    # a steady drift (the same 0.15 SD shift in both windows) nearly always follows
    steady = [fading({"x": shifts(ref["x"], rng.normal(0.15, 1, 1000))},
                     {"x": shifts(ref["x"], rng.normal(0.15, 1, 1000))}) for _ in range(2000)]
    assert abs(np.mean(steady)) < 0.1 and np.std(steady) < 1.0
    assert np.mean(np.asarray(steady) < -3.09) < 0.003
    # a ramp grows: its later window is stronger, never "fading"
    grows = [fading({"x": shifts(ref["x"], rng.normal(0.25, 1, 1000))},
                    {"x": shifts(ref["x"], rng.normal(0.15, 1, 1000))}) for _ in range(500)]
    assert np.mean(grows) > 1.5 and min(grows) > -3.09


def test_a_jump_does_not_start_with_the_chance_finding_before_it() -> None:
    """A window flagged by chance on x, then a spike on x the same way: the window
    before moved its way, but by far less than a ramp's window before ever does."""
    rng = np.random.default_rng(14)
    ref = {"x": rng.normal(size=10_000), "y": rng.normal(size=10_000)}

    def window(shift: float) -> dict[str, dict[str, float]]:
        return {f: shifts(ref[f], rng.normal(shift, 1, 1000)) for f in ref}

    base = [window(0.0) for _ in range(12)]
    err = reference_error(1000, 10_000)
    chance = {"x": {"mean": 3.4}, "y": {"mean": 0.5}}  # flagged by chance, or carried
    spike = window(0.7)  # about 21 standard errors on each column
    assert check(spike, chance, base, ref, 0.002, 0.05, reference_error=err)[:2] == (
        False, False)
    spec = PersistenceSpec()  # the defaults

    def starts(now: float, prev: float) -> bool:
        return check(window(now), window(prev), base, ref, spec.alpha, spec.follow_alpha,
                     spec.fade_alpha, spec.jump_ratio, reference_error=err,
                     directed_alpha=spec.directed_alpha)[:2] == (True, True)

    # a 4-window ramp of a 0.35 SD shift: its third window (5/8 of it on average) starts
    # with its second (3/8): carried and followed nearly always
    assert np.mean([starts(0.35 * 5 / 8, 0.35 * 3 / 8) for _ in range(300)]) > 0.97
    # a 2-window ramp's first pair (1/4, then 3/4 of a 0.5 SD shift) mostly; where it
    # falls short of the jump ratio the ramp pages one window later
    assert np.mean([starts(0.375, 0.125) for _ in range(300)]) > 0.85


def test_the_looser_level_needs_a_direction_whose_jump_rule_guards_it() -> None:
    """A window before that moved 2.5 standard errors passes z(0.01) = 2.33 but not
    z(0.002) = 2.88: it is carried for a flagged window with a clear direction whose move
    it kept a fair share of, not for one flagged by its spread alone (no jump rule guards
    that one, so a spike of that kind keeps the stricter level)."""
    ref = {"x": np.random.default_rng(16).normal(size=10_000)}
    spec = PersistenceSpec()

    def carried_(flagged: dict[str, dict[str, float]], prev: float) -> bool:
        return check(flagged, {"x": {"mean": prev}}, [], ref, spec.alpha, spec.follow_alpha,
                     spec.fade_alpha, spec.jump_ratio, directed_alpha=spec.directed_alpha)[0]

    clear, spread_only = {"x": {"mean": 8.0}}, {"x": {"mean": 0.4}}
    assert carried_(clear, 2.5) and not carried_(clear, 1.9)  # 2.5 is 0.31 of the move
    assert not carried_({"x": {"mean": 12.0}}, 2.5)  # 0.21 of the move: a jump
    assert not carried_(spread_only, 2.5) and carried_(spread_only, 3.0)


def test_a_lasting_drift_is_not_measured_from_a_baseline_it_has_reached() -> None:
    """Twenty windows into a steady drift the baseline windows are drifted too; the
    baseline only stands for the reference's error, so its level is bounded by it."""
    rng = np.random.default_rng(15)
    ref = {"x": rng.normal(size=10_000)}

    def window() -> dict[str, dict[str, float]]:
        return {"x": shifts(ref["x"], rng.normal(0.15, 1, 1000))}  # about 4.5 SE

    err = reference_error(1000, 10_000)
    apart = bounded = 0
    for _ in range(300):
        base, prev, now = [window() for _ in range(12)], window(), window()
        apart += not check(now, prev, base, ref, 0.002, 0.05)[1]
        bounded += not check(now, prev, base, ref, 0.002, 0.05, reference_error=err)[1]
    assert apart / 300 > 0.5  # measured from the drifted level: most pairs look unrelated
    assert bounded / 300 < 0.06  # the window before of a weak drift, by chance


def test_a_window_before_that_moved_clearly_the_other_way_is_another_incident() -> None:
    ref = {"x": np.random.default_rng(16).normal(size=10_000)}
    weak = {"x": {"mean": 3.0}}  # flagged, but not beyond chance at 0.001 as a direction
    assert check(weak, {"x": {"mean": -15.0}}, [], ref, 0.002, 0.05)[1] is False
    assert check(weak, {"x": {"mean": 1.0}}, [], ref, 0.002, 0.05)[1] is True


def test_a_steady_change_of_unit_or_spread_follows_itself() -> None:
    """A column recorded in other units (a very large, steady shift) or with added noise
    (a wider spread, no direction): its second bad window follows the first."""
    rng = np.random.default_rng(17)
    ref = {"x": rng.normal(3.0, 1.0, 10_000)}
    err = reference_error(1000, 10_000)
    base = [{"x": shifts(ref["x"], rng.normal(3.0, 1.0, 1000))} for _ in range(12)]

    def pair(draw: object) -> bool:
        now, prev = ({"x": shifts(ref["x"], draw())} for _ in range(2))  # type: ignore[operator]
        return check(now, prev, base, ref, 0.002, 0.05, reference_error=err)[1]

    units = [pair(lambda: 2.54 * rng.normal(3.0, 1.0, 1000)) for _ in range(300)]
    noise = [pair(lambda: rng.normal(3.0, 3.0, 1000)) for _ in range(300)]
    assert np.mean(units) > 0.99 and np.mean(noise) > 0.97
    # the shift of a wider window is on the usual scale of noise (Welch)
    wide = [shifts(ref["x"], rng.normal(3.0, 3.0, 1000))["mean"] for _ in range(500)]
    assert 0.8 < np.std(wide) < 1.2


@pytest.mark.parametrize(("n_prev", "n_now"), [(5000, 800), (100, 3000)])
def test_a_steady_drift_follows_itself_when_traffic_changes(n_prev: int, n_now: int) -> None:
    """A steady drift's standardised shift grows with the window's size: windows of
    different sizes are compared in one unit, or falling traffic looks like an ending
    drift and rising traffic like a jump."""
    rng = np.random.default_rng(18)
    ref = {"x": rng.normal(size=10_000), "y": rng.normal(size=10_000)}
    err = reference_error(n_now, 10_000)
    ratio = size_ratio(n_prev, n_now, 10_000)

    def window(n: int) -> dict[str, dict[str, float]]:
        return {f: shifts(ref[f], rng.normal(0.3, 1, n)) for f in ref}

    base = [{f: shifts(ref[f], rng.normal(0, 1, 1000)) for f in ref} for _ in range(12)]
    kept = [check(window(n_now), window(n_prev), base, ref, 0.002, 0.05,
                  reference_error=err, size_ratio=ratio)[1] for _ in range(200)]
    alike = [check(window(n_now), window(n_prev), base, ref, 0.002, 0.05,
                   reference_error=err)[1] for _ in range(200)]
    assert np.mean(kept) > 0.97
    assert np.mean(alike) < 0.9  # compared as if of one size, pairs fall apart


def test_a_chance_finding_on_a_column_the_spike_moved_too_is_not_its_continuation() -> None:
    """A spike on x and y that also moved w, then a window flagged on w alone: along w the
    second window keeps the move, along the spike's own direction it kept almost none —
    the spike has ended. A ramp that widens (x, then x and y) keeps its move both ways."""
    rng = np.random.default_rng(17)
    ref = {c: rng.normal(size=10_000) for c in ("x", "y", "w")}
    spike = {"x": {"mean": 15.0}, "y": {"mean": 15.0}, "w": {"mean": 5.0}}
    now = {"x": {"mean": 0.3}, "y": {"mean": -0.2}, "w": {"mean": 4.5}}

    def judge(here: dict[str, dict[str, float]], flag: list[str],
              prev: dict[str, dict[str, float]], was: list[str]) -> tuple[bool, bool]:
        """This window's verdict: its shifts ``here``, flagged on ``flag``; the window
        before's shifts ``prev``, flagged on ``was``."""
        return check({c: here[c] for c in flag}, {c: prev[c] for c in flag}, [], ref,
                     0.002, 0.05, before_flagged={c: prev[c] for c in was} or None,
                     now_on_before={c: here[c] for c in was},
                     before_reference={c: ref[c] for c in was})[:2]

    assert judge(now, ["w"], spike, []) == (True, True)  # along w alone: one drift
    assert judge(now, ["w"], spike, ["x", "y", "w"]) == (False, False)  # the spike ended
    ramp_before, ramp_now = {"x": {"mean": 4.0}, "y": {"mean": 3.0}}, {
        "x": {"mean": 7.0}, "y": {"mean": 6.0}}
    assert judge(ramp_now, ["x", "y"], ramp_before, ["x"]) == (True, True)


def test_columns_read_back_one_by_one_take_the_widest_spread() -> None:
    # two strongly correlated features drifting together: their joint spread is about
    # √(1 + ρ); columns read back from profiles lose the rows that join them, and the
    # spread then takes the widest the correlation could make it, never the narrowest
    from driftscope.monitor.persistence import spread

    rng = np.random.default_rng(3)
    x = rng.normal(size=5000)
    y = 0.96 * x + np.sqrt(1 - 0.96**2) * rng.normal(size=5000)
    direction = {"x": {"mean": 1.0}, "y": {"mean": 1.0}}
    joint = spread({"x": x, "y": y}, direction)
    shuffled = {"x": x, "y": rng.permutation(y)}
    assert joint == pytest.approx(np.sqrt(1.96), abs=0.03)
    assert spread(shuffled, direction) == pytest.approx(1.0, abs=0.03)  # what went wrong
    assert spread(shuffled, direction, joint=False) == pytest.approx(np.sqrt(2), abs=0.03)


STOP = 3.48  # z(0.001 / 4): the default stop_alpha over the four tails tried


def _burst(rng: np.random.Generator, n: int, first: int, last: int, by: float) -> np.ndarray:
    """A window of ``n`` events, those in ``[first, last)`` shifted ``by``."""
    x = rng.normal(size=n)
    x[first:last] += by
    return x


def test_a_burst_that_ended_within_the_window_is_told_from_a_lasting_drift() -> None:
    """A burst straddling two windows: the second window's drift stops partway through
    it. A step or a ramp lasts to the window's end and is never told as stopped beyond
    its level (about 1 in 1,000 of its windows at most)."""
    rng = np.random.default_rng(21)
    ref = {"x": rng.normal(size=10_000)}
    z = {"x": {"mean": 8.0}}
    for ends, by in ((250, 0.35), (400, 0.35), (600, 0.35), (800, 0.7)):  # ends this far in
        assert stopped(z, {"x": _burst(rng, 1000, 0, ends, by)}, ref) > STOP, ends
    steps = [stopped(z, {"x": _burst(rng, 1000, 0, 1000, 0.35)}, ref) for _ in range(2000)]
    assert np.mean(np.asarray(steps) > STOP) < 0.003
    ramps = [stopped(z, {"x": rng.normal(size=1000) + np.linspace(0.1, 0.4, 1000)}, ref)
             for _ in range(500)]
    assert max(ramps) < STOP
    # a drift that begins within the window (an onset, a burst's first window) rises
    assert stopped(z, {"x": _burst(rng, 1000, 400, 1000, 0.7)}, ref) == -np.inf


def test_a_stopped_burst_of_categories_and_missing_values_is_told() -> None:
    rng = np.random.default_rng(22)
    ref = {"c": _categories(rng, [0.4, 0.3, 0.2, 0.1], 10_000)}
    burst = np.concatenate([_categories(rng, [0.1, 0.3, 0.2, 0.4], 500),
                            _categories(rng, [0.4, 0.3, 0.2, 0.1], 500)])
    burst[::7] = None
    z = {"c": shifts(ref["c"], burst)}
    assert stopped(z, {"c": burst}, ref) > STOP
    steady = _categories(rng, [0.1, 0.3, 0.2, 0.4], 1000)
    assert stopped({"c": shifts(ref["c"], steady)}, {"c": steady}, ref) < STOP
    # a category the reference never had, then gone
    new = np.concatenate([np.array(["e"] * 300, dtype=object),
                          _categories(rng, [0.4, 0.3, 0.2, 0.1], 700)])
    assert stopped({"c": shifts(ref["c"], new)}, {"c": new}, ref) > STOP


def test_a_window_whose_drift_stopped_neither_carries_nor_follows() -> None:
    """The burst's second window is flagged and its window before moved its way (the
    burst's first part): without the window's events that is one incident of two bad
    windows; with them, the drift is seen to stop, and the pair does not page."""
    rng = np.random.default_rng(23)
    ref = {"x": rng.normal(size=10_000)}
    base = [{"x": shifts(ref["x"], rng.normal(size=1000))} for _ in range(12)]
    first = _burst(rng, 1000, 500, 1000, 0.7)  # the burst begins halfway through
    second = _burst(rng, 1000, 0, 500, 0.7)  # and ends halfway through the next
    now, before = {"x": shifts(ref["x"], second)}, {"x": shifts(ref["x"], first)}
    args = (now, before, base, ref, 0.002, 0.05)
    assert check(*args)[:2] == (True, True)  # events unknown: one incident
    assert check(*args, window={"x": second})[:2] == (False, False)
    assert check(*args, window={"x": second}, stop_alpha=None)[:2] == (True, True)
    # a step that began in the window before lasts: still one incident
    step = _burst(rng, 1000, 0, 1000, 0.7)
    assert check({"x": shifts(ref["x"], step)}, before, base, ref, 0.002, 0.05,
                 window={"x": step})[:2] == (True, True)


def _rate_stopped(rng: np.random.Generator, make, ref: dict, reps: int) -> float:
    """How often windows from ``make()`` (a drift that lasts) are taken for stopped."""
    hits = 0
    for _ in range(reps):
        w = make()
        z = {k: shifts(ref[k], w[k]) for k in w}
        hits += stopped(z, w, {k: ref[k] for k in w}) > STOP
    return hits / reps


def test_rare_values_do_not_make_a_lasting_drift_look_stopped() -> None:
    """Found in review: with each side's own variance (Welch), a tail that happened to
    hold none of a rare category, or of a sentinel value, had almost no spread, and a
    steady drift was taken for stopped in 3 % (rare category 1 % → 3 %) and 4 % (a 1 %
    sentinel) of windows; the events' pooled spread holds it near the level."""
    rng = np.random.default_rng(31)
    cats = np.array(list("abcd"), dtype=object)
    ref = {"c": rng.choice(cats, 20_000, p=[0.01, 0.49, 0.25, 0.25])}
    rare = _rate_stopped(rng, lambda: {"c": rng.choice(cats, 1000, p=[0.03, 0.47, 0.25, 0.25])},
                         ref, 1000)
    sentinel = np.where(rng.random(20_000) < 0.01, -999.0, rng.normal(size=20_000))
    odd = _rate_stopped(rng, lambda: {"x": np.where(rng.random(1000) < 0.01, -999.0,
                                                    rng.normal(0.3, 1, 1000))},
                        {"x": sentinel}, 1000)
    assert rare <= 0.003 and odd <= 0.005  # (0.2–0.35 % over 7 seeds)


def test_a_drift_that_goes_on_in_the_tail_is_not_stopped() -> None:
    """Found in review: a lasting drift on one column beside a burst on another, a drift
    that eased but goes on, and a column that goes missing were all taken for a drift
    that stopped (in 100 %, 92 % and 100 % of windows)."""
    rng = np.random.default_rng(32)
    ref = {"x": rng.normal(size=20_000), "y": rng.normal(size=20_000)}

    def beside() -> dict[str, np.ndarray]:
        return {"x": rng.normal(0.2, 1, 1000), "y": _burst(rng, 1000, 0, 300, 1.0)}

    def eased() -> dict[str, np.ndarray]:
        x = _burst(rng, 1000, 0, 700, 1.0)
        x[700:] += 0.4
        return {"x": x}

    def missing() -> dict[str, np.ndarray]:
        x = rng.normal(0.5, 1, 1000)
        x[800:] = np.nan
        return {"x": x}

    assert _rate_stopped(rng, beside, ref, 300) < 0.5  # the burst's tail may hide x's
    assert _rate_stopped(rng, eased, ref, 300) < 0.06
    assert _rate_stopped(rng, missing, ref, 300) < 0.02


def test_a_wide_burst_is_seen_to_stop_as_often_as_a_narrow_one() -> None:
    """Found in review: with every flagged column's tail tested at one-sided 1 %, a burst
    over 30 columns was taken for still drifting by chance on one of them, and its end
    was seen in 86.5 % of windows (66 % over 60); the level is now shared among them."""
    rng = np.random.default_rng(33)
    k = 30
    ref = {f"x{i}": rng.normal(size=20_000) for i in range(k)}
    seen = 0
    for _ in range(200):
        w = {c: _burst(rng, 1000, 0, 400, 1 / np.sqrt(k)) for c in ref}
        seen += stopped({c: shifts(ref[c], w[c]) for c in w}, w, ref) > STOP
    assert seen >= 194
