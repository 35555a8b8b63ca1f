"""Reading an uploaded file into raw launch records: the file as a whole is checked here (text,
size, layout, row count); each record's fields are checked by tracker.transfer.planning."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zlib
from collections.abc import Iterator
from typing import Any, TextIO

from tracker.errors import InvalidInput
from tracker.transfer.formats import SCHEMA, TransferFormat, restore

__all__ = [
    "MAX_IMPORT_CHARS",
    "MAX_IMPORT_ROWS",
    "MAX_UNPACKED_BYTES",
    "NOT_AN_OBJECT",
    "decode",
    "is_gzip",
    "iter_rows",
    "read_rows",
    "unpack",
]

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_CHARS = 64_000_000  # a JSON file is read whole: at most this many characters
GZIP_MAGIC = b"\x1f\x8b"
# A gzip upload is unpacked at most this far (a JSON export is read whole up to MAX_IMPORT_CHARS).
MAX_UNPACKED_BYTES = MAX_IMPORT_CHARS
# The key under which a JSON list item that is not an object is kept, to be reported by row.
NOT_AN_OBJECT = "__not_an_object__"


def is_gzip(data: bytes) -> bool:
    """Whether *data* is a gzip file (as /launch export sends a file too big for Discord)."""
    return data.startswith(GZIP_MAGIC)


def unpack(data: bytes) -> bytes:
    """The file inside gzip *data*, read at most MAX_UNPACKED_BYTES far: a small upload that
    unpacks to gigabytes (a zip bomb) is refused without ever being unpacked whole."""
    unpacked: list[bytes] = []
    size = 0
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=31)  # gzip only
        try:
            part = inflater.decompress(rest, MAX_UNPACKED_BYTES + 1 - size)
        except zlib.error as exc:
            raise InvalidInput(
                f"The .gz file is damaged ({exc}). Export again, or unpack it yourself and "
                "upload the file inside."
            ) from exc
        size += len(part)
        unpacked.append(part)
        if size > MAX_UNPACKED_BYTES:
            raise InvalidInput(
                f"The .gz file unpacks to more than {MAX_UNPACKED_BYTES // 1_000_000} MB, more "
                f"than an export of {MAX_IMPORT_ROWS} launches. Split it and import the parts."
            )
        if not inflater.eof:
            raise InvalidInput(
                "The .gz file is cut short (it ends before its content does). Upload the whole "
                "file again."
            )
        rest = inflater.unused_data  # gzip allows several members, one after another
    return b"".join(unpacked)


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
    order: every record of :func:`iter_rows` at once."""
    rows = list(iter_rows(text, fmt))
    if not rows:
        raise InvalidInput("The file has no launches.")
    return rows


def iter_rows(text: str | TextIO, fmt: TransferFormat) -> Iterator[dict[str, Any]]:
    """The launch records of a file, one at a time, in file order, so that a big file is
    checked a part at a time and never held as records whole. InvalidInput (when the iteration
    reaches it) when the file as a whole cannot be read (not JSON, no header, too large, not
    UTF-8) and at the first record past MAX_IMPORT_ROWS; row problems are left to
    :func:`tracker.transfer.planning.plan_import`. A JSON stream is refused past
    MAX_IMPORT_CHARS. An empty file yields nothing (the caller says so)."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    records = _json_rows(stream) if fmt is TransferFormat.JSON else _csv_rows(stream)
    count = 0
    try:
        for record in records:
            if count >= MAX_IMPORT_ROWS:
                raise InvalidInput(
                    f"The file has more than {MAX_IMPORT_ROWS} launches; at most "
                    f"{MAX_IMPORT_ROWS} per import. Split it and import the parts."
                )
            count += 1
            yield record
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "The file is not UTF-8 text. Save it as UTF-8 JSON or CSV and try again."
        ) from exc


def _json_rows(stream: TextIO) -> Iterator[dict[str, Any]]:
    text = stream.read(MAX_IMPORT_CHARS + 1).removeprefix("\ufeff")
    if len(text) > MAX_IMPORT_CHARS:
        raise InvalidInput(
            f"The file is larger than {MAX_IMPORT_CHARS // 1_000_000} MB, more than an "
            f"export of {MAX_IMPORT_ROWS} launches. Split it and import the parts."
        )
    try:
        for item in _json_items(text):
            yield item if isinstance(item, dict) else {NOT_AN_OBJECT: item}
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    except RecursionError:
        raise InvalidInput(
            "The file is nested too deep to be a slipwatch export (lists or objects inside "
            "each other hundreds of times)."
        ) from None


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


def _csv_rows(stream: TextIO) -> Iterator[dict[str, Any]]:
    header = stream.readline().removeprefix("\ufeff")
    reader = csv.DictReader(itertools.chain([header], stream))
    if not reader.fieldnames:
        raise InvalidInput("The CSV file is empty: it needs a header row, then launches.")
    missing = [f for f in ("product", "vendor") if f not in reader.fieldnames]
    if missing:
        raise InvalidInput(
            f"The CSV header has no {', '.join(missing)} column. Start from a /launch export file."
        )
    try:
        for record in reader:
            yield {k: restore(v) if isinstance(v, str) else v for k, v in record.items()}
    except csv.Error as exc:
        raise InvalidInput(f"The CSV file cannot be read (line {reader.line_num}: {exc}).") from exc


_SPACE = re.compile(r"[ \t\n\r]*")


def _json_items(text: str) -> Iterator[Any]:
    """The launches of a JSON file: a top-level list is decoded one item at a time (one C call
    over a 5,000-launch file would hold the GIL, and so the event loop, for a quarter of a
    second; and the items are checked as they come); any other file is loaded whole."""
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        yield from _launch_list(json.loads(text))
        return
    decoder = json.JSONDecoder()
    pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            item, pos = decoder.raw_decode(text, pos)
            yield item
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
