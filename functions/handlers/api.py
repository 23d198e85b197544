"""On-demand audits over HTTP (API Gateway HTTP API, payload v2, IAM-authenticated).

POST /audits            {"accounts": [...], "since": ISO, "until": ISO}  → 202 {"run_id": ...}
GET  /audits/{run_id}   → 200 the run's status, counts, errors and per-account results

POST only writes the run header and enqueues one message per account; the worker audits them.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from functions.audit import Window
from functions.config import ConfigError
from functions.fanout import FanoutError, dispatch_run, settled_status
from functions.logs import event as log_event
from functions.logs import get_logger
from functions.model import RecordError
from functions.runtime import get_runtime
from functions.store import check_run_id, new_run_id

log = get_logger("api")
MAX_BODY = 16_384
BODY_FIELDS = frozenset({"accounts", "since", "until"})


class BadRequest(ValueError):
    """The request body cannot start an audit; the message says why."""


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
        try:
            raw = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise BadRequest("request body is not valid base64-encoded UTF-8") from None
    if len(raw) > MAX_BODY:
        raise BadRequest(f"request body too large (at most {MAX_BODY} bytes)")
    try:
        data = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise BadRequest(f"request body is not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    unknown = sorted(set(data) - BODY_FIELDS)
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(unknown)} (allowed: accounts, since, until)")
    accounts = data.get("accounts")
    if accounts is not None and (not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts)):
        raise BadRequest("'accounts' must be a list of account keys")
    for name in ("since", "until"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise BadRequest(f"'{name}' must be an ISO-8601 timestamp string, e.g. 2026-11-01T00:00:00Z")
    return data


def start_audit(event: dict[str, Any]) -> dict[str, Any]:
    """Dispatch an on-demand run; 202 with its id at once (the queue's workers do the audit)."""
    runtime = get_runtime()
    try:
        data = _body(event)
        window = Window.parse(data.get("since"), data.get("until"))
        accounts = runtime.accounts.select(data.get("accounts"))
    except (BadRequest, ValueError, RecordError, ConfigError) as exc:
        return _reply(400, {"error": str(exc)})
    run_id = new_run_id()
    try:
        run = dispatch_run(
            accounts,
            store=runtime.store,
            sqs=runtime.client("sqs"),
            queue_url=runtime.settings.queue_url,
            run_id=run_id,
            trigger="on-demand",
            window=window,
        )
    except (FanoutError, ConfigError) as exc:
        return _reply(503, {"error": f"could not start the audit: {exc}", "run_id": run_id})
    log_event(log, "on-demand audit started", run_id=run_id, caller=_caller(event), accounts=len(accounts))
    return _reply(
        202,
        {"run_id": run.run_id, "status": run.status, "accounts": sorted(run.accounts), "window": run.window},
    )


def run_status(run_id: str) -> dict[str, Any]:
    """200 with the run assembled from its header and account results; 404 if unknown."""
    try:
        check_run_id(run_id)
    except ValueError as exc:
        return _reply(400, {"error": str(exc)})
    run = get_runtime().store.get_run(run_id)
    if run is None:
        return _reply(404, {"error": f"no run {run_id}"})
    run.status = settled_status(run)  # the header lags while the last account reports; results do not
    return _reply(200, run.to_dict())


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """HTTP API (payload v2) event → HTTP response."""
    if not _caller(event):
        # API Gateway already refuses unsigned calls (authorizer: aws_iam); this guards a misconfigured route.
        return _reply(403, {"error": "requests must be signed with AWS credentials (SigV4, IAM)"})
    route = event.get("routeKey") or ""
    if route == "POST /audits":
        return start_audit(event)
    if route == "GET /audits/{run_id}":
        return run_status(str((event.get("pathParameters") or {}).get("run_id", "")))
    return _reply(404, {"error": f"no route {route[:80]!r}"})
