"""Handlers called with the events AWS sends, on real moto services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml

from functions.handlers import collect
from functions.runtime import reset_runtime
from infra.localstack import scheduled_event
from tests.conftest import BUCKET, CORPUS


@pytest.fixture
def deployed(s3, tmp_path, monkeypatch):
    """Settings as Lambda would see them, with two accounts read from files."""
    good = tmp_path / "posts.jsonl"
    good.write_bytes((CORPUS / "posts.jsonl").read_bytes())
    accounts = {
        "organization": "CME Advance",
        "accounts": [
            {"key": "x-main", "platform": "x", "account": "CMEAdvance",
             "options": {"source": "file", "path": str(good)}},
            {"key": "fb-main", "platform": "facebook", "account": "CMEAdvance",
             "options": {"source": "file", "path": str(tmp_path / "gone.jsonl")}},
        ],
    }
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump(accounts), encoding="utf-8")
    monkeypatch.setenv("SOCIALAUDIT_BUCKET", BUCKET)
    monkeypatch.setenv("SOCIALAUDIT_ACCOUNTS", str(path))
    reset_runtime()
    yield
    reset_runtime()


SCHEDULED = scheduled_event("socialaudit-collect", datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
                            "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")


def test_scheduled_collect_records_each_account_and_its_failure(deployed, store):
    reply = collect.handler(SCHEDULED, None)
    assert reply["status"] == "partial"
    assert reply["counts"]["accounts"] == 2 and reply["counts"]["failed_accounts"] == 1
    assert reply["counts"]["findings"] > 0
    run = store.get_run(reply["run_id"])
    assert run.accounts["x-main"].status == "ok"
    assert run.accounts["fb-main"].status == "failed"
    assert "gone.jsonl" in run.accounts["fb-main"].error


def test_schedule_can_name_accounts(deployed, store):
    reply = collect.handler({**SCHEDULED, "accounts": ["x-main"]}, None)
    assert reply["status"] == "ok" and reply["counts"]["accounts"] == 1


def test_runtime_gives_the_engine_evaluator_clients_only_when_the_policy_enables_them(deployed, s3, tmp_path,
                                                                                   monkeypatch):
    from functions.runtime import get_runtime

    assert [e.name for e in get_runtime().engine.extra] == ["learned"]  # the local one needs no client
    assert "comprehend" not in get_runtime().clients
    policy = tmp_path / "org.yaml"
    policy.write_text("name: org\nextends: alliance-cme\nevaluators:\n  comprehend: {enabled: true, max_calls: 5}\n",
                      encoding="utf-8")
    monkeypatch.setenv("SOCIALAUDIT_POLICY", str(policy))
    reset_runtime()
    engine = get_runtime().engine
    assert [e.name for e in engine.extra] == ["learned", "comprehend"]
    assert "comprehend" in get_runtime().clients
