"""models: an OpenAI-compatible model list, GET {base}/v1/models (OpenAI, xAI, Mistral, ...).

The pattern is a wildcard matched against whole model ids (``grok-3*``). A model that already
exists when the probe starts is proposed at once: the list reports what is *there*."""

from __future__ import annotations

from collections.abc import Callable

from tracker.errors import InvalidInput
from tracker.probes import Probe, ProbeKind
from tracker.probes.fetch import ApiKey
from tracker.probes.kinds.matching import id_matches, id_pattern_reader
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


def parse_model_list(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints
) -> list[Evidence]:
    """The model ids in a ``{"data": [{"id": ...}, ...]}`` answer that match the pattern."""
    data = answer.data
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
                key=evidence_key("model", model_id),
                title=cut(model_id, MAX_TITLE),
                url=answer.url,
                matched=cut(model_id, MAX_MATCHED),
                published_at=when(item.get("created") or item.get("created_at")),
            )
        )
    return found


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    key = ApiKey(probe.api_key_env) if probe.api_key_env else None
    return [PlannedRequest("models", f"{probe.target}/v1/models", api_key=key)]


KIND = KindSpec(
    kind=ProbeKind.MODELS,
    target_name="API base address",
    example="https://api.x.ai",
    key=KeyUse(required=True, allowed=True, example="SLIPWATCH_KEY_OPENAI"),
    parse_target=read_api_base("https://api.x.ai"),
    parse_pattern=id_pattern_reader(ProbeKind.MODELS, "grok-3*", "model id"),
    plan=_plan,
    parse=parse_model_list,
)
