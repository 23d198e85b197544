"""The platform sandbox: wire-format answers, page limits, auth, faults, time shift, scale; the demo data."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import yaml

from functions.model import CATEGORIES, PLATFORMS, parse_time, read_posts
from infra.samples.build_samples import build
from infra.sandbox import DEMO_TOKENS, Fault, demo_secrets, start_sandbox, synthetic_posts
from infra.sandbox.bluesky import session_token
from infra.sandbox.harness import demo_accounts

SAMPLES = Path(__file__).resolve().parent.parent / "infra" / "samples"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "posts.jsonl"
X_USER = "1490000000000000001"


def sample_posts():
    with (SAMPLES / "posts.jsonl").open(encoding="utf-8") as handle:
        return list(read_posts(handle))


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(SAMPLES / "posts.jsonl") as running:
        yield running


@pytest.fixture(scope="module")
def big():
    with start_sandbox(synthetic_posts(6000)) as running:
        yield running


def bearer(platform: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {DEMO_TOKENS[platform]}"}


def test_x_timeline_page_is_the_documented_v2_shape(sandbox):
    answer = requests.get(f"{sandbox.url}/x/2/users/{X_USER}/tweets", headers=bearer("x"), timeout=5, params={
        "max_results": 100, "exclude": "retweets,replies", "tweet.fields": "created_at,author_id,conversation_id,lang",
        "expansions": "author_id", "user.fields": "username,name"})
    body = answer.json()
    assert answer.status_code == 200
    assert set(body) == {"data", "includes", "meta"}
    tweet = body["data"][0]
    assert {"id", "text", "author_id", "created_at", "conversation_id", "lang"} <= set(tweet)
    assert tweet["created_at"].endswith(".000Z") and tweet["conversation_id"] == tweet["id"]
    assert body["includes"]["users"][0]["username"] == "lakeshorecme"
    assert body["meta"]["result_count"] == len(body["data"]) == 3


@pytest.mark.parametrize(("platform", "path", "params"), [
    ("x", f"/2/users/{X_USER}/tweets", {"max_results": 101}),
    ("linkedin", "/rest/posts", {"q": "author", "author": "urn:li:organization:90000001", "count": 101}),
    ("youtube", "/youtube/v3/playlistItems", {"playlistId": "UUl4keshoreCMEchannel0001", "maxResults": 51}),
])
def test_a_page_larger_than_the_api_allows_is_refused(sandbox, platform, path, params):
    headers = {**bearer(platform), "LinkedIn-Version": "202411", "X-Restli-Protocol-Version": "2.0.0"}
    if platform == "youtube":
        headers = {"X-Goog-Api-Key": DEMO_TOKENS["youtube"]}
    answer = requests.get(f"{sandbox.url}/{platform}{path}", params=params, headers=headers, timeout=5)
    assert answer.status_code == 400


def test_graph_pages_are_capped_at_100_and_linked_by_next(big):
    page_id = demo_accounts(big.url)["facebook"].native_id
    answer = requests.get(f"{big.url}/facebook/v21.0/{page_id}/posts", params={"limit": 500},
                          headers=bearer("facebook"), timeout=5).json()
    assert len(answer["data"]) == 100
    following = requests.get(answer["paging"]["next"], headers=bearer("facebook"), timeout=5).json()
    assert {p["id"] for p in following["data"]}.isdisjoint({p["id"] for p in answer["data"]})


def test_mastodon_pages_follow_the_link_header_both_ways(big):
    account = demo_accounts(big.url)["mastodon"].native_id
    first = requests.get(f"{big.url}/mastodon/api/v1/accounts/{account}/statuses",
                         params={"limit": 80, "exclude_replies": "true"}, headers=bearer("mastodon"), timeout=5)
    assert len(first.json()) == 40
    older = requests.get(first.links["next"]["url"], headers=bearer("mastodon"), timeout=5).json()
    assert int(older[0]["id"]) < int(first.json()[-1]["id"])
    newer = requests.get(first.links["prev"]["url"], headers=bearer("mastodon"), timeout=5).json()
    assert newer == []  # nothing is newer than the newest page


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_wrong_token_is_refused_in_the_platform_format(sandbox, platform):
    account = demo_accounts(sandbox.url)[platform]
    paths = {
        "x": f"/2/users/{account.native_id}/tweets", "facebook": f"/v21.0/{account.native_id}/posts",
        "instagram": f"/v21.0/{account.native_id}/media", "linkedin": "/rest/posts",
        "youtube": "/youtube/v3/playlistItems", "mastodon": f"/api/v1/accounts/{account.native_id}/statuses",
        "bluesky": "/xrpc/app.bsky.feed.getAuthorFeed",
    }
    answer = requests.get(f"{sandbox.url}/{platform}{paths[platform]}", headers={"Authorization": "Bearer wrong"},
                          timeout=5)
    assert answer.status_code == (400 if platform in ("facebook", "instagram") else 401)
    if platform in ("facebook", "instagram"):
        assert answer.json()["error"]["code"] == 190


def test_bluesky_session_is_issued_only_for_the_app_password(sandbox):
    url = f"{sandbox.url}/bluesky/xrpc/com.atproto.server.createSession"
    good = requests.post(url, json={"identifier": "lakeshorecme.bsky.social", "password": DEMO_TOKENS["bluesky"]},
                         timeout=5)
    bad = requests.post(url, json={"identifier": "lakeshorecme.bsky.social", "password": "guess"}, timeout=5)
    assert good.json()["accessJwt"] == session_token(DEMO_TOKENS["bluesky"])
    assert good.json()["did"] == demo_accounts(sandbox.url)["bluesky"].native_id
    assert bad.status_code == 401


def test_shift_to_now_ends_the_samples_a_few_hours_before_now(sandbox):
    newest = max(parse_time(p.created_at) for p in sandbox.posts)
    assert timedelta(hours=2) < datetime.now(UTC) - newest < timedelta(hours=4)
    original = sample_posts()
    spans = [max(parse_time(p.created_at) for p in ps) - min(parse_time(p.created_at) for p in ps)
             for ps in (original, sandbox.posts)]
    assert spans[0] == spans[1]


def test_fault_answers_after_n_requests_for_n_times(sandbox):
    account = demo_accounts(sandbox.url)["mastodon"]
    url_path = f"/mastodon/api/v1/accounts/{account.native_id}/statuses"
    fault = Fault("server_error", after=1, times=2)
    with start_sandbox(sample_posts(), faults={f"mastodon:{account.account}": fault}) as faulty:
        codes = [requests.get(faulty.url + url_path, headers=bearer("mastodon"), timeout=5).status_code
                 for _ in range(4)]
        assert faulty.requests["mastodon"] == 4
    assert codes == [200, 503, 503, 200] and fault.served == 2


def test_fault_kinds_are_checked_when_configured():
    with pytest.raises(ValueError, match="unknown fault"):
        Fault("gremlins")


def test_truncated_fault_cuts_a_real_page_in_half(sandbox):
    account = demo_accounts(sandbox.url)["youtube"]
    with start_sandbox(sample_posts(), faults={f"youtube:{account.account}": Fault("truncated")}) as faulty:
        params = {"playlistId": "UU" + account.native_id[2:], "maxResults": 50, "key": DEMO_TOKENS["youtube"]}
        answer = requests.get(f"{faulty.url}/youtube/youtube/v3/playlistItems", params=params, timeout=5)
    assert answer.status_code == 200 and answer.text.startswith('{"kind": "youtube#playlistItemListResponse"')
    with pytest.raises(ValueError):
        answer.json()


def test_a_hundred_thousand_items_are_indexed_once_and_served_without_scans():
    posts = list(synthetic_posts(100_000))
    started = time.perf_counter()
    with start_sandbox(posts) as running:
        indexed = time.perf_counter() - started
        account = demo_accounts(running.url)["x"]
        url = f"{running.url}/x/2/users/{account.native_id}/tweets"
        session = requests.Session()
        params = {"max_results": 100, "exclude": "retweets,replies", "since_id": "1"}
        timings = []
        for _ in range(20):
            begin = time.perf_counter()
            assert session.get(url, params=params, headers=bearer("x"), timeout=10).status_code == 200
            timings.append(time.perf_counter() - begin)
    assert len(running.posts) == 100_000
    assert indexed < 20
    assert sorted(timings)[10] < 0.05  # median: a page, not a pass over 100k items


def test_synthetic_items_are_valid_unique_recent_and_cover_all_platforms():
    end = datetime(2026, 11, 24, 12, tzinfo=UTC)
    items = list(synthetic_posts(5000, end=end, span_days=6))
    assert len(items) == 5000 == len({p.id for p in items})
    assert set(Counter(p.platform for p in items)) == set(PLATFORMS)
    times = [parse_time(p.created_at) for p in items]
    assert end - timedelta(days=6) <= min(times) and max(times) <= end + timedelta(days=1)


def test_sample_data_covers_every_category_platform_and_plenty_of_clean_items():
    posts = sample_posts()
    labels = [json.loads(line) for line in (SAMPLES / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert 80 <= len(posts) <= 120 and [p.id for p in posts] == [label["id"] for label in labels]
    assert {c for label in labels for c in label["categories"]} == set(CATEGORIES)
    assert {p.platform for p in posts} == set(PLATFORMS)
    assert sum(1 for label in labels if not label["categories"]) >= len(posts) // 2
    assert {p.kind for p in posts} == {"post", "comment", "reply"}


def test_sample_texts_are_not_taken_from_the_development_corpus():
    if not CORPUS.exists():
        pytest.skip("development corpus not present")
    with CORPUS.open(encoding="utf-8") as handle:
        corpus_texts = {p.text for p in read_posts(handle)}
    assert not corpus_texts & {p.text for p in sample_posts()}


def test_sample_file_is_what_the_builder_writes():
    built, _ = build()
    assert [p.to_dict() for p in sample_posts()] == built


def test_demo_secrets_cover_every_account_of_the_demo_accounts_file():
    accounts = yaml.safe_load((SAMPLES / "accounts.yaml").read_text(encoding="utf-8"))["accounts"]
    secrets = demo_secrets()
    assert set(secrets) == {a["secret"] for a in accounts}
    assert all(a["base_url"].startswith("${SANDBOX_URL}/") for a in accounts)
    for account in accounts:
        assert DEMO_TOKENS[account["platform"]] in secrets[account["secret"]].values()
