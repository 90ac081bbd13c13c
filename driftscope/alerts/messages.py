"""What people read: the summary line, the Slack Block Kit message, the webhook JSON.

Pure functions of an :class:`~driftscope.alerts.rules.Alert` and the
:class:`~driftscope.alerts.model.WindowVerdict` that caused it. Findings are grouped:
one message names every drifted feature, with the most severe first.

Names come from users (models, monitors, features, segments) and Slack's mrkdwn has no
backslash escape, so in Slack text a name that could start or end formatting (``*``,
``~``, a backtick, an emoji code like ``:x:``, or ``_`` at the edge of a word, as in
``_user_id_``) is shown in inline code, where Slack formats nothing: `` `_user_id_` ``
reads as it is and copies as it is. Other names (``user_id``: an ``_`` inside a word
formats nothing) stay plain. Webhook bodies and the console get every name raw.

A finding's note (:func:`note`: the new values, the reference range …) follows its
numbers after `` — ``; in Slack it is shown as it is like a name (its values come from
users' data), in inline code where it could format.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from driftscope.alerts.followups import FollowUp
from driftscope.alerts.model import Finding, WindowVerdict
from driftscope.alerts.rules import RESOLVED, UNJUDGED, Alert

SLACK_MAX_TEXT = 3000  # Slack's limit for a text object (a section's, a context element's)
SLACK_MAX_HEADER = 150  # and for a header's plain text
SLACK_MAX_NAME = 200  # a feature or segment name in a Slack line, clipped beyond this
SLACK_MAX_FALLBACK = 4000  # a message's top-level text (notifications): Slack's advice


def _num(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1e6 else f"{x:.2e}"


def _round(x: float, digits: int) -> float | None:
    """A number for JSON: None where it is not finite (strict JSON has no NaN)."""
    return round(x, digits) if math.isfinite(x) else None


def _clip(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str) -> str:
    """Text as Slack mrkdwn shows it as is: ``&``, ``<``, ``>`` escaped (``age_band=<30``
    would otherwise start a link)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# what can open or close Slack formatting in a name: bold, strike and code marks anywhere
# (inside a word too: ``a*b*c``), an ``_`` not between two letters or digits (Slack leaves
# snake_case such as ``user_id`` alone), an emoji code (``:x:``)
_MARKUP = re.compile(r"[*~`]|(?<![^\W_])_|_(?![^\W_])|:[\w+-]+:")
_GRAVE = "\u02cb"  # ˋ: a backtick would end the code span, so it is shown as this


def slack_name(name: str, width: int | None = None) -> str:
    """A user's name in Slack mrkdwn, clipped to ``width`` first and shown as it is.

    Slack has no escape for ``*``, ``_``, ``~`` and backticks. A name that could format
    goes in inline code, which Slack shows verbatim (``&``, ``<``, ``>`` still escaped,
    which Slack decodes there too), so it reads and copies as it is; the exception is a
    backtick, which would end the span and becomes ``ˋ``. Rejected: a zero-width
    character after each mark (Slack treats U+200B as a word boundary — jsx-slack inserts
    it to *force* formatting — so it may start formatting rather than stop it, and it is
    copied along with the name) and look-alike characters (``∗`` is not ``*`` when
    copied). Clipping before escaping: a clipped name never loses half an entity or its
    closing backtick.

    >>> slack_name("_user_id_"), slack_name("user_id"), slack_name("x<1")
    ('`_user_id_`', 'user_id', 'x&lt;1')
    """
    name = _clip(name, width)
    if not _MARKUP.search(name):
        return mrkdwn(name)
    return f"`{mrkdwn(name.replace('`', _GRAVE))}`"


def _clip_mrkdwn(text: str, limit: int) -> str:
    """:func:`_clip` for escaped text: never ends in half an ``&…;``, and a cut inside a
    name's code span closes the span after the ellipsis (backticks in Slack text built
    here are only code-span marks: :func:`slack_name` replaces a name's own); a limit of
    0 or less leaves nothing.

    >>> _clip_mrkdwn("abc", 0), _clip_mrkdwn("abc", -5), _clip_mrkdwn("abc", 1)
    ('', '', '…')
    """
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    cut = text[: max(limit - 2, 0)]  # room for "…" and a closing backtick
    amp = cut.rfind("&", max(0, len(cut) - 4))
    if amp >= 0 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + ("…`" if cut.count("`") % 2 else "…")


NOTE_VALUES = 5  # new categories a note names (the monitor keeps the 5 most frequent)
NOTE_MAX_VALUE = 40  # each clipped to this
NOTE_MAX = 200  # and the note
_KIND_WORDS = {"numeric": "numbers", "categorical": "strings"}


def _number(x: Any) -> float | None:
    """A finite number from a row's details, else None (``"nan"``, a string, a bool)."""
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        return None
    return float(x)


def _bound(x: float) -> str:
    """A value as people read it, without an exponent where one is not needed.

    >>> _bound(18.0), _bound(0.25), _bound(1234.5), _bound(123456.7), _bound(2e12)
    ('18', '0.25', '1234', '123457', '2e+12')
    """
    return f"{x:.0f}" if 1e4 <= abs(x) < 1e9 else f"{x:.4g}"


