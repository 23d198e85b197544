"""The audit path: for each account, collect new items, evaluate them, store findings, move the cursor.

Each account is its own failure domain: whatever one account's platform does, the others go on,
and the failure is recorded in the run (and shown in the digest).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from functions.config import AccountConfig
from functions.connectors.base import Connector, ConnectorContext, ConnectorError, connector_for
from functions.logs import event, get_logger, log_context
from functions.model import AccountResult, Finding, Post, RunRecord, parse_time, utc_now
from functions.store import FindingsSpool, FindingsStore

log = get_logger("audit")
PARENT_CACHE_SIZE = 5_000  # recent posts kept to give comments their parent as context


class Engine(Protocol):
    """What the audit needs of the guideline engine (see ``functions.guidelines``)."""

    policy_name: str
    policy_version: str

    def findings(self, post: Post, *, run_id: str, detected_at: str, parent: Post | None = None) -> list[Finding]: ...


@dataclass(frozen=True, slots=True)
class Window:
    """An on-demand audit's time window over ``created_at`` (inclusive start, exclusive end)."""

    since: datetime
    until: datetime

    @classmethod
    def parse(cls, since: str | None, until: str | None, *, now: datetime | None = None) -> Window | None:
        """Build a window from ISO strings; None when neither is given."""
        if not since and not until:
            return None
        now = now or datetime.now(UTC)
        start = parse_time(since, field="since") if since else now - timedelta(days=7)
        end = parse_time(until, field="until") if until else now
        if start >= end:
            raise ValueError("window: 'since' must be before 'until'")
        return cls(start, end)

    def contains(self, post: Post) -> bool:
        return self.since <= parse_time(post.created_at) < self.until

    def to_dict(self) -> dict[str, str]:
        return {"since": self.since.strftime("%Y-%m-%dT%H:%M:%SZ"), "until": self.until.strftime("%Y-%m-%dT%H:%M:%SZ")}


def evaluate_stream(
    posts: Iterable[Post], engine: Engine, *, run_id: str, detected_at: str | None = None
) -> Iterator[Finding]:
    """Findings for a stream of posts, with each comment's parent (if seen) as context."""
    detected_at = detected_at or utc_now()
    parents: OrderedDict[str, Post] = OrderedDict()
    for post in posts:
        parent = parents.get(post.parent_id) if post.parent_id else None
        yield from engine.findings(post, run_id=run_id, detected_at=detected_at, parent=parent)
        if post.kind != "reply":
            parents[post.id] = post
            if len(parents) > PARENT_CACHE_SIZE:
                parents.popitem(last=False)


def audit_account(
    account: AccountConfig,
    connector: Connector,
    engine: Engine,
    store: FindingsStore,
    *,
    run_id: str,
    window: Window | None = None,
    now: datetime | None = None,
) -> AccountResult:
    """Collect, evaluate and store one account; raises only what the caller records as a failure."""
    now = now or datetime.now(UTC)
    today = now.date()
    result = AccountResult(account=account.account, platform=account.platform)
    state = store.get_cursor(account.key)
    # A windowed (on-demand) audit looks back over everything recent and leaves the schedule's cursor alone.
    start_cursor = None if window else state.cursor
    posts: Iterable[Post] = connector.collect(start_cursor)
    if window:
        posts = (p for p in posts if window.contains(p))
    counter = _Counter()
    posts = counter.count(posts)
    already = _already_stored(store, account, state.in_flight, window, today)
    key = store.findings_key(account.key, run_id, today)
    # A redelivered message: an attempt of this same run that died may have stored its object already.
    # Those findings are this run's; new ones found since must join them, not be dropped by the conditional PUT.
    own = store.read_findings_object(key) if window or key in state.in_flight else []
    failure: ConnectorError | None = None
    # Findings go to a spool as they are found, never to a list: memory stays flat however many items come.
    with FindingsSpool() as spool:
        for finding in own:
            spool.add(finding)
        try:
            for finding in evaluate_stream(posts, engine, run_id=run_id, detected_at=_stamp(now)):
                if finding.finding_id not in already:
                    spool.add(finding)
        except ConnectorError as exc:
            failure = exc  # keep what was evaluated; the cursor stays put so nothing is skipped
        result.items = counter.n
        result.requests = connector.requests_made
        fresh = spool.count - len(own)
        if fresh:
            if not window:
                store.mark_in_flight(account.key, state, key, run_id)
            store.put_findings(account.key, run_id, spool, day=today, extend=bool(own))
    if own or fresh:
        result.findings_key = key
    result.findings = len(own) + fresh
    if failure is not None:
        raise failure
    if not window:
        store.save_cursor(account.key, connector.cursor, run_id)
    if connector.stopped_early:
        result.status = "partial"
        result.error = connector.stopped_early
        result.error_kind = connector.stop_error.kind if connector.stop_error else "stopped-early"
    elif skipped := getattr(connector, "skipped", 0):
        # Broken pages are skipped (and listed again next run): record it, or the digest would call this clean.
        result.status = "partial"
        result.error_kind = "malformed"
        result.error = f"{skipped} malformed page(s) or item(s) skipped; skipped pages are listed again next run"
    return result


