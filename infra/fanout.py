"""The local stand-in for Lambda's SQS event source: drain a queue into the worker handler.

Builds the same SQS event Lambda sends (Records with messageId, receiptHandle, body, attributes),
deletes the messages the handler did not report in ``batchItemFailures``, and makes the reported
ones visible again at once, so retries and the queue's redrive to the dead-letter queue happen
as they would on AWS, only faster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class DrainStats:
    """What a drain did: invocations, messages received, deleted and handed back for retry."""

    invocations: int = 0
    received: int = 0
    deleted: int = 0
    retried: int = 0
    failed_ids: list[str] = field(default_factory=list)


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS event source passes to a function, for messages from ReceiveMessage."""
    return {"Records": [_record(m, queue_arn, region) for m in messages]}


def _record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    attributes = message.get("Attributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": message.get("MessageAttributes") or {},
        "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),  # noqa: S324
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def drain_queue(
    queue_url: str,
    handler: Handler,
    *,
    sqs: Any = None,
    batch_size: int = 10,
    max_invocations: int = 1000,
) -> DrainStats:
    """Invoke ``handler`` with batches from the queue until it is empty; returns what happened."""
    if sqs is None:
        from functions.runtime import get_runtime

        sqs = get_runtime().client("sqs")
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    region = queue_arn.split(":")[3]
    stats = DrainStats()
    while stats.invocations < max_invocations:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            break
        stats.invocations += 1
        stats.received += len(messages)
        reply = handler(sqs_event(messages, queue_arn, region), None) or {}
        _settle(sqs, queue_url, messages, reply, stats)
    return stats


def _settle(sqs: Any, queue_url: str, messages: list[dict[str, Any]], reply: dict[str, Any], stats: DrainStats) -> None:
    """Delete what succeeded; make the reported failures visible again (Lambda waits the visibility timeout)."""
    failed = {item["itemIdentifier"] for item in reply.get("batchItemFailures") or []}
    for message in messages:
        if message["MessageId"] in failed:
            stats.retried += 1
            stats.failed_ids.append(message["MessageId"])
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            stats.deleted += 1
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
