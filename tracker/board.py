"""The public board: what a server that opted in shows the world, as plain records.

Everything here is pure (``today`` and the records are passed in) except :class:`BoardService`
at the end, which loads a published server's launches and history. The figures are the bot's
own: the score is :func:`tracker.stats.compute_stats` and each launch's lateness comes from
tracker.stats as well, so the board never computes the score a second way. The web adapter
(cogs/web/) turns these records into HTML, SVG, Atom, iCalendar and JSON; nothing here knows HTTP.

Nothing personal is ever part of a board: no user ids, no subscriptions, no managers, no
actors of history rows.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from tracker import deadlines
from tracker import stats as score
from tracker.clock import Clock
from tracker.errors import Conflict, InvalidInput, NotFound
from tracker.models import EventKind, GuildConfig, Launch, LaunchEvent, LaunchState
from tracker.ports import Store
from tracker.text import plural

__all__ = [
    "FEED_KINDS",
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

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MIN = 3
SLUG_MAX = 40
# Paths under /b/<slug>/ that a slug may not shadow, and words that would mislead.
_RESERVED = frozenset({"static", "feed", "api", "admin", "www", "slipwatch"})

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

# History kinds that are news: one feed entry each.
FEED_KINDS = frozenset(
    {
        EventKind.SLIPPED,
        EventKind.SHIPPED,
        EventKind.CANCELLED,
        EventKind.REANNOUNCED,
        EventKind.REVIVED,
    }
)
# Kinds that give a launch a new promised window (the calendar's SEQUENCE counts them).
_REDATING = frozenset({EventKind.REANNOUNCED, EventKind.REVIVED})
# What the table, the chart and the calendar read of the history: first promises, re-datings.
BOARD_KINDS = (EventKind.CREATED, EventKind.REANNOUNCED, EventKind.REVIVED)
FEED_SIZE = 50
PAGE_SIZE = 100  # table rows per page: a phone shows one card per launch
# A namespace of our own for uuid5 ids: ids stay the same across requests and restarts.
_NS = uuid.UUID("6d1b6f7e-2f4a-5a53-9b7e-51f0a7c0b0a1")


# --------------------------------------------------------------------------- slugs


def normalize_slug(text: str) -> str:
    """The slug as stored: lower case, 3 to 40 letters, digits and single hyphens."""
    slug = text.strip().lower()
    if not SLUG_MIN <= len(slug) <= SLUG_MAX or not _SLUG.match(slug):
        raise InvalidInput(
            f"A board name is {SLUG_MIN} to {SLUG_MAX} lower-case letters, digits and single "
            'hyphens, like "ai-watch".'
        )
    if slug in _RESERVED:
        raise InvalidInput(f'"{slug}" is reserved; please pick another board name.')
    return slug


def slug_from_name(name: str) -> str | None:
    """A slug made from a server's name ("AI Watch!" -> "ai-watch"), or None if none fits."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    slug = "-".join(words)[:SLUG_MAX].strip("-")
    try:
        return normalize_slug(slug)
    except InvalidInput:
        return None


