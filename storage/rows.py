"""From SQL rows to domain records: one mapper per record, and the small helpers every
repository shares. Rows are read by column name, so a mapper never depends on column order."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from storage.db import Connection, from_ms, from_ms_or_none
from tracker.models import (
    DestinationKind,
    EventKind,
    Evidence,
    GuildConfig,
    Launch,
    LaunchEvent,
    LaunchState,
    Message,
    OutboxRow,
    OutboxState,
    Precision,
    Subscription,
    SubscriptionScope,
)
from tracker.probes import Detection, DetectionState, Probe, ProbeKind, Verdict
from tracker.promises import Discovery, DiscoveryKind, Promised, PromiseProposal, ProposalState
from tracker.records import DigestRun, Followed, PublicBoard

T = TypeVar("T")


class Repository:
    """A table's statements, run on one connection: the writer inside a transaction, or the
    reader for queries. Every query fetches its rows in one step (``execute_fetchall``): a cursor
    read across an await would hold a stale read snapshot open for every other coroutine sharing
    the connection. Parameters are always bound with ``?``."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn


def offsets(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(",") if p.strip())


def row_to_guild(row: sqlite3.Row) -> GuildConfig:
    return GuildConfig(
        guild_id=row["guild_id"],
        timezone=row["timezone"],
        grace_days=row["grace_days"],
        reminder_offsets=offsets(row["reminder_offsets"]),
        late_milestones=offsets(row["late_milestones"]),
        alert_channel_id=row["alert_channel_id"],
        manager_role_id=row["manager_role_id"],
        mention_role_id=row["mention_role_id"],
        locale=row["locale"],
        digest_channel_id=row["digest_channel_id"],
        digest_schedule=row["digest_schedule"],
        digest_when_empty=row["digest_when_empty"],
    )


def iso_date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def row_to_launch(row: sqlite3.Row) -> Launch:
    """Map a launches row to the domain record."""
    return Launch(
        id=row["id"],
        guild_id=row["guild_id"],
        product=row["product"],
        vendor=row["vendor"],
        announcer=row["announcer"],
        source_url=row["source_url"],
        quote=row["quote"],
        announced_on=dt.date.fromisoformat(row["announced_on"]),
        window_phrase=row["window_phrase"],
        window_start=dt.date.fromisoformat(row["window_start"]),
        window_end=dt.date.fromisoformat(row["window_end"]),
        window_rule=row["window_rule"],
        timezone=row["timezone"],
        deadline_at=from_ms(row["deadline_at"]),
        state=LaunchState(row["state"]),
        slip_count=row["slip_count"],
        revision=row["revision"],
        shipped_on=iso_date(row["shipped_on"]),
        cancelled_on=iso_date(row["cancelled_on"]),
        days_late=row["days_late"],
        next_due_at=from_ms_or_none(row["next_due_at"]),
        created_at=from_ms(row["created_at"]),
        updated_at=from_ms(row["updated_at"]),
        first_window_end=dt.date.fromisoformat(row["first_window_end"] or row["window_end"]),
        evidence=Evidence(row["evidence"]),
        announced_precision=Precision(row["announced_precision"]),
        outcome_precision=Precision(row["outcome_precision"]),
    )


def row_to_event(row: sqlite3.Row) -> LaunchEvent:
    return LaunchEvent(
        id=row["id"],
        launch_id=row["launch_id"],
        guild_id=row["guild_id"],
        kind=EventKind(row["kind"]),
        at=from_ms(row["at"]),
        actor=row["actor"],
        source_url=row["source_url"],
        note=row["note"],
        data=json.loads(row["data"]),
    )


def row_to_subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(
        id=row["id"],
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        scope=SubscriptionScope(row["scope"]),
        target=row["target"],
        mode=row["mode"],
        paused_reason=row["paused_reason"],
        created_at=from_ms(row["created_at"]),
        label=row["label"],
    )


def row_to_outbox(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        guild_id=row["guild_id"],
        dest_kind=DestinationKind(row["dest_kind"]),
        dest_id=row["dest_id"],
        idem_key=row["idem_key"],
        nonce=row["nonce"],
        payload=Message.from_json(json.loads(row["payload"])),
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=from_ms(row["next_attempt_at"]),
        last_error=row["last_error"],
        sent_message_id=row["sent_message_id"],
        created_at=from_ms(row["created_at"]),
        queued_at=from_ms(row["queued_at"]),
        sent_at=from_ms_or_none(row["sent_at"]),
    )


def row_to_digest_run(row: sqlite3.Row) -> DigestRun:
    return DigestRun(
        id=row["id"],
        guild_id=row["guild_id"],
        period_key=row["period_key"],
        period_start=from_ms(row["period_start"]),
        period_end=from_ms(row["period_end"]),
        outcome=row["outcome"],
        late=bool(row["late"]),
        dm_count=row["dm_count"],
        schedule=row["schedule"],
        timezone=row["timezone"],
        created_at=from_ms(row["created_at"]),
    )


def row_to_board(row: sqlite3.Row) -> PublicBoard:
    return PublicBoard(
        guild_id=row["guild_id"],
        slug=row["slug"],
        created_at=from_ms(row["created_at"]),
        updated_at=from_ms(row["updated_at"]),
    )


