"""Everything the auditor keeps in S3: findings, collection cursors, run records, digest archives.

Layout (the one place that knows it):

    findings/dt=YYYY-MM-DD/account=<key>/run=<run_id>.jsonl   one object per account run
    state/cursors/<key>.json                                   collection cursor + in-flight marker
    runs/<run_id>/run.json                                     run header (trigger, window, accounts)
    runs/<run_id>/accounts/<key>.json                          one account's result in that run
    runs/<run_id>/dispatch.json                                who dispatched a scheduled run (idempotency)
    digests/<period_end>/{digest.html,digest.txt,digest.eml,report.html,summary.json,sent.json}
    digests/<period_end>/audience=<slug>/{digest.html,digest.txt,digest.eml,report.html,sent.json}
                                                               one per team/recipient audience; sent.json
                                                               marks that audience as sent (retry skips it)
    state/acks/<finding_id>.json                               a finding someone acknowledged (not "still open")

Findings are written before the cursor that covers them moves; a run that dies between the two
leaves an in-flight marker, and the next run drops findings that object already holds.
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

from functions.model import AccountResult, Finding, RunRecord, dumps_line, read_findings, utc_now

RUN_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
FINDING_ID = re.compile(r"^[0-9a-f]{8,64}$")


class StoreError(RuntimeError):
    """S3 refused or lost something the store needed."""


class AlreadyExists(StoreError):
    """A conditional write found the object already there (idempotency)."""


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: ``YYYYMMDDTHHMMSSZ-<8 hex>``."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if well-formed, else raise ValueError (it reaches S3 keys)."""
    if not isinstance(run_id, str) or not RUN_ID.match(run_id):
        raise ValueError(f"not a run id: {str(run_id)[:60]!r}")
    return run_id


def _check_key(key: str) -> str:
    if not SAFE_KEY.match(key):
        raise ValueError(f"unsafe account key: {key[:60]!r}")
    return key


class FindingsSpool:
    """Findings as JSON Lines, written as they are found: in memory up to a few MB, then in a temporary file.

    An account run's findings reach S3 as one object without ever being held as a list, so the
    audit's memory does not grow with the number of items. Example::

        spool = FindingsSpool()
        for finding in findings:
            spool.add(finding)
        store.put_findings(key, run_id, spool, day=today)
    """

    MEMORY_BYTES = 1024 * 1024  # beyond this the spool moves to disk (Lambda has /tmp)

    def __init__(self) -> None:
        self.count = 0
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=self.MEMORY_BYTES)  # noqa: SIM115

    def add(self, finding: Finding) -> None:
        self._file.write(dumps_line(finding).encode("utf-8"))
        self.count += 1

    def body(self) -> IO[bytes]:
        """The JSON Lines so far, rewound for reading (an S3 PUT streams it)."""
        self._file.seek(0)
        return self._file

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FindingsSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(slots=True)
class CursorState:
    """An account's saved collection cursor and any findings object not yet covered by it."""

    cursor: dict[str, Any] | None = None
    in_flight: list[str] = field(default_factory=list)  # findings keys written, cursor not yet moved past
    updated_at: str | None = None
    run_id: str | None = None
    etag: str | None = None