# --------------------------------------------------------------------------- rows


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One launch in the table (and one row of the timeline chart)."""

    launch_id: int
    product: str
    vendor: str
    announcer: str | None
    state: LaunchState
    outcome: str  # on_time, late, cancelled, pending, overdue: the chart's colour class
    evidence: str  # official, reported or rumour (rumours stay out of the score)
    announced_on: dt.date
    first_phrase: str
    first_end: dt.date
    latest_phrase: str
    latest_end: dt.date
    deadline_at: dt.datetime
    outcome_on: dt.date | None  # shipped or cancelled on
    days_late: int | None  # signed, as tracker.stats counts it; None: cancelled or not yet due
    lateness: str  # in words: "48 days late", "3 days early", "5 days left", "cancelled"
    slips: int
    source_url: str | None
    redated_on: tuple[dt.date, ...]  # days the window was re-announced (chart marks)


def _first_phrase(launch: Launch, events: Sequence[LaunchEvent]) -> str:
    """The words of the launch's first announcement (its created event); the current ones
    when the history holds none (an import without history)."""
    for event in events:
        if event.kind is EventKind.CREATED and isinstance(event.data.get("window"), str):
            return str(event.data["window"])
    return launch.window_phrase


def _days(n: int) -> str:
    return plural(n, "day")


def _lateness(launch: Launch, figure: score.LaunchScore, today: dt.date) -> str:
    if launch.state is LaunchState.CANCELLED:
        return "cancelled"
    if figure.days_late is not None:
        return score.late_words(figure.days_late, at_least=figure.at_least)
    left = (launch.first_window_end - today).days
    return "due today" if left == 0 else f"{_days(left)} left"


def _outcome(launch: Launch, figure: score.LaunchScore) -> str:
    if launch.state is LaunchState.SHIPPED:
        return "late" if figure.late else "on_time"
    if launch.state is LaunchState.CANCELLED:
        return "cancelled"
    return "overdue" if figure.still_out else "pending"


def make_row(launch: Launch, events: Sequence[LaunchEvent], today: dt.date) -> BoardRow:
    """One launch as the board shows it on *today* (its figures are tracker.stats')."""
    figure = score.score_launch(launch, today)
    return BoardRow(
        launch_id=launch.id,
        product=launch.product,
        vendor=launch.vendor,
        announcer=launch.announcer,
        state=figure.state,
        outcome=_outcome(launch, figure),
        evidence=launch.evidence.value,
        announced_on=launch.announced_on,
        first_phrase=_first_phrase(launch, events),
        first_end=launch.first_window_end,
        latest_phrase=launch.window_phrase,
        latest_end=launch.window_end,
        deadline_at=launch.deadline_at,
        outcome_on=launch.shipped_on or launch.cancelled_on,
        days_late=figure.days_late,
        lateness=_lateness(launch, figure, today),
        slips=launch.slip_count,
        source_url=launch.source_url,
        redated_on=tuple(e.at.date() for e in events if e.kind in _REDATING),
    )


# --------------------------------------------------------------------------- the board


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
    stats: score.Stats  # the score of the whole board (filters apply to the table only)
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
        stats=score.compute_stats(every, today),
        rows=tuple(rows),
        total=len(every),
        vendors=tuple(sorted(vendors.values(), key=str.casefold)),
        query=query,
    )


# --------------------------------------------------------------------------- one launch


@dataclass(frozen=True, slots=True)
class LineageStep:
    """One line of a launch's story: a promise, a re-dating, a missed deadline, an outcome."""

    on: dt.date
    kind: str  # promised, redated, missed, shipped, cancelled, revived, note
    text: str
    quote: str | None
    source_url: str | None


def _step(event: LaunchEvent, launch: Launch) -> LineageStep | None:
    data = event.data
    day = event.at.date()
    kind = str(event.kind.value)
    match kind:
        case "created":
            phrase = data.get("window", launch.window_phrase)
            end = data.get("window_end", launch.window_end.isoformat())
            text = f'Promised "{phrase}" (by {end}).'
            return LineageStep(launch.announced_on, "promised", text, event.note, event.source_url)
        case "reannounced" | "revived":
            end = data.get("window_end", "")
            verb = "Revived" if kind == "revived" else "Re-dated"
            text = f'{verb}: "{data.get("window", "")}" (by {end}).'
            if data.get("from_window"):
                text += f' It was "{data["from_window"]}" before.'
            on = data.get("announced_on")
            when = dt.date.fromisoformat(on) if isinstance(on, str) else day
            return LineageStep(when, "redated", text, event.note, event.source_url)
        case "slipped":
            return LineageStep(day, "missed", "Missed its deadline.", None, None)
        case "shipped":
            on = data.get("shipped_on")
            shipped = dt.date.fromisoformat(on) if isinstance(on, str) else day
            late = data.get("days_late")
            text = "Shipped." if late is None else f"Shipped, {score.late_words(int(late))}."
            return LineageStep(shipped, "shipped", text, event.note, event.source_url)
        case "cancelled":
            on = data.get("cancelled_on")
            if isinstance(on, str):
                when, text = dt.date.fromisoformat(on), "Cancelled."
            else:
                when, text = day, "Cancelled (the day is not known; recorded then)."
            return LineageStep(when, "cancelled", text, event.note, event.source_url)
        case "note":
            return LineageStep(day, "note", event.note or "", None, event.source_url)
    return None  # reminders, milestones and edits are the bot's business, not the story