def _percent(rate: float) -> str:
    """A rate as a percentage, one decimal unless that rounds a rate to zero.

    >>> _percent(0.01), _percent(0.0), _percent(0.0003)
    ('1.0 %', '0.0 %', '0.03 %')
    """
    p = 100 * rate
    return f"{p:.1f} %" if p == 0 or abs(p) >= 0.1 else f"{p:.2g} %"


def _value(v: Any) -> str:
    """A category from users' data, clipped; quoted (JSON) where bare it would mislead:
    empty, spaces at an edge, a comma (the note's separator), a quote first, or a control
    character (a line break would start a new console line)."""
    text = _clip(str(v), NOTE_MAX_VALUE)
    if text and text == text.strip() and text.isprintable() and "," not in text \
            and not text.startswith('"'):
        return text
    return json.dumps(text, ensure_ascii=False)


def _reason(found: Any) -> str:
    """One dead-letter reason of a ``schema_violations`` row: ``[reason, an error, count]``
    as ``50 type_change (zip: was numeric, now categorical…)``; "" if not that shape."""
    if not isinstance(found, list | tuple) or len(found) != 3:
        return ""
    reason, error, count = found
    n = _number(count)
    if n is None or not isinstance(reason, str):
        return ""
    said = f" ({_clip(str(error), NOTE_MAX_VALUE + 20)})" if error else ""
    return f"{n:.0f} {_clip(reason, NOTE_MAX_VALUE)}{said}"


def note(kind: str, metric: str, details: Mapping[str, Any]) -> str:
    """What is wrong in a few words, from the details of a check's result row (what the
    monitor stores in ``drift_results``): "" where they add nothing a user can act on.

    >>> note("quality", "new_categories", {"new": ["premium_v2", "gold_plus"]})
    'new: premium_v2, gold_plus'
    >>> note("quality", "out_of_range", {"min": 18.0, "max": 90.0})
    'reference range 18 – 90'
    >>> note("quality", "missing_rate", {"reference_rate": 0.01})
    'reference 1.0 %'
    >>> note("quality", "type_mismatch", {"reference": "numeric", "window": "categorical"})
    'numbers in the reference, strings now'
    >>> note("performance", "accuracy", {"labels": 25, "standard_error": 0.08})
    'on 25 labels'
    >>> note("performance", "accuracy", {"labels": 96, "rest": {"value": 0.909, "labels": 904}})
    'on 96 labels; the rest of the window 0.909 on 904'
    >>> note("quality", "stuck_value", {"value": 40.0, "reference_share": 0.0})
    'stuck at 40 (reference 0.0 %)'
    >>> note("drift", "linf", {"top_bins": [["enterprise", 0.08, 0.154], ["basic", 0.39, 0.35]]})
    'enterprise 8.0 % → 15.4 %, basic 39.0 % → 35.0 %'
    >>> note("drift", "emd", {"versus": "rest"})
    'against the rest of its window'
    """
    text = ""
    if kind == "performance":
        n = _number(details.get("labels"))
        if n is not None:
            text = f"on {n:.0f} label{'' if n == 1 else 's'}"
        rest = details.get("rest")  # (a rule versus the rest of the window: what it was)
        if n is not None and isinstance(rest, Mapping):
            value, labels = _number(rest.get("value")), _number(rest.get("labels"))
            if value is not None and labels is not None:
                text += f"; the rest of the window {_bound(value)} on {labels:.0f}"
    elif kind == "drift":  # which categories (or bins) moved: "enterprise 8.0 % → 15.4 %"
        moved = [b for b in details.get("top_bins") or () if isinstance(b, list | tuple)
                 and len(b) == 3 and _number(b[1]) is not None and _number(b[2]) is not None]
        text = ", ".join(f"{_value(b[0])} {_percent(float(b[1]))} → {_percent(float(b[2]))}"
                         for b in moved[:2])
        if details.get("versus") == "rest":  # (a versus_rest segment: not its reference)
            text = "; ".join(["against the rest of its window", *([text] if text else [])])
    elif kind != "quality":
        return ""
    elif metric == "new_categories":
        new = details.get("new")
        if isinstance(new, list | tuple) and new:
            text = "new: " + ", ".join(_value(v) for v in new[:NOTE_VALUES])
    elif metric == "out_of_range":
        lo, hi = _number(details.get("min")), _number(details.get("max"))
        if lo is not None and hi is not None:
            text = f"reference range {_bound(lo)} – {_bound(hi)}"
    elif metric == "missing_rate":
        rate = _number(details.get("reference_rate"))
        if rate is not None:
            text = f"reference {_percent(rate)}"
    elif metric == "type_mismatch":
        ref, now = details.get("reference"), details.get("window")
        if ref in _KIND_WORDS and now in _KIND_WORDS:
            text = f"{_KIND_WORDS[ref]} in the reference, {_KIND_WORDS[now]} now"
    elif metric == "stuck_value":
        value, share = _number(details.get("value")), _number(details.get("reference_share"))
        if value is not None and share is not None:
            text = f"stuck at {_bound(value)} (reference {_percent(share)})"
    elif metric == "schema_violations":  # the most frequent dead-letter reasons, if kept
        text = "; ".join(filter(None, map(_reason, details.get("reasons") or ())))
    elif metric == "volume":  # (a silence's details have neither: it says no events)
        n = _number(details.get("n"))
        usual, expected = _number(details.get("median")), _number(details.get("expected"))
        if n is not None and usual is not None:
            text = f"{n:.0f} events, usually {_bound(usual)}"
        elif n is not None and expected is not None:
            text = f"{n:.0f} events, {_bound(expected)} expected"
    return _clip(text, NOTE_MAX)


