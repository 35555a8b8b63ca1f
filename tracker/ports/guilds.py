"""The guilds repository as the domain sees it; storage/guilds.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

from tracker.models import (
    GuildConfig,
)


class Guilds(Protocol):
    """Each server's settings."""

    async def get_guild(self, guild_id: int) -> GuildConfig:
        """A guild's settings; defaults when the guild was never configured."""

    async def get_guilds(self, guild_ids: Iterable[int]) -> dict[int, GuildConfig]:
        """Settings for many guilds at once (defaults for unknown ones)."""

    async def list_guilds(self) -> list[GuildConfig]:
        """Every configured guild."""

    async def save_guild(self, config: GuildConfig, now: dt.datetime) -> None:
        """Insert or replace a guild's settings."""
