"""Typed records of the audit: Author, Post, Finding, and their JSON Lines parsing.

The shapes follow ``shared/spec/corpus-format.md`` and ``shared/spec/findings-format.md``.
Parsing is strict: a bad record raises :class:`RecordError` naming the line and the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PLATFORMS = ("x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky")
KINDS = ("post", "comment", "reply")
SEVERITIES = ("critical", "high", "medium", "low")
CATEGORIES = (
    "profanity",
    "harassment",
    "threat",
    "hate",
    "defamation",
    "confidential-information",
    "private-conversation",
    "copyright",
    "financial-disclosure",
    "spam",
    "political-rant",
    "commercial-solicitation",
)
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}  # 0 = most severe
MAX_TEXT_CHARS = 100_000  # longer texts are truncated on parse; no platform allows more


class RecordError(ValueError):
    """A record that does not fit its format; names the line (if known) and the field."""

    def __init__(self, message: str, *, field: str | None = None, line: int | None = None):
        self.field = field
        self.line = line
        self.reason = message
        where = []
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)

    def at_line(self, line: int) -> RecordError:
        """Return the same error located at ``line``."""
        return RecordError(self.reason, field=self.field, line=line)


def utc_now() -> str:
    """Current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return format_time(datetime.now(UTC))


def format_time(moment: datetime) -> str:
    """Format an aware datetime as the ISO-8601 UTC form used in every record."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str, *, field: str = "created_at") -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` or offset) into an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        raise RecordError("expected an ISO-8601 timestamp string", field=field)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise RecordError(f"not an ISO-8601 timestamp: {value[:40]!r}", field=field) from None
    if moment.tzinfo is None:
        raise RecordError("timestamp has no time zone (add 'Z' for UTC)", field=field)
    return moment.astimezone(UTC)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean_text(value: str) -> str:
    # Lone surrogates (from bad JSON escapes) cannot be encoded anywhere downstream.
    # (Searched in C, not char by char: every field of every item passes here.)
    if not value.isascii() and _SURROGATE.search(value):
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "")


def _require(data: dict[str, Any], name: str, kind: type | tuple[type, ...], *, prefix: str = "") -> Any:
    label = f"{prefix}{name}"
    if name not in data:
        raise RecordError("missing", field=label)
    value = data[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool) and bool not in _as_tuple(kind)):
        want = " or ".join(t.__name__ for t in _as_tuple(kind))
        raise RecordError(f"expected {want}, got {type(value).__name__}", field=label)
    if isinstance(value, str):
        value = _clean_text(value)
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _optional_str(data: dict[str, Any], name: str, *, prefix: str = "") -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"expected string or null, got {type(value).__name__}", field=f"{prefix}{name}")
    return _clean_text(value)


@dataclass(frozen=True, slots=True)
class Author:
    """Who wrote an item; ``is_org`` is true for the organization and its staff."""

    id: str
    handle: str
    name: str
    is_org: bool = False

    @classmethod
    def from_dict(cls, data: Any, *, prefix: str = "author.") -> Author:
        if not isinstance(data, dict):
            raise RecordError("expected an object", field=prefix.rstrip("."))
        return cls(
            id=_require(data, "id", str, prefix=prefix),
            handle=_require(data, "handle", str, prefix=prefix),
            name=_optional_str(data, "name", prefix=prefix) or "",
            is_org=bool(_require(data, "is_org", bool, prefix=prefix)) if "is_org" in data else False,
        )

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "handle": self.handle, "name": self.name, "is_org": self.is_org}


@dataclass(frozen=True, slots=True)
class Post:
    """A normalized post, comment or reply from any platform."""

    id: str
    platform: str
    account: str
    kind: str
    author: Author
    text: str
    created_at: str
    url: str | None = None
    parent_id: str | None = None
    lang: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Post:
        """Validate and build a Post from a decoded JSON object."""
        if not isinstance(data, dict):
            raise RecordError(f"expected a JSON object, got {type(data).__name__}")
        post_id = _require(data, "id", str)
        platform = _require(data, "platform", str)
        if platform not in PLATFORMS:
            raise RecordError(f"unknown platform {platform[:40]!r} (one of {', '.join(PLATFORMS)})", field="platform")
        if not post_id.startswith(f"{platform}:") or len(post_id) <= len(platform) + 1:
            raise RecordError(f"must be '<platform>:<native id>', e.g. '{platform}:123'", field="id")
        kind = _require(data, "kind", str)
        if kind not in KINDS:
            raise RecordError(f"unknown kind {kind[:40]!r} (one of {', '.join(KINDS)})", field="kind")
        created_at = _require(data, "created_at", str)
        parse_time(created_at)
        text = _require(data, "text", str)
        if len(text) > MAX_TEXT_CHARS:
            text = text[:MAX_TEXT_CHARS]
        return cls(
            id=post_id,
            platform=platform,
            account=_require(data, "account", str),
            kind=kind,
            author=Author.from_dict(data.get("author")) if "author" in data else _missing("author"),
            text=text,
            created_at=created_at,
            url=_optional_str(data, "url"),
            parent_id=_optional_str(data, "parent_id"),
            lang=_optional_str(data, "lang"),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "platform": self.platform,
            "account": self.account,
            "kind": self.kind,
            "author": self.author.to_dict(),
            "text": self.text,
            "created_at": self.created_at,
            "url": self.url,
            "parent_id": self.parent_id,
            "lang": self.lang,
        }


def _missing(name: str) -> Any:
    raise RecordError("missing", field=name)


def finding_id_for(post_id: str, rule: str, text: str) -> str:
    """Stable id of a finding: the same post, rule and text always give the same id."""
    digest = hashlib.sha256()
    for part in (post_id, rule, text):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Finding:
    """One (post, category) that needs action, with the rule and evidence that show why."""

    finding_id: str
    post_id: str
    platform: str
    account: str
    category: str
    rule: str
    severity: str
    action: str
    confidence: float
    evidence: str
    post_url: str | None
    author: Author
    created_at: str
    detected_at: str
    policy: str
    policy_version: str
    run_id: str
    clause: str | None = None
    kind: str | None = None
    excerpt: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Finding:
        """Validate and build a Finding from a decoded JSON object."""
        if not isinstance(data, dict):
            raise RecordError(f"expected a JSON object, got {type(data).__name__}")
        category = _require(data, "category", str)
        if category not in CATEGORIES:
            raise RecordError(f"unknown category {category[:40]!r}", field="category")
        severity = _require(data, "severity", str)
        if severity not in SEVERITIES:
            raise RecordError(f"unknown severity {severity[:40]!r} (one of {', '.join(SEVERITIES)})", field="severity")
        rule = _require(data, "rule", str)
        if not rule.startswith(f"{category}/"):
            raise RecordError(f"must be '<category>/<name>' with category '{category}'", field="rule")
        confidence = _require(data, "confidence", (int, float))
        if not 0.0 <= float(confidence) <= 1.0:
            raise RecordError("must be between 0 and 1", field="confidence")
        for stamp in ("created_at", "detected_at"):
            parse_time(_require(data, stamp, str), field=stamp)
        return cls(
            finding_id=_require(data, "finding_id", str),
            post_id=_require(data, "post_id", str),
            platform=_require(data, "platform", str),
            account=_require(data, "account", str),
            category=category,
            rule=rule,
            severity=severity,
            action=_require(data, "action", str),
            confidence=float(confidence),
            evidence=_require(data, "evidence", str),
            post_url=_optional_str(data, "post_url"),
            author=Author.from_dict(data.get("author")) if "author" in data else _missing("author"),
            created_at=data["created_at"],
            detected_at=data["detected_at"],
            policy=_require(data, "policy", str),
            policy_version=_require(data, "policy_version", str),
            run_id=_require(data, "run_id", str),
            clause=_optional_str(data, "clause"),
            kind=_optional_str(data, "kind"),
            excerpt=_optional_str(data, "excerpt"),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "finding_id": self.finding_id,
            "post_id": self.post_id,
            "platform": self.platform,
            "account": self.account,
            "category": self.category,
            "rule": self.rule,
            "severity": self.severity,
            "action": self.action,
            "confidence": round(self.confidence, 4),
            "evidence": self.evidence,
            "post_url": self.post_url,
            "author": self.author.to_dict(),
            "created_at": self.created_at,
            "detected_at": self.detected_at,
            "policy": self.policy,
            "policy_version": self.policy_version,
            "run_id": self.run_id,
        }
        for extra in ("clause", "kind", "excerpt"):
            value = getattr(self, extra)
            if value is not None:
                out[extra] = value
        return out


@dataclass(slots=True)
class AccountResult:
    """What one account's collection and audit did in a run."""

    account: str
    platform: str
    status: str = "ok"  # ok | failed | skipped
    items: int = 0
    findings: int = 0
    requests: int = 0
    error_kind: str | None = None
    error: str | None = None
    findings_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "platform": self.platform,
            "status": self.status,
            "items": self.items,
            "findings": self.findings,
            "requests": self.requests,
            "error_kind": self.error_kind,
            "error": self.error,
            "findings_key": self.findings_key,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccountResult:
        fields = {k: data[k] for k in ("status", "items", "findings", "requests", "error_kind", "error", "findings_key")
                  if k in data}
        return cls(account=str(data.get("account", "")), platform=str(data.get("platform", "")), **fields)


