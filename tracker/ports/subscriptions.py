"""The subscriptions repository as the domain sees it; storage/subscriptions.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

from tracker.models import (
    Subscription,
    SubscriptionScope,
)


class Subscriptions(Protocol):
    """Who follows which launches, and how."""

    async def add_subscription(
        self,
        *,
        guild_id: int,
        user_id: int,
        scope: SubscriptionScope,
        target: str,
        mode: str,
        now: dt.datetime,
        label: str | None = None,
    ) -> tuple[Subscription, bool]:
        """Subscribe (or re-activate); returns the row and whether it was new. *label* is the
        spelling to show (a vendor as typed); the latest one given is kept."""

    async def remove_subscription(
        self, *, guild_id: int, user_id: int, scope: SubscriptionScope, target: str
    ) -> bool:
        """Unsubscribe; False when there was nothing to remove."""

    async def user_subscriptions(self, user_id: int) -> list[Subscription]:
        """Every subscription of a user, in every guild."""

    async def subscribers_for(
        self, guild_id: int, launch_id: int, vendor: str, mode: str = "instant"
    ) -> list[int]:
        """User ids with an active subscription of *mode* matching a launch (deduplicated)."""

    async def guild_subscription_count(self, guild_id: int) -> dict[str, int]:
        """Active and paused subscriptions of a guild."""

    async def pause_user_subscriptions(self, user_id: int, reason: str) -> int:
        """Pause every active subscription of a user who cannot be reached; returns how many."""

    async def instant_subscriptions(
        self, guild_ids: Iterable[int]
    ) -> dict[int, list[tuple[int, str, str]]]:
        """Active instant subscriptions of many guilds: guild -> [(user, scope, target)]."""

    async def digest_subscriptions(self, guild_id: int) -> list[Subscription]:
        """A guild's active (not paused) subscriptions in digest mode, by user."""
