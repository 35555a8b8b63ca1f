"""Each server's settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from storage.db import to_ms
from storage.rows import (
    Repository,
    chunks,
    row_to_guild,
)
from tracker.models import (
    GuildConfig,
)

_GUILD_FIELDS = (
    "timezone",
    "grace_days",
    "reminder_offsets",
    "late_milestones",
    "alert_channel_id",
    "manager_role_id",
    "mention_role_id",
    "locale",
    "digest_channel_id",
    "digest_schedule",
    "digest_when_empty",
)


class SqlGuilds(Repository):
    """Each server's settings."""

    __slots__ = ()

    async def get_guild(self, guild_id: int) -> GuildConfig:
        """A guild's settings; defaults when the guild was never configured."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM guilds WHERE guild_id = ?", (guild_id,)
            )
        )
        row = rows[0] if rows else None
        return row_to_guild(row) if row else GuildConfig(guild_id=guild_id)

    async def get_guilds(self, guild_ids: Iterable[int]) -> dict[int, GuildConfig]:
        """Settings for many guilds at once (defaults for unknown ones)."""
        ids = sorted(set(guild_ids))
        result = {gid: GuildConfig(guild_id=gid) for gid in ids}
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = list(
                await self._conn.execute_fetchall(
                    f"SELECT * FROM guilds WHERE guild_id IN ({marks})", chunk
                )
            )
            for row in rows:
                result[row["guild_id"]] = row_to_guild(row)
        return result

    async def list_guilds(self) -> list[GuildConfig]:
        """Every configured guild."""
        rows = list(await self._conn.execute_fetchall("SELECT * FROM guilds ORDER BY guild_id"))
        return [row_to_guild(r) for r in rows]

    async def save_guild(self, config: GuildConfig, now: dt.datetime) -> None:
        """Insert or replace a guild's settings."""
        values: list[Any] = [
            config.timezone,
            config.grace_days,
            ",".join(str(o) for o in config.reminder_offsets),
            ",".join(str(m) for m in config.late_milestones),
            config.alert_channel_id,
            config.manager_role_id,
            config.mention_role_id,
            config.locale,
            config.digest_channel_id,
            config.digest_schedule,
            config.digest_when_empty,
        ]
        cols = ", ".join(("guild_id", *_GUILD_FIELDS, "updated_at"))
        marks = ", ".join("?" * (len(_GUILD_FIELDS) + 2))
        # Any change may move the next digest (schedule, timezone, channel): NULL has the next
        # sweep compute it again (see migration 004).
        updates = ", ".join(
            [f"{f} = excluded.{f}" for f in (*_GUILD_FIELDS, "updated_at")]
            + ["digest_due_at = NULL"]
        )
        await self._conn.execute(
            f"INSERT INTO guilds ({cols}) VALUES ({marks}) "
            f"ON CONFLICT (guild_id) DO UPDATE SET {updates}",
            (config.guild_id, *values, to_ms(now)),
        )
