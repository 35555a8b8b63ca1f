"""models: an OpenAI-compatible model list, GET {base}/v1/models (OpenAI, xAI, Mistral, ...).

The pattern names the model by id, display name or alias, ignoring case, separators and
snapshot dates (``grok-3``, ``Claude 3.5 Haiku``), or with wildcards (``grok-3*``); pages of a
list that says ``has_more`` are followed. A model that already exists when the probe starts is
proposed at once: the list reports what is *there*."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tracker.errors import InvalidInput
from tracker.probes import Probe, ProbeKind
from tracker.probes.fetch import ApiKey
from tracker.probes.kinds.matching import IdPattern, id_pattern_reader
from tracker.probes.kinds.records import (
    MAX_ITEMS,
    MAX_MATCHED,
    MAX_TITLE,
    Endpoints,
    Evidence,
    KeyUse,
    KindSpec,
    ParseError,
    PlannedRequest,
    evidence_key,
    when,
)
from tracker.probes.reader import Read
from tracker.text import cut

MAX_PAGES = 20
MODEL_EXAMPLES = (
    '"grok-3" (also finds grok-3-1212 and "Grok 3"; not grok-3-mini) or "grok-3*" (all of them)'
)


def read_api_base(example: str) -> Callable[[str], tuple[str, str | None]]:
    """The target reader of the model-list kinds: an API base address, without /v1/models."""

    def read(text: str) -> tuple[str, str | None]:
        if "://" not in text:
            raise InvalidInput(f"Give the API's base address with https://, like {example}.")
        base = text.split("?", 1)[0].split("#", 1)[0].rstrip("/")
        for suffix in ("/models", "/v1"):
            if base.lower().endswith(suffix):
                base = base[: -len(suffix)]
        return base, base

    return read


def _names(item: dict[str, Any]) -> list[str]:
    """The names a model list gives one model: its id, display name (Anthropic), name and
    aliases (Mistral)."""
    names = [item.get("id"), item.get("display_name"), item.get("name")]
    aliases = item.get("aliases")
    if isinstance(aliases, list):
        names.extend(aliases[:20])
    return [n for n in names if isinstance(n, str) and n]


def parse_model_list(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints, today: dt.date
) -> list[Evidence]:
    """The models in a ``{"data": [{"id": ...}, ...]}`` answer whose id, display name or alias
    the pattern names (see tracker.probes.match)."""
    data = answer.data
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ParseError('the answer has no model list ("data")')
    pattern = IdPattern(probe.pattern, beta=probe.prereleases)
    found: list[Evidence] = []
    for item in items[:MAX_ITEMS]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        names = _names(item)
        matched = next((n for n in names if pattern.matches(n)), None)
        if matched is None:
            continue
        model_id = names[0]
        display = item.get("display_name")
        title = f"{model_id} ({display})" if isinstance(display, str) and display else model_id
        found.append(
            Evidence(
                key=evidence_key("model", model_id),
                title=cut(title, MAX_TITLE),
                url=answer.url,
                matched=cut(matched, MAX_MATCHED),
                published_at=when(item.get("created") or item.get("created_at")),
            )
        )
    return found


def follow_model_list(
    probe: Probe, request: PlannedRequest, answer: Read, cursor: str = "after"
) -> PlannedRequest | None:
    """The next page of a model list that says ``has_more`` (OpenAI-style lists take
    ``after=<last id>``, Anthropic's ``after_id=``), or None on the last page."""
    data = answer.data
    if not isinstance(data, dict) or data.get("has_more") is not True:
        return None
    last = data.get("last_id")
    if not isinstance(last, str) or not last:
        items = data.get("data")
        last = (
            items[-1].get("id")
            if isinstance(items, list) and items and isinstance(items[-1], dict)
            else None
        )
    if not isinstance(last, str) or not last or len(last) > 200:
        return None
    page = request.name.rsplit(".p", 1)
    number = int(page[1]) + 1 if len(page) == 2 and page[1].isdigit() else 2
    if number > MAX_PAGES:
        return None
    parts = urlsplit(request.url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != cursor] + [(cursor, last)]
    url = urlunsplit(parts._replace(query=urlencode(query)))
    return dataclasses.replace(request, name=f"{page[0]}.p{number}", url=url)


def _follow(probe: Probe, request: PlannedRequest, answer: Read) -> PlannedRequest | None:
    return follow_model_list(probe, request, answer, "after")


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    key = ApiKey(probe.api_key_env) if probe.api_key_env else None
    return [PlannedRequest("models", f"{probe.target}/v1/models", api_key=key)]


KIND = KindSpec(
    kind=ProbeKind.MODELS,
    target_name="API base address",
    example="https://api.x.ai",
    key=KeyUse(required=True, allowed=True, example="SLIPWATCH_KEY_OPENAI"),
    parse_target=read_api_base("https://api.x.ai"),
    parse_pattern=id_pattern_reader(ProbeKind.MODELS, MODEL_EXAMPLES, "model id"),
    plan=_plan,
    parse=parse_model_list,
    follow=_follow,
    pattern_help=MODEL_EXAMPLES,
)
