"""The public board: what a server that opted in shows the world, as plain records.

Everything here is pure (``today`` and the records are passed in) except the service, which
loads a published server's launches and history. The figures are the bot's own: the score is
:func:`tracker.stats.compute_stats` and each launch's lateness comes from tracker.stats as well,
so the board never computes the score a second way. The web adapter (cogs/web/) turns these
records into HTML, SVG, Atom, iCalendar and JSON; nothing here knows HTTP.

Nothing personal is ever part of a board: no user ids, no subscriptions, no managers, no
actors of history rows.

- slugs: board names (/b/<slug>/);
- rows: one launch as a row of the table and the timeline chart, and in launches.json;
- table: the reader's filters, sort order and pages, and the board of one day;
- story: one launch's page, its story from the first promise to the outcome;
- feeds: the Atom feed's entries and the calendar's events, with ids that never change;
- score: the score's figures with their definitions, and as JSON;
- service: BoardService, publishing a board and loading what it shows.
"""

from __future__ import annotations

from tracker.board.feeds import (
    FEED_KINDS,
    FEED_SIZE,
    CalendarEvent,
    FeedEntry,
    calendar_events,
    feed_entries,
)
from tracker.board.rows import BoardRow, make_row, row_json
from tracker.board.score import Figure, score_figures, score_json
from tracker.board.service import BOARD_KINDS, BoardService, Published
from tracker.board.slugs import SLUG_MAX, SLUG_MIN, normalize_slug, slug_from_name
from tracker.board.story import LaunchPage, LineageStep, launch_page, lineage
from tracker.board.table import PAGE_SIZE, SORT_KEYS, Board, BoardQuery, Order, build_board

__all__ = [
    "BOARD_KINDS",
    "FEED_KINDS",
    "FEED_SIZE",
    "PAGE_SIZE",
    "SLUG_MAX",
    "SLUG_MIN",
    "SORT_KEYS",
    "Board",
    "BoardQuery",
    "BoardRow",
    "BoardService",
    "CalendarEvent",
    "FeedEntry",
    "Figure",
    "LaunchPage",
    "LineageStep",
    "Order",
    "Published",
    "build_board",
    "calendar_events",
    "feed_entries",
    "launch_page",
    "lineage",
    "make_row",
    "normalize_slug",
    "row_json",
    "score_figures",
    "score_json",
    "slug_from_name",
]
