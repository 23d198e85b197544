"""`socialaudit run start|status`: directly against S3/SQS (moto, and the local stack) and over SigV4-signed HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from functions import cli
from functions.handlers import api, worker
from functions.remote import HttpRunClient, RemoteError
from functions.runtime import reset_runtime
from infra.fanout import drain_queue
from tests.conftest import BUCKET, CORPUS
from tests.test_api import IAM
from tests.test_fanout import Stack, make_stack

ACCESS_KEY, SECRET_KEY = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = cli.main(["run", *argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


@pytest.fixture
def stack(s3: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """moto S3 + SQS, and the SOCIALAUDIT_* settings the CLI reads to reach them directly."""
    built = make_stack(tmp_path, s3)
    monkeypatch.setenv("SOCIALAUDIT_BUCKET", BUCKET)
    monkeypatch.setenv("SOCIALAUDIT_QUEUE_URL", built.queue_url)
    monkeypatch.setenv("SOCIALAUDIT_ACCOUNTS", built.runtime.settings.accounts_path)
    monkeypatch.delenv("SOCIALAUDIT_API_URL", raising=False)
    yield built
    reset_runtime()


def test_start_then_status_directly_through_s3_and_sqs(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    code, started, _ = run_cli(capsys, "start", "--account", "x-main", "--account", "fb-main",
                               "--since", "2026-11-01T00:00:00Z")
    assert code == 0 and started["status"] == "running" and started["accounts"] == ["fb-main", "x-main"]
    assert started["window"]["since"] == "2026-11-01T00:00:00Z"
    assert stack.queued() == 2
    code, pending, _ = run_cli(capsys, "status", started["run_id"])
    assert code == 0 and pending["status"] == "running" and pending["trigger"] == "cli"
    drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
    code, done, _ = run_cli(capsys, "status", started["run_id"])
    assert code == 0 and done["status"] == "ok" and done["counts"]["findings"] == 2 and done["finished_at"]


def test_wait_polls_until_the_workers_finish(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    def workers_later() -> None:
        time.sleep(0.5)
        drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)

    thread = threading.Thread(target=workers_later)
    thread.start()
    code, run, _ = run_cli(capsys, "start", "--wait", "--poll", "0.2", "--timeout", "30")
    thread.join()
    assert run["status"] == "partial" and run["counts"]["accounts"] == 3 and run["counts"]["failed_accounts"] == 1
    assert code == 1  # a partial run is not a clean exit: scripts notice the failed account


def test_wait_gives_up_after_the_timeout(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    code, run, err = run_cli(capsys, "start", "--account", "x-main", "--wait", "--poll", "0.05", "--timeout", "0.2")
    assert code == 1 and run["status"] == "running" and "still running" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("start", "--since", "yesterday"), "not an ISO-8601 timestamp"),
        (("start", "--account", "nope"), "unknown account(s): nope"),
        (("status", "20261124T060000Z-0123abcd"), "no run 20261124T060000Z-0123abcd"),
        (("status", "../../state"), "not a run id"),
    ],
)
def test_bad_input_exits_2_with_the_reason(stack: Stack, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                                           message: str) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out is None and message in err
    assert stack.queued() == 0


def test_without_settings_or_api_url_the_cli_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SOCIALAUDIT_BUCKET", raising=False)
    monkeypatch.delenv("SOCIALAUDIT_API_URL", raising=False)
    code, _, err = run_cli(capsys, "status", "20261124T060000Z-0123abcd")
    assert code == 2 and "SOCIALAUDIT_BUCKET" in err and "--api" in err


# --- over HTTP: a local stand-in for API Gateway that checks SigV4 as the aws_iam authorizer does ----------------


class GatewayHandler(BaseHTTPRequestHandler):
    """Verifies the request's SigV4 signature with the known secret key, then calls the API handler."""

    routes = {("POST", "/audits"): "POST /audits"}

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def log_message(self, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if not self._signature_valid(body):
            return self._send(403, {"message": "Forbidden"})
        path = self.path.split("?", 1)[0]
        route, params = self.routes.get((self.command, path)), None
        if route is None and self.command == "GET" and path.startswith("/audits/"):
            route, params = "GET /audits/{run_id}", {"run_id": path.removeprefix("/audits/")}
        event = {
            "version": "2.0", "routeKey": route or f"{self.command} {path}", "rawPath": path,
            "headers": {k.lower(): v for k, v in self.headers.items()}, "isBase64Encoded": False,
            "requestContext": {"authorizer": {"iam": {**IAM, "accessKey": ACCESS_KEY}},
                               "http": {"method": self.command, "path": path}},
            "body": body.decode() if body else None,
        }
        if params:
            event["pathParameters"] = params
        reply = api.handler(event, None)
        self._send(reply["statusCode"], json.loads(reply["body"]))

    def _signature_valid(self, body: bytes) -> bool:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        authorization = self.headers.get("authorization") or ""
        if not authorization.startswith("AWS4-HMAC-SHA256 "):
            return False
        fields = dict(part.strip().split("=", 1) for part in authorization[len("AWS4-HMAC-SHA256 "):].split(","))
        access_key, day, region, service, _ = fields["Credential"].split("/")
        if access_key != ACCESS_KEY or service != "execute-api":
            return False
        signed = fields["SignedHeaders"].split(";")
        headers = {name: self.headers[name] for name in signed if self.headers.get(name) is not None}
        url = f"http://{self.headers['host']}{self.path}"
        request = AWSRequest(method=self.command, url=url, data=body, headers=headers)
        request.context["timestamp"] = self.headers["x-amz-date"]
        signer = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, self.headers.get("x-amz-security-token")),
                           "execute-api", region)
        expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        return bool(expected == fields["Signature"] and self.headers["x-amz-date"].startswith(day))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@pytest.fixture