def describe(f: Finding, width: int | None = None, slack: bool = False) -> str:
    """``age (linf 0.31 > 0.10, permutation)``, with the segment when not all events, and
    the finding's note, if any: ``plan (new_categories 0.2 > 0.02, limit) — new: premium_v2``.

    A finding without a finite bound shows its reason: ``accuracy (accuracy 0.62, anomaly)``.
    ``width`` clips the feature and segment names and the note. ``slack``: as Slack
    mrkdwn, each name and the note through :func:`slack_name` and the rest escaped (raw
    otherwise).
    """
    text = _measured(f, width, slack)
    if not f.note:
        return text
    return f"{text} — {slack_name(f.note, width) if slack else _clip(f.note, width)}"


def _measured(f: Finding, width: int | None, slack: bool) -> str:
    """:func:`describe` without the note."""
    def name(text: str, clip: int | None = width) -> str:
        return slack_name(text, clip) if slack else _clip(text, clip)

    esc = mrkdwn if slack else str
    where = "" if f.segment == "*" else f" [{name(f.segment)}]"
    head = f"{name(f.feature if f.feature != '*' else f.metric)}{where} ({name(f.metric, None)}"
    if f.kind == "performance" and f.policy.startswith("rule"):
        return f"{head} {_num(f.statistic)}, {esc('rule ' + f.policy.removeprefix('rule '))})"
    if f.reason == "silence":  # quality.silence: a window with no event at all
        return f"{head} 0: no events, the stream is silent)"
    if not math.isfinite(f.threshold):
        return f"{head} {_num(f.statistic)}, {esc(f.reason)})"
    op = "<" if f.lower_is_worse else ">"
    return f"{head} {_num(f.statistic)} {esc(op)} {_num(f.threshold)}, {esc(f.policy)})"


def window_span(start: datetime, end: datetime) -> str:
    """``2026-01-01 10:00–11:00``; with seconds when a bound is not a whole minute (a 10 s
    window read ``21:04–21:04``), the end's date when it is another day.

    >>> from datetime import datetime as d
    >>> window_span(d(2026, 1, 1, 10), d(2026, 1, 1, 11))
    '2026-01-01 10:00–11:00'
    >>> window_span(d(2026, 1, 1, 21, 4, 10), d(2026, 1, 1, 21, 4, 20))
    '2026-01-01 21:04:10–21:04:20'
    """
    clock = "%H:%M:%S" if start.second or end.second else "%H:%M"
    last = clock if end.date() == start.date() else f"%Y-%m-%d {clock}"
    return f"{start:%Y-%m-%d} {start.strftime(clock)}–{end.strftime(last)}"


def _pair(alert: Alert, slack: bool) -> str:
    """``model / monitor``, as Slack mrkdwn with ``slack`` (each name clipped to
    ``SLACK_MAX_NAME``)."""
    if slack:
        return (f"{slack_name(alert.model_id, SLACK_MAX_NAME)} / "
                f"{slack_name(alert.monitor, SLACK_MAX_NAME)}")
    return f"{alert.model_id} / {alert.monitor}"


def _bad_windows(alert: Alert) -> str:
    n = alert.windows
    return f"{n} bad window{'s' if n != 1 else ''} since {alert.opened_window:%Y-%m-%d %H:%M} UTC"


def _span(d: timedelta) -> str:
    """A wait as people say it: ``1 day``, ``2.5 days``, ``6 hours``, ``45 minutes``.

    >>> _span(timedelta(minutes=1442)), _span(timedelta(hours=6)), _span(timedelta(days=1))
    ('1 day', '6 hours', '1 day')
    """
    seconds = d.total_seconds()
    unit, size = next(((u, s) for u, s in (("day", 86400), ("hour", 3600))
                       if seconds >= s), ("minute", 60))
    shown = f"{seconds / size:.1f}".removesuffix(".0")
    return f"{shown} {unit}{'' if shown == '1' else 's'}"


def recovered(alert: Alert, slack: bool = False) -> str:
    """The resolution's line: ``m / mon: recovered from drift and data-quality after 40
    bad windows since … UTC`` (the kinds of problem its windows found: a resolution did
    not say what it resolved); for an alert closed after ``alerts.unjudged_wait`` of
    windows that could not judge it, ``m / mon: not judged since … UTC (too few events or
    labels), closed unverified after 40 bad windows since … UTC``."""
    if alert.reason == UNJUDGED:
        since = (f" since {alert.unjudged_since:%Y-%m-%d %H:%M} UTC"
                 if alert.unjudged_since else "")
        return (f"{_pair(alert, slack)}: not judged{since} ({_span(alert.unjudged_for)}"
                f" of windows with too few events or labels), closed unverified after "
                f"{_bad_windows(alert)}")
    kinds = [k for k in KINDS if k in alert.kinds | alert.seen]
    what = f" from {_words(kinds)}" if kinds else ""
    return f"{_pair(alert, slack)}: recovered{what} after {_bad_windows(alert)}"


