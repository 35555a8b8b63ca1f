"""The score, on a real-shaped history (tests/fixtures/history.csv) read by the event-log replay.

Every figure below is worked out by hand in the comments, as of TODAY = 2025-06-30. The window
each phrase stands for (read by tracker.windows with the row's date as the announcement day):

  launch            first promise                        later rows                        outcome
  Claude 3 Opus     2024-01-10 "Q1 2024" -> 2024-03-31                                        shipped 2024-03-04: -27
  GPT Store         2023-11-06 "later this month" -> 11-30   2023-12-01 "early next year"     shipped 2024-01-10: +41
                                                             -> 2024-04-30 (slip 1, reported)
  Gemini Ultra      2023-12-06 "early next year" -> 2024-04-30                                shipped "2024-02" (month):
                                                                                              from Feb 1: -89
  Voice Mode        2024-05-13 "in the coming weeks" -> 06-24   2024-06-25 "this fall"        shipped "2024-09" (month):
                                                                -> 2024-11-30 (slip 1)        from Sep 1: at least +69
  Project Astra     2024-05-14 "later this year" -> 2024-12-31   (a note)                     still out: 181 so far
  Siri LLM          2024-06-10 "early next year" -> 2025-04-30   2025-03-07 "next year"       still out: 61 so far
                                                                -> 2026-12-31 (slip 1)
  Claude 3.5 Opus   2024-06-20 "later this year" -> 2024-12-31                                cancelled, undated
  Claude 3.5 Haiku  2024-06-20 "later this year" -> 2024-12-31                                shipped 2024-10-22: -70
  Grok 3            2024-07-01 "end of 2024" -> 2024-12-31   2025-01-04 "in the coming weeks" shipped 2025-02-17: +48
                                                             -> 2025-02-15 (slip 1)           (2 days past the latest)
  GPT-4.5 (rumour)  2024-09-01 "Q4 2024" -> 2024-12-31                                        shipped 2025-02-27: +58
  Llama 4           2024-10-30 "early next year" -> 2025-04-30   2025-01-15 "early 2025"      shipped 2025-04-05: -25
                                                                -> 2025-04-30 (same: no slip)
  Gemini 2.0        2024-11-01 "December" -> 2024-12-31 (reported)                            shipped 2024-12-11: -20
  O3                2024-12-20 "early next year" -> 2025-04-30   cancelled 2025-02-12,        shipped 2025-04-16: -14
                                                   revived 2025-04-04 "in the coming weeks" -> 2025-05-16 (slip 1)
  Grok 3.5          2025-04-29 "next week" -> 2025-05-11                                      still out: 50 so far
  Gemini 3          2025-06-01 "later this year" -> 2025-12-31                                not yet due
"""  # noqa: E501

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from storage.db import open_database
from storage.session import SqlStore
from tracker import eventlog
from tracker.models import Evidence, GuildConfig, Launch, LaunchState, Precision
from tracker.stats import (
    RULES,
    as_of,
    compute_stats,
    days_late,
    leaderboard,
    lineage,
    score_launch,
    to_json,
)
from tracker.text import lateness

D = dt.date
TODAY = D(2025, 6, 30)
NOW = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)
HISTORY = Path(__file__).parent / "fixtures" / "history.csv"


def launch(
    launch_id: int,
    product: str,
    vendor: str,
    announcer: str | None,
    state: LaunchState,
    announced_on: dt.date,
    window_end: dt.date,
    *,
    shipped_on: dt.date | None = None,
    cancelled_on: dt.date | None = None,
    days_late: int | None = None,
    slips: int = 0,
    first_window_end: dt.date | None = None,
    evidence: Evidence = Evidence.OFFICIAL,
) -> Launch:
    """A launch record built by hand (digest and chart tests use it too)."""
    stamp = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    return Launch(
        id=launch_id,
        guild_id=1,
        product=product,
        vendor=vendor,
        announcer=announcer,
        source_url=None,
        quote=None,
        announced_on=announced_on,
        window_phrase=window_end.isoformat(),
        window_start=window_end,
        window_end=window_end,
        window_rule="explicit_date",
        timezone=None,
        deadline_at=dt.datetime.combine(window_end + dt.timedelta(days=1), dt.time(), dt.UTC),
        state=state,
        slip_count=slips,
        revision=0,
        shipped_on=shipped_on,
        cancelled_on=cancelled_on,
        days_late=days_late,
        next_due_at=None,
        created_at=stamp,
        updated_at=stamp,
        first_window_end=first_window_end or window_end,
        evidence=evidence,
    )


