"""Fan-out on real moto S3 + SQS: dispatch → queue → worker → store, with the events AWS sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
import yaml

from functions.audit import start_run
from functions.config import Settings
from functions.fanout import AuditMessage, MessageError, claim_dispatch, enqueue, scheduled_run_id
from functions.handlers import dispatch, worker
from functions.model import AccountResult, Author, Finding, Post, finding_id_for
from functions.runtime import Runtime, reset_runtime
from infra.fanout import drain_queue, sqs_event
from infra.localstack import scheduled_event
from tests.conftest import BUCKET, post_dict

TODAY = datetime.now(UTC).date()
ALL_DAYS = (TODAY - timedelta(days=1), TODAY + timedelta(days=2))  # findings are filed under the day detected
MAX_RECEIVES = 3
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:socialaudit-test-accounts"
SCHEDULED = scheduled_event("socialaudit-dev-dispatch", datetime(2026, 11, 24, 6, 0, tzinfo=UTC),
                            "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")


class KeywordEngine:
    """A one-rule engine: flags the word 'idiot' (the fan-out, not the policy, is under test here)."""

    policy_name = "test"
    policy_version = "1"

    def findings(self, post: Post, *, run_id: str, detected_at: str, parent: Post | None = None) -> list[Finding]:
        if "idiot" not in post.text:
            return []
        rule = "harassment/insult"
        return [
            Finding(
                finding_id=finding_id_for(post.id, rule, post.text), post_id=post.id, platform=post.platform,
                account=post.account, category="harassment", rule=rule, severity="high", action="hide",
                confidence=0.9, evidence="idiot", post_url=post.url, author=post.author,
                created_at=post.created_at, detected_at=detected_at, policy="test", policy_version="1", run_id=run_id,
            )
        ]


@dataclass
class Stack:
    """The deployed pieces on moto: bucket, queue with its dead-letter queue, accounts, runtime."""

    runtime: Runtime
    sqs: Any
    queue_url: str
    dlq_url: str
    posts_path: Any
    missing_path: Any

    def queued(self, url: str | None = None) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def receive(self, n: int = 10) -> list[dict[str, Any]]:
        reply = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=n, AttributeNames=["All"])
        return reply.get("Messages", [])

    @property
    def store(self) -> Any:
        return self.runtime.store


def write_posts(path: Any, *posts: dict[str, Any]) -> None:
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")


def make_stack(tmp_path: Any, s3: Any) -> Stack:
    sqs = boto3.client("sqs", region_name="us-east-1")
    dlq_url = sqs.create_queue(QueueName="socialaudit-test-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    queue_url = sqs.create_queue(QueueName="socialaudit-test-accounts", Attributes={"RedrivePolicy": redrive})[
        "QueueUrl"
    ]
    posts = tmp_path / "posts.jsonl"
    write_posts(
        posts,
        post_dict(id="x:1", text="you idiot", created_at="2026-11-20T10:00:00Z"),
        post_dict(id="x:2", text="thanks for the session", created_at="2026-11-20T11:00:00Z"),
        post_dict(id="facebook:3", platform="facebook", text="what an idiot", created_at="2026-11-21T09:00:00Z"),
    )
    missing = tmp_path / "late.jsonl"
    accounts = {
        "organization": "CME Advance",
        "accounts": [
            {"key": "x-main", "platform": "x", "account": "AllianceCME",
             "options": {"source": "file", "path": str(posts)}},
            {"key": "fb-main", "platform": "facebook", "account": "AllianceCME",
             "options": {"source": "file", "path": str(posts)}},
            {"key": "yt-main", "platform": "youtube", "account": "AllianceCME",
             "options": {"source": "file", "path": str(missing)}},
        ],
    }
    accounts_path = tmp_path / "accounts.yaml"
    accounts_path.write_text(yaml.safe_dump(accounts), encoding="utf-8")
    runtime = Runtime(Settings(bucket=BUCKET, accounts_path=str(accounts_path), queue_url=queue_url))
    runtime.clients.update(s3=s3, sqs=sqs)
    runtime.engine = KeywordEngine()  # type: ignore[misc]
    reset_runtime(runtime)
    return Stack(runtime, sqs, queue_url, dlq_url, posts, missing)


@pytest.fixture
def stack(s3: Any, tmp_path: Any) -> Iterator[Stack]:
    yield make_stack(tmp_path, s3)
    reset_runtime()


def as_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The SQS event Lambda would build from these received messages."""
    return sqs_event(messages, QUEUE_ARN, "us-east-1")


