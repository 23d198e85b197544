"""Wiring the real connectors to a sandbox, for tests and benchmarks.

``demo_accounts(sandbox.url)`` gives the demo accounts file's accounts pointed at the sandbox;
``demo_secrets_provider()`` a real ``SecretsProvider`` whose cache was filled from an in-process
moto Secrets Manager holding ``demo_secrets()``; ``connector(...)`` the platform's connector.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from functions.config import AccountConfig, parse_accounts
from functions.connectors.base import Connector, ConnectorContext, SecretsProvider, connector_for
from infra.sandbox.tokens import ACCOUNTS_FILE, demo_secrets


def demo_accounts(sandbox_url: str) -> dict[str, AccountConfig]:
    """Platform -> the demo account on it, with ``${SANDBOX_URL}`` set to ``sandbox_url``."""
    import yaml

    text = ACCOUNTS_FILE.read_text(encoding="utf-8").replace("${SANDBOX_URL}", sandbox_url)
    accounts = parse_accounts(yaml.safe_load(text), source=str(ACCOUNTS_FILE)).accounts
    return {account.platform: account for account in accounts}


def demo_secrets_provider(secrets: dict[str, dict[str, Any]] | None = None) -> SecretsProvider:
    """A SecretsProvider that read every demo secret from (in-process) moto Secrets Manager."""
    import json

    import boto3
    from moto import mock_aws

    secrets = demo_secrets() if secrets is None else secrets
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        for name, value in secrets.items():
            client.create_secret(Name=name, SecretString=json.dumps(value))
        provider = SecretsProvider(client, ttl_seconds=24 * 3600)
        for name in secrets:
            provider.get(name)  # fills the cache, so later reads need no AWS at all
    return provider


def connector(
    account: AccountConfig,
    provider: SecretsProvider,
    *,
    max_requests: int = 10_000,
    seconds: float | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
    session: Any = None,
    **options: Any,
) -> Connector:
    """The real connector for ``account`` (``options`` merged into the account's)."""
    if options:
        account = replace(account, options={**account.options, **options})
    context = ConnectorContext(
        secrets=provider,
        max_requests=max_requests,
        deadline=None if seconds is None else time.monotonic() + seconds,
        sleep=sleep if sleep is not None else (lambda _seconds: None),
        session=session,
        clock=clock if clock is not None else time.time,
    )
    return connector_for(account, context)
