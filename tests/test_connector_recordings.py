"""Each connector against recorded platform answers (tests/fixtures/<platform>/recording.json), replayed
over HTTP by ``responses``: field mapping, pagination, cursors, and each platform's own error signals."""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from responses import matchers

from functions.config import AccountConfig
from functions.connectors.base import PlatformAuthError
from functions.model import Post
from infra.sandbox.harness import connector, demo_secrets_provider

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLATFORMS = ("x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky")


@functools.cache
def provider_for(platform: str, secret_json: str) -> Any:
    return demo_secrets_provider({f"socialaudit/recorded/{platform}": json.loads(secret_json)})


def recording(platform: str) -> dict[str, Any]:
    return json.loads((FIXTURES / platform / "recording.json").read_text(encoding="utf-8"))


def scenarios(*names: str) -> list[tuple[str, str]]:
    found = []
    for platform in PLATFORMS:
        if not (FIXTURES / platform / "recording.json").exists():
            continue  # test_every_platform_has_a_recording... fails for it
        for name in recording(platform)["scenarios"]:
            if not names or name in names or any(name.startswith(n) for n in names):
                found.append((platform, name))
    return found


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_connector(platform: str, sleeps: Sleeps, **options: Any) -> Any:
    data = recording(platform)
    spec = data["account"]
    secret_name = f"socialaudit/recorded/{platform}"
    account = AccountConfig(
        key=spec["key"],
        platform=platform,
        account=spec["account"],
        native_id=spec["id"],
        secret=secret_name,
        base_url=spec.get("base_url"),
        staff=tuple(s.lower() for s in spec.get("staff", [])),
    )
    now = datetime.fromisoformat(data["now"].replace("Z", "+00:00")).timestamp()
    provider = provider_for(platform, json.dumps(data["secret"]))
    return connector(account, provider, sleep=sleeps, clock=lambda: now, seconds=3600, **options)


def register(mock: responses.RequestsMock, conn: Any, exchanges: list[dict[str, Any]]) -> None:
    base = urlsplit(conn.base_url)
    for exchange in exchanges:
        url = f"{base.scheme}://{base.netloc}{base.path}{exchange['path']}"
        match = [matchers.query_param_matcher(exchange.get("query", {}), strict_match=False)]
        if "request_headers" in exchange:  # e.g. LinkedIn-Version, the token's header
            match.append(matchers.header_matcher(exchange["request_headers"], strict_match=False))
        if "json_body" in exchange:
            match.append(matchers.json_params_matcher(exchange["json_body"]))
        common = {"status": exchange.get("status", 200), "headers": exchange.get("headers", {}), "match": match}
        if "raw" in exchange:
            mock.add(exchange.get("method", "GET"), url, body=exchange["raw"], **common)
        else:
            mock.add(exchange.get("method", "GET"), url, json=exchange["body"], **common)


def play(platform: str, name: str, sleeps: Sleeps | None = None, **options: Any) -> tuple[Any, list[Post]]:
    """Run scenario ``name``; every recorded exchange must be requested, nothing else."""
    scenario = recording(platform)["scenarios"][name]
    cursor = scenario.get("cursor")
    if isinstance(cursor, str):
        cursor = play(platform, cursor)[0].cursor
    conn = make_connector(platform, sleeps if sleeps is not None else Sleeps(), **options)
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        register(mock, conn, scenario["exchanges"])
        items = list(conn.collect(cursor))
        assert conn.requests_made == len(scenario["exchanges"])
    return conn, items


@pytest.mark.parametrize(("platform", "name"), scenarios("first_run"))
def test_recorded_pages_normalize_to_exactly_the_expected_posts(platform, name):
    conn, items = play(platform, name)
    expected = [Post.from_dict(item) for item in recording(platform)["scenarios"][name]["expected"]]
    assert items == expected
    assert conn.stopped_early is None and conn.skipped == 0


@pytest.mark.parametrize(("platform", "name"), scenarios("next_run"))
def test_next_run_asks_only_for_what_is_new_and_yields_it(platform, name):
    _, items = play(platform, name)
    assert [p.id for p in items] == recording(platform)["scenarios"][name]["expected_ids"]


@pytest.mark.parametrize(("platform", "name"), scenarios("rate_limited", "throttled", "quota"))
def test_platform_rate_limit_signal_is_honoured(platform, name):
    sleeps = Sleeps()
    scenario = recording(platform)["scenarios"][name]
    conn, items = play(platform, name, sleeps)
    assert [p.id for p in items] == scenario["expected_ids"]
    if "expected_sleeps" in scenario:
        assert sleeps == pytest.approx(scenario["expected_sleeps"], abs=1.0)
    if "expected_stop" in scenario:
        assert conn.stopped_early and conn.stopped_early.startswith(scenario["expected_stop"])
        assert conn.cursor is None  # a first run that stopped keeps "start from scratch"


@pytest.mark.parametrize(("platform", "name"), scenarios("unauthorized", "bad_token", "expired"))
def test_platform_auth_refusal_is_an_auth_error_without_the_token(platform, name):
    with pytest.raises(PlatformAuthError) as caught:
        play(platform, name)
    for value in recording(platform)["secret"].values():
        assert value not in str(caught.value)


@pytest.mark.parametrize(("platform", "name"), scenarios("malformed"))
def test_recorded_malformed_items_are_skipped_and_the_rest_collected(platform, name):
    conn, items = play(platform, name)
    scenario = recording(platform)["scenarios"][name]
    assert [p.id for p in items] == scenario["expected_ids"]
    assert conn.skipped == scenario["expected_skipped"]


def test_every_platform_has_a_recording_of_a_first_and_a_next_run():
    for platform in PLATFORMS:
        names = set(recording(platform)["scenarios"])
        assert {"first_run", "next_run"} <= names, platform


def test_youtube_counts_one_quota_unit_per_list_call():
    conn, _ = play("youtube", "first_run")
    assert conn.quota_used == conn.requests_made == 5


def test_youtube_quota_budget_stops_the_run_before_it_is_overspent():
    scenario = recording("youtube")["scenarios"]["first_run"]
    conn = make_connector("youtube", Sleeps(), quota_budget=2)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        register(mock, conn, scenario["exchanges"])
        items = list(conn.collect(None))
    assert conn.quota_used == conn.requests_made == 2
    assert conn.stopped_early and conn.stopped_early.startswith("budget")
    assert conn.cursor is None and [p.kind for p in items] == ["post", "comment"]  # its replies would be call 3