def by_account(stack: Stack, messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {json.loads(m["Body"])["account"]: m for m in messages}


def test_schedule_fans_out_one_message_per_account(stack: Stack) -> None:
    reply = dispatch.handler(SCHEDULED, None)
    assert reply["run_id"] == scheduled_run_id(SCHEDULED)
    assert reply["run_id"].startswith("20261124T060000Z-")
    assert reply["accounts"] == 3 and reply["status"] == "running"
    bodies = [json.loads(m["Body"]) for m in stack.receive()]
    assert sorted(b["account"] for b in bodies) == ["fb-main", "x-main", "yt-main"]
    assert {b["run_id"] for b in bodies} == {reply["run_id"]} and {b["trigger"] for b in bodies} == {"schedule"}
    run = stack.store.get_run(reply["run_id"])
    assert run.status == "running" and {r.status for r in run.accounts.values()} == {"pending"}


def test_schedule_firing_twice_starts_one_run(stack: Stack) -> None:
    first = dispatch.handler(SCHEDULED, None)
    again = dispatch.handler(dict(SCHEDULED), None)
    assert again["run_id"] == first["run_id"] and again["status"] == "duplicate"
    assert stack.queued() == 3
    assert stack.store.list_runs() == [first["run_id"]]
    other = dispatch.handler({**SCHEDULED, "id": "a-different-firing", "time": "2026-11-25T06:00:00Z"}, None)
    assert other["run_id"] != first["run_id"] and stack.queued() == 6


def test_a_firing_whose_dispatch_died_after_the_claim_is_resumed_by_the_retry(stack: Stack) -> None:
    run_id = scheduled_run_id(SCHEDULED)
    assert claim_dispatch(stack.store, run_id, source=SCHEDULED["id"], now=datetime.now(UTC) - timedelta(minutes=3))
    reply = dispatch.handler(SCHEDULED, None)  # Lambda's retry of the failed asynchronous invocation
    assert reply == {"run_id": run_id, "status": "resumed", "accounts": 3}
    assert stack.queued() == 3 and stack.store.get_run(run_id).trigger == "schedule"
    assert dispatch.handler(SCHEDULED, None)["status"] == "duplicate" and stack.queued() == 3


def test_a_dispatch_that_died_mid_enqueue_resends_only_pending_accounts(stack: Stack) -> None:
    run_id = scheduled_run_id(SCHEDULED)
    accounts = list(stack.runtime.accounts.accounts)
    assert claim_dispatch(stack.store, run_id, source=SCHEDULED["id"], now=datetime.now(UTC) - timedelta(minutes=3))
    start_run(accounts, store=stack.store, run_id=run_id, trigger="schedule")
    stack.store.put_account_result(run_id, AccountResult(account="AllianceCME", platform="x", items=2), "x-main")
    assert dispatch.handler(SCHEDULED, None)["status"] == "resumed"
    assert sorted(json.loads(m["Body"])["account"] for m in stack.receive()) == ["fb-main", "yt-main"]


def test_a_recent_claim_is_left_to_the_delivery_that_holds_it(stack: Stack) -> None:
    run_id = scheduled_run_id(SCHEDULED)
    assert claim_dispatch(stack.store, run_id, source=SCHEDULED["id"])
    assert dispatch.handler(SCHEDULED, None)["status"] == "duplicate"
    assert stack.queued() == 0


def test_one_failing_account_is_the_only_batch_item_failure(stack: Stack) -> None:
    run_id = dispatch.handler(SCHEDULED, None)["run_id"]
    messages = by_account(stack, stack.receive())
    event = as_event(list(messages.values()))
    reply = worker.handler(event, None)
    assert reply == {"batchItemFailures": [{"itemIdentifier": messages["yt-main"]["MessageId"]}]}
    run = stack.store.get_run(run_id)
    assert run.accounts["x-main"].status == "ok" and run.accounts["x-main"].findings == 1
    assert run.accounts["fb-main"].status == "ok" and run.accounts["fb-main"].findings == 1
    assert run.accounts["yt-main"].status == "failed" and "late.jsonl" in run.accounts["yt-main"].error
    assert sorted(f.post_id for f in stack.store.iter_findings(*ALL_DAYS)) == ["facebook:3", "x:1"]
    # The last account reported, so the run is closed with the status its accounts give it.
    assert run.status == "partial" and run.finished_at and run.counts["findings"] == 2


def test_worker_accepts_the_exact_record_lambda_sends(stack: Stack) -> None:
    run_id = dispatch.handler({**SCHEDULED, "accounts": ["x-main"]}, None)["run_id"]
    (message,) = stack.receive()
    event = {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764136800000",
                    "SenderId": "AROAEXAMPLE:socialaudit-dev-dispatch",
                    "ApproximateFirstReceiveTimestamp": "1764136800012",
                },
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:socialaudit-dev-accounts",
                "awsRegion": "us-east-1",
            }
        ]
    }
    assert worker.handler(event, None) == {"batchItemFailures": []}
    run = stack.store.get_run(run_id)
    assert run.status == "ok" and run.counts == {
        "accounts": 1, "failed_accounts": 0, "items": 2, "findings": 1, "requests": 1,
    }


