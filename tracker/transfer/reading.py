"""Reading an uploaded file into raw launch records: the file as a whole is checked here (text,
size, layout, row count); each record's fields are checked by tracker.transfer.planning."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from typing import Any, TextIO

from tracker.errors import InvalidInput
from tracker.transfer.formats import SCHEMA, TransferFormat, restore

__all__ = ["MAX_IMPORT_CHARS", "MAX_IMPORT_ROWS", "NOT_AN_OBJECT", "decode", "read_rows"]

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_CHARS = 64_000_000  # a JSON file is read whole: at most this many characters
# The key under which a JSON list item that is not an object is kept, to be reported by row.
NOT_AN_OBJECT = "__not_an_object__"


def decode(data: bytes) -> str:
    """An uploaded file's text (UTF-8, with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"The file is not UTF-8 text (byte {exc.start} is not readable). "
            "Save it as UTF-8 JSON or CSV and try again."
        ) from exc


def read_rows(text: str | TextIO, fmt: TransferFormat) -> list[dict[str, Any]]:
    """The launch records of a file (its text, or a text stream read as it goes), in file
    order. InvalidInput when the file as a whole cannot be read (not JSON, no header, too many
    rows, too large, not UTF-8); row problems are left to
    :func:`tracker.transfer.planning.plan_import`. A CSV stream is refused at the first row past
    MAX_IMPORT_ROWS and a JSON one past MAX_IMPORT_CHARS, so an oversized file is never held in
    memory whole."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    try:
        rows = _read_json_rows(stream) if fmt is TransferFormat.JSON else _read_csv_rows(stream)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "The file is not UTF-8 text. Save it as UTF-8 JSON or CSV and try again."
        ) from exc
    if not rows:
        raise InvalidInput("The file has no launches.")
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidInput(
            f"The file has {len(rows)} launches; at most {MAX_IMPORT_ROWS} per import. "
            "Split it and import the parts."
        )
    return rows


def _read_json_rows(stream: TextIO) -> list[dict[str, Any]]:
    text = stream.read(MAX_IMPORT_CHARS + 1).removeprefix("\ufeff")
    if len(text) > MAX_IMPORT_CHARS:
        raise InvalidInput(
            f"The file is larger than {MAX_IMPORT_CHARS // 1_000_000} MB, more than an "
            f"export of {MAX_IMPORT_ROWS} launches. Split it and import the parts."
        )
    try:
        loaded = _load_json(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    except RecursionError:
        raise InvalidInput(
            "The file is nested too deep to be a slipwatch export (lists or objects inside "
            "each other hundreds of times)."
        ) from None
    items = _launch_list(loaded)
    return [item if isinstance(item, dict) else {NOT_AN_OBJECT: item} for item in items]


def _launch_list(loaded: Any) -> list[Any]:
    """The list of launches in a loaded JSON file: the file itself, or its "launches" key."""
    if isinstance(loaded, dict):
        schema = loaded.get("schema")
        if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
            raise InvalidInput(
                f"The file was made by a newer slipwatch (schema {schema}); this one reads "
                f"schema {SCHEMA} and older. Update slipwatch, then import it."
            )
        if isinstance(loaded.get("launches"), list):
            loaded = loaded["launches"]
    if not isinstance(loaded, list):
        raise InvalidInput("The JSON file must be a list of launches, as /launch export makes.")
    return loaded


def _read_csv_rows(stream: TextIO) -> list[dict[str, Any]]:
    header = stream.readline().removeprefix("\ufeff")
    reader = csv.DictReader(itertools.chain([header], stream))
    if not reader.fieldnames:
        raise InvalidInput("The CSV file is empty: it needs a header row, then launches.")
    missing = [f for f in ("product", "vendor") if f not in reader.fieldnames]
    if missing:
        raise InvalidInput(
            f"The CSV header has no {', '.join(missing)} column. Start from a /launch export file."
        )
    rows: list[dict[str, Any]] = []
    try:
        for record in reader:
            if len(rows) >= MAX_IMPORT_ROWS:
                raise InvalidInput(
                    f"The file has more than {MAX_IMPORT_ROWS} launches; at most "
                    f"{MAX_IMPORT_ROWS} per import. Split it and import the parts."
                )
            rows.append({k: restore(v) if isinstance(v, str) else v for k, v in record.items()})
    except csv.Error as exc:
        raise InvalidInput(f"The CSV file cannot be read (line {reader.line_num}: {exc}).") from exc
    return rows


_SPACE = re.compile(r"[ \t\n\r]*")


def _load_json(text: str) -> Any:
    """json.loads, but a top-level list is decoded one item at a time: one C call over a
    5,000-launch file would hold the GIL (and so the event loop) for a quarter of a second."""
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        return json.loads(text)
    decoder = json.JSONDecoder()
    items: list[Any] = []
    pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            item, pos = decoder.raw_decode(text, pos)
            items.append(item)
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith(",", pos):
                pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
                continue
            if text.startswith("]", pos):
                pos += 1
                break
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    if pos != len(text):
        raise json.JSONDecodeError("Extra data", text, pos)
    return items
