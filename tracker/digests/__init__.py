"""Scheduled digests: what slipped, shipped, was cancelled or re-announced since the last one.

- posting_times: the digest setting people type ("weekly monday 9:00"), the DST-proof periods it
  cuts time into, and the next posting time. Pure calendar arithmetic.
- content: what a digest holds (:class:`Digest`) and how it is assembled from a guild's launches
  and the history of a period. Pure.
- plain_text: a digest in words.
- service: :class:`DigestService` posts each guild's digest once per period through the outbox,
  woken by the engine's one timer.
"""

from tracker.digests.content import UPCOMING_DAYS, Digest, DigestEntry, build_digest
from tracker.digests.plain_text import render_digest_text
from tracker.digests.posting_times import (
    DEFAULT_SCHEDULE,
    DigestPeriod,
    DigestSchedule,
    Frequency,
    next_run_after,
    parse_schedule,
    parse_when_empty,
    period_for,
)
from tracker.digests.service import DigestReport, DigestService

__all__ = [
    "DEFAULT_SCHEDULE",
    "UPCOMING_DAYS",
    "Digest",
    "DigestEntry",
    "DigestPeriod",
    "DigestReport",
    "DigestSchedule",
    "DigestService",
    "Frequency",
    "build_digest",
    "next_run_after",
    "parse_schedule",
    "parse_when_empty",
    "period_for",
    "render_digest_text",
]
