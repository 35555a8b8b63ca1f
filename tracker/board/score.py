"""The score as the board prints it: tracker.stats' figures, each with its definition, and
the same figures as JSON.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracker.models import Launch
from tracker.stats import Stats, leaderboard
from tracker.stats import to_json as stats_json

__all__ = ["Figure", "score_figures", "score_json"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the score with its definition, as the board prints it."""

    key: str
    label: str
    value: str
    definition: str


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def score_figures(stats: Stats) -> tuple[Figure, ...]:
    """The score's figures in reading order, each with its definition (the rules are
    tracker.stats' own; the whole paragraph is :data:`tracker.stats.RULES`)."""
    worst = stats.worst
    multiplier = stats.time_multiplier
    median = stats.median_days_late
    return (
        Figure(
            "on_time_rate",
            "On time",
            f"{_pct(stats.on_time_rate)} ({stats.on_time} of {stats.scored})",
            "Shipped no later than the first promise, over scored launches (shipped, "
            "cancelled, or still out past the first promise).",
        ),
        Figure(
            "shipped_late",
            "Shipped late",
            str(stats.shipped_late),
            "Shipped after the end of the first promised window; re-dating never resets it.",
        ),
        Figure(
            "overdue_open",
            "Overdue",
            str(stats.overdue_open),
            "Still out past the first promise, counted with the days late so far.",
        ),
        Figure(
            "cancelled",
            "Cancelled",
            str(stats.cancelled),
            "Called off; scored, never on time, with no days late.",
        ),
        Figure(
            "median_days_late",
            "Median lateness",
            "—" if median is None else f"{median:g} days",
            "Median days late over the late ones: shipped late and still out overdue.",
        ),
        Figure(
            "worst",
            "Worst slip",
            "—" if worst is None else f"{worst.product} ({worst.vendor}), {worst.words()}",
            "The largest days late among them, as of today.",
        ),
        Figure(
            "time_multiplier",
            "Time multiplier",
            "—" if multiplier is None else f"×{multiplier:.2f}",
            "Median of (shipped − announced) / (first promise − announced) over launches "
            "shipped late: how many times longer than promised it took.",
        ),
    )


def score_json(stats: Stats, launches: Iterable[Launch]) -> dict[str, object]:
    """The score as JSON-ready data: exactly tracker.stats.to_json (the keys of
    `python bot.py stats --json`), leaderboard by vendor included."""
    board = leaderboard(launches, stats.today)
    return stats_json(stats, board)
