"""The bot's sentences: "added after its deadline" versus "while slipwatch was offline", and
every reply and alert template rendered with counts 0, 1 and 2 without a broken plural."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import discord
import pytest

from cogs import alerts as alerts_cog
from cogs import slips
from cogs.infra import messages, render
from tests.harness import GUILD, harness
from tests.test_stats import TODAY, launch, load
from tracker import stats
from tracker.digests import Digest, DigestEntry, render_digest_text
from tracker.models import (
    Alert,
    AlertKind,
    Evidence,
    LaunchSnapshot,
    LaunchState,
    Message,
    NewLaunch,
)
from tracker.outbox.alert_text import facts, headline, render_text
from tracker.text import lateness, plural
from tracker.transfer import ImportIssue, ImportReport, TransferFormat

UTC = dt.UTC
D = dt.date

# "1 days", "1 launches", "1 held alert are"; "launchs", "entrys".
ONE_PLURAL = re.compile(
    r"\b1 (?!is\b|was\b|has\b|this\b|its\b|as\b)(?:[a-z]+ )?[a-z]*(?:s|es)\b(?! ago)|"
    r"\b1 [a-z]+(?: [a-z]+)? (?:are|were|have)\b"
)
MISSPELT = re.compile(r"\b[a-z]*(?:chs|shs|xs|(?<![aeiou])ys)\b")


def check(text: str) -> None:
    """Refuse "1 <plural>" and misspelt plurals in *text*."""
    bad = ONE_PLURAL.search(text)
    assert bad is None, f"{bad.group(0)!r} in {text!r}"
    wrong = MISSPELT.search(text)
    assert wrong is None, f"{wrong.group(0)!r} in {text!r}"


def embed_text(embed: discord.Embed) -> str:
    parts = [embed.title or "", embed.description or "", embed.footer.text or ""]
    parts += [f"{f.name}\n{f.value}" for f in embed.fields]
    return "\n".join(parts)


def test_the_checker_catches_what_the_issue_reported() -> None:
    for broken in ("1 held alert are being sent", "1 launches", "3 launchs", "0 entrys"):
        with pytest.raises(AssertionError):
            check(broken)
    for fine in ("1 held alert is being sent", "1 launch", "2 days", "1 rumour left out"):
        check(fine)


def _snapshot(n: int) -> LaunchSnapshot:
    base = load()[0]
    return dataclasses.replace(
        LaunchSnapshot.of(base, "UTC"), slip_count=n, days_late=n, state=LaunchState.SLIPPED
    )


@pytest.mark.parametrize("n", [0, 1, 2])
def test_every_alert_template_agrees_with_its_count(n: int) -> None:
    at = dt.datetime(2025, 1, 1, tzinfo=UTC)
    snap = _snapshot(n)
    alerts = [
        Alert(AlertKind.REMINDER, snap, at, days_before=n),
        Alert(AlertKind.SLIPPED, snap, at, days_late=n, detected_late=bool(n)),
        Alert(AlertKind.MILESTONE, snap, at, milestone=n, days_late=n),
        Alert(AlertKind.SHIPPED, snap, at, days_late=n),
        Alert(AlertKind.SHIPPED, snap, at, days_late=-n),
        Alert(AlertKind.CANCELLED, snap, at),
        Alert(AlertKind.REANNOUNCED, snap, at, previous_window="end of 2024"),
        Alert(AlertKind.REVIVED, snap, at, previous_window="early next year"),
        Alert(AlertKind.NOTE, snap, at, note="a note"),
        Alert(AlertKind.TEST, snap, at),
        Alert(AlertKind.SLIPPED, snap, at, days_late=n, added_late=True),
    ]
    for alert in alerts:
        check(headline(alert))
        for fact in facts(alert):
            check(f"{fact.label}: {fact.value}")
        check(embed_text(messages.alert_embed(alert)))
        check(render_text(Message(alerts=(alert,))))
    merged = Message(alerts=tuple(alerts[: max(n, 2)]))
    check(render_text(merged))
    check(embed_text(messages.merged_embed(merged)))


@pytest.mark.parametrize("n", [0, 1, 2])
def test_every_summary_template_agrees_with_its_count(n: int) -> None:
    start = dt.datetime(2025, 1, 1, tzinfo=UTC)
    entries = tuple(
        DigestEntry(launch_id=i, product=f"P{i}", vendor="V", day=D(2025, 1, 1), days_late=n,
                    window="Q1 2025", previous_window="Q4 2024", slip_count=n)
        for i in range(n)
    )  # fmt: skip
    digest = Digest(
        guild_id=GUILD, timezone="UTC", schedule="", period_start=start,
        period_end=start + dt.timedelta(days=7), period_key=None, slipped=entries,
        shipped=entries, cancelled=entries, reannounced=entries, upcoming=entries,
        still_late=entries, on_time_rate=0.5 if n else None, scored=n,
    )  # fmt: skip
    check(render_digest_text(digest))
    check(embed_text(messages.digest_embed(digest)))
    launches = [
        launch(i + 1, f"P{i}", "V", "A", LaunchState.SHIPPED, D(2024, 1, 1), D(2024, 6, 30),
               shipped_on=D(2024, 6, 30) + dt.timedelta(days=n))
        for i in range(n)
    ] + [
        launch(10, "R", "V", None, LaunchState.UPCOMING, D(2024, 1, 1), D(2024, 6, 30),
               evidence=Evidence.RUMOUR)
        for _ in range(1 if n else 0)
    ]  # fmt: skip
    result = stats.compute_stats(launches, TODAY)
    board = stats.leaderboard(launches, TODAY, min_scored=1)
    check(embed_text(slips.stats_embed(result)))
    check(embed_text(slips.board_embed(board)))
    check(stats.to_text(result, board))
    for one in launches:
        check(stats.state_words(one, TODAY))
        check(render.list_line(one, TODAY))
        check(embed_text(render.launch_embed(one, "UTC", TODAY)))
    check(lateness(n) + lateness(-n) + lateness(n, at_least=True, still_out=True))
    report = ImportReport(
        format=TransferFormat.CSV, dry_run=bool(n % 2), rows=n, would_create=n, events=n,
        created=n, launch_ids=(), errors=(), error_count=0, warnings=(),
    )  # fmt: skip
    check(report.summary())
    failed = dataclasses.replace(
        report, errors=tuple(ImportIssue(i, "bad") for i in range(n)), error_count=n + 1
    )
    check(failed.summary())
    check(plural(n, "held alert") + " " + plural(n, "history entry"))
    check(alerts_cog.channel_sentence("<#1>", n))
    if n:
        check(alerts_cog.reminders_sentence([n]))
        check(alerts_cog.milestones_sentence([n]))
        check(alerts_cog.reminders_sentence([n + 7, n]))


async def test_an_alert_for_a_launch_added_after_its_deadline_says_so(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target, start=dt.datetime(2025, 2, 12, tzinfo=UTC)) as h:
        await h.tracker.configure(GUILD, reminder_offsets=())
        await h.add()  # "end of 2024", announced 2024-07-01: its deadline passed in January
        [row] = h.notifier.delivered
        alert = row.payload.alerts[0]
        assert (alert.kind, alert.added_late, alert.detected_late) == (
            AlertKind.SLIPPED,
            True,
            False,
        )
        text = render_text(row.payload)
        assert "Added late: due 2025-01-01 00:00 UTC; added after its deadline" in text
        assert "bot was down" not in text
        description = messages.alert_embed(alert).description or ""
        assert "it was added after its deadline." in description
        assert "offline" not in description


async def test_a_deadline_missed_while_the_bot_was_down_says_offline(
    tmp_path: Path, db_target: str
) -> None:
    path = db_target
    async with harness(path, start=dt.datetime(2024, 12, 30, tzinfo=UTC)) as h:
        await h.tracker.configure(GUILD, reminder_offsets=())
        await h.tracker.add(NewLaunch(GUILD, "Grok 3", "xAI", "end of 2024", D(2024, 7, 1)), "t")
        await h.engine.settle()
        assert h.notifier.delivered == []
    async with harness(path, start=dt.datetime(2025, 1, 3, tzinfo=UTC), configure=False) as h:
        [row] = h.notifier.delivered
        alert = row.payload.alerts[0]
        assert (alert.added_late, alert.detected_late) == (False, True)
        assert "Detected late: due 2025-01-01 00:00 UTC; the bot was down" in render_text(
            row.payload
        )
        description = messages.alert_embed(alert).description or ""
        assert "while slipwatch was offline" in description
