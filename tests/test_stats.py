"""The track record, checked against a fixture whose every figure is worked out by hand below."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.models import Launch, LaunchState
from tracker.stats import compute_stats, filter_launches, leaderboard, running_days_late

UTC = dt.UTC
D = dt.date
TODAY = D(2025, 6, 1)

SHIPPED = LaunchState.SHIPPED
CANCELLED = LaunchState.CANCELLED
SLIPPED = LaunchState.SLIPPED
UPCOMING = LaunchState.UPCOMING


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
) -> Launch:
    stamp = dt.datetime(2024, 1, 1, tzinfo=UTC)
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
        deadline_at=dt.datetime.combine(window_end + dt.timedelta(days=1), dt.time(), UTC),
        state=state,
        slip_count=slips,
        revision=0,
        shipped_on=shipped_on,
        cancelled_on=cancelled_on,
        days_late=days_late,
        next_due_at=None,
        created_at=stamp,
        updated_at=stamp,
    )


# 15 launches; "late" = shipped_on - window_end in days (the window's last day is inclusive).
FIXTURE = [
    # xAI / Elon Musk
    launch(1, "Grok 2", "xAI", "Elon Musk", SHIPPED, D(2024, 3, 1), D(2024, 8, 31),
           shipped_on=D(2024, 8, 13), days_late=0),  # on time
    launch(2, "Grok 3", "xAI", "Elon Musk", SHIPPED, D(2024, 7, 1), D(2024, 12, 31),
           shipped_on=D(2025, 2, 17), days_late=48, slips=1),  # Dec 31 -> Feb 17 = 31 + 17 = 48
    launch(3, "Grok 1.5 Vision", "xAI", "Elon Musk", SHIPPED, D(2024, 4, 12), D(2024, 5, 31),
           shipped_on=D(2024, 6, 10), days_late=10),  # May 31 -> Jun 10 = 10
    launch(4, "Grok 3.5", "xAI", "Elon Musk", SLIPPED, D(2025, 4, 1), D(2025, 5, 15),
           days_late=10),  # still out: running May 15 -> Jun 1 = 17 days late
    # Anthropic / Dario Amodei (launch 7 has no announcer)
    launch(5, "Claude 3.5 Opus", "Anthropic", "Dario Amodei", CANCELLED, D(2024, 6, 20),
           D(2024, 12, 31), cancelled_on=D(2025, 1, 15), days_late=15),
    launch(6, "Claude 3.5 Haiku", "Anthropic", "Dario Amodei", SHIPPED, D(2024, 6, 20),
           D(2024, 10, 31), shipped_on=D(2024, 10, 22), days_late=0),  # on time
    launch(7, "Claude 3 Opus", "Anthropic", None, SHIPPED, D(2024, 1, 10), D(2024, 3, 31),
           shipped_on=D(2024, 3, 4), days_late=0),  # on time
    launch(8, "Claude 5", "Anthropic", "Dario Amodei", UPCOMING, D(2025, 5, 1),
           D(2025, 9, 30)),  # pending, before its deadline: not scored at all
    # Google / Sundar Pichai
    launch(9, "Gemini Ultra", "Google", "Sundar Pichai", SHIPPED, D(2023, 12, 6), D(2024, 1, 31),
           shipped_on=D(2024, 2, 8), days_late=8, slips=1),  # Jan 31 -> Feb 8 = 8
    launch(10, "Gemini 2", "Google", "Sundar Pichai", SHIPPED, D(2024, 10, 1), D(2024, 12, 31),
           shipped_on=D(2024, 12, 11), days_late=0),  # on time
    launch(11, "Project Astra", "Google", "Sundar Pichai", CANCELLED, D(2024, 5, 14),
           D(2024, 12, 31), cancelled_on=D(2024, 11, 30)),  # cancelled before its deadline
    # OpenAI / Sam Altman (spellings vary: the grouping folds case)
    launch(12, "GPT-4o voice", "OpenAI", "Sam Altman", SHIPPED, D(2024, 5, 13), D(2024, 6, 30),
           shipped_on=D(2024, 9, 24), days_late=86, slips=2),  # Jun 30 -> Sep 24 = 31+31+24
    launch(13, "Sora", "openai", "sam altman", SHIPPED, D(2024, 2, 15), D(2024, 12, 31),
           shipped_on=D(2024, 12, 9), days_late=0),  # on time
    launch(14, "GPT-5", "OpenAI", "Sam Altman", SLIPPED, D(2025, 2, 12), D(2025, 5, 31),
           days_late=0),  # still out: running May 31 -> Jun 1 = 1 day late
    launch(15, "Operator", "OpenAI", "Sam Altman", SHIPPED, D(2025, 1, 23), D(2025, 1, 23),
           shipped_on=D(2025, 1, 24), days_late=1),  # promised "today": zero promised span
]  # fmt: skip


def test_overall_record_matches_the_hand_computation() -> None:
    s = compute_stats(FIXTURE, TODAY)
    # Shipped: 1 2 3 6 7 9 10 12 13 15 (10); cancelled: 5 11 (2); open: 4 8 14 (3).
    assert (s.total, s.shipped, s.cancelled, s.resolved, s.open) == (15, 10, 2, 12, 3)
    # On time: 1 6 7 10 13 (5); late: 2 3 9 12 15 (5).
    assert (s.on_time, s.shipped_late) == (5, 5)
    assert s.on_time_rate == pytest.approx(5 / 12)
    # Days late of the shipped, sorted: 0 0 0 0 0 | 1 8 10 48 86 -> median (0 + 1) / 2.
    assert s.median_days_late == 0.5
    assert s.mean_days_late == pytest.approx((1 + 8 + 10 + 48 + 86) / 10)  # 15.3
    assert s.worst is not None
    assert (s.worst.launch_id, s.worst.product, s.worst.days_late) == (12, "GPT-4o voice", 86)
    # slip_count over the 12 resolved: 1 (Grok 3) + 1 (Gemini Ultra) + 2 (GPT-4o voice) = 4.
    assert s.reannouncements_per_launch == pytest.approx(4 / 12)
    # Time multiplier over the late ones, (shipped - announced) / (window_end - announced):
    #   Grok 3:          Jul 1 -> Feb 17 = 231 days / Jul 1 -> Dec 31 = 183 days
    #   Grok 1.5 Vision: Apr 12 -> Jun 10 = 59 / Apr 12 -> May 31 = 49
    #   Gemini Ultra:    Dec 6 -> Feb 8 = 64 / Dec 6 -> Jan 31 = 56
    #   GPT-4o voice:    May 13 -> Sep 24 = 134 / May 13 -> Jun 30 = 48
    #   Operator:        promised span 0 days: skipped
    assert s.time_multiplier_count == 4
    assert s.time_multiplier == pytest.approx((231 / 183 + 59 / 49 + 64 / 56 + 134 / 48) / 4)
    # Still late, reported apart with running lateness (most late first), never as failures.
    assert [(f.launch_id, f.days_late) for f in s.still_late] == [(4, 17), (14, 1)]


def test_filters_are_case_insensitive_and_combine() -> None:
    xai = compute_stats(FIXTURE, TODAY, vendor="XAI")
    # Launches 1 2 3 resolved (4 still out): on time 1 of 3; days late 0, 10, 48.
    assert (xai.total, xai.resolved, xai.on_time, xai.shipped_late) == (4, 3, 1, 2)
    assert xai.on_time_rate == pytest.approx(1 / 3)
    assert xai.median_days_late == 10
    assert xai.mean_days_late == pytest.approx(58 / 3)
    assert xai.worst is not None and xai.worst.product == "Grok 3"
    assert xai.reannouncements_per_launch == pytest.approx(1 / 3)
    assert xai.time_multiplier == pytest.approx((231 / 183 + 59 / 49) / 2)
    assert [f.launch_id for f in xai.still_late] == [4]

    sam = compute_stats(FIXTURE, TODAY, announcer="  SAM   altman ")
    # 12 13 14 15 by Sam Altman (13 spelled in lower case); resolved 12 13 15, on time 13.
    assert [x.id for x in filter_launches(FIXTURE, announcer="SAM ALTMAN")] == [12, 13, 14, 15]
    assert (sam.resolved, sam.on_time, sam.on_time_rate) == (3, 1, pytest.approx(1 / 3))
    assert sam.median_days_late == 1  # 0, 1, 86

    both = compute_stats(FIXTURE, TODAY, vendor="openai", announcer="Sam Altman")
    assert both.total == 4
    nobody = compute_stats(FIXTURE, TODAY, vendor="Meta")
    assert nobody.total == 0 and nobody.on_time_rate is None and nobody.worst is None
    assert nobody.median_days_late is None and nobody.time_multiplier is None


def test_pending_launches_never_count_as_failures() -> None:
    open_only = [x for x in FIXTURE if not x.state.resolved]
    s = compute_stats(open_only, TODAY)
    assert (s.resolved, s.on_time_rate, s.open) == (0, None, 3)
    assert [f.launch_id for f in s.still_late] == [4, 14]  # the upcoming one is not late
    assert running_days_late(FIXTURE[7], TODAY) == 0  # Claude 5, due Sep 30


def test_vendor_leaderboard_ranks_by_rate_then_median_then_name() -> None:
    board = leaderboard(FIXTURE)
    # Anthropic 2/3 (median 0); then three at 1/3: OpenAI median 1 (0, 1, 86),
    # Google median 4 (8, 0), xAI median 10 (0, 10, 48).
    assert [(e.rank, e.name, e.resolved, e.on_time) for e in board.entries] == [
        (1, "Anthropic", 3, 2),
        (2, "OpenAI", 3, 1),  # "openai" once, "OpenAI" three times: the usual spelling shows
        (3, "Google", 3, 1),
        (4, "xAI", 3, 1),
    ]
    assert [e.median_days_late for e in board.entries] == [0, 1, 4, 10]
    assert board.too_few == ()
    assert leaderboard(FIXTURE, min_resolved=4).entries == ()
    assert leaderboard(FIXTURE, min_resolved=4).too_few == ("Anthropic", "Google", "OpenAI", "xAI")


def test_announcer_leaderboard_leaves_out_thin_records_and_anonymous_launches() -> None:
    board = leaderboard(FIXTURE, by="announcer")
    # Dario Amodei has 2 resolved (5, 6; launch 7 has no announcer): below the minimum of 3.
    assert [e.name for e in board.entries] == ["Sam Altman", "Sundar Pichai", "Elon Musk"]
    assert board.too_few == ("Dario Amodei",)
    assert [e.name for e in leaderboard(FIXTURE, by="announcer", min_resolved=2).entries] == [
        "Dario Amodei",  # 1 of 2 on time = 0.5
        "Sam Altman",
        "Sundar Pichai",
        "Elon Musk",
    ]


def test_leaderboard_ties_fall_to_the_name_and_shipping_nothing_ranks_last() -> None:
    day = D(2024, 1, 1)
    late = D(2024, 2, 1)
    launches = []
    for i, vendor in enumerate(["Beta", "alpha"] * 3):
        launches.append(
            launch(i, "p", vendor, None, SHIPPED, day, late, shipped_on=late, days_late=0)
        )
    for i in range(3):
        launches.append(
            launch(10 + i, "p", "Gone", None, CANCELLED, day, late, cancelled_on=D(2024, 3, 1))
        )
        launches.append(
            launch(20 + i, "p", "Slow", None, SHIPPED, day, late, shipped_on=D(2024, 3, 2),
                   days_late=30)
        )  # fmt: skip
    board = leaderboard(launches)
    assert [e.name for e in board.entries] == ["alpha", "Beta", "Slow", "Gone"]
    assert board.entries[3].median_days_late is None
    with pytest.raises(ValueError):
        leaderboard(launches, min_resolved=0)
