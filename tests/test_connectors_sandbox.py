"""The real connectors against the local sandbox, over real HTTP: round trips, cursors and faults."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from functions.connectors.base import Connector, PlatformAuthError, PlatformUnavailable
from functions.model import PLATFORMS, Post, format_time, parse_time, read_posts
from infra.sandbox import DEMO_TOKENS, Fault, start_sandbox
from infra.sandbox.data import shift_to_now
from infra.sandbox.harness import connector, demo_accounts, demo_secrets_provider

SAMPLES = Path(__file__).resolve().parent.parent / "infra" / "samples" / "posts.jsonl"


@pytest.fixture(scope="module")
def provider():
    return demo_secrets_provider()


@pytest.fixture(scope="module")
def posts() -> list[Post]:
    with SAMPLES.open(encoding="utf-8") as handle:
        return shift_to_now(list(read_posts(handle)), now=datetime.now(UTC))


@pytest.fixture(scope="module")
def sandbox(posts):
    with start_sandbox(posts, shift_to_now=False) as running:
        yield running


class Sleeps(list):
    """Records the waits a connector asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def of(posts: list[Post], platform: str) -> list[Post]:
    return [p for p in posts if p.platform == platform]


def run(conn: Connector, cursor: dict | None = None) -> list[Post]:
    return list(conn.collect(cursor))


def by_id(items: list[Post]) -> dict[str, Post]:
    return {p.id: p for p in items}


def after(platform: str, posts: list[Post], wanted: int) -> int:
    """Requests to serve before a fault: ``wanted``, or fewer when the platform needs fewer in all."""
    from functions.connectors import connector_class

    return max(0, min(wanted, connector_class(platform).minimum_requests(of(posts, platform)) - 1))


@pytest.fixture
def faulty(posts) -> Iterator:
    started = []

    def start(platform: str, fault: Fault):
        account = demo_accounts("http://unused")[platform].account
        sandbox = start_sandbox(posts, shift_to_now=False, faults={f"{platform}:{account}": fault})
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.mark.parametrize("platform", PLATFORMS)
def test_sandbox_posts_come_back_identical_through_each_connector(platform, sandbox, posts, provider):
    conn = connector(demo_accounts(sandbox.url)[platform], provider)
    got = run(conn)
    assert len(got) == len(by_id(got)), "no item twice"
    assert by_id(got) == by_id(of(posts, platform))
    assert conn.stopped_early is None and conn.skipped == 0


