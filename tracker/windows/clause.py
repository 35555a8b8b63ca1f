"""The clause around a phrase that reads as a window: is it a promise, or a plan the text
abandons, a period it excludes, something that already happened? ``find_windows`` asks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from tracker.windows.pieces import NONE, Pieces

__all__ = ["Clause", "clause"]


@dataclass(frozen=True, slots=True)
class Clause:
    """The words of the clause around a phrase: before it (nearest last) and after it."""

    before: tuple[str, ...]
    after: tuple[str, ...]

    def moved_from(self) -> bool:
        """Whether the phrase follows "delayed" or "pushed back" (then "from" gives a plan up)."""
        return bool(self.before) and (self.before[0], "from") in _ABANDON_PAIRS

    def dropped(self, *, relative: bool, first: str) -> str | None:
        """Why the phrase between ``before`` and ``after`` is no promise, or None if it is one.

        ``relative`` marks a reading counted from the announcement ("in 6 weeks"), which a
        following "after launch" or "later" would tie to some other moment; ``first`` is the
        phrase's first word.
        """
        nearest = self.before[0] if self.before else ""
        following = self.after[0] if self.after else ""
        if nearest in _EXCLUDING:
            return "excluded"  # "but not September", "earlier this year", "since March"
        if following in _PAST_AFTER or (relative and following in _RELATIVE_AFTER):
            return "past"  # "three weeks ago", "two weeks after launch"
        # An abandoned plan counts until the clause says what holds now ("... now Q3"); "from
        # Q2 to Q3" gives up Q2 but promises Q3.
        if nearest not in _TOWARDS:
            earlier = ""
            for word in self.before:
                if word in _RESETS:
                    break
                if word in _ABANDON or (word, earlier) in _ABANDON_PAIRS:
                    return "abandoned"
                earlier = word
        # "won't ship until March" still promises March.
        if (
            nearest not in _NOT_UNTIL
            and first not in _NOT_UNTIL
            and not _NEGATIONS.isdisjoint(self.before)
        ):
            return "negated"
        words = self.before + self.after
        if not _PAST.isdisjoint(words) and _FUTURE.isdisjoint(words):
            return "past"
        return None


# The words that decide. Tokens are lower-case with apostrophes removed ("won't" -> "wont").
_CLAUSE_STOPS: Final = frozenset(
    {
        "but", "however", "yet", "although", "though", "whereas", "while", "whilst",
        "namun", "tetapi", "tapi", "sedangkan", "melainkan", "padahal", "sementara",
    }
)  # fmt: skip
_EXCLUDING: Final = frozenset(
    {
        "not", "except", "excluding", "besides", "than", "earlier", "last", "past", "previous",
        "since", "ago", "kecuali", "selain", "bukan", "tidak", "tak", "sejak", "semenjak", "lalu",
    }
)  # fmt: skip
_PAST_AFTER: Final = frozenset(
    {"ago", "earlier", "prior", "previously", "lalu", "silam", "sebelumnya", "terakhir"}
)
_RELATIVE_AFTER: Final = frozenset(
    {
        "before", "after", "later", "into", "since", "prior", "sebelum", "setelah", "sesudah",
        "kemudian", "sejak", "berikutnya",
    }
)  # fmt: skip
_TOWARDS: Final = frozenset({"to", "until", "till", "into", "ke", "hingga", "sampai"})
_NOT_UNTIL: Final = frozenset({"until", "till", "before", "sebelum", "hingga", "sampai"})
_RESETS: Final = frozenset({"now", "instead", "currently", "kini", "sekarang"})
_ABANDON: Final = frozenset(
    {
        "originally", "initially", "previously", "formerly", "semula", "awalnya", "sebelumnya",
        "tadinya", "mulanya", "seharusnya", "semestinya",
    }
)  # fmt: skip
# (earlier word, later word): "had hoped", "was supposed", "delayed from".
_ABANDON_PAIRS: Final = frozenset(
    [
        *(
            ("had", verb)
            for verb in (
                "hoped", "planned", "expected", "intended", "aimed", "targeted", "promised",
                "wanted", "scheduled", "slated",
            )
        ),
        *(
            (be, verb)
            for be in ("was", "were")
            for verb in (
                "supposed", "planned", "scheduled", "expected", "slated", "due", "meant",
                "set", "targeted", "originally", "initially",
            )
        ),
        *(
            (verb, "from")
            for verb in (
                "delayed", "pushed", "moved", "postponed", "slipped", "shifted", "back",
                "rescheduled", "diundur", "ditunda", "mundur", "bergeser", "dimundurkan",
            )
        ),
        ("used", "to"),
        ("instead", "of"),
        ("rather", "than"),
        ("no", "longer"),
        ("tidak", "lagi"),
        ("bukan", "lagi"),
        ("rencana", "awal"),
    ]
)  # fmt: skip
_NEGATIONS: Final = frozenset(
    {
        "not", "never", "no", "wont", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt",
        "werent", "cannot", "cant", "couldnt", "wouldnt", "shouldnt", "hasnt", "havent",
        "tidak", "tak", "bukan", "belum", "takkan", "jangan",
    }
)  # fmt: skip
_PAST: Final = frozenset(
    {
        "launched", "released", "shipped", "introduced", "unveiled", "debuted", "arrived",
        "came", "went", "became", "rolled", "published", "delivered", "landed", "happened",
        "occurred", "began", "opened", "completed", "finished", "trained", "was", "were", "did",
        "saw", "took", "had", "been", "telah", "sudah", "pernah", "sempat",
        "kemarin", "tadi", "silam",
    }
)  # fmt: skip
_FUTURE: Final = frozenset(
    {
        "will", "wont", "ll", "itll", "theyll", "youll", "shell", "hell", "well", "ill", "shall",
        "going", "gonna", "plan", "plans", "planning", "planned", "expect", "expects",
        "expected", "expecting", "hope", "hopes", "hoping", "aim", "aims", "aiming", "intend",
        "intends", "should", "would", "could", "may", "might", "coming", "upcoming", "soon",
        "next", "due", "slated", "scheduled", "set", "targeting", "targeted", "delayed",
        "pushed", "postponed", "moved", "rescheduled", "shifted", "slipped", "now",
        "akan", "bakal", "segera", "rencana", "berencana", "direncanakan", "dijadwalkan",
        "diharapkan", "diperkirakan", "ditargetkan", "menargetkan", "hendak", "ingin", "siap",
        "ditunda", "diundur", "mundur", "bergeser",
    }
)  # fmt: skip
_CLAUSE_REACH: Final = 24


def clause(pieces: Pieces, first: int, last: int) -> Clause:
    """The clause around pieces first..last: words back to the previous comma, sentence end or
    "but", and on to the next one."""
    tokens, gaps, stops = pieces.tokens, pieces.gaps, _CLAUSE_STOPS
    before: list[str] = []
    k = first - 1
    while k >= 0 and len(before) < _CLAUSE_REACH and gaps[k + 1] == NONE:
        words = tokens[k]
        if words[0] in stops or (len(words) > 1 and not stops.isdisjoint(words)):
            break
        before.extend(reversed(words))
        k -= 1
    after: list[str] = []
    k = last + 1
    while k < len(tokens) and len(after) < _CLAUSE_REACH and gaps[k] == NONE:
        words = tokens[k]
        if words[0] in stops or (len(words) > 1 and not stops.isdisjoint(words)):
            break
        after.extend(words)
        k += 1
    return Clause(tuple(before), tuple(after))
