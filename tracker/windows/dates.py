"""Calendar arithmetic for the rule handlers: whole and partial months, quarters and years,
the first occurrence of a yearly period, and the supported years."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from typing import Final

from tracker.windows.model import Reject, Span
from tracker.windows.vocabulary import MONTHS

YEAR_MIN: Final = 1970
YEAR_MAX: Final = 2200


def checked_year(value: int) -> int:
    """A year, refused outside the supported range."""
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise Reject(f"the year {value} is outside {YEAR_MIN}-{YEAR_MAX}")
    return value


_MONTH_DAYS: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in(year: int, month: int) -> int:
    """How many days a month (1-12) has; calendar.monthrange without the weekday."""
    return 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]


def last_day(year: int, month: int) -> dt.date:
    """The last day of a month."""
    return dt.date(year, month, days_in(year, month))


def month_span(year: int, month: int, precision: str = "month") -> Span:
    """The whole of one month."""
    return Span(dt.date(year, month, 1), last_day(year, month), precision)


def months_span(year: int, first_month: int, count: int, precision: str) -> Span:
    """``count`` whole months from ``first_month`` of ``year`` (may run into the next year)."""
    start = dt.date(year, first_month, 1)
    end = add_months(start, count) - dt.timedelta(days=1)
    return Span(start, end, precision)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping to the month's end (Aug 31 + 6 months = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, days_in(year, month)))


def real_date(year: int, month: int, day: int) -> dt.date:
    """A real calendar date, or a rejection that says why not."""
    if not 1 <= month <= 12:
        raise Reject(f"there is no month {month}")
    if not 1 <= day <= days_in(year, month):
        raise Reject(f"{calendar.month_name[month]} {year} has no day {day}")
    return dt.date(year, month, day)


def first_occurrence(
    make: Callable[[int], Span], announced: dt.date, *, starts_after: bool = False
) -> Span:
    """The first yearly occurrence ending on or after the announcement.

    With ``starts_after`` it is instead the first one starting after the announcement
    ("next summer"). The search starts a year early because a winter that began last
    December may still be running.
    """
    for year in range(announced.year - 1, announced.year + 3):
        if not YEAR_MIN <= year <= YEAR_MAX:
            continue
        span = make(year)
        if (span.start > announced) if starts_after else (span.end >= announced):
            return span
    raise Reject("that date is outside the supported years")


def year_spec(spec: str | None, announced: dt.date) -> int | None:
    """'2025' / 'this year' / 'year' (as in "the end of the year") / 'next year' -> a year."""
    if spec is None:
        return None
    if spec.isdigit():
        return checked_year(int(spec))
    if spec == "next year":
        return checked_year(announced.year + 1)
    return checked_year(announced.year)


def month_number(name: str) -> int:
    """'mar' -> 3."""
    return MONTHS.index(name) + 1


def day_number(text: str) -> int:
    """'18th' -> 18."""
    return int(re.sub(r"[a-z]+", "", text))


def third_of_month(year: int, month: int, part: str | None) -> Span:
    """A month, or its early (1-10), mid (11-20) or late/end (21-last) third."""
    last = last_day(year, month)
    if part == "early":
        return Span(dt.date(year, month, 1), dt.date(year, month, 10), "month")
    if part == "mid":
        return Span(dt.date(year, month, 11), dt.date(year, month, 20), "month")
    if part == "end":
        return Span(dt.date(year, month, 21), last, "month")
    return Span(dt.date(year, month, 1), last, "month")


def part_of_months(year: int, first_month: int, part: str | None, precision: str) -> Span:
    """A three-month period (quarter, season), or its early / mid / end month."""
    if part is None:
        return months_span(year, first_month, 3, precision)
    first = add_months(dt.date(year, first_month, 1), {"early": 0, "mid": 1, "end": 2}[part])
    return month_span(first.year, first.month)