def load(grace_days: int = 0, text: str | None = None) -> list[Launch]:
    rows, issues = eventlog.read_log(text if text is not None else HISTORY.read_text())
    assert issues == []
    replayed, problems = eventlog.replay(rows, GuildConfig(1, grace_days=grace_days), NOW)
    assert problems == []
    return [dataclasses.replace(r.launch, id=i) for i, r in enumerate(replayed, start=1)]


def by_product(launches: list[Launch]) -> dict[str, Launch]:
    return {launch.product: launch for launch in launches}


def test_the_history_replays_into_fifteen_launches_with_their_lineage() -> None:
    launches = by_product(load())
    assert len(launches) == 15
    grok = launches["Grok 3"]
    assert (grok.first_window_end, grok.window_end, grok.slip_count) == (
        D(2024, 12, 31),
        D(2025, 2, 15),
        1,
    )
    assert (grok.state, grok.shipped_on, grok.days_late) == (
        LaunchState.SHIPPED,
        D(2025, 2, 17),
        48,
    )
    llama = launches["Llama 4"]
    assert llama.slip_count == 0  # "early 2025" restates "early next year": lineage, not a slip
    o3 = launches["O3"]
    assert (o3.state, o3.cancelled_on, o3.slip_count) == (LaunchState.SHIPPED, None, 1)
    opus = launches["Claude 3.5 Opus"]
    assert (opus.state, opus.cancelled_on, opus.days_late) == (LaunchState.CANCELLED, None, None)
    assert launches["Gemini Ultra"].outcome_precision is Precision.MONTH
    assert launches["Gemini Ultra"].shipped_on == D(2024, 2, 1)
    assert launches["GPT-4.5"].evidence is Evidence.RUMOUR
    assert launches["Gemini 2.0"].evidence is Evidence.REPORTED
    # Open launches are settled as of now: past the latest window -> slipped.
    assert launches["Grok 3.5"].state is LaunchState.SLIPPED
    assert launches["Siri LLM"].state is LaunchState.UPCOMING  # re-dated to 2026
    assert launches["Gemini 3"].state is LaunchState.UPCOMING


def test_every_launch_s_days_late_against_its_first_promise() -> None:
    figures = {launch.product: days_late(launch, TODAY) for launch in load()}
    assert figures == {
        "Claude 3 Opus": -27,  # Mar 4 -> Mar 31
        "GPT Store": 41,  # Nov 30 -> Jan 10 = 31 + 10, although "early next year" was kept
        "Gemini Ultra": -89,  # Feb 1 -> Apr 30 = 28 + 31 + 30 (2024 is a leap year)
        "Voice Mode": 69,  # Jun 24 -> Sep 1 = 6 + 31 + 31 + 1
        "Project Astra": 181,  # Dec 31 -> Jun 30 = 31 + 28 + 31 + 30 + 31 + 30
        "Siri LLM": 61,  # Apr 30 -> Jun 30, running although re-dated to 2026
        "Claude 3.5 Opus": None,  # cancelled: no lateness
        "Claude 3.5 Haiku": -70,  # Oct 22 -> Dec 31 = 9 + 30 + 31
        "Grok 3": 48,  # Dec 31 -> Feb 17 = 31 + 17
        "GPT-4.5": 58,  # Dec 31 -> Feb 27 = 31 + 27
        "Llama 4": -25,  # Apr 5 -> Apr 30
        "Gemini 2.0": -20,  # Dec 11 -> Dec 31
        "O3": -14,  # Apr 16 -> Apr 30: the first promise, not the revival's May 16
        "Grok 3.5": 50,  # May 11 -> Jun 30 = 20 + 30
        "Gemini 3": None,  # not yet past Dec 31 2025
    }


