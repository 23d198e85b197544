"""Nothing lost: a worker killed half-way (at several points) and re-run stores exactly what one clean run stores.

The kill is a ``BaseException`` raised at the edge (an HTTP request to the platform, an S3 PUT), like
Lambda ending an invocation: no ``except Exception`` of ours can catch it. Lambda then hands the
whole SQS batch back to the queue; ``lambda_invoke`` does the same, and the queue is drained again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from functions.handlers import dispatch, worker
from functions.model import Post
from infra.fanout import drain_queue, sqs_event
from infra.localstack import scheduled_event
from infra.sandbox.data import Dataset
from tests.test_reliability import (
    FIGURES,
    Deployment,
    clean,
    deploy,
    findings_by_account,
    now_utc,
    reliability_figures,
)

__all__ = ["clean", "reliability_figures"]  # the clean twin fixture, shared with test_reliability


class Killed(BaseException):
    """The invocation ends here (timeout, out of memory, a crash): nothing of ours may catch it."""


class KillingSession(requests.Session):
    """The run's HTTP session; the ``at``-th request to a platform kills the invocation."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at
        self.count = 0
        self.fired = False

    def request(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.count += 1
        if not self.fired and self.count == self.at:
            self.fired = True
            raise Killed(f"killed at platform request {self.at}")
        return super().request(*args, **kwargs)


class KillingS3:
    """The S3 client; the ``nth`` PUT matching ``matches`` kills the invocation, before or after it lands."""

    def __init__(self, client: Any, matches: Callable[[dict[str, Any]], bool], *, nth: int = 1, after: bool = False,
                 refuse: bool = False):
        self.client = client
        self.matches = matches
        self.nth = nth
        self.after = after
        self.refuse = refuse  # S3 answers 500 InternalError instead: the invocation lives on
        self.seen = 0
        self.fired = False

    def put_object(self, **kwargs: Any) -> Any:
        hit = not self.fired and self.matches(kwargs)
        if hit:
            self.seen += 1
            hit = self.seen == self.nth
        if hit and self.refuse:
            from botocore.exceptions import ClientError

            self.fired = True
            error = {"Error": {"Code": "InternalError", "Message": "We encountered an internal error."},
                     "ResponseMetadata": {"HTTPStatusCode": 500}}
            raise ClientError(error, "PutObject")  # type: ignore[arg-type]
        if hit and not self.after:
            self.fired = True
            raise Killed(f"killed before writing {kwargs['Key']}")
        reply = self.client.put_object(**kwargs)
        if hit:
            self.fired = True
            raise Killed(f"killed after writing {kwargs['Key']}")
        return reply

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def lambda_invoke(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The worker as Lambda runs it: an invocation that dies returns its whole batch to the queue."""
    try:
        return worker.handler(event, context)
    except Killed:
        FIGURES["kills"] += 1
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}


def is_cursor_move(put: dict[str, Any]) -> bool:
    """The cursor write that moves past stored findings (its in-flight list is emptied)."""
    return put["Key"].startswith("state/cursors/") and b'"in_flight": []' in put["Body"]


def is_in_flight_mark(put: dict[str, Any]) -> bool:
    return put["Key"].startswith("state/cursors/") and b'"in_flight": []' not in put["Body"]


def is_findings(put: dict[str, Any]) -> bool:
    return put["Key"].startswith("findings/")


def is_account_result(put: dict[str, Any]) -> bool:
    return "/accounts/" in put["Key"] and put["Key"].startswith("runs/")


KILLS: dict[str, Callable[[Any], Any]] = {
    # mid-collection: the platform request that dies is inside the first, then a later account's paging
    "mid-collection-request-3": lambda s3: KillingSession(3),
    "mid-collection-request-14": lambda s3: KillingSession(14),
    # the in-flight marker is written, the findings object is not
    "after-in-flight-mark-before-findings": lambda s3: KillingS3(s3, is_findings, nth=2),
    # the findings object landed, the cursor did not move
    "after-findings-before-cursor": lambda s3: KillingS3(s3, is_cursor_move, nth=2),
    # an account finished and recorded its result; the next one never started
    "between-accounts": lambda s3: KillingS3(s3, is_account_result, nth=3, after=True),
    # mid SQS batch: the fourth message's findings landed, the invocation dies before it returns
    "mid-sqs-batch-after-findings": lambda s3: KillingS3(s3, is_findings, nth=4, after=True),
    # not a kill: S3 refuses the third findings write (500); that account fails, is retried alone, recovers
    "s3-refuses-findings-write": lambda s3: KillingS3(s3, is_findings, nth=3, refuse=True),
    # the second in-flight marker landed, then the invocation died
    "after-in-flight-mark": lambda s3: KillingS3(s3, is_in_flight_mark, nth=2, after=True),
}


def arm(stack: Deployment, kill: str) -> Any:
    """Install the kill at the edge it happens at (the runtime's HTTP session or S3 client)."""
    runtime = stack.runtime
    killer = KILLS[kill](runtime.client("s3"))
    if isinstance(killer, KillingSession):
        runtime.http = killer  # type: ignore[misc]
    else:
        runtime.clients["s3"] = killer
        runtime.__dict__.pop("store", None)  # the store is rebuilt on the killing client
    return killer


def stored_ids(stack: Deployment) -> list[str]:
    """Every stored finding id, duplicates included (object by object)."""
    return sorted(f.finding_id for f in stack.findings())


@pytest.mark.parametrize("kill", list(KILLS))
def test_killed_run_reruns_to_exactly_the_findings_of_one_clean_run(
    kill: str, clean: dict[str, set[str]], aws: None, tmp_path: Path
) -> None:
    expected = sorted(i for ids in clean.values() for i in ids)
    with deploy(tmp_path) as stack:
        killer = arm(stack, kill)
        moment = now_utc()
        run_id = dispatch.handler(scheduled_event("socialaudit-dispatch", moment), None)["run_id"]
        stats = drain_queue(stack.queue_url, lambda_invoke, sqs=stack.sqs)
        assert killer.fired, kill  # the kill happened, and the redelivered batch finished the run
        assert stats.retried >= 1 and stats.invocations >= 2
        FIGURES["reruns"] += 1

        run = stack.run(run_id)
        assert {r.status for r in run.accounts.values()} == {"ok"}, run.errors
        assert stored_ids(stack) == expected  # same ids, each once
        assert findings_by_account(stack) == clean
        assert run.counts["findings"] == len(expected)  # the run's own count agrees with what it stored
        assert not any(stack.store.get_cursor(a.key).in_flight for a in stack.runtime.accounts.accounts)

        # The cursors cover everything: the next firing collects nothing old and stores nothing twice.
        later = stack.run(stack.schedule(moment + timedelta(hours=1))["run_id"])
        assert later.status == "ok" and later.counts["items"] == 0 and later.counts["findings"] == 0
        assert stored_ids(stack) == expected


def flagged_copy(stack: Deployment, platform: str) -> Post:
    """A new comment on ``platform`` with the text of one that was flagged (so it is flagged too)."""
    findings = {f.post_id for f in stack.findings() if f.platform == platform}
    served = stack.sandbox.posts
    original = next(p for p in served if p.id in findings and p.kind == "comment")
    native = original.id.split(":", 1)[1]
    return dataclasses.replace(original, id=f"{platform}:{int(native) + 7_777}")


def test_items_that_arrive_before_the_redelivery_are_stored_too(clean: dict[str, set[str]], aws: None,
                                                                tmp_path: Path) -> None:
    # The redelivered message re-collects from the old cursor and meets a comment posted meanwhile:
    # its finding must be stored although this run's findings object already exists.
    with deploy(tmp_path) as stack:
        killer = arm(stack, "after-findings-before-cursor")
        killer.matches = lambda put: is_cursor_move(put) and "mastodon" in put["Key"]
        killer.nth = 1
        moment = now_utc()
        run_id = dispatch.handler(scheduled_event("socialaudit-dispatch", moment), None)["run_id"]
        received = stack.sqs.receive_message(QueueUrl=stack.queue_url, MaxNumberOfMessages=10,
                                             AttributeNames=["All"])["Messages"]
        arn = stack.sqs.get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["QueueArn"])
        reply = lambda_invoke(sqs_event(received, arn["Attributes"]["QueueArn"], "us-east-1"), None)
        assert killer.fired and reply["batchItemFailures"]
        for message in received:  # Lambda returns the batch: visible again after the timeout
            stack.sqs.change_message_visibility(QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"],
                                                VisibilityTimeout=0)
        newcomer = flagged_copy(stack, "mastodon")
        stack.sandbox.posts.append(newcomer)
        stack.sandbox.data = Dataset(stack.sandbox.posts)
        drain_queue(stack.queue_url, lambda_invoke, sqs=stack.sqs)
        FIGURES["reruns"] += 1

        run = stack.run(run_id)
        assert {r.status for r in run.accounts.values()} == {"ok"}, run.errors
        ids = [f.finding_id for f in stack.findings()]
        assert len(ids) == len(set(ids))
        assert newcomer.id in {f.post_id for f in stack.findings()}, "a finding collected on redelivery was lost"
        assert set(ids) > {i for v in clean.values() for i in v}
        assert run.counts["findings"] == len(ids)

