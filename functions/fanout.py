"""Per-account fan-out through SQS: the message shape, enqueueing a run, and auditing one message.

A run is dispatched once (schedule or API): its header is written with every account pending,
then one message per account goes to the queue. Each worker invocation audits the accounts of
its messages, records each result, and closes the run when no account is pending any more.

Delivery is at least once, so every step is idempotent:

- dispatch of a schedule firing: the run id derives from the EventBridge event, and a
  conditional write of ``runs/<run_id>/dispatch.json`` lets only the first delivery enqueue;
- a message whose account already has a final result in the run (ok, partial, skipped) is
  acknowledged without auditing again; findings objects are written with ``IfNoneMatch``;
- a failed account is reported back to SQS (``batchItemFailures``) and retried alone, up to the
  queue's ``maxReceiveCount``, then kept in the dead-letter queue; its failure stays in the run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from functions.audit import Window, audit_one, finish_run, start_run
from functions.config import AccountConfig, ConfigError
from functions.logs import event, get_logger
from functions.model import AccountResult, RecordError, RunRecord, format_time, parse_time, utc_now
from functions.store import FindingsStore, check_run_id, new_run_id

log = get_logger("fanout")
MESSAGE_VERSION = 1
FINAL_STATUSES = frozenset({"ok", "partial", "skipped"})  # an account with one of these is never audited again
NO_RETRY_KINDS = frozenset({"auth", "config"})  # failures a retry cannot fix; a person must act
SQS_BATCH = 10  # SendMessageBatch takes at most 10 entries
DISPATCH_STALE_SECONDS = 75  # beyond dispatch's 60 s timeout: no live attempt holds an older unfinished claim


class MessageError(ValueError):
    """A queue message that is not an audit request this version understands."""


class FanoutError(RuntimeError):
    """SQS did not accept every message of a run."""


@dataclass(frozen=True, slots=True)
class AuditMessage:
    """One account of one run, as carried by an SQS message body (JSON)."""

    run_id: str
    account: str
    trigger: str
    window: Window | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": MESSAGE_VERSION,
                "run_id": self.run_id,
                "account": self.account,
                "trigger": self.trigger,
                "window": self.window.to_dict() if self.window else None,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, body: str) -> AuditMessage:
        """Parse and validate a message body; raises MessageError saying what is wrong."""
        try:
            data = json.loads(body)
        except (TypeError, json.JSONDecodeError) as exc:
            raise MessageError(f"message body is not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("v") != MESSAGE_VERSION:
            raise MessageError(f"not a version {MESSAGE_VERSION} audit message")
        account, trigger = data.get("account"), data.get("trigger")
        if not isinstance(account, str) or not account or not isinstance(trigger, str):
            raise MessageError("message needs 'account' and 'trigger' strings")
        try:
            run_id = check_run_id(data.get("run_id"))  # type: ignore[arg-type]
            window = _window_from(data.get("window"))
        except (ValueError, RecordError) as exc:
            raise MessageError(str(exc)) from None
        return cls(run_id=run_id, account=account, trigger=trigger, window=window)


def _window_from(data: Any) -> Window | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise MessageError("'window' must be an object with 'since' and 'until'")
    since = parse_time(data.get("since"), field="window.since")  # type: ignore[arg-type]
    until = parse_time(data.get("until"), field="window.until")  # type: ignore[arg-type]
    if since >= until:
        raise MessageError("window: 'since' must be before 'until'")
    return Window(since, until)


def scheduled_run_id(scheduled_event: dict[str, Any]) -> str:
    """The run id of a schedule firing: the same event (redelivered) always gives the same id."""
    event_id, fired = scheduled_event.get("id"), scheduled_event.get("time")
    if not isinstance(event_id, str) or not event_id or not isinstance(fired, str):
        return new_run_id()  # invoked by hand, not by EventBridge: nothing to deduplicate against
    moment = parse_time(fired, field="time")
    return f"{moment.strftime('%Y%m%dT%H%M%SZ')}-{hashlib.sha256(event_id.encode()).hexdigest()[:8]}"


def claim_dispatch(store: FindingsStore, run_id: str, *, source: str, now: datetime | None = None) -> bool:
    """Claim the right to dispatch ``run_id``; False if an earlier delivery already did."""
    body = {"run_id": run_id, "source": source, "claimed_at": format_time(now or datetime.now(UTC))}
    # A conditional PUT: S3 lets exactly one of two concurrent deliveries create the record.
    return store.claim_dispatch(run_id, body)


def mark_dispatched(store: FindingsStore, run_id: str, *, source: str) -> None:
    """Record that every message of the run is on the queue (a later delivery of the firing has nothing to do)."""
    body = {"run_id": run_id, "source": source, "enqueued_at": utc_now()}
    store.put_dispatch(run_id, body)


def resume_stalled_dispatch(
    accounts: list[AccountConfig],
    *,
    store: FindingsStore,
    sqs: Any,
    queue_url: str | None,
    run_id: str,
    now: datetime | None = None,
) -> RunRecord | None:
    """Finish a dispatch whose first attempt died after its claim; None when there is nothing to resume.

    A claim without ``enqueued_at`` that is older than any dispatch can live belongs to a dead attempt
    (Lambda retries a failed asynchronous invocation after a minute or more). Only accounts still
    pending are enqueued again; a message that did get out is recognised by the worker.
    """
    state = store.get_dispatch(run_id)
    if state.get("enqueued_at") or not state.get("claimed_at"):
        return None
    age = ((now or datetime.now(UTC)) - parse_time(state["claimed_at"], field="claimed_at")).total_seconds()
    if age < DISPATCH_STALE_SECONDS:
        return None  # the first delivery may still be enqueueing
    run = store.get_run(run_id)
    if run is None:
        run = dispatch_run(accounts, store=store, sqs=sqs, queue_url=queue_url, run_id=run_id, trigger="schedule")
    else:
        if not queue_url:
            raise ConfigError("SOCIALAUDIT_QUEUE_URL is not set (the per-account audit queue)")
        pending = pending_accounts(run)
        enqueue(sqs, queue_url, [AuditMessage(run_id, key, run.trigger, _window_from(run.window)) for key in pending])
        event(log, "stalled dispatch resumed", logging.WARNING, run_id=run_id, accounts=len(pending))
    mark_dispatched(store, run_id, source=str(state.get("source") or "resumed"))
    return run


def dispatch_run(
    accounts: list[AccountConfig],
    *,
    store: FindingsStore,
    sqs: Any,
    queue_url: str | None,
    run_id: str,
    trigger: str,
    window: Window | None = None,
) -> RunRecord:
    """Write the run header (every account pending), then enqueue one message per account."""
    if not queue_url:
        raise ConfigError("SOCIALAUDIT_QUEUE_URL is not set (the per-account audit queue)")
    run = start_run(accounts, store=store, run_id=run_id, trigger=trigger, window=window)
    messages = [AuditMessage(run_id, a.key, trigger, window) for a in accounts]
    enqueue(sqs, queue_url, messages)
    event(log, "run dispatched", run_id=run_id, trigger=trigger, accounts=len(messages))
    return run


def enqueue(sqs: Any, queue_url: str, messages: Iterable[AuditMessage]) -> int:
    """Send the messages in batches of ten; raises FanoutError naming any SQS refused."""
    batch: list[AuditMessage] = []
    sent = 0
    for message in messages:
        batch.append(message)
        if len(batch) == SQS_BATCH:
            sent += _send_batch(sqs, queue_url, batch)
            batch = []
    if batch:
        sent += _send_batch(sqs, queue_url, batch)
    return sent


def _send_batch(sqs: Any, queue_url: str, batch: list[AuditMessage]) -> int:
    entries = [{"Id": str(i), "MessageBody": m.to_json()} for i, m in enumerate(batch)]
    reply = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
    failed = reply.get("Failed") or []
    if failed:
        names = ", ".join(f"{batch[int(f['Id'])].account} ({f.get('Code')})" for f in failed)
        raise FanoutError(f"SQS refused messages for: {names}")
    return len(entries)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What processing one message did: the account's result, and whether SQS should deliver it again."""

    result: AccountResult | None
    retry: bool
    duplicate: bool = False


