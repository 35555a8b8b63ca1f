"""/alerts public end to end: a manager publishes the server's board, the bot's own web server
serves it on the same event loop, and turning it off makes the address answer 404."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.e2e import world
from tests.test_discord_launch import NOT_MANAGER, add_grok


async def test_a_manager_publishes_and_unpublishes_the_board(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target, web=("127.0.0.1", 0)) as w:
        assert w.bot.web is not None
        base = w.bot.web.base_url
        await add_grok(w)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/b/alpha") as before:
                assert before.status == 404
            refused = await w.cmd("alerts public", user=w.member, state="on")
            assert refused.ephemeral and refused.content == NOT_MANAGER
            reply = await w.cmd("alerts public", state="on")
            assert reply.content == (
                f"This server's board is public at <{base}/b/alpha>: the score, the timeline "
                "and the watchlist, with an Atom feed and a calendar of deadlines. It shows no "
                "members, subscriptions or managers. `/alerts public off` makes it private again."
            )
            async with http.get(f"{base}/b/alpha") as page:
                assert page.status == 200
                html = await page.text()
            assert '<a href="/b/alpha/1">Grok 3</a>' in html
            taken = await w.cmd("alerts public", guild=w.other_guild, state="on", address="alpha")
            assert taken.content == 'The board name "alpha" is taken; please pick another.'
            bad = await w.cmd("alerts public", state="on", address="no way")
            assert bad.content.startswith("A board name is 3 to 40 lower-case letters")
            moved = await w.cmd("alerts public", state="on", address="frontier-watch")
            assert f"<{base}/b/frontier-watch>" in moved.content
            async with http.get(f"{base}/b/alpha") as old:
                assert old.status == 404
            off = await w.cmd("alerts public", state="off")
            assert (
                off.content == "This server's board is private again; its address now answers 404."
            )
            again = await w.cmd("alerts public", state="off")
            assert again.content == "This server's board is already private."
            async with http.get(f"{base}/b/frontier-watch") as gone:
                assert gone.status == 404


async def test_without_a_web_server_the_reply_says_what_the_operator_must_set(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        assert w.bot.web is None
        reply = await w.cmd("alerts public", state="on", address="alpha-board")
        assert reply.content.startswith("This server's board is public at `/b/alpha-board`:")
        assert reply.content.endswith(
            "(This bot serves no boards yet: its operator has to set SLIPWATCH_WEB.)"
        )