SUMMARY_NAMES = 3
"""Columns a summary names per kind of problem (the rest counted)."""
SUMMARY_NAME = 40
"""A name in a summary is clipped beyond this (the summary is the notification's text)."""


def _where(ranked: Sequence[Finding]) -> list[str | tuple[str, str]]:
    """The drifted features as a summary names them, most severe first: ``x``, or where
    only segments of the events drifted, (``x``, ``country=T``) — "x in country=T", "x in
    3 segments": "1 feature drifted (x)" read as a drift of every event, and the dashboard
    it linked showed nothing wrong overall."""
    segments: dict[str, list[str]] = {}
    for f in ranked:
        if f.kind == "drift":
            segments.setdefault(f.feature, []).append(f.segment)
    out: list[str | tuple[str, str]] = []
    for feature, found in segments.items():
        seen = list(dict.fromkeys(found))
        out.append(feature if "*" in seen else
                   (feature, seen[0] if len(seen) == 1 else f"{len(seen)} segments"))
    return out


def summary(alert: Alert, v: WindowVerdict, slack: bool = False) -> str:
    """One line: model, monitor, what is wrong, since when (``slack``: as Slack mrkdwn).

    The count is the incident's bad windows (``alert.windows``); a good window says so.
    """
    if alert.state == RESOLVED:
        return recovered(alert, slack)
    if not v.findings:
        return f"{_pair(alert, slack)}: no findings in this window; {_bad_windows(alert)}"
    def name(c: str) -> str:
        return slack_name(c, SUMMARY_NAME) if slack else _clip(c, SUMMARY_NAME)

    def named(columns: Iterable[str | tuple[str, str]], also: str = "") -> str:  # the
        first = list(dict.fromkeys(columns))  # first few, most severe first; ``also`` after
        shown = [name(c) if isinstance(c, str) else f"{name(c[0])} in {name(c[1])}"
                 for c in first[:SUMMARY_NAMES]]
        more = f", +{len(first) - SUMMARY_NAMES}" if len(first) > SUMMARY_NAMES else ""
        return f" ({', '.join(shown)}{more}{also})"

    ranked = v.top(len(v.findings))
    drift = [f.feature for f in ranked if f.kind == "drift"]
    parts = []
    if drift:
        n = len(set(drift))
        parts.append(f"{n} feature{'s' if n != 1 else ''} drifted{named(_where(ranked))}")
    if any(f.reason == "silence" for f in v.findings):
        parts.append("no events (the stream is silent)")
    for kind in ("quality", "performance"):
        # one check per column and metric (its segments are one problem, not four)
        found = [f for f in ranked if f.kind == kind and f.reason != "silence"]
        n = len({(f.feature, f.metric) for f in found})
        if n:  # (a model-wide check or a metric: its name; a column's: the column)
            also = (f"; labels of the window from {v.labels_start:%Y-%m-%d %H:%M} UTC"
                    if kind == "performance" and v.labels_start is not None else "")
            which = named((f.metric if f.feature in ("", "*") else f.feature for f in found),
                          also)  # (label_delay: the window the labels measure)
            parts.append(f"{n} {kind} check{'s' if n != 1 else ''} failed{which}")
    what = ", ".join(parts)
    return (f"{_pair(alert, slack)}: {what} for {alert.windows} window"
            f"{'s' if alert.windows != 1 else ''} since {alert.opened_window:%Y-%m-%d %H:%M} UTC")


KIND_DASHBOARDS = {"drift": "driftscope-model-drift", "quality": "driftscope-data-quality",
                   "silence": "driftscope-data-quality",
                   "performance": "driftscope-performance"}
"""The dashboard (uid) that shows each kind of finding."""
ALL_SEGMENT = "all"
"""The dashboards' Segment value of all events (:data:`driftscope.dashboards.conventions.
ALL_SEGMENT`)."""


def grafana_link(base: str | None, dashboard: str, v: WindowVerdict,
                 first: frozenset[str] = frozenset()) -> str | None:
    """A link to the model's dashboard around the window (None when no Grafana URL).

    ``dashboard`` is the configured one; where it is the default (Model drift), the
    dashboard of the alert's leading finding (:data:`KIND_DASHBOARDS`; ``first``: the
    kinds an update tells of): Model drift shows no quality or performance row, and a
    schema or accuracy alert opened it."""
    if not base:
        return None
    lead = v.top(1, first)
    if dashboard == KIND_DASHBOARDS["drift"] and lead:
        dashboard = KIND_DASHBOARDS.get(lead[0].problem, dashboard)
    span = v.window_end - v.window_start
    frm = int((v.window_start - 12 * span).timestamp() * 1000)
    to = int((v.window_end + 2 * span).timestamp() * 1000)
    params: list[tuple[str, object]] = [("var-model", v.model_id), ("var-monitor", v.monitor)]
    if lead and lead[0].segment not in ("", "*"):  # (else the dashboard opened on its first
        # segment, all events: a segment's drift showed nothing wrong there)
        params += [("var-segment", ALL_SEGMENT), ("var-segment", lead[0].segment)]
    query = urlencode([*params, ("from", frm), ("to", to)])
    return f"{base.rstrip('/')}/d/{quote(dashboard)}?{query}"


