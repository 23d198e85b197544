"""The weekly step: claim the period, build each audience's digest, archive it in S3, send it, remember it."""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from functions.config import AccountConfig, AccountsFile, ConfigError, Settings
from functions.digest.build import Digest, PeriodData, account_label, assemble_digest, load_period
from functions.digest.mail import MAX_RECIPIENTS_PER_MESSAGE, build_message, message_bytes, send_raw
from functions.digest.render import RenderedDigest, render_digest, render_report
from functions.store import FindingsStore

log = logging.getLogger(__name__)

ALL = "all"  # the audience that receives every account's findings
STALE_CLAIM = timedelta(minutes=20)  # longer than a Lambda can run: the claim's holder is dead


@dataclass(frozen=True, slots=True)
class Audience:
    """Recipients who get the same digest: everyone's (``accounts is None``) or some accounts'."""

    slug: str  # safe in S3 keys
    label: str | None  # shown in the subject and header; None for the all-accounts digest
    recipients: tuple[str, ...]
    accounts: tuple[AccountConfig, ...] | None


@dataclass(slots=True)
class AudienceResult:
    """What one audience was sent."""

    audience: str
    label: str | None
    recipients: list[str]
    message_ids: list[str]
    findings: int
    subject: str
    keys: dict[str, str]
    report_url: str | None
    skipped: bool = False  # already sent by an earlier, partly failed attempt

    def to_dict(self) -> dict[str, Any]:
        return {
            "audience": self.audience,
            "label": self.label,
            "recipients": self.recipients,
            "message_ids": self.message_ids,
            "findings": self.findings,
            "subject": self.subject,
            "keys": self.keys,
            "report_url": self.report_url,
            "skipped": self.skipped,
        }


@dataclass(slots=True)
class DigestResult:
    """The outcome of one weekly digest step."""

    period_end: date
    run_id: str
    status: str  # sent | already-sent | in-progress | no-recipients
    findings: int = 0
    failed_accounts: int = 0
    audiences: list[AudienceResult] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)  # the all-accounts archive
    report_url: str | None = None

    @property
    def message_ids(self) -> list[str]:
        return [mid for a in self.audiences for mid in a.message_ids]

    def to_dict(self) -> dict[str, Any]:
        return {
            "period_end": self.period_end.isoformat(),
            "run_id": self.run_id,
            "status": self.status,
            "findings": self.findings,
            "failed_accounts": self.failed_accounts,
            "messages": len(self.message_ids),
            "message_ids": self.message_ids,
            "audiences": [a.to_dict() for a in self.audiences],
            "keys": self.keys,
            "report_url": self.report_url,
        }


def plan_audiences(settings: Settings, accounts: AccountsFile) -> list[Audience]:
    """Group recipients so each gets exactly one digest covering every account they follow."""
    everyone = tuple(dict.fromkeys([*settings.recipients, *accounts.recipients]))
    follows: dict[str, set[str]] = defaultdict(set)
    for config in accounts.accounts:
        team_addresses = accounts.teams.get(config.team, ()) if config.team else ()
        for address in (*team_addresses, *config.recipients):
            if address not in everyone:
                follows[address].add(config.key)
    groups: dict[frozenset[str], list[str]] = defaultdict(list)
    for address, keys in follows.items():
        groups[frozenset(keys)].append(address)
    audiences = [Audience(ALL, None, everyone, None)] if everyone else []
    by_key = {c.key: c for c in accounts.accounts}
    for scope, addresses in sorted(groups.items(), key=lambda item: sorted(item[0])):
        configs = tuple(by_key[k] for k in sorted(scope))
        label = _audience_label(configs, accounts)
        audiences.append(Audience(_slug(label, scope), label, tuple(addresses), configs))
    return audiences


def _audience_label(configs: tuple[AccountConfig, ...], accounts: AccountsFile) -> str:
    teams = {c.team for c in configs}
    if len(teams) == 1 and None not in teams:
        team = next(iter(teams))
        if {c.key for c in accounts.accounts if c.team == team} == {c.key for c in configs}:
            return f"Team {team}"
    if len(configs) <= 3:
        return ", ".join(account_label(c.account, c.platform) for c in configs)
    return f"{len(configs)} accounts"


def _slug(label: str, keys: frozenset[str]) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.")[:60] or "audience"
    suffix = hashlib.sha256("\x1f".join(sorted(keys)).encode()).hexdigest()[:8]
    return f"{stem.lower()}-{suffix}"


def run_weekly_digest(
    store: FindingsStore,
    sesv2_client: Any,
    accounts: AccountsFile,
    settings: Settings,
    *,
    period_end: date,
    run_id: str,
    now: datetime | None = None,
) -> DigestResult:
    """Build, archive and send the digest of the week before ``period_end``, at most once per period."""
    if not settings.sender:
        raise ConfigError("SOCIALAUDIT_SENDER is not set: the digest needs a verified sender address")
    audiences = plan_audiences(settings, accounts)
    if not audiences:
        log.warning("digest: no recipients configured; nothing sent", extra={"fields": {"period_end": str(period_end)}})
        return DigestResult(period_end, run_id, "no-recipients")
    if not store.claim_digest(period_end, run_id):
        status = _claim_status(store, period_end, run_id)
        if status != "taken-over":
            log.info(
                "digest: period claimed; nothing sent",
                extra={"fields": {"period_end": str(period_end), "status": status}},
            )
            return DigestResult(period_end, run_id, status)
    try:
        return _send_all(store, sesv2_client, accounts, settings, audiences, period_end, run_id, now)
    except BaseException:
        store.release_digest(period_end)  # so the next firing (or a retry) can send what did not go out
        raise


