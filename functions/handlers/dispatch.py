"""Scheduled dispatch: one run per schedule firing, one SQS message per account (the worker audits each)."""

from __future__ import annotations

from typing import Any

from functions.fanout import claim_dispatch, dispatch_run, mark_dispatched, resume_stalled_dispatch, scheduled_run_id
from functions.runtime import get_runtime


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """EventBridge scheduled event → ``{"run_id", "status", "accounts"}``; ``event["accounts"]`` may name keys."""
    runtime = get_runtime()
    event = event if isinstance(event, dict) else {}
    accounts = runtime.accounts.select(event.get("accounts"))
    run_id = scheduled_run_id(event)
    store, sqs, queue_url = runtime.store, runtime.client("sqs"), runtime.settings.queue_url
    source = str(event.get("id") or "manual")
    if not claim_dispatch(store, run_id, source=source):
        # The same firing again: done already, in progress, or left half-done by an attempt that died.
        resumed = resume_stalled_dispatch(accounts, store=store, sqs=sqs, queue_url=queue_url, run_id=run_id)
        status = "resumed" if resumed is not None else "duplicate"
        return {"run_id": run_id, "status": status, "accounts": len(accounts)}
    run = dispatch_run(accounts, store=store, sqs=sqs, queue_url=queue_url, run_id=run_id, trigger="schedule")
    mark_dispatched(store, run_id, source=source)
    return {"run_id": run.run_id, "status": run.status, "accounts": len(run.accounts)}
