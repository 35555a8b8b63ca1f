"""The board's table: the reader's filters and sort order, and the board of one day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from tracker.board.rows import BoardRow, make_row
from tracker.models import Launch, LaunchEvent, LaunchState
from tracker.stats import Stats, compute_stats

__all__ = ["PAGE_SIZE", "SORT_KEYS", "Board", "BoardQuery", "Order", "build_board"]


# Sortable columns of the table: query-string name -> what the column shows.
SORT_KEYS: dict[str, str] = {
    "product": "Launch",
    "state": "State",
    "first": "First promise",
    "latest": "Latest window",
    "deadline": "Deadline",
    "late": "Days late",
    "slips": "Slips",
    "evidence": "Evidence",
}
Order = Literal["asc", "desc"]
PAGE_SIZE = 100  # table rows per page: a phone shows one card per launch


@dataclass(frozen=True, slots=True)
class BoardQuery:
    """The reader's filters and sort order, from the query string."""

    vendor: str | None = None
    state: LaunchState | None = None
    sort: str = "deadline"
    order: Order = "asc"
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> BoardQuery:
        """Read ?vendor=&state=&sort=&order=; anything unknown falls back to the default, so a
        hand-edited link still shows a board."""
        vendor = " ".join(params.get("vendor", "").split())[:60] or None
        try:
            state = LaunchState(params.get("state", "")) if params.get("state") else None
        except ValueError:
            state = None
        sort = params.get("sort", "deadline")
        if sort not in SORT_KEYS:
            sort = "deadline"
        order: Order = "desc" if params.get("order") == "desc" else "asc"
        page_text = params.get("page", "1")
        page = int(page_text) if page_text.isdigit() and 1 <= int(page_text) <= 10_000 else 1
        return cls(vendor=vendor, state=state, sort=sort, order=order, page=page)

    def params(self, **changes: str | None) -> dict[str, str]:
        """The query string of this view with *changes* applied (None removes a key); default
        values are left out so links stay short."""
        current: dict[str, str | None] = {
            "vendor": self.vendor,
            "state": self.state.value if self.state else None,
            "sort": None if self.sort == "deadline" else self.sort,
            "order": None if self.order == "asc" else self.order,
            "page": None if self.page == 1 else str(self.page),
        }
        current.update(changes)
        return {k: v for k, v in current.items() if v}


def _sort_key(sort: str) -> tuple[object, ...] | object:
    keys = {
        "product": lambda r: (r.product.casefold(), r.vendor.casefold(), r.launch_id),
        "state": lambda r: (r.state.value, r.deadline_at, r.launch_id),
        "first": lambda r: (r.first_end, r.launch_id),
        "latest": lambda r: (r.latest_end, r.launch_id),
        "deadline": lambda r: (r.deadline_at, r.launch_id),
        # Launches without a figure yet sort after every figure, whichever the order.
        "late": lambda r: (r.days_late is None, r.days_late or 0, r.launch_id),
        "slips": lambda r: (r.slips, r.launch_id),
        "evidence": lambda r: (r.evidence, r.launch_id),
    }
    return keys[sort]


@dataclass(frozen=True, slots=True)
class Board:
    """A server's board on one day, filtered and sorted for one reader."""

    slug: str
    today: dt.date
    stats: Stats  # the score of the whole board (filters apply to the table only)
    rows: tuple[BoardRow, ...]  # after the filters, in the requested order
    total: int  # launches on the board before the filters
    vendors: tuple[str, ...]  # every vendor on the board, for the filter
    query: BoardQuery

    @property
    def pages(self) -> int:
        """How many pages of PAGE_SIZE rows the table has (at least 1)."""
        return max(1, -(-len(self.rows) // PAGE_SIZE))

    @property
    def page(self) -> int:
        """The page shown (the last one when the query asked past it)."""
        return min(self.query.page, self.pages)

    @property
    def page_rows(self) -> tuple[BoardRow, ...]:
        """The rows of the page shown."""
        start = (self.page - 1) * PAGE_SIZE
        return self.rows[start : start + PAGE_SIZE]

    @property
    def first_shown(self) -> int:
        """The position of the page's first row (1-based; 0 when there is none)."""
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0


def build_board(
    slug: str,
    launches: Iterable[Launch],
    events: Mapping[int, Sequence[LaunchEvent]],
    today: dt.date,
    query: BoardQuery,
) -> Board:
    """The board of *launches* on *today* for *query*."""
    every = list(launches)
    want = query.vendor.casefold() if query.vendor else None
    rows = [
        make_row(launch, events.get(launch.id, ()), today)
        for launch in every
        if (want is None or launch.vendor.casefold() == want)
        and (query.state is None or launch.state is query.state)
    ]
    key = _sort_key(query.sort)
    rows.sort(key=key, reverse=query.order == "desc")  # type: ignore[arg-type]
    if query.sort == "late" and query.order == "desc":
        # Keep "no figure yet" at the end when the biggest figures come first.
        rows.sort(key=lambda r: r.days_late is None)
    vendors: dict[str, str] = {}
    for launch in every:
        vendors.setdefault(launch.vendor.casefold(), launch.vendor)
    return Board(
        slug=slug,
        today=today,
        stats=compute_stats(every, today),
        rows=tuple(rows),
        total=len(every),
        vendors=tuple(sorted(vendors.values(), key=str.casefold)),
        query=query,
    )
