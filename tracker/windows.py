"""Read announced launch windows ("Q3 2025", "akhir tahun depan", "in 6 weeks") as date ranges.

The parser is pure and stdlib-only. It works in two steps:

1. ``_tokens`` normalises a phrase: lower case, punctuation dropped (except the ``-``, ``.``
   and ``/`` inside numeric dates and the ``..`` of ranges), hedges and connectors removed,
   and English and Indonesian words mapped onto one small canonical English vocabulary
   ("akhir" -> "end", "bulan" -> "month", "enam" -> "6", "Maret" -> "mar" ...).
   Indonesian modifiers that follow their noun ("tahun depan", "bulan ini") are moved in
   front of it, so one rule serves both languages.
2. ``_RULES`` is an ordered list of ``(name, regex, handler)``; the first regex that matches
   the whole canonical text wins and its handler turns the match into dates.

Anything no rule reads raises ``WindowError``: the parser never guesses.

One grammar, two doors: ``parse_window`` reads one phrase strictly; ``find_windows`` tries the
phrases inside a sentence or paragraph with the same vocabulary and rules (words cut by
``tracker.window_scan``), so every window it finds is what ``parse_window`` reads from its span.

Product decisions the specification left open, in one place:

* ``by`` only means something before a bare year ("by 2025" ends Dec 31, 2024). Everywhere
  else it is a connector: "by Christmas" is Christmas Day, "by March" the end of March,
  "by the end of Q3" the end of Q3. "before YEAR" / "sebelum YEAR" read like "by YEAR".
* "before X" (not a holiday, year or "before the end of ...") ends the day before X starts;
  it is refused when X has already started on the announcement date.
* "winter YEAR" is December YEAR to February YEAR+1. "next SEASON" is the first one that
  starts after the announcement ("this/coming SEASON" may be the one already under way).
* Thirds: early/mid/late Month are days 1-10 / 11-20 / 21-end; early/mid/late YEAR are
  Jan-Apr / May-Aug / Sep-Dec; early/mid/late of a quarter or season are its 1st/2nd/3rd
  month. "end of X" is read like "late X" (same last day).
* Parts and names without a year ("early March", "Q3", "H2", "summer") take the first
  occurrence whose *last day* is on or after the announcement.
* "several" counts as 3, like "a few" and Indonesian "beberapa" (which means both).
  "the coming days/weeks/months" is 6 units; "the coming week/month/year" is 1 unit;
  "the coming years" is refused as too vague for a deadline.
* "within / over the next year|month|week" is a duration of one unit, while a bare
  "next year" (also "in the next year") is the calendar year.
* Numeric dates: ISO ``2025-03-31`` (also with ``/`` or ``.``). ``31/03/2025`` style dates
  are accepted only when day and month cannot be confused (one part above 12, or equal).
  Two-digit years are refused. Counts may be a range ("6-8 weeks"): the upper bound is used.
* Windows whose dates fall outside years 1970..2200 are refused.

What real announcements say (issue 10), read as stated:

* Bare "weeks" / "months" ("the next model in weeks", "weeks away", Indonesian "dalam hitungan
  minggu") are the coming six, like "the coming weeks". "days" stays refused.
* "one more month", "another month", "N more weeks" ("sebulan lagi", "dua minggu lagi") are N
  units after the announcement.
* "the first three months [of YEAR]" is Q1 and "the first six months" H1 ("tiga bulan pertama
  2027"); "the last three / six months of YEAR" is Q4 / H2 ("tiga bulan terakhir tahun ini").
  "The last three months" without a year is refused: it usually means the months just gone.
* "X or later" is X ("atau setelahnya"). "X but not Y" / "X except Y" is X ("kecuali", "tapi
  tidak"), and Y must read as a period too ("Q3 but not soon" is refused).
* "starting X", "beginning X", "from X" are X ("mulai", "dari"); "the beginning of X" and "the
  start of X" are still early X.
* Hedges are ignored, "if all goes well" and "most likely" among them, and Indonesian "semoga",
  "kemungkinan (besar)", "jika semua berjalan lancar", "paling lambat".
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple

from tracker.window_scan import HARD, NONE, SOFT, clause, raw_tokens, scan

__all__ = [
    "EXAMPLES",
    "EXAMPLES_EN",
    "EXAMPLES_ID",
    "MAX_TEXT_LENGTH",
    "Found",
    "Window",
    "WindowError",
    "find_windows",
    "parse_window",
]

# Example phrases shown in error messages. They avoid fixed years so they never go stale.
EXAMPLES_EN: Final[tuple[str, str, str]] = ("end of next year", "Q3 next year", "in 6 weeks")
EXAMPLES_ID: Final[tuple[str, str, str]] = (
    "akhir tahun depan",
    "kuartal ketiga tahun depan",
    "dalam 6 minggu",
)
# Every example phrase used in messages: each message shows the three in the phrase's language.
EXAMPLES: Final[tuple[str, ...]] = EXAMPLES_EN + EXAMPLES_ID

MAX_PHRASE_LENGTH: Final = 200
MAX_TEXT_LENGTH: Final = 5000
YEAR_MIN: Final = 1970
YEAR_MAX: Final = 2200


class WindowError(ValueError):
    """A phrase that cannot be read as a launch window; the message suggests three that can."""


@dataclass(frozen=True, slots=True)
class Window:
    """A launch window: ``start`` .. ``end`` inclusive, plus how it was read."""

    start: dt.date
    end: dt.date
    precision: str
    rule: str
    phrase: str


@dataclass(frozen=True, slots=True)
class Found:
    """A window promised inside a text: ``text[span[0]:span[1]]`` is the phrase that was read."""

    window: Window
    span: tuple[int, int]


class _Span(NamedTuple):
    """What a rule handler produces; ``parse_window`` adds the rule name and phrase."""

    start: dt.date
    end: dt.date
    precision: str


class _Reject(Exception):
    """Raised inside the parser; ``parse_window`` turns it into a WindowError with examples."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- vocabulary
# Keys are space-separated words (multi-word keys win over shorter ones); values are the
# canonical words they become ("" drops them). "@this"/"@next" mark Indonesian modifiers that
# follow their noun ("tahun depan"); "@within" marks "within/over" for one special case.

_MONTHS: Final = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
)  # fmt: skip

_MONTH_WORDS: Final[dict[str, str]] = {
    "january": "jan", "januari": "jan",
    "february": "feb", "februari": "feb", "pebruari": "feb", "peb": "feb",
    "march": "mar", "maret": "mar",
    "april": "apr",
    "mei": "may",
    "june": "jun", "juni": "jun",
    "july": "jul", "juli": "jul",
    "august": "aug", "agustus": "aug", "agu": "aug", "agt": "aug", "ags": "aug", "agus": "aug",
    "sept": "sep", "september": "sep",
    "october": "oct", "oktober": "oct", "okt": "oct",
    "november": "nov", "nopember": "nov", "nop": "nov",
    "december": "dec", "desember": "dec", "des": "dec",
}  # fmt: skip

