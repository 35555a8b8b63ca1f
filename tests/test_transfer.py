"""Export and import: a guild's launches and histories survive the trip to another guild."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest

from storage.session import SqlStore
from tests.harness import GUILD, Harness, harness
from tracker.clock import SimClock
from tracker.errors import InvalidInput
from tracker.models import EventKind, Launch, LaunchState
from tracker.transfer import (
    CSV_FIELDS,
    LAUNCH_FIELDS,
    TransferFormat,
    TransferService,
    detect_format,
)

UTC = dt.UTC
OTHER = GUILD + 1


def at(y: int, m: int, d: int, h: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=UTC)


async def build_history(h: Harness) -> None:
    """Launches in every state, with slips, re-announcements, notes and alerts behind them."""
    grok = await h.add("Grok 3", "xAI", "end of 2024", announcer="Elon Musk",
                       source_url="https://x.com/elonmusk/status/1",
                       quote='Grok 3 "end of year"\nafter training on 100k H100s')  # fmt: skip
    opus = await h.add("Claude 3.5 Opus", "Anthropic", "later this year",
                       announced_on=dt.date(2024, 6, 20))  # fmt: skip
    gemini = await h.add("Gemini 2", "Google", "2024-12-31", announced_on=dt.date(2024, 10, 1),
                         timezone="America/Los_Angeles")  # fmt: skip
    gpt = await h.add("GPT-5", "OpenAI", "Q1 2025", announced_on=dt.date(2024, 11, 1))
    await h.add("Llama 4", "Meta", "2024-12-20", announced_on=dt.date(2024, 12, 1))
    await h.run_until(at(2024, 12, 11, 12))
    await h.tracker.shipped(GUILD, gemini, "pichai", on=dt.date(2024, 12, 11))
    await h.tracker.note(GUILD, grok, "reporter", text="Reports say a Grok 2.5 may come first")
    await h.run_until(at(2025, 1, 15, 12))  # Grok 3 and Opus slip on Jan 1, milestone 7 on Jan 8
    await h.tracker.cancelled(GUILD, opus, "mod", reason="Quietly dropped")
    await h.tracker.reannounce(GUILD, gpt, "altman", window_phrase="Q2 2025")
    await h.run_until(at(2025, 2, 17, 18))
    await h.tracker.shipped(GUILD, grok, "mod", on=dt.date(2025, 2, 17))
    await h.run_until(at(2025, 2, 20, 12))


def comparable(launch: Launch) -> dict[str, Any]:
    fields = dataclasses.asdict(launch)
    del fields["id"], fields["guild_id"]
    return fields


async def snapshot(
    h: Harness, guild_id: int
) -> list[tuple[dict[str, Any], list[tuple[object, ...]]]]:
    out = []
    for launch in await h.store.read.launches.all_launches(guild_id):
        history: list[tuple[object, ...]] = [
            (e.kind, e.at, e.actor, e.source_url, e.note, e.data)
            for e in await h.store.read.events.launch_events(launch.id)
        ]
        out.append((comparable(launch), history))
    return out


@pytest.mark.parametrize("fmt", [TransferFormat.JSON, TransferFormat.CSV])
async def test_export_then_import_into_another_guild_reproduces_launches_and_histories(
    tmp_path: Path, fmt: TransferFormat, db_target: str
) -> None:
    clock = SimClock(at(2024, 7, 1, 12))
    async with harness(db_target, clock=clock) as h:
        await build_history(h)
        source = await snapshot(h, GUILD)
        states = sorted(s[0]["state"].value for s in source)
        assert states == ["cancelled", "shipped", "shipped", "slipped", "upcoming"]
        assert any(s[0]["slip_count"] == 1 for s in source)
        service = TransferService(SqlStore(h.db), h.clock, on_change=h.engine.poke)
        exported = await service.export(GUILD, fmt)
        assert exported.launches == 5 and exported.filename.endswith(f".{fmt.value}")

        check = await service.check(OTHER, exported.content, fmt)
        assert check.ok and check.dry_run and check.would_create == 5 and check.created == 0
        assert check.events == sum(len(s[1]) for s in source)
        assert await h.store.read.launches.all_launches(OTHER) == []  # a dry run writes nothing

        report = await service.import_launches(OTHER, exported.content, fmt)
        assert report.ok and report.created == 5 and len(report.launch_ids) == 5
        await h.engine.settle()
        assert await snapshot(h, OTHER) == source
        # The imported open launches are armed like any other: the slipped one's next milestone.
        imported = {x.product: x for x in await h.store.read.launches.all_launches(OTHER)}
        assert imported["GPT-5"].state is LaunchState.UPCOMING
        assert imported["Llama 4"].next_due_at is not None
        assert imported["Grok 3"].days_late == 48 and imported["Grok 3"].next_due_at is None
        # Importing the same file again is allowed, with a warning per look-alike launch.
        again = await service.check(OTHER, exported.content, fmt)
        assert again.ok and len(again.warnings) == 5
        assert "already there" in str(again.warnings[0])


async def test_export_formats_carry_every_field(tmp_path: Path, db_target: str) -> None:
    async with harness(db_target, start=at(2024, 7, 1, 12)) as h:
        await h.add("Grok 3", "xAI", "end of 2024", quote='a, b "c"')
        service = TransferService(SqlStore(h.db), h.clock)
        as_json = json.loads((await service.export(GUILD, TransferFormat.JSON)).content)
        assert list(as_json[0]) == [*LAUNCH_FIELDS, "events"]
        assert as_json[0]["events"][0]["kind"] == "created"
        text = (await service.export(GUILD, TransferFormat.CSV)).content.decode()
        rows = list(csv.DictReader(io.StringIO(text)))
        assert tuple(rows[0]) == CSV_FIELDS
        assert rows[0]["quote"] == 'a, b "c"' and rows[0]["announcer"] == ""
        assert json.loads(rows[0]["events"])[0]["actor"] == "tester"
        assert detect_format("x.CSV", "[") is TransferFormat.CSV
        assert detect_format(None, ' [{"a": 1}]') is TransferFormat.JSON


def good_row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "product": "Grok 3",
        "vendor": "xAI",
        "announced_on": "2024-07-01",
        "window_phrase": "end of 2024",
        "window_end": "2024-12-31",
        "state": "shipped",
        "shipped_on": "2025-02-17",
        "slip_count": 1,
        "events": [
            {"kind": "created", "at": "2024-07-01T12:00:00+00:00", "actor": "musk", "data": {}},
            {"kind": "shipped", "at": "2025-02-17T18:00:00+00:00", "actor": "mod"},
        ],
    }
    row.update(changes)
    return row


BAD_ROWS = [
    good_row(),
    good_row(product="Grok 3.5", shipped_on="2025-02-30"),  # row 2: no such day
    good_row(product="Grok 4", state="launched"),  # row 3: unknown state
    good_row(product="  "),  # row 4: missing product
]


def as_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for row in rows:
        flat = {k: v for k, v in row.items() if k != "events"}
        writer.writerow({**flat, "events": json.dumps(row.get("events", []))})
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", [TransferFormat.JSON, TransferFormat.CSV])
async def test_one_bad_row_makes_the_whole_import_write_nothing(
    tmp_path: Path, fmt: TransferFormat, db_target: str
) -> None:
    text = json.dumps(BAD_ROWS) if fmt is TransferFormat.JSON else as_csv(BAD_ROWS)
    async with harness(db_target, start=at(2025, 3, 1)) as h:
        service = TransferService(SqlStore(h.db), h.clock)
        report = await service.import_launches(OTHER, text.encode(), fmt)
        assert not report.ok and report.created == 0 and report.rows == 4
        assert [(i.row, i.message) for i in report.errors] == [
            (2, 'shipped_on "2025-02-30" is not a date like 2025-02-17'),
            (3, "state 'launched' is not one of upcoming, slipped, shipped, cancelled"),
            (4, "product is missing"),
        ]
        assert report.summary().splitlines() == [
            "Nothing was imported: 3 problems in 4 rows.",
            '- Row 2: shipped_on "2025-02-30" is not a date like 2025-02-17',
            "- Row 3: state 'launched' is not one of upcoming, slipped, shipped, cancelled",
            "- Row 4: product is missing",
        ]
        assert await h.store.read.launches.all_launches(OTHER) == []
        rows = await h.db.fetchone("SELECT COUNT(*) FROM launch_events WHERE guild_id = ?", [OTHER])
        assert rows is not None and rows[0] == 0
        # The first row alone is fine, and computes what the file left out.
        ok = await service.import_launches(OTHER, json.dumps(BAD_ROWS[:1]), TransferFormat.JSON)
        assert ok.ok and ok.created == 1
        [launch] = await h.store.read.launches.all_launches(OTHER)
        assert (launch.days_late, launch.window_start, launch.next_due_at) == (
            48,
            dt.date(2024, 12, 31),
            None,
        )
        history = await h.store.read.events.launch_events(launch.id)
        assert [(e.kind, e.at, e.actor) for e in history] == [
            (EventKind.CREATED, at(2024, 7, 1, 12), "musk"),
            (EventKind.SHIPPED, at(2025, 2, 17, 18), "mod"),
        ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (good_row(evidence="hearsay"), 'evidence "hearsay" is not one of official, reported'),
        (good_row(first_window_end="soon"), 'first_window_end "soon" is not a date'),
        (good_row(state="upcoming"), "a launch that is upcoming has no shipped_on or cancelled_on"),
        (good_row(outcome_precision="year"), 'outcome_precision "year" is not one of day, month'),
        (good_row(timezone="Mars/Olympus"), "timezone: Unknown timezone 'Mars/Olympus'"),
        (good_row(source_url="ftp://x"), "source_url: 'ftp://x' is not a web link"),
        (good_row(shipped_on="2024-06-01"), "shipped_on 2024-06-01 is before announced_on"),
        (good_row(slip_count=-1), "slip_count -1 is not a whole number >= 0"),
        (good_row(events=[{"kind": "launched", "at": "2025-01-01T00:00:00Z", "actor": "x"}]),
         'event 1: kind "launched" is not one of created'),
        (good_row(events=[{"kind": "note", "at": "2025-01-01T00:00:00", "actor": "x"}]),
         "event 1: at '2025-01-01T00:00:00' has no UTC offset"),
    ],
)  # fmt: skip
async def test_row_problems_are_explained(
    tmp_path: Path, row: dict[str, Any], message: str, db_target: str
) -> None:
    async with harness(db_target, start=at(2025, 3, 1)) as h:
        service = TransferService(SqlStore(h.db), h.clock)
        report = await service.check(OTHER, json.dumps([row]), TransferFormat.JSON)
        assert not report.ok
        assert report.errors[0].row == 1 and message in report.errors[0].message


async def test_unreadable_files_are_refused_whole(tmp_path: Path, db_target: str) -> None:
    async with harness(db_target, start=at(2025, 3, 1)) as h:
        service = TransferService(SqlStore(h.db), h.clock)
        with pytest.raises(InvalidInput, match="not valid JSON"):
            await service.check(OTHER, "[{", TransferFormat.JSON)
        with pytest.raises(InvalidInput, match="no product column"):
            await service.check(OTHER, "name,vendor\nx,y\n", TransferFormat.CSV)
        with pytest.raises(InvalidInput, match="no launches"):
            await service.check(OTHER, "[]", TransferFormat.JSON)
        with pytest.raises(InvalidInput, match="not UTF-8"):
            await service.check(OTHER, b"\xff\xfe\x00", TransferFormat.CSV)
