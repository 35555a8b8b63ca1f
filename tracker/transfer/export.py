"""Writing export files: a guild's launches with their whole histories, as JSON or CSV
(tracker.transfer.formats describes both)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tracker.models import Launch, LaunchEvent
from tracker.transfer.formats import CSV_FIELDS, LAUNCH_FIELDS, neutralize

__all__ = ["export_csv", "export_json", "launch_to_dict"]


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _event_to_dict(event: LaunchEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "source_url": event.source_url,
        "note": event.note,
        "data": event.data,
    }


def launch_to_dict(launch: Launch, events: Sequence[LaunchEvent]) -> dict[str, Any]:
    """One launch as a JSON-ready dict with every field and its "events" list."""
    return {
        "id": launch.id,
        "guild_id": launch.guild_id,
        "product": launch.product,
        "vendor": launch.vendor,
        "announcer": launch.announcer,
        "source_url": launch.source_url,
        "quote": launch.quote,
        "announced_on": launch.announced_on.isoformat(),
        "window_phrase": launch.window_phrase,
        "window_start": launch.window_start.isoformat(),
        "window_end": launch.window_end.isoformat(),
        "window_rule": launch.window_rule,
        "timezone": launch.timezone,
        "deadline_at": launch.deadline_at.isoformat(),
        "state": launch.state.value,
        "slip_count": launch.slip_count,
        "revision": launch.revision,
        "shipped_on": _iso(launch.shipped_on),
        "cancelled_on": _iso(launch.cancelled_on),
        "days_late": launch.days_late,
        "next_due_at": _iso(launch.next_due_at),
        "created_at": launch.created_at.isoformat(),
        "updated_at": launch.updated_at.isoformat(),
        "first_window_end": launch.first_window_end.isoformat(),
        "evidence": launch.evidence.value,
        "announced_precision": launch.announced_precision.value,
        "outcome_precision": launch.outcome_precision.value,
        "events": [_event_to_dict(e) for e in sorted(events, key=lambda e: e.id)],
    }


def export_json(
    launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
) -> str:
    """The launches (by id) and their histories as a JSON list."""
    # One small json.dumps per launch, not one call over everything: a C call holds the GIL,
    # and this runs in a worker thread beside the event loop. Same bytes as dumping the list.
    parts = [
        json.dumps(
            launch_to_dict(launch, events_by_launch.get(launch.id, ())),
            indent=2,
            ensure_ascii=False,
        ).replace("\n", "\n  ")
        for launch in sorted(launches, key=lambda x: x.id)
    ]
    if not parts:
        return "[]\n"
    return "[\n  " + ",\n  ".join(parts) + "\n]\n"


def export_csv(
    launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
) -> str:
    """The launches (by id) as CSV: a header, then one row per launch; histories JSON-encoded
    in the "events" column."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for launch in sorted(launches, key=lambda x: x.id):
        item = launch_to_dict(launch, events_by_launch.get(launch.id, ()))
        row = {k: "" if item[k] is None else item[k] for k in LAUNCH_FIELDS}
        row["events"] = json.dumps(item["events"], ensure_ascii=False, separators=(",", ":"))
        writer.writerow({k: neutralize(v) for k, v in row.items()})
    return buffer.getvalue()
