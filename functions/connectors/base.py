"""The connector interface every platform implements, its errors, and the registry by platform name."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from functions.config import AccountConfig
from functions.model import Post


class ConnectorError(Exception):
    """A platform failure for one account; caught at the account boundary and recorded in the run."""

    kind: ClassVar[str] = "platform-error"


class PlatformAuthError(ConnectorError):
    """401/403 or a missing token: a configuration error for this account."""

    kind = "auth"


class RateLimited(ConnectorError):
    """The platform asked us to wait longer than this run can afford."""

    kind = "rate-limited"

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PlatformUnavailable(ConnectorError):
    """Timeouts or 5xx answers that outlasted the retries."""

    kind = "unavailable"


class BudgetExhausted(ConnectorError):
    """The per-run request budget for this account is spent."""

    kind = "budget"


class SecretsProvider:
    """Reads platform tokens from AWS Secrets Manager, caching each secret for the process."""

    def __init__(self, client: Any = None, *, ttl_seconds: float = 900.0):
        self._client = client
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(self, name: str) -> dict[str, Any]:
        """The secret's JSON object; raises PlatformAuthError (without the value) if unusable."""
        import json

        cached = self._cache.get(name)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        if self._client is None:
            raise PlatformAuthError(f"no Secrets Manager client to read secret {name!r}")
        try:
            raw = self._client.get_secret_value(SecretId=name)["SecretString"]
        except Exception as exc:  # botocore ClientError and friends; never echo the response body
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            raise PlatformAuthError(f"cannot read secret {name!r}: {code}") from None
        try:
            value = json.loads(raw)
        except ValueError:
            value = {"token": raw}
        if not isinstance(value, dict):
            value = {"token": str(value)}
        self._cache[name] = (time.monotonic(), value)
        return value


@dataclass
class ConnectorContext:
    """What a connector needs from its run: secrets, the request budget, the deadline, a clock."""

    secrets: SecretsProvider = field(default_factory=SecretsProvider)
    max_requests: int = 500
    deadline: float | None = None  # time.monotonic() value by which collection must stop
    sleep: Callable[[float], None] = time.sleep
    session: Any = None  # a requests.Session shared by the run (connection reuse)

    def seconds_left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()


class Connector(ABC):
    """Lists an account's recent posts, and the comments and replies on them, since a cursor.

    Iterate ``collect(cursor)``; once it is exhausted, ``self.cursor`` is the cursor to save
    after everything yielded is stored. A connector that must stop early (rate limit beyond the
    run's budget) stops cleanly and leaves ``self.cursor`` at the last safe position.
    """

    platform: ClassVar[str]

    def __init__(self, account: AccountConfig, context: ConnectorContext):
        self.account = account
        self.context = context
        self.cursor: dict[str, Any] | None = None
        self.requests_made = 0
        self.stopped_early: str | None = None

    @abstractmethod
    def collect(self, cursor: dict[str, Any] | None) -> Iterator[Post]:
        """Yield new items since ``cursor`` (everything recent when None)."""

    def is_org(self, handle: str | None, author_id: str | None = None) -> bool:
        """True for the organization's own account and its configured staff."""
        if not handle:
            return False
        handle = handle.lower().lstrip("@")
        own = {self.account.account.lower().lstrip("@"), *(s for s in self.account.staff)}
        if self.account.native_id and author_id and author_id == self.account.native_id:
            return True
        return handle in own or handle.split("@")[0] in own


CONNECTORS: dict[str, type[Connector]] = {}


def register(name: str) -> Callable[[type[Connector]], type[Connector]]:
    """Class decorator: make a connector available under ``name``."""

    def wrap(cls: type[Connector]) -> type[Connector]:
        CONNECTORS[name] = cls
        return cls

    return wrap


def connector_for(account: AccountConfig, context: ConnectorContext) -> Connector:
    """The connector for an account: its platform's, or the file connector for ``source: file``."""
    import importlib

    name = "file" if account.options.get("source") == "file" else account.platform
    if name not in CONNECTORS:
        try:
            importlib.import_module(f"functions.connectors.{name}")
        except ModuleNotFoundError:
            pass
    cls = CONNECTORS.get(name)
    if cls is None:
        raise ConnectorError(f"no connector for platform {account.platform!r}")
    return cls(account, context)