def test_duplicate_delivery_adds_no_findings_and_keeps_the_count(stack: Stack) -> None:
    run_id = dispatch.handler({**SCHEDULED, "accounts": ["x-main"]}, None)["run_id"]
    (message,) = stack.receive()
    event = as_event([message])
    assert worker.handler(event, None) == {"batchItemFailures": []}
    first = stack.store.get_run(run_id).accounts["x-main"]
    assert worker.handler(event, None) == {"batchItemFailures": []}  # SQS delivered it again
    again = stack.store.get_run(run_id)
    assert again.accounts["x-main"] == first and first.items == 2 and first.findings == 1
    assert again.counts["findings"] == 1
    assert len(list(stack.store.iter_findings(*ALL_DAYS))) == 1


def test_failed_account_retries_alone_then_lands_in_the_dead_letter_queue(stack: Stack) -> None:
    run_id = dispatch.handler(SCHEDULED, None)["run_id"]
    stats = drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
    assert stats.deleted == 2 and stats.retried == MAX_RECEIVES
    assert stack.queued() == 0 and stack.queued(stack.dlq_url) == 1
    (dead,) = stack.sqs.receive_message(QueueUrl=stack.dlq_url)["Messages"]
    assert json.loads(dead["Body"])["account"] == "yt-main"
    run = stack.store.get_run(run_id)
    assert run.status == "partial" and run.counts["failed_accounts"] == 1 and run.counts["items"] == 3


def test_retry_that_succeeds_turns_the_run_ok(stack: Stack) -> None:
    run_id = dispatch.handler(SCHEDULED, None)["run_id"]
    messages = by_account(stack, stack.receive())
    event = as_event(list(messages.values()))
    worker.handler(event, None)
    assert stack.store.get_run(run_id).status == "partial"
    late = post_dict(id="youtube:9", platform="youtube", text="idiot", created_at="2026-11-22T08:00:00Z")
    write_posts(stack.missing_path, late)
    retry = as_event([messages["yt-main"]])
    assert worker.handler(retry, None) == {"batchItemFailures": []}
    run = stack.store.get_run(run_id)
    assert run.status == "ok" and run.accounts["yt-main"].findings == 1 and run.counts["findings"] == 3


def test_bad_message_goes_back_to_the_queue_with_a_reason(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{not json")
    stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps({"v": 1, "run_id": "../etc",
                                                                             "account": "x-main", "trigger": "x"}))
    messages = stack.receive()
    reply = worker.handler(as_event(messages), None)
    assert sorted(f["itemIdentifier"] for f in reply["batchItemFailures"]) == sorted(m["MessageId"] for m in messages)
    with pytest.raises(MessageError, match="not a run id"):
        AuditMessage.from_json(messages[0]["Body"] if "run_id" in messages[0]["Body"] else messages[1]["Body"])


def test_message_for_an_unknown_run_is_refused(stack: Stack) -> None:
    enqueue(stack.sqs, stack.queue_url, [AuditMessage("20261124T060000Z-deadbeef", "x-main", "schedule")])
    reply = worker.handler(as_event(stack.receive()), None)
    assert len(reply["batchItemFailures"]) == 1
    assert list(stack.store.iter_findings(*ALL_DAYS)) == []


def test_account_removed_after_dispatch_fails_without_retry(stack: Stack, tmp_path: Any) -> None:
    run_id = dispatch.handler({**SCHEDULED, "accounts": ["x-main"]}, None)["run_id"]
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text(yaml.safe_dump({"accounts": [{"key": "fb-main", "platform": "facebook", "account": "A"}]}))
    runtime = Runtime(Settings(bucket=BUCKET, accounts_path=str(fewer), queue_url=stack.queue_url))
    runtime.clients.update(stack.runtime.clients)
    reset_runtime(runtime)
    reply = worker.handler(as_event(stack.receive()), None)
    assert reply == {"batchItemFailures": []}  # a retry cannot bring the account back: a person must
    result = stack.store.get_run(run_id).accounts["x-main"]
    assert result.status == "failed" and result.error_kind == "config" and "unknown account" in result.error


def test_worker_leaves_records_it_has_no_time_for(stack: Stack) -> None:
    dispatch.handler(SCHEDULED, None)
    messages = stack.receive()

    class AlmostOut:
        def get_remaining_time_in_millis(self) -> int:
            return 5_000

    reply = worker.handler(as_event(messages), AlmostOut())
    assert len(reply["batchItemFailures"]) == 3
    assert list(stack.store.iter_findings(*ALL_DAYS)) == []


def test_windowed_message_round_trips() -> None:
    from functions.audit import Window

    window = Window.parse("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z")
    message = AuditMessage("20261124T060000Z-0123abcd", "x-main", "on-demand", window)
    assert AuditMessage.from_json(message.to_json()) == message
    with pytest.raises(MessageError, match="before"):
        AuditMessage.from_json(message.to_json().replace("2026-11-01", "2026-12-01"))


def test_finding_author_survives_the_queue(stack: Stack) -> None:
    dispatch.handler({**SCHEDULED, "accounts": ["x-main"]}, None)
    drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
    (finding,) = stack.store.iter_findings(*ALL_DAYS)
    assert finding.author == Author(id="x:user:42", handle="drjane", name="Jane Roe", is_org=False)
