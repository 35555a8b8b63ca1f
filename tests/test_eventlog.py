"""The event-log import and the stats CLI: the real-shaped history goes in through the bot's own
paths, posts nothing, scores exactly as the hand computation in test_stats says, and survives an
export and re-import elsewhere with the same score."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from storage.session import SqlStore
from tests.harness import GUILD, harness
from tests.test_cli import run_cli
from tests.test_stats import HISTORY, TODAY, load
from tracker.eventlog import promised_window
from tracker.models import EventKind, LaunchState, NewLaunch
from tracker.stats import StatsService, compute_stats, leaderboard, to_json
from tracker.transfer import TransferFormat, TransferService, detect_format
from tracker.windows import parse_window

NOW = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)
OTHER = GUILD + 1
HEADER = "product,vendor,date,event,window,announcer,source,quote,evidence\n"


async def _score(service: StatsService, guild: int) -> dict[str, object]:
    result = await service.stats(guild, today=TODAY, every_launch=True)  # as bot.py stats --json
    board = await service.leaderboard(guild, today=TODAY)
    return to_json(result, board)


def _pure_score() -> dict[str, object]:
    launches = load()
    return to_json(compute_stats(launches, TODAY), leaderboard(launches, TODAY))


async def test_the_history_imports_posts_nothing_and_scores_as_computed_by_hand(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target, start=NOW) as h:
        text = HISTORY.read_text()
        assert detect_format("history.csv", text) is TransferFormat.EVENT_LOG
        service = TransferService(SqlStore(h.db), h.clock, on_change=h.engine.poke)
        dry = await service.check(GUILD, text, TransferFormat.EVENT_LOG)
        assert dry.ok and dry.created == 0
        assert dry.summary() == "Would import 15 launches with 34 history entries."
        report = await service.import_launches(GUILD, text, TransferFormat.EVENT_LOG)
        assert report.summary() == "Imported 15 launches with 34 history entries."
        await h.engine.settle()
        assert await h.store.read.outbox.all_outbox() == []  # history that is over is not news
        assert h.notifier.delivered == []
        score = await _score(StatsService(SqlStore(h.db), h.clock), GUILD)
        assert score == _pure_score()
        assert score["scored"] == 13 and score["median_days_late"] == 55.5
        o3 = next(x for x in await h.store.read.launches.all_launches(GUILD) if x.product == "O3")
        kinds = [e.kind for e in await h.store.read.events.launch_events(o3.id)]
        assert kinds == [
            EventKind.CREATED,
            EventKind.CANCELLED,
            EventKind.REVIVED,
            EventKind.SHIPPED,
        ]
        # Weeks later the still-out launches reach their next milestone: that is news.
        grok = next(
            x for x in await h.store.read.launches.all_launches(GUILD) if x.product == "Grok 3.5"
        )
        assert grok.state is LaunchState.SLIPPED and grok.next_due_at is not None
        assert grok.next_due_at > NOW


@pytest.mark.parametrize("fmt", [TransferFormat.JSON, TransferFormat.CSV])
async def test_an_export_reimported_elsewhere_reproduces_the_score(
    tmp_path: Path, fmt: TransferFormat, db_target: str
) -> None:
    async with harness(db_target, start=NOW) as h:
        service = TransferService(SqlStore(h.db), h.clock)
        await service.import_launches(GUILD, HISTORY.read_text(), TransferFormat.EVENT_LOG)
        exported = await service.export(GUILD, fmt)
        body = exported.content.decode()
        for field in ("first_window_end", "evidence", "outcome_precision", '"revived"'):
            assert field.strip('"') in body
        again = await service.import_launches(OTHER, exported.content, fmt)
        assert again.ok and again.created == 15
        stats = StatsService(SqlStore(h.db), h.clock)
        assert await _score(stats, OTHER) == await _score(stats, GUILD)
        all_first = await stats.stats(GUILD, today=TODAY, evidence="all")
        all_second = await stats.stats(OTHER, today=TODAY, evidence="all")
        assert to_json(all_second, await stats.leaderboard(OTHER, today=TODAY)) == to_json(
            all_first, await stats.leaderboard(GUILD, today=TODAY)
        )


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ("Grok 3,xAI,2024-07-01,shipped,,,,,\n", "Line 2, column event: the first row of Grok 3"),
        ("Grok 3,xAI,2024-07-01,announced,,,,,\n", "Line 2, column window: an announced row needs"),
        ("Grok 3,xAI,July 2024,announced,end of 2024,,,,\n", "Line 2, column date:"),
        ("Grok 3,xAI,2024-07-01,announced,someday,,,,\n", "Line 2, column window: Could not read"),
        ("Grok 3,xAI,2024-07-01,announced,end of 2024,,,,gossip\n", "Line 2, column evidence:"),
        (
            "Grok 3,xAI,2024-07-01,announced,end of 2024,,,,\nGrok 3,xAI,2024-06-01,shipped,,,,,\n",
            "Line 3, column date: 2024-06-01 is before the previous row of Grok 3",
        ),
        (
            "Grok 3,xAI,2024-07-01,announced,end of 2024,,,,\n"
            "Grok 3,xAI,2024-08-01,revived,Q1 2025,,,,\n",
            "Line 3, column event: Grok 3 (xAI) is upcoming, not cancelled",
        ),
        (
            "Grok 3,xAI,2024-07-01,announced,end of 2024,,,,\n"
            "Grok 3,xAI,2025-02-17,shipped,,,,,\n"
            "Grok 3,xAI,2025-02-18,cancelled,,,,,\n",
            "Line 4, column event: Grok 3 (xAI) was already shipped",
        ),
        ("Grok 3,xAI,,shipped,,,,,\n", "Line 2, column date: the date is missing"),
        ("Grok 3,xAI,2024-07-01,launched,,,,,\n", 'Line 2, column event: "launched" is not'),
    ],
)
async def test_row_errors_name_the_line_and_column_and_nothing_is_written(
    tmp_path: Path, rows: str, problem: str, db_target: str
) -> None:
    good = "Gemini 2.0,Google,2024-11-01,announced,December,,,,\n"
    async with harness(db_target, start=NOW) as h:
        service = TransferService(SqlStore(h.db), h.clock)
        report = await service.import_launches(
            GUILD, HEADER + rows + good, TransferFormat.EVENT_LOG
        )
        assert not report.ok and report.created == 0
        assert str(report.errors[0]).startswith(problem), str(report.errors[0])
        assert report.summary().startswith("Nothing was imported: 1 problem in ")
        assert await h.store.read.launches.all_launches(GUILD) == []


def test_stats_cli_prints_exactly_the_documented_json(tmp_path: Path) -> None:
    env = {"SLIPWATCH_DB": str(tmp_path / "cli.db")}
    done = run_cli("import", str(HISTORY), "--guild", "7", env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Imported 15 launches with 34 history entries."
    out = run_cli("stats", "--guild", "7", "--today", "2025-06-30", "--json", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) == 1
    assert json.loads(out.stdout) == json.loads(json.dumps(_pure_score()))
    rumours = run_cli(
        "stats", "--guild", "7", "--today", "2025-06-30", "--evidence", "all", "--json",
        env=env, cwd=tmp_path,
    )  # fmt: skip
    assert json.loads(rumours.stdout)["scored"] == 14
    openai = run_cli(
        "stats", "--guild", "7", "--today", "2025-06-30", "--vendor", "openai", env=env,
        cwd=tmp_path,
    )  # fmt: skip
    lines = openai.stdout.splitlines()
    assert lines[0] == "Score as of 2025-06-30 (vendor openai)"
    assert lines[1] == "3 launches: 3 scored, 0 not yet due, 1 rumour left out"
    assert lines[2] == "On time: 33% (1 of 3)"
    assert "Worst slip: Voice Mode (OpenAI), at least 69 days late" in lines
    # As of an earlier day, launches stand as they did then (rebuilt from their history):
    # Grok 3 (shipped 2025-02-17) was still out, 15 days past its first promise.
    earlier = run_cli(
        "stats", "--guild", "7", "--today", "2025-01-15", "--json", env=env, cwd=tmp_path
    )
    then = json.loads(earlier.stdout)
    assert (then["scored"], then["on_time"], then["overdue_open"], then["cancelled"]) == (
        9,
        4,
        2,
        1,
    )
    grok = next(x for x in then["launches"] if x["product"] == "Grok 3")
    assert (grok["state"], grok["days_late"], grok["latest_window_end"]) == (
        "upcoming",
        15,
        "2025-02-15",
    )
    assert not any(x["product"] == "Grok 3.5" for x in then["launches"])  # announced in April
    bad = run_cli("stats", "--guild", "7", "--today", "June", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "is not a date like 2025-06-30" in bad.stderr


async def test_later_this_year_starts_on_the_day_it_was_said(
    tmp_path: Path, db_target: str
) -> None:
    said = dt.date(2024, 6, 20)
    window = promised_window(parse_window("later this year", said), said)
    assert (window.start, window.end) == (said, dt.date(2024, 12, 31))
    # A window wholly after the announcement keeps its own start.
    q3 = promised_window(parse_window("Q3 2025", said), said)
    assert (q3.start, q3.end) == (dt.date(2025, 7, 1), dt.date(2025, 9, 30))
    async with harness(db_target, start=NOW) as h:
        added = await h.tracker.add(
            NewLaunch(GUILD, "Claude 3.5 Opus", "Anthropic", "later this year", said), "t"
        )
        assert (added.window.start, added.launch.window_start) == (said, said)
        replayed = {x.product: x for x in load()}
        assert replayed["Claude 3.5 Opus"].window_start == said
