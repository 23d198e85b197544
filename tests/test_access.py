"""Access: who may call, read and invoke what; what tests/test_deploy.py and tests/test_api.py do not already pin.

The packaged template (the ``template`` fixture of test_deploy): the findings bucket's policy denies
plain HTTP for every principal on the bucket and its objects and grants nobody anything; no role
escapes least privilege through NotAction/NotResource, managed policies or iam:PassRole; functions
can be invoked only by the AWS service that triggers them, from their own rule or API. The API
handler refuses calls whose request context carries no IAM principal, whatever else it carries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from functions.handlers import api
from functions.runtime import reset_runtime
from tests.test_api import http_event
from tests.test_deploy import FUNCTIONS, as_list, resources, statements, template
from tests.test_fanout import Stack, make_stack

__all__ = ["template"]  # the packaged template fixture, shared with test_deploy


def test_bucket_policy_denies_plain_http_to_everyone_on_bucket_and_objects(template: dict[str, Any]) -> None:
    policy = template["Resources"]["FindingsBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "FindingsBucket"}
    (deny,) = policy["PolicyDocument"]["Statement"]
    assert deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert as_list(deny["Resource"]) == [{"Fn::GetAtt": ["FindingsBucket", "Arn"]},
                                         {"Fn::Sub": "${FindingsBucket.Arn}/*"}]


def test_no_bucket_or_queue_grants_anything_to_anyone(template: dict[str, Any]) -> None:
    for kind in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"):
        for name, policy in resources(template, kind).items():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Deny", (name, statement)  # only guards, never grants
    bucket = template["Resources"]["FindingsBucket"]["Properties"]
    assert bucket.get("AccessControl") in (None, "Private")
    assert "WebsiteConfiguration" not in bucket and "CorsConfiguration" not in bucket
    assert bucket.get("OwnershipControls", {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})["Rules"] == [
        {"ObjectOwnership": "BucketOwnerEnforced"}]


def test_roles_cannot_widen_their_own_rights(template: dict[str, Any]) -> None:
    for name in FUNCTIONS:
        role = template["Resources"][f"{name}Role"]["Properties"]
        assert not role.get("ManagedPolicyArns"), name  # every right is written out in the template
        for statement in statements(template, f"{name}Role"):
            assert "NotAction" not in statement and "NotResource" not in statement, (name, statement)
            assert "Principal" not in statement
            for action in as_list(statement["Action"]):
                assert not action.startswith(("iam:", "sts:", "kms:Decrypt", "lambda:", "s3:PutBucket",
                                              "s3:DeleteBucket", "secretsmanager:Put", "secretsmanager:Create")), (
                    name, action)


def test_functions_are_invoked_only_by_their_own_trigger(template: dict[str, Any]) -> None:
    assert not resources(template, "AWS::Lambda::Url")  # no function URL (they can be made public)
    permissions = resources(template, "AWS::Lambda::Permission").values()
    found = {}
    for permission in permissions:
        props = permission["Properties"]
        assert props["Action"] == "lambda:InvokeFunction"
        assert props["Principal"] in ("events.amazonaws.com", "apigateway.amazonaws.com"), props
        assert props.get("SourceArn"), props  # never "any rule or any API of any account"
        found[props["FunctionName"]["Fn::GetAtt"][0]] = props["Principal"]
    assert found == {"DispatchLambdaFunction": "events.amazonaws.com", "DigestLambdaFunction": "events.amazonaws.com",
                     "ApiLambdaFunction": "apigateway.amazonaws.com"}  # the worker: only its SQS event source
    api_source = json.dumps(next(p["Properties"]["SourceArn"] for p in permissions
                                 if p["Properties"]["Principal"] == "apigateway.amazonaws.com"))
    assert '{"Ref": "HttpApi"}' in api_source


@pytest.fixture
def stack(s3: Any, tmp_path: Any) -> Iterator[Stack]:
    yield make_stack(tmp_path, s3)
    reset_runtime()


def unsigned_variants() -> list[dict[str, Any]]:
    """Request contexts without an IAM principal: no authorizer, a JWT/Lambda authorizer, an empty IAM block."""
    base = http_event("POST /audits", body="{}", signed=False)
    variants = []
    for authorizer in (None, {}, {"jwt": {"claims": {"sub": "x"}, "scopes": None}}, {"lambda": {"user": "admin"}},
                       {"iam": {}}, {"iam": {"userArn": "", "callerId": ""}}, {"iam": None}):
        event = json.loads(json.dumps(base))
        if authorizer is not None:
            event["requestContext"]["authorizer"] = authorizer
        variants.append(event)
    variants.append({**base, "requestContext": None})
    variants.append({k: v for k, v in base.items() if k != "requestContext"})
    return variants


def test_calls_without_an_iam_principal_are_refused_and_start_nothing(stack: Stack) -> None:
    for event in unsigned_variants():
        for route in ("POST /audits", "GET /audits/{run_id}"):
            reply = api.handler({**event, "routeKey": route, "pathParameters": {"run_id": "20261124T130000Z-00000000"}})
            assert reply["statusCode"] == 403, (route, event.get("requestContext"))
            assert "run_id" not in json.loads(reply["body"])
    assert stack.queued() == 0 and stack.store.list_runs() == []
