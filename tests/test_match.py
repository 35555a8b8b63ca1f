"""Matching launch names per kind: model ids and display names, tags, text."""

from __future__ import annotations

import pytest

from tracker.probes.match import IdPattern, TextPattern, check_id_pattern, is_prerelease

MODEL_IDS = [
    ("claude-3-5-haiku", "claude-3-5-haiku-20241022", True),
    ("claude-3-5-haiku", "Claude 3.5 Haiku", True),
    ("Claude 3.5 Haiku", "claude-3-5-haiku-latest", True),
    ("claude 35 haiku", "claude-3.5-haiku", True),
    ("Grok 3", "grok-3", True),
    ("grok-3", "grok-3-1212", True),
    ("gpt-4o", "gpt-4o-2024-08-06", True),
    ("o1", "o1-2024-12-17", True),
    ("grok-3*", "grok-3-beta", True),
    ("grok3*", "grok-3-mini", True),
    ("grok-3", "grok-3-mini", False),
    ("grok-3", "grok-3-beta", False),
    ("grok-3", "grok-35", False),
    ("gpt-4o", "gpt-4o-mini-2024-07-18", False),
    ("claude-3-5-haiku-20241022", "claude-3-5-haiku-20250101", False),
]


@pytest.mark.parametrize(("pattern", "value", "expected"), MODEL_IDS)
def test_model_ids_and_display_names(pattern: str, value: str, expected: bool) -> None:
    assert IdPattern(pattern).matches(value) is expected


def test_a_probe_tracking_a_beta_takes_the_beta_id() -> None:
    assert IdPattern("grok-3", beta=True).matches("grok-3-beta")
    assert IdPattern("v2.0.0", versions=True, beta=True).matches("v2.0.0-rc.1")
    assert not IdPattern("v2.0.0", versions=True).matches("v2.0.0-rc.1")


@pytest.mark.parametrize(
    ("pattern", "tag", "expected"),
    [
        ("v2.*", "v2.1.3", True),
        ("v2.*", "v20.0", False),
        ("v2.0.0", "2.0.0", True),
        ("v2.0.0", "v20.0", False),
        ("2.*", "v2.5.0", True),
    ],
)
def test_tags_keep_their_version_dots(pattern: str, tag: str, expected: bool) -> None:
    assert IdPattern(pattern, versions=True).matches(tag) is expected


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("Grok 3", "Introducing Grok-3 today", "Grok-3"),
        ("Grok 3", "grok3 is here", "grok3"),
        ("Grok-3", "GROK 3 is here", "GROK 3"),
        ("Grok 3", "The Grok 3, today.", "Grok 3"),
        ("Grok 3", "Grok 3 Beta is out", "Grok 3"),
        ("Claude 3.5 Haiku", "claude-3-5-haiku now", "claude-3-5-haiku"),
        ("grok 3*available", "Grok 3 is now available", "Grok 3 is now available"),
        ("Grok 3", "Grok 3.5 is here", None),
        ("Grok 3", "Grok 35 is here", None),
        ("Grok 3", "Grok 3 mini is here", None),
        ("Grok 3", "MyGrok 3", None),
    ],
)
def test_text_ignores_case_spacing_and_punctuation_but_keeps_whole_names(
    pattern: str, text: str, found: str | None
) -> None:
    span = TextPattern.of(pattern).search(text)
    assert (text[span[0] : span[1]] if span else None) == found


@pytest.mark.parametrize(
    ("tag", "pre"),
    [
        ("v2.0.0-rc.1", True),
        ("v1.0.0-beta", True),
        ("1.2.3-alpha.2", True),
        ("2.0.0a1", True),
        ("v2.0.0b3", True),
        ("v3.0.0.dev1", True),
        ("2.0rc1", True),
        ("v1.0.0-preview", True),
        ("v2.0.0", False),
        ("v2.1.0", False),
        ("release-2025", False),
    ],
)
def test_pre_release_tags(tag: str, pre: bool) -> None:
    assert is_prerelease(tag) is pre


def test_id_patterns_that_cannot_work_are_refused() -> None:
    assert check_id_pattern("*-*") == "that pattern matches everything"
    assert check_id_pattern("a*b*c*d*e*f*") == "use at most 5 wildcards"
    assert check_id_pattern("grok-3*") is None