def details(alert: Alert, v: WindowVerdict, top: int,
            first: frozenset[str] = frozenset(), lead: Sequence[str] = ()) -> dict[str, Any]:
    """The machine-readable body stored with the alert and sent to webhooks (``first``: the
    findings of these kinds lead: an update that tells of them; ``lead``: and of these
    performance metrics before them, :func:`ranked`)."""
    return {
        "alert_id": alert.alert_id,
        "model_id": alert.model_id,
        "monitor": alert.monitor,
        "state": alert.state,
        "severity": _round(min(alert.severity, 1e9), 4),
        "opened_window": alert.opened_window.isoformat(),
        "window_start": v.window_start.isoformat(),
        "window_end": v.window_end.isoformat(),
        "windows": alert.windows,
        "n_events": v.n_events,
        "tests": v.tests,
        "drifted": sorted({f.feature for f in v.findings if f.kind == "drift"}),
        "findings": [
            {"kind": f.kind, "segment": f.segment, "feature": f.feature, "metric": f.metric,
             "statistic": _round(f.statistic, 6), "threshold": _round(f.threshold, 6),
             "policy": f.policy, "reason": f.reason, "note": f.note}
            for f in ranked(v, top, first, lead)
        ],
        "metrics": {k: _round(x, 6) for k, x in sorted(v.metrics.items())},
        **({"labels_start": v.labels_start.isoformat()} if v.labels_start else {}),
        # resolved as not judged (``alerts.unjudged_wait``), or recovered
        **({"resolution": UNJUDGED if alert.reason == UNJUDGED else "recovered"}
           if alert.state == RESOLVED else {}),
        **({"unjudged_since": alert.unjudged_since.isoformat(),
            "unjudged_for": alert.unjudged_for.total_seconds()}
           if alert.reason == UNJUDGED and alert.unjudged_since else {}),
    }


def ranked(v: WindowVerdict, top: int, first: frozenset[str] = frozenset(),
           lead: Sequence[str] = ()) -> list[Finding]:
    """:meth:`WindowVerdict.top`, with the worst finding of each performance metric in
    ``lead`` (those an update tells of: :class:`~driftscope.alerts.followups.FollowUp`)
    first, in that order: the F1 that joined an accuracy alert leads its update."""
    found = v.top(top, first)
    if not lead:
        return found
    worst: dict[str, Finding] = {}
    for f in v.top(len(v.findings), first):
        if f.kind == "performance" and f.metric in lead:
            worst.setdefault(f.metric, f)
    heads = [worst[m] for m in lead if m in worst]
    return [*heads, *(f for f in found if f not in heads)][:max(top, len(heads))]


def top_findings(v: WindowVerdict, top: int, first: frozenset[str] = frozenset(),
                 lead: Sequence[str] = ()) -> str:
    """The findings section: the ``top`` most severe (:func:`ranked`), as many as fit in
    Slack's limit, then ``…and N more``."""
    lines = [f"• {describe(f, SLACK_MAX_NAME, slack=True)}"
             for f in ranked(v, top, first, lead)]
    while True:
        more = len(v.findings) - len(lines)
        text = "\n".join(["*Top findings*", *lines, *([f"…and {more} more"] if more else [])])
        if len(text) <= SLACK_MAX_TEXT or not lines:
            return text
        lines.pop()


KINDS = {"drift": "drift", "quality": "data-quality", "performance": "performance",
         "silence": "silent-stream"}


def alert_kind(v: WindowVerdict) -> str:
    """The title of a firing message: the kinds of what its window found.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> def found(*kinds):
    ...     return WindowVerdict("m", "mon", t, t, 10, tuple(Finding(
    ...         k, "*", "x", "m", 1.0, 0.5, "limit", "limit") for k in kinds))
    >>> alert_kind(found("performance")), alert_kind(found("quality", "drift", "drift"))
    ('Performance alert', 'Drift and data-quality alert')
    """
    seen = {f.problem for f in v.findings} & set(KINDS)
    if not seen:
        return "Alert"
    words = _words(seen)
    return f"{words[0].upper()}{words[1:]} alert"


