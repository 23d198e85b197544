"""Weekly digest: the findings of the week through the day the schedule fired, rendered, archived, e-mailed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from functions.runtime import get_runtime
from functions.store import new_run_id


def period_end_of(event: dict[str, Any]) -> date:
    """The (exclusive) end day of the digest period: the event's ``period_end``, else the day after it fired.

    A digest firing on a Monday covers the seven days through that Monday, so it includes the
    findings of that morning's collection; the next Monday's digest starts where this one ended.
    """
    if isinstance(event, dict) and event.get("period_end"):
        return date.fromisoformat(str(event["period_end"]))
    fired = event.get("time") if isinstance(event, dict) else None
    moment = datetime.fromisoformat(str(fired).replace("Z", "+00:00")).astimezone(UTC) if fired else datetime.now(UTC)
    return moment.date() + timedelta(days=1)


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
    return result.to_dict()
