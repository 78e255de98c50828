"""Horizontal bar charts as inline SVG: no script and no network needed to view them; each bar's
numbers show on hover (its <title>)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

ROW_HEIGHT = 24
LABEL_WIDTH = 170
BAR_WIDTH = 360
NOTE_WIDTH = 250
WIDTH = LABEL_WIDTH + BAR_WIDTH + NOTE_WIDTH


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""  # what the bar is about, e.g. the category that is most popular


def number(value: float) -> str:
    """1234.0 -> '1,234'; 2.5 -> '2.5'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(bars: list[Bar], value_name: str, unit: str = "") -> str:
    """An SVG bar chart, one row per bar, bars scaled to the largest value."""
    top = max((b.value for b in bars), default=0) or 1
    height = ROW_HEIGHT * len(bars) + 8
    rows = []
    for i, b in enumerate(bars):
        y = 4 + i * ROW_HEIGHT
        length = max(1.0, BAR_WIDTH * 0.78 * b.value / top)
        shown = f"{number(b.value)}{unit}"
        hover = f"{b.label}: {value_name} {shown}" + (f" ({b.note})" if b.note else "")
        rows.append(
            f'<g class="bar"><title>{escape(hover)}</title>'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(shorten(b.label, 26))}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length:.1f}" height="{ROW_HEIGHT - 6}"'
            f' rx="3"/>'
            f'<text class="value" x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 16}">{shown}</text>'
            f'<text class="note" x="{LABEL_WIDTH + BAR_WIDTH + 4}" y="{y + 16}">'
            f"{escape(shorten(b.note, 38))}</text></g>"
        )
    return (
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">{"".join(rows)}</svg>'
    )


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
