"""github: a GitHub repository's releases and tags. The pattern names a tag ("v2.0.0" also finds
2.0.0; ``v2.*`` matches v2.0 and v2.1.3, not v20.0) or a release name ("Grok 1"). Drafts,
releases marked pre-release and pre-release versions (v2.0.0-rc.1, -beta, -alpha, 2.0a1) are
not releases, unless the probe tracks a beta. A missing repository (404) means "not yet"."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from tracker.errors import InvalidInput
from tracker.probes import Probe, ProbeKind
from tracker.probes.fetch import ApiKey
from tracker.probes.kinds.matching import IdPattern, TextPattern, id_pattern_reader
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
    http_url,
    strip_site,
    when,
)
from tracker.probes.match import is_prerelease
from tracker.probes.reader import Read
from tracker.text import cut

EXAMPLE = "openai/openai-python"
_GH_REPO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")


def _target(text: str) -> tuple[str, str | None]:
    repo = strip_site(text, ("github.com/",))
    parts = repo.split("/")
    if len(parts) > 2:
        repo = "/".join(parts[:2])
    repo = repo.removesuffix(".git")
    if not _GH_REPO.fullmatch(repo) or repo.split("/")[1] in (".", ".."):
        raise InvalidInput(f"Give the GitHub repository as owner/name, like {EXAMPLE}.")
    return repo, None


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
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


def _pre(probe: Probe, *labels: str) -> bool:
    """A pre-release the probe must not take (it takes them when the launch is a beta)."""
    return not probe.prereleases and any(is_prerelease(label) for label in labels if label)


def _named(probe: Probe, tag: str, name: str) -> bool:
    pattern = IdPattern(probe.pattern, versions=True, beta=probe.prereleases)
    if pattern.matches(tag) or (name and pattern.matches(name)):
        return True
    return (
        bool(name) and not pattern.wild and TextPattern.of(probe.pattern).search(name) is not None
    )


def _release(probe: Probe, item: dict[str, object], web: str) -> Evidence | None:
    tag, name = item.get("tag_name"), item.get("name")
    if not isinstance(tag, str):
        return None
    label = name if isinstance(name, str) and name else tag
    draft = item.get("draft") is True
    marked_pre = item.get("prerelease") is True and not probe.prereleases
    if draft or marked_pre or _pre(probe, tag, label):
        # Not out (a draft) or not the release (a pre-release): its tag must not be taken
        # from the tag list either.
        return Evidence(key=evidence_key("tag", tag), title=tag, url=None, matched="", veto=True)
    if not _named(probe, tag, label):
        return None
    url = http_url(item.get("html_url")) or http_url(f"{web}/releases/tag/{quote(tag, safe='')}")
    return Evidence(
        key=evidence_key("tag", tag),
        title=cut(label, MAX_TITLE),
        url=url,
        matched=cut(tag, MAX_MATCHED),
        published_at=when(item.get("published_at")),
    )


def _tag(probe: Probe, item: dict[str, object], web: str) -> Evidence | None:
    tag = item.get("name")
    if not isinstance(tag, str) or _pre(probe, tag) or not _named(probe, tag, ""):
        return None
    return Evidence(
        key=evidence_key("tag", tag),
        title=cut(tag, MAX_TITLE),
        url=http_url(f"{web}/releases/tag/{quote(tag, safe='')}"),
        matched=cut(tag, MAX_MATCHED),
        weak=True,
    )


def _parse(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints, today: dt.date
) -> list[Evidence]:
    data = answer.data
    if not isinstance(data, list):
        raise ParseError(f"the answer is not a list of {request.name}")
    web = f"{endpoints.github_web.rstrip('/')}/{probe.target}"
    read = _release if request.name == "releases" else _tag
    found: list[Evidence] = []
    for item in data[:MAX_ITEMS]:
        if isinstance(item, dict) and (evidence := read(probe, item, web)) is not None:
            found.append(evidence)
    return found


EXAMPLES = '"v2.0.0" (also finds 2.0.0), "v2.*" or a release name like "Grok 1"'

KIND = KindSpec(
    kind=ProbeKind.GITHUB,
    target_name="GitHub repository",
    example=EXAMPLE,
    key=KeyUse(allowed=True),
    parse_target=_target,
    parse_pattern=id_pattern_reader(ProbeKind.GITHUB, EXAMPLES, "tag"),
    plan=_plan,
    parse=_parse,
    pattern_help=EXAMPLES,
)
