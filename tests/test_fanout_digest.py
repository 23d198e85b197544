"""The scheduled path end to end on the local stack: dispatch → SQS → worker → S3 → weekly digest → SES."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
import yaml

from functions.handlers import digest, dispatch, worker
from functions.model import read_posts
from functions.runtime import get_runtime, reset_runtime
from infra.fanout import drain_queue
from infra.localstack import scheduled_event
from tests.conftest import CORPUS

SENDER, RECIPIENT = "digest@socialaudit.example", "comms@socialaudit.example"


@pytest.mark.slow
def test_schedule_fans_out_audits_and_the_digest_reports_it(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from infra.localstack import LocalStack

    posts = tmp_path / "posts.jsonl"
    posts.write_bytes((CORPUS / "posts.jsonl").read_bytes())
    names = {p.platform: p.account for p in read_posts(posts.read_text().splitlines())}
    accounts = {
        "organization": "CME Advance",
        "recipients": [RECIPIENT],
        "accounts": [
            {"key": "x-main", "platform": "x", "account": names["x"],
             "options": {"source": "file", "path": str(posts)}},
            {"key": "fb-main", "platform": "facebook", "account": names["facebook"],
             "options": {"source": "file", "path": str(posts)}},
            {"key": "yt-gone", "platform": "youtube", "account": names["youtube"],
             "options": {"source": "file", "path": str(tmp_path / "missing.jsonl")}},
        ],
    }
    accounts_path = tmp_path / "accounts.yaml"
    accounts_path.write_text(yaml.safe_dump(accounts))
    now = datetime.now(UTC).replace(microsecond=0)
    with LocalStack() as local:
        local.create_bucket("socialaudit-e2e")
        local.verify_sender(SENDER)
        dlq = local.create_queue("socialaudit-e2e-dlq")
        dlq_arn = local.client("sqs").get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"]
        queue = local.create_queue("socialaudit-e2e-accounts",
                                   RedrivePolicy=f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "2"}}')
        env = local.settings_env(bucket="socialaudit-e2e", accounts_path=str(accounts_path), sender=SENDER,
                                 recipients=[])
        for name, value in {**env, "SOCIALAUDIT_QUEUE_URL": queue}.items():
            monkeypatch.setenv(name, value)
        reset_runtime()
        try:
            dispatched = dispatch.handler(scheduled_event("socialaudit-e2e-dispatch", now), None)
            stats = drain_queue(queue, worker.handler)
            run = get_runtime().store.get_run(dispatched["run_id"])
            sent = digest.handler(scheduled_event("socialaudit-e2e-digest", now + timedelta(minutes=5)), None)
            messages = local.sent_messages()
            dead = local.client("sqs").receive_message(QueueUrl=dlq).get("Messages", [])
        finally:
            reset_runtime()
    assert stats.deleted == 2 and stats.retried == 2 and len(dead) == 1
    assert run.status == "partial" and run.accounts["yt-gone"].status == "failed"
    assert run.counts["findings"] > 0
    assert run.accounts["x-main"].findings + run.accounts["fb-main"].findings == run.counts["findings"]
    assert sent and messages, sent
    (message,) = messages
    assert RECIPIENT in str(message["To"])
    html = message.get_body(preferencelist=("html",)).get_content()
    text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))
    # The digest counts what the fanned-out workers stored, and names the account that failed to collect.
    assert f"{run.counts['findings']} findings this week" in text
    assert "1 account could not be collected this week" in text
