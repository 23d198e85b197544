"""Aggregate a period's findings, run records and history into a :class:`Digest` (no rendering here)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from functions.config import AccountConfig, AccountsFile
from functions.model import CATEGORIES, SEVERITIES, SEVERITY_RANK, Author, Finding, parse_time
from functions.store import FindingsStore

MAX_ERROR_CHARS = 300  # a platform's error text can be long; the digest shows the gist
STALE_RUN = timedelta(hours=6)  # a run still "running" after this never finished its accounts


@dataclass(frozen=True, slots=True)
class Trend:
    """A count now and in the previous period."""

    current: int
    previous: int

    @property
    def delta(self) -> int:
        return self.current - self.previous

    @property
    def arrow(self) -> str:
        return "▲" if self.delta > 0 else "▼" if self.delta < 0 else "="

    @property
    def label(self) -> str:
        """E.g. ``▲ 3`` or ``= 0``, versus the previous period."""
        return f"{self.arrow} {abs(self.delta)}"


@dataclass(frozen=True, slots=True)
class RepeatOffender:
    """An author with findings on several posts within the repeat window."""

    author: Author
    platform: str
    posts: int
    findings: int
    accounts: tuple[str, ...]
    categories: tuple[str, ...]
    worst_severity: str
    last_seen: str
    post_urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FailedAccount:
    """An account whose collection failed (or never ran) during the period, and why."""

    key: str
    platform: str
    account: str
    error_kind: str
    error: str
    failures: int  # failed runs in the period
    runs: int  # runs in the period that covered this account
    last_failed_at: str | None
    recovered: bool  # the latest run of the period succeeded for it


class AccountOutcome(NamedTuple):
    """One account's result in one run, as the digest needs it."""

    status: str  # ok | failed | skipped | pending
    error_kind: str | None
    error: str | None


class PeriodRun(NamedTuple):
    """One audit run of the period: when it started and how each account fared."""

    run_id: str
    started: datetime
    accounts: dict[str, AccountOutcome]


@dataclass(slots=True)
class PeriodData:
    """What the store holds for a digest period, read once and shared by every audience."""

    period_start: date
    period_end: date
    days: int
    repeat_window_days: int
    generated_at: datetime
    current: list[Finding]
    previous: list[Finding]
    window: list[Finding]  # every finding of the repeat window (including the current period)
    earlier_open: list[Finding]  # detected before the period, inside the window, not acknowledged
    reported_before: frozenset[str]  # finding ids the previous digest already showed
    previous_digest: date | None
    has_history: bool  # something was audited in the previous period, so trends mean something
    runs: list[PeriodRun] = field(default_factory=list)  # the period's audit runs, oldest first


@dataclass(slots=True)
class Digest:
    """Everything one digest e-mail shows, for one audience (all accounts or a team's)."""

    organization: str
    scope: str | None  # None: all accounts; else a team or audience label
    period_start: date
    period_end: date
    generated_at: datetime
    days: int
    repeat_window_days: int
    findings: list[Finding]  # the period's findings, most severe first
    new_ids: frozenset[str]  # findings not shown in the previous digest
    still_open: list[Finding]  # earlier findings nobody acknowledged, most severe first
    previous_findings: int
    by_severity: dict[str, Trend]
    by_category: dict[str, Trend]
    by_account: dict[str, int]  # "Account (Platform)" -> findings
    repeat_offenders: list[RepeatOffender]
    failed_accounts: list[FailedAccount]
    accounts_audited: int
    previous_digest: date | None = None
    has_history: bool = True

    @property
    def total(self) -> Trend:
        return Trend(len(self.findings), self.previous_findings)

    @property
    def action_now(self) -> list[Finding]:
        """Critical and high findings: what someone should look at today."""
        return [f for f in self.findings if SEVERITY_RANK[f.severity] <= SEVERITY_RANK["high"]]

    @property
    def later(self) -> list[Finding]:
        """Medium and low findings."""
        return [f for f in self.findings if SEVERITY_RANK[f.severity] > SEVERITY_RANK["high"]]

    @property
    def still_failing(self) -> list[FailedAccount]:
        """Failed accounts whose latest run of the period did not succeed either."""
        return [a for a in self.failed_accounts if not a.recovered]

    @property
    def accounts_with_findings(self) -> int:
        return len(self.by_account)

    def status(self, finding: Finding) -> str:
        """``new``, ``reported`` (this period's, but an earlier digest showed it) or ``open`` (older)."""
        if finding.finding_id in self.new_ids:
            return "new"
        detected = parse_time(finding.detected_at, field="detected_at").date()
        return "reported" if detected >= self.period_start else "open"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def most_severe_first(findings: Iterable[Finding]) -> list[Finding]:
    """Most severe first; within a severity, the most recent post first."""
    newest_first = sorted(findings, key=lambda f: (parse_time(f.created_at), f.finding_id), reverse=True)
    return sorted(newest_first, key=lambda f: SEVERITY_RANK[f.severity])  # stable: keeps newest first


