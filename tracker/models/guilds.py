"""A server's settings."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """A server's settings. Defaults apply to a guild the bot has never been configured in."""

    guild_id: int
    timezone: str = "UTC"
    grace_days: int = 0
    reminder_offsets: tuple[int, ...] = (7, 1)
    late_milestones: tuple[int, ...] = (7, 30, 90)
    alert_channel_id: int | None = None
    manager_role_id: int | None = None
    mention_role_id: int | None = None
    locale: str = "en"
    digest_channel_id: int | None = None
    digest_schedule: str = "weekly:mon:09:00"
    digest_when_empty: str = "short"
