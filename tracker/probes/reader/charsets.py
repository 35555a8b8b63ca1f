"""Which text encoding a body is decoded with: only well-known ones. A page declaring an odd
codec (the "punycode" one decodes in quadratic time) is read as UTF-8."""

from __future__ import annotations

import codecs
import re

# Codec names (as codecs.lookup() spells them) that are read as declared.
KNOWN_ENCODINGS = frozenset(
    {
        "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
        "utf-32-be", "ascii", "iso8859-1", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5",
        "iso8859-6", "iso8859-7", "iso8859-8", "iso8859-9", "iso8859-10", "iso8859-13",
        "iso8859-14", "iso8859-15", "iso8859-16", "cp1250", "cp1251", "cp1252", "cp1253",
        "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "koi8-r", "koi8-u", "shift_jis",
        "cp932", "euc_jp", "iso2022_jp", "gb2312", "gbk", "gb18030", "big5", "euc_kr", "cp949",
    }
)  # fmt: skip

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})""")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def charset_of(body: bytes, content_type: str, *, xml: bool = False) -> str:
    """The well-known codec to decode *body* with: a byte-order mark, the Content-Type's
    charset, the XML declaration's or a <meta>'s; UTF-8 otherwise or when the declared one is
    not well known."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    declared = _CHARSET.search(content_type.encode("latin-1", "replace"))
    if declared is None:
        head = body[:4096]
        declared = _XML_ENCODING.search(head) if xml else None
        declared = declared or _CHARSET.search(head)
    if declared is None:
        return "utf-8"
    name = declared.group(1).decode("ascii", "replace")
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return "utf-8"
    return codec if codec in KNOWN_ENCODINGS else "utf-8"


def decode(body: bytes, content_type: str, *, xml: bool = False) -> str:
    """*body* as text (see :func:`charset_of`); undecodable bytes are replaced."""
    return body.decode(charset_of(body, content_type, xml=xml), errors="replace")
