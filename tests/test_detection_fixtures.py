"""Release detection against answers shaped like each real service's (tests/service_fixtures.py),
in both directions: what must be proposed is, what must not be is not. Every case runs the real
probe service, HTTP client, guard and body reader against the loopback server, with
auto_confirm on: a release ships the launch by itself, while a promise, a pre-release, a draft,
a sibling model or a mere mention never does.

A case polls twice: ``before`` is what the source says when the probe starts (feeds and pages
remember what they already say, except a release), ``after`` what it says an hour later."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.harness import GUILD
from tests.probe_server import ProbeServer, hf_model
from tests.service_fixtures import (
    anthropic_page,
    atom_feed,
    gh_release,
    github_tags,
    mistral_list,
    news_page,
    openai_list,
    wordpress_rss,
)
from tests.test_probes import world
from tracker.models import LaunchState
from tracker.probes import DetectionState

RSS = "application/rss+xml"
ATOM = "application/atom+xml"
HTML = "text/html; charset=utf-8"
START = dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC)
JAN = "Thu, 09 Jan 2025 16:00:00 GMT"
DEC = "Mon, 02 Dec 2024 16:00:00 GMT"
OLD_POST = ("Grok 2 is out", "https://x.ai/blog/grok-2", DEC, "Grok 2.", "<p>Grok 2 is here.</p>")
Resources = dict[str, tuple[Any, str]]


@dataclass(frozen=True)
class Case:
    """One source, what it says at the first and the second poll, and what must be proposed:
    (title, "release" | "promise") in order; a release ships the launch (auto_confirm)."""

    id: str
    kind: str
    target: str
    before: Resources
    after: Resources = field(default_factory=dict)
    expect: tuple[tuple[str, str], ...] = ()
    product: str = "Grok 3"
    pattern: str | None = None
    key_env: str | None = None
    beta: bool = False


def feed(items: list[tuple[str, str, str, str, str]]) -> tuple[str, str]:
    return wordpress_rss([*items, OLD_POST]), RSS


def page(headline: str, *paragraphs: str) -> tuple[str, str]:
    return news_page(headline, list(paragraphs)), HTML


GH = "xai-org/grok"
RELEASES = f"/gh/repos/{GH}/releases"
TAGS = f"/gh/repos/{GH}/tags"
NO_TAGS = (github_tags(GH, []), "json")
ANTHROPIC_FIRST = anthropic_page(
    ["claude-3-opus-20240229", "claude-3-sonnet-20240229"], has_more=True
)

CASES = [
    # ---------------------------------------------------------------- OpenAI-compatible lists
    Case(
        "xai-exact-id-with-snapshot-date",
        "models",
        "/xai",
        {"/xai/v1/models": (openai_list([("grok-2-1212", "2024-12-12")], "xai"), "json")},
        {"/xai/v1/models": (openai_list([("grok-3-0217", "2025-02-17")], "xai"), "json")},
        expect=(("grok-3-0217", "release"),),
        key_env="SLIPWATCH_KEY_XAI",
    ),
    Case(
        "xai-beta-and-mini-are-not-grok-3",
        "models",
        "/xai",
        {"/xai/v1/models": (openai_list([("grok-2-1212", "2024-12-12")], "xai"), "json")},
        {
            "/xai/v1/models": (
                openai_list([("grok-3-beta", "2025-04-09"), ("grok-3-mini-beta", "2025-04-09")]),
                "json",
            )
        },
        key_env="SLIPWATCH_KEY_XAI",
    ),
    Case(
        "xai-beta-counts-when-the-launch-is-a-beta",
        "models",
        "/xai",
        {"/xai/v1/models": (openai_list([("grok-3-mini-beta", "2025-04-09")]), "json")},
        {
            "/xai/v1/models": (
                openai_list([("grok-3-mini-beta", "2025-04-09"), ("grok-3-beta", "2025-04-09")]),
                "json",
            )
        },
        expect=(("grok-3-beta", "release"),),
        key_env="SLIPWATCH_KEY_XAI",
        beta=True,
    ),
    Case(
        "openai-dated-id-by-product-name-not-mini-nor-chatgpt",
        "models",
        "/openai",
        {
            "/openai/v1/models": (
                openai_list(
                    [
                        ("gpt-4o-mini-2024-07-18", "2024-07-18"),
                        ("chatgpt-4o-latest", "2024-08-13"),
                        ("gpt-4o-2024-08-06", "2024-08-06"),
                    ]
                ),
                "json",
            )
        },
        expect=(("gpt-4o-2024-08-06", "release"),),
        product="GPT-4o",
        key_env="SLIPWATCH_KEY_XAI",
    ),
    Case(
        "openai-style-list-is-followed-past-its-first-page",
        "models",
        "/gw",
        {
            "/gw/v1/models": (
                openai_list([("llama-3-70b", "2024-04-18")], has_more=True),
                "json",
            ),
            "/gw/v1/models?after=llama-3-70b": (
                openai_list([("grok-3", "2025-02-17")], has_more=False),
                "json",
            ),
        },
        expect=(("grok-3", "release"),),
        key_env="SLIPWATCH_KEY_XAI",
    ),
    Case(
        "mistral-alias-and-yymm-suffix",
        "models",
        "/mistral",
        {
            "/mistral/v1/models": (
                mistral_list(
                    [
                        ("mistral-small-2409", ["mistral-small-latest"], "Small."),
                        ("mistral-large-2411", ["mistral-large-latest"], "Our top model."),
                    ]
                ),
                "json",
            )
        },
        expect=(("mistral-large-2411", "release"),),
        product="Mistral Large",
        key_env="SLIPWATCH_KEY_XAI",
    ),
    # ---------------------------------------------------------------- Anthropic
    Case(
        "anthropic-display-name-on-the-second-page",
        "anthropic-models",
        "/anthropic",
        {
            "/anthropic/v1/models?limit=1000": (ANTHROPIC_FIRST, "json"),
            "/anthropic/v1/models?limit=1000&after_id=claude-3-sonnet-20240229": (
                anthropic_page(["claude-3-5-haiku-20241022"], has_more=False),
                "json",
            ),
        },
        expect=(("claude-3-5-haiku-20241022 (Claude 3.5 Haiku)", "release"),),
        product="Claude 3.5 Haiku",
        key_env="SLIPWATCH_KEY_ANTHROPIC",
    ),
    Case(
        "anthropic-35-spelling-and-no-other-model",
        "anthropic-models",
        "/anthropic",
        {
            "/anthropic/v1/models?limit=1000": (
                anthropic_page(["claude-3-5-sonnet-20241022"], has_more=False),
                "json",
            )
        },
        product="Claude 3.5 Haiku",
        pattern="claude 35 haiku",
        key_env="SLIPWATCH_KEY_ANTHROPIC",
    ),
    # ---------------------------------------------------------------- Hugging Face
    Case(
        "huggingface-repo-turns-public",
        "huggingface",
        "xai-org/grok-1",
        {"/hf/api/models/xai-org/grok-1": (hf_model("xai-org/grok-1", private=True), "json")},
        {"/hf/api/models/xai-org/grok-1": (hf_model("xai-org/grok-1"), "json")},
        expect=(("xai-org/grok-1", "release"),),
        product="Grok 1",
    ),
    Case(
        "huggingface-private-repo-is-not-out",
        "huggingface",
        "xai-org/grok-1",
        {"/hf/api/models/xai-org/grok-1": (hf_model("xai-org/grok-1", private=True), "json")},
        product="Grok 1",
    ),
    # ---------------------------------------------------------------- GitHub
    Case(
        "github-release-by-tag-pattern",
        "github",
        GH,
        {RELEASES: ([], "json"), TAGS: NO_TAGS},
        {
            RELEASES: ([gh_release(GH, 2, "v3.0.0", "Grok 3")], "json"),
            TAGS: (github_tags(GH, ["v3.0.0"]), "json"),
        },
        expect=(("Grok 3", "release"),),
        pattern="v3.*",
    ),
    Case(
        "github-release-by-name-when-no-pattern",
        "github",
        GH,
        {RELEASES: ([gh_release(GH, 2, "v1.0.0", "Grok-3 open weights")], "json"), TAGS: NO_TAGS},
        expect=(("Grok-3 open weights", "release"),),
    ),
    Case(
        "github-draft-prerelease-and-rc-tags-are-not-releases",
        "github",
        GH,
        {RELEASES: ([], "json"), TAGS: NO_TAGS},
        {
            RELEASES: (
                [
                    gh_release(GH, 4, "v3.0.0", "Grok 3", draft=True),
                    gh_release(GH, 3, "v3.0.0-rc.1", "Grok 3 RC 1"),
                    gh_release(GH, 2, "v3.1.0", "Grok 3.1 preview", prerelease=True),
                ],
                "json",
            ),
            TAGS: (github_tags(GH, ["v3.1.0", "v3.0.0-rc.1", "v3.0.0-beta", "v3.0.0a1"]), "json"),
        },
        pattern="v3.*",
    ),
    Case(
        "github-rc-counts-when-the-launch-is-a-beta",
        "github",
        GH,
        {RELEASES: ([], "json"), TAGS: NO_TAGS},
        {
            RELEASES: ([gh_release(GH, 3, "v3.0.0-rc.1", "Grok 3 RC 1", prerelease=True)], "json"),
            TAGS: (github_tags(GH, ["v3.0.0-rc.1"]), "json"),
        },
        expect=(("Grok 3 RC 1", "release"),),
        pattern="v3.0.0",
        beta=True,
    ),
    # ---------------------------------------------------------------- RSS (WordPress)
    Case(
        "rss-release-only-in-content-encoded",
        "feed",
        "/blog.rss",
        {"/blog.rss": feed([])},
        {
            "/blog.rss": feed(
                [
                    (
                        "Grok 3",
                        "https://x.ai/blog/grok-3",
                        JAN,
                        "Our newest model.",
                        "<h2>Today</h2><p>We are releasing Grok&#8209;3 to everyone.</p>",
                    )
                ]
            )
        },
        expect=(("Grok 3", "release"),),
    ),
    Case(
        "rss-coming-soon-and-siblings-are-not-releases",
        "feed",
        "/blog.rss",
        {"/blog.rss": feed([])},
        {
            "/blog.rss": feed(
                [
                    ("Grok 3 is coming soon", "https://x.ai/blog/soon", JAN, "Soon.", "<p>x</p>"),
                    ("Grok 3 mini is live", "https://x.ai/blog/mini", JAN, "Mini.", "<p>y</p>"),
                    ("Grok 3.5 is out", "https://x.ai/blog/35", JAN, "Out.", "<p>z</p>"),
                    ("Grok 3 segera hadir", "https://x.ai/blog/id", JAN, "Segera.", "<p>w</p>"),
                ]
            )
        },
    ),
    Case(
        "rss-promise-with-a-new-window-is-a-re-dating-never-a-release",
        "feed",
        "/blog.rss",
        {"/blog.rss": feed([])},
        {
            "/blog.rss": feed(
                [
                    (
                        "Training update",
                        "https://x.ai/blog/update",
                        JAN,
                        "Where we are.",
                        "<p>Grok 3 will be released in Q2 2025, after more training.</p>",
                    )
                ]
            )
        },
        expect=(("Training update", "promise"),),
    ),
    Case(
        "rss-indonesian-release",
        "feed",
        "/blog.rss",
        {"/blog.rss": feed([])},
        {
            "/blog.rss": feed(
                [
                    (
                        "Kabar xAI",
                        "https://x.ai/id/blog/grok-3",
                        JAN,
                        "Grok 3 resmi dirilis hari ini.",
                        "<p>Grok 3 resmi dirilis hari ini.</p>",
                    )
                ]
            )
        },
        expect=(("Kabar xAI", "release"),),
    ),
    # ---------------------------------------------------------------- Atom
    Case(
        "atom-release-in-html-content",
        "feed",
        "/news.atom",
        {"/news.atom": (atom_feed([]), ATOM)},
        {
            "/news.atom": (
                atom_feed(
                    [
                        (
                            "Claude 3.5 Haiku",
                            "https://www.anthropic.com/news/3-5-models",
                            "2025-01-09T16:00:00Z",
                            "A faster model.",
                            "<p>Claude 3.5 Haiku is available today in our API.</p>",
                        )
                    ]
                ),
                ATOM,
            )
        },
        expect=(("Claude 3.5 Haiku", "release"),),
        product="Claude 3.5 Haiku",
    ),
    Case(
        "atom-later-this-year-is-no-release",
        "feed",
        "/news.atom",
        {"/news.atom": (atom_feed([]), ATOM)},
        {
            "/news.atom": (
                atom_feed(
                    [
                        (
                            "Model roadmap",
                            "https://www.anthropic.com/news/roadmap",
                            "2025-01-09T16:00:00Z",
                            "What is next.",
                            "<p>Claude 3.5 Opus is coming later this year.</p>",
                        )
                    ]
                ),
                ATOM,
            )
        },
        product="Claude 3.5 Opus",
        # "later this year" ends 2025-12-31, which is the launch's own window: nothing new.
    ),
    # ---------------------------------------------------------------- pages
    Case(
        "page-hyphenated-name-goes-live",
        "page",
        "/news",
        {"/news": page("News", "Grok-3 is coming soon.")},
        {"/news": page("Grok-3 is live", "Try Grok-3 on grok.com today.")},
        expect=(("Grok-3 is live", "release"),),
    ),
    Case(
        "page-waitlist-and-script-text-are-no-release",
        "page",
        "/news",
        {"/news": page("News", "Nothing yet.")},
        {"/news": page("Grok 3", "Join the Grok 3 waitlist.", "Benchmarks for Grok 3 leaked.")},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_fixture(case: Case, tmp_path: Path) -> None:
    server = await ProbeServer().start()
    try:
        await run(case, server, tmp_path)
    finally:
        await server.close()


def put_all(server: ProbeServer, resources: Resources) -> None:
    for path, (body, content_type) in resources.items():
        if content_type == "json":
            server.put(path, json.dumps(body), "application/json")
        else:
            server.put(path, body, content_type)


async def run(case: Case, server: ProbeServer, tmp_path: Path) -> None:
    put_all(server, case.before)
    async with world(str(tmp_path / "db.sqlite"), server, start=START) as w:
        window = "end of 2025" if case.product == "Claude 3.5 Opus" else "Q1 2025"
        launch_id = await w.h.add(case.product, "Vendor", window, announced_on=dt.date(2025, 1, 2))
        target = server.url(case.target) if case.target.startswith("/") else case.target
        probe = await w.svc.add_probe(
            GUILD,
            launch_id,
            case.kind,
            target,
            case.pattern,
            auto_confirm=True,
            api_key_env=case.key_env,
            prereleases=case.beta,
        )
        await w.svc.sweep(w.h.clock.now())
        put_all(server, case.after)
        await w.poll()
        seen = [(p.detection.title, p.detection.verdict.value) for p in w.proposals]
        assert seen == list(case.expect)
        launch = await w.h.tracker.get(GUILD, launch_id)
        ships = any(verdict == "release" for _, verdict in case.expect)
        assert launch.state is (LaunchState.SHIPPED if ships else LaunchState.UPCOMING)
        # Every poll read its answers: "nothing proposed" never hides a failing probe. (A
        # launch shipped at the first poll is not polled again.)
        polled = await w.probe(probe.id)
        assert (polled.last_error, polled.consecutive_failures) == (None, 0)
        if launch.state is LaunchState.UPCOMING:
            assert polled.last_checked_at == w.h.clock.now()
        for proposal in w.proposals:
            detection = proposal.detection
            expected = (
                DetectionState.PROPOSED if detection.is_promise else DetectionState.AUTO_CONFIRMED
            )
            assert detection.state is expected