def lineage(launch: Launch, events: Sequence[LaunchEvent]) -> tuple[LineageStep, ...]:
    """The launch's story, oldest first: every promise with its quote and source, every
    re-dating, the missed deadline and the outcome."""
    steps = [step for event in events if (step := _step(event, launch)) is not None]
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class LaunchPage:
    """One launch's page: its row, its story and the big figure."""

    slug: str
    today: dt.date
    row: BoardRow
    steps: tuple[LineageStep, ...]
    quote: str | None
    headline: str  # "48 days late", "12 days left", "shipped on time", "cancelled"


def launch_page(
    slug: str, launch: Launch, events: Sequence[LaunchEvent], today: dt.date
) -> LaunchPage:
    """The page of one launch on *today*."""
    row = make_row(launch, events, today)
    shipped = launch.state is LaunchState.SHIPPED and launch.shipped_on is not None
    headline = f"shipped {score.shipped_verdict(launch)}" if shipped else row.lateness
    return LaunchPage(
        slug=slug,
        today=today,
        row=row,
        steps=lineage(launch, events),
        quote=launch.quote,
        headline=headline,
    )


# --------------------------------------------------------------------------- feed, calendar


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One Atom entry: one slip, ship, cancellation or re-dating."""

    id: str  # urn:uuid, the same for this event forever
    launch_id: int
    at: dt.datetime
    title: str
    summary: str
    source_url: str | None


def _name(launch: Launch) -> str:
    return f"{launch.product} ({launch.vendor})"


def _entry_text(event: LaunchEvent, launch: Launch) -> tuple[str, str] | None:
    data = event.data
    name = _name(launch)
    match event.kind:
        case EventKind.SLIPPED:
            return f"{name} missed its deadline", f"{name} was not out by its deadline."
        case EventKind.SHIPPED:
            late = data.get("days_late")
            how = "on time" if late is None else score.late_words(int(late))
            day = data.get("shipped_on") or event.at.date().isoformat()
            return (
                f"{name} shipped {how}",
                f"{name} shipped on {day}, {how} against its first promise.",
            )
        case EventKind.CANCELLED:
            day = data.get("cancelled_on")
            when = f" on {day}" if day else " (the day is not known)"
            reason = f" {event.note}" if event.note else ""
            return f"{name} was cancelled", f"{name} was cancelled{when}.{reason}"
        case EventKind.REANNOUNCED | EventKind.REVIVED:
            phrase = data.get("window", "")
            verb = "revived" if event.kind is EventKind.REVIVED else "re-dated"
            text = f'{name} was {verb}: "{phrase}" (by {data.get("window_end", "")}).'
            if data.get("from_window"):
                text += f' The promise before was "{data["from_window"]}".'
            return f"{name} {verb}: {phrase}", text
    return None


def feed_entries(
    guild_id: int,
    launches: Mapping[int, Launch],
    events: Iterable[LaunchEvent],
    limit: int = FEED_SIZE,
) -> list[FeedEntry]:
    """The newest *limit* slips, ships, cancellations and re-datings, newest first. Each
    entry's id is derived from the server and the history row, so it never changes."""
    chosen = sorted(
        (e for e in events if e.kind in FEED_KINDS and e.launch_id in launches),
        key=lambda e: (e.at, e.id),
        reverse=True,
    )[:limit]
    entries: list[FeedEntry] = []
    for event in chosen:
        launch = launches[event.launch_id]
        text = _entry_text(event, launch)
        if text is None:
            continue
        entries.append(
            FeedEntry(
                id=uuid.uuid5(_NS, f"event:{guild_id}:{event.id}").urn,
                launch_id=launch.id,
                at=event.at,
                title=text[0],
                summary=text[1],
                source_url=event.source_url or launch.source_url,
            )
        )
    return entries


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One open deadline as an all-day event on the last promised day."""

    uid: str  # the same for the launch forever
    sequence: int  # how many times the launch was re-dated: calendar apps move the event
    launch_id: int
    day: dt.date
    summary: str
    description: str
    stamp: dt.datetime  # when the launch's record last changed


def calendar_events(
    guild_id: int, launches: Iterable[Launch], events: Mapping[int, Sequence[LaunchEvent]]
) -> list[CalendarEvent]:
    """Every open launch (upcoming or still out) as an all-day event, by day."""
    result: list[CalendarEvent] = []
    for launch in launches:
        if launch.state.resolved:
            continue
        history = events.get(launch.id, ())
        redatings = [e.at for e in history if e.kind in _REDATING]
        stamp = max(redatings, default=launch.created_at)
        redated = len(redatings)
        lines = [f'Promised: "{launch.window_phrase}" (last day {launch.window_end}).']
        if launch.quote:
            lines.append(f'"{launch.quote}"')
        if launch.source_url:
            lines.append(f"Source: {launch.source_url}")
        result.append(
            CalendarEvent(
                uid=f"{uuid.uuid5(_NS, f'launch:{guild_id}:{launch.id}')}@slipwatch",
                sequence=redated,
                launch_id=launch.id,
                day=launch.window_end,
                summary=f"{_name(launch)} due",
                description="\n".join(lines),
                stamp=stamp,
            )
        )
    result.sort(key=lambda c: (c.day, c.launch_id))
    return result


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class Published:
    """A published server as the web board sees it: its slug, its calendar day now, and the
    stamp that changes whenever anything shown could have changed."""

    guild_id: int
    slug: str
    today: dt.date
    changed_at: dt.datetime  # the last change of what is shown (not counting the date)
    data_version: str  # opaque; equal versions mean equal records (the date aside)
    midnight: dt.datetime  # the start of *today* in the server's zone, in UTC

    def version(self, *, dated: bool) -> str:
        """The content version of a view: *dated* views (running figures, countdowns) also
        change with the server's calendar day."""
        return f"{self.data_version}.{self.today.isoformat()}" if dated else self.data_version

    def last_modified(self, *, dated: bool) -> dt.datetime:
        """When a view last changed: for a dated view never before today's midnight."""
        return max(self.changed_at, self.midnight) if dated else self.changed_at