def process_message(message: AuditMessage, runtime: Any, *, now: datetime | None = None) -> Outcome:
    """Audit the message's account in its run, unless a final result is already recorded."""
    store: FindingsStore = runtime.store
    run = store.get_run(message.run_id)
    if run is None:
        raise MessageError(f"run {message.run_id} has no header (was it dispatched?)")
    if message.account not in run.accounts:
        raise MessageError(f"account {message.account!r} is not part of run {message.run_id}")
    recorded = run.accounts[message.account]
    if recorded.status in FINAL_STATUSES:
        event(log, "duplicate delivery skipped", run_id=message.run_id, account=message.account)
        return Outcome(recorded, retry=False, duplicate=True)
    try:
        account = runtime.accounts.select([message.account])[0]
    except ConfigError as exc:  # the account left the configuration after dispatch
        result = AccountResult(account=message.account, platform=recorded.platform, status="failed",
                               error_kind="config", error=str(exc)[:500])
        store.put_account_result(message.run_id, result, message.account)
    else:
        result = audit_one(
            account,
            engine=runtime.engine,
            store=store,
            run_id=message.run_id,
            make_context=runtime.context_factory(),
            window=message.window,
            now=now,
        )
    close_run_if_done(store, message.run_id)
    return Outcome(result, retry=result.status == "failed" and result.error_kind not in NO_RETRY_KINDS)


def pending_accounts(run: RunRecord) -> list[str]:
    """Keys of the accounts that have not reported a result yet."""
    return [key for key, result in run.accounts.items() if result.status == "pending"]


def close_run_if_done(store: FindingsStore, run_id: str) -> RunRecord | None:
    """Write the run's final status once no account is pending; a retried account updates it again."""
    run = store.get_run(run_id)
    if run is None or pending_accounts(run):
        return run
    # Two workers finishing at once both write the same status: harmless, so no lock is taken.
    return finish_run(run, store)


def settled_status(run: RunRecord) -> str:
    """The run's status as its account results stand now ("running" while any is pending)."""
    if pending_accounts(run):
        return "running"
    statuses = {r.status for r in run.accounts.values()}
    # Same rule as functions.audit.finish_run, computed without writing (a status read changes nothing).
    return "failed" if statuses == {"failed"} else "partial" if statuses & {"failed", "partial"} else "ok"


def log_message_failure(message_id: str, reason: str) -> None:
    """Log why a message goes back to the queue (and, after maxReceiveCount, to the dead-letter queue)."""
    event(log, "message will be retried", logging.WARNING, message_id=message_id, reason=reason[:300])
