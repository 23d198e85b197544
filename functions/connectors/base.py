"""The connector interface every platform implements, its errors, and the registry by platform name."""

from __future__ import annotations

import contextlib
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from functions.config import AccountConfig
from functions.logs import event, get_logger, register_secret, scrub
from functions.model import Post, RecordError, parse_time

_log = get_logger("connectors")


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
        for item in value.values():
            if isinstance(item, str):
                register_secret(item)  # so a token can never reach a log line
        self._cache[name] = (time.monotonic(), value)
        return value

    def __repr__(self) -> str:
        return f"SecretsProvider(cached={len(self._cache)})"  # never the values


@dataclass
class ConnectorContext:
    """What a connector needs from its run: secrets, the request budget, the deadline, a clock."""

    secrets: SecretsProvider = field(default_factory=SecretsProvider)
    max_requests: int = 500
    deadline: float | None = None  # time.monotonic() value by which collection must stop
    sleep: Callable[[float], None] = time.sleep
    session: Any = None  # a requests.Session shared by the run (connection reuse)
    clock: Callable[[], float] = time.time  # wall clock (epoch seconds): look-back windows, reset headers

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
        self.stop_error: ConnectorError | None = None  # the RateLimited/BudgetExhausted behind stopped_early

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
        with contextlib.suppress(ModuleNotFoundError):
            importlib.import_module(f"functions.connectors.{name}")
    cls = CONNECTORS.get(name)
    if cls is None:
        raise ConnectorError(f"no connector for platform {account.platform!r}")
    return cls(account, context)


# --- Shared HTTP: one session, timeouts, budget, retries with backoff, rate limits, payload checks ---


class PayloadError(ConnectorError):
    """A page that is not what the platform documents (bad JSON, truncated, 404); its section is skipped."""

    kind = "malformed"


@dataclass(frozen=True)
class Page:
    """One decoded API answer: the JSON body and the response headers."""

    data: Any
    headers: Mapping[str, str]


