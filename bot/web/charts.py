"""Small charts drawn on the server as SVG: no script, no style attribute (the CSP forbids both).

`bars` draws one bar per labelled count; `lines` draws a few series over the same labels. Colours
come from the stylesheet's classes (`bar`, `bar good`, `bar bad`, `line`, `line-N`); labels and
titles are escaped. Every chart is an `<svg class="chart" role="img">` with an `aria-label`.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["bars", "lines"]

LABEL_WIDTH = 160  # room for a bar's label on the left
VALUE_WIDTH = 64  # room for its figure on the right
ROW = 22  # one bar's height with its gap
AXIS = 20  # room for the labels under a line chart


def _number(value: int, formatted: str | None) -> str:
    return formatted if formatted is not None else str(value)


def bars(
    items: Sequence[tuple[str, int]],
    *,
    width: int = 480,
    title: str = "",
    kind: str = "",
    kinds: Sequence[str] | None = None,
    figures: Sequence[str] | None = None,
) -> Markup:
    """Horizontal bars, one per `(label, count)`, scaled to the largest count.

    `kind`: an extra class for every bar (`good`, `bad`); `kinds`: one per bar instead.
    `figures`: the counts as the page writes them (e.g. `1 234` in French); default `str(count)`.
    """
    top = max((count for _label, count in items), default=0)
    room = max(width - LABEL_WIDTH - VALUE_WIDTH, 10)
    height = max(len(items), 1) * ROW
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    for index, (label, count) in enumerate(items):
        y = index * ROW
        length = round(room * count / top) if top > 0 else 0
        classes = " ".join(c for c in ("bar", kinds[index] if kinds is not None else kind) if c)
        figure = _number(count, figures[index] if figures is not None else None)
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect class="{escape(classes)}" x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 6}">'
            f"<title>{escape(label)} — {escape(figure)}</title></rect>"
            f'<text x="{LABEL_WIDTH + length + 4}" y="{y + 15}">{escape(figure)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label escaped above, numbers only besides


def lines(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    width: int = 640,
    height: int = 180,
    title: str = "",
) -> Markup:
    """One polyline per `(name, counts)` over the same `labels` (e.g. days), with a legend below.

    `height` is the plot's; the labels and the legend add to it. Each series gets the classes
    `line line-N` (N from 0), each point a `<title>` for hovering.
    """
    top = max((max(values, default=0) for _name, values in series), default=0)
    pad = 8  # above the plot: room for the top figure
    bottom = pad + height
    total = bottom + AXIS + ROW * len(series)
    left, right = 36, 28  # half a label on each side of the first and last points
    room = max(width - left - right, 10)
    step = room / (len(labels) - 1) if len(labels) > 1 else 0.0

    def x_of(index: int) -> float:
        return left + (index * step if len(labels) > 1 else room / 2)

    def y_of(value: int) -> float:
        return bottom - height * value / top if top > 0 else bottom

    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" width="{width}" height="{total}" '
        f'viewBox="0 0 {width} {total}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if title:
        parts.append(f"<title>{escape(title)}</title>")
    parts.append(
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{width - right}" y2="{bottom}" stroke="currentColor"/>'
        f'<text x="{left - 4}" y="{pad + 4}" text-anchor="end">{top}</text>'
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end">0</text>'
    )
    # about eight labels under the axis, evenly spaced back from the last one, so none overlap
    every = max(1, -(-len(labels) // 8))
    for index, label in enumerate(labels):
        if (len(labels) - 1 - index) % every == 0:
            parts.append(f'<text x="{x_of(index):.1f}" y="{bottom + 15}" text-anchor="middle">{escape(label)}</text>')
    for number, (name, values) in enumerate(series):
        points = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="line line-{number}" fill="none" stroke-width="2" points="{points}"/>')
        for i, value in enumerate(values):
            parts.append(
                f'<circle class="line line-{number}" cx="{x_of(i):.1f}" cy="{y_of(value):.1f}" r="3">'
                f"<title>{escape(name)}, {escape(labels[i] if i < len(labels) else '')} — {value}</title></circle>"
            )
        y = bottom + AXIS + number * ROW
        parts.append(
            f'<rect class="line line-{number}" x="{left}" y="{y + 4}" width="14" height="10"/>'
            f'<text x="{left + 20}" y="{y + 13}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every label escaped above, numbers only besides