def load_period(
    store: FindingsStore,
    *,
    period_end: date,
    days: int = 7,
    repeat_window_days: int = 30,
    now: datetime | None = None,
) -> PeriodData:
    """Read the period's findings, the previous period, the repeat window and the period's runs."""
    if days < 1 or repeat_window_days < 1:
        raise ValueError("days and repeat_window_days must be at least 1")
    start = period_end - timedelta(days=days)
    previous_start = start - timedelta(days=days)
    window_start = min(period_end - timedelta(days=repeat_window_days), previous_start)
    earlier = list(store.iter_findings(window_start, start))
    earlier_ids = {f.finding_id for f in earlier}
    # A finding seen again this period (a re-run) is not new: its first detection counts.
    current = [f for f in store.iter_findings(start, period_end) if f.finding_id not in earlier_ids]
    repeat_start = period_end - timedelta(days=repeat_window_days)
    previous = [f for f in earlier if parse_time(f.detected_at, field="detected_at").date() >= previous_start]
    window = [f for f in earlier if parse_time(f.detected_at, field="detected_at").date() >= repeat_start] + current
    acknowledged = store.acknowledged_ids()
    summary = store.previous_digest_summary(before=period_end)
    generated_at = (now or datetime.now(UTC)).astimezone(UTC)
    run_ids = store.list_runs(since=_day_start(previous_start))
    start_id, end_id = start.strftime("%Y%m%d"), period_end.strftime("%Y%m%d")
    return PeriodData(
        period_start=start,
        period_end=period_end,
        days=days,
        repeat_window_days=repeat_window_days,
        generated_at=generated_at,
        current=current,
        previous=previous,
        window=window,
        earlier_open=[f for f in window if f.finding_id in earlier_ids and f.finding_id not in acknowledged],
        reported_before=frozenset(summary.get("finding_ids", ())) if summary else frozenset(),
        previous_digest=date.fromisoformat(summary["period_end"]) if summary else None,
        has_history=bool(previous) or any(r[:8] < start_id for r in run_ids),
        runs=_load_runs(store, [r for r in run_ids if start_id <= r[:8] < end_id], now=generated_at),
    )


def _load_runs(store: FindingsStore, run_ids: list[str], *, now: datetime) -> list[PeriodRun]:
    runs = []
    for run_id in run_ids:
        record = store.get_run(run_id)
        if record is None:
            continue
        started = parse_time(record.started_at, field="started_at")
        finished = record.finished_at is not None or record.status != "running" or now - started > STALE_RUN
        outcomes = {}
        for key, result in record.accounts.items():
            outcome = AccountOutcome(result.status, result.error_kind, result.error)
            if result.status == "pending" and finished:
                outcome = AccountOutcome("failed", "incomplete", "the run ended before this account was collected")
            outcomes[key] = outcome
        runs.append(PeriodRun(run_id, started, outcomes))
    return runs


def build_digest(
    store: FindingsStore,
    accounts: AccountsFile,
    *,
    period_end: date,
    days: int = 7,
    repeat_window_days: int = 30,
    now: datetime | None = None,
    repeat_min_posts: int = 3,
) -> Digest:
    """Build the digest of findings detected in ``[period_end - days, period_end)`` for all accounts."""
    data = load_period(store, period_end=period_end, days=days, repeat_window_days=repeat_window_days, now=now)
    return assemble_digest(data, accounts, repeat_min_posts=repeat_min_posts)


class _AccountIndex:
    """Maps findings (platform, account name) to configured accounts."""

    def __init__(self, configs: Iterable[AccountConfig]):
        self.by_name = {(c.platform, c.account.lower()): c for c in configs}

    def config_for(self, finding: Finding) -> AccountConfig | None:
        return self.by_name.get((finding.platform, finding.account.lower()))


def account_label(account: str, platform: str) -> str:
    """How the digest names an account, e.g. ``CMEAdvance (X)``."""
    return f"{account} ({PLATFORM_LABELS.get(platform, platform)})"


PLATFORM_LABELS = {
    "x": "X",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "linkedin": "LinkedIn",
    "youtube": "YouTube",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
}


