"""Matching a launch's name where a source writes it, the way each kind of source writes it.

- **Model ids and display names** (models, anthropic-models): ``IdPattern``. Case, hyphens,
  dots, underscores and spaces are ignored, so "Claude 3.5 Haiku", "claude-3-5-haiku",
  "claude-3.5-haiku" and "claude 35 haiku" are one name; a trailing snapshot date or revision
  ("-20241022", "-2024-08-06", "-1212", "-001", "-latest") is ignored unless the pattern gives
  one itself. "grok-3" does not match "grok-3-mini" (another model) nor "grok-3-beta" (unless
  the probe tracks a beta); "grok-3*" matches all of them.
- **Tags and release names** (github): ``IdPattern`` with ``versions=True``: the dots of a
  version count ("v2.0" is not "v20"), and "v" before a version is optional.
- **Text** (feed, page; release names): ``TextPattern``. Case, spacing and punctuation are
  ignored ("Grok 3" finds "Grok-3", "grok3" and "GROK 3"), names must stand as whole words
  ("Grok 3" is not in "Grok 35", "Grok 3.5" or "MyGrok 3"), and a smaller sibling is another
  product ("Grok 3 mini"). ``*`` stands for up to 200 characters in between.

Nothing here uses a regular expression built from user text in a way that can backtrack
badly: text search is ``str.find`` over a compacted copy, and wildcard id patterns are capped
in length and number of wildcards.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

MAX_SPAN = 200  # how far apart the pieces of a text pattern may be
MAX_WILDCARDS = 5
# Words that, right after a name, make it a smaller sibling product ("Grok 3 mini").
SIBLINGS = frozenset({"mini", "nano", "lite", "tiny", "small"})
# Pre-release markers of tags and model ids.
PRE_WORDS = ("alpha", "beta", "rc", "pre", "preview", "dev", "canary", "nightly", "snapshot", "exp")
_PRERELEASE = re.compile(
    r"(?:^|[^a-z])(?:alpha|beta|rc|pre|preview|dev|canary|nightly|snapshot|experimental|exp)"
    r"(?:[^a-z]|$)|\d(?:a|b|rc|c)\d",
)
_TOKEN = re.compile(r"[^\W_]+")
_SEPARATORS = "-_. /:"
_BETA_SUFFIX = frozenset({"alpha", "beta", "preview", "exp", "experimental", "rc"})


def compact(text: str) -> str:
    """*text* in lower case with everything but letters and digits removed."""
    return "".join(_TOKEN.findall(text.lower()))


def is_prerelease(tag: str) -> bool:
    """A tag or version that names a pre-release: semver "-rc.1", "-beta", "-alpha.2",
    PEP 440 "2.0a1", "2.0b3", "2.0rc1", ".dev4", and "preview", "canary", "nightly"."""
    low = tag.lower()
    return bool(_PRERELEASE.search(low)) or bool(re.search(r"\drc\d*$", low))


# --------------------------------------------------------------------------- ids


def _is_date_suffix(token: str) -> bool:
    if token == "latest":
        return True
    if not token.isdigit():
        return False
    if len(token) in (3, 6, 8):
        return True  # revision 001, YYMMDD, YYYYMMDD
    if len(token) == 4:
        a, b = int(token[:2]), int(token[2:])
        mmdd = 1 <= a <= 12 and 1 <= b <= 31
        yymm = 23 <= a <= 40 and 1 <= b <= 12
        return mmdd or yymm
    return False


def _strip_suffixes(tokens: list[str], beta: bool) -> list[str]:
    out = list(tokens)
    while len(out) > 1:
        if (
            len(out) > 3
            and len(out[-3]) == 4
            and out[-3].isdigit()
            and len(out[-2]) == 2
            and out[-2].isdigit()
            and len(out[-1]) == 2
            and out[-1].isdigit()
        ):
            del out[-3:]  # 2024-08-06
            continue
        if _is_date_suffix(out[-1]) or (beta and out[-1].rstrip("0123456789") in _BETA_SUFFIX):
            out.pop()
            continue
        break
    return out


def _id_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True, slots=True)
class IdPattern:
    """A model id / tag pattern (see the module docstring)."""

    text: str
    versions: bool = False
    beta: bool = False

    @property
    def wild(self) -> bool:
        """The pattern has * or ? in it."""
        return "*" in self.text or "?" in self.text

    def matches(self, value: str) -> bool:
        """Whether *value* (a model id, a display name, a tag) is what the pattern names."""
        value = value[:300]
        if self.wild:
            return _wild_regex(self.text, self.versions).fullmatch(value.lower()) is not None
        if self.versions:
            return _version_key(value, self.beta) == _version_key(self.text, self.beta)
        wanted = _id_tokens(self.text)
        if not wanted:
            return False
        tokens = _id_tokens(value)
        if _strip_suffixes(wanted, False) != wanted:
            return "".join(tokens) == "".join(wanted)  # the pattern names a snapshot itself
        return "".join(_strip_suffixes(tokens, self.beta)) == "".join(wanted)


def _version_key(text: str, beta: bool) -> str:
    low = text.strip().lower()
    low = re.sub(r"^v(?=\d)", "", low)
    tokens = re.split(r"([-_. /:]+)", low)
    # separators count (v2.0 is not v20) but which separator does not.
    key = "".join("." if i % 2 else t for i, t in enumerate(tokens))
    if beta:
        key = re.sub(r"[.](?:alpha|beta|preview|rc)(?:[.]?\d+)?$", "", key)
    return key


def _wild_regex(pattern: str, versions: bool) -> re.Pattern[str]:
    """A fullmatch regex for a wildcard pattern: * any run, ? one character, separators in the
    pattern match any separator; between digits a separator is optional unless *versions*."""
    sep = "[" + re.escape(_SEPARATORS) + "]"
    low = pattern.lower()
    if versions:
        low = re.sub(r"^v(?=\d)", "", low)
    out: list[str] = [r"v?" if versions else ""]
    i = 0
    while i < len(low):
        ch = low[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch in _SEPARATORS:
            j = i
            while j < len(low) and low[j] in _SEPARATORS:
                j += 1
            prev_digit = i > 0 and low[i - 1].isdigit()
            next_digit = j < len(low) and low[j].isdigit()
            guard = "(?![0-9])" if prev_digit else ""
            if prev_digit and next_digit and not versions:
                out.append(f"{sep}?")
            else:
                out.append(f"{guard}{sep}+")
            i = j
            continue
        else:
            out.append(re.escape(ch))
            nxt = low[i + 1] if i + 1 < len(low) else ""
            if nxt and nxt.isalnum() and ch.isdigit() != nxt.isdigit():
                out.append(f"{sep}?")  # grok3 also matches grok-3
        i += 1
    return re.compile("".join(out))


def check_id_pattern(text: str) -> str | None:
    """Why *text* cannot be an id pattern, or None when it can."""
    if text.count("*") + text.count("?") > MAX_WILDCARDS:
        return f"use at most {MAX_WILDCARDS} wildcards"
    if not compact(text.replace("*", "").replace("?", "")):
        return "that pattern matches everything"
    return None


# --------------------------------------------------------------------------- text


@dataclass(frozen=True, slots=True)
class _Compacted:
    """A text's letters and digits in lower case, with the way back to the text's offsets."""

    text: str
    compact: str
    starts: list[int]  # compact offset where each token starts
    origins: list[int]  # text offset where each token starts
    ends: list[int]  # compact offset where each token ends

    @classmethod
    def of(cls, text: str) -> _Compacted:
        parts: list[str] = []
        starts: list[int] = []
        origins: list[int] = []
        ends: list[int] = []
        pos = 0
        for m in _TOKEN.finditer(text):
            token = m.group(0)
            low = token.lower()
            if len(low) != len(token):
                low = token  # a letter whose lower case changes length: keep it as it is
            starts.append(pos)
            origins.append(m.start())
            parts.append(low)
            pos += len(low)
            ends.append(pos)
        return cls(text, "".join(parts), starts, origins, ends)

    def token_at(self, offset: int) -> int:
        """The index of the token holding compact *offset*."""
        return bisect.bisect_right(self.starts, offset) - 1

    def origin(self, offset: int) -> int:
        """The text offset of compact *offset*."""
        k = self.token_at(offset)
        return self.origins[k] + offset - self.starts[k]


@dataclass(frozen=True, slots=True)
class TextPattern:
    """Pieces of text that must appear in order, whole words, each piece within MAX_SPAN
    characters of the previous one (see the module docstring)."""

    pieces: tuple[str, ...]  # compacted
    raw: tuple[str, ...]

    @classmethod
    def of(cls, pattern: str) -> TextPattern:
        """Split *pattern* at ``*``."""
        raw = tuple(p.strip() for p in pattern.split("*") if compact(p))
        return cls(tuple(compact(p) for p in raw), raw)

    def _whole(self, c: _Compacted, start: int, piece: str) -> bool:
        end = start + len(piece)
        k = c.token_at(start)
        if k < 0 or c.starts[k] != start:
            return False
        last = c.token_at(end - 1)
        if c.ends[last] != end:
            return False
        after = c.origins[last] + (c.ends[last] - c.starts[last])
        text = c.text
        # "Grok 3" is not "Grok 3.5" nor "Grok 3-1": a version goes on after a dot or dash.
        if (
            after + 1 < len(text)
            and text[after] in ".,-_"
            and text[after + 1].isdigit()
            and piece[-1:].isdigit()
            and text[after] != ","
        ):
            return False
        nxt = last + 1
        if nxt < len(c.starts):
            word = c.compact[c.starts[nxt] : c.ends[nxt]]
            gap = text[after : c.origins[nxt]]
            if word in SIBLINGS and gap.strip(" -") == "" and not piece.endswith(word):
                return False
        return True

    def _find(self, c: _Compacted, piece: str, start: int, limit: int) -> int:
        pos = start
        while True:
            found = c.compact.find(piece, pos, limit)
            if found < 0:
                return -1
            if self._whole(c, found, piece):
                return found
            pos = found + 1

    def find_all(self, text: str, limit: int = 50) -> list[tuple[int, int]]:
        """Spans in *text* (its own offsets) of up to *limit* matches, in order."""
        if not self.pieces:
            return []
        c = _Compacted.of(text)
        out: list[tuple[int, int]] = []
        first, rest = self.pieces[0], self.pieces[1:]
        pos = 0
        size = len(c.compact)
        while len(out) < limit:
            start = self._find(c, first, pos, size)
            if start < 0:
                break
            end = start + len(first)
            for piece in rest:
                found = self._find(c, piece, end, min(size, end + MAX_SPAN + len(piece)))
                if found < 0:
                    break
                end = found + len(piece)
            else:
                a, b = c.origin(start), c.origin(end - 1) + 1
                out.append((a, b))
                pos = end
                continue
            pos = start + 1
        return out

    def search(self, text: str) -> tuple[int, int] | None:
        """The span of the first match in *text*, or None."""
        found = self.find_all(text, limit=1)
        return found[0] if found else None
