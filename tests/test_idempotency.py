"""Idempotency on moto state: a schedule firing twice, an SQS message delivered twice, a digest fired twice.

Delivery is at least once everywhere (EventBridge, SQS, Lambda retries); what S3 holds and what SES
sent must be the same as if each event had arrived exactly once.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from functions.handlers import dispatch, worker
from infra.fanout import drain_queue
from infra.localstack import scheduled_event
from tests.test_reliability import (
    FIGURES,
    Deployment,
    deploy,
    now_utc,
    reliability_figures,
    sent_messages,
)

__all__ = ["reliability_figures"]  # the session summary of the reliability figures (autouse)


def findings_objects(stack: Deployment) -> dict[str, bytes]:
    """Findings object key → its bytes."""
    return {
        key: stack.s3.get_object(Bucket=stack.store.bucket, Key=key)["Body"].read()
        for key in stack.object_keys()
        if key.startswith("findings/")
    }


def run_ids(stack: Deployment) -> list[str]:
    return stack.store.list_runs()


def queued_bodies(stack: Deployment) -> list[str]:
    """Receive (and leave in flight) every queued message body."""
    bodies: list[str] = []
    while True:
        got = stack.sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return bodies
        bodies += [m["Body"] for m in got]


def test_schedule_firing_twice_dispatches_one_run_and_stores_each_finding_once(aws: None, tmp_path: Path) -> None:
    with deploy(tmp_path) as stack:
        event = scheduled_event("socialaudit-dispatch", now_utc(), "5f6c1d2e-firing-once")
        first = dispatch.handler(event, None)
        second = dispatch.handler(event, None)  # EventBridge delivered the same firing again
        assert second == {"run_id": first["run_id"], "status": "duplicate", "accounts": 7}
        bodies = queued_bodies(stack)
        assert len(bodies) == 7 and len({json.loads(b)["account"] for b in bodies}) == 7
        stack.sqs.purge_queue(QueueUrl=stack.queue_url)
        for body in bodies:  # put them back, visible (the receive above only looked)
            stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)
        drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
        objects = findings_objects(stack)

        third = dispatch.handler(event, None)  # and once more, after the run finished
        drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
        assert third["status"] == "duplicate"
        assert run_ids(stack) == [first["run_id"]]
        assert findings_objects(stack) == objects
        ids = [f.finding_id for f in stack.findings()]
        assert ids and len(ids) == len(set(ids))
        assert stack.run(first["run_id"]).counts["findings"] == len(ids)
        FIGURES["duplicate schedule firings"] += 2


def test_each_message_delivered_twice_adds_no_object_and_no_finding(aws: None, tmp_path: Path) -> None:
    with deploy(tmp_path) as stack:
        run_id = dispatch.handler(scheduled_event("socialaudit-dispatch", now_utc()), None)["run_id"]
        bodies = queued_bodies(stack)
        stack.sqs.purge_queue(QueueUrl=stack.queue_url)
        for body in bodies + bodies:  # every message twice, duplicates landing in the same batches
            stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)
        first = drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
        objects, run = findings_objects(stack), stack.run(run_id)
        for body in bodies:  # and once more, long after (a late redelivery)
            stack.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)
        late = drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)

        assert first.received == 14 and first.retried == 0 and late.received == 7 and late.retried == 0
        assert findings_objects(stack) == objects
        ids = [f.finding_id for f in stack.findings()]
        assert ids and len(ids) == len(set(ids)) == run.counts["findings"]
        assert stack.run(run_id).counts == run.counts and run.status == "ok"
        assert not stack.dead_letters()
        FIGURES["duplicate message deliveries"] += 14


def test_digest_fired_twice_for_a_period_sends_one_email_per_audience(aws: None, tmp_path: Path) -> None:
    with deploy(tmp_path) as stack:
        moment = now_utc()
        stack.schedule(moment)
        first = stack.send_digest(moment + timedelta(minutes=5), event_id="digest-firing-1")
        sent = len(sent_messages())
        archive = {k: v for k, v in _digest_objects(stack).items() if k.endswith("sent.json")}
        again = stack.send_digest(moment + timedelta(minutes=5), event_id="digest-firing-1")  # redelivered
        other = stack.send_digest(moment + timedelta(minutes=50), event_id="digest-firing-2")  # fired twice
        assert first["status"] == "sent" and first["messages"] == sent == 2  # everyone + the comms team
        assert again["status"] == other["status"] == "already-sent"
        assert again["messages"] == other["messages"] == 0
        assert len(sent_messages()) == sent
        assert {k: v for k, v in _digest_objects(stack).items() if k.endswith("sent.json")} == archive
        FIGURES["duplicate digest firings"] += 2


def _digest_objects(stack: Deployment) -> dict[str, Any]:
    return {
        key: stack.s3.get_object(Bucket=stack.store.bucket, Key=key)["Body"].read()
        for key in stack.object_keys()
        if key.startswith("digests/")
    }
