"""Sentences of a text: where they start and end, and the passage around a launch's name (at
most :data:`MAX_PASSAGE` characters), which tracker.probes.classify then reads."""

from __future__ import annotations

import re

MAX_PASSAGE = 400  # a passage longer than this is cut around the product's name


_SENTENCE_END = re.compile(r"(?<=[.!?\u3002])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(]*[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "etc.", "mr.", "ms.", "dr.", "inc.", "no.", "approx.")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of *text*: lines are cut at newlines, then at ., ! or ? followed
    by a space and a capital or a digit (not after "e.g." and friends, nor inside "3.5")."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        start = line_start
        for brk in _SENTENCE_END.finditer(line):
            head = line[: brk.start()].lower()
            if head.endswith(_ABBREVIATIONS):
                continue
            spans.append((start, line_start + brk.start()))
            start = line_start + brk.end()
        spans.append((start, line_start + len(line)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def passage_around(text: str, span: tuple[int, int]) -> tuple[str, tuple[int, int]]:
    """The sentence of *text* holding *span*, cut to MAX_PASSAGE characters around it, and
    where the span is inside the passage."""
    for a, b in sentence_spans(text):
        if a <= span[0] < b:
            break
    else:
        a, b = 0, len(text)
    if b - a > MAX_PASSAGE:
        half = (MAX_PASSAGE - (span[1] - span[0])) // 2
        a = max(a, span[0] - max(half, 0))
        b = min(b, a + MAX_PASSAGE)
    return text[a:b], (span[0] - a, min(span[1], b) - a)
