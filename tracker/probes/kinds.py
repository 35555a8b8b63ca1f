"""The kinds of probe: what each one's target and pattern look like, which requests it makes,
and how an answer becomes evidence.

Patterns:

- models, anthropic-models, github: a wildcard pattern matched against the whole model id or
  tag, ignoring case. ``*`` stands for any run of characters and ``?`` for one:
  ``grok-3*`` matches grok-3, grok-3-beta and grok-3-mini; ``v2.*`` matches v2.0 and v2.1.3.
  Without a wildcard the id must match exactly.
- feed, page: text to look for, ignoring case and spacing; ``*`` stands for up to 200
  characters in between (``grok 3*available``). There are no regular expressions, on purpose:
  a pattern typed in a chat must not be able to stall the bot on a 2 MB page.
- huggingface: no pattern; the repository id is the target.

Feeds and pages report what is *new*: what already matches at the first successful poll is the
baseline and is not proposed. Model lists, Hugging Face and GitHub report what is *there*: a
model or tag that already exists when the probe starts is proposed at once.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import feedparser  # type: ignore[import-untyped]

from tracker.errors import InvalidInput
from tracker.probes import Probe, ProbeKind
from tracker.probes.fetch import ApiKey, Fetched

KINDS_TEXT = ", ".join(k.value for k in ProbeKind)
MAX_ID_PATTERN = 100
MAX_TEXT_PATTERN = 200
MAX_SPAN = 200  # how far apart the pieces of a text pattern may be
MAX_TITLE = 300
MAX_MATCHED = 300
MAX_EVIDENCE_URL = 500
MAX_ITEMS = 2000  # model ids / tags / feed entries looked at per answer
KEY_ENV_PREFIX = "SLIPWATCH_KEY_"
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_HF_REPO = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}")
_GH_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
ANTHROPIC_VERSION = "2023-06-01"


class ParseError(Exception):
    """An answer that is not what this kind of probe expects; ``str()`` is short."""


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Base addresses of the services with fixed hosts (overridable for tests and mirrors)."""

    huggingface: str = "https://huggingface.co"
    github_api: str = "https://api.github.com"
    github_web: str = "https://github.com"


