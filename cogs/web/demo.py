"""`python bot.py demo --serve [host:port]`: replay the demo story, then publish its board and
serve it until Ctrl-C or SIGTERM, so that the board can be seen without Discord."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from cogs.web.server import BoardSite, WebSettings
from tracker.board import BoardService
from tracker.clock import SimClock
from tracker.demo import GUILD, StoreOpener, run_demo

SLUG = "demo"
# The story ends here: the board is read as of that day, like the demo's closing table.
STORY_END = dt.datetime(2025, 2, 20, tzinfo=dt.UTC)


async def serve_demo(
    open_store: StoreOpener, host: str, port: int, out: TextIO = sys.stdout
) -> int:
    """Replay the story into a temporary database and serve its board until stopped."""
    with tempfile.TemporaryDirectory(prefix="slipwatch-board-") as tmp:
        path = str(Path(tmp) / "demo.db")
        status = await run_demo(open_store, out, db_path=path)
        if status != 0:
            return status
        async with open_store(path) as store:
            service = BoardService(store, SimClock(STORY_END))
            await service.publish(GUILD, SLUG)
            site = BoardSite(service, WebSettings(host=host, port=port))
            url = await site.start()
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            try:
                out.write(f"\nThe demo's board: {url}/b/{SLUG} (Ctrl-C or SIGTERM stops it)\n")
                out.flush()
                await stop.wait()
            finally:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(signum)
                await site.stop()
    out.write("board stopped\n")
    out.flush()
    return 0
