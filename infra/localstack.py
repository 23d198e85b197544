"""The embedded local stack: a moto server on loopback standing in for S3, SES, SQS and Secrets Manager."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_SESSION_TOKEN": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class LocalStack:
    """A moto server in this process, on 127.0.0.1 and a free port; use as a context manager."""

    region: str = "us-east-1"
    endpoint: str = ""
    _server: Any = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request is noise

        # Fake credentials only for this process, so nothing can reach a real AWS account.
        for name, value in LOCAL_ENV.items():
            self._saved_env[name] = os.environ.get(name)
            os.environ[name] = value
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            # The server shares moto's in-process backends: reset them so nothing outlives this stack.
            request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
            with urllib.request.urlopen(request, timeout=10):
                pass
            self._server.stop()
            self._server = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint)

    def create_bucket(self, name: str) -> None:
        self.client("s3").create_bucket(Bucket=name)

    def verify_sender(self, address: str) -> None:
        self.client("sesv2").create_email_identity(EmailIdentity=address)

    def put_secrets(self, secrets: dict[str, dict[str, Any]]) -> None:
        client = self.client("secretsmanager")
        for name, value in secrets.items():
            client.create_secret(Name=name, SecretString=json.dumps(value))

    def create_queue(self, name: str, **attributes: str) -> str:
        return str(self.client("sqs").create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])

    def sent_messages(self) -> list[EmailMessage]:
        """Every e-mail moto's SES accepted, parsed."""
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=10) as response:
            state = json.load(response)
        raws = [item.get("raw_data") for item in (state.get("ses") or {}).get("RawMessage", [])]
        return [message_from_bytes(raw.encode("utf-8"), policy=policy.default) for raw in raws if raw]  # type: ignore[misc]

    def settings_env(self, *, bucket: str, accounts_path: str, sender: str, recipients: list[str]) -> dict[str, str]:
        """The ``SOCIALAUDIT_*`` environment a handler reads, pointed at this stack."""
        return {
            "SOCIALAUDIT_BUCKET": bucket,
            "SOCIALAUDIT_ACCOUNTS": accounts_path,
            "SOCIALAUDIT_SENDER": sender,
            "SOCIALAUDIT_RECIPIENTS": ",".join(recipients),
            "SOCIALAUDIT_ENDPOINT_URL": self.endpoint,
            "SOCIALAUDIT_REGION": self.region,
            "SOCIALAUDIT_STAGE": "local",
        }


def scheduled_event(rule: str, moment: datetime, event_id: str | None = None) -> dict[str, Any]:
    """The event EventBridge sends when the schedule ``rule`` fires at ``moment``."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": event_id or f"{rule}-{stamp}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": stamp,
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{rule}"],
        "detail": {},
    }