def test_the_score_matches_the_hand_computation() -> None:
    s = compute_stats(load(), TODAY)
    # 15 launches, the rumour (GPT-4.5) left out: 14; Gemini 3 is not yet due: 13 scored.
    assert (s.total, s.rumours_left_out, s.scored, s.not_yet_due) == (14, 1, 13, 1)
    # On time (<= 0): Claude 3 Opus, Gemini Ultra, Haiku, Llama 4, Gemini 2.0, O3 = 6.
    # Shipped late: GPT Store, Voice Mode, Grok 3 = 3. Still out: Astra, Siri, Grok 3.5 = 3.
    assert (s.on_time, s.shipped_late, s.overdue_open, s.cancelled) == (6, 3, 3, 1)
    assert s.on_time_rate == pytest.approx(6 / 13)
    # Late ones: 41 48 50 61 69 181 -> median (50 + 61) / 2.
    assert s.median_days_late == 55.5
    assert s.worst is not None
    assert (s.worst.product, s.worst.days_late, s.worst.still_out) == ("Project Astra", 181, True)
    assert s.worst.words() == "181 days late (still out)"
    # Time multiplier over the shipped late ones, (shipped - announced) / (first - announced):
    #   GPT Store  Nov 6 -> Jan 10 = 65  / Nov 6 -> Nov 30 = 24  = 2.708
    #   Voice Mode May 13 -> Sep 1 = 111 / May 13 -> Jun 24 = 42 = 2.643
    #   Grok 3     Jul 1 -> Feb 17 = 231 / Jul 1 -> Dec 31 = 183 = 1.262   -> median 111 / 42
    assert s.time_multiplier == pytest.approx(111 / 42)
    assert s.time_multiplier_count == 3
    # Kept the latest promise: every shipped one but Grok 3 (Feb 17 > Feb 15) = 8 of 13.
    assert s.kept_latest == 8
    assert s.kept_latest_rate == pytest.approx(8 / 13)
    # Slips: GPT Store, Voice Mode, Siri, Grok 3, O3 (revival to a later window) = 5.
    assert s.slips == 5
    assert [(f.product, f.days_late) for f in s.still_late] == [
        ("Project Astra", 181),
        ("Siri LLM", 61),
        ("Grok 3.5", 50),
    ]


def test_rumours_count_only_when_asked_for() -> None:
    s = compute_stats(load(), TODAY, evidence="all")
    # GPT-4.5 joins as shipped 58 days late.
    assert (s.total, s.rumours_left_out, s.scored, s.on_time, s.shipped_late) == (15, 0, 14, 6, 4)
    assert s.on_time_rate == pytest.approx(6 / 14)
    assert s.median_days_late == 58  # 41 48 50 58 61 69 181
    # GPT-4.5: Sep 1 -> Feb 27 = 179 / Sep 1 -> Dec 31 = 121; sorted 1.262 1.479 2.643 2.708.
    assert s.time_multiplier == pytest.approx((179 / 121 + 111 / 42) / 2)


def test_filters_fold_case_and_the_rumour_filter_applies_inside_them() -> None:
    openai = compute_stats(load(), TODAY, vendor="openai")
    # GPT Store +41, Voice Mode +69, O3 -14; GPT-4.5 is a rumour.
    assert (openai.scored, openai.on_time, openai.shipped_late, openai.rumours_left_out) == (
        3,
        1,
        2,
        1,
    )
    assert openai.median_days_late == 55  # (41 + 69) / 2
    musk = compute_stats(load(), TODAY, announcer="ELON MUSK")
    assert (musk.scored, musk.shipped_late, musk.overdue_open, musk.on_time_rate) == (2, 1, 1, 0)


def test_grace_delays_alerts_never_the_score() -> None:
    plain = compute_stats(load(grace_days=0), TODAY)
    graced = compute_stats(load(grace_days=30), TODAY)
    assert dataclasses.replace(graced) == plain


def test_leaderboard_ranks_scored_launches_and_counts_the_overdue() -> None:
    board = leaderboard(load(), TODAY)
    # Anthropic: Opus cancelled, Haiku and Claude 3 Opus on time -> 2/3, nothing late.
    # Google: Ultra and 2.0 on time, Astra 181 days overdue (Gemini 3 not yet due) -> 2/3, 181.
    # OpenAI: O3 on time, GPT Store and Voice Mode late -> 1/3, median 55.
    assert [(e.rank, e.name, e.scored, e.on_time, e.median_days_late) for e in board.entries] == [
        (1, "Anthropic", 3, 2, None),
        (2, "Google", 3, 2, 181.0),
        (3, "OpenAI", 3, 1, 55.0),
    ]
    assert board.too_few == ("Apple", "Meta", "xAI")
    with_rumours = leaderboard(load(), TODAY, evidence="all")
    assert with_rumours.entries[2].scored == 4
    by_announcer = leaderboard(load(), TODAY, by="announcer", min_scored=2)
    # Dario Amodei: Claude 3 Opus, Claude 3.5 Opus, Haiku; Sam Altman: GPT Store, Voice Mode,
    # O3; Elon Musk: Grok 3 and Grok 3.5 (both late). The others have one scored launch each.
    assert [(e.name, e.scored, e.on_time) for e in by_announcer.entries] == [
        ("Dario Amodei", 3, 2),
        ("Sam Altman", 3, 1),
        ("Elon Musk", 2, 0),
    ]


