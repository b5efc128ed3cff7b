"""Server-rendered SVG bar charts (no JavaScript): pure geometry, drawn by ``_bar_chart.html``.

Each chart carries a title and a description for screen readers, and the page shows the same numbers
as a table.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 480
LABEL_WIDTH = 150
VALUE_WIDTH = 70
BAR_HEIGHT = 24
GAP = 10
LABEL_CHARS = 17  # what LABEL_WIDTH holds at the chart font size, wide letters (m, é, W) included
TOP = 6


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    tone: str  # CSS class: brand, ok, info, read, danger, muted
    y: int
    width: int
    share: float  # of the first (or largest) bar, 0..100

    @property
    def short_label(self) -> str:
        """What fits left of the bars (the full label is in the tooltip and the data table)."""
        return self.label if len(self.label) <= LABEL_CHARS else self.label[: LABEL_CHARS - 1].rstrip() + "…"

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT // 2 + 5

    @property
    def value_x(self) -> int:
        return LABEL_WIDTH + self.width + 6


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    bars: list[Bar]
    height: int
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT


def bar_chart(chart_id: str, title: str, rows: list[tuple[str, int, str]], describe) -> Chart:
    """Horizontal bars scaled to the largest value. ``describe(rows)`` writes the text alternative."""
    top = max((value for _, value, _ in rows), default=0)
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for i, (label, value, tone) in enumerate(rows):
        width = round(room * value / top) if top else 0
        share = round(100 * value / top, 1) if top else 0.0
        bars.append(Bar(label, value, tone, TOP + i * (BAR_HEIGHT + GAP), max(width, 1 if value else 0), share))
    height = max(TOP * 2 + len(rows) * (BAR_HEIGHT + GAP), BAR_HEIGHT + 2 * GAP)
    return Chart(chart_id, title, describe(rows), bars, height)


def funnel_rates(counts: dict[str, int]) -> dict[str, float | None]:
    """Share of the deliveries that could be sent (created minus not sent) that reached each stage (percent,
    one decimal); ``not_sent`` is a share of all created. None when there is nothing to divide by."""
    attempted, created = counts.get("attempted", counts.get("created", 0)), counts.get("created", 0)
    out = {stage: round(100 * n / attempted, 1) if attempted else None for stage, n in counts.items()}
    out["not_sent"] = round(100 * counts.get("not_sent", 0) / created, 1) if created else None
    return out
