"""Per-server limits and CSV hygiene: no server can fill the bot at the others' expense, and an
export opened in a spreadsheet runs no formula."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from storage.session import SqlStore
from tests.harness import GUILD, harness
from tracker.errors import InvalidInput
from tracker.launches import Tracker
from tracker.limits import Limits
from tracker.models import NewLaunch
from tracker.transfer import MAX_IMPORT_ROWS, TransferFormat, TransferService, read_rows

UTC = dt.UTC
OTHER = GUILD + 1


async def test_a_server_cannot_track_more_launches_than_its_limit(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target) as h:
        tracker = Tracker(SqlStore(h.db), h.clock, limits=Limits(launches_per_guild=2))
        for product in ("Grok 3", "Grok 4"):
            await tracker.add(
                NewLaunch(GUILD, product, "xAI", "end of 2025", dt.date(2024, 7, 1)), "mod"
            )
        with pytest.raises(InvalidInput) as caught:
            await tracker.add(
                NewLaunch(GUILD, "Grok 5", "xAI", "end of 2026", dt.date(2024, 7, 1)), "mod"
            )
        assert str(caught.value) == (
            "This server already tracks 2 launches, the most a server can have. Remove "
            "launches you no longer need with /launch remove first."
        )
        assert await h.store.read.launches.count_launches(GUILD) == 2
        # Another server is not affected.
        await tracker.add(
            NewLaunch(OTHER, "Grok 5", "xAI", "end of 2026", dt.date(2024, 7, 1)), "m"
        )


async def test_an_import_past_the_launch_limit_is_refused_whole(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target) as h:
        await h.add("Grok 3", "xAI", "end of 2024")
        await h.add("GPT-5", "OpenAI", "Q1 2025")
        full = TransferService(SqlStore(h.db), h.clock)
        exported = await full.export(GUILD, TransferFormat.JSON)
        await h.add("Gemini 2", "Google", "2024-12-31")
        capped = TransferService(SqlStore(h.db), h.clock, limits=Limits(launches_per_guild=4))
        with pytest.raises(InvalidInput) as caught:
            await capped.import_launches(GUILD, exported.content, TransferFormat.JSON)
        assert str(caught.value) == (
            "This server tracks 3 launches and the file holds 2 more; a server can have at "
            "most 4 launches. Remove launches you no longer need with /launch remove, or "
            "import fewer."
        )
        assert await h.store.read.launches.count_launches(GUILD) == 3


async def test_imports_per_server_per_hour(tmp_path: Path, db_target: str) -> None:
    async with harness(db_target) as h:
        await h.add("Grok 3", "xAI", "end of 2024")
        service = TransferService(SqlStore(h.db), h.clock, limits=Limits(imports_per_hour=2))
        exported = (await service.export(GUILD, TransferFormat.JSON)).content
        for _ in range(2):
            report = await service.import_launches(OTHER, exported, TransferFormat.JSON)
            assert report.created == 1
        h.clock.advance(dt.timedelta(minutes=20))
        with pytest.raises(InvalidInput) as caught:
            await service.import_launches(OTHER, exported, TransferFormat.JSON)
        assert str(caught.value) == (
            "This server made 2 imports in the last hour, the most it can make. "
            "Try again in 40 minutes."
        )
        # A dry run is always allowed, other servers have their own count, and an hour on the
        # server may import again.
        assert (await service.check(OTHER, exported, TransferFormat.JSON)).would_create == 1
        assert (await service.import_launches(GUILD + 2, exported, TransferFormat.JSON)).created
        h.clock.advance(dt.timedelta(minutes=41))
        assert (await service.import_launches(OTHER, exported, TransferFormat.JSON)).created == 1
        assert await h.store.read.launches.count_launches(OTHER) == 3


async def test_csv_export_neutralises_formulas_and_import_restores_them(
    tmp_path: Path, db_target: str
) -> None:
    hostile = {
        "product": '=HYPERLINK("http://evil.example","Grok")',
        "vendor": "+xAI",
        "announcer": "@elonmusk",
        "quote": "-1 for the H100s",
    }
    async with harness(db_target) as h:
        await h.add(
            hostile["product"],
            hostile["vendor"],
            "end of 2024",
            announcer=hostile["announcer"],
            quote=hostile["quote"],
        )
        await h.add("'=already quoted", "-Lab", "end of 2025")
        service = TransferService(SqlStore(h.db), h.clock)
        exported = await service.export(GUILD, TransferFormat.CSV)
        rows = list(csv.DictReader(io.StringIO(exported.content.decode())))
        for field, value in hostile.items():
            assert rows[0][field] == "'" + value
        assert rows[1]["product"] == "''=already quoted"
        # Every cell a spreadsheet would run starts with an apostrophe.
        for row in rows:
            for value in row.values():
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
        report = await service.import_launches(OTHER, exported.content, TransferFormat.CSV)
        assert report.created == 2
        imported = await h.store.read.launches.all_launches(OTHER)
        assert [
            (x.product, x.vendor, x.announcer, x.quote)
            for x in sorted(imported, key=lambda x: x.id)
        ] == [
            (hostile["product"], hostile["vendor"], hostile["announcer"], hostile["quote"]),
            ("'=already quoted", "-Lab", None, None),
        ]


def test_an_over_cap_csv_is_refused_while_reading() -> None:
    header = "product,vendor,window_phrase\n"
    rows = "".join(f"Model {i},Lab,end of 2025\n" for i in range(MAX_IMPORT_ROWS + 1))

    # read_rows stops at the first row past the cap, not after reading everything.
    text = header + rows + "Model X,Lab,end of 2025\n" * 10_000
    with pytest.raises(InvalidInput) as caught:
        read_rows(text, TransferFormat.CSV)
    assert str(caught.value) == (
        f"The file has more than {MAX_IMPORT_ROWS} launches; at most {MAX_IMPORT_ROWS} per "
        "import. Split it and import the parts."
    )
