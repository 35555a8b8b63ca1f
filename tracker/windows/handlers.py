"""Rule handlers: each turns one rule's match of canonical words into dates (a ``Span``).

A handler takes the match and the announcement date; it raises ``Reject`` with a reason for a
match that names no real period ("Feb 30", "03/04/2025"). The rules that hold another period
("before X", "X .. Y") live with the rules in ``tracker.windows.rules``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Final

from tracker.windows.dates import (
    add_months,
    checked_year,
    day_number,
    days_in,
    first_occurrence,
    last_day,
    month_number,
    month_span,
    months_span,
    part_of_months,
    real_date,
    third_of_month,
    year_spec,
)
from tracker.windows.model import Reject, Span

Handler = Callable[[re.Match[str], dt.date], Span]


def _group(match: re.Match[str], name: str) -> str | None:
    """A named group's text, or None when the group is absent from this pattern or unmatched."""
    if name not in match.re.groupindex:
        return None
    value = match[name]
    return value if isinstance(value, str) else None


def read_iso_date(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "2025-03-31" (also with / or .): one day."""
    day = real_date(checked_year(int(match["y"])), int(match["m"]), int(match["d"]))
    return Span(day, day, "day")


def read_numeric_date(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "31/12/2025": day and month in either order, when only one order is a date."""
    # 03/04/2025 is March 4 in the US and April 3 in Indonesia: only accept what is unambiguous.
    year = checked_year(int(match["y"]))
    a, b = int(match["a"]), int(match["b"])
    readings: set[dt.date] = set()
    for day, month in ((a, b), (b, a)):
        if 1 <= month <= 12 and 1 <= day <= days_in(year, month):
            readings.add(dt.date(year, month, day))
    if not readings:
        raise Reject(f"{match.group(0)} is not a real date")
    if len(readings) > 1:
        raise Reject(f"{match.group(0)} could be day/month or month/day; write it as YYYY-MM-DD")
    (only,) = readings
    return Span(only, only, "day")


def read_numeric_month(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "2025-03" or "03/2025": a whole month."""
    month = int(match["m"])
    if not 1 <= month <= 12:
        raise Reject(f"there is no month {month}")
    return month_span(checked_year(int(match["y"])), month)


def read_day_month_year(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "31 mar 2025", "mar 31st next year": one day."""
    year = year_spec(match["ys"], announced)
    assert year is not None
    day = real_date(year, month_number(match["mon"]), day_number(match["day"]))
    return Span(day, day, "day")


def read_day_month(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "31 mar", "mar 31st": the next such day on or after the announcement."""
    month, day = month_number(match["mon"]), day_number(match["day"])
    real_date(2000, month, day)  # validate against a leap year so "Feb 29" is allowed
    # The next occurrence on or after the announcement; Feb 29 may be up to 8 years away.
    for year in range(announced.year, announced.year + 9):
        if day <= days_in(year, month):
            candidate = dt.date(checked_year(year), month, day)
            if candidate >= announced:
                return Span(candidate, candidate, "day")
    raise Reject("that date is outside the supported years")


def read_month_part(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "mar", "mar 2025", "early mar", "end mar next year": a month or a third of it."""
    month, part = month_number(match["mon"]), _group(match, "part")
    year = year_spec(_group(match, "ys"), announced)
    if year is not None:
        return third_of_month(year, month, part)
    return first_occurrence(lambda y: third_of_month(y, month, part), announced)


def read_relative_month(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "this month", "next month", "end this month": a month or a third of it."""
    first = dt.date(announced.year, announced.month, 1)
    if _group(match, "rel") == "next":
        first = add_months(first, 1)
    return third_of_month(checked_year(first.year), first.month, _group(match, "part"))


def read_week(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "this week", "next week", "end week", "weekend": the ISO week (Monday-Sunday)."""
    # ISO weeks run Monday..Sunday, so on a Sunday "this week" ends that same day.
    monday = announced - dt.timedelta(days=announced.weekday())
    if _group(match, "rel") == "next":
        monday += dt.timedelta(days=7)
    return Span(monday, monday + dt.timedelta(days=6), "week")


def _quarter_number(text: str) -> int:
    """'q3' / '3q' / '3rd quarter' / 'quarter iii' -> 3."""
    digit = re.search(r"[1-4]", text)
    if digit:
        return int(digit.group(0))
    return {"i": 1, "ii": 2, "iii": 3, "iv": 4}[text.split()[-1]]


def read_quarter(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "q3", "3rd quarter 2025", "end q1 2026": a quarter or one of its months."""
    quarter, part = _quarter_number(match["qt"]), _group(match, "part")
    year = year_spec(_group(match, "ys"), announced)

    def make(y: int) -> Span:
        return part_of_months(y, 3 * quarter - 2, part, "quarter")

    return make(year) if year is not None else first_occurrence(make, announced)


def read_relative_quarter(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "this quarter", "next quarter", "end quarter": the announcement's or the next."""
    first = dt.date(announced.year, 3 * ((announced.month - 1) // 3) + 1, 1)
    if _group(match, "rel") == "next":
        first = add_months(first, 3)
    return part_of_months(checked_year(first.year), first.month, _group(match, "part"), "quarter")


def read_half(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "h2", "1st half 2026", "2025 h1": a half year."""
    # "h1", "1st half", "half 1", "half i" -> 1; anything else the pattern allows is 2.
    half = 1 if re.search(r"1|\bi$", match["ht"]) else 2
    year = year_spec(_group(match, "ys"), announced)

    def make(y: int) -> Span:
        return months_span(y, 1 if half == 1 else 7, 6, "half")

    return make(year) if year is not None else first_occurrence(make, announced)


def read_months_block(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "1st 3 months 2027" (Q1), "last 6 months this year" (H2)."""
    # "the first three months of 2027" is Q1, "the last six months of the year" is H2; "the last
    # three months" alone needs its year, or it would read as the months just gone.
    count = 3 if "3" in match.group(0).split() else 6
    which = _group(match, "which") or _group(match, "which2")
    first_month = 1 if which == "1st" else 13 - count
    precision = "quarter" if count == 3 else "half"
    year = year_spec(_group(match, "ys"), announced)
    if which == "last" and year is None:
        raise Reject("say which year the last months belong to")

    def make(y: int) -> Span:
        return months_span(y, first_month, count, precision)

    return make(year) if year is not None else first_occurrence(make, announced)


_SEASON_START: Final = {"spring": 3, "summer": 6, "fall": 9, "winter": 12}


def read_season(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "summer", "next fall", "early winter 2025": a meteorological season."""
    first_month, part = _SEASON_START[match["season"]], _group(match, "part")
    rel, year = _group(match, "rel"), year_spec(_group(match, "ys"), announced)
    if rel is not None and year is not None:
        raise Reject("give either a year or this/next, not both")

    def make(y: int) -> Span:
        # Meteorological seasons; winter YEAR is December YEAR to February YEAR+1.
        return part_of_months(y, first_month, part, "season")

    if year is not None:
        return make(year)
    return first_occurrence(make, announced, starts_after=rel == "next")


_YEAR_PARTS: Final = {"early": (1, 4), "mid": (5, 8), "end": (9, 12)}


def read_year_part(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "early 2026", "mid year", "end next year", "year end": a third of a year."""
    year = year_spec(_group(match, "ys") or "year", announced)
    assert year is not None
    first, last = _YEAR_PARTS[match["part"]]
    return Span(dt.date(year, first, 1), last_day(year, last), "year")


def read_by_year(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "by 2025", "before 2025": up to the end of the year before."""
    # "by 2025" means before 2025 begins.
    year = checked_year(int(match["year"]) - 1)
    end = dt.date(year, 12, 31)
    start = announced if announced <= end else dt.date(year, 1, 1)
    return Span(start, end, "year")


def read_whole_year(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "2025", "this year", "next year": the calendar year."""
    year = year_spec(match["ys"], announced)
    assert year is not None
    return Span(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")


def _after(announced: dt.date, count: int, unit: str) -> Span:
    """The announcement date plus ``count`` units."""
    if unit == "day":
        end = announced + dt.timedelta(days=count)
    elif unit == "week":
        end = announced + dt.timedelta(weeks=count)
    elif unit == "fortnight":
        end = announced + dt.timedelta(weeks=2 * count)
    else:
        end = add_months(announced, count * {"month": 1, "quarter": 3, "year": 12}[unit])
    return Span(announced, end, "duration")


def read_duration(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "6 weeks", "6-8 weeks", "next 3 months", "2 more weeks": from the announcement."""
    count, low = int(match["n"]), _group(match, "lo")
    if low is not None and int(low) > count:
        raise Reject(f"{low} is more than {count}")
    return _after(announced, count, match["unit"])


_VAGUE: Final = {"couple": 2, "few": 3, "several": 3}


def read_vague_count(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "few weeks", "couple months", "several days": 3, 2 and 3 units."""
    return _after(announced, _VAGUE[match["vague"]], match["unit"])


def read_coming_plural(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "coming weeks", "weeks", "months ahead": six units."""
    return _after(announced, 6, match["unit"])  # "the coming weeks": six of them


def read_coming_single(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "coming year", "month ahead": one unit."""
    return _after(announced, 1, match["unit"])  # "the coming year": twelve months


def _holiday_date(name: str, year: int) -> dt.date:
    """The holiday's date in a year (Thanksgiving: the US one, fourth Thursday of November)."""
    if name == "thanksgiving":
        first_thursday = 1 + (3 - dt.date(year, 11, 1).weekday()) % 7
        return dt.date(year, 11, first_thursday + 21)
    month, day = {
        "christmas": (12, 25),
        "christmaseve": (12, 24),
        "newyear": (1, 1),
        "newyearseve": (12, 31),
        "halloween": (10, 31),
    }[name]
    return dt.date(year, month, day)


def read_holiday(match: re.Match[str], announced: dt.date) -> Span:
    """Canonical "christmas", "before newyear 2026": from the announcement to the holiday."""
    # "before Christmas" is Christmas Eve; "by Christmas" is Christmas Day.
    shift = dt.timedelta(days=1 if _group(match, "before") else 0)
    name = match["h"]

    def make(y: int) -> Span:
        day = _holiday_date(name, y) - shift
        return Span(day, day, "day")

    explicit = _group(match, "year")
    if explicit is not None:
        span = make(checked_year(int(explicit)))
    else:
        span = first_occurrence(make, announced)
    # The window runs from the announcement to the holiday, like any deadline.
    return Span(min(announced, span.end), span.end, "day")