@pytest.mark.parametrize("platform", PLATFORMS)
def test_requests_made_are_the_minimum_the_api_allows(platform, sandbox, posts, provider):
    conn = connector(demo_accounts(sandbox.url)[platform], provider)
    run(conn)
    assert conn.requests_made == type(conn).minimum_requests(of(posts, platform))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_second_run_yields_only_what_is_new(platform, posts, provider):
    mine = sorted(of(posts, platform), key=lambda p: p.created_at)
    cut = mine[len(mine) // 2].created_at
    old = [p for p in posts if p.created_at < cut]
    new = {p.id for p in mine if p.created_at >= cut}
    assert any(p.kind != "post" and p.id in new for p in mine) and any(p.id not in new for p in mine)
    with start_sandbox(old, shift_to_now=False) as before:
        first = connector(demo_accounts(before.url)[platform], provider)
        assert {p.id for p in run(first)} == {p.id for p in mine if p.id not in new}
    with start_sandbox(posts, shift_to_now=False) as after:
        second = connector(demo_accounts(after.url)[platform], provider)
        assert {p.id for p in run(second, first.cursor)} == new
        third = connector(demo_accounts(after.url)[platform], provider)
        assert run(third, second.cursor) == []


@pytest.mark.parametrize("platform", PLATFORMS)
def test_short_rate_limit_is_waited_out(platform, posts, provider, faulty):
    sandbox = faulty(platform, Fault("rate_limit", retry_after=2, after=after(platform, posts, 1), times=1))
    sleeps = Sleeps()
    conn = connector(demo_accounts(sandbox.url)[platform], provider, sleep=sleeps, seconds=3600)
    assert by_id(run(conn)) == by_id(of(posts, platform))
    assert conn.stopped_early is None
    assert sleeps and max(sleeps) >= 1


@pytest.mark.parametrize("platform", PLATFORMS)
def test_long_rate_limit_stops_cleanly_and_the_cursor_skips_nothing(platform, posts, provider, faulty):
    sandbox = faulty(platform, Fault("rate_limit", retry_after=7200, after=after(platform, posts, 2), times=None))
    conn = connector(demo_accounts(sandbox.url)[platform], provider, seconds=600)
    first = run(conn)
    assert conn.stopped_early and conn.stopped_early.startswith("rate-limited")
    with start_sandbox(posts, shift_to_now=False) as healthy:
        rest = run(connector(demo_accounts(healthy.url)[platform], provider), conn.cursor)
    assert {p.id for p in first} | {p.id for p in rest} == {p.id for p in of(posts, platform)}


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("kind", ["unauthorized", "forbidden"])
def test_refused_token_is_an_auth_error_that_never_shows_the_token(platform, kind, provider, faulty):
    sandbox = faulty(platform, Fault(kind, times=None, after=1 if platform == "bluesky" else 0))
    conn = connector(demo_accounts(sandbox.url)[platform], provider)
    with pytest.raises(PlatformAuthError) as caught:
        run(conn)
    token = DEMO_TOKENS[platform]
    assert token not in str(caught.value) and token not in repr(caught.value) and token not in repr(conn)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_server_errors_are_retried_with_growing_backoff(platform, posts, provider, faulty):
    sandbox = faulty(platform, Fault("server_error", times=2))
    sleeps = Sleeps()
    conn = connector(demo_accounts(sandbox.url)[platform], provider, sleep=sleeps)
    assert by_id(run(conn)) == by_id(of(posts, platform))
    assert sleeps[:2] == [1.0, 2.0]


def test_server_errors_that_outlast_the_retries_make_the_platform_unavailable(provider, faulty):
    sandbox = faulty("mastodon", Fault("server_error", times=None))
    conn = connector(demo_accounts(sandbox.url)["mastodon"], provider)
    with pytest.raises(PlatformUnavailable):
        run(conn)
    assert conn.requests_made == 4


@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("kind", ["malformed", "truncated"])
def test_broken_page_is_skipped_and_a_rerun_gets_what_it_held(platform, kind, posts, provider, faulty):
    sandbox = faulty(platform, Fault(kind, after=after(platform, posts, 2), times=2))  # and its retry
    conn = connector(demo_accounts(sandbox.url)[platform], provider)
    first = run(conn)
    assert conn.skipped >= 1 and conn.stopped_early is None
    with start_sandbox(posts, shift_to_now=False) as healthy:
        rest = run(connector(demo_accounts(healthy.url)[platform], provider), conn.cursor)
    assert {p.id for p in first} | {p.id for p in rest} == {p.id for p in of(posts, platform)}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_request_budget_stops_cleanly_and_the_next_run_finishes(platform, posts, provider, sandbox):
    budget = after(platform, posts, 2)
    conn = connector(demo_accounts(sandbox.url)[platform], provider, max_requests=budget)
    first = run(conn)
    assert conn.requests_made == budget
    assert conn.stopped_early and conn.stopped_early.startswith("budget")
    rest = run(connector(demo_accounts(sandbox.url)[platform], provider), conn.cursor)
    assert {p.id for p in first} | {p.id for p in rest} == {p.id for p in of(posts, platform)}


def test_slow_answer_times_out_and_is_retried(posts, provider, faulty):
    sandbox = faulty("bluesky", Fault("slow", delay=1.0, after=1, times=1))
    conn = connector(demo_accounts(sandbox.url)["bluesky"], provider, timeout_seconds=0.3)
    assert by_id(run(conn)) == by_id(of(posts, "bluesky"))
    assert conn.requests_made == type(conn).minimum_requests(of(posts, "bluesky")) + 1


def test_facebook_near_its_usage_limit_waits_or_stops(posts, provider, faulty):
    sandbox = faulty("facebook", Fault("usage", usage=97, times=None))
    conn = connector(demo_accounts(sandbox.url)["facebook"], provider, seconds=30)
    assert run(conn) == []
    assert conn.stopped_early and conn.stopped_early.startswith("rate-limited")
    assert conn.requests_made == 1 and conn.cursor is None


def test_no_token_reaches_a_log_line_even_when_things_fail(posts, provider, faulty, caplog):
    caplog.set_level(logging.DEBUG)
    for platform, fault in [("x", Fault("malformed", after=1, times=2)), ("facebook", Fault("server_error")),
                            ("youtube", Fault("rate_limit", retry_after=1))]:
        sandbox = faulty(platform, fault)
        run(connector(demo_accounts(sandbox.url)[platform], provider))
    text = "\n".join(f"{r.getMessage()} {getattr(r, 'fields', '')} {r.args}" for r in caplog.records)
    assert "skipped malformed payload" in text and "retrying" in text
    assert not any(token in text for token in DEMO_TOKENS.values())


def busy_thread(posts: list[Post], platform: str, comments: int, replies: int) -> list[Post]:
    """The platform's first post with ``comments`` more comments, the first of which has ``replies`` replies."""
    root = next(p for p in of(posts, platform) if p.kind == "post")
    native = root.id.split(":", 1)[1]
    template = next(p for p in of(posts, platform) if p.kind == "comment" and not p.author.is_org)
    start = parse_time(root.created_at) + timedelta(minutes=1)

    def make(i: int, parent: Post, kind: str) -> Post:
        seq = 7_000_000 + i
        item_id = {
            "x": lambda: str(int(native) + 1000 + i),
            "facebook": lambda: f"{native.split('_')[1]}_{seq}",
            "instagram": lambda: str(18_100_000_000_000_000 + i),
            "linkedin": lambda: f"urn:li:comment:({native},{7_300_000_000_000_000_000 + i})",
            "youtube": lambda: (f"UgzBusy{i:06d}AaABAg" if kind == "comment"
                                else f"{parent.id.split(':', 1)[1]}.9Busy{i:06d}"),
        }[platform]()
        url = {
            "x": lambda: f"https://x.com/{template.author.handle}/status/{item_id}",
            "facebook": lambda: f"{root.url}?comment_id={seq}",
            "instagram": lambda: root.url,
            "linkedin": lambda: f"https://www.linkedin.com/feed/update/{native}/?commentUrn={quote(item_id, safe='')}",
            "youtube": lambda: f"https://www.youtube.com/watch?v={native}&lc={item_id}",
        }[platform]()
        moment = format_time(start + timedelta(seconds=i))
        return replace(template, id=f"{platform}:{item_id}", kind=kind, parent_id=parent.id, url=url,
                       created_at=moment, text=f"busy {kind} {i}")

    extra = [make(i, root, "comment") for i in range(comments)]
    extra += [make(comments + i, extra[0], "reply") for i in range(replies)]
    return extra


@pytest.mark.parametrize(("platform", "comments", "replies"), [
    ("x", 250, 0), ("facebook", 230, 0), ("instagram", 120, 70), ("linkedin", 150, 120), ("youtube", 150, 8),
])
def test_busy_threads_are_paged_through_completely_with_the_fewest_requests(platform, comments, replies, posts,
                                                                           provider):
    everything = posts + busy_thread(posts, platform, comments, replies)
    with start_sandbox(everything, shift_to_now=False) as running:
        conn = connector(demo_accounts(running.url)[platform], provider)
        got = run(conn)
    assert by_id(got) == by_id(of(everything, platform))
    assert conn.requests_made == type(conn).minimum_requests(of(everything, platform))
    assert conn.requests_made > type(conn).minimum_requests(of(posts, platform))  # the extra pages were needed


def test_a_rate_limit_that_keeps_coming_back_ends_the_run_cleanly(posts, provider, faulty):
    sandbox = faulty("mastodon", Fault("rate_limit", retry_after=1, times=None))
    sleeps = Sleeps()
    conn = connector(demo_accounts(sandbox.url)["mastodon"], provider, sleep=sleeps, seconds=3600)
    assert run(conn) == []
    assert conn.stopped_early and conn.stopped_early.startswith("rate-limited")
    assert len(sleeps) == 3 and conn.requests_made == 4


def test_minimum_requests_takes_one_run_per_account_and_ignores_other_platforms(posts):
    from functions.connectors import connector_class

    mastodon = connector_class("mastodon")
    mine = of(posts, "mastodon")
    other_account = [replace(p, account="someone-else") for p in mine]
    assert mastodon.minimum_requests(posts) == mastodon.minimum_requests(mine) > 0
    assert mastodon.minimum_requests(mine + other_account) == 2 * mastodon.minimum_requests(mine)


def test_x_searches_as_many_conversations_at_once_as_the_account_allows(sandbox, posts, provider):
    one_each = connector(demo_accounts(sandbox.url)["x"], provider, conversations_per_search=1)
    batched = connector(demo_accounts(sandbox.url)["x"], provider)
    assert by_id(run(one_each)) == by_id(run(batched)) == by_id(of(posts, "x"))
    n_posts = sum(1 for p in of(posts, "x") if p.kind == "post")
    assert one_each.requests_made - batched.requests_made == n_posts - 1


def test_secrets_read_for_a_run_are_scrubbed_from_any_log_line(provider):
    from functions.logs import REDACTED, scrub

    provider.get("socialaudit/demo/x-lakeshorecme")
    assert scrub(f"token={DEMO_TOKENS['x']}") == f"token={REDACTED}"
    assert DEMO_TOKENS["x"] not in repr(provider)


def linkedin_replies(posts: list[Post], comments: list[Post], start: int) -> list[Post]:
    """One new reply to each of ``comments``, a second apart after everything in ``posts``."""
    template = next(p for p in of(posts, "linkedin") if p.kind == "reply")
    latest = max(parse_time(p.created_at) for p in posts)
    made = []
    for i, comment in enumerate(comments):
        post_urn = comment.parent_id.split(":", 1)[1]
        urn = f"urn:li:comment:({post_urn},{7_400_000_000_000_000_000 + start + i})"
        made.append(replace(template, id=f"linkedin:{urn}", parent_id=comment.id, text=f"late reply {start + i}",
                            url=f"https://www.linkedin.com/feed/update/{post_urn}/?commentUrn={quote(urn, safe='')}",
                            created_at=format_time(latest + timedelta(seconds=1 + i))))
    return made


def linkedin_comments(posts: list[Post], with_replies: bool) -> list[Post]:
    replied = {p.parent_id for p in of(posts, "linkedin") if p.kind == "reply"}
    return [p for p in of(posts, "linkedin") if p.kind == "comment" and (p.id in replied) == with_replies]


def test_linkedin_new_replies_to_old_comments_are_collected_with_the_minimum_requests(posts, provider):
    from functions.connectors import connector_class

    linkedin = connector_class("linkedin")
    old = of(posts, "linkedin")
    new = linkedin_replies(old, [linkedin_comments(old, True)[0], linkedin_comments(old, False)[0]], 0)
    with start_sandbox(old, shift_to_now=False) as before, start_sandbox(old + new, shift_to_now=False) as later:
        first = connector(demo_accounts(before.url)["linkedin"], provider)
        assert by_id(run(first)) == by_id(old) and first.requests_made == linkedin.minimum_requests(old)
        tracked = len(first.cursor["tracked"])
        second = connector(demo_accounts(later.url)["linkedin"], provider)
        assert by_id(run(second, first.cursor)) == by_id(new)
        # The post listing, one comment listing per tracked post, the replies of just the two comments.
        assert linkedin.minimum_requests(new) == 1 + 2
        assert second.requests_made == linkedin.minimum_requests(new) + tracked
        idle = connector(demo_accounts(later.url)["linkedin"], provider)
        assert run(idle, second.cursor) == [] and idle.requests_made == 1 + tracked  # no replies listed again


def test_linkedin_reply_counts_in_the_cursor_are_bounded_and_what_is_dropped_is_listed_again(posts, provider,
                                                                                             monkeypatch):
    from functions.connectors.linkedin import LinkedInConnector

    monkeypatch.setattr(LinkedInConnector, "max_reply_counts", 1)
    old = of(posts, "linkedin")
    replied = linkedin_comments(old, True)[0]
    sibling = next(p for p in linkedin_comments(old, False) if p.parent_id == replied.parent_id)
    old = old + linkedin_replies(old, [sibling], 0)  # the post now has two comments with replies
    post_native = replied.parent_id.split(":", 1)[1]
    with start_sandbox(old, shift_to_now=False) as before:
        first = connector(demo_accounts(before.url)["linkedin"], provider)
        assert by_id(run(first)) == by_id(old)
        tracked = first.cursor["tracked"]
        assert all(len(entry.get("replies", {})) <= 1 for entry in tracked.values())
        kept = set(tracked[post_native]["replies"])
        assert len(kept) == 1
        dropped = next(c for c in (replied, sibling) if c.id.rsplit(",", 1)[1].rstrip(")") not in kept)
        idle = connector(demo_accounts(before.url)["linkedin"], provider)
        assert run(idle, first.cursor) == []
        assert idle.requests_made == 1 + len(tracked) + 1  # the dropped count costs a listing, never a reply
    new = linkedin_replies(old, [dropped], 10)
    with start_sandbox(old + new, shift_to_now=False) as later:
        second = connector(demo_accounts(later.url)["linkedin"], provider)
        assert by_id(run(second, first.cursor)) == by_id(new)


def test_linkedin_a_reply_whose_listing_failed_is_collected_next_run(posts, provider):
    old = of(posts, "linkedin")
    comment = linkedin_comments(old, True)[0]
    new = linkedin_replies(old, [comment], 0)
    with start_sandbox(old, shift_to_now=False) as before:
        first = connector(demo_accounts(before.url)["linkedin"], provider)
        run(first)
    account = demo_accounts("http://unused")["linkedin"]
    # The incremental run asks for the post listing, then each tracked post's comments, newest post first;
    # right after its post's comments come the comment's replies (the only ones listed): from there on, all fail.
    newest_first = sorted((p for p in old if p.kind == "post"), key=lambda p: p.created_at, reverse=True)
    position = 1 + [p.id for p in newest_first].index(comment.parent_id) + 1
    fault = Fault("malformed", after=position, times=None)
    with start_sandbox(old + new, shift_to_now=False, faults={f"linkedin:{account.account}": fault}) as broken:
        failing = connector(demo_accounts(broken.url)["linkedin"], provider)
        assert run(failing, first.cursor) == []
        assert failing.skipped and failing.requests_made > position  # the replies were asked for, and failed
    with start_sandbox(old + new, shift_to_now=False) as later:
        again = connector(demo_accounts(later.url)["linkedin"], provider)
        assert by_id(run(again, failing.cursor)) == by_id(new)  # the reply is listed again, not lost
