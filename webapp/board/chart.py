"""A small server-rendered SVG chart (no JavaScript, no external library)."""
from __future__ import annotations

from markupsafe import Markup, escape

MONTHS = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")


def monthly_chart(monthly: list[dict], width: int = 760, height: int = 240) -> Markup:
    """Bars: deadlines decided per month; line: share met in time (0–100 %)."""
    left, right, top, bottom = 44, 44, 16, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    most = max((m["decided"] for m in monthly), default=0) or 1
    step = plot_w / max(len(monthly), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Fristen je Monat und Anteil rechtzeitig erfüllt">']
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{width - right + 6}" y="{y + 4:.1f}" class="axis">{pct} %</text>')
    points = []
    for i, m in enumerate(monthly):
        x = left + i * step
        bar_h = plot_h * m["decided"] / most
        parts.append(f'<rect x="{x + step * 0.2:.1f}" y="{top + plot_h - bar_h:.1f}" width="{step * 0.6:.1f}" '
                     f'height="{bar_h:.1f}" class="bar"><title>{escape(_label(m))}</title></rect>')
        parts.append(f'<text x="{x + step / 2:.1f}" y="{height - 12}" class="axis" text-anchor="middle">'
                     f'{MONTHS[m["month"].month - 1]} {m["month"]:%y}</text>')
        if m["share"] is not None:
            points.append(f'{x + step / 2:.1f},{top + plot_h * (1 - m["share"]):.1f}')
    parts.append(f'<text x="{left - 6}" y="{top + 4}" class="axis" text-anchor="end">{most}</text>'
                 f'<text x="{left - 6}" y="{top + plot_h + 4}" class="axis" text-anchor="end">0</text>')
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" class="share"/>')
        parts += [f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3" class="share-dot"/>' for p in points]
    parts.append("</svg>")
    return Markup("".join(parts))


def _label(m: dict) -> str:
    share = "–" if m["share"] is None else f"{m['share'] * 100:.0f} %"
    return f"{MONTHS[m['month'].month - 1]} {m['month']:%Y}: {m['decided']} entschieden, rechtzeitig {share}"