def row_to_discovery(row: sqlite3.Row) -> Discovery:
    return Discovery(
        id=row["id"],
        guild_id=row["guild_id"],
        vendor=row["vendor"],
        kind=DiscoveryKind(row["kind"]),
        target=row["target"],
        interval_minutes=row["interval_minutes"],
        enabled=bool(row["enabled"]),
        next_check_at=from_ms(row["next_check_at"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_checked_at=from_ms_or_none(row["last_checked_at"]),
        last_status=row["last_status"],
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        baseline_done=bool(row["baseline_done"]),
        created_by=row["created_by"],
        created_at=from_ms(row["created_at"]),
    )


def row_to_proposal(row: sqlite3.Row) -> PromiseProposal:
    return PromiseProposal(
        id=row["id"],
        guild_id=row["guild_id"],
        discovery_id=row["discovery_id"],
        entry_key=row["entry_key"],
        vendor=row["vendor"],
        promised=Promised(
            entry_key=row["entry_key"],
            title=row["title"],
            url=row["url"],
            sentence=row["sentence"],
            span=(row["phrase_start"], row["phrase_end"]),
            window_phrase=row["window_phrase"],
            window_start=dt.date.fromisoformat(row["window_start"]),
            window_end=dt.date.fromisoformat(row["window_end"]),
            announced_on=dt.date.fromisoformat(row["announced_on"]),
            product=row["product"],
        ),
        state=ProposalState(row["state"]),
        launch_id=row["launch_id"],
        decided_by=row["decided_by"],
        created_at=from_ms(row["created_at"]),
    )


def row_to_probe(row: sqlite3.Row) -> Probe:
    return Probe(
        id=row["id"],
        guild_id=row["guild_id"],
        launch_id=row["launch_id"],
        kind=ProbeKind(row["kind"]),
        target=row["target"],
        pattern=row["pattern"],
        auto_confirm=bool(row["auto_confirm"]),
        interval_minutes=row["interval_minutes"],
        api_key_env=row["api_key_env"],
        enabled=bool(row["enabled"]),
        next_check_at=from_ms(row["next_check_at"]),
        last_checked_at=from_ms_or_none(row["last_checked_at"]),
        last_ok_at=from_ms_or_none(row["last_ok_at"]),
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        baseline_done=bool(row["baseline_done"]),
        disabled_reason=row["disabled_reason"],
        disabled_at=from_ms_or_none(row["disabled_at"]),
        created_by=row["created_by"],
        created_at=from_ms(row["created_at"]),
        prereleases=bool(row["prereleases"]),
    )


def row_to_detection(row: sqlite3.Row) -> Detection:
    return Detection(
        id=row["id"],
        probe_id=row["probe_id"],
        guild_id=row["guild_id"],
        launch_id=row["launch_id"],
        kind=ProbeKind(row["kind"]),
        evidence_key=row["evidence_key"],
        title=row["title"],
        url=row["url"],
        matched=row["matched"],
        published_at=from_ms_or_none(row["published_at"]),
        detected_at=from_ms(row["detected_at"]),
        state=DetectionState(row["state"]),
        auto_confirm=bool(row["auto_confirm"]),
        decided_by=row["decided_by"],
        decided_at=from_ms_or_none(row["decided_at"]),
        posted_at=from_ms_or_none(row["posted_at"]),
        message_id=row["message_id"],
        verdict=Verdict(row["verdict"]),
        window_phrase=row["window_phrase"],
        window_end=iso_date(row["window_end"]),
        window_read_on=iso_date(row["window_read_on"]),
    )


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    """*items* in consecutive slices of at most *size*."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def is_postgres(conn: Connection) -> bool:
    """Whether *conn* is a PostgreSQL connection. (One exists only once its module is loaded:
    a bot on SQLite never imports psycopg.)"""
    postgres = sys.modules.get("storage.postgres.db")
    return postgres is not None and isinstance(conn, postgres.Connection)


def skip_locked(conn: Connection) -> str:
    # Row locks exist only on PostgreSQL, where several processes may share the database;
    # SQLite's one writer is already alone.
    return " FOR UPDATE SKIP LOCKED" if is_postgres(conn) else ""


INLINE_ROWS = 500


def values_rows(rows: int, columns: int) -> str:
    """The VALUES list of a multi-row INSERT: *rows* groups of *columns* ``?`` placeholders."""
    group = "(" + ", ".join("?" * columns) + ")"
    return ", ".join([group] * rows)


def followed_clause(
    followed: Followed | None, vendor: str, launch_id: str
) -> tuple[str, list[Any]]:
    """A condition (starting with " AND ") keeping only the launches *followed* names, given
    the columns of a launch's vendor and id; nothing when *followed* is None."""
    if followed is None:
        return "", []
    alternatives: list[str] = []
    params: list[Any] = []
    if followed.vendors:
        alternatives.append(f"{vendor} IN ({', '.join('?' * len(followed.vendors))})")
        params.extend(followed.vendors)
    if followed.launch_ids:
        alternatives.append(f"{launch_id} IN ({', '.join('?' * len(followed.launch_ids))})")
        params.extend(followed.launch_ids)
    if not alternatives:
        return " AND 1 = 0", []
    return f" AND ({' OR '.join(alternatives)})", params
