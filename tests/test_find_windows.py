"""Tests for tracker.windows.find_windows: the promises inside a sentence or a paragraph."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.windows import MAX_TEXT_LENGTH, Found, WindowError, find_windows, parse_window

D = dt.date
FEB = D(2025, 2, 3)  # a Monday
MID = D(2024, 6, 20)

# (text, announced, [(phrase in bold, window start, window end), ...])
FINDS: list[tuple[str, dt.date, list[tuple[str, dt.date, dt.date]]]] = [
    # every window the text promises, in order
    (
        "We plan to ship the small model in a couple of weeks and the full one later this year.",
        FEB,
        [("in a couple of weeks", FEB, D(2025, 2, 17)), ("later this year", D(2025, 1, 1),
                                                         D(2025, 12, 31))],
    ),
    ("Grok 5 is coming by the end of this year.", FEB,
     [("by the end of this year", D(2025, 9, 1), D(2025, 12, 31))]),
    ("The next model ships in weeks.", FEB, [("in weeks", FEB, D(2025, 3, 17))]),
    ("Enterprise access comes in the first three months of 2026.", FEB,
     [("in the first three months of 2026", D(2026, 1, 1), D(2026, 3, 31))]),
    ("It needs one more month.", FEB, [("one more month", FEB, D(2025, 3, 3))]),
    ("Expect it in Q3 2025 or later.", FEB,
     [("in Q3 2025 or later", D(2025, 7, 1), D(2025, 9, 30))]),
    ("Rollout starting March 2025.", FEB, [("starting March 2025", D(2025, 3, 1), D(2025, 3, 31))]),
    ("Release date: 2025-03-31.", FEB, [("2025-03-31", D(2025, 3, 31), D(2025, 3, 31))]),
    ("The SDK lands Sept. 3rd, 2025, with docs on March 31, 2025.", FEB,
     [("Sept. 3rd, 2025", D(2025, 9, 3), D(2025, 9, 3)),
      ("March 31, 2025", D(2025, 3, 31), D(2025, 3, 31))]),
    ("We will ship 3 weeks from now.", FEB, [("3 weeks from now", FEB, D(2025, 2, 24))]),
    ("It arrives roughly by the end of the year, hopefully.", FEB,
     [("by the end of the year", D(2025, 9, 1), D(2025, 12, 31))]),
    # Indonesian
    ("Model baru akan dirilis dalam beberapa minggu lagi, dan versi lengkapnya pada akhir tahun "
     "depan.", FEB,
     [("dalam beberapa minggu lagi", FEB, D(2025, 2, 24)),
      ("akhir tahun depan", D(2026, 9, 1), D(2026, 12, 31))]),
    ("Fitur suara menyusul tiga bulan pertama 2027.", FEB,
     [("tiga bulan pertama 2027", D(2027, 1, 1), D(2027, 3, 31))]),
    ("Peluncurannya paling lambat akhir tahun ini.", FEB,
     [("paling lambat akhir tahun ini", D(2025, 9, 1), D(2025, 12, 31))]),
    ("Semula dijadwalkan pada Maret, kini peluncuran diundur ke kuartal ketiga 2025.", FEB,
     [("kuartal ketiga 2025", D(2025, 7, 1), D(2025, 9, 30))]),
    # names and numbers that only look like dates
    ("Meet the 70B model with 200k context, built on Gemini 1.5 and GPT-4 Turbo, for Android 15, "
     "Phi-3 and 4K video.", FEB, []),
    ("Grok 3 arrives in March.", FEB, [("in March", D(2025, 3, 1), D(2025, 3, 31))]),
    ("GPT-4 in 6 weeks, Llama 3 by 2026.", FEB,
     [("in 6 weeks", FEB, D(2025, 3, 17)), ("by 2026", FEB, D(2025, 12, 31))]),
    ("It may arrive in weeks.", FEB, [("in weeks", FEB, D(2025, 3, 17))]),
    ("It took 6 weeks to train. Our 2025 roadmap fits 2048 tokens.", FEB, []),
    # windows that ended before the announcement, and what already happened
    ("The model launched in May 2023.", MID, []),
    ("Gemini 2.0 launched in December 2024.", FEB, []),
    ("We shipped Grok 2 earlier this year and Grok 3 will follow later this year.", MID,
     [("later this year", D(2024, 1, 1), D(2024, 12, 31))]),
    ("Three weeks ago we opened the waitlist.", FEB, []),
    ("Over the last few weeks we trained it; in the last three months we hired.", FEB, []),
    ("In the last three months of the year we launch.", FEB,
     [("In the last three months of the year", D(2025, 10, 1), D(2025, 12, 31))]),
    # plans the text abandons, periods it excludes, negations
    ("We had hoped to ship it in March, but it will now arrive in the summer.", FEB,
     [("in the summer", D(2025, 6, 1), D(2025, 8, 31))]),
    ("The app was originally planned for Q2.", FEB, []),
    ("Launch delayed from Q2 to Q3.", FEB, [("Q3", D(2025, 7, 1), D(2025, 9, 30))]),
    ("It ships in the autumn, but not September.", FEB,
     [("in the autumn", D(2025, 9, 1), D(2025, 11, 30))]),
    ("It ships in the autumn but not September.", FEB,
     [("in the autumn but not September", D(2025, 9, 1), D(2025, 11, 30))]),
    ("It will not ship in March.", FEB, []),
    ("Versi ini tidak dirilis bulan depan.", FEB, []),
    ("The API won't be released until March.", FEB, [("until March", D(2025, 3, 1),
                                                      D(2025, 3, 31))]),
    ("Tidak akan dirilis sebelum akhir tahun.", FEB,
     [("sebelum akhir tahun", D(2025, 9, 1), D(2025, 12, 31))]),
    # "soon after" with no date of its own follows the window before it
    ("The beta opens in early March and general availability comes soon after.", FEB,
     [("in early March", D(2025, 3, 1), D(2025, 3, 10)),
      ("soon after", D(2025, 3, 11), D(2025, 3, 17))]),
    ("Versi beta awal Maret, rilis umum tak lama setelah itu.", FEB,
     [("awal Maret", D(2025, 3, 1), D(2025, 3, 10)),
      ("tak lama setelah", D(2025, 3, 11), D(2025, 3, 17))]),
    ("The API follows soon after.", FEB, []),
    # no promise at all
    ("More details to come.", FEB, []),
    ("Nantikan kabar selanjutnya.", FEB, []),
    ("", FEB, []),
]  # fmt: skip


@pytest.mark.parametrize(("text", "announced", "expected"), FINDS)
def test_find_windows_reads_the_promises(
    text: str, announced: dt.date, expected: list[tuple[str, dt.date, dt.date]]
) -> None:
    found = find_windows(text, announced)
    got = [(text[f.span[0] : f.span[1]], f.window.start, f.window.end) for f in found]
    assert got == expected
    for item in found:
        assert item.window.phrase == text[item.span[0] : item.span[1]]


def test_soon_after_is_the_week_after_the_window_before_it() -> None:
    (beta, general) = find_windows("The beta in early March and GA soon after.", FEB)
    assert (beta.window.end, general.window.end) == (D(2025, 3, 10), D(2025, 3, 17))
    assert (general.window.rule, general.window.precision) == ("shortly_after", "week")


def test_found_window_is_what_parse_window_reads_from_the_span() -> None:
    text = "Tentatively, Q3 2025! Then the full release before Christmas."
    found = find_windows(text, MID)
    assert [f.window for f in found] == [
        parse_window("Q3 2025", MID),
        parse_window("before Christmas", MID),
    ]
    assert isinstance(found[0], Found)


def test_text_at_the_limit_is_read_and_one_more_character_is_refused() -> None:
    text = ("Ships in Q3 2025. " * 400)[:MAX_TEXT_LENGTH]
    found = find_windows(text, MID)
    assert len(found) == 278  # 277 whole sentences, then "Ships in Q3 20"
    assert text[found[-1].span[0] :] == "in Q3 20"
    assert found[-1].window.end == D(2024, 9, 30)
    with pytest.raises(WindowError) as info:
        find_windows(text + " ", MID)
    assert str(info.value) == (
        "The text is 5,001 characters long; windows are read from at most 5,000."
    )


def test_typographic_punctuation_and_spaces() -> None:
    text = "“It’s coming in the second half of 2025”\u2014and the app\u00a0before New Year’s."
    found = find_windows(text, MID)
    assert [text[a:b] for a, b in (f.span for f in found)] == [
        "in the second half of 2025",
        "before New Year’s",
    ]
    assert [f.window.end for f in found] == [D(2025, 12, 31), D(2024, 12, 31)]


def _check_spans(text: str, announced: dt.date, found: list[Found]) -> None:
    previous_end = 0
    for item in found:
        start, end = item.span
        assert previous_end <= start < end <= len(text)
        previous_end = end
        assert item.window.phrase == text[start:end]
        assert item.window.start <= item.window.end
        assert item.window.end >= announced
        if item.window.rule != "shortly_after" or any(c.isdigit() for c in text[start:end]):
            # The other door reads the same phrase the same way.
            assert parse_window(text[start:end], announced) == item.window


@settings(deadline=None, max_examples=300)
@given(text=st.text(max_size=600), announced=st.dates())
def test_any_text_gives_windows_whose_spans_point_at_what_was_read(
    text: str, announced: dt.date
) -> None:
    _check_spans(text, announced, find_windows(text, announced))


# Words and punctuation that make sentences full of almost-dates.
SOUP = [
    "in", "by", "the", "end", "of", "this", "next", "year", "month", "weeks", "a", "couple",
    "few", "early", "mid", "late", "Q3", "H2", "2025", "2026", "1.5", "GPT-4", "Grok", "3",
    "March", "may", "May", "fall", "summer", "autumn", "but", "not", "September", "originally",
    "planned", "for", "launched", "will", "ship", "soon", "after", "shortly", "before",
    "Christmas", "to", "until", "from", "starting", "or", "later", "ago", "akhir", "tahun",
    "depan", "dalam", "beberapa", "minggu", "lagi", "awal", "Maret", "kuartal", "ketiga",
    "tiga", "bulan", "pertama", "semula", "tidak", ",", ".", ";", "-", "...", "—", "“", "”",
    "’s", "'25", "31", "18th", "2025-03-31", "6-8", "first", "last", "three", "months", "one",
    "more", "another", "except", "from now", "\n",
]  # fmt: skip


@settings(deadline=None, max_examples=400)
@given(
    words=st.lists(st.sampled_from(SOUP), max_size=40),
    glue=st.sampled_from([" ", "  ", ""]),
    announced=st.dates(min_value=D(1970, 1, 1), max_value=D(2199, 12, 31)),
)
def test_sentence_soup_gives_windows_whose_spans_point_at_what_was_read(
    words: list[str], glue: str, announced: dt.date
) -> None:
    text = glue.join(words)
    _check_spans(text, announced, find_windows(text, announced))


@settings(deadline=None, max_examples=100)
@given(
    prefix=st.lists(st.sampled_from(["We", "said", "GPT-4", "Gemini", "1.5", "70B", "It"]),
                    max_size=8),
    phrase=st.sampled_from(
        ["in Q3 2025", "by the end of next year", "dalam enam bulan", "in early March",
         "later this year", "in a couple of weeks", "akhir tahun depan"]
    ),
)  # fmt: skip
def test_a_promise_is_found_after_any_sentence(prefix: list[str], phrase: str) -> None:
    head = " ".join(prefix) + ". " if prefix else ""
    text = f"{head}It ships {phrase}."
    found = find_windows(text, MID)
    assert [text[a:b] for a, b in (f.span for f in found)] == [phrase]
    assert found[0].span[0] == len(head) + len("It ships ")
