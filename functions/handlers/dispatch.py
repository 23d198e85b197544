"""Scheduled dispatch: one run per schedule firing, one SQS message per account (the worker audits each)."""

from __future__ import annotations

from typing import Any

from functions.fanout import claim_dispatch, dispatch_run, scheduled_run_id
from functions.runtime import get_runtime


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """EventBridge scheduled event → ``{"run_id", "status", "accounts"}``; ``event["accounts"]`` may name keys."""
    runtime = get_runtime()
    event = event if isinstance(event, dict) else {}
    accounts = runtime.accounts.select(event.get("accounts"))
    run_id = scheduled_run_id(event)
    if not claim_dispatch(runtime.store, run_id, source=str(event.get("id") or "manual")):
        # EventBridge delivered the same firing again: the first delivery already enqueued the run.
        return {"run_id": run_id, "status": "duplicate", "accounts": len(accounts)}
    run = dispatch_run(
        accounts,
        store=runtime.store,
        sqs=runtime.client("sqs"),
        queue_url=runtime.settings.queue_url,
        run_id=run_id,
        trigger="schedule",
    )
    return {"run_id": run.run_id, "status": run.status, "accounts": len(run.accounts)}
