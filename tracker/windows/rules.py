"""The rules: which canonical texts read as a window, and in which order they are tried.

``RULE_SOURCES`` is an ordered list of ``(name, regex, handler)``; the first regex that matches
the whole canonical text wins and its handler (``tracker.windows.handlers``) turns the match
into dates. ``read_canonical`` is what both doors call.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from tracker.windows.dates import checked_year
from tracker.windows.handlers import (
    Handler,
    read_by_year,
    read_coming_plural,
    read_coming_single,
    read_day_month,
    read_day_month_year,
    read_duration,
    read_half,
    read_holiday,
    read_iso_date,
    read_month_part,
    read_months_block,
    read_numeric_date,
    read_numeric_month,
    read_quarter,
    read_relative_month,
    read_relative_quarter,
    read_season,
    read_vague_count,
    read_week,
    read_whole_year,
    read_year_part,
)
from tracker.windows.model import Reject, Span
from tracker.windows.vocabulary import MONTHS

# Handlers of the rules that hold another period ("before X", "X .. Y"): they read it with the
# same rules.


def _shortly_after(match: re.Match[str], announced: dt.date) -> Span:
    _, inner = _match(match["inner"], announced)
    return Span(inner.end + dt.timedelta(days=1), inner.end + dt.timedelta(days=7), "week")


def _before(match: re.Match[str], announced: dt.date) -> Span:
    _, inner = _match(match["inner"], announced)
    if inner.start <= announced:
        raise Reject("that period has already started")
    return Span(announced, inner.start - dt.timedelta(days=1), inner.precision)


def _range(match: re.Match[str], announced: dt.date) -> Span:
    left, right = match["a"], match["b"]
    if ".." in right.split() or ".." in left.split():
        raise Reject("a range has exactly two ends")
    _, first = _match(left, announced)
    _, last = _match(right, announced)
    if last.end < first.start:
        raise Reject("the range ends before it starts")
    return Span(first.start, last.end, last.precision)


# Regex fragments shared by the rules; every rule matches whole canonical texts.
_Y4: Final = r"[0-9]{4}"
_YS: Final = rf"(?P<ys>{_Y4}|this year|next year|year)"  # optional year: "2025", "next year"
_MON: Final = r"(?P<mon>" + "|".join(MONTHS) + ")"
_DAY: Final = r"(?P<day>[0-9]{1,2}(?:st|nd|rd|th)?)"
_PART: Final = r"(?P<part>early|mid|end)"
_N: Final = r"[0-9]{1,3}"
_UNIT: Final = r"(?P<unit>day|week|month|year|quarter|fortnight)s?"
_QT: Final = (
    r"(?P<qt>q[1-4]|[1-4]q|(?:1st|2nd|3rd|4th) quarter"
    r"|quarter (?:[1-4]|iv|iii|ii|i|1st|2nd|3rd|4th))"
)
_HT: Final = r"(?P<ht>h[12]|[12]h|(?:1st|2nd) half|half (?:[12]|ii|i|1st|2nd))"
_SEASON: Final = r"(?P<season>spring|summer|fall|winter)"
_HOLIDAYS: Final = r"(?P<h>christmaseve|christmas|newyearseve|newyear|halloween|thanksgiving)"

# Order matters: the first full match wins, so specific shapes come before general ones.
RULE_SOURCES: Final[tuple[tuple[str, str, Handler], ...]] = (
    ("explicit_date", rf"(?P<y>{_Y4})(?P<sep>[-./])(?P<m>[0-9]{{1,2}})(?P=sep)(?P<d>[0-9]{{1,2}})",
     read_iso_date),
    ("explicit_date", rf"(?P<a>[0-9]{{1,2}})(?P<sep>[-./])(?P<b>[0-9]{{1,2}})(?P=sep)(?P<y>{_Y4})",
     read_numeric_date),
    ("month_year", rf"(?P<y>{_Y4})[-./](?P<m>[0-9]{{1,2}})", read_numeric_month),
    ("month_year", rf"(?P<m>[0-9]{{1,2}})[-./](?P<y>{_Y4})", read_numeric_month),
    ("explicit_date", rf"{_DAY} {_MON} {_YS}", read_day_month_year),
    ("explicit_date", rf"{_MON} {_DAY} {_YS}", read_day_month_year),
    ("month_day", rf"{_DAY} {_MON}", read_day_month),
    ("month_day", rf"{_MON} {_DAY}", read_day_month),
    ("month_part", rf"{_PART} {_MON}(?: {_YS})?", read_month_part),
    ("month_year", rf"{_MON} {_YS}", read_month_part),
    ("month", rf"(?:this )?{_MON}", read_month_part),
    ("relative_month", rf"(?:{_PART} )?(?P<rel>this|next) month", read_relative_month),
    ("relative_month", rf"{_PART} month", read_relative_month),
    ("relative_month", r"month (?P<part>end)", read_relative_month),
    ("week", r"(?:end )?(?P<rel>this|next) week", read_week),
    ("week", r"(?:(?P<rel>this|next) )?weekend|end week|week end", read_week),
    ("quarter", rf"(?:{_PART} )?{_QT}(?: {_YS})?", read_quarter),
    ("quarter", rf"(?P<ys>{_Y4}) {_QT}", read_quarter),
    ("quarter", rf"(?:{_PART} )?(?P<rel>this|next) quarter", read_relative_quarter),
    ("quarter", rf"{_PART} quarter", read_relative_quarter),
    ("quarter", r"quarter (?P<part>end)", read_relative_quarter),
    ("quarter", rf"(?:(?P<which>1st|last) 3 months?|3 months? (?P<which2>1st|last))(?: {_YS})?",
     read_months_block),
    ("half", rf"(?:end )?{_HT}(?: {_YS})?", read_half),
    ("half", rf"(?:(?P<which>1st|last) 6 months?|6 months? (?P<which2>1st|last))(?: {_YS})?",
     read_months_block),
    ("half", rf"(?P<ys>{_Y4}) {_HT}", read_half),
    ("season", rf"(?:{_PART} )?(?:(?P<rel>this|next|coming) )?{_SEASON}(?: {_YS})?", read_season),
    ("year_part", rf"{_PART} {_YS}", read_year_part),
    ("year_part", rf"year (?P<part>end)(?: (?P<ys>{_Y4}|this year|next year))?", read_year_part),
    ("by_year", rf"(?:by|before) (?P<year>{_Y4})", read_by_year),
    ("year", rf"(?P<ys>{_Y4}|this year|next year)", read_whole_year),
    ("duration", rf"(?:next |coming )?(?:(?P<lo>{_N})(?:-| \.\. | or ))?(?P<n>{_N}) (?:more )?"
     rf"{_UNIT}(?: ahead)?", read_duration),
    ("vague_count", rf"(?:next |coming )?(?P<vague>couple|few|several) (?:more )?"
     rf"{_UNIT}(?: ahead)?",
     read_vague_count),
    ("vague_count", r"coming (?P<unit>day|week|month)s", read_coming_plural),
    ("vague_count", r"(?P<unit>week|month)s", read_coming_plural),
    ("vague_count", r"(?P<unit>day|week|month)s ahead", read_coming_plural),
    ("vague_count", r"coming (?P<unit>week|month|year)", read_coming_single),
    ("vague_count", r"(?P<unit>week|month|year) ahead", read_coming_single),
    ("holiday", rf"(?P<before>before )?{_HOLIDAYS}(?: (?P<year>{_Y4}))?", read_holiday),
    ("shortly_after", r"(?:shortly|just|soon|right|immediately) after (?P<inner>.+)",
     _shortly_after),
    ("before", r"before (?P<inner>.+)", _before),
    ("range", r"(?P<a>.+) \.\. (?P<b>.+)", _range),
)  # fmt: skip

RULES: Final = tuple((name, re.compile(src), handler) for name, src, handler in RULE_SOURCES)
# All rules at once, each one capturing group (its own groups made non-capturing and its
# back-references loosened to any separator): one match refuses most texts outright and names
# the first rule that can match, since a regex tries alternatives in order.
_ANY_RULE: Final = re.compile(
    "|".join(
        "(" + re.sub(r"\(\?P=\w+\)", "[-./]", re.sub(r"\(\?P<\w+>", "(?:", src)) + ")"
        for _, src, _ in RULE_SOURCES
    )
)
assert _ANY_RULE.groups == len(RULES), "a rule holds an unnamed capturing group"


def _match(text: str, announced: dt.date) -> tuple[str, Span]:
    """Apply the first rule whose pattern matches all of the canonical ``text``."""
    kept, excluding, excluded = text.partition(" butnot ")
    if excluding:
        # "X but not Y" is X; Y must still be a period, so "Q3 but not soon" is refused.
        _match(excluded, announced)
        return _match(kept, announced)
    loose = _ANY_RULE.fullmatch(text)
    if loose is None or loose.lastindex is None:
        raise Reject(None)
    # No rule before the loose one matches; a back-reference may still refuse it and let a
    # later rule match ("2025-03/31").
    for name, pattern, handler in RULES[loose.lastindex - 1 :]:
        found = pattern.fullmatch(text)
        if found:
            return name, handler(found, announced)
    raise Reject(None)


def read_canonical(text: str, announced: dt.date) -> tuple[str, Span]:
    """The rule and dates for canonical ``text``; both doors (phrase and paragraph) use this."""
    if not text:
        raise Reject(None)
    rule, span = _match(text, announced)
    for day in (span.start, span.end):
        checked_year(day.year)
    return rule, span
