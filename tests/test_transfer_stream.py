"""Exports and imports a page at a time: the storage reads they use (on SQLite and PostgreSQL),
the same file as the whole-server writer, gzip for Discord's upload limit, and .gz uploads."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from storage.session import SqlStore
from tests.harness import GUILD, Harness, harness
from tests.test_transfer import OTHER, at, build_history
from tracker.errors import InvalidInput
from tracker.models import EventKind
from tracker.transfer import TransferFormat, TransferService, export_csv, export_json, reading
from tracker.transfer import service as transfer_service
from tracker.transfer.service import mib

THIRD = GUILD + 2


async def seed(h: Harness) -> list[int]:
    """Seven launches of two vendors in GUILD, with one in another guild between them."""
    ids = []
    for n in range(7):
        ids.append(await h.add(f"Model {n}", "Alpha" if n % 2 else "Beta", "end of 2026"))
        if n == 2:
            await h.add("Elsewhere", "Alpha", "end of 2026", guild_id=OTHER)
    await h.tracker.note(GUILD, ids[3], "reporter", text="a second history row")
    return ids


async def test_launches_are_read_in_pages_by_id(tmp_path: Path, db_target: str) -> None:
    async with harness(db_target) as h:
        ids = await seed(h)
        read = h.store.read.launches
        first = await read.launches_after(GUILD, 0, 3)
        assert [x.id for x in first] == ids[:3]
        rest = await read.launches_after(GUILD, first[-1].id, 10)
        assert [x.id for x in rest] == ids[3:]
        assert await read.launches_after(GUILD, ids[-1], 10) == []
        alpha = await read.launches_after(GUILD, 0, 10, vendor="ALPHA")
        assert [x.product for x in alpha] == ["Model 1", "Model 3", "Model 5"]
        assert [x.id for x in await read.launches_after(GUILD, alpha[0].id, 1, vendor="alpha")] == [
            alpha[1].id
        ]
        assert alpha == [x for x in await read.all_launches(GUILD) if x.vendor == "Alpha"]


async def test_launch_keys_are_what_the_duplicate_check_needs(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target) as h:
        await seed(h)
        keys = await h.store.read.launches.launch_keys(GUILD)
        assert sorted(keys) == sorted(
            (f"Model {n}", "Alpha" if n % 2 else "Beta", dt.date(2024, 7, 1)) for n in range(7)
        )
        assert await h.store.read.launches.launch_keys(THIRD) == []


async def test_events_of_launches_are_each_launchs_whole_history(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target) as h:
        ids = await seed(h)
        read = h.store.read.events
        grouped = await read.events_of_launches(GUILD, [ids[3], ids[4]])
        assert sorted(grouped) == [ids[3], ids[4]]
        assert [e.kind for e in grouped[ids[3]]] == [EventKind.CREATED, EventKind.NOTE]
        assert grouped[ids[3]] == await read.launch_events(ids[3])
        assert await read.events_of_launches(GUILD, []) == {}
        assert await read.events_of_launches(OTHER, [ids[3]]) == {}  # not that guild's


async def test_a_snapshot_sees_one_state_while_writes_go_on(tmp_path: Path, db_target: str) -> None:
    async with harness(db_target) as h:
        ids = await seed(h)
        async with h.store.snapshot() as snap:
            before = await snap.launches.launches_after(GUILD, 0, 3)
            # Committed beside the snapshot: a new launch, and a change to one already read.
            await h.add("Late comer", "Alpha", "end of 2026")
            await h.tracker.note(GUILD, ids[4], "reporter", text="written during the export")
            later = await snap.launches.launches_after(GUILD, before[-1].id, 100)
            events = await snap.events.events_of_launches(GUILD, [ids[4]])
            assert [x.id for x in before + later] == ids
            assert [e.kind for e in events[ids[4]]] == [EventKind.CREATED]
        # Outside it, the reads see the writes.
        now = await h.store.read.launches.launches_after(GUILD, 0, 100)
        assert [x.product for x in now][-1] == "Late comer"


@pytest.mark.parametrize("fmt", [TransferFormat.JSON, TransferFormat.CSV])
async def test_an_export_read_in_pages_is_the_same_file(
    tmp_path: Path, fmt: TransferFormat, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with harness(db_target, start=at(2024, 7, 1, 12)) as h:
        service = TransferService(SqlStore(h.db), h.clock)
        write = export_json if fmt is TransferFormat.JSON else export_csv
        empty = await service.export(GUILD, fmt)
        assert (empty.content, empty.launches) == (write([], {}).encode(), 0)
        await build_history(h)
        await seed(h)
        whole = write(
            await h.store.read.launches.all_launches(GUILD),
            await h.store.read.events.events_by_launch(GUILD),
        ).encode()
        for page in (1, 2, 5, 1000):
            monkeypatch.setattr(transfer_service, "EXPORT_PAGE", page)
            paged = await service.export(GUILD, fmt)
            assert (paged.content, paged.launches, paged.compressed) == (whole, 12, False)
            assert paged.filename == f"slipwatch-{GUILD}-20250220-1200.{fmt.value}"


async def test_one_vendors_export(tmp_path: Path, db_target: str) -> None:
    async with harness(db_target, start=at(2024, 7, 1, 12)) as h:
        await seed(h)
        service = TransferService(SqlStore(h.db), h.clock)
        alpha = await service.export(GUILD, TransferFormat.JSON, vendor="alpha")
        assert alpha.filename == f"slipwatch-{GUILD}-alpha-20240701-1200.json"
        assert [r["product"] for r in json.loads(alpha.content)] == [
            "Model 1",
            "Model 3",
            "Model 5",
        ]
        with pytest.raises(InvalidInput) as caught:
            await service.export(GUILD, TransferFormat.JSON, vendor="Gamma")
        assert str(caught.value) == "This server tracks no launch by Gamma."


async def test_an_export_too_large_to_upload_comes_compressed_or_says_what_to_do(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target, start=at(2024, 7, 1, 12)) as h:
        await seed(h)
        service = TransferService(SqlStore(h.db), h.clock)
        plain = await service.export(GUILD, TransferFormat.JSON)
        size = len(plain.content)
        same = await service.export(GUILD, TransferFormat.JSON, max_bytes=size)
        assert same == plain and not same.compressed
        packed = await service.export(GUILD, TransferFormat.JSON, max_bytes=size - 1)
        assert packed.compressed and packed.size == size and packed.launches == 7
        assert packed.filename == plain.filename + ".gz"
        assert len(packed.content) < size and gzip.decompress(packed.content) == plain.content
        with pytest.raises(InvalidInput) as caught:
            await service.export(GUILD, TransferFormat.JSON, max_bytes=100)
        assert str(caught.value) == (
            f"The export of 7 launches is {kib(size)} KiB ({kib(len(packed.content))} KiB "
            "compressed), more than the 1 KiB Discord takes in this server. Export one vendor "
            "at a time (/launch export vendor: "
            f"...), or ask the bot's operator to run `python bot.py export --guild {GUILD}`, "
            "which writes a file of any size."
        )
        with pytest.raises(InvalidInput) as caught:
            await service.export(GUILD, TransferFormat.JSON, vendor="Alpha", max_bytes=100)
        assert str(caught.value).endswith(
            "Discord takes in this server. Ask the bot's operator to run `python bot.py export "
            f"--guild {GUILD}`, which writes a file of any size."
        )


async def test_a_gzip_upload_is_unpacked_within_a_cap(
    tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with harness(db_target, start=at(2024, 7, 1, 12)) as h:
        await seed(h)
        service = TransferService(SqlStore(h.db), h.clock)
        plain = await service.export(GUILD, TransferFormat.CSV)
        packed = gzip.compress(plain.content)
        upload = await service.read_upload("slipwatch-1.csv.gz", packed)
        assert (upload.filename, upload.data, upload.format, upload.unpacked) == (
            "slipwatch-1.csv",
            plain.content,
            TransferFormat.CSV,
            True,
        )
        report = await service.check(OTHER, upload.data, upload.format)
        assert report.ok and report.would_create == 7
        # Two gzip members one after the other are one file, as gzip itself reads them.
        half = len(plain.content) // 2
        twice = gzip.compress(plain.content[:half]) + gzip.compress(plain.content[half:])
        assert (await service.read_upload("x.gz", twice)).data == plain.content
        # Not gzip: passed as it is.
        same = await service.read_upload("x.json", b'[{"product": "x"}]')
        assert (same.data, same.format, same.unpacked) == (b'[{"product": "x"}]', "json", False)

        monkeypatch.setattr(reading, "MAX_UNPACKED_BYTES", 2_000_000)
        bomb = gzip.compress(b" " * 2_000_001)
        assert len(bomb) < 10_000
        problems = {
            "bomb": bomb,
            "damaged": packed[:20] + b"\x00" * 40 + packed[60:],
            "short": packed[: len(packed) // 2],
        }
        said = {}
        for name, data in problems.items():
            with pytest.raises(InvalidInput) as caught:
                await service.read_upload(f"{name}.json.gz", data)
            said[name] = str(caught.value)
        assert said["bomb"] == (
            "The .gz file unpacks to more than 2 MB, more than an export of 5000 launches. "
            "Split it and import the parts."
        )
        assert said["damaged"].startswith("The .gz file is damaged (Error -3 while decompressing")
        assert said["damaged"].endswith(
            "Export again, or unpack it yourself and upload the file inside."
        )
        assert said["short"] == (
            "The .gz file is cut short (it ends before its content does). Upload the whole "
            "file again."
        )


async def test_an_import_checked_in_pages_numbers_rows_and_finds_look_alikes_across_them(
    tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfer_service, "IMPORT_PAGE", 2)
    async with harness(db_target, start=at(2024, 7, 1, 12)) as h:
        await seed(h)
        service = TransferService(SqlStore(h.db), h.clock)
        rows = json.loads((await service.export(GUILD, TransferFormat.JSON)).content)
        rows[4]["announced_on"] = "someday"
        rows.append(dict(rows[0]))  # a look-alike of row 1, in a later page
        text = json.dumps(rows)
        report = await service.check(OTHER, text, TransferFormat.JSON)
        assert (report.rows, report.would_create, report.error_count) == (8, 7, 1)
        assert [str(e) for e in report.errors] == [
            'Row 5: announced_on "someday" is not a date like 2025-02-17'
        ]
        assert [w.row for w in report.warnings] == [8]
        del rows[4]
        again = await service.import_launches(OTHER, json.dumps(rows), TransferFormat.JSON)
        assert again.ok and again.created == 7 and again.events == 8
        imported = await h.store.read.launches.all_launches(OTHER)
        assert [x.product for x in imported] == [
            "Elsewhere",
            *(f"Model {n}" for n in (0, 1, 2, 3, 5, 6, 0)),
        ]
        # Now GUILD's launches are all in OTHER: each row of the file looks like one there.
        third = await service.check(OTHER, json.dumps(rows[:3]), TransferFormat.JSON)
        assert [w.row for w in third.warnings] == [1, 2, 3]


def kib(size: int) -> int:
    """Bytes in KiB, rounded up, as the bot words sizes under one MiB."""
    return -(-size // 1024)


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (0, "0 KiB"),
        (1, "1 KiB"),
        (1024, "1 KiB"),
        (1025, "2 KiB"),
        (1024 * 1024 - 1, "1024 KiB"),
        (1024 * 1024, "1 MiB"),
        (5 * 1024 * 1024, "5 MiB"),
        (int(2.34 * 1024 * 1024), "2.3 MiB"),
        (10 * 1024 * 1024 + 200_000, "10.2 MiB"),
    ],
)
def test_file_sizes_are_worded_in_kib_under_one_mib_and_never_as_zero(
    size: int, words: str
) -> None:
    assert mib(size) == words
