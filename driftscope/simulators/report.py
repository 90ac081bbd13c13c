"""Which scenarios the evaluation runs, and the Markdown table it reports.

Examples
--------
>>> drift, silent = suite("bar")
>>> ("gradual-covariate", "medium") in drift, ("no-drift", "none") in silent
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .effects import KINDS
from .evaluate import EvalConfig, Result

SUITES = ("bar", "full", "quick", "silent")


def suite(name: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(drift scenarios, silent scenarios) as (name, intensity) pairs.

    ``bar`` is what the issue's bar needs; ``full`` adds every drift kind at every
    temporal shape; ``silent`` only the false-alarm streams; ``quick`` is a smoke run.
    """
    silent = [("no-drift", "none"), ("periodic-covariate", "high"), ("periodic-prior", "high")]
    bar = [
        (f"{t}-covariate", lv)
        for t in ("instantaneous", "gradual")
        for lv in ("low", "medium", "high")
    ] + [("temporary-covariate", "high"), ("temporary-covariate", "medium")]
    if name == "quick":
        return [("instantaneous-covariate", "high"), ("temporary-covariate", "high")], [
            ("no-drift", "none")
        ]
    if name == "bar":
        return bar, silent
    if name == "silent":
        return [], silent
    if name == "full":
        extra = [
            (f"{t}-{k}", lv)
            for k in KINDS
            if k != "covariate"
            for t in ("instantaneous", "gradual", "temporary")
            for lv in ("medium", "high")
        ]
        return bar + extra, [*silent, ("periodic-missing", "high")]
    raise ValueError(f"unknown suite {name!r}; valid: {', '.join(SUITES)}")


def _fmt(x: float, digits: int = 2) -> str:
    if math.isnan(x):
        return "–"
    if math.isinf(x):
        return "never"
    return f"{x:.{digits}f}".rstrip("0").rstrip(".") if digits else f"{x:.0f}"


def _share(x: float, of: int) -> str:
    """A share, with its count when it is not all or nothing (``0.99 (396/400)``)."""
    if math.isnan(x) or not of or x in (0.0, 1.0):
        return _fmt(x)
    return f"{_fmt(x)} ({round(x * of)}/{of})"


def to_markdown(results: Sequence[Result], cfg: EvalConfig) -> str:
    """Two tables: drift scenarios (power, delay) and silent ones (false alarms)."""
    sizes = cfg.sizes
    head = " | ".join(f"power n={n}" for n in sizes)
    dhead = " | ".join(f"delay n={n} mean/max" for n in sizes)
    n3 = 1000 if 1000 in sizes else sizes[-1]  # the bar's size
    lines = [
        f"| scenario | intensity | detector | {head} | {dhead} | delay ≤ 3 (n={n3}) | "
        f"first flag ≤ 3 (n={n3}) | pre-onset FA/1k | alert open at onset (n={n3}) |",
        "|" + "---|" * (7 + 2 * len(sizes)),
    ]
    for r in results:
        if not r.power:
            continue
        pw = " | ".join(_fmt(r.power.get(n, math.nan)) for n in sizes)
        dl = " | ".join(
            f"{_fmt(r.delay.get(n, math.nan), 1)}/{_fmt(r.delay_max.get(n, math.nan), 0)}"
            for n in sizes
        )
        fa = max(r.false_alarms.values()) if r.false_alarms else math.nan
        pre = r.pre_onset_open.get(n3, 0)
        w3 = _share(r.within3.get(n3, math.nan), r.measured.get(n3, 0))
        f3 = _fmt(r.flagged3.get(n3, math.nan))
        lines.append(f"| {r.scenario} | {r.intensity} | {r.detector} | {pw} | {dl} | {w3} "
                     f"| {f3} | {_fmt(fa)} | {pre} |")
    lines += [
        "",
        "| silent scenario | intensity | detector | reference | window n | windows | "
        "false alarms / 1,000 windows |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.power:
            continue
        width, cycle = cfg.seasonal_width, "weekly" if cfg.period.days == 7 else "daily"
        ref = (f"seasonal ({cycle} cycle, {width} h wide)" if r.scenario.startswith("periodic")
               else "fixed")
        for n, fa in r.false_alarms.items():
            lines.append(
                f"| {r.scenario} | {r.intensity} | {r.detector} | {ref} | {n} | "
                f"{r.windows[n]} | {_fmt(fa)} |"
            )
    return "\n".join(lines) + "\n"


def temporary_summary(results: Sequence[Result]) -> str:
    """One line per temporary scenario: share of trials the burst paged (an alert opened in
    the burst window or the one after), and share with any alert in the trial after it."""
    out = []
    for r in results:
        if r.scenario.startswith("temporary") and r.alerted:
            paged = ", ".join(f"n={n}: {_share(a, r.measured.get(n, 0))}"
                              for n, a in r.paged.items())
            share = ", ".join(f"n={n}: {_share(a, r.measured.get(n, 0))}"
                              for n, a in r.alerted.items())
            out.append(f"- {r.scenario} ({r.intensity}, {r.detector}): paged by the burst in "
                       f"{paged}; any alert after the onset in {share}")
    return "\n".join(out) + ("\n" if out else "")
