"""`socialaudit run ...`: start on-demand audits and read their status, on AWS or on the local stack.

Two ways to reach a deployment, same answers:

- ``--api URL`` (or ``SOCIALAUDIT_API_URL``): the deployed HTTP API, each request signed with SigV4
  (botocore's signer, service ``execute-api``) with the caller's usual AWS credentials; API Gateway
  refuses unsigned or unauthorized callers. This is the way for people: IAM decides who may audit.
- otherwise, directly through S3 and SQS with boto3, using the ``SOCIALAUDIT_*`` settings
  (``SOCIALAUDIT_BUCKET``, ``SOCIALAUDIT_QUEUE_URL``, ``SOCIALAUDIT_ACCOUNTS``, and
  ``SOCIALAUDIT_ENDPOINT_URL`` for the local stack): the same dispatch code the API runs.

Examples::

    socialaudit run start --account x-main --since 2026-11-01T00:00:00Z --wait
    socialaudit run status 20261124T130000Z-1a2b3c4d
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
FINISHED = ("ok", "partial", "failed")
API_REGION = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com")


class RemoteError(RuntimeError):
    """The deployment answered with an error (or could not be reached); ``status`` is the HTTP-like code."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``start`` and ``status`` to the ``run`` subcommand."""
    actions = parser.add_subparsers(dest="run_action", required=True)
    start = actions.add_parser("start", help="start an audit of all or some accounts, optionally over a window")
    start.add_argument("--account", action="append", dest="accounts", metavar="KEY", help="account key (repeatable)")
    start.add_argument("--since", help="window start, ISO-8601 with zone (e.g. 2026-11-01T00:00:00Z)")
    start.add_argument("--until", help="window end, ISO-8601 with zone (default: now)")
    status = actions.add_parser("status", help="show a run's status and counts")
    status.add_argument("run_id")
    for sub in (start, status):
        sub.add_argument("--api", help="HTTP API base URL (default: $SOCIALAUDIT_API_URL; unset: S3/SQS directly)")
        sub.add_argument("--region", help="AWS region for SigV4 (default: from the API URL, else AWS_REGION)")
        sub.add_argument("--wait", action="store_true", help="poll until the run has finished")
        sub.add_argument("--timeout", type=float, default=900.0, help="seconds to wait at most (default 900)")
        sub.add_argument("--poll", type=float, default=5.0, help="seconds between polls (default 5)")


