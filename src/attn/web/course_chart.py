"""The course page's chart: the attendance rate of each lesson over the term, as an inline
SVG drawn by the server (no script). It is an image with a title and a description; the same
numbers are in the table beside it, for anyone who cannot see it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 480
HEIGHT = 200
LEFT = 48  # room for the axis labels
RIGHT = 12
TOP = 12
BOTTOM = 28


@dataclass(frozen=True, slots=True)
class Point:
    label: str  # the lesson, as the table names it
    percent: int | None  # None: no student was expected at it


def rate_chart(points: Sequence[Point], *, title: str, description: str, axis: str) -> Markup:
    """An SVG line chart of the lessons' rates (0-100 %), one point per lesson, in order.

    `axis` formats a percentage for the labels ("{}%" or "%{}").
    """
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(points) - 1, 1)

    def x(index: int) -> float:
        return LEFT + (index * step if len(points) > 1 else plot_width / 2)

    def y(value: int) -> float:
        return TOP + plot_height * (100 - value) / 100

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(description)}</desc>',
    ]
    for value in (0, 50, 100):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f'stroke="#bbb" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="14" '
            f'fill="#333">{escape(axis.format(value))}</text>'
        )
    drawn = [(index, point) for index, point in enumerate(points) if point.percent is not None]
    if len(drawn) > 1:
        line = " ".join(f"{x(index):.1f},{y(point.percent or 0):.1f}" for index, point in drawn)
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1b5e20" stroke-width="2"/>')
    for index, point in drawn:
        value = point.percent or 0
        parts.append(
            f'<circle cx="{x(index):.1f}" cy="{y(value):.1f}" r="4" fill="#1b5e20">'
            f"<title>{escape(point.label)}: {escape(axis.format(value))}</title></circle>"
        )
    if points:
        for index in sorted({0, len(points) - 1}):
            anchor = "start" if index == 0 and len(points) > 1 else "end"
            if len(points) == 1:
                anchor = "middle"
            parts.append(
                f'<text x="{x(index):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" '
                f'font-size="14" fill="#333">{escape(points[index].label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it was escaped above)
