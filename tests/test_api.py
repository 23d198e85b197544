"""The on-demand HTTP API, called with API Gateway HTTP API (payload 2.0) events on real moto S3 + SQS."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.handlers import api, worker
from functions.runtime import reset_runtime
from infra.fanout import drain_queue
from tests.test_fanout import Stack, make_stack

IAM = {
    "accessKey": "AKIAIOSFODNN7EXAMPLE",
    "accountId": "123456789012",
    "callerId": "AIDACKCEVSQ6C2EXAMPLE",
    "cognitoIdentity": None,
    "principalOrgId": "o-abcdef0123",
    "userArn": "arn:aws:iam::123456789012:user/comms-lead",
    "userId": "AIDACKCEVSQ6C2EXAMPLE",
}


def http_event(route: str, *, body: str | None = None, run_id: str | None = None, signed: bool = True,
               base64_body: bool = False) -> dict[str, Any]:
    """The event API Gateway (HTTP API, payload format 2.0, aws_iam authorizer) passes to the function."""
    method, path = route.split(" ", 1)
    raw_path = path.replace("{run_id}", run_id or "")
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "a1b2c3d4e5",
        "domainName": "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "a1b2c3d4e5",
        "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                 "userAgent": "socialaudit-cli/0.1"},
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": route,
        "stage": "$default",
        "time": "24/Nov/2026:13:00:00 +0000",
        "timeEpoch": 1795957200000,
    }
    if signed:
        context["authorizer"] = {"iam": IAM}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route,
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": context["domainName"]},
        "requestContext": context,
        "isBase64Encoded": base64_body,
    }
    if body is not None:
        event["body"] = base64.b64encode(body.encode()).decode() if base64_body else body
    if run_id is not None:
        event["pathParameters"] = {"run_id": run_id}
    return event


def call(event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    reply = api.handler(event, None)
    assert reply["headers"]["content-type"] == "application/json"
    return reply["statusCode"], json.loads(reply["body"])


@pytest.fixture
def stack(s3: Any, tmp_path: Any) -> Iterator[Stack]:
    yield make_stack(tmp_path, s3)
    reset_runtime()


def queued_bodies(stack: Stack) -> list[dict[str, Any]]:
    return [json.loads(m["Body"]) for m in stack.receive()]


def test_post_enqueues_one_message_per_chosen_account_and_answers_202(stack: Stack) -> None:
    body = json.dumps({"accounts": ["x-main", "fb-main"], "since": "2026-11-01T00:00:00Z",
                       "until": "2026-11-22T00:00:00Z"})
    status, reply = call(http_event("POST /audits", body=body))
    assert status == 202
    assert reply["status"] == "running" and reply["accounts"] == ["fb-main", "x-main"]
    assert reply["window"] == {"since": "2026-11-01T00:00:00Z", "until": "2026-11-22T00:00:00Z"}
    messages = queued_bodies(stack)
    assert sorted(m["account"] for m in messages) == ["fb-main", "x-main"]
    assert {m["run_id"] for m in messages} == {reply["run_id"]} and {m["trigger"] for m in messages} == {"on-demand"}
    assert all(m["window"] == reply["window"] for m in messages)
    assert stack.store.get_run(reply["run_id"]).trigger == "on-demand"


def test_post_without_body_audits_every_account(stack: Stack) -> None:
    status, reply = call(http_event("POST /audits"))
    assert status == 202 and reply["accounts"] == ["fb-main", "x-main", "yt-main"] and reply["window"] is None
    assert len(queued_bodies(stack)) == 3


def test_status_follows_the_run_from_running_to_its_result(stack: Stack) -> None:
    _, started = call(http_event("POST /audits", body='{"accounts": ["x-main", "yt-main"]}'))
    run_id = started["run_id"]
    status, running = call(http_event("GET /audits/{run_id}", run_id=run_id))
    assert status == 200 and running["status"] == "running"
    assert {a["status"] for a in running["accounts"].values()} == {"pending"}
    drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
    status, done = call(http_event("GET /audits/{run_id}", run_id=run_id))
    assert status == 200 and done["status"] == "partial" and done["finished_at"]
    assert done["counts"] == {"accounts": 2, "failed_accounts": 1, "items": 2, "findings": 1, "requests": 1}
    assert done["errors"][0]["account"] == "AllianceCME" and done["errors"][0]["platform"] == "youtube"


def test_windowed_audit_only_counts_items_inside_the_window(stack: Stack) -> None:
    body = json.dumps({"accounts": ["x-main"], "since": "2026-11-20T10:30:00Z", "until": "2026-11-21T00:00:00Z"})
    _, started = call(http_event("POST /audits", body=body))
    drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
    _, done = call(http_event("GET /audits/{run_id}", run_id=started["run_id"]))
    assert done["status"] == "ok" and done["counts"]["items"] == 1 and done["counts"]["findings"] == 0
    assert stack.store.get_cursor("x-main").cursor is None  # an on-demand window leaves the schedule's cursor alone


def test_unsigned_calls_are_refused(stack: Stack) -> None:
    status, reply = call(http_event("POST /audits", body="{}", signed=False))
    assert status == 403 and "signed" in reply["error"]
    status, _ = call(http_event("GET /audits/{run_id}", run_id="20261124T060000Z-0123abcd", signed=False))
    assert status == 403
    assert stack.queued() == 0 and stack.store.list_runs() == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "request body is not JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"accounts": "x-main"}', "'accounts' must be a list of account keys"),
        ('{"accounts": [1]}', "'accounts' must be a list of account keys"),
        ('{"accounts": ["nope"]}', "unknown account(s): nope"),
        ('{"since": "2026-11-10T00:00:00Z", "until": "2026-11-01T00:00:00Z"}', "'since' must be before 'until'"),
        ('{"since": "last tuesday"}', "not an ISO-8601 timestamp"),
        ('{"since": 1700000000}', "'since' must be an ISO-8601 timestamp string"),
        ('{"since": "2026-11-01T00:00:00"}', "no time zone"),
        ('{"acounts": ["x-main"]}', "unknown field(s): acounts"),
        ('{"accounts": ["x-main"], "pad": "' + "x" * 20_000 + '"}', "request body too large"),
    ],
)
def test_bad_request_bodies_get_400_with_the_reason(stack: Stack, body: str, message: str) -> None:
    status, reply = call(http_event("POST /audits", body=body))
    assert status == 400 and message in reply["error"], reply
    assert stack.queued() == 0 and stack.store.list_runs() == []


def test_base64_bodies_are_decoded_and_checked(stack: Stack) -> None:
    status, reply = call(http_event("POST /audits", body='{"accounts": ["x-main"]}', base64_body=True))
    assert status == 202 and reply["accounts"] == ["x-main"]
    broken = http_event("POST /audits", body="{}", base64_body=True)
    broken["body"] = "%%% not base64"
    status, reply = call(broken)
    assert status == 400 and "base64" in reply["error"]


def test_status_of_unknown_or_malformed_run(stack: Stack) -> None:
    status, reply = call(http_event("GET /audits/{run_id}", run_id="20261124T060000Z-0123abcd"))
    assert status == 404 and "20261124T060000Z-0123abcd" in reply["error"]
    status, reply = call(http_event("GET /audits/{run_id}", run_id="..%2F..%2Fstate"))
    assert status == 400 and "not a run id" in reply["error"]


def test_unknown_route_is_404(stack: Stack) -> None:
    status, _ = call(http_event("DELETE /audits/{run_id}", run_id="20261124T060000Z-0123abcd"))
    assert status == 404


def test_post_without_a_queue_answers_503_and_names_the_setting(stack: Stack) -> None:
    from functions.config import Settings
    from functions.runtime import Runtime

    settings = stack.runtime.settings
    runtime = Runtime(Settings(bucket=settings.bucket, accounts_path=settings.accounts_path))  # no queue_url
    runtime.clients.update(stack.runtime.clients)
    reset_runtime(runtime)
    status, reply = call(http_event("POST /audits", body="{}"))
    assert status == 503 and "SOCIALAUDIT_QUEUE_URL" in reply["error"]
