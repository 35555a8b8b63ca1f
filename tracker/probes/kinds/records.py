"""What every kind of probe shares: the request plan, the evidence record, the parse error, the
kind's specification (:class:`KindSpec`) and the small helpers parsers use to keep evidence short
and safe."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from tracker.probes import Probe, ProbeKind, Verdict
from tracker.probes.fetch import ApiKey
from tracker.probes.reader import Read, Reading
from tracker.windows import Window

MAX_TITLE = 300
MAX_MATCHED = 300
MAX_EVIDENCE_URL = 500
MAX_ITEMS = 2000  # model ids / tags / feed entries looked at per answer


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
    # A text probe's reading: a release (proposed as shipped) or a promise with its window
    # (proposed as a re-dating when the window is new), read on read_on.
    verdict: Verdict = Verdict.RELEASE
    window: Window | None = None
    read_on: dt.date | None = None
    # GitHub: a tag seen only in the tag list is *weak* evidence, dropped when the releases
    # say that tag is a draft or a pre-release (a *veto*, remembered across polls, since the
    # release list may answer 304 while the tag list changes).
    weak: bool = False
    veto: bool = False


@dataclass(frozen=True, slots=True)
class KeyUse:
    """Whether a kind sends an API key: ``required`` kinds refuse to be added without one,
    ``allowed`` kinds may have one; ``example`` names a variable in refusals."""

    required: bool = False
    allowed: bool = False
    example: str = "SLIPWATCH_KEY_OPENAI"


Planner = Callable[[Probe, Endpoints], list[PlannedRequest]]
# A parser turns an answer already read into plain data (JSON, feed, page text: see
# tracker/probes/reader/) into evidence; it never sees the bytes, and it runs in a reader worker
# process with the read (kinds.read_answer). *today* (the last argument) is the day a promise's
# window is read on.
Parser = Callable[[Probe, PlannedRequest, Read, Endpoints, dt.date], list[Evidence]]
# The next page of a paginated answer (model lists: has_more / last_id), or None.
Follower = Callable[[Probe, PlannedRequest, Read], PlannedRequest | None]


@dataclass(frozen=True, slots=True)
class KindSpec:
    """Everything that makes one kind of probe: how its target and pattern are read, which
    requests one poll makes and how an answer becomes evidence. One module per kind defines
    one of these as ``KIND``; adding a kind is a new module and a line in the registry."""

    kind: ProbeKind
    target_name: str  # "GitHub repository": used in refusals
    example: str  # an example target: used in refusals
    key: KeyUse
    parse_target: Callable[[str], tuple[str, str | None]]
    parse_pattern: Callable[[str], str]
    plan: Planner
    parse: Parser
    reads: Reading = Reading.JSON  # what the answers are read as, in a worker process
    follow: Follower | None = None
    # What /launch watch's help and refusals show as patterns that work for this kind.
    pattern_help: str = ""


def evidence_key(prefix: str, value: str) -> str:
    """A detection's unique key; long or odd values are hashed so the unique index stays
    small."""
    if len(value) <= 200:
        return f"{prefix}:{value}"
    return f"{prefix}#{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def http_url(value: object) -> str | None:
    """*value* when it is a plain http(s) URL short enough to show, else None."""
    if (
        isinstance(value, str)
        and value.startswith(("http://", "https://"))
        and len(value) <= MAX_EVIDENCE_URL
        and not any(c.isspace() for c in value)
    ):
        return value
    return None


def when(value: object) -> dt.datetime | None:
    """A source's own date (epoch seconds or ISO 8601 with a zone), or None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2**33:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed.astimezone(dt.UTC) if parsed.tzinfo else None
    return None


def strip_site(text: str, sites: tuple[str, ...]) -> str:
    """*text* without a leading scheme, www. and one of *sites*, query and fragment."""
    lowered = text.lower()
    for scheme in ("https://", "http://", ""):
        for site in sites:
            for www in ("www.", ""):
                prefix = scheme + www + site
                if lowered.startswith(prefix):
                    rest = text[len(prefix) :]
                    return rest.split("?", 1)[0].split("#", 1)[0].strip("/")
    return text.strip("/")
