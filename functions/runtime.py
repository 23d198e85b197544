"""Builds what a handler needs from the settings: AWS clients, store, accounts, engine; once per container."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from functions.config import AccountsFile, Settings, load_accounts


def aws_client(service: str, settings: Settings) -> Any:
    """A boto3 client for ``service`` in the configured region (and local endpoint, if any)."""
    import boto3  # deferred: handlers import fast and pay for boto3 only when they use AWS

    kwargs: dict[str, Any] = {"region_name": settings.region}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    return boto3.client(service, **kwargs)


@dataclass
class Runtime:
    """Lazily built collaborators of the handlers, shared across invocations of a warm container."""

    settings: Settings
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            self.clients[service] = aws_client(service, self.settings)
        return self.clients[service]

    @cached_property
    def store(self) -> Any:
        from functions.store import FindingsStore

        return FindingsStore(self.client("s3"), self.settings.bucket)

    @cached_property
    def accounts(self) -> AccountsFile:
        return load_accounts(self.settings.accounts_path)

    @cached_property
    def engine(self) -> Any:
        from functions.guidelines import load_engine

        # Clients for the optional Comprehend / Bedrock evaluators, created only if the policy enables them.
        return load_engine(self.settings.policy_path, clients=_LazyClients(self))

    @cached_property
    def secrets(self) -> Any:
        from functions.connectors.base import SecretsProvider

        return SecretsProvider(self.client("secretsmanager"))

    @cached_property
    def http(self) -> Any:
        return http_session()

    def context_factory(self) -> Any:
        from functions.audit import default_context_factory

        return default_context_factory(
            self.secrets,
            max_requests=self.settings.max_requests_per_account,
            budget_seconds=self.settings.run_budget_seconds,
            session=self.http,
        )


def http_session() -> Any:
    """The requests.Session the connectors share (connection reuse), with our User-Agent."""
    import os
    import urllib.request

    import requests

    session = requests.Session()
    session.headers["User-Agent"] = "socialaudit/1.0 (+https://github.com/socialaudit)"
    # Without proxy variables (Lambda's case) requests would still scan the whole environment on every
    # request (a tenth of a 100k-item audit's client CPU): read it once here instead. A CA bundle named
    # there still applies; a ~/.netrc entry, which must never replace our tokens, no longer does.
    if not urllib.request.getproxies():
        session.trust_env = False
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle
    return session


class _LazyClients(dict[str, Any]):
    """Boto3 clients for the extra evaluators, made on first request (most policies never ask)."""

    SERVICES = ("comprehend", "bedrock-runtime")

    def __init__(self, runtime: Runtime):
        super().__init__()
        self.runtime = runtime

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return self.runtime.client(key) if key in self.SERVICES else default


_runtime: Runtime | None = None


def get_runtime() -> Runtime:
    """The container's Runtime, built from the environment on first use."""
    global _runtime
    if _runtime is None:
        _runtime = Runtime(Settings.from_env())
    return _runtime


def reset_runtime(runtime: Runtime | None = None) -> None:
    """Replace the container's Runtime (tests, the local stack)."""
    global _runtime
    _runtime = runtime
