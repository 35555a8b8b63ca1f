"""The command line as a person uses it: demo, check, run without a token, bad settings."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.session import SqlStore, open_store
from tracker.demo import run_demo
from tracker.settings import Secret, Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLIPWATCH_"))}
    base.update(env or {})
    return subprocess.run(
        [sys.executable, str(ROOT / "bot.py"), *args],
        capture_output=True,
        text=True,
        env=base,
        cwd=cwd or ROOT,
        timeout=60,
        check=False,
    )


async def test_demo_replays_the_story_and_ends_with_the_table() -> None:
    out = io.StringIO()
    status = await run_demo(open_store, out)
    text = out.getvalue()
    assert status == 0
    lines = text.splitlines()
    assert "[2025-01-01 00:00 UTC] #launch-alerts  Grok 3 (xAI) missed its window" in lines
    assert "[2025-01-07 00:00 UTC] #launch-alerts  Grok 3 (xAI) is 7 days late" in lines
    assert "[2025-01-01 00:00 UTC] DM to @alice: Grok 3 (xAI) missed its window" in lines
    assert "[2024-12-25 00:00 UTC] #launch-alerts  Grok 3 (xAI): deadline in 7 days" in lines
    assert "[2024-12-31 00:00 UTC] #launch-alerts  Grok 3 (xAI): deadline in 1 day" in lines
    assert "[2025-02-17 18:00 UTC] #launch-alerts  Grok 3 (xAI) shipped 48 days late" in lines
    assert (
        "[2025-01-15 10:00 UTC] #launch-alerts  Claude 3.5 Opus (Anthropic) was cancelled" in lines
    )
    assert any("interim Grok 2.5" in line for line in lines)
    # Each channel alert is shown once: 2 launches x (2 reminders + slip + 7-day milestone)
    # + Grok's 30-day milestone + cancelled + shipped.
    assert sum(1 for line in lines if line.startswith("[") and "#launch-alerts" in line) == 11
    table = lines[lines.index(next(line for line in lines if line.startswith("#  launch"))) :]
    assert table[2].split() == [
        "1",
        "Claude",
        "3.5",
        "Opus",
        "(Anthropic)",
        "later",
        "this",
        "year",
        "2024-12-31",
        "2025-01-01",
        "00:00",
        "cancelled",
        "2025-01-15",
        "0",
    ]  # fmt: skip  (a cancelled launch has no days late)
    assert table[3].split() == [
        "2", "Grok", "3", "(xAI)", "end", "of", "year", "2024-12-31", "2025-01-01", "00:00",
        "shipped", "2025-02-17", "48", "0",
    ]  # fmt: skip
    assert lines[-1] == "outbox: 17 sent, 0 pending, 0 undelivered"


def test_run_without_token_exits_2_with_one_clear_paragraph(tmp_path: Path) -> None:
    result = run_cli(cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    paragraph = result.stderr.strip()
    assert "\n" not in paragraph
    assert "DISCORD_TOKEN" in paragraph
    assert "Copy .env.example to .env" in paragraph
    assert "python bot.py demo" in paragraph


def test_demo_subprocess_finishes_quickly_and_cleanly(tmp_path: Path) -> None:
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "shipped 48 days late" in result.stdout


def test_check_validates_settings_and_database(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    result = run_cli("check", env={"SLIPWATCH_DB": str(db)}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "settings: ok (token NOT SET" in result.stdout
    assert f"database {db}: ok (schema version" in result.stdout
    assert "integrity ok" in result.stdout


def test_check_reports_a_corrupt_database(tmp_path: Path) -> None:
    db = tmp_path / "bad.db"
    db.write_bytes(b"this is not a database" * 100)
    result = run_cli("check", env={"SLIPWATCH_DB": str(db)}, cwd=tmp_path)
    assert result.returncode == 1
    assert f"database {db}: FAILED" in result.stdout


def test_bad_setting_is_named_and_explained(tmp_path: Path) -> None:
    result = run_cli("check", env={"DISCORD_API_BASE": "discord.com"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "slipwatch: bad setting: DISCORD_API_BASE must be a http:// or https:// address, "
        "not 'discord.com'."
    )


def test_token_never_shows_in_reprs_or_check_output(tmp_path: Path) -> None:
    token = "MTAxMDEw.secret-token-value"
    settings = Settings.from_env({"DISCORD_TOKEN": token})
    assert token not in repr(settings)
    assert token not in str(settings.token)
    assert settings.token.get() == token
    assert repr(Secret("")) == "Secret('')"
    result = run_cli("check", env={"DISCORD_TOKEN": token, "SLIPWATCH_DB": str(tmp_path / "d.db")})
    assert token not in result.stdout + result.stderr
    assert "token set" in result.stdout


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SLIPWATCH_DB=from_dotenv.db\nLOG_LEVEL=WARNING\n")
    result = run_cli("check", cwd=tmp_path)
    assert "database from_dotenv.db: ok" in result.stdout
    result = run_cli("check", env={"SLIPWATCH_DB": str(tmp_path / "env.db")}, cwd=tmp_path)
    assert f"database {tmp_path / 'env.db'}: ok" in result.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SYNC_GUILD_ID": "abc"}, "SYNC_GUILD_ID must be a server id (digits), not 'abc'."),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL."),
        (
            {"DELIVERY_CONCURRENCY": "0"},
            "DELIVERY_CONCURRENCY must be a whole number from 1 to 256, not '0'.",
        ),
        (
            {"DISCORD_GATEWAY_URL": "http://x"},
            "DISCORD_GATEWAY_URL must be a ws:// or wss:// address, not 'http://x'.",
        ),
        (
            {"SLIPWATCH_KEY_LAB_HOSTS": "api.lab.example, https://api.lab.example/v1"},
            "SLIPWATCH_KEY_LAB_HOSTS: 'https://api.lab.example/v1' is not a host name or "
            "host:port (api.example.com, api.example.com:8443, 127.0.0.1:8080).",
        ),
    ],
)
def test_settings_refuse_bad_values(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env)
    assert str(err.value) == message


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    keys = [
        "DISCORD_TOKEN",
        "SLIPWATCH_DB",
        "DISCORD_API_BASE",
        "DISCORD_GATEWAY_URL",
        "SYNC_GUILD_ID",
        "LOG_LEVEL",
        "DELIVERY_CONCURRENCY",
        "OUTBOX_MAX_AGE_HOURS",
        "SLIPWATCH_PROBE_ALLOW",
        "SLIPWATCH_MAX_LAUNCHES",
        "SLIPWATCH_MAX_PROBES",
        "SLIPWATCH_MAX_PROPOSALS_PER_POLL",
        "SLIPWATCH_MAX_IMPORTS_PER_HOUR",
        "SLIPWATCH_SQL_DEBUG",
    ]
    for key in keys:
        assert f"\n{key}=" in text, key
    source = (ROOT / "tracker" / "settings.py").read_text()
    for key in keys:
        assert f'"{key}"' in source, key


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    fence = readme.index("```sh")
    demo, tests = readme[fence + 1], readme[fence + 2]
    assert demo.endswith("bot.py demo")
    assert "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci


def test_export_and_import_from_the_command_line(tmp_path: Path) -> None:
    import asyncio
    import datetime as dt

    from storage.db import SqliteDatabase
    from tracker.clock import SimClock
    from tracker.launches import Tracker
    from tracker.models import NewLaunch

    db = tmp_path / "cli.db"

    async def seed() -> None:
        async with SqliteDatabase.open(db) as handle:
            tracker = Tracker(SqlStore(handle), SimClock(dt.datetime(2025, 3, 1, tzinfo=dt.UTC)))
            added = await tracker.add(
                NewLaunch(7, "Grok 3", "xAI", "end of 2024", dt.date(2024, 7, 1)), "t"
            )
            await tracker.shipped(7, added.launch.id, "t", on=dt.date(2025, 2, 17))

    asyncio.run(seed())
    env = {"SLIPWATCH_DB": str(db)}
    out = run_cli("export", "--guild", "7", "--out", "grok.json", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "exported 1 launch of server 7 to grok.json"
    dry = run_cli("import", "grok.json", "--guild", "8", "--dry-run", env=env, cwd=tmp_path)
    assert dry.returncode == 0 and dry.stdout.startswith("Would import 1 launch with")
    real = run_cli("import", "grok.json", "--guild", "8", env=env, cwd=tmp_path)
    assert real.returncode == 0 and real.stdout.startswith("Imported 1 launch with")
    (tmp_path / "bad.csv").write_text("product,vendor\n,xAI\n")
    bad = run_cli("import", "bad.csv", "--guild", "8", env=env, cwd=tmp_path)
    assert bad.returncode == 1 and "Nothing was imported" in bad.stdout + bad.stderr
    missing = run_cli("import", "nope.json", "--guild", "8", env=env, cwd=tmp_path)
    assert missing.returncode == 2
    assert "cannot read nope.json: No such file or directory" in missing.stderr
    # A .gz file, as /launch export sends a file too large for Discord, is read as it is.
    packed = gzip.compress((tmp_path / "grok.json").read_bytes())
    (tmp_path / "grok.json.gz").write_bytes(packed)
    unpacked = run_cli("import", "grok.json.gz", "--guild", "9", env=env, cwd=tmp_path)
    assert unpacked.returncode == 0 and unpacked.stdout.startswith("Imported 1 launch with")
    (tmp_path / "cut.json.gz").write_bytes(packed[: len(packed) // 2])
    cut = run_cli("import", "cut.json.gz", "--guild", "9", env=env, cwd=tmp_path)
    assert cut.returncode == 2
    assert (
        cut.stderr.strip()
        .splitlines()[-1]
        .startswith("slipwatch: cut.json.gz is not a whole gzip file (")
    )


def test_debug_logging_leaves_sql_out_unless_asked(tmp_path: Path) -> None:
    env = {"SLIPWATCH_DB": str(tmp_path / "x.db"), "LOG_LEVEL": "DEBUG"}
    quiet = run_cli("check", env=env, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "DEBUG" in quiet.stderr  # debugging is on...
    assert "aiosqlite" not in quiet.stderr  # ...but no statement and no parameter is logged
    loud = run_cli("check", env={**env, "SLIPWATCH_SQL_DEBUG": "1"}, cwd=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "DEBUG   aiosqlite:" in loud.stderr