_EN_NUMBERS: Final = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)  # fmt: skip
_ID_NUMBERS: Final = (
    "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh",
)  # fmt: skip

_EN_WORDS: Final[dict[str, str]] = {
    # Hedges and connectors carry no date information.
    **dict.fromkeys(
        (
            "tentatively", "tentative", "hopefully", "probably", "around", "about", "roughly",
            "approximately", "approx", "circa", "ca", "sometime", "perhaps", "maybe", "possibly",
            "likely", "expected", "expect", "estimated", "planned", "scheduled", "slated",
            "targeted", "targeting", "target", "eta", "the", "of", "in", "at", "on", "during",
            "for", "latest", "toward", "towards", "ish",
        ),
        "",
    ),
    "some time": "",
    "or so": "",
    "or earlier": "",
    "or later": "",
    "most likely": "",
    "very likely": "",
    "if all goes well": "",
    "if all goes to plan": "",
    "if everything goes well": "",
    "if everything goes to plan": "",
    "all going well": "",
    # "starting March", "from Q3": the period itself.
    "from": "",
    "starting": "",
    "starting from": "",
    "starting in": "",
    "beginning": "",
    "from now": "",
    "up to": "",
    "no later than": "",
    "on or before": "",
    "within": "@within",
    "over": "@within",
    # Counts.
    "a couple": "couple",
    "a few": "few",
    "half a year": "6 months",
    "a": "1",
    "an": "1",
    **{word: str(n) for n, word in enumerate(_EN_NUMBERS, start=1)},
    "another": "1 more",
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    # Parts of a period; "late" and "end" share one meaning (the last day).
    "beginning of": "early",
    "start of": "early",
    "start": "early",
    "middle": "mid",
    "late": "end",
    "eoy": "end year",
    "eom": "end month",
    "yearend": "year end",
    "this coming": "coming",
    "upcoming": "coming",
    # Units and seasons.
    "yr": "year", "yrs": "years", "wk": "week", "wks": "weeks",
    "mo": "month", "mos": "months", "mth": "month", "mths": "months",
    "autumn": "fall",
    "away": "ahead",
    # "in the autumn but not September" is the autumn.
    "but not": "butnot",
    "except": "butnot",
    "excluding": "butnot",
    # Holidays.
    "xmas": "christmas",
    "christmas day": "christmas",
    "christmas eve": "christmaseve",
    "new year": "newyear",
    "new years": "newyear",
    "new years day": "newyear",
    "new years eve": "newyearseve",
    # Ranges and "shortly after".
    "to": "..", "through": "..", "thru": "..", "until": "..", "till": "..", "til": "..",
    "not long": "shortly",
}  # fmt: skip

_ID_WORDS: Final[dict[str, str]] = {
    # Hedges and connectors ("sekitar" = around, "diperkirakan" = expected, ...).
    **dict.fromkeys(
        (
            "sekitar",
            "sekitaran",
            "kisaran",
            "kira",
            "kirakira",
            "mungkin",
            "barangkali",
            "diperkirakan",
            "diharapkan",
            "direncanakan",
            "rencananya",
            "dijadwalkan",
            "ditargetkan",
            "targetnya",
            "pada",
            "di",
            "dalam",
            "nanti",
            "lagi",
            "akan",
            "yang",
            "tanggal",
            "menjelang",
            "waktu",
        ),
        "",
    ),
    "kira kira": "",
    "kurang lebih": "",
    "paling lambat": "",
    "selambat lambatnya": "",
    "semoga": "",
    "mudah mudahan": "",
    "kemungkinan": "",
    "kemungkinan besar": "",
    "tentatif": "",
    "lebih kurang": "",
    "jika semua berjalan lancar": "",
    "jika semuanya berjalan lancar": "",
    "kalau semua berjalan lancar": "",
    "bila semua berjalan lancar": "",
    "atau setelahnya": "",
    "atau sesudahnya": "",
    "atau lebih lambat": "",
    "mulai": "",
    "mulai dari": "",
    "dimulai": "",
    "dari": "",
    "kecuali": "butnot",
    "tapi tidak": "butnot",
    "tetapi tidak": "butnot",
    "namun tidak": "butnot",
    "tapi bukan": "butnot",
    "tetapi bukan": "butnot",
    "namun bukan": "butnot",
    "hitungan minggu": "weeks",
    "hitungan bulan": "months",
    "dari sekarang": "",
    "sebelum": "before",
    "setelah": "after",
    "sesudah": "after",
    "tak lama": "shortly",
    "tidak lama": "shortly",
    "sesaat": "shortly",
    "segera": "soon",
    # Counts: "dua belas" = 12, "dua puluh" = 20; "se-" words are "one unit".
    "beberapa": "few",
    **{word: str(n) for n, word in enumerate(_ID_NUMBERS, start=1)},
    "sebelas": "11",
    **{f"{word} belas": str(10 + n) for n, word in enumerate(_ID_NUMBERS[1:9], start=2)},
    "dua puluh": "20",
    "sehari": "1 day",
    "seminggu": "1 week",
    "sepekan": "1 week",
    "sebulan": "1 month",
    "setahun": "1 year",
    "setengah tahun": "6 months",
    "pertama": "1st",
    "kesatu": "1st",
    "kedua": "2nd",
    "ketiga": "3rd",
    "keempat": "4th",
    "terakhir": "last",
    # Parts of a period.
    "awal": "early",
    "permulaan": "early",
    "pertengahan": "mid",
    "tengah": "mid",
    "medio": "mid",
    "akhir": "end",
    "penghujung": "end",
    "pengujung": "end",
    "ujung": "end",
    # Modifiers that follow the noun: "tahun depan" = next year, "bulan ini" = this month.
    "ini": "@this",
    "depan": "@next",
    "ke depan": "ahead",
    "mendatang": "ahead",
    # Units and seasons ("semester"/"paruh" = half year, "triwulan" = quarter).
    "hari": "day",
    "minggu": "week",
    "pekan": "week",
    "bulan": "month",
    "tahun": "year",
    "kuartal": "quarter",
    "kuarter": "quarter",
    "triwulan": "quarter",
    "semester": "half",
    "paruh": "half",
    "musim semi": "spring",
    "musim panas": "summer",
    "musim gugur": "fall",
    "musim dingin": "winter",
    # Holidays.
    "natal": "christmas",
    "hari natal": "christmas",
    "malam natal": "christmaseve",
    "tahun baru": "newyear",
    "malam tahun baru": "newyearseve",
    # Ranges.
    "hingga": "..",
    "sampai": "..",
    "s d": "..",
}


