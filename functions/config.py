"""Configuration, read once and validated: the accounts to audit and the deployment settings."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions.model import PLATFORMS

ACCOUNT_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;]+$")


class ConfigError(ValueError):
    """The configuration is missing something or says something invalid."""


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """One organization account on one platform."""

    key: str  # unique, safe in S3 keys and file names, e.g. "x-CMEAdvance"
    platform: str
    account: str  # the account name carried on every post (``Post.account``)
    native_id: str | None = None  # page id, channel id, user id, organization URN...
    secret: str | None = None  # Secrets Manager secret holding the token(s)
    base_url: str | None = None  # API base URL override (local sandbox, Mastodon instance)
    staff: tuple[str, ...] = ()  # handles of staff whose items count as the organization's
    recipients: tuple[str, ...] = ()  # extra digest recipients for this account
    team: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Any, *, index: int) -> AccountConfig:
        where = f"accounts[{index}]"
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping")
        platform = data.get("platform")
        if platform not in PLATFORMS:
            raise ConfigError(f"{where}.platform: {platform!r} is not one of {', '.join(PLATFORMS)}")
        account = data.get("account")
        if not isinstance(account, str) or not account:
            raise ConfigError(f"{where}.account: required (the account's name or handle)")
        key = data.get("key") or f"{platform}-{account}"
        if not isinstance(key, str) or not ACCOUNT_KEY.match(key):
            raise ConfigError(f"{where}.key: {key!r} must be letters, digits, '.', '_', '@' or '-'")
        recipients = tuple(data.get("recipients") or ())
        for address in recipients:
            if not isinstance(address, str) or not EMAIL.match(address):
                raise ConfigError(f"{where}.recipients: {address!r} is not an e-mail address")
        options = data.get("options") or {}
        if not isinstance(options, dict):
            raise ConfigError(f"{where}.options: expected a mapping")
        native_id = data.get("id", data.get("native_id"))
        return cls(
            key=key,
            platform=platform,
            account=account,
            native_id=None if native_id is None else str(native_id),
            secret=data.get("secret"),
            base_url=_expand(data.get("base_url"), f"{where}.base_url"),
            staff=tuple(str(s).lower().lstrip("@") for s in data.get("staff") or ()),
            recipients=recipients,
            team=data.get("team"),
            options=options,
        )


@dataclass(frozen=True, slots=True)
class AccountsFile:
    """The parsed accounts file: organization, recipients, accounts."""

    organization: str
    accounts: tuple[AccountConfig, ...]
    recipients: tuple[str, ...] = ()
    teams: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def select(self, keys: list[str] | None) -> list[AccountConfig]:
        """The accounts named by ``keys`` (all when empty); unknown keys are an error."""
        if not keys:
            return list(self.accounts)
        known = {a.key: a for a in self.accounts}
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ConfigError(f"unknown account(s): {', '.join(unknown)} (known: {', '.join(known)})")
        return [known[k] for k in keys]


def _expand(value: Any, where: str) -> str | None:
    """Expand ``${VAR}`` in a setting from the environment; an unset variable is an error."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string")

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ConfigError(f"{where}: environment variable {name} is not set")
        return os.environ[name]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, value)


def parse_accounts(data: Any, *, source: str = "accounts") -> AccountsFile:
    """Validate a decoded accounts document."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with an 'accounts' list")
    raw_accounts = data.get("accounts")
    if not isinstance(raw_accounts, list) or not raw_accounts:
        raise ConfigError(f"{source}: 'accounts' must be a non-empty list")
    accounts = tuple(AccountConfig.from_dict(item, index=i) for i, item in enumerate(raw_accounts))
    seen: set[str] = set()
    for account in accounts:
        if account.key in seen:
            raise ConfigError(f"{source}: duplicate account key {account.key!r}")
        seen.add(account.key)
    recipients = tuple(data.get("recipients") or ())
    for address in recipients:
        if not isinstance(address, str) or not EMAIL.match(address):
            raise ConfigError(f"{source}: recipients: {address!r} is not an e-mail address")
    teams = {str(name): tuple(addrs) for name, addrs in (data.get("teams") or {}).items()}
    return AccountsFile(
        organization=str(data.get("organization") or "Your organization"),
        accounts=accounts,
        recipients=recipients,
        teams=teams,
    )


def load_accounts(path: str | Path) -> AccountsFile:
    """Read and validate an accounts file (YAML or JSON)."""
    import yaml  # deferred: keeps handler cold start small

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read accounts file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    return parse_accounts(data, source=str(path))


@dataclass(frozen=True, slots=True)
class Settings:
    """Deployment settings, from the environment (Lambda) or the CLI."""

    bucket: str
    accounts_path: str
    region: str = "us-east-1"
    stage: str = "dev"
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    policy_path: str | None = None
    queue_url: str | None = None
    endpoint_url: str | None = None  # local stack (moto server); None on AWS
    max_requests_per_account: int = 500
    run_budget_seconds: float = 600.0
    digest_days: int = 7
    repeat_window_days: int = 30
    repeat_min_posts: int = 3  # findings on this many posts in the window make a repeat offender
    public_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from environment variables (``SOCIALAUDIT_*``)."""
        env = os.environ if env is None else env

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(f"SOCIALAUDIT_{name}")
            return value if value not in (None, "") else default

        bucket = get("BUCKET")
        if not bucket:
            raise ConfigError("SOCIALAUDIT_BUCKET is not set (the findings bucket)")
        recipients = tuple(a.strip() for a in (get("RECIPIENTS") or "").split(",") if a.strip())
        for address in recipients:
            if not EMAIL.match(address):
                raise ConfigError(f"SOCIALAUDIT_RECIPIENTS: {address!r} is not an e-mail address")
        sender = get("SENDER")
        if sender and not EMAIL.match(sender):
            raise ConfigError(f"SOCIALAUDIT_SENDER: {sender!r} is not an e-mail address")
        try:
            return cls(
                bucket=bucket,
                accounts_path=get("ACCOUNTS", str(Path(__file__).parent / "accounts.yaml")) or "",
                region=get("REGION", env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1") or "",
                stage=get("STAGE", "dev") or "dev",
                sender=sender,
                recipients=recipients,
                policy_path=get("POLICY"),
                queue_url=get("QUEUE_URL"),
                endpoint_url=get("ENDPOINT_URL"),
                max_requests_per_account=int(get("MAX_REQUESTS", "500") or 500),
                run_budget_seconds=float(get("RUN_BUDGET_SECONDS", "600") or 600),
                digest_days=int(get("DIGEST_DAYS", "7") or 7),
                repeat_window_days=int(get("REPEAT_WINDOW_DAYS", "30") or 30),
                repeat_min_posts=int(get("REPEAT_MIN_POSTS", "3") or 3),
                public_url=get("PUBLIC_URL"),
            )
        except ValueError as exc:
            raise ConfigError(f"invalid numeric setting: {exc}") from None