def assemble_digest(
    data: PeriodData,
    accounts: AccountsFile,
    *,
    only: Sequence[AccountConfig] | None = None,
    scope: str | None = None,
    repeat_min_posts: int = 3,
) -> Digest:
    """The digest of ``data`` for every account, or ``only`` those accounts (a team's digest)."""
    index = _AccountIndex(accounts.accounts)
    in_scope_keys = {c.key for c in (only if only is not None else accounts.accounts)}

    def keep(finding: Finding) -> bool:
        config = index.config_for(finding)
        # Findings of an account no longer configured still reach the all-accounts digest.
        return only is None if config is None else config.key in in_scope_keys

    current = most_severe_first(filter(keep, data.current))
    previous = [f for f in data.previous if keep(f)]
    return Digest(
        organization=accounts.organization,
        scope=scope,
        period_start=data.period_start,
        period_end=data.period_end,
        generated_at=data.generated_at,
        days=data.days,
        repeat_window_days=data.repeat_window_days,
        findings=current,
        new_ids=frozenset(f.finding_id for f in current if f.finding_id not in data.reported_before),
        still_open=most_severe_first(filter(keep, data.earlier_open)),
        previous_findings=len(previous),
        by_severity=_trends(current, previous, "severity", SEVERITIES),
        by_category=_trends(current, previous, "category", CATEGORIES),
        by_account=_by_account(current),
        repeat_offenders=repeat_offenders([f for f in data.window if keep(f)], min_posts=repeat_min_posts),
        failed_accounts=failed_accounts(data, [c for c in accounts.accounts if c.key in in_scope_keys]),
        accounts_audited=len(in_scope_keys),
        previous_digest=data.previous_digest,
        has_history=data.has_history,
    )


def _trends(current: list[Finding], previous: list[Finding], attr: str, names: Sequence[str]) -> dict[str, Trend]:
    now, before = Counter(getattr(f, attr) for f in current), Counter(getattr(f, attr) for f in previous)
    return {name: Trend(now[name], before[name]) for name in names if now[name] or before[name]}


def _by_account(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(account_label(f.account, f.platform) for f in findings)
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def repeat_offenders(window: Iterable[Finding], *, min_posts: int = 3) -> list[RepeatOffender]:
    """Non-staff authors with findings on at least ``min_posts`` posts, most posts first."""
    groups: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for finding in window:
        if not finding.author.is_org:  # staff are coached, not blocked
            groups[(finding.platform, finding.author.id)].append(finding)
    offenders = []
    for (platform, _), found in groups.items():
        posts = {f.post_id for f in found}
        if len(posts) < min_posts:
            continue
        latest = max(found, key=lambda f: f.created_at)
        offenders.append(
            RepeatOffender(
                author=latest.author,
                platform=platform,
                posts=len(posts),
                findings=len(found),
                accounts=tuple(sorted({account_label(f.account, f.platform) for f in found})),
                categories=tuple(c for c in CATEGORIES if any(f.category == c for f in found)),
                worst_severity=min((f.severity for f in found), key=SEVERITY_RANK.__getitem__),
                last_seen=latest.created_at,
                post_urls=tuple(dict.fromkeys(f.post_url for f in found if f.post_url)),
            )
        )
    return sorted(offenders, key=lambda o: (-o.posts, SEVERITY_RANK[o.worst_severity], o.author.handle))


def failed_accounts(data: PeriodData, configs: Sequence[AccountConfig]) -> list[FailedAccount]:
    """Accounts that failed in any run of the period, or that no run of the period collected."""
    out = []
    for config in configs:
        seen = [(run.started, run.accounts[config.key]) for run in data.runs if config.key in run.accounts]
        # A partial collection (rate limit, budget, skipped broken pages) may miss findings too: show it.
        failed = [(started, outcome) for started, outcome in seen if outcome.status in ("failed", "partial")]
        if not seen:
            why = "no audit run collected this account during the period"
            out.append(
                FailedAccount(config.key, config.platform, config.account, "not-collected", why, 0, 0, None, False)
            )
            continue
        if not failed:
            continue
        last_started, last = failed[-1]
        out.append(
            FailedAccount(
                key=config.key,
                platform=config.platform,
                account=config.account,
                error_kind=last.error_kind or "error",
                error=_shorten(last.error or "no error message was recorded"),
                failures=len(failed),
                runs=len(seen),
                last_failed_at=last_started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                recovered=seen[-1][1].status == "ok",
            )
        )
    # Still failing first: those need someone today.
    return sorted(out, key=lambda a: (a.recovered, a.account.lower(), a.platform))


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
