"""Processes sharing PostgreSQL: one elected deliverer with failover, changes announced across
processes, IDENTIFY turns per rate-limit key."""

from __future__ import annotations

import asyncio

import psycopg

from storage.postgres.cluster import (
    DELIVERER_LOCK_KEY,
    ChangeFeed,
    DelivererElection,
    IdentifyGate,
)


class Recorder:
    def __init__(self) -> None:
        self.log: list[str] = []

    def election(self, name: str, url: str, poll_s: float) -> DelivererElection:
        async def elected() -> None:
            self.log.append(f"{name} elected")

        async def deposed() -> None:
            self.log.append(f"{name} deposed")

        return DelivererElection(
            url, on_elected=elected, on_deposed=deposed, poll_s=poll_s, check_s=0.1
        )


async def lock_holders(url: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid) "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = %s "
            # Advisory locks are per database; other test runs elect in their own databases.
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (DELIVERER_LOCK_KEY,),
        )
        return [str(r[0]) for r in await cur.fetchall()]


async def test_one_process_is_elected_and_another_takes_over_when_it_stops(pg_url: str) -> None:
    rec = Recorder()
    first = rec.election("first", pg_url, poll_s=0.05)
    second = rec.election("second", pg_url, poll_s=0.05)
    first.start()
    await first.wait_elected(10)
    second.start()
    try:
        for _ in range(5):  # second keeps trying and keeps losing
            await asyncio.sleep(0.1)
            assert not second.elected
        holders = await lock_holders(pg_url)
        assert len(holders) == 1 and holders[0].endswith(":election")
        await first.stop()
        await second.wait_elected(10)
        assert rec.log == ["first elected", "first deposed", "second elected"]
    finally:
        await first.stop()
        await second.stop()
    assert rec.log[-1] == "second deposed"
    for _ in range(100):  # the server ends the closed session on its own time
        if not await lock_holders(pg_url):
            break
        await asyncio.sleep(0.05)
    assert await lock_holders(pg_url) == []


async def test_a_dead_deliverers_lock_passes_to_the_standby(pg_url: str) -> None:
    rec = Recorder()
    first = rec.election("first", pg_url, poll_s=30.0)  # once dead, it does not come back soon
    second = rec.election("second", pg_url, poll_s=0.05)
    first.start()
    await first.wait_elected(10)
    second.start()
    try:
        # The first process's session dies (as when the process is killed).
        async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as admin:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND ((classid::bigint << 32) | objid::bigint) = %s "
                # Only this database's: other runs on the server hold the same key in theirs.
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (DELIVERER_LOCK_KEY,),
            )
        await second.wait_elected(10)
        for _ in range(50):  # the first notices at its next health check
            if "first deposed" in rec.log:
                break
            await asyncio.sleep(0.1)
        assert sorted(rec.log) == ["first deposed", "first elected", "second elected"]
        assert not first.elected and first.terms == 1 and second.terms == 1
    finally:
        await first.stop()
        await second.stop()


async def test_a_standby_waiting_in_the_locks_queue_takes_over_at_once(pg_url: str) -> None:
    # The standby would next poll in 60 s: it is elected because it waits in the lock's queue.
    rec = Recorder()
    first = rec.election("first", pg_url, poll_s=60.0)
    second = rec.election("second", pg_url, poll_s=60.0)
    first.start()
    await first.wait_elected(10)
    second.start()
    await asyncio.wait_for(second.first_try.wait(), 10)
    try:
        await first.stop()
        await second.wait_elected(10)
    finally:
        await second.stop()
    assert rec.log == ["first elected", "first deposed", "second elected", "second deposed"]


async def test_a_deliverer_that_stops_releases_the_lock_only_once_it_has_stopped(
    pg_url: str,
) -> None:
    log: list[str] = []

    def election(name: str) -> DelivererElection:
        async def elected() -> None:
            log.append(f"{name} elected")

        async def deposed() -> None:
            await asyncio.sleep(0.3)  # a deliverer finishing its last sends
            log.append(f"{name} stopped")

        return DelivererElection(
            pg_url, on_elected=elected, on_deposed=deposed, poll_s=0.01, check_s=0.1
        )

    first, second = election("first"), election("second")
    first.start()
    await first.wait_elected(10)
    second.start()
    await asyncio.wait_for(second.first_try.wait(), 10)
    try:
        await first.stop()
        await second.wait_elected(10)
        # Its successor never sends while it still does.
        assert log == ["first elected", "first stopped", "second elected"]
    finally:
        await second.stop()


async def test_a_change_in_one_process_reaches_the_other(pg_url: str) -> None:
    heard = {"a": 0, "b": 0}
    b_heard = asyncio.Event()

    def on_a() -> None:
        heard["a"] += 1

    def on_b() -> None:
        heard["b"] += 1
        b_heard.set()

    a, b = ChangeFeed(pg_url, on_a), ChangeFeed(pg_url, on_b)
    await a.start()
    await b.start()
    try:
        # Each heard one "resync" when it started listening.
        assert heard == {"a": 1, "b": 1}
        b_heard.clear()
        await a.publish()
        await asyncio.wait_for(b_heard.wait(), 10)
        assert b.received == 1
        await b.publish()
        for _ in range(100):
            if a.received:
                break
            await asyncio.sleep(0.05)
        # Nobody hears its own announcement as news.
        assert (a.received, b.received) == (1, 1)
        assert heard == {"a": 2, "b": 2}
    finally:
        await a.stop()
        await b.stop()


async def test_identify_turns_are_shared_per_rate_limit_key(pg_url: str) -> None:
    one, two = IdentifyGate(pg_url, interval_s=3.0), IdentifyGate(pg_url, interval_s=3.0)
    try:
        await asyncio.wait_for(one.wait_turn(0, 2), 10)
        # Another key (shard 1 with max_concurrency 2) is free at once, in any process.
        await asyncio.wait_for(two.wait_turn(1, 2), 10)
        # Shard 2 shares shard 0's key: the other process waits for shard 0's turn to end...
        other = asyncio.create_task(two.wait_turn(2, 2))
        # ...and so does this process (its session lock alone would let it straight in).
        same = asyncio.create_task(one.wait_turn(4, 2))
        await asyncio.sleep(0.5)
        assert not other.done() and not same.done()
        done, _ = await asyncio.wait({other, same}, timeout=15, return_when="FIRST_COMPLETED")
        assert len(done) == 1
        await asyncio.wait_for(asyncio.gather(other, same), 15)
    finally:
        await one.close()
        await two.close()
