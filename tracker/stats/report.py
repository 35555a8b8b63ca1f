"""The figures as one JSON object and as plain text (``python bot.py stats``)."""

from __future__ import annotations

from tracker.stats.leaderboard import Leaderboard
from tracker.stats.score import RULES, Stats
from tracker.text import plural

__all__ = ["days_words", "percent_words", "to_json", "to_text"]


def to_json(result: Stats, board: Leaderboard) -> dict[str, object]:
    """The figures as one JSON-ready object (``python bot.py stats --json``): exactly the keys
    today, scored, on_time, shipped_late, overdue_open, cancelled, on_time_rate,
    median_days_late, time_multiplier, worst, leaderboard, launches."""
    worst = result.worst
    return {
        "today": result.today.isoformat(),
        "scored": result.scored,
        "on_time": result.on_time,
        "shipped_late": result.shipped_late,
        "overdue_open": result.overdue_open,
        "cancelled": result.cancelled,
        "on_time_rate": result.on_time_rate,
        "median_days_late": result.median_days_late,
        "time_multiplier": result.time_multiplier,
        "worst": None
        if worst is None
        else {
            "product": worst.product,
            "vendor": worst.vendor,
            "days_late": worst.days_late,
            "still_out": worst.still_out,
        },
        "leaderboard": [
            {"vendor": e.name, "scored": e.scored, "on_time": e.on_time, "rate": e.on_time_rate}
            for e in board.entries
        ],
        "launches": [
            {
                "product": s.product,
                "vendor": s.vendor,
                "state": s.state.value,
                "first_window_end": s.first_window_end.isoformat(),
                "latest_window_end": s.latest_window_end.isoformat(),
                "days_late": s.days_late,
                "slips": s.slips,
                "evidence": s.evidence.value,
            }
            for s in result.launches
        ],
    }


def percent_words(value: float | None) -> str:
    """ "83%", or "—" when there is nothing to compute it over."""
    return "—" if value is None else f"{value:.0%}"


def days_words(value: float | None) -> str:
    """ "12 days", "3.5 days", "1 day", or "—"."""
    if value is None:
        return "—"
    shown = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{shown} day{'' if shown == '1' else 's'}"


def to_text(result: Stats, board: Leaderboard) -> str:
    """The figures of /slips stats as plain text (the CLI without --json)."""
    scope = ", ".join(
        part
        for part in (
            f"vendor {result.vendor}" if result.vendor else "",
            f"announcer {result.announcer}" if result.announcer else "",
            "rumours included" if result.evidence == "all" else "",
        )
        if part
    )
    rumours = result.rumours_left_out
    multiplier = result.time_multiplier
    lines = [
        f"Score as of {result.today.isoformat()}" + (f" ({scope})" if scope else ""),
        f"{plural(result.total, 'launch')}: {result.scored} scored, "
        f"{result.not_yet_due} not yet due"
        + (f", {plural(rumours, 'rumour')} left out" if rumours else ""),
        f"On time: {percent_words(result.on_time_rate)} ({result.on_time} of {result.scored})",
        f"Shipped late: {result.shipped_late}; still out past the first promise: "
        f"{result.overdue_open}; cancelled: {result.cancelled}",
        f"Median late: {days_words(result.median_days_late)}",
        "Time multiplier: "
        + (
            "—"
            if multiplier is None
            else f"x{multiplier:.2f} (median of {result.time_multiplier_count})"
        ),
        f"Kept the latest promise: {percent_words(result.kept_latest_rate)} ({result.kept_latest})",
        f"Slips: {result.slips}",
    ]
    if result.worst is not None:
        worst = result.worst
        lines.append(f"Worst slip: {worst.product} ({worst.vendor}), {worst.words()}")
    if board.entries:
        lines.append(f"Leaderboard (at least {board.min_scored} scored):")
        lines += [
            f"  {e.rank}. {e.name}: {percent_words(e.on_time_rate)} on time "
            f"({e.on_time}/{e.scored})"
            for e in board.entries
        ]
    lines.append("Rules: " + RULES)
    return "\n".join(lines)
