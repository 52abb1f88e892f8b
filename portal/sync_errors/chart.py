"""The errors page's health chart: stacked per-day bars of synced, failed and waiting syncs, laid out on the
server as plain numbers for an inline SVG (no scripts). Pure: counts in, geometry out."""

from __future__ import annotations

from dataclasses import dataclass

from .queries import CHART_STATUSES, DayCounts

KINDS = tuple(status.value for status in CHART_STATUSES)  # bottom to top; DayCounts has one field each


@dataclass(frozen=True)
class Segment:
    kind: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    label: str  # e.g. "Mar 4"
    title: str  # the bar's tooltip and accessible text
    x: float
    width: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_height: int
    peak: int
    bars: tuple[Bar, ...]
    totals: dict[str, int]


def health_chart(days: list[DayCounts], width: int = 560, plot_height: int = 100, label_height: int = 18) -> Chart:
    """Bars share one scale: the busiest day fills the plot height; a day without syncs draws nothing."""
    peak = max((day.total for day in days), default=0)
    slot = width / max(len(days), 1)
    bars = tuple(_bar(day, index * slot, slot, peak, plot_height) for index, day in enumerate(days))
    totals = {kind: sum(getattr(day, kind) for day in days) for kind in KINDS}
    return Chart(width, plot_height + label_height, plot_height, peak, bars, totals)


def _bar(day: DayCounts, x: float, slot: float, peak: int, plot_height: int) -> Bar:
    segments = []
    top = float(plot_height)
    for kind in KINDS:
        count = getattr(day, kind)
        if count == 0:
            continue
        height = round(count / peak * plot_height, 2)
        top = round(top - height, 2)
        segments.append(Segment(kind, count, top, height))
    label = f"{day.day:%b} {day.day.day}"
    title = f"{label}: {day.synced} synced, {day.failed} failed, {day.waiting} waiting"
    gap = min(4.0, slot / 4)
    return Bar(label, title, round(x + gap / 2, 2), round(slot - gap, 2), tuple(segments))