def _claim_status(store: FindingsStore, period_end: date, run_id: str) -> str:
    """Why the claim failed: ``already-sent``, ``in-progress`` (a live run has it), ``taken-over`` (a dead one had)."""
    if store.get_digest_file(period_end, "summary.json") is not None:
        return "already-sent"
    if store.take_over_digest_claim(period_end, run_id, older_than=STALE_CLAIM):
        log.warning("digest: took over a stale claim", extra={"fields": {"period_end": str(period_end)}})
        return "taken-over"
    return "in-progress"


def _send_all(
    store: FindingsStore,
    sesv2_client: Any,
    accounts: AccountsFile,
    settings: Settings,
    audiences: list[Audience],
    period_end: date,
    run_id: str,
    now: datetime | None,
) -> DigestResult:
    data = load_period(
        store, period_end=period_end, days=settings.digest_days, repeat_window_days=settings.repeat_window_days, now=now
    )
    full = assemble_digest(data, accounts, repeat_min_posts=settings.repeat_min_posts)
    rendered, keys, report_url = _archive(store, full, period_end, prefix="")
    result = DigestResult(
        period_end,
        run_id,
        "sent",
        findings=len(full.findings),
        failed_accounts=len(full.failed_accounts),
        keys=keys,
        report_url=report_url,
    )
    for audience in audiences:
        if store.digest_sent(period_end, audience.slug):
            result.audiences.append(_skipped(audience))
            continue
        result.audiences.append(
            _send_audience(
                store, sesv2_client, settings, data, accounts, audience, period_end, (full, rendered, keys, report_url)
            )
        )
    store.put_digest_summary(
        period_end,
        {
            "run_id": run_id,
            "finding_ids": sorted(f.finding_id for f in full.findings),
            "counts": {"findings": len(full.findings), **{k: t.current for k, t in full.by_severity.items()}},
            "messages": len(result.message_ids),
        },
    )
    return result


def _skipped(audience: Audience) -> AudienceResult:
    return AudienceResult(audience.slug, audience.label, list(audience.recipients), [], 0, "", {}, None, skipped=True)


def _send_audience(
    store: FindingsStore,
    sesv2_client: Any,
    settings: Settings,
    data: PeriodData,
    accounts: AccountsFile,
    audience: Audience,
    period_end: date,
    full: tuple[Digest, RenderedDigest, dict[str, str], str | None],
) -> AudienceResult:
    if audience.accounts is None:
        digest, rendered, keys, report_url = full
        prefix = ""
    else:
        digest = assemble_digest(
            data, accounts, only=audience.accounts, scope=audience.label, repeat_min_posts=settings.repeat_min_posts
        )
        prefix = f"audience={audience.slug}/"
        rendered, keys, report_url = _archive(store, digest, period_end, prefix=prefix)
    recipients = list(audience.recipients)
    unsubscribe = f"{settings.public_url.rstrip('/')}/unsubscribe" if settings.public_url else None
    message_ids = []
    for start in range(0, len(recipients), MAX_RECIPIENTS_PER_MESSAGE):
        chunk = recipients[start : start + MAX_RECIPIENTS_PER_MESSAGE]
        raw = message_bytes(
            build_message(rendered, sender=settings.sender or "", recipients=chunk, unsubscribe_url=unsubscribe)
        )
        if start == 0:
            keys["eml"] = store.put_digest_file(period_end, prefix + "digest.eml", raw, "message/rfc822")
        message_ids.append(send_raw(sesv2_client, raw, sender=settings.sender or ""))
    store.mark_digest_sent(period_end, audience.slug, message_ids)
    log.info(
        "digest sent",
        extra={"fields": {"audience": audience.slug, "recipients": len(recipients), "findings": len(digest.findings)}},
    )
    return AudienceResult(
        audience.slug,
        audience.label,
        recipients,
        message_ids,
        len(digest.findings),
        rendered.subject,
        dict(keys),
        report_url,
    )


def _archive(
    store: FindingsStore, digest: Digest, period_end: date, *, prefix: str
) -> tuple[RenderedDigest, dict[str, str], str | None]:
    """Store the full report first (the e-mail links to it), then the e-mail's HTML and text."""
    report = render_report(digest)
    report_key = store.put_digest_file(period_end, prefix + "report.html", report, "text/html; charset=utf-8")
    report_url = store.presigned_url(report_key)
    rendered = render_digest(digest, report_url=report_url, report_html=report)
    keys = {
        "report": report_key,
        "html": store.put_digest_file(period_end, prefix + "digest.html", rendered.html, "text/html; charset=utf-8"),
        "text": store.put_digest_file(period_end, prefix + "digest.txt", rendered.text, "text/plain; charset=utf-8"),
    }
    return rendered, keys, report_url
