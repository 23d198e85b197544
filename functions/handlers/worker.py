"""Per-account audit: an SQS batch of audit messages → the messages SQS must deliver again.

Uses partial batch responses (``ReportBatchItemFailures``): only the failed accounts' messages
are retried, the others are deleted.
"""

from __future__ import annotations

from typing import Any

from functions.fanout import AuditMessage, MessageError, log_message_failure, process_message
from functions.logs import get_logger, log_context
from functions.runtime import get_runtime

log = get_logger("worker")
SAFETY_MILLIS = 60_000  # do not start an account with less time than this left; SQS redelivers it


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """SQS event → ``{"batchItemFailures": [{"itemIdentifier": messageId}, ...]}``."""
    runtime = get_runtime()
    failures: list[dict[str, str]] = []
    for record in event.get("Records") or []:
        message_id = str(record.get("messageId", ""))
        if context is not None and context.get_remaining_time_in_millis() < SAFETY_MILLIS:
            failures.append({"itemIdentifier": message_id})
            log_message_failure(message_id, "not started: too little time left in this invocation")
            continue
        reason = _process_record(record, runtime)
        if reason is not None:
            failures.append({"itemIdentifier": message_id})
            log_message_failure(message_id, reason)
    return {"batchItemFailures": failures}


def _process_record(record: dict[str, Any], runtime: Any) -> str | None:
    """Audit one record's account; the reason it must be retried, or None when done."""
    with log_context(message_id=record.get("messageId")):
        try:
            message = AuditMessage.from_json(record.get("body", ""))
            outcome = process_message(message, runtime)
        except MessageError as exc:
            return f"bad message: {exc}"  # retried, then kept in the dead-letter queue for a person
        except Exception as exc:  # S3 or SQS trouble: this message alone goes back to the queue
            log.exception("message processing failed")
            return f"{type(exc).__name__}: {exc}"
        if outcome.retry and outcome.result is not None:
            return f"account failed ({outcome.result.error_kind}): {outcome.result.error}"
    return None