def test_json_has_exactly_the_documented_keys() -> None:
    launches = load()
    data = to_json(compute_stats(launches, TODAY), leaderboard(launches, TODAY))
    assert list(data) == [
        "today",
        "scored",
        "on_time",
        "shipped_late",
        "overdue_open",
        "cancelled",
        "on_time_rate",
        "median_days_late",
        "time_multiplier",
        "worst",
        "leaderboard",
        "launches",
    ]
    assert data["worst"] == {
        "product": "Project Astra",
        "vendor": "Google",
        "days_late": 181,
        "still_out": True,
    }
    assert data["leaderboard"][0] == {  # type: ignore[index]
        "vendor": "Anthropic",
        "scored": 3,
        "on_time": 2,
        "rate": pytest.approx(2 / 3),
    }
    rows = {row["product"]: row for row in data["launches"]}  # type: ignore[attr-defined]
    assert len(rows) == 14  # the rumour is left out
    assert rows["Siri LLM"] == {
        "product": "Siri LLM",
        "vendor": "Apple",
        "state": "upcoming",
        "first_window_end": "2025-04-30",
        "latest_window_end": "2026-12-31",
        "days_late": 61,
        "slips": 1,
        "evidence": "official",
    }
    assert rows["Claude 3.5 Opus"]["days_late"] is None
    assert rows["Gemini 3"]["days_late"] is None
    assert rows["Grok 3.5"]["state"] == "slipped"
    json.dumps(data)  # every value is JSON-ready


def test_month_precision_is_at_least_and_early_is_signed() -> None:
    launches = by_product(load())
    voice = score_launch(launches["Voice Mode"], TODAY)
    assert (voice.days_late, voice.at_least) == (69, True)
    assert lateness(69, at_least=True) == "at least 69 days late"
    assert lateness(-1) == "1 day early"
    assert lateness(0) == "on time"
    assert lateness(1, still_out=True) == "1 day late (still out)"


def test_a_launch_becomes_scored_the_day_after_its_first_promise() -> None:
    gemini3 = by_product(load())["Gemini 3"]
    assert not score_launch(gemini3, D(2025, 12, 31)).scored
    after = score_launch(gemini3, D(2026, 1, 1))
    assert (after.scored, after.days_late, after.state) == (True, 1, LaunchState.SLIPPED)


def test_the_rules_fit_an_embed_footer() -> None:
    assert len(RULES) <= 2048
    assert "first promise" in RULES and "evidence:all" in RULES


async def test_the_service_off_the_event_loop_gives_the_pure_figures_at_scale(
    tmp_path: Path, db_target: str
) -> None:
    """StatsService has the store count a guild's score (only the launches a figure names are
    read), or with every_launch reads the launches in chunks and scores them in a worker
    thread: the figures are exactly those of the pure rules over the same history, here 40
    copies of the real one (600 launches)."""
    from tracker.clock import SimClock
    from tracker.stats import StatsService

    history = [dataclasses.replace(x, guild_id=7) for x in load()] * 40
    async with open_database(db_target) as db:
        async with SqlStore(db).transaction() as conn:
            stored = [await conn.launches.insert_launch_record(x) for x in history]
        service = StatsService(SqlStore(db), SimClock(NOW))
        got = await service.stats(7, today=TODAY)
        listed = await service.stats(7, today=TODAY, still_late=2)
        full = await service.stats(7, today=TODAY, every_launch=True)
        board = await service.leaderboard(7, today=TODAY, min_scored=1)
        everything = await service.stats(7, today=TODAY, evidence="all")
    mirror = [dataclasses.replace(x, id=i) for x, i in zip(history, stored, strict=True)]
    pure = compute_stats(mirror, TODAY)
    assert got == dataclasses.replace(pure, launches=())
    assert listed == dataclasses.replace(pure, launches=(), still_late=pure.still_late[:2])
    assert full == pure
    assert board == leaderboard(mirror, TODAY, min_scored=1)
    assert everything == dataclasses.replace(
        compute_stats(mirror, TODAY, evidence="all"), launches=()
    )
    assert to_json(full, board) == to_json(pure, leaderboard(mirror, TODAY, min_scored=1))
    assert (got.scored, got.on_time, got.median_days_late) == (13 * 40, 6 * 40, 55.5)


