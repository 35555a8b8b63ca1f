"""The words of the grammar: English and Indonesian mapped onto one small canonical vocabulary.

``canonical_words`` turns a phrase into canonical words: ``translate`` maps each word or
multi-word key of ``VOCAB`` onto its canonical words ("akhir" -> "end", "Maret" -> "mar",
hedges -> nothing), and ``tidy`` fixes the few that depend on their neighbours (Indonesian
modifiers that follow their noun, "by", "later", "ke-3"). The rules in
``tracker.windows.rules`` then read the canonical text.
"""

from __future__ import annotations

import re
from typing import Final

from tracker.windows.pieces import raw_tokens

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
    """The canonical words of a phrase (step 1 of the reading in tracker.windows' docstring)."""
    return tidy(translate(raw_tokens(phrase)))


def looks_indonesian(phrase: str) -> bool:
    """True when the phrase uses a word only Indonesian uses (for choosing examples)."""
    return any(token in _ID_MARKERS for token in raw_tokens(phrase))
