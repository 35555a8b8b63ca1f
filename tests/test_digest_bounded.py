"""Digest format 2: a digest keeps the first LISTED entries of each section and the section's
total, counted and listed by the store. Rendered, it must read exactly as the complete digest
(plain text and every embed field), format 1 payloads still queued must still render, and the
store's bounded digest (the channel's, each subscriber's DM digest, /slips summary) must be the
pure build_digest over every launch and event, bounded, on SQLite and on PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cogs.infra.messages import digest_embed, message_embeds
from tests.test_stats import launch
from tests.test_stats_sql import SLOW, launches, stored
from tracker.clock import SimClock
from tracker.digests import (
    Digest,
    DigestEntry,
    DigestPeriod,
    DigestReport,
    DigestService,
    build_digest,
    render_digest_text,
)
from tracker.digests import service as digest_service
from tracker.digests.content import LISTED
from tracker.models import (
    DestinationKind,
    EventKind,
    GuildConfig,
    Launch,
    LaunchState,
    Message,
    OutboxRow,
    Subscription,
    SubscriptionScope,
)
from tracker.outbox.alert_text import render_text

UTC = dt.UTC
D = dt.date
NOW = dt.datetime(2025, 3, 10, 9, 0, 30, 123456, tzinfo=UTC)  # 30 s after the posting time
PERIOD = DigestPeriod(
    dt.datetime(2025, 3, 9, 9, tzinfo=UTC), dt.datetime(2025, 3, 10, 9, tzinfo=UTC), "p"
)
SECTIONS = ("slipped", "shipped", "cancelled", "reannounced", "upcoming", "still_late")

# --------------------------------------------------------------------------- rendering

# Names from empty (the shortest line an embed can show) to long (cut at 80/40 characters),
# with markdown that escaping lengthens.
NAMES = st.sampled_from(("", "x", "Grok 3", "Claude *3.5* Opus", "_" * 90, "Ünïcode ✨ model"))
WINDOWS = st.sampled_from((None, "", "Q1", "end of 2024", "w" * 70))


@st.composite
def entries(draw: st.DrawFn, count: int) -> tuple[DigestEntry, ...]:
    """*count* entries cycling through a few drawn shapes (so that a section of hundreds is
    cheap to draw and its lines still differ in length)."""
    shapes = draw(
        st.lists(
            st.builds(
                DigestEntry,
                launch_id=st.just(0),
                product=NAMES,
                vendor=NAMES,
                at=st.just(PERIOD.start),
                day=st.one_of(st.none(), st.just(dt.date(2025, 3, 1))),
                days_late=st.one_of(st.none(), st.integers(-3, 400)),
                window=WINDOWS,
                previous_window=WINDOWS,
                slip_count=st.integers(0, 3),
                deadline_at=st.one_of(st.none(), st.just(NOW + dt.timedelta(days=3))),
            ),
            min_size=1,
            max_size=5,
        )
    )
    return tuple(
        dataclasses.replace(shapes[i % len(shapes)], launch_id=i + 1) for i in range(count)
    )


SIZES = st.sampled_from((0, 1, 9, 10, 11, 164, 165, 166, 199, 200, 201, 450))


@st.composite
def complete_digests(draw: st.DrawFn) -> Digest:
    """A complete (format 1 style) digest: every entry of every section."""

    def section() -> tuple[DigestEntry, ...]:
        return draw(entries(draw(SIZES)))

    return Digest(
        guild_id=1,
        timezone=draw(st.sampled_from(("UTC", "America/Los_Angeles"))),
        schedule="daily:09:00",
        period_start=PERIOD.start,
        period_end=PERIOD.end,
        period_key=draw(st.sampled_from(("p", None))),
        on_time_rate=draw(st.one_of(st.none(), st.floats(0, 1))),
        scored=draw(st.integers(0, 500)),
        late=draw(st.booleans()),
        user_id=draw(st.sampled_from((None, 77))),
        slipped=section(),
        shipped=section(),
        cancelled=section(),
        reannounced=section(),
        upcoming=section(),
        still_late=section(),
    )


def shown(digest: Digest) -> tuple[str, str, dict[str, Any]]:
    """What people see: the plain text (10 and LISTED a section) and the embed as sent."""
    return (
        render_digest_text(digest),
        render_digest_text(digest, limit=LISTED),
        dict(digest_embed(digest).to_dict()),
    )


def as_format_1(digest: Digest) -> dict[str, Any]:
    """The JSON a digest was queued as before format 2: every entry, no counts."""
    data = digest.to_json()
    del data["counts"]
    data["v"] = 1
    return data


@SLOW
@given(full=complete_digests())
def test_a_bounded_digest_renders_exactly_as_the_complete_one(full: Digest) -> None:
    bounded = full.bounded()
    assert all(len(getattr(bounded, name)) <= LISTED for name in SECTIONS)
    assert bounded.changes == full.changes and bounded.empty == full.empty
    expected = shown(full)
    assert shown(bounded) == expected
    # Through the outbox: format 2 as queued now, and format 1 as queued before.
    queued = bounded.to_json()
    assert queued["v"] == 2
    assert queued["counts"] == {name: len(getattr(full, name)) for name in SECTIONS}
    assert Digest.from_json(queued) == bounded
    assert shown(Digest.from_json(queued)) == expected
    assert shown(Digest.from_json(as_format_1(full))) == expected
    # The totals are what keeps it exact: a bounded digest that lost one would read otherwise.
    if bounded.totals is not None:
        wrong = tuple(
            t - 1 if t > len(getattr(bounded, n)) else t
            for t, n in zip(bounded.totals, SECTIONS, strict=True)
        )
        assert shown(dataclasses.replace(bounded, totals=wrong)) != expected


def test_a_format_1_digest_in_the_outbox_still_renders() -> None:
    slips = tuple(
        DigestEntry(launch_id=i, product=f"Model {i}", vendor="xAI", window="Q1")
        for i in range(1, 251)
    )
    full = Digest(
        guild_id=1,
        timezone="UTC",
        schedule="daily:09:00",
        period_start=PERIOD.start,
        period_end=PERIOD.end,
        period_key="p",
        slipped=slips,
    )
    message = Message(alerts=(), digest=as_format_1(full))
    text = render_text(message)
    assert text.splitlines()[1:4] == [
        "Slipped (250):",
        '  - #1 Model 1 (xAI) missed "Q1"',
        '  - #2 Model 2 (xAI) missed "Q1"',
    ]
    assert text.splitlines()[-1] == "  ... and 240 more"
    (embed,) = message_embeds(message)
    assert embed.fields[0].name == "🚨 Slipped (250)"
    value = embed.fields[0].value or ""
    assert value.startswith('• Model 1 (xAI) missed "Q1"\n')
    kept = value.count("\n")  # lines shown before "…and N more"
    assert value.endswith(f"\n…and {250 - kept} more")
    # The same digest queued in format 2 keeps 200 slips and renders the same.
    bounded = Digest.from_json(full.bounded().to_json())
    assert len(bounded.slipped) == LISTED and bounded.count("slipped") == 250
    assert render_text(Message(alerts=(), digest=full.bounded().to_json())) == text
    assert digest_embed(bounded).to_dict() == embed.to_dict()


def test_plain_text_cannot_ask_for_more_than_a_digest_keeps() -> None:
    digest = Digest(
        guild_id=1,
        timezone="UTC",
        schedule="",
        period_start=PERIOD.start,
        period_end=PERIOD.end,
        period_key=None,
    )
    with pytest.raises(ValueError, match="a digest keeps only 200 entries a section"):
        render_digest_text(digest, limit=LISTED + 1)


# --------------------------------------------------------------------------- the store

KINDS = st.sampled_from(
    (
        EventKind.CREATED,
        EventKind.SLIPPED,
        EventKind.SHIPPED,
        EventKind.CANCELLED,
        EventKind.REANNOUNCED,
        EventKind.REVIVED,
        EventKind.NOTE,
    )
)


def _data(kind: EventKind, draw: Callable[..., Any]) -> dict[str, Any]:
    if kind is EventKind.SLIPPED:
        return {"days_late": draw(st.integers(0, 40)), "due_at": "2025-03-01T00:00:00+00:00"}
    if kind in (EventKind.REANNOUNCED, EventKind.REVIVED):
        return {
            "from_window": draw(st.sampled_from(("Q1", "soon", None))),
            "window": draw(st.sampled_from(("later", "H2"))),
            "slip_count": draw(st.integers(0, 3)),
        }
    return {}


def follows(sub: Subscription, launch: Launch) -> bool:
    """The rule a DM digest keeps to (what the service did before format 2)."""
    if sub.scope is SubscriptionScope.ALL:
        return True
    if sub.scope is SubscriptionScope.VENDOR:
        return launch.vendor.casefold() == sub.target
    return sub.target == str(launch.id)


async def _history(store: Any, guild: int, mirror: list[Launch], data: st.DataObject) -> None:
    """Events in and around the period: ties in time, slips re-announced later, revivals."""
    draw = data.draw
    # A few instants only, so that many events share one (ties are ordered by id).
    instants = [PERIOD.start - dt.timedelta(minutes=1), PERIOD.start, PERIOD.end]
    instants += [PERIOD.start + dt.timedelta(hours=h) for h in (1, 5, 5.5, 23)]
    async with store.transaction() as tx:
        for _ in range(draw(st.integers(0, 40))):
            launch = draw(st.sampled_from(mirror))
            kind = draw(KINDS)
            at = draw(st.sampled_from(instants))
            await tx.events.append_event(
                launch_id=launch.id,
                guild_id=guild,
                kind=kind,
                at=at,
                actor="tester",
                data=_data(kind, draw),
            )
            if kind is EventKind.SLIPPED and draw(st.booleans()):
                # Re-announced after the slip, later in the period (or at the same instant).
                await tx.events.append_event(
                    launch_id=launch.id,
                    guild_id=guild,
                    kind=EventKind.REANNOUNCED,
                    at=at + dt.timedelta(minutes=draw(st.sampled_from((0, 30)))),
                    actor="tester",
                    data=_data(EventKind.REANNOUNCED, draw),
                )


def _around_now(records: list[Launch], data: st.DataObject) -> list[Launch]:
    """Deadlines around now (some in the next 30 days, some exactly at its edges)."""
    offsets = st.sampled_from(
        (
            -dt.timedelta(days=2),
            -dt.timedelta(microseconds=NOW.microsecond),  # the millisecond before now
            dt.timedelta(microseconds=1000 - NOW.microsecond % 1000),  # the next one
            dt.timedelta(days=3),
            dt.timedelta(days=30),
            dt.timedelta(days=30, microseconds=1000 - NOW.microsecond % 1000),
            dt.timedelta(days=40),
        )
    )
    return [
        dataclasses.replace(x, deadline_at=(NOW + data.draw(offsets)).replace(microsecond=0))
        if data.draw(st.booleans())
        else dataclasses.replace(x, deadline_at=NOW + data.draw(offsets))
        for x in records
    ]


@SLOW
@given(
    records=st.lists(launches(), min_size=1, max_size=25),
    data=st.data(),
    listed=st.sampled_from((1, 2, 3, LISTED)),
)
async def test_the_posted_digests_are_the_pure_digests_bounded(
    db_target: str,
    monkeypatch: pytest.MonkeyPatch,
    records: list[Launch],
    data: st.DataObject,
    listed: int,
) -> None:
    """The channel digest and every subscriber's DM digest of a period, counted and listed by
    the store, against build_digest over every launch and event, bounded to *listed*."""
    monkeypatch.setattr(digest_service, "LISTED", listed)
    # Deadlines are stored in milliseconds: keep the records' own to the millisecond.
    records = [
        dataclasses.replace(x, deadline_at=x.deadline_at.replace(microsecond=0))
        for x in _around_now(records, data)
    ]
    async with stored(db_target, records) as (store, guild, mirror):
        await _history(store, guild, mirror, data)
        wanted: list[tuple[int, SubscriptionScope, str]] = []
        for user in range(1, data.draw(st.integers(1, 5)) + 1):
            for _ in range(data.draw(st.integers(1, 3))):
                scope = data.draw(st.sampled_from(SubscriptionScope))
                if scope is SubscriptionScope.VENDOR:
                    # As /subscribe stores it: the vendor as typed, casefolded.
                    typed = data.draw(st.sampled_from(("OPENAI", "straße", "ÜNÏ", "nobody")))
                    target = typed.casefold()
                elif scope is SubscriptionScope.LAUNCH:
                    target = str(data.draw(st.sampled_from(mirror)).id)
                else:
                    target = "*"
                wanted.append((user, scope, target))
        config, subs, report, rows = await _post_period(store, guild, wanted)
        events = await store.read.events.guild_events_between(guild, PERIOD.start, PERIOD.end)
    assert report.failed == 0
    period = DigestPeriod(PERIOD.start, PERIOD.end, "2025-03-10T09:00")

    def pure(launches: list[Launch], user_id: int | None = None) -> Digest:
        return build_digest(
            config,
            launches,
            events,
            NOW.date(),
            NOW,
            period=period,
            user_id=user_id,
            schedule="daily:09:00",
        ).bounded(listed)

    channel = rows.pop(f"digest:{guild}:{period.key}")
    assert channel.payload.digest is not None
    assert Digest.from_json(channel.payload.digest) == pure(mirror)
    expected_dms: dict[str, Digest] = {}
    for user in sorted({s.user_id for s in subs}):
        mine = [s for s in subs if s.user_id == user]
        personal = pure([x for x in mirror if any(follows(s, x) for s in mine)], user)
        if personal.changes:
            expected_dms[f"digest:{guild}:{period.key}:u{user}"] = personal
    dms = {key: row for key, row in rows.items() if row.dest_kind is DestinationKind.USER}
    assert sorted(dms) == sorted(expected_dms)
    for key, row in dms.items():
        assert row.payload.digest is not None and row.dest_id == expected_dms[key].user_id
        assert Digest.from_json(row.payload.digest) == expected_dms[key]


@SLOW
@given(
    records=st.lists(launches(), min_size=1, max_size=25),
    data=st.data(),
    listed=st.sampled_from((1, 3, LISTED)),
)
async def test_the_summary_is_the_pure_digest_bounded(
    db_target: str,
    monkeypatch: pytest.MonkeyPatch,
    records: list[Launch],
    data: st.DataObject,
    listed: int,
) -> None:
    """/slips summary: the digest so far (the last 2 days), bounded, to the microsecond of
    now for what is due in the next 30 days."""
    monkeypatch.setattr(digest_service, "LISTED", listed)
    async with stored(db_target, _around_now(records, data)) as (store, guild, mirror):
        await _history(store, guild, mirror, data)
        # Read back: the store keeps deadlines in milliseconds.
        mirror = await store.read.launches.launches_by_ids(guild, [x.id for x in mirror])
        config = await store.read.guilds.get_guild(guild)
        got = await DigestService(store, SimClock(NOW)).preview(guild, days=2)
        start = NOW - dt.timedelta(days=2)
        events = await store.read.events.guild_events_between(
            guild, start, NOW + dt.timedelta(milliseconds=1)
        )
    full = build_digest(config, mirror, events, NOW.date(), NOW, schedule="")
    assert got == dataclasses.replace(full.bounded(listed), period_start=start, period_end=NOW)


def test_the_shortest_lines_fill_a_field_within_what_a_digest_keeps() -> None:
    """The most lines a field can show: 450 cancelled launches without a product, a vendor or a
    day ("• " + " ()"). 165 fit; a digest keeps 200, so it reads as the complete one."""
    nameless = tuple(DigestEntry(launch_id=i, product="", vendor="") for i in range(1, 451))
    full = Digest(
        guild_id=1,
        timezone="UTC",
        schedule="daily:09:00",
        period_start=PERIOD.start,
        period_end=PERIOD.end,
        period_key="p",
        cancelled=nameless,
    )
    field = digest_embed(full).fields[0]
    assert field.name == "🪦 Cancelled (450)"
    assert (field.value or "").split("\n")[-2:] == ["•  ()", "…and 285 more"]
    assert (field.value or "").count("•  ()") == 165
    assert shown(full.bounded()) == shown(full)


async def _post_period(
    store: Any, guild: int, wanted: list[tuple[int, SubscriptionScope, str]]
) -> tuple[GuildConfig, list[Subscription], DigestReport, dict[str, OutboxRow]]:
    """Subscribe *wanted* (user, scope, target) to digests, make the guild's daily digest of
    PERIOD due, post it; the guild's settings, the subscriptions, the report and the guild's
    outbox rows by key."""
    subs: list[Subscription] = []
    async with store.transaction() as tx:
        config = dataclasses.replace(
            await tx.guilds.get_guild(guild),
            digest_schedule="daily:09:00",
            digest_channel_id=5,
            timezone="UTC",
        )
        await tx.guilds.save_guild(config, NOW)
        for user, scope, target in wanted:
            sub, _ = await tx.subscriptions.add_subscription(
                guild_id=guild, user_id=user, scope=scope, target=target, mode="digest", now=NOW
            )
            subs.append(sub)
        await tx.digests.insert_digest_run(
            guild_id=guild,
            period_key="2025-03-09T09:00",
            period_start=PERIOD.start - dt.timedelta(days=1),
            period_end=PERIOD.start,
            outcome="posted",
            late=False,
            dm_count=0,
            schedule="daily:09:00",
            timezone="UTC",
            now=NOW,
        )
        await tx.digests.set_digest_due(guild, NOW - dt.timedelta(seconds=1))
    report = await DigestService(store, SimClock(NOW)).run(NOW)
    # The database is shared by a test's examples: only this guild's rows.
    rows = {r.idem_key: r for r in await store.read.outbox.all_outbox() if r.guild_id == guild}
    return config, subs, report, rows


async def test_dm_digests_fold_vendors_exactly_as_casefold(db_target: str) -> None:
    """ß folds to ss with str.casefold (SQL's lower() leaves it): a subscriber to "STRASSE"
    hears of Straße's launches, and only a subscriber's own launches make a DM."""
    vendors = ("Straße", "STRASSE", "Ünï", "ünï", "OpenAI", "xAI")
    records = [
        launch(0, f"{v} model", v, None, LaunchState.CANCELLED, D(2025, 1, 1), D(2025, 6, 30))
        for v in vendors
    ]
    async with stored(db_target, records) as (store, guild, mirror):
        async with store.transaction() as tx:
            for x in mirror[:5]:  # nothing happens to xAI's
                await tx.events.append_event(
                    launch_id=x.id,
                    guild_id=guild,
                    kind=EventKind.CANCELLED,
                    at=PERIOD.start + dt.timedelta(hours=1),
                    actor="tester",
                )
        openai = mirror[4]
        _, _, report, rows = await _post_period(
            store,
            guild,
            [
                (1, SubscriptionScope.VENDOR, "STRASSE".casefold()),
                (2, SubscriptionScope.VENDOR, "ÜNÏ".casefold()),
                (3, SubscriptionScope.LAUNCH, str(openai.id)),
                (4, SubscriptionScope.VENDOR, "xai"),
                (5, SubscriptionScope.LAUNCH, f"0{openai.id}"),
            ],
        )
    assert report.dms == 3
    key = f"digest:{guild}:2025-03-10T09:00"

    def cancelled(user: int) -> list[str]:
        data = rows[f"{key}:u{user}"].payload.digest
        assert data is not None
        return [e.product for e in Digest.from_json(data).cancelled]

    assert sorted(rows) == sorted([key, f"{key}:u1", f"{key}:u2", f"{key}:u3"])
    assert cancelled(1) == ["Straße model", "STRASSE model"]
    assert cancelled(2) == ["Ünï model", "ünï model"]
    assert cancelled(3) == ["OpenAI model"]