def cmd_run(args: argparse.Namespace) -> int:
    """Run ``start`` or ``status``; prints the run as JSON on stdout, problems on stderr."""
    import os

    try:
        api_url = args.api or os.environ.get("SOCIALAUDIT_API_URL")
        client: RunClient = HttpRunClient(api_url, region=args.region) if api_url else DirectRunClient.from_env()
        if args.run_action == "start":
            run = client.start(args.accounts or None, args.since, args.until)
        else:
            run = client.status(args.run_id)
        if args.wait:
            run = wait_for(client, run["run_id"], timeout=args.timeout, poll=args.poll, first=run)
    except RemoteError as exc:
        print(f"socialaudit run: {exc}", file=sys.stderr)
        return EXIT_USAGE if exc.status in (400, 404) else EXIT_FAIL
    print(json.dumps(run, indent=2, sort_keys=True))
    if args.wait and run.get("status") not in FINISHED:
        print(f"socialaudit run: {run['run_id']} still running after {args.timeout:g} s", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_FAIL if run.get("status") in ("partial", "failed") else EXIT_OK


def wait_for(
    client: RunClient,
    run_id: str,
    *,
    timeout: float,
    poll: float,
    first: dict[str, Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the run's status until it has finished or ``timeout`` seconds passed; the last answer."""
    deadline = time.monotonic() + timeout
    run = first if first and first.get("counts") is not None else client.status(run_id)
    while run.get("status") not in FINISHED and time.monotonic() < deadline:
        sleep(max(0.0, min(poll, deadline - time.monotonic())))
        run = client.status(run_id)
    return run


class RunClient:
    """Starts on-demand runs and reads them back."""

    def start(self, accounts: list[str] | None, since: str | None, until: str | None) -> dict[str, Any]:
        raise NotImplementedError

    def status(self, run_id: str) -> dict[str, Any]:
        raise NotImplementedError


class HttpRunClient(RunClient):
    """The deployed HTTP API, with SigV4-signed requests (the caller's AWS credentials)."""

    def __init__(self, base_url: str, *, region: str | None = None, credentials: Any = None, timeout: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.region = region or _region_of(self.base_url)
        self.credentials = credentials
        self.timeout = timeout

    def start(self, accounts: list[str] | None, since: str | None, until: str | None) -> dict[str, Any]:
        body = {k: v for k, v in {"accounts": accounts, "since": since, "until": until}.items() if v}
        return self._call("POST", "/audits", body)

    def status(self, run_id: str) -> dict[str, Any]:
        from urllib.parse import quote

        return self._call("GET", f"/audits/{quote(run_id, safe='')}", None)

    def _call(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = self._signed_headers(method, self.base_url + path, data)
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (https or local)
                return dict(json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as exc:
            raise RemoteError(exc.code, f"HTTP {exc.code}: {_error_text(exc.read())}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise RemoteError(503, f"cannot reach {self.base_url}: {getattr(exc, 'reason', exc)}") from None

    def _signed_headers(self, method: str, url: str, data: bytes | None) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = self.credentials or _default_credentials()
        request = AWSRequest(method=method, url=url, data=data or b"", headers={"content-type": "application/json"})
        SigV4Auth(credentials, "execute-api", self.region).add_auth(request)
        return dict(request.headers.items())


def _default_credentials() -> Any:
    import botocore.session

    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        raise RemoteError(401, "no AWS credentials found (set AWS_PROFILE, or run `aws sso login`)")
    return credentials.get_frozen_credentials()


def _region_of(url: str) -> str:
    import os

    match = API_REGION.search(url)
    if match:
        return match.group(1)
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _error_text(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")[:300] or "no details"
    if isinstance(data, dict):
        return str(data.get("error") or data.get("message") or data)[:300]
    return str(data)[:300]


class DirectRunClient(RunClient):
    """S3 and SQS directly with boto3 (AWS, or the local stack through SOCIALAUDIT_ENDPOINT_URL)."""

    def __init__(self, runtime: Any):
        self.runtime = runtime

    @classmethod
    def from_env(cls) -> DirectRunClient:
        from functions.config import ConfigError, Settings
        from functions.runtime import Runtime

        try:
            return cls(Runtime(Settings.from_env()))
        except ConfigError as exc:
            raise RemoteError(400, f"{exc} (or pass --api with the deployed HTTP API's URL)") from None

    def start(self, accounts: list[str] | None, since: str | None, until: str | None) -> dict[str, Any]:
        from functions.audit import Window
        from functions.config import ConfigError
        from functions.fanout import FanoutError, dispatch_run
        from functions.model import RecordError
        from functions.store import new_run_id

        try:
            window = Window.parse(since, until)
            chosen = self.runtime.accounts.select(accounts)
        except (ValueError, RecordError, ConfigError) as exc:
            raise RemoteError(400, str(exc)) from None
        try:
            run = dispatch_run(
                chosen,
                store=self.runtime.store,
                sqs=self.runtime.client("sqs"),
                queue_url=self.runtime.settings.queue_url,
                run_id=new_run_id(),
                trigger="cli",
                window=window,
            )
        except (FanoutError, ConfigError) as exc:
            raise RemoteError(503, f"could not start the audit: {exc}") from None
        return {"run_id": run.run_id, "status": run.status, "accounts": sorted(run.accounts), "window": run.window}

    def status(self, run_id: str) -> dict[str, Any]:
        from functions.fanout import settled_status
        from functions.store import check_run_id

        try:
            check_run_id(run_id)
        except ValueError as exc:
            raise RemoteError(400, str(exc)) from None
        run = self.runtime.store.get_run(run_id)
        if run is None:
            raise RemoteError(404, f"no run {run_id}")
        run.status = settled_status(run)
        return dict(run.to_dict())
