"""The kinds of probe: what each one's target and pattern look like, which requests it makes,
and how an answer becomes evidence. One module per kind (models, anthropic_models,
huggingface, github, feed, page) defines its :class:`KindSpec`; this module is the registry and
the API the probe service calls.

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

import re
from collections.abc import Mapping

from tracker.errors import InvalidInput
from tracker.probes import Probe, ProbeKind
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
    MAX_SPAN,
    MAX_TEXT_PATTERN,
    TextPattern,
    find_text,
    id_matches,
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
from tracker.probes.reader import Read, Reading

__all__ = [
    "KEY_ENV_PREFIX",
    "KINDS",
    "KINDS_TEXT",
    "MAX_EVIDENCE_URL",
    "MAX_ID_PATTERN",
    "MAX_ITEMS",
    "MAX_MATCHED",
    "MAX_SPAN",
    "MAX_TEXT_PATTERN",
    "MAX_TITLE",
    "Endpoints",
    "Evidence",
    "KindSpec",
    "ParseError",
    "PlannedRequest",
    "Read",
    "Reading",
    "TextPattern",
    "check_key_env",
    "find_text",
    "id_matches",
    "needs_key",
    "parse",
    "parse_kind",
    "parse_pattern",
    "parse_target",
    "plan",
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


def parse_pattern(kind: ProbeKind, pattern: str | None) -> str:
    """Normalize a pattern for *kind* (see the module docstring), or InvalidInput with an
    example."""
    return KINDS[kind].parse_pattern(" ".join((pattern or "").split()))


def plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    """The GETs one poll of *probe* makes."""
    return KINDS[probe.kind].plan(probe, endpoints)


def reads(kind: ProbeKind) -> Reading:
    """What *kind*'s answers are read as (JSON, a feed, a page), before :func:`parse`."""
    return KINDS[kind].reads


def parse(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints
) -> list[Evidence]:
    """Evidence in a 2xx answer to one planned request, already read into plain data (CPU
    only; ParseError when the answer is not what this kind expects)."""
    return KINDS[probe.kind].parse(probe, request, answer, endpoints)
