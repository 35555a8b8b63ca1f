"""huggingface: a public Hugging Face model repository. No pattern: the repository id is the
target, and the evidence is the repository turning public (a 401/403/404 means "not yet")."""

from __future__ import annotations

import datetime as dt
import re

from tracker.errors import InvalidInput
from tracker.probes import Probe, ProbeKind
from tracker.probes.kinds.records import (
    MAX_MATCHED,
    MAX_TITLE,
    Endpoints,
    Evidence,
    KeyUse,
    KindSpec,
    ParseError,
    PlannedRequest,
    evidence_key,
    http_url,
    strip_site,
)
from tracker.probes.reader import Read
from tracker.text import cut

EXAMPLE = "xai-org/grok-1"
_HF_REPO = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def _target(text: str) -> tuple[str, str | None]:
    repo = strip_site(text, ("huggingface.co/", "hf.co/"))
    if repo.startswith(("models/", "datasets/", "spaces/")) and repo.count("/") == 2:
        if not repo.startswith("models/"):
            raise InvalidInput("Hugging Face probes watch model repositories, like xai-org/grok-1.")
        repo = repo[len("models/") :]
    owner = repo.removeprefix("organizations/").split("/", 1)[0]
    if repo.startswith("organizations/") or ("/" not in repo and _HF_REPO.fullmatch(repo)):
        raise InvalidInput(
            f"{owner} is a Hugging Face organisation or user, not a model repository. Give one "
            f"model repository as owner/name, like {owner}/<model> ({EXAMPLE}); to follow "
            "everything an organisation publishes, watch its feed or page instead."
        )
    if not _HF_REPO.fullmatch(repo) or ".." in repo:
        raise InvalidInput(f"Give the Hugging Face repository as owner/name, like {EXAMPLE}.")
    return repo, None


def _pattern(text: str) -> str:
    if text:
        raise InvalidInput(
            "A huggingface probe watches one repository and takes no pattern; leave it empty."
        )
    return ""


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    base = endpoints.huggingface.rstrip("/")
    return [
        PlannedRequest(
            "repo", f"{base}/api/models/{probe.target}", absent=frozenset({401, 403, 404})
        )
    ]


def _parse(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints, today: dt.date
) -> list[Evidence]:
    data = answer.data
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
            key=evidence_key("hf", probe.target.lower()),
            title=cut(repo_id, MAX_TITLE),
            url=http_url(f"{endpoints.huggingface.rstrip('/')}/{repo_id}"),
            matched=cut(note, MAX_MATCHED),
        )
    ]


KIND = KindSpec(
    kind=ProbeKind.HUGGINGFACE,
    target_name="Hugging Face repository",
    example=EXAMPLE,
    key=KeyUse(),
    parse_target=_target,
    parse_pattern=_pattern,
    plan=_plan,
    parse=_parse,
)
