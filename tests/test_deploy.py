"""The AWS deployment as packaged offline by `make package`: cfn-lint, least-privilege IAM, schedules, queue, bucket.

The package is built once per session (about 5-30 s; npm and pip fetch from their registries on a fresh
clone) unless an up-to-date one is already there. A failing `make package` fails these tests; it never skips them.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from functions.config import load_accounts

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / ".serverless" / "cloudformation-template-update-stack.json"
ARTIFACT = ROOT / "build" / "socialaudit.zip"
INPUTS = ("serverless.yml", "Makefile", "package.json", "package-lock.json", "pyproject.toml")
# cfn-lint warnings accepted, each with the reason; anything else (and every error) fails the test.
IGNORED_WARNINGS = {
    "W3005": "redundant DependsOn that the framework itself emits for roles and HTTP API integrations",
}
FUNCTIONS = ("Dispatch", "Worker", "Digest", "Api")


def _stale() -> bool:
    if not TEMPLATE.exists() or not ARTIFACT.exists():
        return True
    if '"socialaudit-dev-worker"' not in TEMPLATE.read_text():
        return True  # another stage was packaged last
    built = min(TEMPLATE.stat().st_mtime, ARTIFACT.stat().st_mtime)
    sources = [ROOT / name for name in INPUTS] + list((ROOT / "functions").rglob("*.py"))
    return any(path.stat().st_mtime > built for path in sources if path.exists())


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """The CloudFormation template of stage dev, packaged now if missing or older than its sources."""
    (ROOT / "build").mkdir(exist_ok=True)
    with open(ROOT / "build" / ".package.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # other test sessions may package at the same time
        if _stale():
            env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
            done = subprocess.run(
                ["make", "--no-print-directory", "package", "STAGE=dev"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
            )
            assert done.returncode == 0, f"make package failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return dict(json.loads(TEMPLATE.read_text()))


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = template["Resources"][role]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def s3_object_prefixes(template: dict[str, Any], role: str, action: str) -> set[str]:
    """The bucket prefixes a role may apply an S3 object action to (``findings/*``...)."""
    out: set[str] = set()
    for statement in statements(template, role):
        if action in as_list(statement["Action"]):
            for resource in as_list(statement["Resource"]):
                assert "Fn::Sub" in resource, resource
                assert resource["Fn::Sub"].startswith("${FindingsBucket.Arn}/"), resource
                out.add(resource["Fn::Sub"].removeprefix("${FindingsBucket.Arn}/"))
    return out


def actions(template: dict[str, Any], role: str) -> set[str]:
    return {a for s in statements(template, role) for a in as_list(s["Action"])}


def test_template_passes_cfn_lint(template: dict[str, Any]) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), "--format", "json", str(TEMPLATE)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode in (0, 2, 4, 6, 8, 10, 12, 14), done.stderr  # bit flags: 2 error, 4 warning, 8 info
    matches = json.loads(done.stdout or "[]")
    errors = [m for m in matches if m["Level"] == "Error"]
    unexpected = [m for m in matches if m["Level"] == "Warning" and m["Rule"]["Id"] not in IGNORED_WARNINGS]
    assert errors == [] and unexpected == [], json.dumps(errors + unexpected, indent=1)[:3000]


def test_each_function_runs_under_its_own_role(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    roles = {name: fn["Properties"]["Role"]["Fn::GetAtt"][0] for name, fn in functions.items()}
    assert roles == {f"{name}LambdaFunction": f"{name}Role" for name in FUNCTIONS}
    assert set(resources(template, "AWS::IAM::Role")) == {f"{name}Role" for name in FUNCTIONS}
    for name in FUNCTIONS:
        trust = template["Resources"][f"{name}Role"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust == [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                          "Action": "sts:AssumeRole"}]


def test_no_wildcard_actions_or_resources(template: dict[str, Any]) -> None:
    for role in (f"{name}Role" for name in FUNCTIONS):
        for statement in statements(template, role):
            assert statement["Effect"] == "Allow"
            for action in as_list(statement["Action"]):
                assert "*" not in action, (role, action)
            for resource in as_list(statement["Resource"]):
                text = json.dumps(resource)
                assert resource != "*" and '"*"' not in text, (role, resource)
                # Wildcards only inside a named prefix: an object prefix, a log group's streams, the stage's secrets.
                if "*" in text:
                    assert text.endswith(('/*"}', ':*"}')), (role, resource)


def test_s3_access_is_limited_to_the_prefixes_each_function_uses(template: dict[str, Any]) -> None:
    assert s3_object_prefixes(template, "DispatchRole", "s3:PutObject") == {"runs/*"}
    assert s3_object_prefixes(template, "DispatchRole", "s3:GetObject") == {"runs/*"}
    assert s3_object_prefixes(template, "WorkerRole", "s3:GetObject") == {"findings/*", "state/cursors/*", "runs/*"}
    assert s3_object_prefixes(template, "WorkerRole", "s3:PutObject") == {"findings/*", "state/cursors/*", "runs/*"}
    assert s3_object_prefixes(template, "DigestRole", "s3:PutObject") == {"digests/*"}
    assert s3_object_prefixes(template, "DigestRole", "s3:DeleteObject") == {"digests/*"}
    assert s3_object_prefixes(template, "DigestRole", "s3:GetObject") == {
        "findings/*", "runs/*", "state/acks/*", "digests/*",
    }
    assert s3_object_prefixes(template, "ApiRole", "s3:PutObject") == {"runs/*"}
    assert s3_object_prefixes(template, "ApiRole", "s3:GetObject") == {"runs/*"}
    for role in ("DispatchRole", "WorkerRole", "DigestRole", "ApiRole"):  # listing: on this bucket, no other
        (listing,) = [s for s in statements(template, role) if "s3:ListBucket" in as_list(s["Action"])]
        assert listing["Resource"] == {"Fn::GetAtt": ["FindingsBucket", "Arn"]}


def test_only_the_functions_that_need_them_reach_queue_secrets_and_ses(template: dict[str, Any]) -> None:
    assert actions(template, "DispatchRole") == {"logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject",
                                                 "s3:PutObject", "s3:ListBucket", "sqs:SendMessage"}
    assert {a for a in actions(template, "WorkerRole") if not a.startswith(("s3:", "logs:"))} == {
        "secretsmanager:GetSecretValue", "sqs:ReceiveMessage", "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
    }
    assert {a for a in actions(template, "DigestRole") if not a.startswith(("s3:", "logs:"))} == {
        "ses:SendEmail", "ses:SendRawEmail",
    }
    assert {a for a in actions(template, "ApiRole") if not a.startswith(("s3:", "logs:"))} == {"sqs:SendMessage"}
    (secrets,) = [s for s in statements(template, "WorkerRole") if s["Action"] == ["secretsmanager:GetSecretValue"]]
    assert secrets["Resource"]["Fn::Sub"].endswith(":secret:socialaudit/dev/*")
    (ses,) = [s for s in statements(template, "DigestRole") if "ses:SendEmail" in s["Action"]]
    assert ses["Resource"]["Fn::Sub"].endswith(":identity/example.org")
    for name in FUNCTIONS:
        (logs,) = [s for s in statements(template, f"{name}Role") if s["Sid"] == "Logs"]
        assert logs["Resource"]["Fn::Sub"].endswith(f":log-group:/aws/lambda/socialaudit-dev-{name.lower()}:*")


def test_daily_collection_and_weekly_digest_schedules(template: dict[str, Any]) -> None:
    rules = {r["Properties"]["Targets"][0]["Arn"]["Fn::GetAtt"][0]: r["Properties"]
             for r in resources(template, "AWS::Events::Rule").values()}
    assert rules["DispatchLambdaFunction"]["ScheduleExpression"] == "cron(0 6 * * ? *)"
    assert rules["DigestLambdaFunction"]["ScheduleExpression"] == "cron(0 13 ? * MON *)"
    # Stage dev audits on demand only; other stages inherit the enabled default.
    assert {r["State"] for r in rules.values()} == {"DISABLED"}


def test_worker_consumes_the_queue_with_partial_batch_failures(template: dict[str, Any]) -> None:
    (mapping,) = resources(template, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]
    assert props["FunctionName"] == {"Fn::GetAtt": ["WorkerLambdaFunction", "Arn"]}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["AccountsQueue", "Arn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["ScalingConfig"]["MaximumConcurrency"] >= 2
    queue = template["Resources"]["AccountsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["AccountsDeadLetterQueue", "Arn"]}
    assert int(queue["RedrivePolicy"]["maxReceiveCount"]) == 3
    worker_timeout = template["Resources"]["WorkerLambdaFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * worker_timeout  # AWS: at least six times the function timeout
    assert queue["SqsManagedSseEnabled"] is True
    assert template["Resources"]["AccountsDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True


def test_findings_bucket_is_private_encrypted_versioned_and_expires(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["FindingsBucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    props = bucket["Properties"]
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True} and len(
        props["PublicAccessBlockConfiguration"]) == 4
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    lifecycle = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert lifecycle["expire-findings"]["Prefix"] == "findings/"
    assert lifecycle["expire-findings"]["ExpirationInDays"] == 30  # stage dev; the default is 730
    assert lifecycle["expire-old-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == 30
    (deny,) = template["Resources"]["FindingsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_http_api_routes_require_iam_signatures(template: dict[str, Any]) -> None:
    from functions.handlers import api

    found = resources(template, "AWS::ApiGatewayV2::Route").values()
    routes = {r["Properties"]["RouteKey"]: r["Properties"] for r in found}
    assert set(routes) == {"POST /audits", "GET /audits/{run_id}"}
    assert {r["AuthorizationType"] for r in routes.values()} == {"AWS_IAM"}
    source = Path(api.__file__).read_text()
    assert all(f'"{key}"' in source for key in routes)  # the handler dispatches on exactly these route keys


def test_functions_read_their_settings_from_the_stack(template: dict[str, Any]) -> None:
    for name in FUNCTIONS:
        variables = template["Resources"][f"{name}LambdaFunction"]["Properties"]["Environment"]["Variables"]
        assert variables["SOCIALAUDIT_BUCKET"] == {"Ref": "FindingsBucket"}
        assert variables["SOCIALAUDIT_QUEUE_URL"] == {"Ref": "AccountsQueue"}
        assert variables["SOCIALAUDIT_ACCOUNTS"] == "/var/task/accounts.yaml"
        assert variables["SOCIALAUDIT_STAGE"] == "dev"
        assert int(variables["SOCIALAUDIT_RUN_BUDGET_SECONDS"]) < template["Resources"]["WorkerLambdaFunction"][
            "Properties"]["Timeout"]


def test_artifact_holds_the_code_templates_accounts_and_dependencies(template: dict[str, Any], tmp_path: Path) -> None:
    with zipfile.ZipFile(ARTIFACT) as archive:
        names = set(archive.namelist())
        archive.extract("accounts.yaml", tmp_path)
    for fn in resources(template, "AWS::Lambda::Function").values():
        module = fn["Properties"]["Handler"].rsplit(".", 1)[0]
        assert f"{module}.py" in names
    assert {"templates/digest.html", "templates/digest.txt", "functions/store.py"} <= names
    assert any(n.startswith("functions/guidelines/policies/") and n.endswith(".yaml") for n in names)
    for package in ("yaml", "jinja2", "markupsafe", "requests", "tweepy", "css_inline"):
        assert f"{package}/__init__.py" in names, package
    # Binary wheels for the Lambda platform (Python 3.12, x86_64 Linux), not for the machine that packaged.
    assert "yaml/_yaml.cpython-312-x86_64-linux-gnu.so" in names
    assert any(n.startswith("css_inline/") and n.endswith(".so") for n in names)
    assert not any(n.startswith(("boto3/", "botocore/", "tests/", "node_modules/", ".venv/")) for n in names)
    assert not any("__pycache__" in n for n in names)
    assert load_accounts(tmp_path / "accounts.yaml").accounts


def _python312() -> str | None:
    candidates = ["python3.12", *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12")))]
    for candidate in candidates:
        try:
            if subprocess.run([candidate, "-c", "pass"], capture_output=True, timeout=30).returncode == 0:
                return candidate
        except (OSError, subprocess.TimeoutExpired):
            continue
    return None


def test_handlers_import_from_the_artifact_on_python_312(template: dict[str, Any], tmp_path: Path) -> None:
    python = _python312()
    if python is None:
        pytest.skip("no Python 3.12 interpreter on this machine to mirror the Lambda runtime")
    with zipfile.ZipFile(ARTIFACT) as archive:
        archive.extractall(tmp_path)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import functions.handlers.dispatch, functions.handlers.worker, functions.handlers.api,"
        " functions.handlers.digest, yaml, jinja2, requests, tweepy, css_inline;"
        "print(css_inline.inline('<style>p{color:red}</style><p>x</p>'))"
    )
    done = subprocess.run([python, "-I", "-c", probe, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'style="color: red;"' in done.stdout


def test_prod_stage_overrides_the_defaults(template: dict[str, Any]) -> None:
    """`osls print` resolves the params of another stage without packaging it (offline, about 2 s)."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "SLS_TELEMETRY_DISABLED": "1"}
    done = subprocess.run(["npx", "--no-install", "osls", "print", "--stage", "prod", "--format", "json"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    config = json.loads(done.stdout)
    functions = config["functions"]
    assert functions["dispatch"]["events"][0]["schedule"]["enabled"] is True
    assert functions["digest"]["events"][0]["schedule"]["enabled"] is True
    assert functions["worker"]["events"][0]["sqs"]["maximumConcurrency"] == 10
    rules = config["resources"]["Resources"]["FindingsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {r["Id"]: r.get("ExpirationInDays") for r in rules}["expire-findings"] == 730
    assert config["provider"]["logRetentionInDays"] == 90
