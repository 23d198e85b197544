"""The audit path end to end on moto S3: collect → engine → store → cursor, account by account."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

from functions.audit import Window, audit_one, default_context_factory, run_audit
from functions.config import AccountConfig, parse_accounts
from functions.connectors.base import Connector, ConnectorContext, PlatformUnavailable, SecretsProvider
from functions.guidelines import load_engine
from functions.model import Post, read_posts
from functions.store import FindingsStore, new_run_id
from tests.conftest import BUCKET, CORPUS

NOW = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)
ALL_DAYS = (date(2026, 1, 1), date(2027, 1, 1))


@pytest.fixture(scope="module")
def engine():
    return load_engine()


@pytest.fixture
def corpus_file(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_bytes((CORPUS / "posts.jsonl").read_bytes())
    return path


def file_accounts(path, *platforms: str) -> list[AccountConfig]:
    names = {p.platform: p.account for p in read_posts((CORPUS / "posts.jsonl").read_text().splitlines())}
    doc = {
        "accounts": [
            {"platform": p, "account": names[p], "options": {"source": "file", "path": str(path)}} for p in platforms
        ]
    }
    return list(parse_accounts(doc).accounts)


def contexts():
    return default_context_factory(SecretsProvider(), max_requests=50, budget_seconds=60)


def audit(accounts, engine, store, **kwargs):
    return run_audit(
        accounts, engine=engine, store=store, run_id=new_run_id(), trigger="test", make_context=contexts(), **kwargs
    )


def test_scheduled_run_stores_findings_per_account_and_moves_cursors(engine, store, corpus_file):
    accounts = file_accounts(corpus_file, "x", "facebook")
    run = audit(accounts, engine, store, now=NOW)
    assert run.status == "ok"
    assert run.counts["items"] == sum(1 for line in corpus_file.read_text().splitlines() if '"platform": "x"' in line
                                      or '"platform": "facebook"' in line)
    stored = list(store.iter_findings(*ALL_DAYS))
    assert run.counts["findings"] == len(stored) > 10
    assert {f.account for f in stored} == {"CMEAdvance"}
    assert {f.platform for f in stored} == {"x", "facebook"}
    assert all(f.run_id == run.run_id for f in stored)
    for account in accounts:
        assert store.get_cursor(account.key).cursor["position"]
    loaded = store.get_run(run.run_id)
    assert loaded.status == "ok" and loaded.counts == run.counts


def test_second_run_fetches_nothing_old_and_duplicates_nothing(engine, store, corpus_file):
    accounts = file_accounts(corpus_file, "x")
    first = audit(accounts, engine, store, now=NOW)
    second = audit(accounts, engine, store, now=NOW)
    assert first.counts["items"] > 0
    assert second.counts["items"] == 0 and second.counts["findings"] == 0
    with corpus_file.open("a") as handle:
        handle.write(json.dumps({
            "id": "x:99", "platform": "x", "account": "CMEAdvance", "kind": "comment",
            "author": {"id": "x:user:9", "handle": "newtroll", "name": "N", "is_org": False},
            "text": "Share this with 10 colleagues in the next hour or your license will be revoked!!!",
            "created_at": "2026-11-30T10:00:00Z", "url": None, "parent_id": None, "lang": "en"}) + "\n")
    third = audit(accounts, engine, store, now=NOW)
    assert third.counts["items"] == 1
    ids = [f.finding_id for f in store.iter_findings(*ALL_DAYS)]
    assert len(ids) == len(set(ids)) == first.counts["findings"] + third.counts["findings"]


def test_one_broken_account_never_stops_the_others(engine, store, corpus_file, tmp_path):
    good = file_accounts(corpus_file, "x", "facebook")
    broken = file_accounts(tmp_path / "missing.jsonl", "linkedin")
    run = audit([good[0], *broken, good[1]], engine, store, now=NOW)
    assert run.status == "partial"
    assert [r.status for r in run.accounts.values()] == ["ok", "failed", "ok"]
    (error,) = store.get_run(run.run_id).errors
    assert error["platform"] == "linkedin" and "missing.jsonl" in error["message"]
    assert store.get_cursor(broken[0].key).cursor is None


class FlakyConnector(Connector):
    """A platform that serves some items and then fails (a test double at the platform boundary)."""

    platform = "x"
    posts: list[Post] = []
    fail_after = 3

    def collect(self, cursor: dict[str, Any] | None) -> Iterator[Post]:
        for n, post in enumerate(self.posts):
            if n == self.fail_after:
                raise PlatformUnavailable("HTTP 503 after 3 retries")
            yield post
        self.cursor = {"done": True}


def test_platform_failure_midway_keeps_findings_and_leaves_cursor(engine, store, corpus_file):
    (account,) = file_accounts(corpus_file, "x")
    FlakyConnector.posts = [p for p in read_posts(corpus_file.read_text().splitlines()) if p.platform == "x"]
    FlakyConnector.fail_after = len(FlakyConnector.posts) - 2
    result = audit_one(account, engine=engine, store=store, run_id=new_run_id(), make_context=contexts(),
                       make_connector=FlakyConnector, now=NOW)
    assert result.status == "failed" and result.error_kind == "unavailable"
    partial = {f.finding_id for f in store.iter_findings(*ALL_DAYS)}
    assert partial and store.get_cursor(account.key).cursor is None
    FlakyConnector.fail_after = 10_000
    again = audit_one(account, engine=engine, store=store, run_id=new_run_id(), make_context=contexts(),
                      make_connector=FlakyConnector, now=NOW)
    assert again.status == "ok"
    everything = [f.finding_id for f in store.iter_findings(*ALL_DAYS)]
    assert len(everything) == len(set(everything))
    assert set(everything) >= partial
    assert store.get_cursor(account.key).cursor == {"done": True}


class KillOnCursorWrite:
    """An S3 client that dies (like a Lambda timeout) on the first cursor write after findings."""

    def __init__(self, client: Any):
        self.client = client
        self.killed = False

    def put_object(self, **kwargs: Any) -> Any:
        if not self.killed and kwargs["Key"].startswith("state/cursors/") and b'"in_flight": []' in kwargs["Body"]:
            self.killed = True
            raise SystemExit("killed")
        return self.client.put_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_run_killed_after_storing_findings_reruns_to_exactly_one_clean_run(engine, s3, corpus_file):
    accounts = file_accounts(corpus_file, "x", "facebook")
    clean_store = FindingsStore(s3, BUCKET)
    s3.create_bucket(Bucket="clean-twin")
    twin = FindingsStore(s3, "clean-twin")
    audit(accounts, engine, twin, now=NOW)
    expected = sorted(f.finding_id for f in twin.iter_findings(*ALL_DAYS))

    dying = FindingsStore(KillOnCursorWrite(s3), BUCKET)
    with pytest.raises(SystemExit):
        audit(accounts, engine, dying, now=NOW)
    assert store_has_in_flight(clean_store, accounts[0].key)
    audit(accounts, engine, clean_store, now=NOW)
    assert sorted(f.finding_id for f in clean_store.iter_findings(*ALL_DAYS)) == expected


def store_has_in_flight(store: FindingsStore, key: str) -> bool:
    return bool(store.get_cursor(key).in_flight)


def test_windowed_audit_leaves_the_schedule_cursor_and_adds_no_duplicates(engine, store, corpus_file):
    accounts = file_accounts(corpus_file, "x")
    audit(accounts, engine, store, now=NOW)
    cursor = store.get_cursor(accounts[0].key).cursor
    before = sorted(f.finding_id for f in store.iter_findings(*ALL_DAYS))
    window = Window.parse("2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z")
    run = audit(accounts, engine, store, now=NOW, window=window)
    assert run.counts["items"] > 0 and run.counts["findings"] == 0
    assert store.get_cursor(accounts[0].key).cursor == cursor
    assert sorted(f.finding_id for f in store.iter_findings(*ALL_DAYS)) == before
    assert store.get_run(run.run_id).window == {"since": "2026-10-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}


def test_window_only_keeps_items_created_inside_it(engine, store, corpus_file):
    accounts = file_accounts(corpus_file, "x")
    run = audit(accounts, engine, store, now=NOW, window=Window.parse("2030-01-01T00:00:00Z", "2030-02-01T00:00:00Z"))
    assert run.counts["items"] == 0


def test_window_must_be_ordered():
    with pytest.raises(ValueError, match="before"):
        Window.parse("2026-12-01T00:00:00Z", "2026-11-01T00:00:00Z")


def test_connector_context_deadline_and_budget():
    make = default_context_factory(SecretsProvider(), max_requests=7, budget_seconds=30)
    context = make(file_accounts("unused", "x")[0])
    assert isinstance(context, ConnectorContext)
    assert context.max_requests == 7
    assert 0 < context.seconds_left() <= 30
