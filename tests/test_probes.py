"""Release probes end to end: a real engine, tracker and SQLite file (tests/harness.py), the
real httpx client with its guard, and a loopback server answering like OpenAI, Anthropic,
Hugging Face, GitHub, RSS/Atom feeds and a news page. The only address allowed is the loopback
server's own 127.0.0.1:port."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.harness import CHANNEL, GUILD, Harness, harness
from tests.probe_server import (
    ProbeServer,
    anthropic_models,
    atom,
    gh_releases,
    gh_tags,
    hf_model,
    html_page,
    openai_models,
    rss,
)
from tracker.errors import InvalidInput, InvalidTransition, NotFound
from tracker.models import AlertKind, DestinationKind, EventKind, LaunchState, OutboxState
from tracker.outbox.delivery import RetryLater
from tracker.probes import DetectionState, Probe, ProbeDisabled, Proposal
from tracker.probes.fetch import CHUNK, Fetcher, FetchError, FetchSettings, parse_retry_after
from tracker.probes.kinds import Endpoints
from tracker.probes.netguard import AllowList, NetGuard
from tracker.probes.service import ProbeService, ProbeSettings

UTC = dt.UTC
XAI_KEY = "xai-TEST-KEY-5f2c9a81d0"
ANTHROPIC_KEY = "sk-ant-TEST-KEY-77d1e4b2"
ENV = {"SLIPWATCH_KEY_XAI": XAI_KEY, "SLIPWATCH_KEY_ANTHROPIC": ANTHROPIC_KEY}
FAST = FetchSettings(per_host_interval_s=0, total_timeout_s=10.0)
SHIP_DAY = dt.datetime(2025, 2, 17, 5, tzinfo=UTC)


@dataclass
class World:
    h: Harness
    svc: ProbeService
    fetcher: Fetcher
    server: ProbeServer
    proposals: list[Proposal] = field(default_factory=list)
    disabled: list[ProbeDisabled] = field(default_factory=list)

    async def poll(self, advance: dt.timedelta = dt.timedelta(hours=1)) -> None:
        """Move the clock on (past any probe's interval) and run one round."""
        self.h.clock.advance(advance)
        await self.svc.sweep(self.h.clock.now())

    async def probe(self, probe_id: int) -> Probe:
        found = await self.h.store.read.probes.get_probe(probe_id)
        assert found is not None
        return found


@pytest.fixture
async def server() -> AsyncIterator[ProbeServer]:
    s = await ProbeServer().start()
    try:
        yield s
    finally:
        await s.close()


@asynccontextmanager
async def world(
    db: str,
    server: ProbeServer,
    *,
    fetch: FetchSettings = FAST,
    settings: ProbeSettings | None = None,
    start: dt.datetime = dt.datetime(2024, 7, 1, 12, tzinfo=UTC),
) -> AsyncIterator[World]:
    endpoints = Endpoints(huggingface=server.url("/hf"), github_api=server.url("/gh"))
    base = settings or ProbeSettings(jitter=0.0)
    probe_settings = dataclasses.replace(base, endpoints=endpoints)
    guard = NetGuard(AllowList.parse([server.allow]))
    # The keys are bound to the loopback server, as an operator would bind a mirror's.
    env = {
        **ENV,
        "SLIPWATCH_KEY_XAI_HOSTS": server.allow,
        "SLIPWATCH_KEY_ANTHROPIC_HOSTS": server.allow,
    }
    async with (
        Fetcher(guard, fetch, environ=env) as fetcher,
        harness(db, start=start, fetcher=fetcher, probing=probe_settings) as h,
    ):
        w = World(h, h.app.probes, fetcher, server)

        async def on_detection(p: Proposal) -> None:
            w.proposals.append(p)

        async def on_disabled(d: ProbeDisabled) -> None:
            w.disabled.append(d)

        w.svc.on_detection = on_detection
        w.svc.on_disabled = on_disabled
        # These tests run each probe round themselves (w.poll), at the moments they choose.
        h.engine.remove_due_source(w.svc.due, w.svc.start_sweep)
        yield w


def db_files(folder: Path) -> list[Path]:
    """The database and its WAL / shared-memory files."""
    return [p for p in folder.iterdir() if p.name.startswith("db.sqlite")]


async def grok3(h: Harness) -> int:
    return await h.add("Grok 3", "xAI", "end of 2024")


# --------------------------------------------------------------------------- kinds


async def test_models_probe_proposes_a_matching_model_once_with_the_bearer_key(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    path = "/xai/v1/models"
    server.put_json(
        path,
        openai_models(["grok-2-1212", "grok-2-vision-1212"]),
        require={"Authorization": f"Bearer {XAI_KEY}"},
    )
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai/v1"),
            "grok-3*",
            api_key_env="SLIPWATCH_KEY_XAI",
            actor="mod#1",
        )
        assert probe.target == server.url("/xai") and probe.interval_minutes == 30
        await w.svc.sweep(w.h.clock.now())
        assert w.proposals == []
        assert (await w.probe(probe.id)).consecutive_failures == 0

        server.put_json(
            path,
            openai_models(["grok-2-1212", "grok-3-beta", "grok-3-mini-beta"]),
            require={"Authorization": f"Bearer {XAI_KEY}"},
        )
        await w.poll()
        assert [p.detection.title for p in w.proposals] == ["grok-3-beta", "grok-3-mini-beta"]
        first = w.proposals[0]
        assert first.product == "Grok 3" and first.vendor == "xAI"
        assert first.detection.state is DetectionState.PROPOSED
        assert first.detection.url == server.url(path)
        await w.poll()  # the same models again: nothing new is proposed
        assert len(w.proposals) == 2
    assert all(r.headers["Authorization"] == f"Bearer {XAI_KEY}" for r in server.hits(path))


async def test_anthropic_flavour_sends_its_key_header_and_version(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    path = "/anthropic/v1/models"
    headers = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
    server.put_json(
        path,
        anthropic_models(["claude-3-5-sonnet-20241022", "claude-3-opus-20240229"]),
        require=headers,
    )
    async with world(db_target, server) as w:
        launch_id = await w.h.add("Claude 3.5 Opus", "Anthropic", "later this year")
        await w.svc.add_probe(
            GUILD,
            launch_id,
            "anthropic-models",
            server.url("/anthropic"),
            "claude-3-5-opus*",
            api_key_env="SLIPWATCH_KEY_ANTHROPIC",
        )
        await w.svc.sweep(w.h.clock.now())
        assert w.proposals == []
        server.put_json(path, anthropic_models(["claude-3-5-opus-20250101"]), require=headers)
        await w.poll()
    assert [p.detection.title for p in w.proposals] == [
        "claude-3-5-opus-20250101 (Claude 3.5 Opus)"
    ]
    hit = server.hits(path)[0]
    assert hit.query == "limit=1000" and "Authorization" not in hit.headers


async def test_huggingface_repo_is_proposed_when_it_turns_public(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    path = "/hf/api/models/xai-org/grok-3"
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD, launch_id, "huggingface", "https://huggingface.co/xai-org/grok-3"
        )
        assert probe.target == "xai-org/grok-3"
        await w.svc.sweep(w.h.clock.now())  # 401 "Repository not found": not there yet
        state = await w.probe(probe.id)
        assert state.consecutive_failures == 0 and state.last_error is None
        server.put_json(path, hf_model("xai-org/grok-3", private=True))
        await w.poll()
        assert w.proposals == []
        server.put_json(path, hf_model("xai-org/grok-3", gated="manual"))
        await w.poll()
    (proposal,) = w.proposals
    assert proposal.detection.matched == "xai-org/grok-3 is public (gated: manual)"
    assert proposal.detection.url == server.url("/hf/xai-org/grok-3")


async def test_github_release_and_tag_are_proposed_once_each(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    repo_name = "xai-org/grok-sdk"
    server.put_json(f"/gh/repos/{repo_name}/releases", gh_releases(repo_name, ["v2.0.0", "v2.1.0"]))
    server.put_json(
        f"/gh/repos/{repo_name}/tags", gh_tags(repo_name, ["v2.0.0", "v2.1.0", "v3.0.0"])
    )
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        await w.svc.add_probe(
            GUILD, launch_id, "github", "https://github.com/xai-org/grok-sdk", "v3.*"
        )
        await w.svc.sweep(w.h.clock.now())
        assert [p.detection.title for p in w.proposals] == ["v3.0.0"]
        assert (
            w.proposals[0].detection.url
            == "https://github.com/xai-org/grok-sdk/releases/tag/v3.0.0"
        )
        # The release for the same tag appears later: same evidence, not proposed again.
        server.put_json(
            f"/gh/repos/{repo_name}/releases",
            gh_releases(repo_name, ["v2.0.0", "v2.1.0", "v3.0.0", "v3.1.0"]),
        )
        await w.poll()
    assert [p.detection.title for p in w.proposals] == ["v3.0.0", "Release v3.1.0"]
    headers = server.hits(f"/gh/repos/{repo_name}/releases")[0].headers
    assert headers["Accept"] == "application/vnd.github+json"


async def test_rss_feed_reports_new_entries_only_after_its_baseline(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    old = [
        ("Grok 3 will be available by the end of the year", "https://x.ai/news/plans", "Soon."),
        ("Grok 2 is now available", "https://x.ai/news/grok-2", "Grok 2 ships."),
    ]
    server.put("/news/rss.xml", rss(old), "application/rss+xml")
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD, launch_id, "feed", server.url("/news/rss.xml"), "grok 3 * available"
        )
        await w.svc.sweep(w.h.clock.now())
        assert w.proposals == []
        baseline = await w.svc.list_detections(GUILD, launch_id)
        assert [d.state for d in baseline] == [DetectionState.BASELINE]
        new = (
            "Grok 3 Beta — The Age of Reasoning Agents",
            "https://x.ai/news/grok-3",
            "<p>Grok 3 is <b>now available</b> to Premium+ subscribers.</p>",
        )
        server.put("/news/rss.xml", rss([new, *old]), "application/rss+xml")
        await w.poll()
        assert (await w.probe(probe.id)).baseline_done
    (proposal,) = w.proposals
    d = proposal.detection
    assert d.title == "Grok 3 Beta — The Age of Reasoning Agents"
    assert d.url == "https://x.ai/news/grok-3"
    assert d.matched == "Grok 3 is now available to Premium+ subscribers."
    assert d.published_at is not None


async def test_atom_feed_matches_an_entry_summary(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.put(
        "/news/atom.xml",
        atom([("Research update", "https://a.example/r", "Nothing yet.")]),
        "application/atom+xml",
    )
    async with world(db_target, server) as w:
        launch_id = await w.h.add("Claude 3.5 Opus", "Anthropic", "later this year")
        await w.svc.add_probe(GUILD, launch_id, "feed", server.url("/news/atom.xml"), "3.5 Opus")
        await w.svc.sweep(w.h.clock.now())
        entries = [
            (
                "Introducing new models",
                "https://a.example/claude",
                "<p>Claude 3.5 Opus is here.</p>",
            ),
            ("Research update", "https://a.example/r", "Nothing yet."),
        ]
        server.put("/news/atom.xml", atom(entries), "application/atom+xml")
        await w.poll()
    (proposal,) = w.proposals
    assert proposal.detection.title == "Introducing new models"
    assert proposal.detection.matched == "Claude 3.5 Opus is here."


async def test_page_text_is_proposed_when_it_starts_to_appear(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    # The phrase sits in the page's <script> and <style> from the start: not visible text.
    server.put("/news", html_page(["Grok 2 is out.", "More soon."]), "text/html; charset=utf-8")
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        await w.svc.add_probe(
            GUILD, launch_id, "page", server.url("/news"), "Grok 3 is now available"
        )
        await w.svc.sweep(w.h.clock.now())
        assert await w.svc.list_detections(GUILD, launch_id) == []
        page = html_page(
            ["Updated 09:00: <strong>Grok&nbsp;3</strong> is now\n available in the app.", "More."]
        )
        server.put("/news", page, "text/html; charset=utf-8")
        await w.poll()
        # The same news with a new timestamp next to it is not news again.
        page = html_page(["Updated 11:30: Grok 3 is now available in the app.", "More."])
        server.put("/news", page, "text/html; charset=utf-8")
        await w.poll()
    (proposal,) = w.proposals
    assert "Grok 3 is now available in the app." in proposal.detection.matched
    assert proposal.detection.url == server.url("/news")


# --------------------------------------------------------------------------- HTTP behaviour


async def test_second_poll_is_conditional_and_parses_nothing(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    resource = server.put(
        "/feed.xml", rss([("Hello", "https://x.ai/n/1", "Hi")]), "application/rss+xml"
    )
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(GUILD, launch_id, "feed", server.url("/feed.xml"), "grok 3")
        await w.svc.sweep(w.h.clock.now())
        assert w.svc.stats.parses == 1
        parsed = w.svc.stats.parsed_bytes
        assert parsed == len(resource.body)
        read_before = w.fetcher.stats.bytes_read
        await w.poll()
        await w.poll()
        assert w.svc.stats.parses == 1 and w.svc.stats.parsed_bytes == parsed
        assert w.fetcher.stats.bytes_read == read_before  # no body crossed the wire
        assert w.fetcher.stats.not_modified == 2
        assert (await w.probe(probe.id)).consecutive_failures == 0
    second = server.hits("/feed.xml")[1]
    assert second.headers["If-None-Match"] == resource.etag
    assert second.headers["If-Modified-Since"] == "Mon, 17 Feb 2025 04:00:00 GMT"


async def test_429_with_retry_after_sets_the_next_check(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.put_json("/xai/v1/models", openai_models(["grok-2"]))
    server.fail("/xai/v1/models", 429, Retry_After="7200")
    server.fail("/xai/v1/models", 503, Retry_After="5")  # shorter than the floor of 60 s
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai"),
            "grok-3*",
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        now = w.h.clock.now()
        await w.svc.sweep(now)
        after = await w.probe(probe.id)
        assert after.next_check_at == now + dt.timedelta(seconds=7200)
        assert after.consecutive_failures == 1 and "429" in (after.last_error or "")
        assert await w.svc.due() == now + dt.timedelta(seconds=7200)
        w.h.clock.set(after.next_check_at)
        await w.svc.sweep(w.h.clock.now())
        after = await w.probe(probe.id)
        assert after.next_check_at == w.h.clock.now() + dt.timedelta(seconds=60)


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = dt.datetime(2025, 2, 17, 12, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Mon, 17 Feb 2025 12:05:00 GMT", now) == 300.0
    assert parse_retry_after("Mon, 17 Feb 2025 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("99999999", now) == 86400.0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


async def test_server_errors_back_off_exponentially_then_disable_and_tell_once(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.fail("/news", 500, times=12)
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD, launch_id, "page", server.url("/news"), "Grok 3", interval_minutes=5
        )
        gaps: list[dt.timedelta] = []
        for _ in range(10):
            current = await w.probe(probe.id)
            assert current.enabled
            w.h.clock.set(current.next_check_at)
            await w.svc.sweep(w.h.clock.now())
            after = await w.probe(probe.id)
            gaps.append(after.next_check_at - w.h.clock.now())
        minutes = [int(g.total_seconds() // 60) for g in gaps]
        assert minutes == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 1440]
        after = await w.probe(probe.id)
        assert not after.enabled and after.consecutive_failures == 10
        assert after.disabled_reason == (
            "failed 10 times in a row; last error: the server answered 500"
        )
        assert await w.svc.due() is None
        # Let the notice go out now: after the 30-day jump below it would be past the outbox's
        # maximum age and given up.
        w.h.engine.poke()
        await w.h.engine.settle()
        assert "note" in w.h.notifier.kinds()
        await w.poll(dt.timedelta(days=30))
        assert len(server.hits("/news")) == 10

        # Told once: one outbox notice to the alert channel, and the callback once.
        assert [d.probe.id for d in w.disabled] == [probe.id]
        assert w.disabled[0].last_error == "the server answered 500"
        w.h.engine.poke()
        await w.h.engine.settle()
        rows = await w.h.store.read.outbox.all_outbox()
        notes = [r for r in rows if r.payload.alerts and r.payload.alerts[0].kind is AlertKind.NOTE]
        assert len(notes) == 1 and notes[0].dest_kind is DestinationKind.CHANNEL
        assert notes[0].dest_id == CHANNEL
        text = notes[0].payload.alerts[0].note or ""
        assert text.startswith(f"Probe #{probe.id} (page {server.url('/news')}) was turned off")
        assert "Last error: the server answered 500" in text
        assert "note" in w.h.notifier.kinds()

        # A manager turns it back on: checked at once, with a clean count.
        resumed = await w.svc.resume_probe(GUILD, probe.id)
        assert resumed.enabled and resumed.consecutive_failures == 0


async def test_a_response_slower_than_the_timeout_is_a_failure(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    fetch = dataclasses.replace(FAST, total_timeout_s=1.0)
    async with world(db_target, server, fetch=fetch) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(GUILD, launch_id, "page", server.url("/slow?s=8"), "Grok 3")
        loop = asyncio.get_running_loop()
        began = loop.time()
        await w.svc.sweep(w.h.clock.now())
        assert loop.time() - began < 6.0
        after = await w.probe(probe.id)
    assert after.last_error == "no complete answer within 1 s"
    assert after.consecutive_failures == 1


@pytest.mark.parametrize("declared", [False, True])
async def test_a_body_over_the_cap_is_an_error_and_not_read_further(
    server: ProbeServer, declared: bool
) -> None:
    cap = 256 * 1024
    settings = dataclasses.replace(FAST, max_body_bytes=cap)
    guard = NetGuard(AllowList.parse([server.allow]))
    async with Fetcher(guard, settings) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.get(server.url("/big?mb=20" + ("&declared=1" if declared else "")))
    error = caught.value
    assert error.kind == "too_large" and str(error) == "the answer is larger than 0.25 MB"
    assert error.bytes_read <= cap + CHUNK
    assert fetcher.stats.bytes_read <= cap + CHUNK
    if declared:
        assert error.bytes_read == 0


async def test_a_big_page_makes_the_probe_fail_with_a_clear_error(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    fetch = dataclasses.replace(FAST, max_body_bytes=512 * 1024)
    async with world(db_target, server, fetch=fetch) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(GUILD, launch_id, "page", server.url("/big?mb=20"), "Grok 3")
        await w.svc.sweep(w.h.clock.now())
        after = await w.probe(probe.id)
    assert after.last_error == "the answer is larger than 0.5 MB"
    assert w.svc.stats.parses == 0


async def test_one_request_per_interval_to_the_same_host(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    fetch = dataclasses.replace(FAST, per_host_interval_s=0.3)
    for n in range(3):
        server.put(f"/p{n}", html_page(["nothing"]), "text/html")
    async with world(db_target, server, fetch=fetch) as w:
        launch_id = await grok3(w.h)
        for n in range(3):
            await w.svc.add_probe(GUILD, launch_id, "page", server.url(f"/p{n}"), "Grok 3")
        await w.svc.sweep(w.h.clock.now())
    times = sorted(r.at for r in server.requests)
    assert len(times) == 3
    assert all(b - a >= 0.28 for a, b in itertools.pairwise(times))


# --------------------------------------------------------------------------- proposals


async def test_detection_confirmed_marks_the_launch_shipped_with_the_evidence_as_source(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    repo_name = "xai-org/grok"
    server.put_json(f"/gh/repos/{repo_name}/releases", gh_releases(repo_name, ["v2.0.0"]))
    server.put_json(f"/gh/repos/{repo_name}/tags", gh_tags(repo_name, ["v2.0.0"]))
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        await w.h.run_until(SHIP_DAY - dt.timedelta(hours=2))  # Grok 3 slipped past New Year
        assert (await w.h.tracker.get(GUILD, launch_id)).state is LaunchState.SLIPPED
        await w.svc.add_probe(GUILD, launch_id, "github", repo_name, "v3*")
        await w.svc.add_probe(GUILD, launch_id, "page", server.url("/news"), "Grok 3")
        await w.svc.sweep(w.h.clock.now())
        assert w.proposals == []

        server.put_json(
            f"/gh/repos/{repo_name}/releases", gh_releases(repo_name, ["v2.0.0", "v3.0.0"])
        )
        await w.poll(dt.timedelta(hours=2))
        (proposal,) = w.proposals
        detection = proposal.detection
        assert detection.title == "Release v3.0.0"
        assert detection.detected_at == SHIP_DAY

        launch = await w.svc.confirm(GUILD, detection.id, "mod#1")
        assert launch.state is LaunchState.SHIPPED
        assert launch.shipped_on == dt.date(2025, 2, 17) and launch.days_late == 48
        events = await w.h.tracker.history(GUILD, launch_id)
        shipped = [e for e in events if e.kind is EventKind.SHIPPED]
        assert len(shipped) == 1 and shipped[0].actor == "mod#1"
        assert shipped[0].source_url == "https://github.com/xai-org/grok/releases/tag/v3.0.0"
        assert (
            shipped[0].note == f"Detected by probe #{detection.probe_id} (github): Release v3.0.0"
        )
        await w.h.engine.settle()
        assert "shipped" in w.h.notifier.kinds()

        decided = await w.svc.get_detection(GUILD, detection.id)
        assert decided.state is DetectionState.CONFIRMED and decided.decided_by == "mod#1"
        assert all(not p.enabled for p in await w.svc.list_probes(GUILD, launch_id))
        with pytest.raises(InvalidTransition, match="already confirmed by mod#1"):
            await w.svc.confirm(GUILD, detection.id, "mod#2")


async def test_not_yet_keeps_watching_and_a_new_tag_is_proposed(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    repo_name = "xai-org/grok"
    server.put_json(f"/gh/repos/{repo_name}/releases", [])
    server.put_json(
        f"/gh/repos/{repo_name}/tags", gh_tags(repo_name, ["v2.0.0", "v3.0.0-rc1", "v3.0.0"])
    )
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        await w.svc.add_probe(GUILD, launch_id, "github", repo_name, "v3*")
        await w.svc.sweep(w.h.clock.now())
        (rc,) = w.proposals  # v3.0.0-rc1 is a pre-release: not proposed
        assert rc.detection.title == "v3.0.0"
        rejected = await w.svc.reject(GUILD, rc.detection.id, "mod#1")
        assert rejected.state is DetectionState.REJECTED and rejected.decided_by == "mod#1"
        await w.poll()
        server.put_json(
            f"/gh/repos/{repo_name}/tags",
            gh_tags(repo_name, ["v2.0.0", "v3.0.0-rc1", "v3.0.0", "v3.0.1"]),
        )
        await w.poll()
        assert [p.detection.title for p in w.proposals] == ["v3.0.0", "v3.0.1"]
        assert (await w.h.tracker.get(GUILD, launch_id)).state is LaunchState.UPCOMING
        with pytest.raises(InvalidTransition, match='answered "Not yet"'):
            await w.svc.confirm(GUILD, rc.detection.id, "mod#2")
        launch = await w.svc.confirm(GUILD, w.proposals[1].detection.id, "mod#2")
        assert launch.state is LaunchState.SHIPPED


async def test_auto_confirm_marks_the_launch_shipped_and_says_so(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.put_json("/xai/v1/models", openai_models(["grok-3"]))
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai"),
            "grok-3",
            auto_confirm=True,
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        await w.svc.add_probe(GUILD, launch_id, "page", server.url("/news"), "Grok 3")
        await w.svc.sweep(w.h.clock.now())
        (proposal,) = w.proposals
        assert proposal.detection.state is DetectionState.AUTO_CONFIRMED
        assert proposal.detection.auto_confirm
        launch = await w.h.tracker.get(GUILD, launch_id)
        assert launch.state is LaunchState.SHIPPED and launch.shipped_on == dt.date(2024, 7, 1)
        events = await w.h.tracker.history(GUILD, launch_id)
        assert events[-1].actor == "slipwatch (probe)"
        assert await w.svc.due() is None  # every probe of the launch is off now


async def test_a_proposal_is_posted_through_the_outbox_until_discord_takes_it(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.put_json("/xai/v1/models", openai_models(["grok-3"]))
    async with world(db_target, server) as w:

        async def broken(p: Proposal) -> None:
            raise RuntimeError("a listener failed")

        w.svc.on_detection = broken  # its failure changes nothing: the row is written
        w.h.notifier.per_dest[CHANNEL] = RetryLater("Discord server error 503")
        launch_id = await grok3(w.h)
        await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai"),
            "grok-3",
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        await w.svc.sweep(w.h.clock.now())
        await w.h.engine.settle()
        (row,) = await w.h.store.read.outbox.all_outbox()
        assert (row.state, row.attempts, row.last_error) == (
            OutboxState.PENDING,
            1,
            "Discord server error 503",
        )
        assert (row.dest_kind, row.dest_id) == (DestinationKind.CHANNEL, CHANNEL)
        (pending,) = await w.svc.list_detections(GUILD)
        assert pending.title == "grok-3" and pending.posted_at is None
        assert row.payload.detection == pending.id
        del w.h.notifier.per_dest[CHANNEL]
        w.h.clock.advance(dt.timedelta(minutes=10))
        await w.h.engine.rearm()
        await w.h.engine.settle()
        (row,) = await w.h.store.read.outbox.all_outbox()
        assert row.state is OutboxState.SENT and row.sent_message_id == 1001
        posted = await w.svc.get_detection(GUILD, pending.id)
        assert (posted.message_id, posted.posted_at) == (1001, row.sent_at)
        assert not await w.svc.mark_posted(GUILD, pending.id, 4242)


async def test_guilds_without_an_alert_channel_never_hold_up_another_guilds_proposals(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.put_json("/xai/v1/models", openai_models(["grok-3"]))
    key = "SLIPWATCH_KEY_XAI"
    async with world(db_target, server) as w:
        # A server with no alert channel has the oldest proposal; 60 others have channels.
        quiet, quiet_channel = GUILD + 1000, CHANNEL + 1000
        launch_id = await w.h.add(guild_id=quiet)
        await w.svc.add_probe(
            quiet, launch_id, "models", server.url("/xai"), "grok-3", api_key_env=key
        )
        await w.svc.sweep(w.h.clock.now())
        others = [GUILD + 1 + n for n in range(60)]
        for guild in others:
            await w.h.app.tracker.configure(guild, alert_channel_id=guild + 10_000)
            launch_id = await w.h.add(guild_id=guild)
            await w.svc.add_probe(
                guild, launch_id, "models", server.url("/xai"), "grok-3", api_key_env=key
            )
        await w.poll(dt.timedelta(minutes=1))
        await w.h.engine.settle()
        assert len(w.proposals) == 61
        rows = [r for r in await w.h.store.read.outbox.all_outbox() if r.payload.detection]
        # One row per proposal of a server with a channel, to that channel, each sent once.
        assert sorted((r.guild_id, r.dest_id) for r in rows) == [(g, g + 10_000) for g in others]
        assert {r.state for r in rows} == {OutboxState.SENT}
        for row in rows:
            assert row.guild_id is not None and row.payload.detection is not None
            detection = await w.svc.get_detection(row.guild_id, row.payload.detection)
            assert row.idem_key == f"detection:{detection.id}"
            assert (detection.message_id, detection.posted_at) == (row.sent_message_id, row.sent_at)
        (waiting,) = await w.svc.list_detections(quiet)
        assert waiting.state is DetectionState.PROPOSED and waiting.posted_at is None
        # Once the quiet server sets a channel, its proposal is queued to it, once.
        await w.h.app.tracker.set_alert_channel(quiet, quiet_channel)
        await w.h.app.tracker.set_alert_channel(quiet, quiet_channel)
        await w.h.engine.settle()
        rows = [r for r in await w.h.store.read.outbox.all_outbox() if r.guild_id == quiet]
        assert [(r.dest_id, r.idem_key, r.state) for r in rows] == [
            (quiet_channel, f"detection:{waiting.id}", OutboxState.SENT)
        ]
        assert (await w.svc.get_detection(quiet, waiting.id)).message_id == rows[0].sent_message_id


async def test_a_launch_shipped_by_hand_stops_its_probes(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.put_json("/xai/v1/models", openai_models(["grok-3"]))
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai"),
            "grok-3",
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        await w.svc.sweep(w.h.clock.now())
        (proposal,) = w.proposals
        await w.h.tracker.shipped(GUILD, launch_id, "mod#1")
        await w.poll()
        after = await w.probe(probe.id)
        assert not after.enabled and after.disabled_reason == "the launch was resolved"
        assert len(server.hits("/xai/v1/models")) == 1
        with pytest.raises(InvalidTransition, match="closed"):
            await w.svc.confirm(GUILD, proposal.detection.id, "mod#2")
        await w.h.tracker.remove(GUILD, launch_id)
        assert await w.svc.list_probes(GUILD) == []


async def test_guilds_never_see_each_others_probes(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.put_json("/xai/v1/models", openai_models(["grok-3"]))
    other = GUILD + 1
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai"),
            "grok-3",
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        await w.svc.sweep(w.h.clock.now())
        (proposal,) = w.proposals
        assert await w.svc.list_probes(other) == []
        assert await w.svc.list_detections(other) == []
        with pytest.raises(NotFound, match=f"no probe #{probe.id} in this server"):
            await w.svc.remove_probe(other, probe.id)
        with pytest.raises(NotFound, match=f"no launch #{launch_id} in this server"):
            await w.svc.add_probe(other, launch_id, "page", server.url("/x"), "Grok 3")
        for call in (w.svc.confirm, w.svc.reject):
            with pytest.raises(NotFound, match="no proposal"):
                await call(other, proposal.detection.id, "intruder")
        with pytest.raises(NotFound):
            await w.svc.mark_posted(other, proposal.detection.id)
        removed = await w.svc.remove_probe(GUILD, probe.id)
        assert removed.id == probe.id and await w.svc.list_probes(GUILD) == []


async def test_adding_a_probe_refuses_what_cannot_work_and_says_what_to_type(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        add = w.svc.add_probe

        async def refused(*args: object, **kw: object) -> str:
            with pytest.raises(InvalidInput) as caught:
                await add(GUILD, launch_id, *args, **kw)  # type: ignore[arg-type]
            return str(caught.value)

        for url, reason in [
            ("http://127.0.0.1:9/feed.xml", "loopback"),
            ("http://localhost/feed.xml", "loopback"),
            ("http://[::1]/feed.xml", "loopback"),
            ("http://10.1.2.3/feed.xml", "private"),
            ("http://192.168.0.10/feed.xml", "private"),
            ("http://172.16.9.9/feed.xml", "private"),
            ("http://[fe80::1]/feed.xml", "link-local"),
            ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
            ("http://[::ffff:127.0.0.1]/feed.xml", "loopback address written as IPv6"),
        ]:
            message = await refused("feed", url, "Grok 3")
            assert reason in message and "only reach public internet addresses" in message
        assert "only fetch http:// and https://" in await refused(
            "page", "file:///etc/passwd", "x y z"
        )
        assert "Choose one of: models, anthropic-models" in await refused(
            "rss", "https://x.ai", "a"
        )
        assert "needs an API key" in await refused("models", "https://api.x.ai", "grok-3*")
        assert "never paste the key" in await refused(
            "models", "https://api.x.ai", "grok-3*", api_key_env="xai-abc123"
        )
        assert "SLIPWATCH_KEY_" in await refused(
            "models", "https://api.x.ai", "grok-3*", api_key_env="DISCORD_TOKEN"
        )
        assert "SLIPWATCH_KEY_NOPE is not set in the bot's environment" in await refused(
            "models", "https://api.x.ai", "grok-3*", api_key_env="SLIPWATCH_KEY_NOPE"
        )
        # A key goes only to the hosts it is bound to (here the operator bound SLIPWATCH_KEY_XAI
        # to the loopback server), refused before anything is looked up or fetched.
        assert await refused(
            "models", "https://evil.example", "grok-3*", api_key_env="SLIPWATCH_KEY_XAI"
        ) == (
            f"SLIPWATCH_KEY_XAI may only be sent to {server.allow}, and this probe's address is "
            f"evil.example. Point the probe at {server.allow}, or ask the bot's operator to add "
            "evil.example to SLIPWATCH_KEY_XAI_HOSTS."
        )
        assert "is not a key" in await refused(
            "models", server.url("/xai"), "grok-3*", api_key_env="SLIPWATCH_KEY_XAI_HOSTS"
        )
        assert "leave api_key_env empty" in await refused(
            "page", "https://x.ai/news", "Grok 3", api_key_env="SLIPWATCH_KEY_XAI"
        )
        assert "Check every 5 to 10080 minutes" in await refused(
            "page", "https://x.ai/news", "Grok 3", interval_minutes=1
        )
        assert "takes no pattern" in await refused("huggingface", "xai-org/grok-3", "grok")
        assert "owner/name" in await refused("github", "not a repo!", "v3*")
        assert "is a Hugging Face organisation or user, not a model repository" in await refused(
            "huggingface", "https://huggingface.co/xai-org"
        )
        assert "xai-org/<model>" in await refused("huggingface", "xai-org")
        defaulted = await add(GUILD, launch_id, "github", "xai-org/grok", "")
        assert defaulted.pattern == "Grok 3"  # the product's name
        assert "matches everything" in await refused("github", "xai-org/grok", "*")
        await add(GUILD, launch_id, "page", server.url("/news"), "Grok 3")
        assert "already has that probe" in await refused("page", server.url("/news"), "grok  3")


async def test_the_api_key_never_reaches_the_database_or_the_log(
    tmp_path: Path, server: ProbeServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.put_json(
        "/xai/v1/models", openai_models(["grok-3"]), require={"Authorization": f"Bearer {XAI_KEY}"}
    )
    server.put_json("/wrong/v1/models", openai_models([]), require={"Authorization": "Bearer x"})
    async with world(str(tmp_path / "db.sqlite"), server) as w:
        launch_id = await grok3(w.h)
        good = await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai"),
            "grok-3",
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        bad = await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/wrong"),
            "grok-3",
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        await w.svc.sweep(w.h.clock.now())
        assert len(w.proposals) == 1
        failed = await w.probe(bad.id)
        assert (
            failed.last_error == "the server answered 401: check the API key in SLIPWATCH_KEY_XAI"
        )
        assert (await w.probe(good.id)).api_key_env == "SLIPWATCH_KEY_XAI"
    stored = b"".join(p.read_bytes() for p in db_files(tmp_path))
    assert b"SLIPWATCH_KEY_XAI" in stored
    assert XAI_KEY.encode() not in stored
    assert caplog.records and XAI_KEY not in caplog.text


async def test_hostile_answers_are_the_probes_own_error_or_plain_text(
    server: ProbeServer, db_target: str
) -> None:
    server.put("/deep/v1/models", b"[" * 100_000 + b"]" * 100_000, "application/json")
    server.put("/hostile", b"<a" * 1_000_000 + b"<p>Grok 3 is here</p>", "text/html")
    server.put(
        "/punycode", b"<p>Grok 3 arrives</p>" + b"a-" * 400_000, "text/html; charset=punycode"
    )
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        deep = await w.svc.add_probe(
            GUILD, launch_id, "models", server.url("/deep"), "grok-3*",
            api_key_env="SLIPWATCH_KEY_XAI",
        )  # fmt: skip
        hostile = await w.svc.add_probe(GUILD, launch_id, "page", server.url("/hostile"), "Grok 3")
        puny = await w.svc.add_probe(GUILD, launch_id, "page", server.url("/punycode"), "Grok 3")
        bounce = await w.svc.add_probe(
            GUILD, launch_id, "page", server.url("/redirect?to=mailto:x@example.com"), "Grok 3"
        )
        report = await w.svc.sweep(w.h.clock.now())
        assert (report.polled, report.failed) == (4, 2)
        assert (await w.probe(deep.id)).last_error == (
            "the source answered something unreadable: JSON nested deeper than 64 levels"
        )
        assert (await w.probe(bounce.id)).last_error == (
            "the source answered something unreadable: a redirect to a mailto: address, "
            "not a web page"
        )
        for ok in (hostile, puny):
            probe = await w.probe(ok.id)
            assert (probe.last_error, probe.consecutive_failures) == (None, 0)
        # The hostile page still says its one visible sentence: a release, already out at the
        # first check; "Grok 3 arrives" says neither (no window, no release word).
        detections = await w.svc.list_detections(GUILD, launch_id)
        assert [(d.title, d.state.value) for d in detections] == [("Grok 3 is here", "proposed")]


async def test_one_check_posts_at_most_five_proposals_and_sums_up_the_rest(
    tmp_path: Path, server: ProbeServer
) -> None:
    ids = [f"grok-3-v{n}" for n in range(8)]
    server.put_json("/xai/v1/models", openai_models(ids))
    async with world(str(tmp_path / "db.sqlite"), server) as w:
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD, launch_id, "models", server.url("/xai"), "grok-3*",
            api_key_env="SLIPWATCH_KEY_XAI",
        )  # fmt: skip
        await w.svc.sweep(w.h.clock.now())
        assert len(w.proposals) == 5
        # The other three are recorded (so never proposed again) but not posted one by one:
        # only the five are queued to the alert channel.
        rows = await w.h.store.read.outbox.all_outbox()
        queued = {r.payload.detection for r in rows if r.payload.detection is not None}
        assert queued == {p.detection.id for p in w.proposals}
        detections = await w.svc.list_detections(GUILD, launch_id)
        assert len(detections) == 8
        notes = [r for r in rows if r.payload.alerts and r.payload.alerts[0].kind is AlertKind.NOTE]
        assert len(notes) == 1 and notes[0].dest_id == CHANNEL
        posted = {p.detection.title for p in w.proposals}
        rest = [i for i in ids if i not in posted]
        assert notes[0].payload.alerts[0].note == (
            f"Probe #{probe.id} (models {server.url('/xai')}) also saw 3 more matches in this "
            f'check, not posted one by one: "{rest[0]}", "{rest[1]}", "{rest[2]}". If one of '
            "them is the release, mark it with /launch shipped."
        )
        # The next check finds nothing new: nothing more is posted or summed up.
        await w.poll()
        assert len(w.proposals) == 5
        rows = await w.h.store.read.outbox.all_outbox()
        notes = [r for r in rows if r.payload.alerts and r.payload.alerts[0].kind is AlertKind.NOTE]
        assert len(notes) == 1


async def test_probes_run_on_the_engines_one_timer(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    server.put_json("/xai/v1/models", openai_models(["grok-3"]))
    async with world(db_target, server) as w:
        w.svc.attach(w.h.engine)
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai"),
            "grok-3",
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        # Adding the probe poked the engine, whose sweep started a background round.
        for _ in range(400):
            if w.proposals:
                break
            await asyncio.sleep(0.025)
        await w.svc.wait_idle()
        assert [p.detection.title for p in w.proposals] == ["grok-3"]
        await w.h.engine.settle()
        after = await w.probe(probe.id)
        assert after.next_check_at == w.h.clock.now() + dt.timedelta(minutes=30)
        assert w.h.engine.armed_at == after.next_check_at
        assert len(w.h.scheduler.get_jobs()) == 1


async def test_a_probe_due_when_the_bot_restarts_is_polled_on_the_timer_before_any_command(
    server: ProbeServer, db_target: str
) -> None:
    path = "/xai/v1/models"
    server.put_json(path, openai_models(["grok-3"]))
    async with world(db_target, server) as w:  # world polls only when a test says so
        launch_id = await grok3(w.h)
        probe = await w.svc.add_probe(
            GUILD,
            launch_id,
            "models",
            server.url("/xai"),
            "grok-3",
            api_key_env="SLIPWATCH_KEY_XAI",
        )
        restart_at = w.h.clock.now() + dt.timedelta(minutes=5)
    assert server.hits(path) == []  # its first check fell due while the bot was down

    # The restarted bot: nothing has used its probe service when the engine starts. The probes'
    # place on the timer sees the due probe, builds the service and polls it.
    env = {**ENV, "SLIPWATCH_KEY_XAI_HOSTS": server.allow}
    guard = NetGuard(AllowList.parse([server.allow]))
    endpoints = Endpoints(huggingface=server.url("/hf"), github_api=server.url("/gh"))
    async with (
        Fetcher(guard, FAST, environ=env) as fetcher,
        harness(
            db_target,
            start=restart_at,
            configure=False,
            fetcher=fetcher,
            probing=ProbeSettings(jitter=0.0, endpoints=endpoints),
        ) as h,
    ):
        for _ in range(400):
            if server.hits(path):
                break
            await asyncio.sleep(0.025)
        await h.app.probes.wait_idle()
        await h.engine.settle()
        assert [hit.headers["Authorization"] for hit in server.hits(path)] == [f"Bearer {XAI_KEY}"]
        after = await h.store.read.probes.get_probe(probe.id)
        assert after is not None and after.last_checked_at == restart_at
        assert h.engine.armed_at == after.next_check_at == restart_at + dt.timedelta(minutes=30)


async def test_a_pre_release_tag_stays_vetoed_while_its_release_list_answers_304(
    tmp_path: Path, server: ProbeServer, db_target: str
) -> None:
    repo_name = "xai-org/grok"
    releases = f"/gh/repos/{repo_name}/releases"
    tags = f"/gh/repos/{repo_name}/tags"
    pre = gh_releases(repo_name, ["v3.0.0"], prerelease=("v3.0.0",))
    server.put_json(releases, pre)
    server.put_json(tags, [])
    async with world(db_target, server) as w:
        launch_id = await grok3(w.h)
        await w.svc.add_probe(GUILD, launch_id, "github", repo_name, "v3.*", auto_confirm=True)
        await w.svc.sweep(w.h.clock.now())
        server.put_json(tags, gh_tags(repo_name, ["v3.0.0"]))  # the pre-release's tag appears
        await w.poll()
        # The release list was asked conditionally and had not changed (a 304).
        assert ["If-None-Match" in h.headers for h in server.hits(releases)] == [False, True]
        assert w.proposals == []
        assert (await w.h.tracker.get(GUILD, launch_id)).state is LaunchState.UPCOMING
        # Promoted to a full release: now it is one.
        server.put_json(releases, gh_releases(repo_name, ["v3.0.0"]))
        await w.poll()
        assert [p.detection.title for p in w.proposals] == ["Release v3.0.0"]
        assert (await w.h.tracker.get(GUILD, launch_id)).state is LaunchState.SHIPPED
