"""The lifecycle service's refusals: each says what to type instead and writes nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from storage.db import SqliteDatabase
from storage.schema import MigrationError
from tests.harness import GUILD, harness
from tracker.errors import InvalidInput, NotFound
from tracker.models import SubscriptionScope
from tracker.settings import Settings, SettingsError


async def test_refusals_write_nothing(tmp_path: Path, db_target: str) -> None:
    async with harness(db_target) as h:
        launch_id = await h.add()
        cases = [
            (h.tracker.configure(GUILD, grace_days=400), "Grace must be between 0 and 365 days."),
            (
                h.tracker.configure(GUILD, timezone="Moon/Base"),
                "Unknown timezone 'Moon/Base'. Use an IANA name such as Europe/Paris, "
                "America/Los_Angeles or Asia/Jakarta.",
            ),
            (
                h.tracker.subscribe(GUILD, 1, SubscriptionScope.ALL, mode="hourly"),
                'Choose "instant" or "digest".',
            ),
            (
                h.tracker.note(GUILD, launch_id, "t", text="   "),
                "Please give a note.",
            ),
            (
                h.tracker.edit(GUILD, launch_id, "t", window_end="2030-01-01"),
                "Cannot edit window_end.",
            ),
            (
                h.tracker.edit(GUILD, launch_id, "t", product="x" * 101),
                "The product name is 101 characters long; at most 100, please.",
            ),
            (
                h.tracker.cancelled(GUILD, launch_id, "t", on=dt.date(2020, 1, 1)),
                "2020-01-01 is before the announcement (2024-07-01); check the date.",
            ),
        ]
        for call, message in cases:
            with pytest.raises(InvalidInput) as err:
                await call
            assert str(err.value) == message
        with pytest.raises(NotFound) as missing:
            await h.tracker.subscribe(GUILD, 1, SubscriptionScope.LAUNCH, "999")
        assert str(missing.value) == "There is no launch #999 in this server. Try /launch list."
        config = await h.store.read.guilds.get_guild(GUILD)
        assert config.grace_days == 0 and config.timezone == "UTC"
        assert await h.tracker.subscriptions(1) == []
        launch = await h.tracker.get(GUILD, launch_id)
        assert launch.product == "Grok 3" and launch.cancelled_on is None
        kinds = [e.kind.value for e in await h.tracker.history(GUILD, launch_id)]
        assert kinds == ["created"]


async def test_a_database_from_a_newer_slipwatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    async with SqliteDatabase.open(path) as db, db.transaction() as conn:
        await conn.execute("PRAGMA user_version = 99")
    with pytest.raises(MigrationError, match="newer than this slipwatch"):
        async with SqliteDatabase.open(path):
            pass


def test_a_bad_probe_allow_list_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="SLIPWATCH_PROBE_ALLOW"):
        Settings.from_env({"SLIPWATCH_PROBE_ALLOW": "not a host"})
    ok = Settings.from_env({"SLIPWATCH_PROBE_ALLOW": "127.0.0.1:8080,10.0.0.0/8"})
    assert ok.probe_allow == ("127.0.0.1:8080", "10.0.0.0/8")
