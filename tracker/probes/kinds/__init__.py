"""The kinds of probe: what each one's target and pattern look like, which requests it makes,
and how an answer becomes evidence. One module per kind (models, anthropic_models,
huggingface, github, feed, page) defines its :class:`KindSpec`; this module is the registry and
the API the probe service calls.

Patterns (see tracker.probes.match for the exact rules; without one, the launch's product
name is the pattern):

- models, anthropic-models: a model id, display name or alias, ignoring case, separators and
  snapshot dates ("grok-3" finds grok-3-1212 and "Grok 3", not grok-3-mini); ``*`` and ``?``
  are wildcards ("grok-3*").
- github: a tag ("v2.0.0", "v2.*") or a release name ("Grok 1"); pre-releases and drafts are
  not releases unless the probe tracks a beta.
- feed, page: the name as text ("Grok 3" also finds "Grok-3" and "grok3"; ``*`` stands for up
  to 200 characters in between). No regular expressions, on purpose: a pattern typed in a chat
  must not be able to stall the bot on a 2 MB page. Each sentence naming the launch is read as
  a release, a promise or neither (tracker.probes.classify).
- huggingface: no pattern; the repository id is the target.

Feeds and pages report what is *new*, except releases: at the first poll a release already
there is reported (so /launch watch can say "already out"), while promises are the baseline.
Model lists, Hugging Face and GitHub report what is *there*: a model or tag that already
exists when the probe starts is proposed at once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from tracker.errors import InvalidInput
from tracker.probes import Probe, ProbeKind
from tracker.probes.fetch import Fetched
from tracker.probes.kinds import (
    anthropic_models,
    feed,
    github,
    huggingface,
    models,
    page,
)
from tracker.probes.kinds.matching import (
    MAX_ID_PATTERN,
    MAX_TEXT_PATTERN,
    IdPattern,
    TextPattern,
)
from tracker.probes.kinds.records import (
    MAX_EVIDENCE_URL,
    MAX_ITEMS,
    MAX_MATCHED,
    MAX_TITLE,
    Endpoints,
    Evidence,
    KindSpec,
    ParseError,
    PlannedRequest,
)
from tracker.probes.reader import Read, Reading, read_body

__all__ = [
    "KEY_ENV_PREFIX",
    "KINDS",
    "KINDS_TEXT",
    "MAX_EVIDENCE_URL",
    "MAX_ID_PATTERN",
    "MAX_ITEMS",
    "MAX_MATCHED",
    "MAX_TEXT_PATTERN",
    "MAX_TITLE",
    "Endpoints",
    "Evidence",
    "IdPattern",
    "KindSpec",
    "ParseError",
    "PlannedRequest",
    "Read",
    "Reading",
    "TextPattern",
    "check_key_env",
    "follow",
    "needs_key",
    "parse",
    "parse_kind",
    "parse_pattern",
    "parse_target",
    "pattern_help",
    "plan",
    "read_answer",
    "reads",
    "spec",
]

KINDS: Mapping[ProbeKind, KindSpec] = {
    module.KIND.kind: module.KIND
    for module in (models, anthropic_models, huggingface, github, feed, page)
}
KINDS_TEXT = ", ".join(k.value for k in ProbeKind)
KEY_ENV_PREFIX = "SLIPWATCH_KEY_"
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


def spec(kind: ProbeKind) -> KindSpec:
    """The specification of *kind*."""
    return KINDS[kind]


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
    return KINDS[kind].key.required


def check_key_env(kind: ProbeKind, name: str | None) -> str | None:
    """Validate the NAME of the environment variable holding a key (never the key itself).

    Only variables named SLIPWATCH_KEY_* can be used: the operator decides which keys probes may
    send, so a server manager cannot point a probe at their own site with, say, DISCORD_TOKEN."""
    name = (name or "").strip() or None
    key = KINDS[kind].key
    example = key.example
    if name is None:
        if key.required:
            raise InvalidInput(
                f"A {kind.value} probe needs an API key: give api_key_env, the NAME of the "
                f"environment variable that holds it, such as {example} (never the key itself)."
            )
        return None
    if not key.allowed:
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
    if name.endswith("_HOSTS"):
        raise InvalidInput(
            f"{name} lists the hosts a key may be sent to; it is not a key. Give the key's own "
            f"variable, such as {example}."
        )
    return name


def parse_target(kind: ProbeKind, target: str) -> tuple[str, str | None]:
    """Normalize a probe target. Returns (target, url_to_check): the URL whose address the
    service must check (None for repository ids, whose hosts are fixed by the operator)."""
    text = " ".join((target or "").split())
    kind_spec = KINDS[kind]
    if not text:
        raise InvalidInput(
            f"Please give the {kind_spec.target_name} to watch, like {kind_spec.example}."
        )
    return kind_spec.parse_target(text)


def parse_pattern(kind: ProbeKind, pattern: str | None, default: str | None = None) -> str:
    """Normalize a pattern for *kind* (see the module docstring), or InvalidInput with
    examples that work for the kind. Without a pattern, *default* (the launch's product name)
    is the pattern of every kind that takes one."""
    text = " ".join((pattern or "").split())
    if not text and default and kind is not ProbeKind.HUGGINGFACE:
        text = " ".join(default.split())
    return KINDS[kind].parse_pattern(text)


def pattern_help(kind: ProbeKind) -> str:
    """Patterns that work for *kind*, for help texts and refusals."""
    return KINDS[kind].pattern_help


def plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    """The GETs one poll of *probe* makes."""
    return KINDS[probe.kind].plan(probe, endpoints)


def reads(kind: ProbeKind) -> Reading:
    """What *kind*'s answers are read as (JSON, a feed, a page), before :func:`parse`."""
    return KINDS[kind].reads


def parse(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints, today: dt.date
) -> list[Evidence]:
    """Evidence in a 2xx answer to one planned request, already read into plain data (CPU
    only; ParseError when the answer is not what this kind expects). *today* is the day
    promises' windows are read on."""
    return KINDS[probe.kind].parse(probe, request, answer, endpoints, today)


def follow(probe: Probe, request: PlannedRequest, answer: Read) -> PlannedRequest | None:
    """The request for the next page of a paginated answer, or None."""
    follower = KINDS[probe.kind].follow
    return follower(probe, request, answer) if follower is not None else None


def read_answer(
    probe: Probe, request: PlannedRequest, answer: Fetched, endpoints: Endpoints, today: dt.date
) -> tuple[list[Evidence], PlannedRequest | None]:
    """A 2xx answer from bytes to evidence: read as the kind says (:func:`reads`), parsed
    (:func:`parse`), and the next page's request (:func:`follow`). Every step costs CPU in
    proportion to the body (a 2 MB page of text is matched word by word), so the probe service
    runs this in a reader worker process, within its budget and its server's share of the
    workers: ``await reader.run(read_answer, ..., owner=guild_id)``."""
    data = read_body(KINDS[probe.kind].reads, answer.body, answer.content_type)
    read = Read(answer.url, answer.content_type, data)
    return parse(probe, request, read, endpoints, today), follow(probe, request, read)
