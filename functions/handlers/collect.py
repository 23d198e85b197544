"""Scheduled collect-and-audit: every configured account (or those the schedule names), in one run."""

from __future__ import annotations

from typing import Any

from functions.audit import run_audit
from functions.runtime import get_runtime
from functions.store import new_run_id


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """EventBridge scheduled event → run record summary. ``event["accounts"]`` may name account keys."""
    runtime = get_runtime()
    accounts = runtime.accounts.select(event.get("accounts") if isinstance(event, dict) else None)
    run = run_audit(
        accounts,
        engine=runtime.engine,
        store=runtime.store,
        run_id=new_run_id(),
        trigger="schedule",
        make_context=runtime.context_factory(),
    )
    summary = run.to_dict()
    summary.pop("accounts")
    return summary