def gateway(stack: Stack) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), GatewayHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def signed_as_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_SECURITY_TOKEN", raising=False)


def test_start_and_status_over_the_signed_http_api(
    stack: Stack, gateway: str, signed_as_caller: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, started, _ = run_cli(capsys, "start", "--api", gateway, "--account", "x-main")
    assert code == 0 and started["accounts"] == ["x-main"] and stack.queued() == 1
    drain_queue(stack.queue_url, worker.handler, sqs=stack.sqs)
    code, done, _ = run_cli(capsys, "status", "--api", gateway, started["run_id"], "--wait", "--poll", "0.1")
    assert code == 0 and done["status"] == "ok" and done["counts"]["findings"] == 1


def test_http_errors_reach_the_user(stack: Stack, gateway: str, signed_as_caller: None,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "start", "--api", gateway, "--until", "2020-01-01T00:00:00Z",
                           "--since", "2021-01-01T00:00:00Z")
    assert code == 2 and "HTTP 400" in err and "'since' must be before 'until'" in err


def test_a_request_signed_with_the_wrong_key_is_refused(stack: Stack, gateway: str) -> None:
    from botocore.credentials import Credentials

    forged = HttpRunClient(gateway, region="us-east-1", credentials=Credentials(ACCESS_KEY, "not-the-secret"))
    with pytest.raises(RemoteError, match="HTTP 403") as caught:
        forged.start(None, None, None)
    assert caught.value.status == 403 and stack.queued() == 0


def test_an_unsigned_request_is_refused(stack: Stack, gateway: str) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(gateway + "/audits", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 403 and stack.queued() == 0


def test_region_comes_from_the_api_url() -> None:
    client = HttpRunClient("https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/")
    assert client.region == "eu-west-1" and client.base_url.endswith(".com")


# --- the whole path on the local stack (moto server on loopback), with the real guideline engine ------------------


@pytest.mark.slow
def test_cli_dispatch_queue_worker_store_on_the_local_stack(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.model import read_posts
    from infra.localstack import LocalStack

    posts = tmp_path / "posts.jsonl"
    posts.write_bytes((CORPUS / "posts.jsonl").read_bytes())
    x_account = next(p.account for p in read_posts(posts.read_text().splitlines()) if p.platform == "x")
    accounts = {"accounts": [{"key": "x-main", "platform": "x", "account": x_account,
                              "options": {"source": "file", "path": str(posts)}}]}
    accounts_path = tmp_path / "accounts.yaml"
    accounts_path.write_text(yaml.safe_dump(accounts))
    with LocalStack() as local:
        local.create_bucket("socialaudit-local")
        queue_url = local.create_queue("socialaudit-local-accounts")
        env = local.settings_env(bucket="socialaudit-local", accounts_path=str(accounts_path),
                                 sender="digest@socialaudit.example", recipients=[])
        for name, value in {**env, "SOCIALAUDIT_QUEUE_URL": queue_url}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("SOCIALAUDIT_API_URL", raising=False)
        reset_runtime()
        try:
            code, started, _ = run_cli(capsys, "start")
            assert code == 0
            stats = drain_queue(queue_url, worker.handler)
            assert stats.received == 1 and stats.deleted == 1
            code, done, _ = run_cli(capsys, "status", started["run_id"])
            from functions.runtime import get_runtime

            today = datetime.now(UTC).date()
            stored = list(get_runtime().store.iter_findings(today - timedelta(days=1), today + timedelta(days=2)))
        finally:
            reset_runtime()
    assert code == 0 and done["status"] == "ok", done
    assert done["counts"]["items"] == sum(1 for line in posts.read_text().splitlines() if '"platform": "x"' in line)
    assert done["counts"]["findings"] == len(stored) > 0
    assert {f.run_id for f in stored} == {started["run_id"]}
