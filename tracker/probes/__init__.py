"""Release detection: probes that poll a public source and propose "it shipped".

A probe watches one source for one launch: an OpenAI-compatible or Anthropic model list, a
Hugging Face repository, a GitHub repository's releases and tags, an RSS/Atom feed, or a web
page. When it sees evidence (a model id, a tag, a feed entry, a piece of text) it records a
detection once per piece of evidence; a manager confirms it (the launch is marked shipped with
the evidence as its source) or says "not yet" (the evidence stays known and is not proposed
again). Modules:

- ``netguard``: which addresses a probe may reach (public only, unless the operator allowed one).
- ``fetch``: the one shared HTTP client (timeouts, body cap, redirects checked hop by hop).
- ``kinds``: one module per kind (target, pattern, requests, parser) and their registry.
- ``service``: ``ProbeService``, the API the Discord layer calls; its parts are ``core``
  (settings and shared state), ``polling`` (rounds and their outcomes), ``proposals``
  (detections and the decisions on them) and ``notices`` (the outbox notes a probe writes).
- ``rounds``: background rounds on the engine's timer and the backoff, shared with promise
  discovery (tracker.discovery).

This module holds the records only, so that storage can import them without a cycle.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Verdict(enum.StrEnum):
    """What a passage says about a launch (read by tracker.probes.classify)."""

    RELEASE = "release"
    PROMISE = "promise"
    NEITHER = "neither"


class ProbeKind(enum.StrEnum):
    """What a probe watches."""

    MODELS = "models"  # OpenAI-compatible GET {base}/v1/models (OpenAI, xAI, Mistral, ...)
    ANTHROPIC_MODELS = "anthropic-models"  # Anthropic's GET {base}/v1/models
    HUGGINGFACE = "huggingface"  # a public Hugging Face model repository
    GITHUB = "github"  # a GitHub repository's releases and tags
    FEED = "feed"  # an RSS or Atom feed
    PAGE = "page"  # the text of a web page


class DetectionState(enum.StrEnum):
    """Where a detection is in its life."""

    BASELINE = "baseline"  # already there when the probe started watching; never proposed
    PROPOSED = "proposed"  # waiting for a manager's Confirm / Not yet
    CONFIRMED = "confirmed"  # a manager confirmed: the launch was marked shipped
    AUTO_CONFIRMED = "auto_confirmed"  # the probe marked the launch shipped by itself
    REJECTED = "rejected"  # "Not yet": a false positive, kept so it is not proposed again
    SUPERSEDED = "superseded"  # the launch was resolved some other way first


@dataclass(frozen=True, slots=True)
class Probe:
    """One source watched for one launch. ``api_key_env`` is the NAME of an environment
    variable; the key itself is never stored."""

    id: int
    guild_id: int
    launch_id: int
    kind: ProbeKind
    target: str
    pattern: str
    auto_confirm: bool
    interval_minutes: int
    api_key_env: str | None
    enabled: bool
    next_check_at: dt.datetime
    last_checked_at: dt.datetime | None
    last_ok_at: dt.datetime | None
    last_error: str | None
    consecutive_failures: int
    baseline_done: bool
    disabled_reason: str | None
    disabled_at: dt.datetime | None
    created_by: str
    created_at: dt.datetime
    # The launch is a beta: pre-releases (v2.0.0-rc.1, grok-3-beta) count as its release.
    prereleases: bool = False


@dataclass(frozen=True, slots=True)
class Detection:
    """One piece of evidence a probe saw, proposed once (unique per probe and evidence key)."""

    id: int
    probe_id: int
    guild_id: int
    launch_id: int
    kind: ProbeKind
    evidence_key: str
    title: str  # what was seen: a model id, a tag, an entry title, the matched text
    url: str | None  # where: the release, the entry's link, the page (the source when confirmed)
    matched: str  # the text the pattern matched, with a little context
    published_at: dt.datetime | None  # the source's own date, when it gives one (informative)
    detected_at: dt.datetime
    state: DetectionState
    auto_confirm: bool
    decided_by: str | None
    decided_at: dt.datetime | None
    posted_at: dt.datetime | None
    message_id: int | None
    # "release" (proposed as shipped) or "promise" (proposed as a re-dating to the window
    # window_phrase, read on window_read_on, ending window_end).
    verdict: Verdict = Verdict.RELEASE
    window_phrase: str | None = None
    window_end: dt.date | None = None
    window_read_on: dt.date | None = None

    @property
    def is_promise(self) -> bool:
        """A new window announced, not a release."""
        return self.verdict is Verdict.PROMISE


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the Discord layer needs to post a detection: the detection, its probe, and the
    launch's name. ``detection.state`` is PROPOSED (show Confirm / Not yet) or AUTO_CONFIRMED
    (say the launch was marked shipped by the probe)."""

    detection: Detection
    probe: Probe
    product: str
    vendor: str


@dataclass(frozen=True, slots=True)
class ProbeDisabled:
    """A probe that failed too many times in a row and was turned off (told once)."""

    probe: Probe
    product: str
    vendor: str
    failures: int
    last_error: str
