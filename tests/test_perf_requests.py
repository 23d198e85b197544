"""Frugal with platform quotas: an incremental run asks only for what is new, at the APIs' largest pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.model import PLATFORMS
from infra.sandbox import start_sandbox, synthetic_posts
from infra.sandbox.harness import demo_secrets_provider
from tests.bench.bench_requests import one_platform, split_by_time


@pytest.fixture(scope="module")
def runs():
    """Both runs of every platform: 3,000 items, then 600 more."""
    everything = list(synthetic_posts(3600, end=datetime.now(UTC) - timedelta(hours=3)))
    old, _ = split_by_time(everything, 600)
    provider = demo_secrets_provider()
    with start_sandbox(old, shift_to_now=False) as before, start_sandbox(everything, shift_to_now=False) as after:
        yield {p: one_platform(p, old, everything, provider, before.url, after.url) for p in PLATFORMS}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_first_run_makes_the_minimum_requests(platform, runs):
    row = runs[platform]
    assert row["first_items"] > 0 and row["first_requests"] == row["first_minimum"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_incremental_run_fetches_only_new_items(platform, runs):
    row = runs[platform]
    assert row["second_items"] == row["second_new"] > 0 and row["second_repeated"] == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_incremental_run_makes_the_minimum_requests(platform, runs):
    row = runs[platform]
    assert row["second_requests"] == row["second_minimum"]
