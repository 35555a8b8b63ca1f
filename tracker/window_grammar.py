"""The grammar behind tracker.windows: vocabulary, canonical words, date arithmetic and rules.

tracker.windows is the door (``parse_window`` for a phrase, ``find_windows`` for a text) and
its docstring holds the product decisions; this module is what both doors read with:
``canonical_words`` turns a phrase into the small canonical vocabulary, ``read_canonical``
applies the first rule that matches all of it. Everything here is pure and stdlib-only.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from typing import Final, NamedTuple

from tracker.window_scan import raw_tokens

YEAR_MIN: Final = 1970
YEAR_MAX: Final = 2200


class Span(NamedTuple):
    """What a rule handler produces; ``parse_window`` adds the rule name and phrase."""

    start: dt.date
    end: dt.date
    precision: str


class Reject(Exception):
    """Raised inside the parser; ``parse_window`` turns it into a WindowError with examples."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- vocabulary
# Keys are space-separated words (multi-word keys win over shorter ones); values are the
# canonical words they become ("" drops them). "@this"/"@next" mark Indonesian modifiers that
# follow their noun ("tahun depan"); "@within" marks "within/over" for one special case.

MONTHS: Final = (
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
)  # fmt: skip

MONTH_WORDS: Final[dict[str, str]] = {
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


VOCAB: Final = _vocabulary(MONTH_WORDS, _EN_WORDS, _ID_WORDS)
_LONGEST_KEY: Final = max(len(key) for key in VOCAB)
_STARTS_LONGER_KEY: Final = frozenset(key[0] for key in VOCAB if len(key) > 1)
_ONE_WORD: Final = {key[0]: value for key, value in VOCAB.items() if len(key) == 1}
# Words that mark a phrase as Indonesian, to pick the examples shown in an error message.
_ID_MARKERS: Final = frozenset(word for key in _ID_WORDS for word in key.split()) - {"s", "d"}

UNITS: Final = frozenset({"day", "week", "month", "year", "quarter", "half", "weekend"})
SEASONS: Final = frozenset({"spring", "summer", "fall", "winter"})
_YEAR_TOKEN: Final = re.compile(r"[0-9]{4}")
SHORT_YEAR: Final = re.compile(r"['\u2018\u2019`][0-9]{2}(?![0-9])")


def _ordinal(number: str) -> str:
    """'3' -> '3rd' (used for Indonesian "ke-3")."""
    suffix = {"1": "st", "2": "nd", "3": "rd"}.get(number[-1], "th")
    if number[-2:] in {"11", "12", "13"}:
        suffix = "th"
    return number + suffix


def translate(tokens: list[str]) -> list[str]:
    """Map words onto the canonical vocabulary, longest multi-word match first."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] not in _STARTS_LONGER_KEY:
            one = _ONE_WORD.get(tokens[i])
            if one is None:
                out.append(tokens[i])
            else:
                out.extend(one)
            i += 1
            continue
        for size in range(min(_LONGEST_KEY, len(tokens) - i), 0, -1):
            key = tuple(tokens[i : i + size])
            if key in VOCAB:
                out.extend(VOCAB[key])
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def tidy(tokens: list[str]) -> list[str]:
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
        elif token in {"month", "year"} and (nxt in MONTHS or _YEAR_TOKEN.fullmatch(nxt)):
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
            if out and (out[-1] in UNITS or out[-1] in SEASONS or out[-1] in MONTHS):
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


def canonical_words(phrase: str) -> list[str]:
    """The canonical words of a phrase (see the module docstring)."""
    return tidy(translate(raw_tokens(phrase)))


def looks_indonesian(phrase: str) -> bool:
    """True when the phrase uses a word only Indonesian uses (for choosing examples)."""
    return any(token in _ID_MARKERS for token in raw_tokens(phrase))


# --------------------------------------------------------------------------- date helpers


def _year(value: int) -> int:
    """A year, refused outside the supported range."""
    if not YEAR_MIN <= value <= YEAR_MAX:
        raise Reject(f"the year {value} is outside {YEAR_MIN}-{YEAR_MAX}")
    return value


_MONTH_DAYS: Final = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _days_in(year: int, month: int) -> int:
    """How many days a month (1-12) has; calendar.monthrange without the weekday."""
    return 29 if month == 2 and calendar.isleap(year) else _MONTH_DAYS[month]


def _last_day(year: int, month: int) -> dt.date:
    """The last day of a month."""
    return dt.date(year, month, _days_in(year, month))


def _month_span(year: int, month: int, precision: str = "month") -> Span:
    """The whole of one month."""
    return Span(dt.date(year, month, 1), _last_day(year, month), precision)


def _months_span(year: int, first_month: int, count: int, precision: str) -> Span:
    """``count`` whole months from ``first_month`` of ``year`` (may run into the next year)."""
    start = dt.date(year, first_month, 1)
    end = _add_months(start, count) - dt.timedelta(days=1)
    return Span(start, end, precision)


def _add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping to the month's end (Aug 31 + 6 months = Feb 28)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(day.day, _days_in(year, month)))


def _date(year: int, month: int, day: int) -> dt.date:
    """A real calendar date, or a rejection that says why not."""
    if not 1 <= month <= 12:
        raise Reject(f"there is no month {month}")
    if not 1 <= day <= _days_in(year, month):
        raise Reject(f"{calendar.month_name[month]} {year} has no day {day}")
    return dt.date(year, month, day)


def _first_occurrence(
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
    return MONTHS.index(name) + 1


def _day_number(text: str) -> int:
    """'18th' -> 18."""
    return int(re.sub(r"[a-z]+", "", text))


def _third_of_month(year: int, month: int, part: str | None) -> Span:
    """A month, or its early (1-10), mid (11-20) or late/end (21-last) third."""
    last = _last_day(year, month)
    if part == "early":
        return Span(dt.date(year, month, 1), dt.date(year, month, 10), "month")
    if part == "mid":
        return Span(dt.date(year, month, 11), dt.date(year, month, 20), "month")
    if part == "end":
        return Span(dt.date(year, month, 21), last, "month")
    return Span(dt.date(year, month, 1), last, "month")


def _part_of_months(year: int, first_month: int, part: str | None, precision: str) -> Span:
    """A three-month period (quarter, season), or its early / mid / end month."""
    if part is None:
        return _months_span(year, first_month, 3, precision)
    first = _add_months(dt.date(year, first_month, 1), {"early": 0, "mid": 1, "end": 2}[part])
    return _month_span(first.year, first.month)


# --------------------------------------------------------------------------- handlers

_Handler = Callable[[re.Match[str], dt.date], Span]


def _group(match: re.Match[str], name: str) -> str | None:
    """A named group's text, or None when the group is absent from this pattern or unmatched."""
    if name not in match.re.groupindex:
        return None
    value = match[name]
    return value if isinstance(value, str) else None


def _iso_date(match: re.Match[str], announced: dt.date) -> Span:
    day = _date(_year(int(match["y"])), int(match["m"]), int(match["d"]))
    return Span(day, day, "day")


def _numeric_date(match: re.Match[str], announced: dt.date) -> Span:
    # 03/04/2025 is March 4 in the US and April 3 in Indonesia: only accept what is unambiguous.
    year = _year(int(match["y"]))
    a, b = int(match["a"]), int(match["b"])
    readings: set[dt.date] = set()
    for day, month in ((a, b), (b, a)):
        if 1 <= month <= 12 and 1 <= day <= _days_in(year, month):
            readings.add(dt.date(year, month, day))
    if not readings:
        raise Reject(f"{match.group(0)} is not a real date")
    if len(readings) > 1:
        raise Reject(f"{match.group(0)} could be day/month or month/day; write it as YYYY-MM-DD")
    (only,) = readings
    return Span(only, only, "day")


def _numeric_month(match: re.Match[str], announced: dt.date) -> Span:
    month = int(match["m"])
    if not 1 <= month <= 12:
        raise Reject(f"there is no month {month}")
    return _month_span(_year(int(match["y"])), month)


def _day_month_year(match: re.Match[str], announced: dt.date) -> Span:
    year = _year_spec(match["ys"], announced)
    assert year is not None
    day = _date(year, _month_number(match["mon"]), _day_number(match["day"]))
    return Span(day, day, "day")


def _day_month(match: re.Match[str], announced: dt.date) -> Span:
    month, day = _month_number(match["mon"]), _day_number(match["day"])
    _date(2000, month, day)  # validate against a leap year so "Feb 29" is allowed
    # The next occurrence on or after the announcement; Feb 29 may be up to 8 years away.
    for year in range(announced.year, announced.year + 9):
        if day <= _days_in(year, month):
            candidate = dt.date(_year(year), month, day)
            if candidate >= announced:
                return Span(candidate, candidate, "day")
    raise Reject("that date is outside the supported years")


def _month_part(match: re.Match[str], announced: dt.date) -> Span:
    month, part = _month_number(match["mon"]), _group(match, "part")
    year = _year_spec(_group(match, "ys"), announced)
    if year is not None:
        return _third_of_month(year, month, part)
    return _first_occurrence(lambda y: _third_of_month(y, month, part), announced)


def _relative_month(match: re.Match[str], announced: dt.date) -> Span:
    first = dt.date(announced.year, announced.month, 1)
    if _group(match, "rel") == "next":
        first = _add_months(first, 1)
    return _third_of_month(_year(first.year), first.month, _group(match, "part"))


def _week(match: re.Match[str], announced: dt.date) -> Span:
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


def _quarter(match: re.Match[str], announced: dt.date) -> Span:
    quarter, part = _quarter_number(match["qt"]), _group(match, "part")
    year = _year_spec(_group(match, "ys"), announced)

    def make(y: int) -> Span:
        return _part_of_months(y, 3 * quarter - 2, part, "quarter")

    return make(year) if year is not None else _first_occurrence(make, announced)


def _relative_quarter(match: re.Match[str], announced: dt.date) -> Span:
    first = dt.date(announced.year, 3 * ((announced.month - 1) // 3) + 1, 1)
    if _group(match, "rel") == "next":
        first = _add_months(first, 3)
    return _part_of_months(_year(first.year), first.month, _group(match, "part"), "quarter")


def _half(match: re.Match[str], announced: dt.date) -> Span:
    # "h1", "1st half", "half 1", "half i" -> 1; anything else the pattern allows is 2.
    half = 1 if re.search(r"1|\bi$", match["ht"]) else 2
    year = _year_spec(_group(match, "ys"), announced)

    def make(y: int) -> Span:
        return _months_span(y, 1 if half == 1 else 7, 6, "half")

    return make(year) if year is not None else _first_occurrence(make, announced)


def _months_block(match: re.Match[str], announced: dt.date) -> Span:
    # "the first three months of 2027" is Q1, "the last six months of the year" is H2; "the last
    # three months" alone needs its year, or it would read as the months just gone.
    count = 3 if "3" in match.group(0).split() else 6
    which = _group(match, "which") or _group(match, "which2")
    first_month = 1 if which == "1st" else 13 - count
    precision = "quarter" if count == 3 else "half"
    year = _year_spec(_group(match, "ys"), announced)
    if which == "last" and year is None:
        raise Reject("say which year the last months belong to")

    def make(y: int) -> Span:
        return _months_span(y, first_month, count, precision)

    return make(year) if year is not None else _first_occurrence(make, announced)


_SEASON_START: Final = {"spring": 3, "summer": 6, "fall": 9, "winter": 12}


def _season(match: re.Match[str], announced: dt.date) -> Span:
    first_month, part = _SEASON_START[match["season"]], _group(match, "part")
    rel, year = _group(match, "rel"), _year_spec(_group(match, "ys"), announced)
    if rel is not None and year is not None:
        raise Reject("give either a year or this/next, not both")

    def make(y: int) -> Span:
        # Meteorological seasons; winter YEAR is December YEAR to February YEAR+1.
        return _part_of_months(y, first_month, part, "season")

    if year is not None:
        return make(year)
    return _first_occurrence(make, announced, starts_after=rel == "next")


_YEAR_PARTS: Final = {"early": (1, 4), "mid": (5, 8), "end": (9, 12)}


def _year_part(match: re.Match[str], announced: dt.date) -> Span:
    year = _year_spec(_group(match, "ys") or "year", announced)
    assert year is not None
    first, last = _YEAR_PARTS[match["part"]]
    return Span(dt.date(year, first, 1), _last_day(year, last), "year")


def _by_year(match: re.Match[str], announced: dt.date) -> Span:
    # "by 2025" means before 2025 begins.
    year = _year(int(match["year"]) - 1)
    end = dt.date(year, 12, 31)
    start = announced if announced <= end else dt.date(year, 1, 1)
    return Span(start, end, "year")


def _whole_year(match: re.Match[str], announced: dt.date) -> Span:
    year = _year_spec(match["ys"], announced)
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
        end = _add_months(announced, count * {"month": 1, "quarter": 3, "year": 12}[unit])
    return Span(announced, end, "duration")


def _duration(match: re.Match[str], announced: dt.date) -> Span:
    count, low = int(match["n"]), _group(match, "lo")
    if low is not None and int(low) > count:
        raise Reject(f"{low} is more than {count}")
    return _after(announced, count, match["unit"])


_VAGUE: Final = {"couple": 2, "few": 3, "several": 3}


def _vague_count(match: re.Match[str], announced: dt.date) -> Span:
    return _after(announced, _VAGUE[match["vague"]], match["unit"])


def _coming_plural(match: re.Match[str], announced: dt.date) -> Span:
    return _after(announced, 6, match["unit"])  # "the coming weeks": six of them


def _coming_single(match: re.Match[str], announced: dt.date) -> Span:
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


def _holiday(match: re.Match[str], announced: dt.date) -> Span:
    # "before Christmas" is Christmas Eve; "by Christmas" is Christmas Day.
    shift = dt.timedelta(days=1 if _group(match, "before") else 0)
    name = match["h"]

    def make(y: int) -> Span:
        day = _holiday_date(name, y) - shift
        return Span(day, day, "day")

    explicit = _group(match, "year")
    if explicit is not None:
        span = make(_year(int(explicit)))
    else:
        span = _first_occurrence(make, announced)
    # The window runs from the announcement to the holiday, like any deadline.
    return Span(min(announced, span.end), span.end, "day")


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


# --------------------------------------------------------------------------- rules

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
RULE_SOURCES: Final[tuple[tuple[str, str, _Handler], ...]] = (
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
        _year(day.year)
    return rule, span
