"""Subscriptions: a person asks to hear of one launch, one vendor or all of a server, at once
or in their digest."""

from __future__ import annotations

from tracker.errors import InvalidInput
from tracker.launches.base import TrackerBase
from tracker.launches.fields import MAX_VENDOR, clean_text
from tracker.models import Subscription, SubscriptionScope


class Subscribing(TrackerBase):
    """The part of the Tracker that keeps people's subscriptions."""

    async def subscribe(
        self,
        guild_id: int,
        user_id: int,
        scope: SubscriptionScope,
        target: str = "",
        mode: str = "instant",
    ) -> tuple[Subscription, bool]:
        """Subscribe a user to a launch (target = its id), a vendor, or all of a guild.
        Returns the subscription and whether it is new."""
        if mode not in ("instant", "digest"):
            raise InvalidInput('Choose "instant" or "digest".')
        label = None
        if scope is SubscriptionScope.LAUNCH:
            await self.get(guild_id, int(target))
        elif scope is SubscriptionScope.VENDOR:
            vendor = clean_text(target, what="vendor name", maximum=MAX_VENDOR, required=True)
            assert vendor is not None
            target = vendor.casefold()
            label = vendor  # shown as typed; matched folded
        else:
            target = ""
        async with self.store.transaction() as tx:
            return await tx.subscriptions.add_subscription(
                guild_id=guild_id,
                user_id=user_id,
                scope=scope,
                target=target,
                mode=mode,
                now=self.clock.now(),
                label=label,
            )

    async def unsubscribe(
        self, guild_id: int, user_id: int, scope: SubscriptionScope, target: str = ""
    ) -> bool:
        """Remove a subscription; False when there was none."""
        if scope is SubscriptionScope.VENDOR:
            target = target.strip().casefold()
        elif scope is SubscriptionScope.ALL:
            target = ""
        async with self.store.transaction() as tx:
            return await tx.subscriptions.remove_subscription(
                guild_id=guild_id, user_id=user_id, scope=scope, target=target
            )

    async def subscriptions(self, user_id: int) -> list[Subscription]:
        """A user's subscriptions in every guild."""
        return await self.store.read.subscriptions.user_subscriptions(user_id)
