"""Charts as plain server-rendered SVG: no chart library, no script, nothing the CSP must allow.

Each chart is an <svg role="img"> with a <title> naming what it shows; the figures are also in a
table beside it, so a screen reader (and axe) reads them without the drawing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 48, 12, 12, 28


def _nice_top(value: float) -> float:
    """A round axis maximum at or above `value`."""
    if value <= 0:
        return 1.0
    step = 10 ** (len(str(int(value))) - 1)
    return float(-(-value // step) * step) if value >= 1 else 1.0


def columns(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    number: Callable[[float], str] = lambda v: f"{v:,.0f}",
) -> str:
    """Grouped columns: one group per label, one column per series (name, css class, values)."""
    top = _nice_top(max((v for _, _, values in series for v in values), default=0))
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="t-{id(labels)}"'
        f' direction="ltr"><title id="t-{id(labels)}">{escape(title)}</title>'
    ]
    for fraction in (0, 0.5, 1):
        y = PAD_TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        if fraction != 0.5:  # the middle line's figure may round to a wrong one (0.5 → "0")
            parts.append(
                f'<text class="axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                f"{escape(number(top * fraction))}</text>"
            )
    every = max(1, n // 8)  # at most ~8 labels under the axis
    for i, label in enumerate(labels):
        x0 = PAD_LEFT + i * group_w + group_w * 0.1
        for j, (name, css, values) in enumerate(series):
            value = values[i] if i < len(values) else 0
            h = plot_h * (value / top)
            parts.append(
                f'<rect class="{css}" x="{x0 + j * bar_w:.1f}" y="{PAD_TOP + plot_h - h:.1f}"'
                f' width="{bar_w:.1f}" height="{h:.1f}"><title>{escape(label)}: {escape(name)}'
                f" {escape(number(value))}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text class="axis" x="{x0 + group_w * 0.4:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="key"><span class="swatch {css}"></span>{escape(name)}</span>'
        for name, css, _ in series
    )
    return f'<figure class="figure">{"".join(parts)}<figcaption>{legend}</figcaption></figure>'


def bars(title: str, items: Sequence[tuple[str, float]], *, number: Callable[[float], str] = str) -> str:
    """Horizontal bars, one per item, longest first as given."""
    top = max((v for _, v in items), default=0) or 1
    rows = items[:10]
    height = 28 * max(len(rows), 1) + 8
    label_w = 140
    plot_w = WIDTH - label_w - 70
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="b-{id(items)}"'
        f' direction="ltr"><title id="b-{id(items)}">{escape(title)}</title>'
    ]
    for i, (label, value) in enumerate(rows):
        y = 8 + i * 28
        w = plot_w * value / top
        parts.append(
            f'<text class="axis" x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(label[:24])}</text>'
        )
        parts.append(f'<rect class="s2" x="{label_w}" y="{y}" width="{w:.1f}" height="20"/>')
        parts.append(
            f'<text class="axis" x="{label_w + w + 6:.1f}" y="{y + 15}">{escape(number(value))}</text>'
        )
    parts.append("</svg>")
    return f'<figure class="figure">{"".join(parts)}</figure>'
