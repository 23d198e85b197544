"""On-demand audits over HTTP (API Gateway HTTP API, IAM-authenticated).

POST /audits            {"accounts": [...], "since": ISO, "until": ISO}  → 202 {"run_id": ...}
GET  /audits/{run_id}   → the run's status and counts
"""

from __future__ import annotations

import base64
import json
from typing import Any

from functions.audit import Window, run_audit
from functions.config import ConfigError
from functions.model import RecordError
from functions.runtime import get_runtime
from functions.store import check_run_id, new_run_id

MAX_BODY = 16_384


def _reply(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body),
    }


def _caller(event: dict[str, Any]) -> str | None:
    """The IAM principal API Gateway authenticated; None when the call was not signed."""
    iam = ((event.get("requestContext") or {}).get("authorizer") or {}).get("iam") or {}
    return iam.get("userArn") or iam.get("callerId")


def _body(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode("utf-8", "replace")
    if len(raw) > MAX_BODY:
        raise ValueError("request body too large")
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("request body must be a JSON object")
    accounts = data.get("accounts")
    if accounts is not None and (not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts)):
        raise ValueError("'accounts' must be a list of account keys")
    return data


def start_audit(event: dict[str, Any]) -> dict[str, Any]:
    runtime = get_runtime()
    try:
        data = _body(event)
        window = Window.parse(data.get("since"), data.get("until"))
        accounts = runtime.accounts.select(data.get("accounts"))
    except (ValueError, RecordError, ConfigError) as exc:
        return _reply(400, {"error": str(exc)})
    run = run_audit(
        accounts,
        engine=runtime.engine,
        store=runtime.store,
        run_id=new_run_id(),
        trigger="on-demand",
        make_context=runtime.context_factory(),
        window=window,
    )
    return _reply(202, {"run_id": run.run_id, "status": run.status, "counts": run.counts})


def run_status(run_id: str) -> dict[str, Any]:
    try:
        check_run_id(run_id)
    except ValueError as exc:
        return _reply(400, {"error": str(exc)})
    run = get_runtime().store.get_run(run_id)
    if run is None:
        return _reply(404, {"error": "no such run"})
    return _reply(200, run.to_dict())


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """HTTP API (payload v2) event → HTTP response."""
    if not _caller(event):
        return _reply(403, {"error": "requests must be signed with AWS credentials (IAM)"})
    route = event.get("routeKey") or ""
    if route == "POST /audits":
        return start_audit(event)
    if route == "GET /audits/{run_id}":
        return run_status(str((event.get("pathParameters") or {}).get("run_id", "")))
    return _reply(404, {"error": "no such route"})
