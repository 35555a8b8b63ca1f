"""anthropic-models: Anthropic's model list, GET {base}/v1/models with its own key header and
API version; read like an OpenAI-compatible list."""

from __future__ import annotations

from tracker.probes import Probe, ProbeKind
from tracker.probes.fetch import ApiKey
from tracker.probes.kinds.matching import id_pattern_reader
from tracker.probes.kinds.models import (
    follow_model_list,
    parse_model_list,
    read_api_base,
)
from tracker.probes.kinds.records import Endpoints, KeyUse, KindSpec, PlannedRequest
from tracker.probes.reader import Read

ANTHROPIC_VERSION = "2023-06-01"


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    key = ApiKey(probe.api_key_env, "x-api-key", "") if probe.api_key_env else None
    return [
        PlannedRequest(
            "models",
            f"{probe.target}/v1/models?limit=1000",
            headers={"anthropic-version": ANTHROPIC_VERSION},
            api_key=key,
        )
    ]


def _follow(probe: Probe, request: PlannedRequest, answer: Read) -> PlannedRequest | None:
    return follow_model_list(probe, request, answer, "after_id")


EXAMPLES = '"claude-3-5-haiku" (also finds claude-3-5-haiku-20241022 and "Claude 3.5 Haiku")'

KIND = KindSpec(
    kind=ProbeKind.ANTHROPIC_MODELS,
    target_name="API base address",
    example="https://api.anthropic.com",
    key=KeyUse(required=True, allowed=True, example="SLIPWATCH_KEY_ANTHROPIC"),
    parse_target=read_api_base("https://api.anthropic.com"),
    parse_pattern=id_pattern_reader(ProbeKind.ANTHROPIC_MODELS, EXAMPLES, "model id"),
    plan=_plan,
    parse=parse_model_list,
    follow=_follow,
    pattern_help=EXAMPLES,
)
