"""Each user's DM channel: Discord gives one per user and opening it costs a request (at the
global rate limit), so the channel is remembered, in memory and in the store."""

from __future__ import annotations

from tracker.ports import Store


class DmChannels:
    """The DM channel ids the bot has opened, by user."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[int, int] = {}

    async def get(self, user_id: int) -> int | None:
        """The user's DM channel, if one was opened before."""
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        stored = await self.store.read.destinations.get_dm_channel(user_id)
        if stored is not None:
            self._cache[user_id] = stored
        return stored

    async def remember(self, user_id: int, channel_id: int) -> None:
        """Keep a channel Discord just opened (bookkeeping: losing it costs one request)."""
        async with self.store.transaction(bookkeeping=True) as tx:
            await tx.destinations.save_dm_channel(user_id, channel_id)
        self._cache[user_id] = channel_id

    async def forget(self, user_id: int) -> None:
        """Drop a channel Discord no longer knows (the next message opens a new one)."""
        self._cache.pop(user_id, None)
        async with self.store.transaction() as tx:
            await tx.destinations.forget_dm_channel(user_id)
