"""Daily-count sparklines drawn as inline SVG bars: no chart library, a few hundred bytes per row."""

from dataclasses import dataclass
from datetime import date, timedelta

WIDTH = 84
HEIGHT = 18
GAP = 1


@dataclass(frozen=True)
class Sparkline:
    """One bar per day; `bars` and `ticks` are SVG path data (days with failures, days without)."""

    values: tuple[int, ...]
    first_day: date
    width: int
    height: int
    bars: str
    ticks: str

    @property
    def total(self) -> int:
        return sum(self.values)

    @property
    def peak(self) -> int:
        return max(self.values, default=0)

    @property
    def label(self) -> str:
        """What the bars say, for screen readers and the hover title."""
        days = len(self.values)
        if not self.total:
            return f"no failures in the last {days} days"
        today = self.values[-1] if self.values else 0
        return f"{self.total} in the last {days} days, at most {self.peak} a day, {today} today"


def daily_values(per_day: dict[date, int], *, end: date, days: int) -> list[int]:
    """The counts of the `days` days ending on `end`, oldest first; missing days count 0."""
    start = end - timedelta(days=days - 1)
    return [int(per_day.get(start + timedelta(days=i), 0)) for i in range(days)]


def sparkline(values: list[int], *, first_day: date, width: int = WIDTH, height: int = HEIGHT) -> Sparkline:
    """Bars scaled to the largest value; a day without failures is a thin tick on the baseline."""
    values = tuple(max(0, int(v)) for v in values)
    count = max(len(values), 1)
    step = width / count
    bar = max(step - GAP, 1.0)
    peak = max(values, default=0)
    bars, ticks = [], []
    for i, value in enumerate(values):
        x = round(i * step, 2)
        if value and peak:
            # At least 2 px so a single failure on a busy cluster's chart stays visible.
            h = max(round(value / peak * (height - 1), 2), 2)
            bars.append(f"M{x} {height}h{bar:g}v-{h:g}h-{bar:g}z")
        else:
            ticks.append(f"M{x} {height}h{bar:g}v-1h-{bar:g}z")
    return Sparkline(values, first_day, width, height, "".join(bars), "".join(ticks))


def daily_sparklines(
    counts: dict[int, dict[date, int]], keys: list[int], *, end: date, days: int
) -> dict[int, Sparkline]:
    """A sparkline per key (cluster, migration...) from {key: {day: count}}, every key over the same days."""
    first = end - timedelta(days=days - 1)
    return {key: sparkline(daily_values(counts.get(key, {}), end=end, days=days), first_day=first) for key in keys}
