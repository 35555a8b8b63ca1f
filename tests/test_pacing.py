"""The global pacer keeps every process under Discord's 50 requests per second whatever the network
does, a new deliverer starts with the last second spent, and every request the bot makes that
counts against the limit goes through it. No test here depends on how fast the machine is: the
pacer runs on a simulated clock, and the end-to-end check counts requests rather than timing them.
"""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from cogs.infra.pacing import (
    CATCH_UP,
    CLUSTER_DELIVERER_LIMIT,
    GLOBAL_LIMIT,
    STANDBY_LIMIT,
    GlobalPacer,
)
from tests.e2e import UTC, eventually, world
from tests.loopback.fixtures import running_server
from tests.test_discord_alerts import setup_alerts
from tests.test_discord_launch import add_grok


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def jittery(rng: random.Random) -> float:
    """1 ms to 0.3 s, and now and then a 0.8 s stall on top."""
    return rng.choice([0.8, 0.0]) + rng.uniform(0.001, 0.3)


def simulate(
    pacer: GlobalPacer,
    requests: int,
    workers: int,
    rng: random.Random,
    latency: Callable[[random.Random], float] = jittery,
) -> tuple[list[float], float]:
    """*requests* sends by *workers* concurrent senders through *pacer*, on simulated time. Each
    request reaches Discord at a random moment between its send and its response: the worst a
    network can do to a sender that only knows those two times. Returns the arrival times and
    the time of the last response."""
    now = 0.0
    responses: list[float] = []  # a heap
    arrivals: list[float] = []
    left = requests
    while left or responses:
        go_at = float("inf")
        if left and len(responses) < workers:
            wait = pacer.wait_s(now)
            if wait == 0.0:
                pacer.start(now)
                took = latency(rng)
                heapq.heappush(responses, now + took)
                arrivals.append(rng.uniform(now, now + took))
                left -= 1
                continue
            if wait is not None:
                go_at = now + wait
        if responses and responses[0] <= go_at:
            now = heapq.heappop(responses)
            pacer.finish(now)
        else:
            now = go_at
    return sorted(arrivals), now


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals Discord counts in one sliding second (now - 1, now]."""
    most, first = 0, 0
    for last, at in enumerate(arrivals):
        while arrivals[first] <= at - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_no_second_of_arrivals_passes_the_limit_whatever_the_network_does() -> None:
    pacer = GlobalPacer(GLOBAL_LIMIT, clock=FakeClock())
    # Enough senders that the pacer, not their number, is what holds them back.
    arrivals, _ = simulate(pacer, 3000, workers=100, rng=random.Random(13))
    assert len(arrivals) == 3000
    assert busiest_second(arrivals) <= GLOBAL_LIMIT


def test_spacing_sends_alone_lets_jitter_bunch_arrivals_past_the_limit() -> None:
    # Why a request holds its slot until a second after its response: with the slots freed at
    # the send (a token bucket's view), the same network bunches arrivals into a 429.
    class SendTimePacer(GlobalPacer):
        def start(self, now: float) -> None:
            super().start(now)
            self.in_flight -= 1
            self._frees.append(now + self.window_s)

        def finish(self, now: float) -> None:
            pass

    arrivals, _ = simulate(
        SendTimePacer(GLOBAL_LIMIT, clock=FakeClock()), 3000, 100, random.Random(13)
    )
    assert busiest_second(arrivals) > GLOBAL_LIMIT


def test_on_a_quick_network_the_pacer_keeps_close_to_the_limit() -> None:
    pacer = GlobalPacer(GLOBAL_LIMIT, clock=FakeClock())
    _, elapsed = simulate(pacer, 1000, 16, random.Random(7), lambda rng: rng.uniform(0.002, 0.006))
    assert 1000 / elapsed > 0.97 * GLOBAL_LIMIT


def test_a_request_holds_its_slot_until_a_window_after_its_response() -> None:
    clock = FakeClock()
    pacer = GlobalPacer(2, clock=clock)
    assert pacer.wait_s(clock.now) == 0.0
    pacer.start(clock.now)
    clock.now += 0.5
    assert pacer.wait_s(clock.now) == 0.0
    pacer.start(clock.now)
    assert pacer.wait_s(clock.now) is None  # both slots in flight: wait for a response
    clock.now += 0.4
    pacer.finish(clock.now)  # the first answered at +0.9: its slot frees at +1.9
    clock.now = 101.0
    assert pacer.wait_s(clock.now) == pytest.approx(0.9)
    clock.now = 101.9
    assert pacer.wait_s(clock.now) == 0.0


def test_a_new_deliverer_starts_with_the_last_second_spent() -> None:
    clock = FakeClock()
    pacer = GlobalPacer(STANDBY_LIMIT, clock=clock)
    pacer.drain()
    pacer.set_limit(CLUSTER_DELIVERER_LIMIT)
    assert pacer.wait_s(clock.now) == pytest.approx(1.0)
    clock.now += 0.999
    assert pacer.wait_s(clock.now) == pytest.approx(0.001)
    clock.now += 0.001
    for _ in range(CLUSTER_DELIVERER_LIMIT):  # then the deliverer's share, spaced
        assert pacer.wait_s(clock.now) == 0.0
        pacer.start(clock.now)
        pacer.finish(clock.now)
        clock.now += 1.0 / CLUSTER_DELIVERER_LIMIT
    assert CLUSTER_DELIVERER_LIMIT + STANDBY_LIMIT == GLOBAL_LIMIT


async def test_only_requests_that_count_against_the_limit_are_paced() -> None:
    async with running_server(token="t", global_rate_limit=GLOBAL_LIMIT) as server:
        pacer = GlobalPacer(GLOBAL_LIMIT)
        config = pacer.trace_config(server.api_base)
        headers = {"Authorization": "Bot t"}
        async with aiohttp.ClientSession(trace_configs=[config]) as session:
            exempt = (
                f"{server.api_base}/interactions/1/token/callback",
                f"{server.api_base}/webhooks/1/token",
            )
            for url in exempt:
                async with session.post(url, json={"type": 4, "data": {"content": "x"}}):
                    pass
            async with session.ws_connect(server.gateway_url) as ws:
                await ws.receive_json(timeout=5)  # HELLO
            assert pacer.started == 0
            for _ in range(3):
                async with session.get(f"{server.api_base}/users/@me", headers=headers) as resp:
                    assert resp.status == 200
        assert (pacer.started, pacer.in_flight) == (3, 0)
        counted = [r for r in server.requests if r.global_limited]
        assert [r.path for r in counted] == ["/users/@me"] * 3


async def test_every_request_the_bot_makes_that_counts_goes_through_its_pacer(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        launch_id = await add_grok(w, announced_on="2024-07-01")
        for name in ("ann", "ben"):  # the subscribe check DMs from the command's process
            user = w.server.add_user(name, guild_id=w.guild, permissions=0)
            await w.cmd("subscribe launch", user=user, launch=str(launch_id))
        await w.advance(dt.datetime(2025, 1, 1, 0, 0, 1, tzinfo=UTC))
        await eventually(lambda: len(w.server.messages(w.alerts)) == 1, what="channel alert")
        await w.bot.engine.settle()
        await eventually(lambda: w.bot.pacer.in_flight == 0, what="responses in")
        counted = [r for r in w.server.requests if r.global_limited]
        routes = {r.route for r in counted}
        assert {
            "GET /users/@me",
            "POST /users/@me/channels",
            "POST /channels/{channel_id}/messages",
        } <= routes
        assert w.bot.pacer.started == len(counted)
        assert not [r for r in w.server.requests if r.status == 429]


def test_a_send_that_wakes_late_lets_the_next_catch_up() -> None:
    # Timers fire late by a millisecond or two; spaced from each actual send, the pace lost
    # that much every time (45.7 of 48 per second in bench/cluster.py).
    clock = FakeClock()
    pacer = GlobalPacer(GLOBAL_LIMIT, clock=clock)
    spacing = 1.0 / GLOBAL_LIMIT
    for _ in range(CATCH_UP + 10):  # on the pace: each waits its turn
        clock.now += pacer.wait_s(clock.now) or 0.0
        pacer.start(clock.now)
        pacer.finish(clock.now)
    assert pacer.wait_s(clock.now) == pytest.approx(spacing)
    clock.now += spacing + 0.002  # woke 2 ms late
    assert pacer.wait_s(clock.now) == 0.0
    pacer.start(clock.now)
    assert pacer.wait_s(clock.now) == pytest.approx(spacing - 0.002)
    clock.now += 10.0  # long idle: no burst saved up beyond a few sends
    sent = 0
    while pacer.wait_s(clock.now) == 0.0:
        pacer.start(clock.now)
        sent += 1
    assert sent == CATCH_UP + 1
