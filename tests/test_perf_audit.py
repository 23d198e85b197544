"""Frugal with S3 and memory: writes per run follow the accounts, never the items; findings stream through a spool."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.audit import default_context_factory, run_audit
from functions.config import AccountConfig, parse_accounts
from functions.connectors.base import SecretsProvider
from functions.guidelines import load_engine
from functions.model import dumps_line
from functions.store import FindingsSpool, FindingsStore, new_run_id
from infra.sandbox import synthetic_posts

NOW = datetime(2026, 11, 24, 13, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine():
    return load_engine()


def write_items(path, n: int) -> list[AccountConfig]:
    """``n`` synthetic items (all seven demo accounts) in a JSON Lines file, and file accounts reading it."""
    items = list(synthetic_posts(n, end=NOW))
    path.write_text("".join(dumps_line(p) for p in items), encoding="utf-8")
    names = sorted({(p.platform, p.account) for p in items})
    doc = {"accounts": [{"platform": platform, "account": account, "options": {"source": "file", "path": str(path)}}
                        for platform, account in names]}
    return list(parse_accounts(doc).accounts)


def audit_writes(s3, engine, path, n: int, bucket: str) -> tuple[int, int, int]:
    """(S3 PUTs, accounts, findings) of one scheduled run over ``n`` items in a fresh bucket."""
    s3.create_bucket(Bucket=bucket)
    store = FindingsStore(s3, bucket)
    accounts = write_items(path, n)
    run = run_audit(accounts, engine=engine, store=store, run_id=new_run_id(), trigger="schedule",
                    make_context=default_context_factory(SecretsProvider(), max_requests=10, budget_seconds=60),
                    now=NOW)
    assert run.status == "ok" and run.counts["items"] == n
    return store.writes, len(accounts), run.counts["findings"]


def test_s3_writes_per_run_follow_the_accounts_not_the_items(s3, engine, tmp_path):
    small = audit_writes(s3, engine, tmp_path / "small.jsonl", 300, "perf-small")
    large = audit_writes(s3, engine, tmp_path / "large.jsonl", 3000, "perf-large")
    assert small[1] == large[1] == 7
    assert large[2] > 5 * small[2] > 0  # ten times the items, many times the findings...
    # ...and the same PUTs: per account its findings, in-flight marker, cursor and result; the run header twice.
    assert small[0] == large[0] == 4 * 7 + 2


def test_findings_spool_moves_to_disk_past_its_memory_budget_and_stores_every_finding(store, engine, monkeypatch):
    monkeypatch.setattr(FindingsSpool, "MEMORY_BYTES", 4096)
    findings = [f for post in synthetic_posts(400, end=NOW)
                for f in engine.findings(post, run_id="20261124T130000Z-0000abcd", detected_at="2026-11-24T13:00:00Z")]
    assert len(findings) > 20
    with FindingsSpool() as spool:
        for finding in findings:
            spool.add(finding)
        assert spool._file._rolled  # type: ignore[attr-defined]  # a real temporary file now, not memory
        key = store.put_findings("x-lakeshorecme", "20261124T130000Z-0000abcd", spool, day=NOW.date())
    assert key is not None and store.writes == 1
    assert store.read_findings_object(key) == findings


def test_an_empty_spool_writes_nothing(store):
    with FindingsSpool() as spool:
        assert store.put_findings("x-lakeshorecme", "20261124T130000Z-0000abcd", spool, day=NOW.date()) is None
    assert store.writes == 0


def test_spooled_object_is_byte_for_byte_what_a_list_would_have_written(store, engine):
    posts = list(synthetic_posts(200, end=NOW))
    findings = [f for p in posts for f in engine.findings(p, run_id="20261124T130000Z-0000abcd",
                                                          detected_at="2026-11-24T13:00:00Z")]
    listed = store.put_findings("listed", "20261124T130000Z-0000abcd", findings, day=NOW.date())
    with FindingsSpool() as spool:
        for finding in findings:
            spool.add(finding)
        spooled = store.put_findings("spooled", "20261124T130000Z-0000abcd", spool, day=NOW.date())
    assert listed and spooled
    raw = [store.s3.get_object(Bucket=store.bucket, Key=k)["Body"].read() for k in (listed, spooled)]
    assert raw[0] == raw[1] and raw[0].count(b"\n") == len(findings)
