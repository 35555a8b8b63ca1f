"""The board's HTML pages from Jinja2 templates (autoescaped, strict about missing values): the
board, a launch, the index and the one 404 page, with their Open Graph card tags.

Everything here is a pure rendering of what tracker.board computed; no figure is decided here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2

from cogs.web.caching import Rendered, finish
from cogs.web.timeline import OUTCOME_LABELS, build_timeline
from tracker import board as boards
from tracker.board import Board, LaunchPage, Published
from tracker.models import LaunchState
from tracker.stats import RULES as score_rules

CARD_ALT_BOARD = "The board's score: on-time rate, late, overdue and cancelled launches."
CARD_ALT_LAUNCH = "This launch's figure: how late it is, its first promise and its slips."


@dataclass(frozen=True, slots=True)
class Links:
    """Where a page lives for readers: *path* on the site, *base_url* the readers' origin."""

    base_url: str
    path: str  # "/b/<slug>" or "/b/<slug>/<launch id>"

    @property
    def canonical(self) -> str:
        return self.base_url + self.path

    @property
    def card(self) -> str:
        return f"{self.base_url}{self.path}/card.png"


def _template_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cogs.web", "templates"),
        autoescape=jinja2.select_autoescape(("html", "svg"), default=True),
        trim_blocks=False,
        lstrip_blocks=False,
        undefined=jinja2.StrictUndefined,
    )


def _qs(params: dict[str, str]) -> str:
    return "?" + urlencode(params) if params else ""


def describe(board: Board) -> str:
    """The board's score in one line, for the description and Open Graph tags."""
    figures = {f.key: f for f in boards.score_figures(board.stats)}
    parts = [
        f"On time: {figures['on_time_rate'].value}",
        f"shipped late: {figures['shipped_late'].value}",
        f"overdue: {figures['overdue_open'].value}",
        f"cancelled: {figures['cancelled'].value}",
    ]
    if board.stats.worst is not None:
        parts.append(f"worst slip: {figures['worst'].value}")
    return "; ".join(parts) + "."


class Pages:
    """The templates and the stylesheet, and the pages rendered from them."""

    def __init__(self) -> None:
        self.env = _template_env()
        data = (resources.files("cogs.web") / "static" / "board.css").read_bytes()
        self.css_name = f"board.{hashlib.sha256(data).hexdigest()[:12]}.css"
        self.css = data
        self.icon = (resources.files("cogs.web") / "static" / "favicon.svg").read_bytes()
        self.not_found = self.env.get_template("notfound.html").render(css=self.css_path).encode()
        self.index = self.env.get_template("index.html").render(css=self.css_path)

    @property
    def css_path(self) -> str:
        """The stylesheet's address (content-hashed, so it can be cached for a year)."""
        return f"/static/{self.css_name}"

    def _html(self, template: str, **context: Any) -> Rendered:
        text = self.env.get_template(template).render(css=self.css_path, **context)
        return finish(text.encode(), "text/html; charset=utf-8")

    def board(self, published: Published, board: Board, links: Links) -> Rendered:
        """The board page: score, timeline, the watchlist as it was asked for."""
        query = board.query
        base = links.path
        sort_links = {}
        for key in boards.SORT_KEYS:
            params = query.params(sort=None if key == "deadline" else key, order=None, page=None)
            if key == query.sort and query.order == "asc":
                params["order"] = "desc"
            sort_links[key] = base + _qs(params)
        timeline = build_timeline(board.rows, published.today)
        return self._html(
            "board.html",
            board=board,
            page_links={
                "prev": base + _qs(query.params(page=str(board.page - 1))),
                "next": base + _qs(query.params(page=str(board.page + 1))),
            },
            base=base,
            figures=boards.score_figures(board.stats),
            rules=score_rules,
            timeline=timeline,
            t=timeline,
            outcomes=list(OUTCOME_LABELS.items()),
            states=[s.value for s in LaunchState],
            columns=list(boards.SORT_KEYS.items()),
            sort_label=boards.SORT_KEYS[query.sort].lower(),
            sort_links=sort_links,
            today=published.today,
            description=describe(board),
            og_title=f"slipwatch board: {published.slug}",
            canonical=links.canonical,
            og_image=links.card,
            og_image_alt=CARD_ALT_BOARD,
        )

    def launch(self, published: Published, page: LaunchPage, links: Links) -> Rendered:
        """One launch's page: lineage, countdown or days late, its chart row."""
        row = page.row
        return self._html(
            "launch.html",
            page=page,
            base=f"/b/{published.slug}",
            t=build_timeline([row], published.today),
            today=published.today,
            description=f"{row.product} ({row.vendor}): {page.headline}. First promise "
            f'"{row.first_phrase}" (by {row.first_end}); {row.slips} slips.',
            og_title=f"{row.product} ({row.vendor}): {page.headline}",
            canonical=links.canonical,
            og_image=links.card,
            og_image_alt=CARD_ALT_LAUNCH,
        )
