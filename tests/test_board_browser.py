"""The public board in a real browser: Debian's Chromium, headless, driven by Playwright (its own
browser download is never used: .ci/run installs the system's chromium with apt-get).

What a reader does: the board renders its table and chart, sorting and filtering work through
plain links and a form, a launch page tells its lineage; no console errors (a CSP violation would
be one), the basics of accessibility hold, and a phone shows no horizontal scrolling.
Screenshots land in tests/output/board/.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from tests.board_seed import SLUG
from tests.test_board import served

CHROMIUM = Path(os.environ.get("SLIPWATCH_CHROMIUM", "/usr/bin/chromium"))
OUTPUT = Path(__file__).resolve().parent / "output" / "board"
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

# WCAG's relative luminance and contrast ratio, computed in the page from the colours it uses.
CONTRAST_JS = """
(els) => {
  const parse = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  return els.map((el) => {
    const s = getComputedStyle(el);
    const a = lum(parse(s.color)), b = lum(parse(s.backgroundColor));
    return [el.className, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}
"""


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def open_page(browser: Browser, **context: Any) -> tuple[Page, list[str]]:
    """A new page that records console errors and uncaught exceptions."""
    ctx = await browser.new_context(**context)
    page = await ctx.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            errors.append(f"{message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    return page, errors


async def product_names(page: Page) -> list[str]:
    return await page.locator("table.launches tbody th[scope=row] > a").all_inner_texts()


async def test_board_renders_sorts_filters_and_opens_a_launch(tmp_path: Path) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    async with served(tmp_path) as s, chromium() as browser:
        page, errors = await open_page(browser, viewport=DESKTOP)
        response = await page.goto(s.board)
        assert response is not None and response.status == 200
        assert await page.title() == f"{SLUG} · slipwatch board"
        assert await page.locator("h1").inner_text() == f"Launch board: {SLUG}"
        assert await page.locator("table.launches tbody tr").count() == 5
        assert await page.locator("svg.timeline a.row").count() == 5
        assert await page.locator("svg.timeline").is_visible()
        box = await page.locator("svg.timeline").bounding_box()
        assert box is not None and box["height"] > 100
        # The stylesheet applied (a CSP or path mistake would leave the page unstyled).
        badge = page.locator("table.launches .state.o-overdue")
        assert (
            await badge.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(185, 28, 28)"
        )
        await page.screenshot(path=str(OUTPUT / "board-desktop.png"), full_page=True)

        await page.get_by_role("link", name="Days late", exact=True).click()
        await page.wait_for_url("**/b/ai-watch?sort=late")
        assert (await product_names(page))[:3] == ["GPT-4.5", "Grok 3", "Gemini 2 Ultra"]
        await page.get_by_role("link", name="Days late", exact=True).click()
        await page.wait_for_url("**sort=late&order=desc")
        assert (await product_names(page))[:3] == ["Gemini 2 Ultra", "Grok 3", "GPT-4.5"]
        header = page.locator("th[aria-sort]")
        assert await header.get_attribute("aria-sort") == "descending"

        await page.get_by_label("Vendor").select_option("xAI")
        await page.get_by_role("button", name="Filter").click()
        await page.wait_for_url("**vendor=xAI**")
        assert await product_names(page) == ["Grok 3"]
        assert await page.locator("#shown").inner_text() == "Showing 1 of 5."
        await page.get_by_label("State").select_option("cancelled")
        await page.get_by_role("button", name="Filter").click()
        await page.wait_for_url("**state=cancelled**")
        assert await page.get_by_text("No launch matches these filters.").is_visible()
        await page.get_by_role("link", name="Clear filters").click()
        await page.wait_for_url(s.board)
        assert await page.locator("table.launches tbody tr").count() == 5

        await page.get_by_role("link", name="Gemini 2 Ultra", exact=True).first.click()
        await page.wait_for_url(f"**/b/{SLUG}/{s.ids.gemini}")
        assert await page.locator("#headline").inner_text() == "100 days late"
        steps = await page.locator("ol.lineage li .what").all_inner_texts()
        assert steps == [
            'Promised "end of 2024" (by 2024-12-31).',
            'Re-dated: "Q1 2025" (by 2025-03-31). It was "end of 2024" before.',
            "Missed its deadline.",
        ]
        assert await page.locator("svg.timeline a.row").count() == 1
        await page.screenshot(path=str(OUTPUT / "launch-desktop.png"), full_page=True)
        await page.get_by_role("link", name=f"Board: {SLUG}").click()
        await page.wait_for_url(s.board)
        assert errors == []


async def test_board_passes_the_basic_accessibility_checks(tmp_path: Path) -> None:
    async with served(tmp_path) as s, chromium() as browser:
        page, errors = await open_page(browser, viewport=DESKTOP)
        for url in (s.board, f"{s.board}/{s.ids.grok}"):
            await page.goto(url)
            assert await page.get_attribute("html", "lang") == "en"
            levels = await page.eval_on_selector_all(
                "h1, h2, h3, h4", "els => els.map(e => Number(e.tagName[1]))"
            )
            assert levels.count(1) == 1 and levels[0] == 1, levels
            assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
            unlabeled = await page.eval_on_selector_all(
                "select, input:not([type=hidden]), button, textarea",
                "els => els.filter(e => !(e.labels && e.labels.length) && !e.getAttribute("
                "'aria-label') && !e.textContent.trim()).map(e => e.outerHTML)",
            )
            assert unlabeled == []
            nameless = await page.eval_on_selector_all(
                "a[href]",
                "els => els.filter(e => !(e.textContent.trim() || e.getAttribute('aria-label')"
                ")).map(e => e.outerHTML)",
            )
            assert nameless == []
            svg = page.locator("svg.timeline")
            assert await svg.get_attribute("role") == "img"
            assert await page.locator("svg.timeline > title").text_content()
            # Every state colour is readable: WCAG AA, 4.5:1 for text.
            ratios = await page.eval_on_selector_all(".state", CONTRAST_JS)
            assert ratios and all(ratio >= 4.5 for _, ratio in ratios), ratios
        await page.goto(s.board)
        states = {c for c, _ in await page.eval_on_selector_all(".state", CONTRAST_JS)}
        assert states == {
            "state o-cancelled",
            "state o-late",
            "state o-overdue",
            "state o-on_time",
            "state o-pending",
        }
        text = await page.eval_on_selector_all("body, .figure .def, .count", CONTRAST_JS)
        assert all(ratio >= 4.5 for _, ratio in text[:1]), text
        headers = await page.eval_on_selector_all(
            "table.launches th", "els => els.filter(e => !e.getAttribute('scope')).length"
        )
        assert headers == 0
        assert errors == []


async def test_a_phone_shows_no_horizontal_scrolling(tmp_path: Path) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    async with served(tmp_path) as s, chromium() as browser:
        page, errors = await open_page(
            browser, viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        for url, shot in (
            (s.board, "board-phone.png"),
            (f"{s.board}?sort=late&order=desc", None),
            (f"{s.board}/{s.ids.evil}", "launch-phone.png"),
        ):
            await page.goto(url)
            widths = await page.evaluate(
                "() => [document.documentElement.scrollWidth, window.innerWidth]"
            )
            assert widths[0] <= widths[1], (url, widths)
            # The chart scales into the screen and its labels stay readable (at least 8 px).
            chart = await page.locator("svg.timeline").bounding_box()
            assert chart is not None and chart["x"] >= 0
            assert chart["x"] + chart["width"] <= PHONE["width"]
            label = await page.locator("svg.timeline .label").first.bounding_box()
            assert label is not None and label["height"] >= 8
            if shot:
                await page.screenshot(path=str(OUTPUT / shot), full_page=True)
        # The table became one card per launch: its cells are stacked, with their labels.
        cell = page.locator("table.launches td[data-label=Deadline]")
        await page.goto(s.board)
        assert await cell.first.evaluate("e => getComputedStyle(e).display") == "block"
        assert errors == []