@dataclass(frozen=True, slots=True)
class PlannedRequest:
    """One GET a probe makes per poll. ``name`` keys its stored ETag / Last-Modified;
    answers with a status in ``absent`` mean "not there yet" (no evidence, no failure)."""

    name: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    api_key: ApiKey | None = None
    absent: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Something a probe saw that may mean the launch shipped."""

    key: str  # unique per probe: a detection is proposed once per key
    title: str
    url: str | None
    matched: str
    published_at: dt.datetime | None = None


# --------------------------------------------------------------------------- options


def parse_kind(text: str | ProbeKind) -> ProbeKind:
    """The probe kind named by *text*, or InvalidInput listing the kinds."""
    try:
        return ProbeKind(str(text).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"Unknown probe kind {str(text)!r}. Choose one of: {KINDS_TEXT}."
        ) from None


def needs_key(kind: ProbeKind) -> bool:
    """Model lists need an API key; the other kinds read public pages."""
    return kind in (ProbeKind.MODELS, ProbeKind.ANTHROPIC_MODELS)


def check_key_env(kind: ProbeKind, name: str | None) -> str | None:
    """Validate the NAME of the environment variable holding a key (never the key itself).

    Only variables named SLIPWATCH_KEY_* can be used: the operator decides which keys probes may
    send, so a server manager cannot point a probe at their own site with, say, DISCORD_TOKEN."""
    name = (name or "").strip() or None
    example = (
        "SLIPWATCH_KEY_ANTHROPIC" if kind is ProbeKind.ANTHROPIC_MODELS else "SLIPWATCH_KEY_OPENAI"
    )
    if name is None:
        if needs_key(kind):
            raise InvalidInput(
                f"A {kind.value} probe needs an API key: give api_key_env, the NAME of the "
                f"environment variable that holds it, such as {example} (never the key itself)."
            )
        return None
    if kind not in (ProbeKind.MODELS, ProbeKind.ANTHROPIC_MODELS, ProbeKind.GITHUB):
        raise InvalidInput(f"A {kind.value} probe reads a public source; leave api_key_env empty.")
    if not _ENV_NAME.fullmatch(name) or len(name) > 100:
        raise InvalidInput(
            "api_key_env is the NAME of an environment variable (capital letters, digits and _), "
            f"such as {example}; never paste the key itself."
        )
    if not name.startswith(KEY_ENV_PREFIX) or name == KEY_ENV_PREFIX:
        raise InvalidInput(
            f"Probes can only use keys in variables named {KEY_ENV_PREFIX}..., such as {example}. "
            "Ask the bot's operator to add one to the bot's .env."
        )
    return name


def parse_target(kind: ProbeKind, target: str) -> tuple[str, str | None]:
    """Normalize a probe target. Returns (target, url_to_check): the URL whose address the
    service must check (None for repository ids, whose hosts are fixed by the operator)."""
    text = " ".join((target or "").split())
    if not text:
        raise InvalidInput(f"Please give the {_target_name(kind)} to watch, like {_example(kind)}.")
    if kind in (ProbeKind.MODELS, ProbeKind.ANTHROPIC_MODELS):
        if "://" not in text:
            raise InvalidInput(f"Give the API's base address with https://, like {_example(kind)}.")
        base = text.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        for suffix in ("/models", "/v1"):
            if base.lower().endswith(suffix):
                base = base[: -len(suffix)]
        return base, base
    if kind is ProbeKind.HUGGINGFACE:
        repo = _strip_site(text, ("huggingface.co/", "hf.co/"))
        if repo.startswith(("models/", "datasets/", "spaces/")) and repo.count("/") == 2:
            if not repo.startswith("models/"):
                raise InvalidInput(
                    "Hugging Face probes watch model repositories, like xai-org/grok-1."
                )
            repo = repo[len("models/") :]
        if not _HF_REPO.fullmatch(repo) or ".." in repo:
            raise InvalidInput(
                f"Give the Hugging Face repository as owner/name, like {_example(kind)}."
            )
        return repo, None
    if kind is ProbeKind.GITHUB:
        repo = _strip_site(text, ("github.com/",))
        parts = repo.split("/")
        if len(parts) > 2:
            repo = "/".join(parts[:2])
        repo = repo.removesuffix(".git")
        if not _GH_REPO.fullmatch(repo) or repo.split("/")[1] in (".", ".."):
            raise InvalidInput(f"Give the GitHub repository as owner/name, like {_example(kind)}.")
        return repo, None
    if "://" not in text:
        raise InvalidInput(f"Give the full address with https://, like {_example(kind)}.")
    return text, text


def parse_pattern(kind: ProbeKind, pattern: str | None) -> str:
    """Normalize a pattern for *kind* (see the module docstring), or InvalidInput with an
    example."""
    text = " ".join((pattern or "").split())
    if kind is ProbeKind.HUGGINGFACE:
        if text:
            raise InvalidInput(
                "A huggingface probe watches one repository and takes no pattern; leave it empty."
            )
        return ""
    if kind in (ProbeKind.MODELS, ProbeKind.ANTHROPIC_MODELS, ProbeKind.GITHUB):
        example = "v2.*" if kind is ProbeKind.GITHUB else "grok-3*"
        if not text:
            raise InvalidInput(
                f"Please give a pattern for the {_what_matched(kind)}, like {example}."
            )
        if " " in text or len(text) > MAX_ID_PATTERN:
            raise InvalidInput(
                f"A {kind.value} pattern is one word of at most {MAX_ID_PATTERN} characters, "
                f"with * as a wildcard, like {example}."
            )
        if not text.strip("*?"):
            raise InvalidInput(f"That pattern matches everything; be specific, like {example}.")
        return text
    if not text:
        raise InvalidInput('Please give the text to look for, like "Grok 3 is now available".')
    if len(text) > MAX_TEXT_PATTERN:
        raise InvalidInput(f"The text to look for is at most {MAX_TEXT_PATTERN} characters long.")
    if len("".join(TextPattern.of(text).pieces)) < 3:
        raise InvalidInput(
            'That text is too short to mean anything; try "Grok 3 is now available".'
        )
    return text


def _strip_site(text: str, sites: tuple[str, ...]) -> str:
    lowered = text.lower()
    for scheme in ("https://", "http://", ""):
        for site in sites:
            for www in ("www.", ""):
                prefix = scheme + www + site
                if lowered.startswith(prefix):
                    rest = text[len(prefix) :]
                    return rest.split("?", 1)[0].split("#", 1)[0].strip("/")
    return text.strip("/")


def _target_name(kind: ProbeKind) -> str:
    return {
        ProbeKind.MODELS: "API base address",
        ProbeKind.ANTHROPIC_MODELS: "API base address",
        ProbeKind.HUGGINGFACE: "Hugging Face repository",
        ProbeKind.GITHUB: "GitHub repository",
        ProbeKind.FEED: "feed address",
        ProbeKind.PAGE: "page address",
    }[kind]


def _example(kind: ProbeKind) -> str:
    return {
        ProbeKind.MODELS: "https://api.x.ai",
        ProbeKind.ANTHROPIC_MODELS: "https://api.anthropic.com",
        ProbeKind.HUGGINGFACE: "xai-org/grok-1",
        ProbeKind.GITHUB: "openai/openai-python",
        ProbeKind.FEED: "https://openai.com/news/rss.xml",
        ProbeKind.PAGE: "https://x.ai/news",
    }[kind]


def _what_matched(kind: ProbeKind) -> str:
    return "tag" if kind is ProbeKind.GITHUB else "model id"


# --------------------------------------------------------------------------- matching


def id_matches(pattern: str, value: str) -> bool:
    """Whole-string wildcard match of a model id or tag, ignoring case."""
    return fnmatch.fnmatchcase(value[:MAX_TITLE].casefold(), pattern.casefold())


@dataclass(frozen=True, slots=True)
class TextPattern:
    """Pieces of text that must appear in order, each within MAX_SPAN of the first; found with
    plain ``str.find`` (linear, no backtracking)."""

    pieces: tuple[str, ...]

    @classmethod
    def of(cls, pattern: str) -> TextPattern:
        """Split *pattern* at ``*``; case and spacing are ignored."""
        pieces = tuple(p for p in (" ".join(s.split()).lower() for s in pattern.split("*")) if p)
        return cls(pieces)

    def search(self, low: str) -> tuple[int, int] | None:
        """The span of the first match in *low* (already lower-cased and space-normalized)."""
        if not self.pieces:
            return None
        first, rest = self.pieces[0], self.pieces[1:]
        pos = 0
        for _ in range(10_000):  # bounded even on adversarial text
            start = low.find(first, pos)
            if start < 0:
                return None
            end = start + len(first)
            limit = start + len(first) + MAX_SPAN
            for piece in rest:
                found = low.find(piece, end, limit + len(piece))
                if found < 0:
                    break
                end = found + len(piece)
            else:
                return start, end
            pos = start + 1
        return None


def find_text(pattern: TextPattern, text: str) -> tuple[str, str] | None:
    """The first match in *text*: (the matched text itself, the match with a little context
    for people to read), or None."""
    normalized = " ".join(text.split())
    low = normalized.lower()
    span = pattern.search(low)
    if span is None:
        return None
    source = normalized if len(low) == len(normalized) else low
    start, end = span
    left, right = max(0, start - 60), min(len(source), end + 60)
    snippet = source[left:right]
    if left > 0:
        snippet = "…" + snippet
    if right < len(source):
        snippet += "…"
    return source[start:end], _cut(snippet, MAX_MATCHED)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _key(prefix: str, value: str) -> str:
    # Long or odd keys are hashed so the unique index stays small.
    if len(value) <= 200:
        return f"{prefix}:{value}"
    return f"{prefix}#{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def _http_url(value: object) -> str | None:
    if (
        isinstance(value, str)
        and value.startswith(("http://", "https://"))
        and len(value) <= MAX_EVIDENCE_URL
        and not any(c.isspace() for c in value)
    ):
        return value
    return None


# --------------------------------------------------------------------------- requests


def plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    """The GETs one poll of *probe* makes."""
    kind = probe.kind
    if kind is ProbeKind.MODELS:
        key = ApiKey(probe.api_key_env) if probe.api_key_env else None
        return [PlannedRequest("models", f"{probe.target}/v1/models", api_key=key)]
    if kind is ProbeKind.ANTHROPIC_MODELS:
        key = ApiKey(probe.api_key_env, "x-api-key", "") if probe.api_key_env else None
        return [
            PlannedRequest(
                "models",
                f"{probe.target}/v1/models?limit=1000",
                headers={"anthropic-version": ANTHROPIC_VERSION},
                api_key=key,
            )
        ]
    if kind is ProbeKind.HUGGINGFACE:
        base = endpoints.huggingface.rstrip("/")
        return [
            PlannedRequest(
                "repo", f"{base}/api/models/{probe.target}", absent=frozenset({401, 403, 404})
            )
        ]
    if kind is ProbeKind.GITHUB:
        base = endpoints.github_api.rstrip("/")
        key = ApiKey(probe.api_key_env) if probe.api_key_env else None
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        absent = frozenset({404})
        return [
            PlannedRequest(
                name,
                f"{base}/repos/{probe.target}/{name}?per_page=100",
                headers=headers,
                api_key=key,
                absent=absent,
            )
            for name in ("releases", "tags")
        ]
    if kind is ProbeKind.FEED:
        accept = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
        return [PlannedRequest("feed", probe.target, headers={"Accept": accept})]
    return [PlannedRequest("page", probe.target, headers={"Accept": "text/html, */*;q=0.5"})]


# --------------------------------------------------------------------------- parsing


def parse(
    probe: Probe, request: PlannedRequest, answer: Fetched, endpoints: Endpoints
) -> list[Evidence]:
    """Evidence in a 2xx answer to one planned request (CPU only; ParseError when the answer
    is not what this kind expects)."""
    kind = probe.kind
    if kind in (ProbeKind.MODELS, ProbeKind.ANTHROPIC_MODELS):
        return _models(probe, answer)
    if kind is ProbeKind.HUGGINGFACE:
        return _huggingface(probe, answer, endpoints)
    if kind is ProbeKind.GITHUB:
        return _github(probe, request, answer, endpoints)
    if kind is ProbeKind.FEED:
        return _feed(probe, answer)
    return _page(probe, answer)


def _json(answer: Fetched) -> Any:
    try:
        return json.loads(answer.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"the answer is not JSON ({type(exc).__name__})") from exc


def _models(probe: Probe, answer: Fetched) -> list[Evidence]:
    data = _json(answer)
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ParseError('the answer has no model list ("data")')
    found: list[Evidence] = []
    for item in items[:MAX_ITEMS]:
        if not isinstance(item, dict):
            continue
        model_id = item.get("id")
        if not isinstance(model_id, str) or not id_matches(probe.pattern, model_id):
            continue
        found.append(
            Evidence(
                key=_key("model", model_id),
                title=_cut(model_id, MAX_TITLE),
                url=answer.url,
                matched=_cut(model_id, MAX_MATCHED),
                published_at=_when(item.get("created") or item.get("created_at")),
            )
        )
    return found


def _huggingface(probe: Probe, answer: Fetched, endpoints: Endpoints) -> list[Evidence]:
    data = _json(answer)
    if not isinstance(data, dict):
        raise ParseError("the answer is not a Hugging Face model")
    repo_id = data.get("id") or data.get("modelId")
    if not isinstance(repo_id, str):
        raise ParseError("the answer is not a Hugging Face model")
    if data.get("private") is True or data.get("disabled") is True:
        return []
    gated = data.get("gated")
    note = f"{repo_id} is public" + (f" (gated: {gated})" if gated not in (None, False) else "")
    return [
        Evidence(
            key=_key("hf", probe.target.lower()),
            title=_cut(repo_id, MAX_TITLE),
            url=_http_url(f"{endpoints.huggingface.rstrip('/')}/{repo_id}"),
            matched=_cut(note, MAX_MATCHED),
        )
    ]


def _github(
    probe: Probe, request: PlannedRequest, answer: Fetched, endpoints: Endpoints
) -> list[Evidence]:
    data = _json(answer)
    if not isinstance(data, list):
        raise ParseError(f"the answer is not a list of {request.name}")
    web = f"{endpoints.github_web.rstrip('/')}/{probe.target}"
    found: list[Evidence] = []
    for item in data[:MAX_ITEMS]:
        if not isinstance(item, dict):
            continue
        if request.name == "releases":
            tag, name = item.get("tag_name"), item.get("name")
            if not isinstance(tag, str) or item.get("draft") is True:
                continue
            label = name if isinstance(name, str) and name else tag
            if not (id_matches(probe.pattern, tag) or id_matches(probe.pattern, label)):
                continue
            url = _http_url(item.get("html_url")) or _http_url(
                f"{web}/releases/tag/{quote(tag, safe='')}"
            )
            suffix = " (pre-release)" if item.get("prerelease") is True else ""
            found.append(
                Evidence(
                    key=_key("tag", tag),
                    title=_cut(f"{label}{suffix}", MAX_TITLE),
                    url=url,
                    matched=_cut(tag, MAX_MATCHED),
                    published_at=_when(item.get("published_at")),
                )
            )
        else:
            tag = item.get("name")
            if not isinstance(tag, str) or not id_matches(probe.pattern, tag):
                continue
            found.append(
                Evidence(
                    key=_key("tag", tag),
                    title=_cut(tag, MAX_TITLE),
                    url=_http_url(f"{web}/releases/tag/{quote(tag, safe='')}"),
                    matched=_cut(tag, MAX_MATCHED),
                )
            )
    return found


def _feed(probe: Probe, answer: Fetched) -> list[Evidence]:
    # A stream, never a string: feedparser fetches URLs and opens files given as strings.
    parsed = feedparser.parse(
        io.BytesIO(answer.body),
        response_headers={"content-type": answer.content_type, "content-location": answer.url},
    )
    entries = parsed.get("entries") or []
    if parsed.get("bozo") and not entries and not parsed.get("version"):
        raise ParseError("the answer is not an RSS or Atom feed")
    pattern = TextPattern.of(probe.pattern)
    found: list[Evidence] = []
    for entry in entries[:MAX_ITEMS]:
        title = html_text(str(entry.get("title") or ""))
        summary = html_text(str(entry.get("summary") or ""))
        found_text = find_text(pattern, title) or find_text(pattern, summary)
        if found_text is None:
            continue
        matched = found_text[1]
        link = _http_url(entry.get("link"))
        ident = str(entry.get("id") or link or title)
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        found.append(
            Evidence(
                key=_key("entry", ident),
                title=_cut(title or matched, MAX_TITLE),
                url=link or _http_url(answer.url),
                matched=matched,
                published_at=_struct_time(published),
            )
        )
    return found


def _page(probe: Probe, answer: Fetched) -> list[Evidence]:
    text = html_text(decode_html(answer.body, answer.content_type))
    found_text = find_text(TextPattern.of(probe.pattern), text)
    if found_text is None:
        return []
    # Keyed on the matched text only, not its context: a timestamp next to it that changes at
    # every poll must not make the same news new again.
    core, matched = found_text[0].lower(), found_text[1]
    return [
        Evidence(
            key=_key("text", hashlib.sha256(core.encode()).hexdigest()[:32]),
            title=_cut(matched, MAX_TITLE),
            url=_http_url(answer.url),
            matched=matched,
        )
    ]


def _when(value: object) -> dt.datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2**33:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(dt.UTC) if parsed.tzinfo else None
    return None


def _struct_time(value: object) -> dt.datetime | None:
    if isinstance(value, time.struct_time):
        try:
            return dt.datetime(*value[:6], tzinfo=dt.UTC)
        except ValueError:
            return None
    return None


# --------------------------------------------------------------------------- HTML


def decode_html(body: bytes, content_type: str) -> str:
    """Bytes of a page as text: the charset of the Content-Type, else of a <meta>, else
    UTF-8 (undecodable bytes replaced)."""
    charset = None
    match = re.search(r"charset=([A-Za-z0-9_.:-]{1,40})", content_type or "", re.IGNORECASE)
    if match:
        charset = match.group(1)
    else:
        meta = _META_CHARSET.search(body[:4096])
        if meta:
            charset = meta.group(1).decode("ascii", "replace")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


class _TextExtractor(HTMLParser):
    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
    BLOCK = frozenset(
        {
            "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
            "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
            "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "title",
            "tr", "ul",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Enter a skipped element, or separate a block's words from its neighbours'."""
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        """Leave a skipped element, or end a block."""
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        """Keep visible text."""
        if not self._skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """The visible text of an HTML document or fragment, spacing collapsed (stdlib parser)."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.parts).split())
