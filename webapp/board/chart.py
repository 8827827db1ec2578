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


def case_timeline(deadlines: list, today, width: int = 760) -> Markup:
    """The deadlines of one case on a time axis: event → calendar end (bar), the days up to
    the shifted end (lighter), the day it was met (dot) and today (line)."""
    if not deadlines:
        return Markup("")
    row_h, top, left, right = 30, 24, 230, 20
    days = [d.frist.event for d in deadlines] + [d.frist.shifted_end for d in deadlines] + [today] + [
        d.met_on for d in deadlines if d.met_on]
    first, last = min(days), max(days)
    span = max((last - first).days, 1)

    def x(day) -> float:
        return left + (width - left - right) * (day - first).days / span

    height = top + row_h * len(deadlines) + 24
    parts = [f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" aria-label="Zeitleiste der Fristen">']
    for i, d in enumerate(deadlines):
        y = top + i * row_h
        f = d.frist
        parts.append(f'<text x="0" y="{y + 15}" class="axis">{escape(f.title[:34])}</text>')
        parts.append(f'<rect x="{x(f.event):.1f}" y="{y + 4}" width="{max(x(f.end) - x(f.event), 2):.1f}" height="14" '
                     f'class="span"><title>{escape(f.title)}: {f.event:%d.%m.%Y} – {f.end:%d.%m.%Y}</title></rect>')
        if f.shifted_end != f.end:
            parts.append(f'<rect x="{x(f.end):.1f}" y="{y + 4}" width="{x(f.shifted_end) - x(f.end):.1f}" height="14" '
                         f'class="grace"><title>verschoben bis {f.shifted_end:%d.%m.%Y} (§ 26 Abs. 3 SGB X)</title></rect>')
        if d.met_on:
            late = d.met_on > f.shifted_end
            parts.append(f'<circle cx="{x(d.met_on):.1f}" cy="{y + 11}" r="5" class="met{" late" if late else ""}">'
                         f'<title>erfüllt am {d.met_on:%d.%m.%Y}</title></circle>')
    parts.append(f'<line x1="{x(today):.1f}" x2="{x(today):.1f}" y1="{top - 8}" y2="{height - 18}" class="today"/>'
                 f'<text x="{x(today):.1f}" y="{top - 12}" class="axis" text-anchor="middle">heute</text>'
                 f'<text x="{left}" y="{height - 4}" class="axis">{first:%d.%m.%Y}</text>'
                 f'<text x="{width - right}" y="{height - 4}" class="axis" text-anchor="end">{last:%d.%m.%Y}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