def test_the_lineage_shows_every_promise_and_both_verdicts() -> None:
    rows, _ = eventlog.read_log(HISTORY.read_text())
    replayed, _ = eventlog.replay(rows, GuildConfig(1), NOW)
    story = {r.launch.product: lineage(r.launch, r.events, TODAY) for r in replayed}
    assert story["Grok 3"] == (
        'promised "end of 2024" (2024-12-31) → re-dated "in the coming weeks" (2025-02-15) → '
        "shipped 2025-02-17: 48 days late against the first promise (2024-12-31), "
        "2 days late against the latest (2025-02-15)"
    )
    assert story["O3"] == (
        'promised "early next year" (2025-04-30) → cancelled 2025-02-12 → '
        'revived "in the coming weeks" (2025-05-16) → shipped 2025-04-16: 14 days early '
        "against the first promise (2025-04-30), 30 days early against the latest (2025-05-16)"
    )
    assert story["Claude 3.5 Opus"] == (
        'promised "later this year" (2024-12-31) → cancelled (day unknown)'
    )
    assert story["Siri LLM"] == (
        'promised "early next year" (2025-04-30) → re-dated "next year" (2026-12-31) → '
        "upcoming (61 days late so far)"
    )
    assert story["Voice Mode"].endswith(
        "shipped 2024-09: at least 69 days late against the first promise (2024-06-24), "
        "up to 90 days early against the latest (2024-11-30)"
    )


def replayed() -> list[eventlog.ReplayedLaunch]:
    rows, issues = eventlog.read_log(HISTORY.read_text())
    assert issues == []
    launches, problems = eventlog.replay(rows, GuildConfig(1), NOW)
    assert problems == []
    # Stored launches have ids (the replay's are 0 until stored).
    return [
        dataclasses.replace(r, launch=dataclasses.replace(r.launch, id=i))
        for i, r in enumerate(launches, start=1)
    ]


def test_as_of_the_replay_day_changes_nothing() -> None:
    for item in replayed():
        rewound = as_of(item.launch, item.events, TODAY)
        assert rewound is not None
        assert score_launch(rewound, TODAY) == score_launch(item.launch, TODAY), item.launch.product


def test_as_of_an_earlier_day_rebuilds_each_launch_from_its_history() -> None:
    day = D(2025, 1, 15)
    rewound = {r.launch.product: as_of(r.launch, r.events, day) for r in replayed()}
    # Announced later: not on the watchlist yet.
    assert rewound["Grok 3.5"] is None and rewound["Gemini 3"] is None
    # Grok 3 shipped 2025-02-17: on Jan 15 it was out past its first promise (2024-12-31) by
    # 15 days, re-dated on Jan 4 to "in the coming weeks" (2025-02-15, slip 1), so not slipped.
    grok = rewound["Grok 3"]
    assert grok is not None
    assert (grok.state, grok.window_end, grok.slip_count) == (
        LaunchState.UPCOMING,
        D(2025, 2, 15),
        1,
    )
    assert days_late(grok, day) == 15 and grok.shipped_on is None
    # Siri was re-dated on 2025-03-07, after the day: its window is still the first one.
    siri = rewound["Siri LLM"]
    assert siri is not None and (siri.window_end, siri.slip_count) == (D(2025, 4, 30), 0)
    # Shipped before the day: unchanged (Gemini 2.0 shipped 2024-12-11, 20 days early).
    gemini = rewound["Gemini 2.0"]
    assert gemini is not None and gemini.state is LaunchState.SHIPPED
    assert days_late(gemini, day) == -20
    # Scored on Jan 15 (rumours out): shipped Claude 3 Opus -27, GPT Store +41, Gemini Ultra
    # -89, Voice Mode +69, Claude 3.5 Haiku -70, Gemini 2.0 -20; still out past the first
    # promise: Project Astra 15, Grok 3 15; Claude 3.5 Opus cancelled (undated: it counts from
    # its last dated row, the announcement). Not yet due: Siri, Llama 4, O3. On time 4 of 9.
    result = compute_stats([x for x in rewound.values() if x is not None], day)
    assert (result.scored, result.on_time, result.shipped_late, result.overdue_open) == (
        9,
        4,
        2,
        2,
    )
    assert result.cancelled == 1
    assert result.median_days_late == 28.0  # 15, 15, 41, 69


def test_as_of_sees_a_cancellation_before_its_revival() -> None:
    day = D(2025, 3, 1)
    o3 = next(r for r in replayed() if r.launch.product == "O3")
    rewound = as_of(o3.launch, o3.events, day)
    # Cancelled 2025-02-12, revived 2025-04-04 (after the day), shipped 2025-04-16.
    assert rewound is not None
    assert (rewound.state, rewound.cancelled_on, rewound.window_end, rewound.slip_count) == (
        LaunchState.CANCELLED,
        D(2025, 2, 12),
        D(2025, 4, 30),
        0,
    )
    assert days_late(rewound, day) is None
    later = as_of(o3.launch, o3.events, D(2025, 4, 10))
    assert later is not None and later.state is LaunchState.UPCOMING
    assert later.window_end == D(2025, 5, 16) and later.cancelled_on is None