def _already_stored(
    store: FindingsStore, account: AccountConfig, in_flight: list[str], window: Window | None, today: date
) -> set[str]:
    keys = list(in_flight)
    if window:
        keys += store.account_finding_keys(account.key, window.since.date(), today + timedelta(days=1))
    return store.stored_finding_ids(keys) if keys else set()


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Counter:
    """Counts items as they stream past, without holding them."""

    def __init__(self) -> None:
        self.n = 0

    def count(self, items: Iterable[Post]) -> Iterator[Post]:
        for item in items:
            self.n += 1
            yield item


ContextFactory = Callable[[AccountConfig], ConnectorContext]
ConnectorFactory = Callable[[AccountConfig, ConnectorContext], Connector]


def audit_one(
    account: AccountConfig,
    *,
    engine: Engine,
    store: FindingsStore,
    run_id: str,
    make_context: ContextFactory,
    make_connector: ConnectorFactory = connector_for,
    window: Window | None = None,
    now: datetime | None = None,
) -> AccountResult:
    """Audit one account inside its failure boundary and record its result in the run."""
    started = time.monotonic()
    connector: Connector | None = None
    with log_context(run_id=run_id, account=account.key, platform=account.platform):
        try:
            connector = make_connector(account, make_context(account))
            result = audit_account(account, connector, engine, store, run_id=run_id, window=window, now=now)
        except ConnectorError as exc:
            result = _failed(account, exc.kind, str(exc), connector)
            event(log, "account failed", logging.WARNING, error_kind=exc.kind, error=str(exc))
        except Exception as exc:  # one broken account never stops the others
            result = _failed(account, "internal", f"{type(exc).__name__}: {exc}", connector)
            log.exception("account failed unexpectedly")
        else:
            event(
                log,
                "account audited",
                items=result.items,
                findings=result.findings,
                requests=result.requests,
                seconds=round(time.monotonic() - started, 3),
            )
        store.put_account_result(run_id, result, account.key)
    return result


def _failed(account: AccountConfig, kind: str, message: str, connector: Connector | None) -> AccountResult:
    return AccountResult(
        account=account.account,
        platform=account.platform,
        status="failed",
        error_kind=kind,
        error=message[:500],
        requests=connector.requests_made if connector else 0,
    )


def run_audit(
    accounts: list[AccountConfig],
    *,
    engine: Engine,
    store: FindingsStore,
    run_id: str,
    trigger: str,
    make_context: ContextFactory,
    make_connector: ConnectorFactory = connector_for,
    window: Window | None = None,
    now: datetime | None = None,
) -> RunRecord:
    """Audit every account in turn; the run record says what each did."""
    run = start_run(accounts, store=store, run_id=run_id, trigger=trigger, window=window)
    for account in accounts:
        run.accounts[account.key] = audit_one(
            account,
            engine=engine,
            store=store,
            run_id=run_id,
            make_context=make_context,
            make_connector=make_connector,
            window=window,
            now=now,
        )
    return finish_run(run, store)


def start_run(
    accounts: list[AccountConfig], *, store: FindingsStore, run_id: str, trigger: str, window: Window | None = None
) -> RunRecord:
    """Write the run header with every account pending."""
    run = RunRecord(
        run_id=run_id,
        trigger=trigger,
        started_at=utc_now(),
        window=window.to_dict() if window else None,
        accounts={a.key: AccountResult(account=a.account, platform=a.platform, status="pending") for a in accounts},
    )
    store.put_run(run)
    return run


def finish_run(run: RunRecord, store: FindingsStore) -> RunRecord:
    """Close the run: its status follows from the accounts' results."""
    statuses = {r.status for r in run.accounts.values()}
    run.status = "failed" if statuses == {"failed"} else "partial" if statuses & {"failed", "partial"} else "ok"
    run.finished_at = utc_now()
    store.put_run(run)
    event(log, "run finished", run_id=run.run_id, status=run.status, **run.counts)
    return run


def default_context_factory(
    secrets: Any, *, max_requests: int, budget_seconds: float, session: Any = None
) -> ContextFactory:
    """Contexts sharing one secrets cache and HTTP session, each with its own deadline and budget."""

    def make(account: AccountConfig) -> ConnectorContext:
        return ConnectorContext(
            secrets=secrets,
            max_requests=max_requests,
            deadline=time.monotonic() + budget_seconds,
            session=session,
        )

    return make
