"""Bytes to plain data, as a kind says (JSON, a feed, a page): what a worker process runs.
Whatever goes wrong is the source's own error (:class:`Unreadable`), never an internal one."""

from __future__ import annotations

import json
from typing import Any

from tracker.probes.reader.feeds import read_feed
from tracker.probes.reader.markup import read_page
from tracker.probes.reader.records import MAX_JSON_DEPTH, Reading, Unreadable


def read_json(body: bytes) -> Any:
    """*body* as a JSON value nested at most :data:`MAX_JSON_DEPTH` deep."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise Unreadable(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unreadable("not JSON") from exc
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise Unreadable(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return value


def read_body(reading: Reading, body: bytes, content_type: str) -> Any:
    """*body* read as *reading* says (what a worker runs); Unreadable on failure."""
    try:
        if reading is Reading.JSON:
            return read_json(body)
        if reading is Reading.FEED:
            return read_feed(body, content_type)
        return read_page(body, content_type)
    except Unreadable:
        raise
    except RecursionError:
        raise Unreadable("nested too deep") from None
    except MemoryError:
        raise Unreadable("too big to read") from None
    except Exception as exc:  # a parser's assertion or internal error on a hostile body
        raise Unreadable(f"the parser failed ({type(exc).__name__})") from exc