def _words(kinds: Iterable[str]) -> str:
    names = [name for kind, name in KINDS.items() if kind in set(kinds)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def update_title(new: frozenset[str]) -> str:
    """The title of an update that tells of new kinds of problem in an open alert.

    >>> update_title(frozenset({"performance"})), update_title(frozenset({"quality", "drift"}))
    ('New performance problem', 'New drift and data-quality problems')
    """
    return f"New {_words(new)} problem{'s' if len(new) > 1 else ''}"


def update_line(alert: Alert, new: frozenset[str]) -> str:
    """What an update adds to the summary: ``(new in this alert: performance; it was open
    for drift)``."""
    before = alert.kinds - new
    was = f"; it was open for {_words(before)}" if before else ""
    return f"(new in this alert: {_words(new)}{was})"


def follow_title(follow: FollowUp) -> str:
    """The title of an update that tells of performance metrics new in an open alert, or
    much worse than people were told (:mod:`driftscope.alerts.followups`).

    >>> follow_title(FollowUp(("f1",))), follow_title(FollowUp(worse=(("accuracy", .8, .4),)))
    ('New performance problem', 'Performance worse')
    """
    return "New performance problem" if follow.new else "Performance worse"


def follow_line(follow: FollowUp, slack: bool = False) -> str:
    """What such an update adds to the summary (``slack``: as Slack mrkdwn).

    >>> follow_line(FollowUp(("f1", "roc_auc"), (), ("accuracy",)))
    '(new in this alert: f1 and roc_auc; it was open for accuracy)'
    >>> follow_line(FollowUp(worse=(("accuracy", 0.77, 0.4),)))
    '(worse since told: accuracy 0.4, was 0.77)'
    """
    def names(metrics: Iterable[str]) -> str:
        shown = [slack_name(m, SLACK_MAX_NAME) if slack else m for m in metrics]
        return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]

    parts = [f"new in this alert: {names(follow.new)}"] if follow.new else []
    if follow.worse:
        parts.append("worse since told: " + ", ".join(
            f"{names([m])} {_num(now)}, was {_num(told)}" for m, told, now in follow.worse))
    if follow.new and follow.before:
        parts.append(f"it was open for {names(follow.before)}")
    return f"({'; '.join(parts)})"


RESOLUTION_TITLES = ("Resolved", "Closed unverified")  # by ``reason == UNJUDGED``


def slack_blocks(alert: Alert, v: WindowVerdict, top: int, link: str | None,
                 resolved: bool = False, new: frozenset[str] = frozenset(),
                 requests: Sequence[Asked] = (),
                 follow: FollowUp | None = None) -> dict[str, Any]:
    """The Block Kit message: header, summary, top findings, context, Grafana button.

    ``new``: an update of an open alert that tells of these new kinds of problem;
    ``requests``: (policy, request id, version) of the retraining the window asked for, a
    line each (:func:`retrain_line`); ``follow``: an update that tells of performance metrics
    (:func:`follow_line`)."""
    unverified = resolved and alert.reason == UNJUDGED
    icon = (":grey_question:" if unverified else ":white_check_mark:" if resolved
            else ":rotating_light:")
    follow = None if resolved else follow
    event = (RESOLUTION_TITLES[1 if unverified else 0] if resolved
             else follow_title(follow) if follow else update_title(new) if new
             else alert_kind(v))
    title = f"{event}: {alert.model_id}"  # plain text: shown as it is
    text = recovered(alert, slack=True) if resolved else summary(alert, v, slack=True)
    if follow:
        text = f"{text} {follow_line(follow, slack=True)}"
    elif new and not resolved:
        text = f"{text} {update_line(alert, new)}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text",  # no emoji: `a:us:b` is a name
                                    "text": title[:SLACK_MAX_HEADER], "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn",
                                     "text": _clip_mrkdwn(f"{icon} {text}", SLACK_MAX_TEXT)}},
    ]
    if not resolved and v.findings:
        found = top_findings(v, top, new, follow.metrics if follow else ())
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": found}})
    if requests:
        blocks.append(_requests_section(requests))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(
        f"window {window_span(v.window_start, v.window_end)} UTC · "
        f"{v.n_events} events · {'peak ' if resolved else ''}severity "
        f"{_num(min(alert.severity, 1e9))} · "
        f"alert `{alert.alert_id}`", SLACK_MAX_TEXT)}]})
    if link and len(link) <= SLACK_MAX_TEXT:  # a button's url has the same limit
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open in Grafana"},
            "url": link}]})
    return {"text": fallback(f"{event}: {slack_name(alert.model_id, SLACK_MAX_NAME)}", [text]),
            "blocks": blocks}


def fallback(head: str, texts: list[str], sep: str = " — ",
             limit: int = SLACK_MAX_FALLBACK) -> str:
    """A Slack message's top-level text (what notifications show), ``head — text; text;
    …``, within ``limit`` characters: texts that do not fit are counted (``…and N more``),
    a first text too long on its own is clipped.

    >>> fallback("Drift alert: m", ["a" * 30, "b" * 30, "c" * 30], limit=80)
    'Drift alert: m — aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; …and 2 more'
    """
    out = head + sep
    for i, text in enumerate(texts):
        rest = len(texts) - i - 1
        tail = f"; …and {rest} more" if rest else ""
        part = ("; " if i else "") + text
        if len(out) + len(part) + len(tail) <= limit:
            out += part
        elif i == 0:
            out += _clip_mrkdwn(text, limit - len(out) - len(tail))
        else:
            return f"{out}; …and {rest + 1} more"
    return out


def console_text(alert: Alert, v: WindowVerdict, top: int, resolved: bool,
                 new: frozenset[str] = frozenset(),
                 requests: Sequence[Asked] = (),
                 follow: FollowUp | None = None) -> dict[str, Any]:
    """A plain-text rendering for the console notifier (``new``: an update that tells of
    these new kinds of problem; ``requests``: the retraining the window asked for;
    ``follow``: an update that tells of performance metrics)."""
    follow = None if resolved else follow
    head = "RESOLVED" if resolved else "UPDATE" if new or follow else "ALERT"
    lead = follow.metrics if follow else ()
    lines = [] if resolved else [describe(f) for f in ranked(v, top, new, lead)]
    lines += [retrain_line(*asked) for asked in requests]
    extra = (f" {follow_line(follow)}" if follow
             else f" {update_line(alert, new)}" if new and not resolved else "")
    return {"text": f"[{head}] {summary(alert, v)}{extra}", "lines": lines}