@dataclass(slots=True)
class RunRecord:
    """One audit run: when, why, and what each account did."""

    run_id: str
    trigger: str  # schedule | on-demand | cli | demo
    started_at: str
    finished_at: str | None = None
    status: str = "running"  # running | ok | partial | failed
    accounts: dict[str, AccountResult] = field(default_factory=dict)
    window: dict[str, str] | None = None

    @property
    def counts(self) -> dict[str, int]:
        results = self.accounts.values()
        return {
            "accounts": len(self.accounts),
            "failed_accounts": sum(1 for r in results if r.status == "failed"),
            "items": sum(r.items for r in results),
            "findings": sum(r.findings for r in results),
            "requests": sum(r.requests for r in results),
        }

    @property
    def errors(self) -> list[dict[str, str | None]]:
        return [
            {"account": r.account, "platform": r.platform, "kind": r.error_kind, "message": r.error}
            for r in self.accounts.values()
            if r.status == "failed"
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "trigger": self.trigger,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "window": self.window,
            "counts": self.counts,
            "errors": self.errors,
            "accounts": {key: result.to_dict() for key, result in self.accounts.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        return cls(
            run_id=data["run_id"],
            trigger=data.get("trigger", "unknown"),
            started_at=data["started_at"],
            finished_at=data.get("finished_at"),
            status=data.get("status", "running"),
            accounts={k: AccountResult.from_dict(v) for k, v in (data.get("accounts") or {}).items()},
            window=data.get("window"),
        )


def _decode_lines(lines: Iterable[str | bytes]) -> Iterator[tuple[int, Any]]:
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "replace")
        stripped = raw.strip()
        if not stripped:
            continue
        try:
            yield number, json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise RecordError(f"invalid JSON: {exc.msg} (column {exc.colno})", line=number) from None


def read_posts(lines: Iterable[str | bytes]) -> Iterator[Post]:
    """Parse JSON Lines into Posts, lazily; a bad line raises RecordError naming it."""
    for number, data in _decode_lines(lines):
        try:
            yield Post.from_dict(data)
        except RecordError as exc:
            raise exc.at_line(number) from None


def read_findings(lines: Iterable[str | bytes]) -> Iterator[Finding]:
    """Parse JSON Lines into Findings, lazily; a bad line raises RecordError naming it."""
    for number, data in _decode_lines(lines):
        try:
            yield Finding.from_dict(data)
        except RecordError as exc:
            raise exc.at_line(number) from None


def dumps_line(record: Post | Finding | dict[str, Any]) -> str:
    """One JSON Lines line (with newline) for a record."""
    data = record if isinstance(record, dict) else record.to_dict()
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
