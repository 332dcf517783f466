"""Bar charts as inline SVG, drawn on the server (no JavaScript; they print and export as is).

The drawing scales with its column (``viewBox``; static/reports.css gives charts columns of 460 to
760 px), so its text is drawn at :data:`FONT` = 13 units on a :data:`WIDTH` = 520 drawing: between
11.5 px and 19 px on the screen.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil, floor, log10

from markupsafe import Markup, escape

#: Colours of the series, in order (SLDS-like palette).
COLOURS = ("#0176d3", "#2e844a", "#ba0517", "#dd7a01", "#9050e9", "#706e6b")


@dataclass
class Series:
    name: str
    values: list[float]


def _nice_max(value: float) -> float:
    """The top of the value axis: four gridline steps of 1, 2, (2.5) or 5 × 10ⁿ (whole steps for counts)."""
    if value <= 0:
        return 4.0
    raw = value / 4
    magnitude = 10 ** floor(log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if step == 2.5 and magnitude < 10:
            continue
        if raw <= step * magnitude:
            return 4 * max(step * magnitude, 1)
    return 4 * 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _text_width(text: str, size: int = 13) -> float:
    """Roughly how wide a label is drawn: full width for Japanese, about 0.6 em for the rest."""
    return sum(size if ord(ch) > 0x2e80 else size * 0.6 for ch in text)


WIDTH = 520  # the drawing's own units; it is scaled to the page's width
FONT = 13  # the size of its text in those units


def bar_chart(labels: list[str], series: list[Series], *, title: str, unit: str = "", chart_id: str = "chart",
              height: int = 240, percent: bool = False) -> Markup:
    """Grouped bars: one group per label, one bar per series, a value axis with gridlines, a legend."""
    groups = max(len(labels), 1)
    per_group = max(len(series), 1)
    left, right, top, bottom = 52, 10, 28, 34
    width = WIDTH
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = 100.0 if percent else _nice_max(max((v or 0 for s in series for v in s.values), default=0))
    group_w = plot_w / groups
    bar_w = max(1.0, min(28.0, group_w * 0.8 / per_group))
    # The legend: as many rows as it needs.
    legend, x, y = [], 8, height + 4
    for k, s in enumerate(series):
        advance = 30 + _text_width(s.name)
        if x + advance > width and x > 8:
            x, y = 8, y + 20
        legend.append((k, s.name, x, y))
        x += advance
    total_height = y + 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
        f'viewBox="0 0 {width} {total_height}" width="100%" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
        f'<text x="8" y="16" font-size="{FONT + 1}" font-weight="bold" fill="#222">{escape(title)}</text>',
    ]
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e5e5"/>')
        label = f"{value:.0f}%" if percent else _fmt(value)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{FONT}" fill="#444">{escape(label)}</text>')
    every = max(1, ceil(max(_text_width(str(label)) for label in labels or [""]) * 1.2 / group_w)) if labels else 1
    for g, label in enumerate(labels):
        x0 = left + g * group_w + (group_w - bar_w * per_group) / 2
        for k, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else 0
            value = 0 if value is None else value
            shown = value * 100 if percent else value
            h = plot_h * min(shown, top_value) / top_value if top_value else 0
            x, y = x0 + k * bar_w, top + plot_h - h
            text = f"{label} {s.name}: {shown:.1f}%" if percent else f"{label} {s.name}: {_fmt(value)}{unit}"
            parts.append(
                f'<rect class="bar series-{k}" x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[k % len(COLOURS)]}" data-value="{value}"><title>{escape(text)}</title></rect>'
            )
        if g % every == 0:
            cx = left + g * group_w + group_w / 2
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 18}" text-anchor="middle" font-size="{FONT}" fill="#444">{escape(label)}</text>')
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#888"/>')
    for k, name, x, y in legend:
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="12" height="12" fill="{COLOURS[k % len(COLOURS)]}"/>')
        parts.append(f'<text x="{x + 16:.1f}" y="{y + 11}" font-size="{FONT}" fill="#222">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
