"""Hand-written inline SVG for the HTML report: lines, heatmap, bars; no dependency.

Frames follow the panel SQL: a ``time`` column, string columns naming series, numeric
columns as values (the long format Grafana turns into series).

Examples
--------
>>> from datetime import UTC, datetime
>>> svg = line_chart(["time", "v"], [(datetime(2026, 1, 1), 1.0), (datetime(2026, 1, 2), 2.0)])
>>> svg.startswith("<svg") and "<polyline" in svg
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

W, H = 720, 260
L, R, T, B = 56, 150, 12, 28
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
Row = Sequence[Any]


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v) if math.isfinite(float(v)) else None
    return None


UNITS = {"percentunit": (100.0, " %"), "percent": (1.0, " %"), "ms": (1.0, " ms"),
         "s": (1.0, " s"), "rps": (1.0, "/s")}
"""Grafana units the report writes its values in: a factor and a suffix (a share of
0.016 is 1.6 %, as Grafana shows it; the report showed 0.016, read as 0.016 %)."""


def in_unit(v: float, unit: str | None = None) -> str:
    """A value as a panel of ``unit`` (Grafana's id) shows it.

    >>> in_unit(0.0161, "percentunit"), in_unit(250.0, "ms"), in_unit(3.5)
    ('1.61 %', '250 ms', '3.5')
    """
    factor, suffix = UNITS.get(unit or "", (1.0, ""))
    return f"{v * factor:.3g}{suffix}"


def when(v: Any) -> str:
    """A time as the report writes it, in UTC (a query's result came back in the
    machine's time zone: an axis of ``05:30+05:30`` beside tables in UTC); anything else
    as it is."""
    if isinstance(v, datetime) and v.tzinfo:
        return str(v.astimezone(UTC))
    return str(v)


def _frame(w: int = W, h: int = H) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" role="img" font-family="sans-serif" font-size="11">',
            f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>']


def _axes(y0: float, y1: float, x_labels: tuple[str, str],
          unit: str | None = None) -> list[str]:
    out = [f'<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="#888"/>',
           f'<line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="#888"/>']
    for frac in (0.0, 0.5, 1.0):
        y = H - B - frac * (H - B - T)
        out.append(f'<text x="{L - 4}" y="{y + 4:.1f}" text-anchor="end">'
                   f"{in_unit(y0 + frac * (y1 - y0), unit)}</text>")
    out.append(f'<text x="{L}" y="{H - 8}">{escape(x_labels[0])}</text>')
    out.append(f'<text x="{W - R}" y="{H - 8}" text-anchor="end">{escape(x_labels[1])}</text>')
    return out


LEGEND_LINES = 14
LEGEND_CHARS = 22


def _legend(names: Sequence[str], colours: dict[str, str] | None = None) -> list[str]:
    """The series' names beside the chart: a name cut short ends with "…" and shows whole
    on hover; more series than lines end with "+N more" (both were cut without a sign)."""
    out = []
    shown = names[:LEGEND_LINES - 1] if len(names) > LEGEND_LINES else names
    for i, name in enumerate(shown):
        y = T + 10 + i * 16
        fill = (colours or {}).get(name, PALETTE[i % len(PALETTE)])
        out.append(f'<rect x="{W - R + 10}" y="{y - 8}" width="10" height="10" '
                   f'fill="{fill}"/>')
        short = name if len(name) <= LEGEND_CHARS else name[:LEGEND_CHARS - 1] + "…"
        out.append(f'<text x="{W - R + 24}" y="{y + 1}"><title>{escape(name)}</title>'
                   f'{escape(short)}</text>')
    if len(shown) < len(names):
        y = T + 10 + len(shown) * 16
        out.append(f'<text x="{W - R + 24}" y="{y + 1}">+{len(names) - len(shown)} more'
                   "</text>")
    return out


def series_of(columns: Sequence[str], rows: Sequence[Row]) -> dict[str, list[tuple[Any, float]]]:
    """Long frame → {series name: [(x, value)]}, like Grafana's long-to-wide."""
    if not rows:
        return {}
    labels = [i for i in range(1, len(columns)) if isinstance(rows[0][i], str)]
    values = [i for i in range(1, len(columns)) if i not in labels]
    out: dict[str, list[tuple[Any, float]]] = {}
    for r in rows:
        prefix = " ".join(str(r[i]) for i in labels)
        for i in values:
            v = _num(r[i])
            if v is not None:
                name = f"{columns[i]} {prefix}".strip() if len(values) > 1 or not prefix else prefix
                out.setdefault(name, []).append((r[0], v))
    return out


def _x(v: Any) -> float:
    return v.timestamp() if isinstance(v, datetime) else float(v)


def line_chart(columns: Sequence[str], rows: Sequence[Row],
               threshold: float | None = None, unit: str | None = None) -> str:
    """A time series chart, one polyline per series; ``threshold``: a fixed dashed line;
    ``unit``: the panel's (its axis written in it, :func:`in_unit`; times in UTC).

    Series named ``threshold …`` are dashed; a whole-population series (``… (all)``) is
    drawn thicker, as in Grafana.
    """
    series = series_of(columns, rows)
    pts = [p for s in series.values() for p in s]
    if not pts:
        return empty()
    xs, ys = [_x(p[0]) for p in pts], [p[1] for p in pts]
    if threshold is not None:
        ys.append(threshold)
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(0.0, min(ys)), max(ys) if max(ys) > min(0.0, min(ys)) else 1.0
    out = _frame() + _axes(y0, y1, (when(min(p[0] for p in pts)),
                                    when(max(p[0] for p in pts))), unit)
    colours = _pair_colours(list(series))
    for name, points in series.items():
        coords = " ".join(
            f"{L + (_x(x) - x0) / (x1 - x0) * (W - L - R):.1f},"
            f"{H - B - (y - y0) / (y1 - y0) * (H - B - T):.1f}" for x, y in sorted(points))
        dash = ' stroke-dasharray="6 4"' if name.startswith("threshold") else ""
        width = 1 if dash else 4 if name.endswith("(all)") else 2
        out.append(f'<polyline fill="none" stroke-width="{width}" stroke="{colours[name]}"'
                   f'{dash} points="{coords}"/>')
    if threshold is not None:
        y = H - B - (threshold - y0) / (y1 - y0) * (H - B - T)
        out.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#d62728" '
                   f'stroke-dasharray="6 4"/>')
    return "".join([*out, *_legend(list(series), colours), "</svg>"])


def _pair_colours(names: list[str]) -> dict[str, str]:
    """A threshold line takes the colour of the statistic it belongs to."""
    groups: dict[str, str] = {}
    out = {}
    for name in names:
        paired = name.startswith(("threshold ", "statistic ", "value "))
        key = name.split(" ", 1)[1] if paired else name
        groups.setdefault(key, PALETTE[len(groups) % len(PALETTE)])
        out[name] = groups[key]
    return out


def _heat_color(ratio: float) -> str:
    """Green (0) → yellow (1, the threshold) → red (2 and above)."""
    t = max(0.0, min(ratio, 2.0)) / 2.0
    r, g = (int(510 * t), 190) if t < 0.5 else (230, int(190 * (2 - 2 * t)))
    return f"rgb({min(r, 230)},{g},60)"


def heatmap(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """Rows ``(time, label, value)`` as a label × time grid of coloured cells."""
    if not rows:
        return empty()
    times = sorted({r[0] for r in rows})
    labels = sorted({str(r[1]) for r in rows})
    left = max(L, 7 * max(len(lab) for lab in labels) + 12)
    cell_w = (W - left - R) / len(times)
    cell_h = min(28.0, (H - B - T) / len(labels))
    out = _frame(W, int(T + cell_h * len(labels) + B))
    index = {t: i for i, t in enumerate(times)}
    for r in rows:
        v = _num(r[2])
        if v is None:
            continue
        x, y = left + index[r[0]] * cell_w, T + labels.index(str(r[1])) * cell_h
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_w + 0.3:.1f}" '
                   f'height="{cell_h - 1:.1f}" fill="{_heat_color(v)}"><title>'
                   f"{escape(str(r[1]))} {r[0]}: {in_unit(v)}</title></rect>")
    for j, lab in enumerate(labels):
        out.append(f'<text x="{left - 4}" y="{T + (j + 0.6) * cell_h:.1f}" text-anchor="end">'
                   f"{escape(lab)}</text>")
    bottom = T + cell_h * len(labels) + 16
    out.append(f'<text x="{left}" y="{bottom:.1f}">{escape(str(times[0]))}</text>')
    out.append(f'<text x="{W - R}" y="{bottom:.1f}" text-anchor="end">'
               f"{escape(str(times[-1]))}</text>")
    out.append(f'<text x="{W - R + 10}" y="{T + 10}">statistic / threshold:</text>')
    for k, v in enumerate((0.0, 1.0, 2.0)):
        out.append(f'<rect x="{W - R + 10 + 40 * k}" y="{T + 18}" width="36" height="12" '
                   f'fill="{_heat_color(v)}"/><text x="{W - R + 14 + 40 * k}" y="{T + 42}">'
                   f"{in_unit(v)}</text>")
    return "".join([*out, "</svg>"])


def bar_chart(columns: Sequence[str], rows: Sequence[Row]) -> str:
    """Grouped bars: first column the x label, the others one bar each."""
    if not rows:
        return empty()
    names = list(columns[1:])
    top = max((_num(v) or 0.0) for r in rows for v in r[1:]) or 1.0
    group = (W - L - R) / len(rows)
    bar = group * 0.8 / len(names)
    out = _frame() + _axes(0.0, top, (str(rows[0][0]), str(rows[-1][0])))
    for i, r in enumerate(rows):
        for k, v in enumerate(r[1:]):
            h = (_num(v) or 0.0) / top * (H - B - T)
            out.append(f'<rect x="{L + i * group + k * bar:.1f}" y="{H - B - h:.1f}" '
                       f'width="{bar:.1f}" height="{h:.1f}" fill="{PALETTE[k % 10]}" '
                       f'fill-opacity="0.8"/>')
    return "".join([*out, *_legend(names), "</svg>"])


def empty(message: str = "no data in this range") -> str:
    """A panel with no data."""
    return "".join([*_frame(W, 60), f'<text x="{W / 2}" y="34" text-anchor="middle" '
                    f'fill="#888">{escape(message)}</text></svg>'])
