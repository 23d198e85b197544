"""Weekly digest: the findings of the period before the schedule fired, rendered, archived and e-mailed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from functions.runtime import get_runtime
from functions.store import new_run_id


def period_end_of(event: dict[str, Any]) -> date:
    """The digest covers the days before this date: the event's ``period_end``, else the day it fired."""
    if isinstance(event, dict) and event.get("period_end"):
        return date.fromisoformat(str(event["period_end"]))
    fired = event.get("time") if isinstance(event, dict) else None
    if fired:
        return datetime.fromisoformat(str(fired).replace("Z", "+00:00")).astimezone(UTC).date()
    return datetime.now(UTC).date()


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """EventBridge weekly event → what was sent (or that the period was already sent)."""
    from functions.digest import run_weekly_digest

    runtime = get_runtime()
    result = run_weekly_digest(
        runtime.store,
        runtime.client("sesv2"),
        runtime.accounts,
        runtime.settings,
        period_end=period_end_of(event),
        run_id=new_run_id(),
    )
    return result.to_dict() if hasattr(result, "to_dict") else dict(result)