class HttpConnector(Connector):
    """A connector over a JSON HTTP API: every request goes through :meth:`fetch`.

    ``fetch`` spends the per-run budget, retries timeouts and 5xx with backoff, waits out rate
    limits when the run has time (else raises RateLimited), maps 401/403 to PlatformAuthError
    and refuses bodies that are not JSON. ``collect`` turns RateLimited and BudgetExhausted
    into a clean early stop with ``self.cursor`` at the last safe position.
    """

    default_base_url: ClassVar[str] = ""
    page_size: ClassVar[int] = 100  # the API's maximum page size for the main listing
    timeout: ClassVar[float] = 20.0
    max_attempts: ClassVar[int] = 4
    backoff_seconds: ClassVar[float] = 1.0
    max_wait_seconds: ClassVar[float] = 900.0  # a longer rate-limit wait ends the run for this account
    default_wait_seconds: ClassVar[float] = 60.0  # a 429 without any reset header
    max_rate_limit_waits: ClassVar[int] = 3  # per request

    def __init__(self, account: AccountConfig, context: ConnectorContext):
        super().__init__(account, context)
        self.base_url = (account.base_url or self.default_base_url).rstrip("/")
        self._session = context.session
        self.skipped = 0  # malformed items or pages logged and skipped this run

    @property
    def session(self) -> Any:
        if self._session is None:
            import requests  # deferred: the file connector and the engine never need it

            self._session = requests.Session()
        return self._session

    def __repr__(self) -> str:
        return f"{type(self).__name__}(account={self.account.key!r}, requests={self.requests_made})"

    # -- collection with a clean stop --

    def collect(self, cursor: dict[str, Any] | None) -> Iterator[Post]:
        """Yield new items; a rate limit or spent budget ends the stream early with a safe cursor."""
        self.cursor = dict(cursor) if cursor else None
        try:
            for post in self.collect_items(dict(cursor or {})):
                checked = self.checked(post)
                if checked is not None:
                    yield checked
        except (KeyError, TypeError, AttributeError, IndexError, ValueError, RecursionError) as exc:
            # A page whose shape the platform code did not expect: a clear "malformed" failure, cursor kept.
            raise PayloadError(f"{self.platform} sent a page of an unexpected shape ({type(exc).__name__})") from None
        except (RateLimited, BudgetExhausted) as exc:
            self.stopped_early = f"{exc.kind}: {exc}"
            self.stop_error = exc
            event(_log, "collection stopped early", logging.WARNING, error_kind=exc.kind, error=str(exc))

    def checked(self, post: Post) -> Post | None:
        """``post`` as the model's parser accepts it (text cleaned and capped), or None (skipped) when invalid.

        Connectors build posts field by field from hostile payloads; a lone surrogate or a wrong type
        that got through would break the findings write for this account on every run.
        """
        try:
            return Post.from_dict(post.to_dict())
        except (RecordError, AttributeError) as exc:
            self.skip(f"{self.platform} item {str(post.id)[:40]}", exc)
            return None

    @abstractmethod
    def collect_items(self, cursor: dict[str, Any]) -> Iterator[Post]:
        """The platform's collection; sets ``self.cursor`` to each safe position it reaches."""

    @classmethod
    def minimum_requests(cls, items: Iterable[Post]) -> int:
        """The fewest requests this connector's endpoints need to list ``items``: one run per account.

        Every listing at the API's maximum page size and no call wasted: the yardstick for
        ``requests_made`` in the benchmark (requests / minimum == 1.0 means no waste). Items of
        other platforms are ignored; several accounts add up.
        """
        accounts: dict[str, list[Post]] = {}
        for item in items:
            if item.platform == cls.platform:
                accounts.setdefault(item.account, []).append(item)
        return sum(cls.minimum_for_account(group) for group in accounts.values())

    @classmethod
    def minimum_for_account(cls, items: list[Post]) -> int:
        """``minimum_requests`` for one account's items."""
        return max(1, math.ceil(len(items) / cls.page_size))

    # -- credentials --

    def credential(self, *names: str) -> str:
        """The first of ``names`` present in the account's secret; PlatformAuthError if none."""
        if not self.account.secret:
            raise PlatformAuthError(f"account {self.account.key!r} has no 'secret' configured")
        secret = self.context.secrets.get(self.account.secret)
        for name in names:
            value = secret.get(name)
            if isinstance(value, str) and value:
                register_secret(value)
                return value
        raise PlatformAuthError(f"secret {self.account.secret!r} has none of the fields {', '.join(names)}")

    # -- requests --

    def fetch(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        json_body: Any = None,
    ) -> Page:
        """One API call with budget, retries, rate limits and JSON checks; see the class docstring."""
        import requests

        attempts = waits = 0
        while True:
            self._spend()
            problem: str
            try:
                response = self.session.request(
                    method, url, params=params, headers=headers, json=json_body, timeout=self._timeout()
                )
            except requests.Timeout:
                problem = "timeout"
            except requests.RequestException as exc:  # the message may hold the URL: keep only the type
                problem = type(exc).__name__
            else:
                wait = self.rate_limit_wait(response, now=self.context.clock())
                if wait is not None:
                    waits += 1
                    if waits > self.max_rate_limit_waits:  # the limit keeps coming back: give the run up
                        message = f"{self.platform} still rate-limits after {waits - 1} waits"
                        raise RateLimited(message, retry_after=wait)
                    self._wait_or_stop(wait)
                    continue
                self.check_auth(response)
                if response.status_code >= 500:
                    problem = f"HTTP {response.status_code}"
                elif response.status_code >= 400:
                    raise PayloadError(f"{self.platform} answered HTTP {response.status_code} for {_path(url)}")
                else:
                    try:
                        data = response.json()
                    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep to decode
                        problem = "a body that is not JSON"
                        if attempts >= 1:  # a second bad body is not a hiccup: skip this page's section
                            raise PayloadError(f"{self.platform} sent {problem} for {_path(url)}") from None
                    else:
                        self.observe(response, data)
                        return Page(data, response.headers)
            attempts += 1
            if attempts >= self.max_attempts:
                raise PlatformUnavailable(f"{self.platform} unavailable after {attempts} attempts ({problem})")
            self._backoff(attempts, problem)

    def _timeout(self) -> float:
        try:
            return float(self.account.options.get("timeout_seconds", self.timeout))
        except (TypeError, ValueError):
            return self.timeout

    def rate_limit_wait(self, response: Any, *, now: float) -> float | None:
        """Seconds the platform asks us to wait, or None when the answer is not a rate limit."""
        if response.status_code != 429:
            return None
        return retry_after_seconds(response.headers, default=self.default_wait_seconds, now=now)

    def check_auth(self, response: Any) -> None:
        """Raise PlatformAuthError for answers that mean the token is wrong or lacks rights."""
        if response.status_code in (401, 403):
            raise PlatformAuthError(
                f"{self.platform} refused the token of account {self.account.key!r} (HTTP {response.status_code})"
            )

    def observe(self, response: Any, data: Any) -> None:
        """Hook for usage headers and quota accounting after a successful answer."""

    def _spend(self) -> None:
        if self.requests_made >= self.context.max_requests:
            raise BudgetExhausted(f"request budget of {self.context.max_requests} spent")
        self.requests_made += 1

    def _wait_or_stop(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        if seconds > self.max_wait_seconds or seconds + 1.0 > self.context.seconds_left():
            message = f"{self.platform} asks to wait {seconds:.0f}s, more than this run has"
            raise RateLimited(message, retry_after=seconds)
        event(_log, "rate limited; waiting", logging.INFO, seconds=round(seconds, 1))
        self.context.sleep(seconds)

    def _backoff(self, attempt: int, problem: str) -> None:
        delay = self.backoff_seconds * 2 ** (attempt - 1)
        if delay + 1.0 > self.context.seconds_left():
            raise PlatformUnavailable(f"{self.platform} unavailable ({problem}) and no time left to retry")
        event(_log, "retrying", logging.INFO, problem=problem, attempt=attempt, delay=delay)
        self.context.sleep(delay)

    def skip(self, what: str, exc: BaseException) -> None:
        """Log a malformed item or page (never its token) and count it."""
        self.skipped += 1
        reason = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
        event(_log, "skipped malformed payload", logging.WARNING, what=what, reason=scrub(reason)[:300])


def retry_after_seconds(headers: Mapping[str, str], *, default: float, now: float | None = None) -> float:
    """Seconds to wait from Retry-After or a reset header (epoch seconds, ISO time or delta)."""
    now = time.time() if now is None else now
    retry_after = headers.get("Retry-After")
    if retry_after:
        if retry_after.strip().isdigit():
            return float(retry_after)
        try:
            return max(0.0, parsedate_to_datetime(retry_after).timestamp() - now)
        except (TypeError, ValueError):
            pass
    for name in ("x-rate-limit-reset", "X-RateLimit-Reset", "ratelimit-reset"):
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                return max(0.0, parse_time(value).timestamp() - now)
            except RecordError:
                continue
        # Epoch seconds are large; a small number is already a delta.
        return max(0.0, number - now) if number > 1_000_000_000 else number
    return default


def _path(url: str) -> str:
    """The path of ``url`` for messages: never the query, which may carry a token."""
    return urlsplit(url).path