class FindingsStore:
    """Reads and writes the auditor's S3 layout through a boto3 S3 client passed in."""

    def __init__(self, s3: Any, bucket: str):
        self.s3 = s3
        self.bucket = bucket
        self.writes = 0  # S3 PUTs made through this store (benchmarks check it is O(accounts))

    # --- low level -------------------------------------------------------------------------
    def _put(
        self,
        key: str,
        body: bytes | str | IO[bytes],
        *,
        content_type: str,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        extra: dict[str, Any] = {"IfNoneMatch": "*"} if if_none_match else {}
        if if_match is not None:  # replace only the version we read; a concurrent writer makes this fail
            extra["IfMatch"] = if_match
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, **extra)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise AlreadyExists(key) from None
            raise
        self.writes += 1

    def _get(self, key: str) -> bytes | None:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def _get_json(self, key: str) -> Any:
        raw = self._get(key)
        return None if raw is None else json.loads(raw)

    def _keys(self, prefix: str) -> Iterator[str]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                yield item["Key"]

    # --- findings ---------------------------------------------------------------------------
    @staticmethod
    def findings_key(account_key: str, run_id: str, day: date) -> str:
        return f"findings/dt={day.isoformat()}/account={_check_key(account_key)}/run={check_run_id(run_id)}.jsonl"

    def put_findings(
        self, account_key: str, run_id: str, findings: Iterable[Finding] | FindingsSpool, *, day: date,
        extend: bool = False,
    ) -> str | None:
        """Write one account run's findings as one JSON Lines object; None when there are none.

        The write is conditional, so a redelivered message can never overwrite or double it.
        ``extend=True`` replaces the run's object with ``findings`` (the caller passes what it held
        plus what a redelivered attempt found since), so items that arrived meanwhile are kept.
        """
        body: str | IO[bytes]
        if isinstance(findings, FindingsSpool):
            if not findings.count:
                return None
            body = findings.body()
        else:
            body = "".join(dumps_line(f) for f in findings)
            if not body:
                return None
        key = self.findings_key(account_key, run_id, day)
        if extend:
            self._put(key, body, content_type="application/x-ndjson")
            return key
        # A redelivered message finds its own object already there: same run, same findings.
        with contextlib.suppress(AlreadyExists):
            self._put(key, body, content_type="application/x-ndjson", if_none_match=True)
        return key

    def read_findings_object(self, key: str) -> list[Finding]:
        raw = self._get(key)
        # Split on "\n" only: str.splitlines() also breaks at U+2028, U+0085... that JSON leaves unescaped in text.
        return [] if raw is None else list(read_findings(raw.decode("utf-8").split("\n")))

    def iter_findings(
        self, start: date, end: date, *, accounts: Iterable[str] | None = None
    ) -> Iterator[Finding]:
        """Findings detected on days ``start`` ≤ dt < ``end``, each finding id once."""
        wanted = set(accounts) if accounts is not None else None
        seen: set[str] = set()
        day = start
        while day < end:
            for key in sorted(self._keys(f"findings/dt={day.isoformat()}/")):
                account = key.split("/account=", 1)[1].split("/", 1)[0]
                if wanted is not None and account not in wanted:
                    continue
                for finding in self.read_findings_object(key):
                    if finding.finding_id not in seen:
                        seen.add(finding.finding_id)
                        yield finding
            day += timedelta(days=1)

    # --- cursors ----------------------------------------------------------------------------
    @staticmethod
    def cursor_key(account_key: str) -> str:
        return f"state/cursors/{_check_key(account_key)}.json"

    def get_cursor(self, account_key: str) -> CursorState:
        data = self._get_json(self.cursor_key(account_key)) or {}
        return CursorState(
            cursor=data.get("cursor"),
            in_flight=list(data.get("in_flight") or []),
            updated_at=data.get("updated_at"),
            run_id=data.get("run_id"),
        )

    def _put_cursor_state(self, account_key: str, state: CursorState) -> None:
        body = json.dumps(
            {"cursor": state.cursor, "in_flight": state.in_flight, "updated_at": utc_now(), "run_id": state.run_id},
            sort_keys=True,
        )
        self._put(self.cursor_key(account_key), body, content_type="application/json")

    def mark_in_flight(self, account_key: str, state: CursorState, findings_key: str, run_id: str) -> None:
        """Record, before writing findings, that ``findings_key`` is not yet covered by the cursor."""
        keys = [*state.in_flight, findings_key] if findings_key not in state.in_flight else state.in_flight
        self._put_cursor_state(account_key, CursorState(cursor=state.cursor, in_flight=keys, run_id=run_id))

    def save_cursor(self, account_key: str, cursor: dict[str, Any] | None, run_id: str) -> None:
        """Move the cursor; call only after the findings it covers are stored."""
        self._put_cursor_state(account_key, CursorState(cursor=cursor, in_flight=[], run_id=run_id))

    def stored_finding_ids(self, keys: Iterable[str]) -> set[str]:
        """Finding ids already held by the given findings objects."""
        return {f.finding_id for key in keys for f in self.read_findings_object(key)}

    def account_finding_keys(self, account_key: str, start: date, end: date) -> list[str]:
        """Keys of an account's findings objects detected on days ``start`` ≤ dt < ``end``."""
        keys: list[str] = []
        day = start
        while day < end:
            keys.extend(self._keys(f"findings/dt={day.isoformat()}/account={_check_key(account_key)}/"))
            day += timedelta(days=1)
        return keys

    # --- runs -------------------------------------------------------------------------------
    def put_run(self, run: RunRecord) -> None:
        """Write the run header (without per-account results, which each account writes)."""
        header = run.to_dict()
        header.pop("accounts")
        header["account_keys"] = sorted(run.accounts)
        self._put(f"runs/{check_run_id(run.run_id)}/run.json", json.dumps(header), content_type="application/json")

    def put_account_result(self, run_id: str, result: AccountResult, key: str) -> None:
        self._put(
            f"runs/{check_run_id(run_id)}/accounts/{_check_key(key)}.json",
            json.dumps(result.to_dict()),
            content_type="application/json",
        )

    @staticmethod
    def dispatch_key(run_id: str) -> str:
        return f"runs/{check_run_id(run_id)}/dispatch.json"

    def claim_dispatch(self, run_id: str, record: dict[str, Any]) -> bool:
        """Claim the right to dispatch ``run_id`` (conditional write); False if a delivery already did."""
        try:
            self._put(
                self.dispatch_key(run_id), json.dumps(record), content_type="application/json", if_none_match=True
            )
        except AlreadyExists:
            return False
        return True

    def put_dispatch(self, run_id: str, record: dict[str, Any]) -> None:
        """Update the dispatch record of a run this process claimed."""
        self._put(self.dispatch_key(run_id), json.dumps(record), content_type="application/json")

    def get_dispatch(self, run_id: str) -> dict[str, Any]:
        """The dispatch record of a run (empty when never claimed)."""
        return dict(self._get_json(self.dispatch_key(run_id)) or {})

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run header merged with every account result written so far."""
        header = self._get_json(f"runs/{check_run_id(run_id)}/run.json")
        if header is None:
            return None
        run = RunRecord.from_dict({**header, "accounts": {}})
        for key in header.get("account_keys", []):
            run.accounts[key] = AccountResult(account=key, platform="?", status="pending")
        for key in self._keys(f"runs/{run_id}/accounts/"):
            data = self._get_json(key)
            if data:
                run.accounts[key.rsplit("/", 1)[1].removesuffix(".json")] = AccountResult.from_dict(data)
        return run

    def list_runs(self, *, since: datetime | None = None) -> list[str]:
        """Run ids, oldest first (optionally only those started at or after ``since``)."""
        ids = sorted({key.split("/")[1] for key in self._keys("runs/") if key.endswith("/run.json")})
        if since is not None:
            floor = since.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
            ids = [r for r in ids if r >= floor]
        return ids

    # --- digests ----------------------------------------------------------------------------
    @staticmethod
    def digest_prefix(period_end: date) -> str:
        return f"digests/{period_end.isoformat()}/"

    def claim_digest(self, period_end: date, run_id: str) -> bool:
        """Claim the right to send the digest of a period; False if it was already claimed."""
        body = json.dumps({"run_id": run_id, "claimed_at": utc_now()})
        try:
            self._put(
                self.digest_prefix(period_end) + "sent.json", body, content_type="application/json", if_none_match=True
            )
        except AlreadyExists:
            return False
        return True

    def release_digest(self, period_end: date) -> None:
        """Give a claim back (sending failed), so a retry can send."""
        self.s3.delete_object(Bucket=self.bucket, Key=self.digest_prefix(period_end) + "sent.json")

    def take_over_digest_claim(self, period_end: date, run_id: str, *, older_than: timedelta) -> bool:
        """Take a claim whose holder died before finishing (claimed longer ago than ``older_than``).

        The overwrite is conditional on the stale claim's ETag, so of two runs taking over only one wins.
        """
        key = self.digest_prefix(period_end) + "sent.json"
        try:
            current = self.s3.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if getattr(exc, "response", {}).get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return self.claim_digest(period_end, run_id)  # released meanwhile
            raise
        claimed_at = json.loads(current["Body"].read()).get("claimed_at") or "1970-01-01T00:00:00Z"
        if datetime.now(UTC) - datetime.fromisoformat(claimed_at.replace("Z", "+00:00")) < older_than:
            return False
        body = json.dumps({"run_id": run_id, "claimed_at": utc_now(), "took_over": True})
        try:
            self._put(key, body, content_type="application/json", if_match=current["ETag"])
        except AlreadyExists:  # another run took it over first
            return False
        return True

    def put_digest_file(self, period_end: date, name: str, body: bytes | str, content_type: str) -> str:
        key = self.digest_prefix(period_end) + name
        self._put(key, body, content_type=content_type)
        return key

    def get_digest_file(self, period_end: date, name: str) -> bytes | None:
        return self._get(self.digest_prefix(period_end) + name)

    def put_digest_summary(self, period_end: date, summary: dict[str, Any]) -> str:
        """Record what a sent digest showed, so the next one can tell new findings from known ones."""
        body = json.dumps({**summary, "period_end": period_end.isoformat()}, sort_keys=True)
        return self.put_digest_file(period_end, "summary.json", body, "application/json")

    def previous_digest_summary(self, *, before: date) -> dict[str, Any] | None:
        """The summary of the latest digest whose period ended before ``before``, if any."""
        ends = sorted(
            key.split("/")[1] for key in self._keys("digests/") if key.count("/") == 2 and key.endswith("/summary.json")
        )
        earlier = [end for end in ends if end < before.isoformat()]
        return self._get_json(f"digests/{earlier[-1]}/summary.json") if earlier else None

    def mark_digest_sent(self, period_end: date, audience: str, message_ids: list[str]) -> None:
        """Record that one audience's digest went out (a retry after a partial failure skips it)."""
        body = json.dumps({"message_ids": message_ids, "sent_at": utc_now()})
        self._put(self._audience_prefix(period_end, audience) + "sent.json", body, content_type="application/json")

    def digest_sent(self, period_end: date, audience: str) -> bool:
        return self._get(self._audience_prefix(period_end, audience) + "sent.json") is not None

    def _audience_prefix(self, period_end: date, audience: str) -> str:
        return f"{self.digest_prefix(period_end)}audience={_check_key(audience)}/"

    # --- acknowledgements -------------------------------------------------------------------
    def acknowledge_finding(self, finding_id: str, *, by: str, note: str | None = None) -> None:
        """Mark a finding as handled, so later digests stop listing it as still open."""
        if not FINDING_ID.match(finding_id):
            raise ValueError(f"not a finding id: {finding_id[:60]!r}")
        body = json.dumps({"finding_id": finding_id, "by": by, "note": note, "at": utc_now()})
        self._put(f"state/acks/{finding_id}.json", body, content_type="application/json")

    def acknowledged_ids(self) -> set[str]:
        return {key.rsplit("/", 1)[1].removesuffix(".json") for key in self._keys("state/acks/")}

    def presigned_url(self, key: str, *, expires: int = 7 * 24 * 3600) -> str:
        return str(
            self.s3.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires
            )
        )