def _vocabulary(*tables: dict[str, str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Merge word tables into one lookup keyed by word tuples."""
    merged: dict[tuple[str, ...], tuple[str, ...]] = {}
    for table in tables:
        for key, value in table.items():
            merged[tuple(key.split())] = tuple(value.split())
    return merged


_VOCAB: Final = _vocabulary(_MONTH_WORDS, _EN_WORDS, _ID_WORDS)
_LONGEST_KEY: Final = max(len(key) for key in _VOCAB)
_STARTS_LONGER_KEY: Final = frozenset(key[0] for key in _VOCAB if len(key) > 1)
# Words that mark a phrase as Indonesian, to pick the examples shown in an error message.
_ID_MARKERS: Final = frozenset(word for key in _ID_WORDS for word in key.split()) - {"s", "d"}

_UNITS: Final = frozenset({"day", "week", "month", "year", "quarter", "half", "weekend"})
_SEASONS: Final = frozenset({"spring", "summer", "fall", "winter"})
_YEAR_TOKEN: Final = re.compile(r"[0-9]{4}")
_SHORT_YEAR: Final = re.compile(r"['\u2018\u2019`][0-9]{2}(?![0-9])")


def _ordinal(number: str) -> str:
    """'3' -> '3rd' (used for Indonesian "ke-3")."""
    suffix = {"1": "st", "2": "nd", "3": "rd"}.get(number[-1], "th")
    if number[-2:] in {"11", "12", "13"}:
        suffix = "th"
    return number + suffix


def _translate(tokens: list[str]) -> list[str]:
    """Map words onto the canonical vocabulary, longest multi-word match first."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] not in _STARTS_LONGER_KEY:
            out.extend(_VOCAB.get((tokens[i],), (tokens[i],)))
            i += 1
            continue
        for size in range(min(_LONGEST_KEY, len(tokens) - i), 0, -1):
            key = tuple(tokens[i : i + size])
            if key in _VOCAB:
                out.extend(_VOCAB[key])
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def _tidy(tokens: list[str]) -> list[str]:
    """Fix word order and the few connectors whose meaning depends on their neighbours."""
    out: list[str] = []
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        after = tokens[i + 2] if i + 2 < len(tokens) else ""
        if token == "ke" and nxt.isascii() and nxt.isdigit():  # "kuartal ke-3" = 3rd quarter
            out.append("ke#")
        elif out and out[-1] == "ke#":
            out[-1] = _ordinal(token)
        elif out and token == out[-1] and token in {"day", "week", "month", "year"}:
            out[-1] = token + "s"  # Indonesian plural by repetition: "bulan-bulan" = months
        elif token in {"month", "year"} and (nxt in _MONTHS or _YEAR_TOKEN.fullmatch(nxt)):
            continue  # "bulan Maret" = March, "tahun 2025" = 2025
        elif token == "later":
            # "later this year" = this year; "later in the year" = this year.
            if nxt in {"year", "month", "week"}:
                out.append("this")
            elif nxt not in {"this", "next"}:
                out.append(token)  # unknown use: keep it so nothing matches
        elif token == "@within":
            # "within the next year" is twelve months, not the calendar year after this one.
            if nxt == "next" and after in {"week", "month", "year"} and i + 3 == len(tokens):
                out.extend(["1", after])
                break
        elif token.startswith("@"):
            # Indonesian "tahun depan": move the modifier in front of the word it follows.
            word = token[1:]
            if out and (out[-1] in _UNITS or out[-1] in _SEASONS or out[-1] in _MONTHS):
                out.insert(len(out) - 1, word)
            else:
                out.append(word)
        elif token == "by" and not (i + 2 == len(tokens) and _YEAR_TOKEN.fullmatch(nxt)):
            continue  # "by" only has a meaning of its own in "by 2025"
        elif token == "before" and nxt == "end":
            continue  # "before the end of the year" = the end of the year
        else:
            out.append(token)
    while out and out[0] == "..":
        out.pop(0)
    while out and out[-1] == "..":
        out.pop()  # a trailing ellipsis: "Q3 2025..."
    return out


def _tokens(phrase: str) -> list[str]:
    """The canonical words of a phrase (see the module docstring)."""
    return _tidy(_translate(raw_tokens(phrase)))


def _looks_indonesian(phrase: str) -> bool:
    """True when the phrase uses a word only Indonesian uses (for choosing examples)."""
    return any(token in _ID_MARKERS for token in raw_tokens(phrase))


# --------------------------------------------------------------------------- date helpers


def _year(value: int) -> int:
    """A year, refused outside the supported range."""
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise _Reject(f"the year {value} is outside {YEAR_MIN}-{YEAR_MAX}")
    return value


def _last_day(year: int, month: int) -> dt.date:
    """The last day of a month."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _month_span(year: int, month: int, precision: str = "month") -> _Span:
    """The whole of one month."""
    return _Span(dt.date(year, month, 1), _last_day(year, month), precision)


def _months_span(year: int, first_month: int, count: int, precision: str) -> _Span:
    """``count`` whole months from ``first_month`` of ``year`` (may run into the next year)."""
    start = dt.date(year, first_month, 1)
    end = _add_months(start, count) - dt.timedelta(days=1)
    return _Span(start, end, precision)


def _add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping to the month's end (Aug 31 + 6 months = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _date(year: int, month: int, day: int) -> dt.date:
    """A real calendar date, or a rejection that says why not."""
    if not 1 <= month <= 12:
        raise _Reject(f"there is no month {month}")
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise _Reject(f"{calendar.month_name[month]} {year} has no day {day}")
    return dt.date(year, month, day)


def _first_occurrence(
    make: Callable[[int], _Span], announced: dt.date, *, starts_after: bool = False
) -> _Span:
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
    raise _Reject("that date is outside the supported years")


def _year_spec(spec: str | None, announced: dt.date) -> int | None:
    """'2025' / 'this year' / 'year' (as in "the end of the year") / 'next year' -> a year."""
    if spec is None:
        return None
    if spec.isdigit():
        return _year(int(spec))
    if spec == "next year":
        return _year(announced.year + 1)
    return _year(announced.year)


def _month_number(name: str) -> int:
    """'mar' -> 3."""
    return _MONTHS.index(name) + 1


def _day_number(text: str) -> int:
    """'18th' -> 18."""
    return int(re.sub(r"[a-z]+", "", text))


def _third_of_month(year: int, month: int, part: str | None) -> _Span:
    """A month, or its early (1-10), mid (11-20) or late/end (21-last) third."""
    last = _last_day(year, month)
    if part == "early":
        return _Span(dt.date(year, month, 1), dt.date(year, month, 10), "month")
    if part == "mid":
        return _Span(dt.date(year, month, 11), dt.date(year, month, 20), "month")
    if part == "end":
        return _Span(dt.date(year, month, 21), last, "month")
    return _Span(dt.date(year, month, 1), last, "month")


def _part_of_months(year: int, first_month: int, part: str | None, precision: str) -> _Span:
    """A three-month period (quarter, season), or its early / mid / end month."""
    if part is None:
        return _months_span(year, first_month, 3, precision)
    first = _add_months(dt.date(year, first_month, 1), {"early": 0, "mid": 1, "end": 2}[part])
    return _month_span(first.year, first.month)


# --------------------------------------------------------------------------- handlers

_Handler = Callable[[re.Match[str], dt.date], _Span]


def _group(match: re.Match[str], name: str) -> str | None:
    """A named group's text, or None when the group is absent from this pattern or unmatched."""
    value = match.groupdict().get(name)
    return value if isinstance(value, str) else None


def _iso_date(match: re.Match[str], announced: dt.date) -> _Span:
    day = _date(_year(int(match["y"])), int(match["m"]), int(match["d"]))
    return _Span(day, day, "day")


def _numeric_date(match: re.Match[str], announced: dt.date) -> _Span:
    # 03/04/2025 is March 4 in the US and April 3 in Indonesia: only accept what is unambiguous.
    year = _year(int(match["y"]))
    a, b = int(match["a"]), int(match["b"])
    readings: set[dt.date] = set()
    for day, month in ((a, b), (b, a)):
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]:
            readings.add(dt.date(year, month, day))
    if not readings:
        raise _Reject(f"{match.group(0)} is not a real date")
    if len(readings) > 1:
        raise _Reject(f"{match.group(0)} could be day/month or month/day; write it as YYYY-MM-DD")
    (only,) = readings
    return _Span(only, only, "day")


def _numeric_month(match: re.Match[str], announced: dt.date) -> _Span:
    month = int(match["m"])
    if not 1 <= month <= 12:
        raise _Reject(f"there is no month {month}")
    return _month_span(_year(int(match["y"])), month)


def _day_month_year(match: re.Match[str], announced: dt.date) -> _Span:
    year = _year_spec(match["ys"], announced)
    assert year is not None
    day = _date(year, _month_number(match["mon"]), _day_number(match["day"]))
    return _Span(day, day, "day")


def _day_month(match: re.Match[str], announced: dt.date) -> _Span:
    month, day = _month_number(match["mon"]), _day_number(match["day"])
    _date(2000, month, day)  # validate against a leap year so "Feb 29" is allowed
    # The next occurrence on or after the announcement; Feb 29 may be up to 8 years away.
    for year in range(announced.year, announced.year + 9):
        if day <= calendar.monthrange(year, month)[1]:
            candidate = dt.date(_year(year), month, day)
            if candidate >= announced:
                return _Span(candidate, candidate, "day")
    raise _Reject("that date is outside the supported years")


def _month_part(match: re.Match[str], announced: dt.date) -> _Span:
    month, part = _month_number(match["mon"]), _group(match, "part")
    year = _year_spec(_group(match, "ys"), announced)
    if year is not None:
        return _third_of_month(year, month, part)
    return _first_occurrence(lambda y: _third_of_month(y, month, part), announced)


def _relative_month(match: re.Match[str], announced: dt.date) -> _Span:
    first = dt.date(announced.year, announced.month, 1)
    if _group(match, "rel") == "next":
        first = _add_months(first, 1)
    return _third_of_month(_year(first.year), first.month, _group(match, "part"))


def _week(match: re.Match[str], announced: dt.date) -> _Span:
    # ISO weeks run Monday..Sunday, so on a Sunday "this week" ends that same day.
    monday = announced - dt.timedelta(days=announced.weekday())
    if _group(match, "rel") == "next":
        monday += dt.timedelta(days=7)
    return _Span(monday, monday + dt.timedelta(days=6), "week")


def _quarter_number(text: str) -> int:
    """'q3' / '3q' / '3rd quarter' / 'quarter iii' -> 3."""
    digit = re.search(r"[1-4]", text)
    if digit:
        return int(digit.group(0))
    return {"i": 1, "ii": 2, "iii": 3, "iv": 4}[text.split()[-1]]


def _quarter(match: re.Match[str], announced: dt.date) -> _Span:
    quarter, part = _quarter_number(match["qt"]), _group(match, "part")
    year = _year_spec(_group(match, "ys"), announced)

    def make(y: int) -> _Span:
        return _part_of_months(y, 3 * quarter - 2, part, "quarter")

    return make(year) if year is not None else _first_occurrence(make, announced)


def _relative_quarter(match: re.Match[str], announced: dt.date) -> _Span:
    first = dt.date(announced.year, 3 * ((announced.month - 1) // 3) + 1, 1)
    if _group(match, "rel") == "next":
        first = _add_months(first, 3)
    return _part_of_months(_year(first.year), first.month, _group(match, "part"), "quarter")


def _half(match: re.Match[str], announced: dt.date) -> _Span:
    # "h1", "1st half", "half 1", "half i" -> 1; anything else the pattern allows is 2.
    half = 1 if re.search(r"1|\bi$", match["ht"]) else 2
    year = _year_spec(_group(match, "ys"), announced)

    def make(y: int) -> _Span:
        return _months_span(y, 1 if half == 1 else 7, 6, "half")

    return make(year) if year is not None else _first_occurrence(make, announced)


def _months_block(match: re.Match[str], announced: dt.date) -> _Span:
    # "the first three months of 2027" is Q1, "the last six months of the year" is H2; "the last
    # three months" alone needs its year, or it would read as the months just gone.
    count = 3 if "3" in match.group(0).split() else 6
    which = _group(match, "which") or _group(match, "which2")
    first_month = 1 if which == "1st" else 13 - count
    precision = "quarter" if count == 3 else "half"
    year = _year_spec(_group(match, "ys"), announced)
    if which == "last" and year is None:
        raise _Reject("say which year the last months belong to")

    def make(y: int) -> _Span:
        return _months_span(y, first_month, count, precision)

    return make(year) if year is not None else _first_occurrence(make, announced)


_SEASON_START: Final = {"spring": 3, "summer": 6, "fall": 9, "winter": 12}


def _season(match: re.Match[str], announced: dt.date) -> _Span:
    first_month, part = _SEASON_START[match["season"]], _group(match, "part")
    rel, year = _group(match, "rel"), _year_spec(_group(match, "ys"), announced)
    if rel is not None and year is not None:
        raise _Reject("give either a year or this/next, not both")

    def make(y: int) -> _Span:
        # Meteorological seasons; winter YEAR is December YEAR to February YEAR+1.
        return _part_of_months(y, first_month, part, "season")

    if year is not None:
        return make(year)
    return _first_occurrence(make, announced, starts_after=rel == "next")


_YEAR_PARTS: Final = {"early": (1, 4), "mid": (5, 8), "end": (9, 12)}


def _year_part(match: re.Match[str], announced: dt.date) -> _Span:
    year = _year_spec(_group(match, "ys") or "year", announced)
    assert year is not None
    first, last = _YEAR_PARTS[match["part"]]
    return _Span(dt.date(year, first, 1), _last_day(year, last), "year")


def _by_year(match: re.Match[str], announced: dt.date) -> _Span:
    # "by 2025" means before 2025 begins.
    year = _year(int(match["year"]) - 1)
    end = dt.date(year, 12, 31)
    start = announced if announced <= end else dt.date(year, 1, 1)
    return _Span(start, end, "year")


def _whole_year(match: re.Match[str], announced: dt.date) -> _Span:
    year = _year_spec(match["ys"], announced)
    assert year is not None
    return _Span(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")


def _after(announced: dt.date, count: int, unit: str) -> _Span:
    """The announcement date plus ``count`` units."""
    if unit == "day":
        end = announced + dt.timedelta(days=count)
    elif unit == "week":
        end = announced + dt.timedelta(weeks=count)
    elif unit == "fortnight":
        end = announced + dt.timedelta(weeks=2 * count)
    else:
        end = _add_months(announced, count * {"month": 1, "quarter": 3, "year": 12}[unit])
    return _Span(announced, end, "duration")


def _duration(match: re.Match[str], announced: dt.date) -> _Span:
    count, low = int(match["n"]), _group(match, "lo")
    if low is not None and int(low) > count:
        raise _Reject(f"{low} is more than {count}")
    return _after(announced, count, match["unit"])


_VAGUE: Final = {"couple": 2, "few": 3, "several": 3}


def _vague_count(match: re.Match[str], announced: dt.date) -> _Span:
    return _after(announced, _VAGUE[match["vague"]], match["unit"])


def _coming_plural(match: re.Match[str], announced: dt.date) -> _Span:
    return _after(announced, 6, match["unit"])  # "the coming weeks": six of them


def _coming_single(match: re.Match[str], announced: dt.date) -> _Span:
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


def _holiday(match: re.Match[str], announced: dt.date) -> _Span:
    # "before Christmas" is Christmas Eve; "by Christmas" is Christmas Day.
    shift = dt.timedelta(days=1 if _group(match, "before") else 0)
    name = match["h"]

    def make(y: int) -> _Span:
        day = _holiday_date(name, y) - shift
        return _Span(day, day, "day")

    explicit = _group(match, "year")
    if explicit is not None:
        span = make(_year(int(explicit)))
    else:
        span = _first_occurrence(make, announced)
    # The window runs from the announcement to the holiday, like any deadline.
    return _Span(min(announced, span.end), span.end, "day")


def _shortly_after(match: re.Match[str], announced: dt.date) -> _Span:
    _, inner = _match(match["inner"], announced)
    return _Span(inner.end + dt.timedelta(days=1), inner.end + dt.timedelta(days=7), "week")


def _before(match: re.Match[str], announced: dt.date) -> _Span:
    _, inner = _match(match["inner"], announced)
    if inner.start <= announced:
        raise _Reject("that period has already started")
    return _Span(announced, inner.start - dt.timedelta(days=1), inner.precision)


def _range(match: re.Match[str], announced: dt.date) -> _Span:
    left, right = match["a"], match["b"]
    if ".." in right.split() or ".." in left.split():
        raise _Reject("a range has exactly two ends")
    _, first = _match(left, announced)
    _, last = _match(right, announced)
    if last.end < first.start:
        raise _Reject("the range ends before it starts")
    return _Span(first.start, last.end, last.precision)


# --------------------------------------------------------------------------- rules

_Y4: Final = r"[0-9]{4}"
_YS: Final = rf"(?P<ys>{_Y4}|this year|next year|year)"  # optional year: "2025", "next year"
_MON: Final = r"(?P<mon>" + "|".join(_MONTHS) + ")"
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
_RULE_SOURCES: Final[tuple[tuple[str, str, _Handler], ...]] = (
    ("explicit_date", rf"(?P<y>{_Y4})(?P<sep>[-./])(?P<m>[0-9]{{1,2}})(?P=sep)(?P<d>[0-9]{{1,2}})",
     _iso_date),
    ("explicit_date", rf"(?P<a>[0-9]{{1,2}})(?P<sep>[-./])(?P<b>[0-9]{{1,2}})(?P=sep)(?P<y>{_Y4})",
     _numeric_date),
    ("month_year", rf"(?P<y>{_Y4})[-./](?P<m>[0-9]{{1,2}})", _numeric_month),
    ("month_year", rf"(?P<m>[0-9]{{1,2}})[-./](?P<y>{_Y4})", _numeric_month),
    ("explicit_date", rf"{_DAY} {_MON} {_YS}", _day_month_year),
    ("explicit_date", rf"{_MON} {_DAY} {_YS}", _day_month_year),
    ("month_day", rf"{_DAY} {_MON}", _day_month),
    ("month_day", rf"{_MON} {_DAY}", _day_month),
    ("month_part", rf"{_PART} {_MON}(?: {_YS})?", _month_part),
    ("month_year", rf"{_MON} {_YS}", _month_part),
    ("month", rf"(?:this )?{_MON}", _month_part),
    ("relative_month", rf"(?:{_PART} )?(?P<rel>this|next) month", _relative_month),
    ("relative_month", rf"{_PART} month", _relative_month),
    ("relative_month", r"month (?P<part>end)", _relative_month),
    ("week", r"(?:end )?(?P<rel>this|next) week", _week),
    ("week", r"(?:(?P<rel>this|next) )?weekend|end week|week end", _week),
    ("quarter", rf"(?:{_PART} )?{_QT}(?: {_YS})?", _quarter),
    ("quarter", rf"(?P<ys>{_Y4}) {_QT}", _quarter),
    ("quarter", rf"(?:{_PART} )?(?P<rel>this|next) quarter", _relative_quarter),
    ("quarter", rf"{_PART} quarter", _relative_quarter),
    ("quarter", r"quarter (?P<part>end)", _relative_quarter),
    ("quarter", rf"(?:(?P<which>1st|last) 3 months?|3 months? (?P<which2>1st|last))(?: {_YS})?",
     _months_block),
    ("half", rf"(?:end )?{_HT}(?: {_YS})?", _half),
    ("half", rf"(?:(?P<which>1st|last) 6 months?|6 months? (?P<which2>1st|last))(?: {_YS})?",
     _months_block),
    ("half", rf"(?P<ys>{_Y4}) {_HT}", _half),
    ("season", rf"(?:{_PART} )?(?:(?P<rel>this|next|coming) )?{_SEASON}(?: {_YS})?", _season),
    ("year_part", rf"{_PART} {_YS}", _year_part),
    ("year_part", rf"year (?P<part>end)(?: (?P<ys>{_Y4}|this year|next year))?", _year_part),
    ("by_year", rf"(?:by|before) (?P<year>{_Y4})", _by_year),
    ("year", rf"(?P<ys>{_Y4}|this year|next year)", _whole_year),
    ("duration", rf"(?:next |coming )?(?:(?P<lo>{_N})(?:-| \.\. | or ))?(?P<n>{_N}) (?:more )?"
     rf"{_UNIT}(?: ahead)?", _duration),
    ("vague_count", rf"(?:next |coming )?(?P<vague>couple|few|several) (?:more )?"
     rf"{_UNIT}(?: ahead)?",
     _vague_count),
    ("vague_count", r"coming (?P<unit>day|week|month)s", _coming_plural),
    ("vague_count", r"(?P<unit>week|month)s", _coming_plural),
    ("vague_count", r"(?P<unit>day|week|month)s ahead", _coming_plural),
    ("vague_count", r"coming (?P<unit>week|month|year)", _coming_single),
    ("vague_count", r"(?P<unit>week|month|year) ahead", _coming_single),
    ("holiday", rf"(?P<before>before )?{_HOLIDAYS}(?: (?P<year>{_Y4}))?", _holiday),
    ("shortly_after", r"(?:shortly|just|soon|right|immediately) after (?P<inner>.+)",
     _shortly_after),
    ("before", r"before (?P<inner>.+)", _before),
    ("range", r"(?P<a>.+) \.\. (?P<b>.+)", _range),
)  # fmt: skip

_RULES: Final = tuple((name, re.compile(src), handler) for name, src, handler in _RULE_SOURCES)
# All rules at once, without their group names: one cheap test before trying them in turn.
_ANY_RULE: Final = re.compile(
    "|".join(
        "(?:" + re.sub(r"\(\?P=\w+\)", "[-./]", re.sub(r"\(\?P<\w+>", "(?:", src)) + ")"
        for _, src, _ in _RULE_SOURCES
    )
)


def _match(text: str, announced: dt.date) -> tuple[str, _Span]:
    """Apply the first rule whose pattern matches all of the canonical ``text``."""
    kept, excluding, excluded = text.partition(" butnot ")
    if excluding:
        # "X but not Y" is X; Y must still be a period, so "Q3 but not soon" is refused.
        _match(excluded, announced)
        return _match(kept, announced)
    if not _ANY_RULE.fullmatch(text):
        raise _Reject(None)
    for name, pattern, handler in _RULES:
        found = pattern.fullmatch(text)
        if found:
            return name, handler(found, announced)
    raise _Reject(None)


def _read(text: str, announced: dt.date) -> tuple[str, _Span]:
    """The rule and dates for canonical ``text``; both doors (phrase and paragraph) use this."""
    if not text:
        raise _Reject(None)
    rule, span = _match(text, announced)
    for day in (span.start, span.end):
        _year(day.year)
    return rule, span


# --------------------------------------------------------------------------- public API


def _error(phrase: str, reason: str | None) -> WindowError:
    """A WindowError naming the phrase, why it failed and three phrases that work."""
    shown = " ".join(phrase.split())
    if len(shown) > 60:
        shown = shown[:57] + "..."
    examples = EXAMPLES_ID if _looks_indonesian(phrase[:MAX_PHRASE_LENGTH]) else EXAMPLES_EN
    head = f'Could not read "{shown}" as a launch window' if shown else "No launch window given"
    tail = ", ".join(f'"{example}"' for example in examples)
    return WindowError(f"{head}{': ' + reason if reason else ''}. Try one of: {tail}.")


def parse_window(phrase: str, announced: dt.date) -> Window:
    """Read an announced launch window relative to the date it was announced.

    Returns a ``Window`` whose ``end`` is the last day the launch can happen and still be
    on time, and whose ``start <= end``. Raises ``WindowError`` (and nothing else) for any
    phrase it cannot read; the message suggests three phrases that would work.
    """
    if len(phrase) > MAX_PHRASE_LENGTH:
        raise _error(phrase, f"it is longer than {MAX_PHRASE_LENGTH} characters")
    if _SHORT_YEAR.search(phrase):
        # Without this, "Mar '25" would lose its apostrophe and read as March 25.
        raise _error(phrase, "write the year with four digits")
    try:
        rule, span = _read(" ".join(_tokens(phrase)), announced)
    except _Reject as exc:
        raise _error(phrase, exc.reason) from None
    except (ValueError, OverflowError):
        # Date arithmetic past year 9999 or before year 1 (announcement dates at the edges).
        raise _error(phrase, "that date is outside the supported years") from None
    return Window(
        start=min(span.start, span.end),
        end=span.end,
        precision=span.precision,
        rule=rule,
        phrase=phrase,
    )


# --------------------------------------------------------------------------- finding windows
# find_windows tries phrases inside a text with the same grammar parse_window uses, then keeps
# only the promises; tracker.window_scan judges the words around each phrase.

_MAX_PIECES: Final = 12  # the longest phrase tried, in words ("no later than the end of Q3 2025")
_ANCHORS: Final = frozenset(
    {
        *_MONTHS, *_UNITS, *_SEASONS, "fortnight", "days", "weeks", "months", "years",
        "quarters", "fortnights", "christmas", "christmaseve", "newyear", "newyearseve",
        "halloween", "thanksgiving", "q1", "q2", "q3", "q4", "1q", "2q", "3q", "4q", "h1", "h2",
        "1h", "2h",
    }
)  # fmt: skip
# The last word of a phrase that reads: a period, a number, or a word placed after its noun.
_ENDINGS: Final = _ANCHORS | {
    "end", "ahead", "@this", "@next", "i", "ii", "iii", "iv", "1st", "2nd", "3rd", "4th", "now",
    "lagi", "later", "so", "ish", "last",
}  # fmt: skip
_NUMBER_SHAPE: Final = re.compile(r"[0-9]+(?:st|nd|rd|th)?|[0-9]+(?:[-./][0-9]+)+")
_DATE_SHAPE: Final = re.compile(r"[0-9]{4}|[0-9]+(?:[-./][0-9]+)+")
# Every word the grammar can use: vocabulary keys and values, and the words of the rules.
_RULE_WORDS: Final = frozenset(
    re.findall(
        r"[a-z0-9]+",
        re.sub(r"\(\?P[<=]\w+>?|\\[a-z]", " ", " ".join(src for _, src, _ in _RULE_SOURCES)),
    )
)
_KNOWN: Final = (
    frozenset(word for key in _VOCAB for word in key)
    | frozenset(word for value in _VOCAB.values() for word in value)
    | _RULE_WORDS
    | _ANCHORS
    | {"..", "i", "ke", "by", "before", "after", "more", "last", "later", "now"}
)
# Lead-ins kept at the start of a phrase although they add no date ("in March").
_KEEP_LEADS: Final = frozenset({"in", "dalam", "from", "starting", "beginning", "mulai", "dari"})
# A reading of one bare word ("2025", "March", "Q3", "summer") or a bare count ("6 weeks") is a
# promise only after one of these: "the 2025 roadmap" and "it took 6 weeks" are not.
_POINT_LEADS: Final = frozenset(
    {
        "in", "by", "before", "until", "till", "during", "for", "around", "about", "sometime",
        "from", "starting", "beginning", "through", "throughout", "within", "into", "to", "at",
        "on", "due", "eta", "expected", "slated", "scheduled", "planned", "targeted",
        "targeting", "target", "pada", "di", "sebelum", "hingga", "sampai", "sekitar", "mulai",
        "menjelang", "dalam", "bulan", "tahun", "musim", "tanggal", "paling", "lambat",
        "lambatnya",
    }
)  # fmt: skip
_COUNT_LEADS: Final = frozenset({"in", "within", "over", "inside", "dalam"})
_COUNT_TAILS: Final = frozenset({"now", "lagi"})
# Lower-case words that are usually not the month or season they could be ("it may", "prices
# fall"): dates only after one of these words or before a number.
_AMBIGUOUS: Final = frozenset({"may", "march", "mar", "fall", "spring"})
_AMBIGUOUS_LEADS: Final = frozenset(
    {
        "in", "by", "until", "till", "before", "after", "early", "mid", "late", "end", "of",
        "from", "through", "to", "this", "next", "coming", "during", "since", "pada", "bulan",
        "awal", "akhir", "pertengahan", "sebelum", "hingga", "sampai",
    }
)  # fmt: skip
_AFTER_ALONE: Final = frozenset(
    {"soon after", "shortly after", "just after", "right after", "immediately after"}
)
_AFTER_FIRST: Final = frozenset(
    {"soon", "shortly", "just", "right", "immediately", "not", "tak", "tidak", "segera", "sesaat"}
)
# What a piece can do, as bits.
_KNOWN_BIT: Final = 1  # every token is a word the grammar knows
_ANCHOR_BIT: Final = 2  # it names a period: no phrase reads without one
_HEDGE_BIT: Final = 4  # it only softens ("around", "the"): phrases neither start nor end on it
_END_BIT: Final = 8  # a phrase may end on it
_NUMBER_BIT: Final = 16  # a bare number, which may belong to a name ("Android 15")
_RANGE_BIT: Final = 32  # the ".." of a range
_SEEN_BIT: Final = 64  # always set, so that a word of no use is not looked at twice


def _token_bits(word: str) -> int:
    if not (word in _KNOWN or _NUMBER_SHAPE.fullmatch(word)):
        return 0
    canon = _VOCAB.get((word,), (word,))
    bits = _KNOWN_BIT
    longer = [value for key, value in _VOCAB.items() if len(key) > 1 and word in key]
    if _DATE_SHAPE.fullmatch(word) or any(
        token in _ANCHORS for value in (canon, *longer) for token in value
    ):
        bits |= _ANCHOR_BIT
    if not canon and word not in _KEEP_LEADS:
        bits |= _HEDGE_BIT
    ends = [value for key, value in _VOCAB.items() if key[-1] == word and value]
    if (
        _NUMBER_SHAPE.fullmatch(word)
        or word in _ENDINGS
        or (canon and canon[-1] in _ENDINGS)
        or any(value[-1] in _ENDINGS for value in ends)
    ):
        bits |= _END_BIT
    if word[:1].isdigit() and _NUMBER_SHAPE.fullmatch(word):
        bits |= _NUMBER_BIT
    if word == "..":
        bits |= _RANGE_BIT
    return bits


_BITS: dict[tuple[str, ...], int] = {}


def _piece_bits(tokens: tuple[str, ...]) -> int:
    bits = _BITS.get(tokens)
    if bits is None:
        each = [_token_bits(word) for word in tokens]
        bits = _SEEN_BIT
        if all(b & _KNOWN_BIT for b in each):
            bits |= _KNOWN_BIT | (_HEDGE_BIT if all(b & _HEDGE_BIT for b in each) else 0)
            bits |= each[-1] & _END_BIT
            bits |= _ANCHOR_BIT if any(b & _ANCHOR_BIT for b in each) else 0
            if len(tokens) == 1:
                bits |= each[0] & (_NUMBER_BIT | _RANGE_BIT)
        if len(_BITS) < 50_000:
            _BITS[tokens] = bits
    return bits


class _Finder:
    """One find_windows call: the text's pieces, what each can do, and the readings so far."""

    def __init__(self, text: str, announced: dt.date) -> None:
        self.text = text
        self.announced = announced
        self.pieces = pieces = scan(text)
        get = _BITS.get
        self.bits = [get(tokens) or _piece_bits(tokens) for tokens in pieces.tokens]
        self.readings: dict[str, tuple[str, _Span] | None] = {}
        self._known: dict[int, bool] = {}

    def known(self, i: int) -> bool:
        """Whether piece i may be part of a phrase (not a name's number, not "it may")."""
        bits = self.bits[i]
        if not bits & _KNOWN_BIT:
            return False
        if not (bits & _NUMBER_BIT or self.pieces.tokens[i][0] in _AMBIGUOUS):
            return True
        known = self._known.get(i)
        if known is None:
            known = not (
                (bits & _NUMBER_BIT and self._names_a_product(i))
                or (self.pieces.tokens[i][0] in _AMBIGUOUS and self._not_a_date(i))
            )
            self._known[i] = known
        return known

    def _names_a_product(self, i: int) -> bool:
        """A number that belongs to a name: "GPT-4", "Phi-3", "Android 15", "Gemini 1.5"."""
        pieces, bits = self.pieces, self.bits
        n = len(pieces)
        if i + 1 < n and pieces.joined(i + 1) and not bits[i + 1] & _KNOWN_BIT:
            return True  # "3-mini"
        if i == 0 or pieces.before(i) != NONE:
            return False
        previous_known = bool(bits[i - 1] & _KNOWN_BIT)
        if pieces.joined(i):
            return not previous_known  # "GPT-4", but "mid-2025"
        if previous_known:
            return False
        # "ship 3 weeks from now" counts weeks; "Grok 3 in March" names a model.
        follower = pieces.tokens[i + 1][0] if i + 1 < n else ""
        counts = _VOCAB.get((follower,), (follower,))
        counted = bool(counts) and (counts[0] in _ANCHORS or counts[0] in {"more", ".."})
        return pieces.capital(i - 1) or not counted

    def _not_a_date(self, i: int) -> bool:
        """Lower-case "may", "march", "fall" used as the words they usually are."""
        pieces = self.pieces
        if pieces.capital(i):
            return False
        if i + 1 < len(pieces) and pieces.before(i + 1) == NONE and self.bits[i + 1] & _NUMBER_BIT:
            return False  # "may 15"
        k = i - 1
        if k >= 0 and pieces.before(k + 1) == NONE and pieces.tokens[k][-1] == "the":
            k -= 1
        return not (
            k >= 0 and pieces.before(k + 1) == NONE and pieces.tokens[k][-1] in _AMBIGUOUS_LEADS
        )

    def continues(self, k: int) -> bool:
        """Whether a phrase may run on from piece k-1 into piece k."""
        before = self.pieces.before(k)
        if before == HARD or not self.known(k):
            return False
        if before == SOFT:
            # Only "March 31, 2025" and "June, 2025" cross a comma.
            word, previous = self.pieces.tokens[k][0], self.pieces.tokens[k - 1][-1]
            return bool(re.fullmatch(r"[0-9]{4}", word)) and (
                bool(_NUMBER_SHAPE.fullmatch(previous)) or previous in _MONTH_WORDS or (
                    previous in _MONTHS
                )
            )  # fmt: skip
        return True

    def canon(self, first: int, last: int) -> str:
        """The canonical text of pieces first..last."""
        tokens: list[str] = []
        for piece in self.pieces.tokens[first : last + 1]:
            tokens.extend(piece)
        return " ".join(_tidy(_translate(tokens)))

    def reading(self, canon: str) -> tuple[str, _Span] | None:
        if canon not in self.readings:
            try:
                self.readings[canon] = _read(canon, self.announced)
            except (_Reject, ValueError, OverflowError):
                self.readings[canon] = None
        return self.readings[canon]

    def longest(self, first: int, anchor: int, last: int) -> tuple[int, Window, str] | None:
        """The longest phrase in pieces first..last starting at ``first`` that reads; every
        phrase holds an anchor, and the first one from ``first`` is at ``anchor``."""
        pieces, bits = self.pieces, self.bits
        for end in range(last, anchor - 1, -1):
            if not bits[end] & _END_BIT:
                continue
            canon = self.canon(first, end)
            found = self.reading(canon)
            if found is None:
                continue
            rule, span = found
            phrase = self.text[pieces.start(first) : pieces.end(end)]
            window = Window(min(span.start, span.end), span.end, span.precision, rule, phrase)
            if not phrase.isascii() or _SHORT_YEAR.search(phrase):
                # ASCII pieces are cut exactly where parse_window cuts; anything else is
                # checked against parse_window itself, so a span always reads as found.
                try:
                    if parse_window(phrase, self.announced) != window:
                        continue
                except WindowError:
                    continue
            return end, window, canon
        return None

    def promised(self, first: int, last: int, window: Window, canon: str) -> bool:
        """Whether the text promises ``window``, read as ``canon`` from pieces first..last."""
        if window.end < self.announced:
            return False  # "launched in May 2023"
        pieces = self.pieces
        around = clause(pieces, first, last)
        relative = window.rule in ("duration", "vague_count")
        if around.dropped(relative=relative, first=pieces.tokens[first][0]):
            return False
        words = canon.split()
        lead = {pieces.tokens[first][0], around.before[0] if around.before else ""}
        if relative:
            if words[0] in ("next", "coming") or words[-1] == "ahead" or "more" in words:
                return True
            raw = {word for tokens in pieces.tokens[first : last + 1] for word in tokens}
            return bool(lead & _COUNT_LEADS or raw & _COUNT_TAILS)
        if len(words) == 1 and window.rule not in ("explicit_date", "month_year"):
            return bool(lead & _POINT_LEADS)
        return True

    def after_previous(
        self, first: int, last: int, found: list[Found]
    ) -> tuple[int, Window, str] | None:
        """ "... and general availability soon after": the week after the window before it."""
        if not found or self.pieces.tokens[first][0] not in _AFTER_FIRST:
            return None
        for end in (first + 1, first + 2):
            canon = self.canon(first, end) if end <= last else ""
            if canon in _AFTER_ALONE:
                previous = found[-1].window.end
                window = Window(
                    start=previous + dt.timedelta(days=1),
                    end=previous + dt.timedelta(days=7),
                    precision="week",
                    rule="shortly_after",
                    phrase=self.text[self.pieces.start(first) : self.pieces.end(end)],
                )
                return end, window, canon
        return None

    def slipped_range(self, first: int, last: int, window: Window) -> int | None:
        """In "delayed from Q2 to Q3" only Q3 holds: where the range's second end starts."""
        if window.rule != "range" or self.pieces.tokens[first][0] != "from":
            return None
        if not clause(self.pieces, first, last).moved_from():
            return None
        for k in range(first + 1, last + 1):
            if _translate(list(self.pieces.tokens[k])) == [".."]:
                return k + 1
        return None

    def run(self) -> list[Found]:
        found: list[Found] = []
        bits = self.bits
        n = len(bits)
        first = 0
        while first < n:
            # Only runs of known words that name a period can hold a phrase.
            if not bits[first] & _KNOWN_BIT or not self.known(first):
                first += 1
                continue
            last = first
            while last + 1 < n and self.continues(last + 1):
                last += 1
            anchors = [k for k in range(first, last + 1) if bits[k] & _ANCHOR_BIT]
            if anchors or (found and any(
                self.pieces.tokens[k][0] in _AFTER_FIRST for k in range(first, last + 1)
            )):  # fmt: skip
                self.run_phrases(first, last, anchors, found)
            first = last + 1
        return found

    def run_phrases(self, first: int, last: int, anchors: list[int], found: list[Found]) -> None:
        """Find the phrases in pieces first..last, a run that no unknown word breaks."""
        bits, pieces = self.bits, self.pieces
        start = first
        while start <= last:
            if bits[start] & (_HEDGE_BIT | _RANGE_BIT):
                start += 1
                continue
            stop = min(last, start + _MAX_PIECES - 1)
            while pieces.end(stop) - pieces.start(start) > MAX_PHRASE_LENGTH:
                stop -= 1
            anchor = next((k for k in anchors if k >= start), last + 1)
            hit = self.longest(start, anchor, stop) if anchor <= stop else None
            if hit is None:
                try:
                    hit = self.after_previous(start, stop, found)
                except (ValueError, OverflowError):
                    hit = None
            if hit is None:
                start += 1
                continue
            end, window, canon = hit
            second = self.slipped_range(start, end, window)
            if second is not None:
                start = second
                continue
            if self.promised(start, end, window, canon):
                found.append(Found(window=window, span=(pieces.start(start), pieces.end(end))))
            start = end + 1


def find_windows(text: str, announced: dt.date) -> list[Found]:
    """Every launch window that ``text`` promises, in order of appearance.

    Reads English and Indonesian sentences and paragraphs with the grammar of parse_window:
    each ``Found.window`` is what parse_window reads from ``text[span[0]:span[1]]``, except
    "soon after" with no date of its own, which is the week after the window before it. Left
    out: what only looks like a date ("GPT-4", "Android 15", "70B"), windows that end before
    ``announced``, plans the text abandons ("originally planned for Q2"), periods it excludes
    ("but not September") and what already happened. A text with no promise gives [].
    Raises WindowError for a text longer than MAX_TEXT_LENGTH, and nothing else.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise WindowError(
            f"The text is {len(text):,} characters long; windows are read from at most "
            f"{MAX_TEXT_LENGTH:,}."
        )
    return _Finder(text, announced).run()
