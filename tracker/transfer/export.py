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
from tracker.transfer.formats import CSV_FIELDS, LAUNCH_FIELDS, TransferFormat, neutralize

__all__ = ["ExportWriter", "export_csv", "export_json", "launch_to_dict"]


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


class ExportWriter:
    """An export file written a page of launches at a time (pages in id order, each launch in
    one page): :meth:`head`, then :meth:`page` for each page, then :meth:`tail` make exactly the
    text :func:`export_json` or :func:`export_csv` makes of all of them at once, so that a big
    server's export never holds every record at once."""

    def __init__(self, fmt: TransferFormat) -> None:
        if fmt not in (TransferFormat.JSON, TransferFormat.CSV):
            raise ValueError(f"cannot export as {fmt.value}")
        self.fmt = fmt
        self.launches = 0  # written so far

    def head(self) -> str:
        """What comes before the first launch (CSV: the header row)."""
        if self.fmt is TransferFormat.JSON:
            return ""
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(CSV_FIELDS)
        return buffer.getvalue()

    def page(
        self, launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
    ) -> str:
        """The text of one page of launches (by id), after the pages written before."""
        ordered = sorted(launches, key=lambda x: x.id)
        text = (
            self._json_page(ordered, events_by_launch)
            if self.fmt is TransferFormat.JSON
            else _csv_rows(ordered, events_by_launch)
        )
        self.launches += len(ordered)
        return text

    def tail(self) -> str:
        """What comes after the last launch."""
        if self.fmt is TransferFormat.CSV:
            return ""
        return "\n]\n" if self.launches else "[]\n"

    def _json_page(
        self, launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
    ) -> str:
        if not launches:
            return ""
        # One small json.dumps per launch, not one call over everything: a C call holds the
        # GIL, and this runs in a worker thread beside the event loop. Same bytes as dumping
        # the whole list with indent=2.
        parts = [
            json.dumps(
                launch_to_dict(launch, events_by_launch.get(launch.id, ())),
                indent=2,
                ensure_ascii=False,
            ).replace("\n", "\n  ")
            for launch in launches
        ]
        return ("[\n  " if self.launches == 0 else ",\n  ") + ",\n  ".join(parts)


def _csv_rows(
    launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    for launch in launches:
        item = launch_to_dict(launch, events_by_launch.get(launch.id, ()))
        row = {k: "" if item[k] is None else item[k] for k in LAUNCH_FIELDS}
        row["events"] = json.dumps(item["events"], ensure_ascii=False, separators=(",", ":"))
        writer.writerow({k: neutralize(v) for k, v in row.items()})
    return buffer.getvalue()


def _whole(
    fmt: TransferFormat,
    launches: Sequence[Launch],
    events_by_launch: Mapping[int, Sequence[LaunchEvent]],
) -> str:
    writer = ExportWriter(fmt)
    return writer.head() + writer.page(launches, events_by_launch) + writer.tail()


def export_json(
    launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
) -> str:
    """The launches (by id) and their histories as a JSON list."""
    return _whole(TransferFormat.JSON, launches, events_by_launch)


def export_csv(
    launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
) -> str:
    """The launches (by id) as CSV: a header, then one row per launch; histories JSON-encoded
    in the "events" column."""
    return _whole(TransferFormat.CSV, launches, events_by_launch)
