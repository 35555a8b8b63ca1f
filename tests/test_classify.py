"""The release / promise / neither classifier: a table of English and Indonesian sentences."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.probes.classify import Verdict, classify, passage_around, sentence_spans

ANNOUNCED = dt.date(2025, 2, 1)
R, P, N = Verdict.RELEASE, Verdict.PROMISE, Verdict.NEITHER

TABLE = [
    # English releases
    ("Grok 3 is available today for Premium+ subscribers.", R, None),
    ("Grok 3 is now available in the API.", R, None),
    ("Introducing Grok 3", R, None),
    ("We're releasing Grok 3 today.", R, None),
    ("We\u2019re releasing Grok 3 today.", R, None),
    ("Grok 3 is live on grok.com.", R, None),
    ("Grok 3 is rolling out now to all users.", R, None),
    ("Grok 3 is here, and voice mode is coming soon.", R, None),
    ("Today we launched Grok 3.", R, None),
    ("Grok 3 is now generally available.", R, None),
    # Indonesian releases
    ("Grok 3 tersedia mulai hari ini untuk semua pengguna.", R, None),
    ("Grok 3 resmi dirilis.", R, None),
    ("xAI resmi meluncurkan Grok 3.", R, None),
    ("Grok 3 kini tersedia di aplikasi.", R, None),
    # English promises
    ("Grok 3 is coming soon.", P, None),
    ("Grok 3 will be released later this year.", P, dt.date(2025, 12, 31)),
    ("Grok 3 is available soon.", P, None),
    ("Grok 3 is not yet available.", P, None),
    ("Grok 3 isn't available yet.", P, None),
    ("Introducing Grok 3, available in Q2 2025.", P, dt.date(2025, 6, 30)),
    ("Grok 3 arrives by the end of 2025.", P, dt.date(2025, 12, 31)),
    ("The Grok 3 API won't be released until March.", P, dt.date(2025, 3, 31)),
    ("Sign up for the Grok 3 waitlist.", P, None),
    # Indonesian promises
    ("Grok 3 segera hadir.", P, None),
    ("Grok 3 akan dirilis akhir tahun depan.", P, dt.date(2026, 12, 31)),
    ("Grok 3 belum tersedia di Indonesia.", P, None),
    # Neither
    ("Grok 3 benchmarks leaked on a forum.", N, None),
    ("What we learned training Grok 3.", N, None),
    ("Grok 3 kalahkan pesaing di papan peringkat.", N, None),
]


@pytest.mark.parametrize(("text", "verdict", "window_end"), TABLE)
def test_a_sentence_naming_the_launch_reads_as_release_promise_or_neither(
    text: str, verdict: Verdict, window_end: dt.date | None
) -> None:
    at = text.index("Grok 3")
    reading = classify(text, ANNOUNCED, mention=(at, at + 6))
    assert reading.verdict is verdict, reading
    assert (reading.window.end if reading.window else None) == window_end
    if reading.window is not None and reading.window_span is not None:
        a, b = reading.window_span
        assert text[a:b] == reading.window.phrase


def test_a_window_that_ended_before_the_text_is_no_promise() -> None:
    text = "Grok 1 was released in May 2023."
    assert classify(text, ANNOUNCED).verdict is R
    assert classify("Grok 1 came out in May 2023.", ANNOUNCED).verdict is N


def test_the_clause_naming_the_launch_decides() -> None:
    text = "Grok 2 is available today, but Grok 3 is coming later this year."
    at = text.index("Grok 3")
    reading = classify(text, ANNOUNCED, mention=(at, at + 6))
    assert reading.verdict is P
    assert reading.window is not None and reading.window.phrase == "later this year"
    at2 = text.index("Grok 2")
    assert classify(text, ANNOUNCED, mention=(at2, at2 + 6)).verdict is R


def test_sentences_split_at_lines_and_full_stops_but_not_inside_versions() -> None:
    text = "Grok 3.5 is out. It beats e.g. Grok 3! Really\nA new line"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "Grok 3.5 is out.",
        "It beats e.g. Grok 3!",
        "Really",
        "A new line",
    ]


def test_a_long_sentence_is_cut_around_the_name() -> None:
    text = "x " * 400 + "Grok 3 is live " + "y " * 400
    at = text.index("Grok 3")
    passage, span = passage_around(text, (at, at + 6))
    assert len(passage) <= 400
    assert passage[span[0] : span[1]] == "Grok 3"
