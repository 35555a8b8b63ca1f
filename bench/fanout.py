"""Fan-out benchmark: one slip, N DM subscribers, the loopback Discord enforcing 50 requests/s.

    python bench/fanout.py [--quick]      (2,000 subscribers; --quick: 200)

efficiency = (requests needed / 50) / actual seconds; lost = subscribers without the DM;
duplicated = DMs beyond one per subscriber. Prints one final JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import UTC, bot_and_server  # noqa: E402
from tracker.clock import OffsetClock  # noqa: E402
from tracker.models import NewLaunch, SubscriptionScope  # noqa: E402

GLOBAL_LIMIT = 50.0


async def run(recipients: int) -> dict[str, object]:
    clock = OffsetClock(dt.datetime(2024, 12, 31, 23, 59, tzinfo=UTC))
    with tempfile.TemporaryDirectory(prefix="slipwatch-fanout-") as tmp:
        async with bot_and_server(
            Path(tmp) / "bench.db", clock, global_rate_limit=GLOBAL_LIMIT
        ) as (server, bot, guild, _channel):
            await bot.tracker.configure(guild, reminder_offsets=(), late_milestones=())
            added = await bot.tracker.add(
                NewLaunch(guild, "Grok 3", "xAI", "end of 2024", dt.date(2024, 7, 1)), "bench"
            )
            users = [
                server.add_user(f"u{i}", guild_id=guild, permissions=0) for i in range(recipients)
            ]
            for user in users:
                await bot.tracker.subscribe(
                    guild, user, SubscriptionScope.LAUNCH, str(added.launch.id)
                )
            before = len(server.requests)
            t0 = time.monotonic()
            clock.set(dt.datetime(2025, 1, 1, tzinfo=UTC))
            await bot.engine.rearm()
            limit = t0 + recipients * 2 / GLOBAL_LIMIT * 3 + 30
            wanted = set(users)

            def reached() -> int:
                # One pass over what the server accepted (not one scan per user).
                return len({m.recipient_id for m in server.messages() if m.is_dm} & wanted)

            for _ in range(int((limit - t0) / 0.25)):  # bounded in time
                if reached() >= recipients:
                    break
                await asyncio.sleep(0.25)
            elapsed = time.monotonic() - t0
            window = server.requests[before:]
            posts = [r.time for r in window if r.method == "POST" and r.ok]
            if posts:
                elapsed = max(posts) - t0
            needed = sum(1 for r in window if r.ok)
            rejected = sum(1 for r in window if r.status == 429)
            per_user = Counter(m.recipient_id for m in server.messages() if m.is_dm)
            delivered = [per_user.get(u, 0) for u in users]
            counts = await bot.app.store.read.outbox.outbox_counts()
    return {
        "bench": "fanout",
        "recipients": recipients,
        "requests": needed,
        "rejected_429": rejected,
        "seconds": round(elapsed, 2),
        "efficiency": round((needed / GLOBAL_LIMIT) / elapsed, 3) if elapsed else 0.0,
        "lost": sum(1 for d in delivered if d == 0),
        "duplicated": sum(d - 1 for d in delivered if d > 1),
        "outbox_sent": counts["sent"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    args = parser.parse_args()
    recipients = 200 if args.quick else 2000
    print(json.dumps(asyncio.run(run(recipients))))


if __name__ == "__main__":
    main()