SLACK_MAX_BLOCKS = 50  # Slack's limit per message
LEFT_OUT_MAX = 250  # each alert a group leaves out of its blocks, named in this much


def merge(channel: str, payloads: list[dict[str, Any]]) -> dict[str, Any]:
    """One message for several alerts of one model × window (what the dispatcher sends).

    Slack: one header, then each alert's sections, separated by dividers (within Slack's
    50 blocks: the alerts that do not fit are named in a last section, :func:`left_out`);
    console: each alert's text and lines in order; webhook and others:
    ``{"type": "alerts", "alerts": [...]}`` with the model, window and event hoisted.
    """
    if len(payloads) == 1:
        return payloads[0]
    notices = [p for p in payloads if _is_notice(channel, p)]
    if notices and len(notices) < len(payloads):  # an alert's message says it, in a line,
        # with the monitor and window that asked (found in review: the alert's may be
        # another monitor's, or an earlier window's, and the line read as theirs)
        alerts = [p for p in payloads if p not in notices]
        if channel == "slack":  # (their lines after the alerts': the alerts keep room for
            extra = [b for n in notices for b in n["blocks"][1:3]]  # the line of what they
            room = max(SLACK_MAX_BLOCKS - len(extra), 3)  # leave out)
            out = alerts[0] if len(alerts) == 1 else _merge_slack(alerts, room)
            keep = (SLACK_MAX_BLOCKS - room) // 2 * 2  # (a notice's line with its context)
            return {**out, "blocks": out["blocks"][:room] + extra[:keep]}
        out = merge(channel, alerts)
        return {**out, "lines": [*out.get("lines", []), *(
            f"{x} — {str(n.get('text', ''))[len(RETRAIN_HEAD):].strip()}"
            for n in notices for x in n.get("lines", []))]}
    if channel == "slack":
        return _merge_slack(payloads, SLACK_MAX_BLOCKS)
    if channel == "console":
        return {"text": "\n".join(p["text"] + "".join(f"\n  {x}" for x in p.get("lines", []))
                                  for p in payloads), "lines": []}
    first = payloads[0]
    return {"type": "alerts", **{k: first[k] for k in ("event", "model_id", "window_start",
                                                      "window_end") if k in first},
            "alerts": payloads}


def _merge_slack(payloads: list[dict[str, Any]], room: int) -> dict[str, Any]:
    """:func:`merge` of Slack messages in ``room`` blocks."""
    parts = [head_and_text(p) for p in payloads]
    blocks: list[dict[str, Any]] = [payloads[0]["blocks"][0]]
    for i, p in enumerate(payloads):
        part = ([{"type": "divider"}] if i else []) + p["blocks"][1:]
        if len(blocks) + len(part) > room - 1:
            blocks.append(left_out([_without_model(h, t) for h, t in parts[i:]]))
            break
        blocks += part
    heads = {h for h, _ in parts}
    head = parts[0][0]
    if len(heads) > 1:  # alerts of different kinds (drift and performance): "Alert: m";
        # resolutions, recovered and not judged: "Resolved: m"
        word = "Resolved" if all(h.split(": ", 1)[0] in RESOLUTION_TITLES
                                 for h in heads) else "Alert"
        head = f"{word}: " + head.split(": ", 1)[-1]
        model = blocks[0]["text"]["text"].split(": ", 1)[-1]  # (plain text, unescaped)
        blocks[0] = {**blocks[0], "text": {**blocks[0]["text"],
                                           "text": f"{word}: {model}"[:SLACK_MAX_HEADER]}}
    return {"text": fallback(f"{head} — {len(payloads)} alerts", [t for _, t in parts],
                             sep=": "), "blocks": blocks}


def head_and_text(payload: Mapping[str, Any]) -> tuple[str, str]:
    """A Slack message's top-level text (:func:`slack_blocks`) as its head, ``Drift
    alert: M`` (M: the model as Slack text shows it), and its text after `` — ``.

    The head is found from the header's event and model (no event has ``": "`` in it),
    never by where the first `` — `` is: a model id ``churn — EU`` split the head there.
    Where the header is clipped (a model id of 130 characters or more), the model is
    found as the text shows it twice: ``EVENT: M — M / monitor: …``. A text of another
    shape is split on its first `` — `` (as before).

    >>> p = {"text": "Drift alert: a — b — a — b / m: 1 feature drifted (x) for 2 windows",
    ...      "blocks": [{"type": "header", "text": {"text": "Drift alert: a — b"}}]}
    >>> head_and_text(p)
    ('Drift alert: a — b', 'a — b / m: 1 feature drifted (x) for 2 windows')
    """
    text = str(payload.get("text", ""))
    blocks = payload.get("blocks") or [{}]
    header = str((blocks[0].get("text") or {}).get("text", ""))
    event, _, model = header.partition(": ")
    start = len(event) + 2
    if event and text.startswith(f"{event}: "):
        head = f"{event}: {slack_name(model, SLACK_MAX_NAME)}"
        if len(header) < SLACK_MAX_HEADER and text.startswith(f"{head} — "):
            return head, text[len(head) + 3:]
        at = text.find(" — ", start)
        while at >= 0:  # (the header is clipped: the model is what the text repeats)
            if text.startswith(f"{text[start:at]} / ", at + 3):
                return text[:at], text[at + 3:]
            at = text.find(" — ", at + 1)
    head, _, rest = text.partition(" — ")
    return head, rest


