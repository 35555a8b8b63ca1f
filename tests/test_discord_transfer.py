"""/launch export and /launch import against Discord's upload limits: an export larger than the
server takes comes gzip-compressed (and imports read it), one that does not fit even so says
what to do, and every refusal of an upload is said as such."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e import world
from tests.test_discord_slips import record
from tracker.transfer import TransferFormat, reading

PRODUCTS = ["Alpha 1", "Alpha 2", "Beta 1", "Beta 2", "Beta 3"]


def kib(size: int) -> int:
    """Bytes in KiB, rounded up, as the bot words sizes under one MiB."""
    return -(-size // 1024)


def products(data: bytes) -> list[str]:
    return [r["product"] for r in json.loads(data)]


async def test_an_export_over_the_upload_limit_comes_gzipped_and_imports_as_it_is(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target, attachment_size_limit=4096) as w:
        await record(w)
        plain = await w.bot.transfer.export(w.guild, TransferFormat.JSON)
        assert len(plain.content) > 4096
        export = await w.cmd("launch export")
        [sent] = export.files
        assert sent.filename == plain.filename + ".gz"
        assert len(sent.data) <= 4096 and gzip.decompress(sent.data) == plain.content
        assert export.content == (
            f"5 launches, every field and the full history. The file is "
            f"{kib(len(plain.content))} KiB, more than the 4 KiB Discord takes "
            f"here, so it comes compressed with gzip ({kib(len(sent.data))} KiB); "
            "/launch import reads it as it is."
        )
        dry = await w.cmd("launch import", guild=w.other_guild, file=(sent.filename, sent.data))
        assert dry.content.startswith("Would import 5 launches with")
        done = await w.cmd(
            "launch import", guild=w.other_guild, file=(sent.filename, sent.data), dry_run=False
        )
        assert done.content.startswith("Imported 5 launches with")
        theirs = await w.bot.app.store.read.launches.all_launches(w.other_guild)
        assert [x.product for x in theirs] == PRODUCTS


async def test_an_export_too_large_even_gzipped_says_what_to_do(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await record(w)
        # Between the whole export compressed (about 1,000 bytes) and one vendor's (about 600).
        w.server.attachment_size_limit = 800
        export = await w.cmd("launch export")
        assert export.files == []
        assert export.content.startswith("The export of 5 launches is 8 KiB (1 KiB compressed)")
        assert export.content.endswith(
            "more than the 1 KiB Discord takes in this server. Export one vendor at a time "
            "(/launch export vendor: ...), or ask the bot's operator to run `python bot.py "
            f"export --guild {w.guild}`, which writes a file of any size."
        )
        # One vendor at a time fits.
        alpha = await w.cmd("launch export", vendor="Alpha Labs")
        assert alpha.content.startswith("2 launches, every field and the full history.")
        assert alpha.files[0].filename.startswith(f"slipwatch-{w.guild}-alpha-labs-")
        data = alpha.files[0].data
        shown = gzip.decompress(data) if alpha.files[0].filename.endswith(".gz") else data
        assert products(shown) == ["Alpha 1", "Alpha 2"]
        nobody = await w.cmd("launch export", vendor="Gamma")
        assert nobody.content == "This server tracks no launch by Gamma."


async def test_a_file_discord_refuses_anyway_is_said_as_such(
    tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with world(db_target) as w:
        await record(w)
        export = w.bot.transfer.export

        async def shrinking(*args: Any, **kwargs: Any) -> Any:
            # The server's upload limit drops while the file is written (its boost ran out).
            made = await export(*args, **kwargs)
            w.server.attachment_size_limit = 100
            return made

        monkeypatch.setattr(w.bot.transfer, "export", shrinking)
        reply = await w.cmd("launch export")
        assert reply.files == []
        assert reply.content.startswith("Discord refused the file (8 KiB) as too large for ")
        assert reply.content.endswith(
            "this server. Export one vendor at a time (/launch export vendor: ...), or ask the "
            f"bot's operator to run `python bot.py export --guild {w.guild}`, which writes a "
            "file of any size."
        )


async def test_uploads_over_the_caps_are_refused_with_the_reason(
    tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with world(db_target) as w:
        big = b"[" + b" " * (6 * 1024 * 1024) + b"]"
        refused = await w.cmd("launch import", file=("big.json", big))
        assert refused.content == (
            "That file is 6 MiB; imports take at most 5 MiB (a .gz file: compressed). "
            "Split it and import the parts."
        )
        monkeypatch.setattr(reading, "MAX_UNPACKED_BYTES", 1_000_000)
        bomb = gzip.compress(b"[" + b" " * 1_000_000 + b"]")
        exploded = await w.cmd("launch import", file=("bomb.json.gz", bomb))
        assert exploded.content == (
            "The .gz file unpacks to more than 1 MB, more than an export of 5000 launches. "
            "Split it and import the parts."
        )
        cut = await w.cmd("launch import", file=("cut.json.gz", bomb[: len(bomb) // 2]))
        assert cut.content == (
            "The .gz file is cut short (it ends before its content does). Upload the whole "
            "file again."
        )
        assert await w.launch_count() == 0
