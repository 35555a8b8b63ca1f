"""What the batched import write is compared with (tests/test_transfer_batch.py) and measured
against (bench/import_write.py): the write as it was before, one insert per launch and per
history row in one transaction, and import files of any size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracker.ports import Store
from tracker.transfer.planning import PlannedLaunch


async def write_per_row(store: Store, planned: Sequence[PlannedLaunch]) -> list[int]:
    """Insert every planned launch and its history one row per statement, in one transaction;
    their new ids in order."""
    ids: list[int] = []
    async with store.transaction() as tx:
        for plan in planned:
            launch_id = await tx.launches.insert_launch_record(plan.launch)
            ids.append(launch_id)
            for event in plan.events:
                await tx.events.append_event(
                    launch_id=launch_id,
                    guild_id=plan.launch.guild_id,
                    kind=event.kind,
                    at=event.at,
                    actor=event.actor,
                    source_url=event.source_url,
                    note=event.note,
                    data=event.data,
                )
    return ids


def many_rows(n: int) -> list[dict[str, Any]]:
    """*n* valid launches in every state, with one to three history rows each (notes, links,
    nested data with keys out of order), and no two alike."""
    rows = []
    for i in range(n):
        created = {
            "kind": "created",
            "at": "2024-07-01T12:00:00+00:00",
            "actor": f"mod {i % 5}",
            "data": {"window_end": "2025-12-31", "z": i, "a": [1, {"b": "ü"}]},
        }
        row: dict[str, Any] = {
            "product": f"Model {i}",
            "vendor": f"Lab {i % 7}",
            "announcer": f"CEO {i % 3}" if i % 2 else None,
            "source_url": f"https://example.com/{i}" if i % 3 else None,
            "quote": f'Model {i} "soon"\nreally' if i % 4 == 1 else None,
            "announced_on": "2024-07-01",
            "window_phrase": "end of 2025",
            "window_end": "2025-12-31",
            "events": [created],
        }
        fate = i % 4
        if fate == 0:
            row["state"] = "upcoming"
        elif fate == 1:
            row.update(state="shipped", shipped_on="2025-01-20")
            row["events"].append(
                {"kind": "shipped", "at": "2025-01-20T09:30:00+00:00", "actor": "mod"}
            )
        elif fate == 2:
            row.update(state="cancelled", cancelled_on="2025-02-01", evidence="reported")
            row["events"].append(
                {
                    "kind": "cancelled",
                    "at": "2025-02-01T00:00:00+00:00",
                    "actor": "mod",
                    "note": "Quietly dropped",
                    "source_url": "https://example.com/dropped",
                }
            )
        else:
            row.update(
                state="upcoming",
                window_phrase="March 2025",
                window_end="2025-03-31",
                first_window_end="2024-12-31",
                slip_count=1,
            )
            row["events"] += [
                {"kind": "note", "at": "2025-01-02T08:00:00+00:00", "actor": "x", "note": "late"},
                {
                    "kind": "reannounced",
                    "at": "2025-01-03T08:00:00+00:00",
                    "actor": "ceo",
                    "data": {"window_end": "2025-03-31", "window_phrase": "March 2025"},
                },
            ]
        rows.append(row)
    return rows
