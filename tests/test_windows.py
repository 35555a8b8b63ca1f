"""Tests for tracker.windows: announced launch windows in English and Indonesian."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.windows import (
    EXAMPLES,
    EXAMPLES_EN,
    EXAMPLES_ID,
    Window,
    WindowError,
    parse_window,
)

D = dt.date

# Announcement dates on the edges: last day of a month, Dec 31, a Sunday, Feb 29 2024.
SUN = D(2024, 6, 16)  # a Sunday
LEAP = D(2024, 2, 29)
NYE = D(2024, 12, 31)
MID = D(2024, 6, 20)  # a Thursday inside Q2, inside the (meteorological) summer

# (phrase, announced, expected end, expected rule)
CASES: list[tuple[str, dt.date, dt.date, str]] = [
    # explicit dates
    ("2025-03-31", MID, D(2025, 3, 31), "explicit_date"),
    ("March 31, 2025", MID, D(2025, 3, 31), "explicit_date"),
    ("31 March 2025", NYE, D(2025, 3, 31), "explicit_date"),
    ("31 Maret 2025", NYE, D(2025, 3, 31), "explicit_date"),
    ("2024/02/29", D(2024, 1, 31), D(2024, 2, 29), "explicit_date"),
    ("31/12/2025", MID, D(2025, 12, 31), "explicit_date"),
    ("12/31/2025", MID, D(2025, 12, 31), "explicit_date"),
    ("tanggal 17 Agustus 2025", MID, D(2025, 8, 17), "explicit_date"),
    ("the 1st of March 2025", MID, D(2025, 3, 1), "explicit_date"),
    ("Sept. 3rd, 2025", MID, D(2025, 9, 3), "explicit_date"),
    # month (with and without a year)
    ("March 2025", MID, D(2025, 3, 31), "month_year"),
    ("in March", D(2024, 3, 31), D(2024, 3, 31), "month"),
    ("in March", D(2024, 4, 1), D(2025, 3, 31), "month"),
    ("Maret 2025", NYE, D(2025, 3, 31), "month_year"),
    ("Februari 2024", LEAP, D(2024, 2, 29), "month_year"),
    ("Feb", D(2023, 12, 31), D(2024, 2, 29), "month"),
    ("bulan Desember", NYE, D(2024, 12, 31), "month"),
    ("2025-06", MID, D(2025, 6, 30), "month_year"),
    ("Des 2025", MID, D(2025, 12, 31), "month_year"),
    ("Agt 2025", MID, D(2025, 8, 31), "month_year"),
    ("Okt 2025", MID, D(2025, 10, 31), "month_year"),
    ("maret tahun depan", NYE, D(2025, 3, 31), "month_year"),
    # month and day without a year: next occurrence on or after the announcement
    ("June 18", D(2024, 6, 18), D(2024, 6, 18), "month_day"),
    ("June 18", D(2024, 6, 19), D(2025, 6, 18), "month_day"),
    ("18 Juni", NYE, D(2025, 6, 18), "month_day"),
    ("Feb 29", LEAP, D(2024, 2, 29), "month_day"),
    ("Feb 29", D(2024, 3, 1), D(2028, 2, 29), "month_day"),
    # early / mid / late / end of a month
    ("early March", LEAP, D(2024, 3, 10), "month_part"),
    ("mid-March", D(2024, 3, 31), D(2025, 3, 20), "month_part"),
    ("late February", LEAP, D(2024, 2, 29), "month_part"),
    ("end of March 2025", MID, D(2025, 3, 31), "month_part"),
    ("toward the end of March", D(2024, 3, 31), D(2024, 3, 31), "month_part"),
    ("awal Maret", D(2024, 3, 10), D(2024, 3, 10), "month_part"),
    ("pertengahan Juni", D(2024, 6, 21), D(2025, 6, 20), "month_part"),
    ("akhir Februari 2025", NYE, D(2025, 2, 28), "month_part"),
    # weeks: the Sunday that closes the ISO week
    ("this week", SUN, SUN, "week"),
    ("next week", SUN, D(2024, 6, 23), "week"),
    ("this week", NYE, D(2025, 1, 5), "week"),
    ("next week", LEAP, D(2024, 3, 10), "week"),
    ("minggu ini", D(2024, 6, 12), SUN, "week"),
    ("minggu depan", SUN, D(2024, 6, 23), "week"),
    ("pekan depan", D(2024, 6, 17), D(2024, 6, 30), "week"),
    ("end of this week", D(2024, 6, 17), D(2024, 6, 23), "week"),
    # this / next month
    ("this month", D(2024, 2, 1), LEAP, "relative_month"),
    ("later this month", LEAP, LEAP, "relative_month"),
    ("end of the month", NYE, NYE, "relative_month"),
    ("next month", NYE, D(2025, 1, 31), "relative_month"),
    ("next month", D(2024, 1, 31), LEAP, "relative_month"),
    ("bulan ini", D(2024, 2, 10), LEAP, "relative_month"),
    ("akhir bulan ini", D(2024, 4, 30), D(2024, 4, 30), "relative_month"),
    ("bulan depan", NYE, D(2025, 1, 31), "relative_month"),
    ("early next month", D(2024, 1, 31), D(2024, 2, 10), "relative_month"),
    ("mungkin bulan depan", D(2024, 1, 31), LEAP, "relative_month"),
    # quarters
    ("Q1 2025", MID, D(2025, 3, 31), "quarter"),
    ("first quarter of next year", NYE, D(2025, 3, 31), "quarter"),
    ("end of Q3", D(2024, 9, 30), D(2024, 9, 30), "quarter"),
    ("end of Q3", D(2024, 10, 1), D(2025, 9, 30), "quarter"),
    ("Q3", D(2024, 8, 15), D(2024, 9, 30), "quarter"),
    ("kuartal pertama 2025", NYE, D(2025, 3, 31), "quarter"),
    ("kuartal ketiga tahun depan", LEAP, D(2025, 9, 30), "quarter"),
    ("kuartal III 2025", MID, D(2025, 9, 30), "quarter"),
    ("kuartal ke-3 2025", MID, D(2025, 9, 30), "quarter"),
    ("the 4th quarter", NYE, NYE, "quarter"),
    ("3Q 2025", MID, D(2025, 9, 30), "quarter"),
    ("2025 Q3", MID, D(2025, 9, 30), "quarter"),
    ("this quarter", D(2024, 11, 15), NYE, "quarter"),
    ("next quarter", NYE, D(2025, 3, 31), "quarter"),
    ("Q2 tahun ini", LEAP, D(2024, 6, 30), "quarter"),
    ("EXPECTED BY END OF Q1 2025", MID, D(2025, 3, 31), "quarter"),
    # halves
    ("H1 2025", D(2024, 6, 30), D(2025, 6, 30), "half"),
    ("H2 2025", MID, D(2025, 12, 31), "half"),
    ("second half", NYE, NYE, "half"),
    ("first half", D(2024, 7, 1), D(2025, 6, 30), "half"),
    ("first half", D(2024, 6, 30), D(2024, 6, 30), "half"),
    ("semester pertama", D(2024, 7, 1), D(2025, 6, 30), "half"),
    ("semester kedua", LEAP, NYE, "half"),
    ("semester II 2025", MID, D(2025, 12, 31), "half"),
    ("paruh kedua tahun depan", MID, D(2025, 12, 31), "half"),
    ("the second half of next year", NYE, D(2025, 12, 31), "half"),
    # seasons (meteorological, northern hemisphere)
    ("spring 2025", MID, D(2025, 5, 31), "season"),
    ("this summer", D(2024, 7, 15), D(2024, 8, 31), "season"),
    ("this summer", D(2024, 9, 1), D(2025, 8, 31), "season"),
    ("this summer", D(2024, 8, 31), D(2024, 8, 31), "season"),
    ("winter 2025", MID, D(2026, 2, 28), "season"),
    ("winter 2027", MID, D(2028, 2, 29), "season"),
    ("this winter", D(2025, 1, 15), D(2025, 2, 28), "season"),
    ("this winter", D(2024, 3, 1), D(2025, 2, 28), "season"),
    ("next summer", D(2024, 7, 15), D(2025, 8, 31), "season"),
    ("next summer", D(2024, 3, 1), D(2024, 8, 31), "season"),
    ("musim panas", D(2024, 3, 1), D(2024, 8, 31), "season"),
    ("musim gugur 2025", MID, D(2025, 11, 30), "season"),
    ("musim dingin ini", NYE, D(2025, 2, 28), "season"),
    ("autumn", D(2024, 11, 30), D(2024, 11, 30), "season"),
    ("late summer 2025", MID, D(2025, 8, 31), "season"),
    # early / mid / late YEAR
    ("early 2025", MID, D(2025, 4, 30), "year_part"),
    ("mid-2025", MID, D(2025, 8, 31), "year_part"),
    ("late 2025", MID, D(2025, 12, 31), "year_part"),
    ("awal 2025", MID, D(2025, 4, 30), "year_part"),
    ("pertengahan 2025", MID, D(2025, 8, 31), "year_part"),
    ("akhir 2025", MID, D(2025, 12, 31), "year_part"),
    ("end of year", D(2024, 7, 1), NYE, "year_part"),
    ("end of the year", NYE, NYE, "year_part"),
    ("before the end of this year", LEAP, NYE, "year_part"),
    ("by the end of the year", MID, NYE, "year_part"),
    ("year-end", MID, NYE, "year_part"),
    ("early next year", NYE, D(2025, 4, 30), "year_part"),
    ("akhir tahun", NYE, NYE, "year_part"),
    ("kira-kira akhir tahun", LEAP, NYE, "year_part"),
    ("awal tahun depan", LEAP, D(2025, 4, 30), "year_part"),
    ("akhir tahun depan", NYE, D(2025, 12, 31), "year_part"),
    ("pertengahan tahun ini", LEAP, D(2024, 8, 31), "year_part"),
    ("diperkirakan pada pertengahan 2025", MID, D(2025, 8, 31), "year_part"),
    # whole years
    ("2025", NYE, D(2025, 12, 31), "year"),
    ("in 2025", MID, D(2025, 12, 31), "year"),
    ("this year", MID, NYE, "year"),
    ("later this year", MID, NYE, "year"),
    ("next year", NYE, D(2025, 12, 31), "year"),
    ("tahun ini", NYE, NYE, "year"),
    ("tahun depan", NYE, D(2025, 12, 31), "year"),
    ("tahun 2026", MID, D(2026, 12, 31), "year"),
    ("sometime in 2025, hopefully", MID, D(2025, 12, 31), "year"),
    # by YEAR
    ("by 2025", MID, NYE, "by_year"),
    ("by 2025", D(2025, 3, 1), NYE, "by_year"),
    ("before 2025", MID, NYE, "by_year"),
    ("sebelum 2026", LEAP, D(2025, 12, 31), "by_year"),
    # durations
    ("in 6 months", D(2024, 8, 31), D(2025, 2, 28), "duration"),
    ("in six months", D(2023, 8, 31), LEAP, "duration"),
    ("within 6 weeks", NYE, D(2025, 2, 11), "duration"),
    ("in 10 days", LEAP, D(2024, 3, 10), "duration"),
    ("in 2 years", LEAP, D(2026, 2, 28), "duration"),
    ("in a year", LEAP, D(2025, 2, 28), "duration"),
    ("dalam enam bulan", D(2024, 8, 31), D(2025, 2, 28), "duration"),
    ("dalam 3 minggu", NYE, D(2025, 1, 21), "duration"),
    ("dua minggu lagi", SUN, D(2024, 6, 30), "duration"),
    ("sebulan lagi", D(2024, 1, 31), LEAP, "duration"),
    ("dalam dua belas bulan", LEAP, D(2025, 2, 28), "duration"),
    ("6-8 weeks", D(2024, 1, 1), D(2024, 2, 26), "duration"),
    ("two to three weeks", D(2024, 1, 1), D(2024, 1, 22), "duration"),
    ("within the next year", LEAP, D(2025, 2, 28), "duration"),
    ("over the next 3 months", D(2024, 11, 30), D(2025, 2, 28), "duration"),
    ("setahun ke depan", LEAP, D(2025, 2, 28), "duration"),
    ("in 2 quarters", D(2024, 8, 31), D(2025, 2, 28), "duration"),
    # vague counts
    ("a couple of weeks", NYE, D(2025, 1, 14), "vague_count"),
    ("a few months", D(2024, 11, 30), D(2025, 2, 28), "vague_count"),
    ("the next few weeks", LEAP, D(2024, 3, 21), "vague_count"),
    ("beberapa minggu ke depan", LEAP, D(2024, 3, 21), "vague_count"),
    ("dalam beberapa bulan", D(2024, 8, 31), D(2024, 11, 30), "vague_count"),
    ("the coming weeks", D(2024, 1, 1), D(2024, 2, 12), "vague_count"),
    ("in the coming months", D(2024, 8, 31), D(2025, 2, 28), "vague_count"),
    ("the coming year", LEAP, D(2025, 2, 28), "vague_count"),
    ("bulan-bulan ke depan", D(2024, 8, 31), D(2025, 2, 28), "vague_count"),
    ("minggu-minggu mendatang", D(2024, 1, 1), D(2024, 2, 12), "vague_count"),
    ("several weeks", D(2024, 1, 1), D(2024, 1, 22), "vague_count"),
    # holidays
    ("before Christmas", MID, D(2024, 12, 24), "holiday"),
    ("by Christmas", MID, D(2024, 12, 25), "holiday"),
    ("by Christmas", D(2024, 12, 25), D(2024, 12, 25), "holiday"),
    ("Christmas", D(2024, 12, 26), D(2025, 12, 25), "holiday"),
    ("sebelum Natal", D(2024, 12, 24), D(2024, 12, 24), "holiday"),
    ("sebelum Natal", D(2024, 12, 25), D(2025, 12, 24), "holiday"),
    ("Natal 2025", MID, D(2025, 12, 25), "holiday"),
    ("before New Year's", MID, NYE, "holiday"),
    ("thanksgiving", D(2024, 1, 1), D(2024, 11, 28), "holiday"),
    # just / shortly after
    ("just after Christmas", MID, D(2025, 1, 1), "shortly_after"),
    ("shortly after March 31, 2025", MID, D(2025, 4, 7), "shortly_after"),
    ("tak lama setelah Natal", NYE, D(2026, 1, 1), "shortly_after"),
    ("soon after Q3 2025", MID, D(2025, 10, 7), "shortly_after"),
    # ranges
    ("2025-01-01..2025-03-31", MID, D(2025, 3, 31), "range"),
    ("March to May 2025", MID, D(2025, 5, 31), "range"),
    ("Q1 2025 - Q2 2025", MID, D(2025, 6, 30), "range"),
    ("Januari sampai Maret 2025", MID, D(2025, 3, 31), "range"),
    # before a period
    ("before summer", LEAP, D(2024, 5, 31), "before"),
    ("before next week", SUN, SUN, "before"),
    # hedges, case and punctuation
    ("Tentatively, Q3 2025!", MID, D(2025, 9, 30), "quarter"),
    ("sekitar kuartal ketiga 2025", MID, D(2025, 9, 30), "quarter"),
    ("probably around mid 2025", MID, D(2025, 8, 31), "year_part"),
    ("Q3 2025...", MID, D(2025, 9, 30), "quarter"),
    # what real announcements say (issue 10): bare weeks / months are the coming six
    ("in weeks", MID, D(2024, 8, 1), "vague_count"),
    ("months", MID, D(2024, 12, 20), "vague_count"),
    ("weeks away", MID, D(2024, 8, 1), "vague_count"),
    ("dalam hitungan minggu", MID, D(2024, 8, 1), "vague_count"),
    # N more units after the announcement
    ("one more month", D(2024, 1, 31), LEAP, "duration"),
    ("another month", NYE, D(2025, 1, 31), "duration"),
    ("3 more weeks", NYE, D(2025, 1, 21), "duration"),
    ("two more weeks", NYE, D(2025, 1, 14), "duration"),
    ("a few more weeks", LEAP, D(2024, 3, 21), "vague_count"),
    ("beberapa minggu lagi", LEAP, D(2024, 3, 21), "vague_count"),
    # the first / last three or six months
    ("the first three months of 2027", MID, D(2027, 3, 31), "quarter"),
    ("the first six months", D(2024, 7, 1), D(2025, 6, 30), "half"),
    ("the first six months of next year", NYE, D(2025, 6, 30), "half"),
    ("the last three months of the year", MID, NYE, "quarter"),
    ("the last six months of 2025", MID, D(2025, 12, 31), "half"),
    ("tiga bulan pertama 2027", MID, D(2027, 3, 31), "quarter"),
    ("enam bulan pertama tahun depan", NYE, D(2025, 6, 30), "half"),
    ("tiga bulan terakhir tahun ini", MID, NYE, "quarter"),
    # X or later = X; X but not Y = X
    ("Q3 or later", MID, D(2024, 9, 30), "quarter"),
    ("sometime next year or later", MID, D(2025, 12, 31), "year"),
    ("kuartal ketiga atau setelahnya", MID, D(2024, 9, 30), "quarter"),
    ("in the autumn but not September", MID, D(2024, 11, 30), "season"),
    ("early 2025 except January", MID, D(2025, 4, 30), "year_part"),
    ("musim gugur tapi tidak September", MID, D(2024, 11, 30), "season"),
    # starting / beginning / from X = X ("the beginning of X" stays early X)
    ("starting March 2025", MID, D(2025, 3, 31), "month_year"),
    ("beginning Q2 2025", MID, D(2025, 6, 30), "quarter"),
    ("from Q3", MID, D(2024, 9, 30), "quarter"),
    ("starting from next month", NYE, D(2025, 1, 31), "relative_month"),
    ("mulai Maret 2025", MID, D(2025, 3, 31), "month_year"),
    ("the beginning of March 2025", MID, D(2025, 3, 10), "month_part"),
    # hedges
    ("approximately Q3 2025", MID, D(2025, 9, 30), "quarter"),
    ("likely in H2 2025", MID, D(2025, 12, 31), "half"),
    ("most likely early next year", MID, D(2025, 4, 30), "year_part"),
    ("if all goes well, by the end of the year", MID, NYE, "year_part"),
    ("semoga akhir tahun ini", MID, NYE, "year_part"),
    ("kemungkinan besar awal tahun depan", MID, D(2025, 4, 30), "year_part"),
    ("jika semua berjalan lancar, Q1 2025", MID, D(2025, 3, 31), "quarter"),
    ("paling lambat akhir tahun", MID, NYE, "year_part"),
]


@pytest.mark.parametrize(("phrase", "announced", "end", "rule"), CASES)
def test_window_end_and_rule(phrase: str, announced: dt.date, end: dt.date, rule: str) -> None:
    window = parse_window(phrase, announced)
    assert (window.end, window.rule) == (end, rule)
    assert window.start <= window.end
    assert window.phrase == phrase


def test_case_table_is_large_and_unique() -> None:
    assert len(CASES) >= 100
    keys = [(phrase, announced) for phrase, announced, _, _ in CASES]
    assert len(keys) == len(set(keys))


# (phrase, announced, expected start, expected precision)
STARTS: list[tuple[str, dt.date, dt.date, str]] = [
    ("2025-03-31", MID, D(2025, 3, 31), "day"),
    ("March 2025", MID, D(2025, 3, 1), "month"),
    ("Q3 2025", MID, D(2025, 7, 1), "quarter"),
    ("H2 2025", MID, D(2025, 7, 1), "half"),
    ("winter 2025", MID, D(2025, 12, 1), "season"),
    ("2025", MID, D(2025, 1, 1), "year"),
    ("next week", SUN, D(2024, 6, 17), "week"),
    ("in 6 months", D(2024, 8, 31), D(2024, 8, 31), "duration"),
    ("a few weeks", LEAP, LEAP, "duration"),
    ("by 2025", MID, MID, "year"),
    ("by 2025", D(2025, 3, 1), D(2024, 1, 1), "year"),
    ("early March 2025", MID, D(2025, 3, 1), "month"),
    ("mid March 2025", MID, D(2025, 3, 11), "month"),
    ("late March 2025", MID, D(2025, 3, 21), "month"),
    ("2025-01-01..2025-03-31", MID, D(2025, 1, 1), "day"),
]


@pytest.mark.parametrize(("phrase", "announced", "start", "precision"), STARTS)
def test_window_start_and_precision(
    phrase: str, announced: dt.date, start: dt.date, precision: str
) -> None:
    window = parse_window(phrase, announced)
    assert (window.start, window.precision) == (start, precision)


UNREADABLE = [
    "soon",
    "when it's ready",
    "",
    "   ",
    "TBA",
    "segera",
    "Feb 30 2025",
    "30 Februari 2025",
    "2025-13-01",
    "03/04/2025",  # day/month or month/day: refused rather than guessed
    "Q3 '25",
    "Q5 2025",
    "2300",
    "by 1969",
    "the coming years",
    "after Christmas",
    "early next week",
    "before this year",
    "next March",
    "Q3 2025 .. Q1 2025",
    "1..2..3",
    "x" * 201,
    "the last three months",  # which year's? (without one it reads like the months just gone)
    "Q3 but not soon",  # what is excluded must be a period too
    "but not September",
    "weeks ago",
]


@pytest.mark.parametrize("phrase", UNREADABLE)
def test_unreadable_phrases_raise_with_three_examples(phrase: str) -> None:
    with pytest.raises(WindowError) as info:
        parse_window(phrase, MID)
    message = str(info.value)
    shown = [example for example in EXAMPLES if f'"{example}"' in message]
    assert len(shown) == 3
    assert isinstance(info.value, ValueError)


def test_error_message_shape() -> None:
    with pytest.raises(WindowError) as info:
        parse_window("soon", MID)
    assert str(info.value) == (
        'Could not read "soon" as a launch window. '
        'Try one of: "end of next year", "Q3 next year", "in 6 weeks".'
    )


def test_indonesian_phrase_gets_indonesian_examples() -> None:
    with pytest.raises(WindowError) as info:
        parse_window("dalam waktu dekat", MID)
    message = str(info.value)
    assert all(f'"{example}"' in message for example in EXAMPLES_ID)
    assert not any(f'"{example}"' in message for example in EXAMPLES_EN)


def test_window_is_frozen() -> None:
    window = parse_window("Q3 2025", MID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.end = D(2030, 1, 1)  # type: ignore[misc]


def test_announcement_dates_far_outside_supported_years() -> None:
    with pytest.raises(WindowError):
        parse_window("in 6 weeks", D(9999, 12, 31))
    with pytest.raises(WindowError):
        parse_window("this year", D(1, 1, 1))


SANE_DATES = st.dates(min_value=D(1970, 1, 1), max_value=D(2199, 12, 31))


@settings(deadline=None)
@given(phrase=st.text(), announced=st.dates())
def test_any_text_gives_a_window_or_window_error(phrase: str, announced: dt.date) -> None:
    try:
        window = parse_window(phrase, announced)
    except WindowError:
        return
    assert isinstance(window, Window)
    assert window.start <= window.end


# Words the parser knows, so random phrases reach the rules instead of failing at once.
VOCAB = [
    "in",
    "by",
    "before",
    "after",
    "shortly",
    "the",
    "of",
    "early",
    "mid",
    "late",
    "end",
    "this",
    "next",
    "coming",
    "few",
    "couple",
    "a",
    "q1",
    "q3",
    "h2",
    "first",
    "second",
    "quarter",
    "half",
    "year",
    "month",
    "week",
    "weeks",
    "months",
    "days",
    "summer",
    "winter",
    "march",
    "mar",
    "sept",
    "18",
    "31",
    "2024",
    "2025",
    "6",
    "six",
    "..",
    "-",
    "christmas",
    "awal",
    "akhir",
    "tahun",
    "depan",
    "ini",
    "bulan",
    "minggu",
    "kuartal",
    "ketiga",
    "semester",
    "kedua",
    "natal",
    "sebelum",
    "dalam",
    "beberapa",
    "ke",
    "mendatang",
]


@settings(deadline=None)
@given(
    words=st.lists(st.sampled_from(VOCAB), min_size=1, max_size=6),
    announced=st.dates(),
)
def test_vocabulary_soup_gives_a_window_or_window_error(
    words: list[str], announced: dt.date
) -> None:
    try:
        window = parse_window(" ".join(words), announced)
    except WindowError:
        return
    assert window.start <= window.end


@settings(deadline=None)
@given(example=st.sampled_from(EXAMPLES), announced=SANE_DATES)
def test_every_example_parses(example: str, announced: dt.date) -> None:
    window = parse_window(example, announced)
    assert window.start <= window.end
    assert window.end >= announced
