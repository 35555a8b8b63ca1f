"""Read announced launch windows ("Q3 2025", "akhir tahun depan", "in 6 weeks") as date ranges.

Two doors, one grammar: ``parse_window`` reads one phrase strictly; ``find_windows`` tries the
phrases inside a sentence or paragraph with the same vocabulary and rules, so every window it
finds is what ``parse_window`` reads from its span. Anything no rule reads raises
``WindowError``: the parser never guesses. It is pure and stdlib-only, and works in two steps:

1. ``vocabulary.canonical_words`` normalises a phrase: lower case, punctuation dropped (except
   the ``-``, ``.`` and ``/`` inside numeric dates and the ``..`` of ranges), hedges and
   connectors removed, and English and Indonesian words mapped onto one small canonical
   English vocabulary ("akhir" -> "end", "bulan" -> "month", "enam" -> "6", "Maret" -> "mar"
   ...). Indonesian modifiers that follow their noun ("tahun depan", "bulan ini") are moved in
   front of it, so one rule serves both languages.
2. ``rules.RULES`` is an ordered list of ``(name, regex, handler)``; the first regex that
   matches the whole canonical text wins and its handler turns the match into dates.

Modules, in the order a phrase meets them:

- ``model``: ``Window``, ``Found``, ``WindowError``, the limits and the example phrases.
- ``pieces``: raw text cut into words (``raw_tokens``) and, for a paragraph, into pieces that
  keep their offsets and the punctuation between them (``scan``).
- ``vocabulary``: the English and Indonesian word tables and the canonical words.
- ``rules``: the ordered rules and ``read_canonical``; ``handlers`` turn a rule's match into
  dates with the calendar arithmetic of ``dates``.
- ``phrase``: ``parse_window``, the strict door.
- ``finder``: ``find_windows``, the lenient door; ``roles`` says what each word can do in a
  phrase and ``clause`` judges the words around one (a promise, an abandoned plan, the past).

Product decisions the specification left open, in one place:

* ``by`` only means something before a bare year ("by 2025" ends Dec 31, 2024). Everywhere
  else it is a connector: "by Christmas" is Christmas Day, "by March" the end of March,
  "by the end of Q3" the end of Q3. "before YEAR" / "sebelum YEAR" read like "by YEAR".
* "before X" (not a holiday, year or "before the end of ...") ends the day before X starts;
  it is refused when X has already started on the announcement date.
* "shortly / soon / just after X" is the week after X ends; "before Christmas" is Christmas
  Eve, "by Christmas" Christmas Day, and a holiday's window runs from the announcement to it.
* "X to Y" ("Q2 to Q3", "hingga", "s/d") runs from the start of X to the end of Y.
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

In a text (``find_windows``), a phrase that reads is kept only when the text promises it:

* A bare word ("2025", "March", "Q3", "summer") counts only after a lead-in such as "in", "by",
  "around" or "pada" ("the 2025 roadmap" is no window), and a count ("6 weeks") only after "in",
  "within", "over" or "dalam", before "from now" or "lagi", or as "the next / coming N".
  Lower-case "may", "march", "fall" and "spring" are dates only after a word such as "in",
  "by", "early" or "bulan", or before a day number ("it may slip" is no May).
* Numbers that belong to a name are never dates: "GPT-4", "Phi-3", "Android 15", "Grok 3 in
  March" (March is kept, 3 is not).
* "soon after" / "shortly after" with no date of its own is the week after the window before it.
* Left out: windows that end before the announcement, plans the text abandons ("originally
  planned for Q2"; "delayed from Q2 to Q3" keeps Q3), excluded periods ("but not September"),
  negated ones ("will not ship in March", while "won't ship until March" promises March), and
  what already happened ("launched in May", "three weeks ago").
"""

from __future__ import annotations

from tracker.windows.finder import find_windows
from tracker.windows.model import (
    EXAMPLES,
    EXAMPLES_EN,
    EXAMPLES_ID,
    MAX_PHRASE_LENGTH,
    MAX_TEXT_LENGTH,
    Found,
    Window,
    WindowError,
)
from tracker.windows.phrase import parse_window

__all__ = [
    "EXAMPLES",
    "EXAMPLES_EN",
    "EXAMPLES_ID",
    "MAX_PHRASE_LENGTH",
    "MAX_TEXT_LENGTH",
    "Found",
    "Window",
    "WindowError",
    "find_windows",
    "parse_window",
]