class BoardService:
    """Publishing boards (/alerts public) and loading what a published board shows."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def publish(self, guild_id: int, slug: str) -> str:
        """Publish the server's board under *slug* (or move it there); returns the slug."""
        clean = normalize_slug(slug)
        async with self.store.transaction() as tx:
            if not await tx.boards.publish_board(guild_id, clean, self.clock.now()):
                raise Conflict(f'The board name "{clean}" is taken; please pick another.')
        return clean

    async def unpublish(self, guild_id: int) -> bool:
        """Make the server's board private; False when it was not public."""
        async with self.store.transaction() as tx:
            return await tx.boards.unpublish_board(guild_id)

    async def slug_of(self, guild_id: int) -> str | None:
        """The server's published slug, or None while it is private."""
        board = await self.store.read.boards.board_of_guild(guild_id)
        return board.slug if board else None

    async def find(self, slug: str) -> Published | None:
        """The published board called *slug*, or None (unknown and private look the same)."""
        board = await self.store.read.boards.board_by_slug(slug)
        if board is None:
            return None
        config = await self.store.read.guilds.get_guild(board.guild_id)
        tz = self._zone(config)
        today = deadlines.local_today(self.clock.now(), tz)
        stamp = await self.store.read.boards.board_stamp(board.guild_id)
        changed = max(stamp.changed_at, board.updated_at)
        settings = max(stamp.settings_at, board.updated_at)
        version = (
            f"{board.guild_id}.{board.slug}.{int(settings.timestamp() * 1000)}."
            f"{stamp.launches}.{stamp.last_event_id}"
        )
        midnight = dt.datetime.combine(today, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
        return Published(board.guild_id, board.slug, today, changed, version, midnight)

    @staticmethod
    def _zone(config: GuildConfig) -> ZoneInfo:
        try:
            return deadlines.zone(config.timezone)
        except InvalidInput:
            return deadlines.zone("UTC")

    async def launches(self, guild_id: int) -> list[Launch]:
        """Every launch of the server, by id."""
        return await self.store.read.launches.all_launches(guild_id)

    async def events(
        self, guild_id: int, kinds: Iterable[EventKind] = BOARD_KINDS
    ) -> dict[int, list[LaunchEvent]]:
        """The server's history rows of *kinds* (by default what the board and the calendar
        need), by launch, oldest first."""
        return await self.store.read.events.events_by_launch(guild_id, kinds=kinds)

    async def recent(self, guild_id: int, limit: int = FEED_SIZE) -> list[LaunchEvent]:
        """The server's newest *limit* feed-worthy history rows, newest first."""
        kinds = sorted(k.value for k in FEED_KINDS)
        return await self.store.read.boards.recent_events(guild_id, kinds, limit)

    async def launch(self, guild_id: int, launch_id: int) -> tuple[Launch, list[LaunchEvent]]:
        """One launch of the server and its history; NotFound for any other launch."""
        launch = await self.store.read.launches.get_launch(launch_id, guild_id)
        if launch is None:
            raise NotFound(f"There is no launch #{launch_id} on this board.")
        return launch, await self.store.read.events.launch_events(launch.id)


# --------------------------------------------------------------------------- the score


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the score with its definition, as the board prints it."""

    key: str
    label: str
    value: str
    definition: str


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def score_figures(stats: score.Stats) -> tuple[Figure, ...]:
    """The score's figures in reading order, each with its definition (the rules are
    tracker.stats' own; the whole paragraph is :data:`tracker.stats.RULES`)."""
    worst = stats.worst
    multiplier = stats.time_multiplier
    median = stats.median_days_late
    return (
        Figure(
            "on_time_rate",
            "On time",
            f"{_pct(stats.on_time_rate)} ({stats.on_time} of {stats.scored})",
            "Shipped no later than the first promise, over scored launches (shipped, "
            "cancelled, or still out past the first promise).",
        ),
        Figure(
            "shipped_late",
            "Shipped late",
            str(stats.shipped_late),
            "Shipped after the end of the first promised window; re-dating never resets it.",
        ),
        Figure(
            "overdue_open",
            "Overdue",
            str(stats.overdue_open),
            "Still out past the first promise, counted with the days late so far.",
        ),
        Figure(
            "cancelled",
            "Cancelled",
            str(stats.cancelled),
            "Called off; scored, never on time, with no days late.",
        ),
        Figure(
            "median_days_late",
            "Median lateness",
            "—" if median is None else f"{median:g} days",
            "Median days late over the late ones: shipped late and still out overdue.",
        ),
        Figure(
            "worst",
            "Worst slip",
            "—" if worst is None else f"{worst.product} ({worst.vendor}), {worst.words()}",
            "The largest days late among them, as of today.",
        ),
        Figure(
            "time_multiplier",
            "Time multiplier",
            "—" if multiplier is None else f"×{multiplier:.2f}",
            "Median of (shipped − announced) / (first promise − announced) over launches "
            "shipped late: how many times longer than promised it took.",
        ),
    )


def score_json(stats: score.Stats, launches: Iterable[Launch]) -> dict[str, object]:
    """The score as JSON-ready data: exactly tracker.stats.to_json (the keys of
    `python bot.py stats --json`), leaderboard by vendor included."""
    board = score.leaderboard(launches, stats.today)
    return score.to_json(stats, board)


def row_json(row: BoardRow) -> dict[str, object]:
    """One launch for launches.json: the keys of tracker.stats.to_json's launches, and more."""
    return {
        "id": row.launch_id,
        "product": row.product,
        "vendor": row.vendor,
        "announcer": row.announcer,
        "state": row.state.value,
        "evidence": row.evidence,
        "announced_on": row.announced_on.isoformat(),
        "first_window": row.first_phrase,
        "first_window_end": row.first_end.isoformat(),
        "latest_window": row.latest_phrase,
        "latest_window_end": row.latest_end.isoformat(),
        "deadline_at": row.deadline_at.isoformat(),
        "outcome_on": row.outcome_on.isoformat() if row.outcome_on else None,
        "days_late": row.days_late,
        "slips": row.slips,
        "source_url": row.source_url,
    }