def _without_model(head: str, text: str) -> str:
    """An alert's text without its model (``churn / drift: …`` → ``drift: …``): a group's
    alerts are all of the model its header names."""
    model = head.split(": ", 1)[-1]
    return text.removeprefix(f"{model} / ")


def left_out(texts: Sequence[str], limit: int = SLACK_MAX_TEXT) -> dict[str, Any]:
    """The last section of a group whose blocks are full: the alerts it leaves out, each
    by its text (its monitor and what it found) clipped to ``LEFT_OUT_MAX``, as many as
    fit in Slack's limit, the rest counted (before, only counted: "…and 5 more alerts in
    this window", whatever they were).

    >>> print(left_out(["perf: 1 performance check failed (accuracy)",
    ...                 "b: 2 features drifted (age, income)"], 100)["text"]["text"])
    …and 2 more alerts in this window:
    • perf: 1 performance check failed (accuracy)
    • …and 1 more
    """
    n = len(texts)
    out = f"…and {n} more alert{'s' if n != 1 else ''} in this window:"
    for i, text in enumerate(texts):
        line = f"\n• {_clip_mrkdwn(text, LEFT_OUT_MAX)}"
        after = n - i - 1
        if len(out) + len(line) + len(f"\n• …and {after} more" if after else "") > limit:
            out += f"\n• …and {n - i} more"
            break
        out += line
    return {"type": "section", "text": {"type": "mrkdwn", "text": out}}


Asked = tuple[str, str, str]
"""A retraining request told of: its policy, its request id and the model version it would
replace ("" when the events carry none)."""


def retrain_line(policy: str, request_id: str, version: str = "", slack: bool = False) -> str:
    """One line telling people that retraining was asked for (the request's payload went
    to the retrain sinks; ``request_id`` is what the pipeline dedupes on), and of which
    model version (the one that served the window) when the events say.

    >>> retrain_line("sustained", "3c55e236a43e21282e3d")
    'Retraining requested (policy sustained, request 3c55e236a43e21282e3d)'
    >>> retrain_line("sustained", "3c55e236a43e21282e3d", "2026-02-14")
    'Retraining requested (policy sustained, version 2026-02-14, request 3c55e236a43e21282e3d)'
    """
    if slack:
        of = f"version {slack_name(version, SLACK_MAX_NAME)}, " if version else ""
        return (f":repeat: Retraining requested (policy {slack_name(policy, SLACK_MAX_NAME)}, "
                f"{of}request `{request_id}`)")
    of = f"version {version}, " if version else ""
    return f"Retraining requested (policy {policy}, {of}request {request_id})"


def _requests_section(requests: Sequence[Asked]) -> dict[str, Any]:
    text = "\n".join(retrain_line(*asked, slack=True) for asked in requests)
    return {"type": "section", "text": {"type": "mrkdwn",
                                        "text": _clip_mrkdwn(text, SLACK_MAX_TEXT)}}


def retrain_slack(v: WindowVerdict, requests: Sequence[Asked]) -> dict[str, Any]:
    """The Slack message for retraining asked for in a window whose alert message (if
    any) went out before: header, a line per request, the window."""
    title = f"Retraining requested: {v.model_id}"
    return {"text": fallback(title, [retrain_line(*asked) for asked in requests]),
            "blocks": [
                {"type": "header", "block_id": RETRAIN_BLOCK,
                 "text": {"type": "plain_text", "text": title[:SLACK_MAX_HEADER],
                          "emoji": False}},
                _requests_section(requests),
                {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(
                    f"{slack_name(v.model_id, SLACK_MAX_NAME)} / "
                    f"{slack_name(v.monitor, SLACK_MAX_NAME)} · window "
                    f"{window_span(v.window_start, v.window_end)} UTC", SLACK_MAX_TEXT)}]}]}


def retrain_console(v: WindowVerdict, requests: Sequence[Asked]) -> dict[str, Any]:
    """The console's block for retraining asked for without an alert message."""
    return {"text": f"{RETRAIN_HEAD} {v.model_id} / {v.monitor}: window "
                    f"{window_span(v.window_start, v.window_end)} UTC",
            "lines": [retrain_line(*asked) for asked in requests]}


RETRAIN_BLOCK = "driftscope-retrain"  # the block_id of a retraining notice's header
RETRAIN_HEAD = "[RETRAIN]"  # and the start of its console text


def _is_notice(channel: str, payload: Mapping[str, Any]) -> bool:
    """Whether a payload is a retraining notice (:func:`retrain_slack`,
    :func:`retrain_console`), which joins an alert's message as its lines."""
    if channel == "slack":
        blocks = payload.get("blocks") or [{}]
        return bool(blocks[0].get("block_id") == RETRAIN_BLOCK)
    return str(payload.get("text", "")).startswith(RETRAIN_HEAD)
