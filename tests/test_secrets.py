"""Secrets: tokens come only from Secrets Manager and never reach logs, findings, digests, run records or errors.

A full scheduled run and weekly digest on moto with distinctive token values, where two platforms
answer through the sandbox (one rate-limits, one fails once) and the others through an echo server
that answers 400/401/429/503 and broken 200s whose bodies repeat the whole request (headers, query
and body, so the token too), the way some APIs and proxies echo request details.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.sandbox import Fault
from tests.test_reliability import FIGURES, accounts_document, deploy, now_utc, reliability_figures, sent_messages

ECHO_STATUS = {"e400": 400, "e401": 401, "e429": 429, "e503": 503, "e200": 200}
ECHOED = {"linkedin": "e401", "mastodon": "e503", "youtube": "e429", "bluesky": "e400", "instagram": "e200"}

__all__ = ["reliability_figures"]  # the session summary of the reliability figures (autouse)


class EchoServer:
    """Answers every request with the status its path names and a body that repeats the request."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                self.answer()

            def do_POST(self) -> None:  # noqa: N802
                self.answer()

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                echo = {"request": self.requestline, "headers": dict(self.headers.items()), "body": body}
                server.seen.append(json.dumps(echo))
                status = ECHO_STATUS.get(self.path.lstrip("/").split("/", 1)[0], 400)
                if status == 200:  # a broken page: looks like JSON, is not, and carries the request
                    payload = ("{\"data\": [" + json.dumps(echo)).encode()
                else:
                    payload = json.dumps({"error": "echo", "message": f"bad request {echo}", **echo}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def json_stderr() -> Iterator[io.StringIO]:
    """What the service's JSON log handler (stderr in Lambda) writes during the test."""
    buffer = io.StringIO()
    handlers = [h for h in logging.getLogger("socialaudit").handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, "the socialaudit logger has its stderr handler"
    saved = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, saved, strict=True):
        handler.setStream(stream)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    server = EchoServer()
    yield server
    server.stop()


def distinctive_tokens() -> dict[str, str]:
    """One token per platform that cannot occur by chance anywhere else."""
    return {p: f"tok-{p}-{secrets.token_hex(16)}" for p in ECHOED | {"x": "", "facebook": ""}}


def test_tokens_never_leave_secrets_manager_even_when_platforms_echo_them(
    aws: None, tmp_path: Path, echo: EchoServer, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
    json_stderr: io.StringIO,
) -> None:
    caplog.set_level(logging.INFO)  # every logger at the level the service logs at (boto's DEBUG dumps are off)
    tokens = distinctive_tokens()
    doc = accounts_document("http://sandbox.invalid")
    for entry in doc["accounts"]:
        if entry["platform"] in ECHOED:
            entry["base_url"] = f"{echo.url}/{ECHOED[entry['platform']]}"
    names = {e["platform"]: e["account"] for e in doc["accounts"]}
    faults = {f"x:{names['x']}": Fault("rate_limit", times=2, retry_after=5),
              f"facebook:{names['facebook']}": Fault("server_error", times=1)}
    with deploy(tmp_path, faults=faults, tokens=tokens, document=doc) as stack:
        sandbox_url = stack.sandbox.url
        for entry in doc["accounts"]:
            if entry["platform"] not in ECHOED:
                entry["base_url"] = f"{sandbox_url}/{entry['platform']}"
        stack.accounts_path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        stack.runtime.__dict__.pop("accounts", None)
        moment = now_utc()
        replies = [stack.schedule(moment)]
        run = stack.run(replies[0]["run_id"])
        replies.append(stack.send_digest(moment))
        objects = {key: stack.s3.get_object(Bucket=stack.store.bucket, Key=key)["Body"].read()
                   for key in stack.object_keys()}
        emails = [m.as_bytes() for m in sent_messages()]
        accounts_file = stack.accounts_path.read_bytes()

    # The run did meet every kind of trouble, and the echo server did get (and send back) the tokens.
    kinds = {r.error_kind for r in run.accounts.values()}
    assert {"auth", "unavailable", "rate-limited", "malformed"} <= kinds, run.errors
    assert run.accounts["x-lakeshorecme"].status == "ok" and run.accounts["x-lakeshorecme"].findings > 0
    assert stack.sleeps  # the sandbox's rate limit and 503 were waited out (recorded, not slept)
    echoed = "\n".join(echo.seen)
    for platform in ECHOED:
        assert tokens[platform] in echoed, platform
    assert any(k.startswith("findings/") for k in objects) and emails

    logged = "\n".join(
        f"{r.getMessage()} {getattr(r, 'fields', '')} {r.args} {r.exc_text or ''}" for r in caplog.records
    )
    out, err = capfd.readouterr()
    places = {
        "log records": logged,
        "stderr (JSON log lines)": json_stderr.getvalue(),
        "stderr (fd 2)": err,
        "stdout": out,
        "run record": json.dumps(run.to_dict()),
        "handler replies": json.dumps(replies, default=str),
        "accounts file": accounts_file.decode(),
        **{f"s3://{key}": body.decode("utf-8", "replace") for key, body in objects.items()},
        **{f"e-mail {i}": raw.decode("utf-8", "replace") for i, raw in enumerate(emails)},
    }
    assert "account failed" in logged and "account failed" in json_stderr.getvalue()  # the scans see the logs
    leaks = [(place, platform) for place, text in places.items() for platform, token in tokens.items()
             if token in text]
    assert leaks == []
    FIGURES["secret scans"] += len(places)
    FIGURES["tokens scanned for"] += len(tokens)


def test_a_token_outside_secrets_manager_is_never_used(aws: None, tmp_path: Path,
                                                       json_stderr: io.StringIO) -> None:
    # A token pasted into the accounts file (or the environment) instead of Secrets Manager is ignored:
    # the account fails as an auth problem naming the secret, and the platform never sees that token.
    tokens = distinctive_tokens()
    doc = accounts_document("http://sandbox.invalid")
    (mastodon,) = [e for e in doc["accounts"] if e["platform"] == "mastodon"]
    with deploy(tmp_path, tokens=tokens, document=doc) as stack:
        for entry in doc["accounts"]:
            entry["base_url"] = f"{stack.sandbox.url}/{entry['platform']}"
        mastodon["secret"] = "socialaudit/dev/not-created"
        mastodon["options"] = {**mastodon["options"], "access_token": tokens["mastodon"], "token": tokens["mastodon"]}
        stack.accounts_path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        stack.runtime.__dict__.pop("accounts", None)
        os.environ["SOCIALAUDIT_MASTODON_TOKEN"] = tokens["mastodon"]
        try:
            run = stack.run(stack.schedule(now_utc())["run_id"])
        finally:
            del os.environ["SOCIALAUDIT_MASTODON_TOKEN"]
        served = stack.sandbox.log
    result = run.accounts["mastodon-lakeshorecme"]
    assert (result.status, result.error_kind) == ("failed", "auth")
    assert "socialaudit/dev/not-created" in (result.error or "")
    assert not [entry for entry in served if entry[0] == "mastodon"]  # no call went out without its secret
    assert {r.status for k, r in run.accounts.items() if k != "mastodon-lakeshorecme"} == {"ok"}
    assert tokens["mastodon"] not in json.dumps(run.to_dict()) + json_stderr.getvalue()
