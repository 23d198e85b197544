"""Reliability under platform faults: the real handlers on moto, the real connectors against the sandbox.

Every test here deploys the whole path the schedule runs (dispatch → SQS → worker → S3 → weekly
digest → SES) on in-process moto, with the seven demo accounts pointed at the local platform
sandbox over real HTTP, and injects the sandbox's faults into some accounts. Waits (backoff,
rate limits) are recorded instead of slept, so the suite stays fast. ``deploy`` and ``Deployment``
are shared with the other reliability, hostile-input, idempotency and secrets tests.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from functions.config import Settings
from functions.handlers import digest, dispatch, worker
from functions.model import Finding, Post, RunRecord, read_posts
from functions.runtime import Runtime, reset_runtime
from functions.store import FindingsStore
from infra.fanout import DrainStats, drain_queue
from infra.localstack import scheduled_event
from infra.sandbox import Fault, Sandbox, start_sandbox
from infra.sandbox.tokens import ACCOUNTS_FILE, SECRET_FIELDS

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "infra" / "samples" / "posts.jsonl"
BUCKET = "socialaudit-reliability"
SENDER = "digest@lakeshore-cme.example"
MAX_RECEIVES = 2
FAULT_KINDS = ("slow", "server_error", "unauthorized", "forbidden", "rate_limit", "malformed", "truncated")
# pytest imports this file as ``test_reliability`` and the other reliability tests import ``tests.test_reliability``:
# both copies must count into the same figures and share one clean twin.
_OTHER = sys.modules.get("tests.test_reliability" if __name__ == "test_reliability" else "test_reliability")
FIGURES: Counter[str] = getattr(_OTHER, "FIGURES", Counter())  # what the tests did, for the README's figures

_ENGINE: Any = None
FIGURES_FILE = ROOT / "out" / "reliability-figures.json"


@pytest.fixture(scope="session", autouse=True)
def reliability_figures() -> Iterator[None]:
    """At the end of the session, write (and print) what the reliability tests did: the README's figures."""
    yield
    if not FIGURES:
        return
    faults = {k: v for k, v in FIGURES.items() if k.startswith("fault ") and " on " in k}
    summary = {
        "fault injections": sum(faults.values()),
        "fault kinds": len({k.split(" on ")[0] for k in faults}),
        "platforms faulted": len({k.split(" on ")[1] for k in faults}),
        "kind x platform pairs": len(faults),
        **{k: v for k, v in sorted(FIGURES.items()) if k not in faults},
    }
    FIGURES_FILE.parent.mkdir(exist_ok=True)
    FIGURES_FILE.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"\nreliability figures ({FIGURES_FILE}): {json.dumps(summary)}")


def shared_engine() -> Any:
    """The real guideline engine, loaded once for every deployment of the session."""
    global _ENGINE
    if _ENGINE is None:
        from functions.guidelines import load_engine

        _ENGINE = load_engine()
    return _ENGINE


def sample_posts() -> list[Post]:
    with SAMPLES.open(encoding="utf-8") as handle:
        return list(read_posts(handle))


class Sleeps(list[float]):
    """Waits the connectors asked for, recorded instead of slept."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class FastRuntime(Runtime):
    """The handlers' Runtime, with the connectors' sleep recorded instead of slept (the only change)."""

    sleeps: Sleeps

    def context_factory(self) -> Any:
        make = super().context_factory()
        return lambda account: dataclasses.replace(make(account), sleep=self.sleeps)


@dataclass
class Deployment:
    """The stack on moto plus the sandbox: what a test drives and inspects."""

    runtime: FastRuntime
    sandbox: Sandbox
    queue_url: str
    dlq_url: str
    accounts_path: Path
    tokens: dict[str, str]
    sleeps: Sleeps
    drains: list[DrainStats] = field(default_factory=list)

    @property
    def store(self) -> FindingsStore:
        return self.runtime.store  # type: ignore[no-any-return]

    @property
    def s3(self) -> Any:
        return self.runtime.client("s3")

    @property
    def sqs(self) -> Any:
        return self.runtime.client("sqs")

    def schedule(self, moment: datetime, *, event_id: str | None = None) -> dict[str, Any]:
        """Fire the daily dispatch schedule and drain the queue through the worker, as Lambda would."""
        reply = dispatch.handler(scheduled_event("socialaudit-dispatch", moment, event_id), None)
        self.drains.append(drain_queue(self.queue_url, worker.handler, sqs=self.sqs))
        return reply

    def run(self, run_id: str) -> RunRecord:
        run = self.store.get_run(run_id)
        assert run is not None, run_id
        return run

    def send_digest(self, moment: datetime, *, event_id: str | None = None) -> dict[str, Any]:
        return digest.handler(scheduled_event("socialaudit-weekly-digest", moment, event_id), None)

    def findings(self) -> list[Finding]:
        """Every finding stored, duplicates included (read object by object)."""
        keys = [k for k in self.object_keys() if k.startswith("findings/")]
        return [f for key in keys for f in self.store.read_findings_object(key)]

    def object_keys(self) -> list[str]:
        return sorted(self.store._keys(""))

    def dead_letters(self) -> list[dict[str, Any]]:
        reply = self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10)
        return list(reply.get("Messages", []))


def accounts_document(sandbox_url: str, options: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The demo accounts file pointed at the sandbox, with per-platform ``options`` merged in."""
    data = yaml.safe_load(ACCOUNTS_FILE.read_text(encoding="utf-8").replace("${SANDBOX_URL}", sandbox_url))
    for entry in data["accounts"]:
        extra = (options or {}).get(entry["platform"], {})
        entry["options"] = {**entry.get("options", {}), "timeout_seconds": 0.5, **extra}
    return dict(data)


def secrets_for(document: dict[str, Any], tokens: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Secret name → secret JSON of every account, holding ``tokens`` (platform → token)."""
    out = {}
    for entry in document["accounts"]:
        value: dict[str, Any] = {SECRET_FIELDS[entry["platform"]]: tokens[entry["platform"]]}
        if entry["platform"] == "bluesky":
            value["identifier"] = entry["account"]
        out[entry["secret"]] = value
    return out


@contextmanager
def deploy(
    tmp_path: Path,
    *,
    faults: dict[str, Fault | list[Fault]] | None = None,
    posts: list[Post] | None = None,
    tokens: dict[str, str] | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    document: dict[str, Any] | None = None,
) -> Iterator[Deployment]:
    """Bucket, queue + DLQ, SES sender, secrets and accounts on moto (call inside ``mock_aws``), sandbox running."""
    from infra.sandbox import DEMO_TOKENS

    tokens = dict(tokens or DEMO_TOKENS)
    with start_sandbox(posts if posts is not None else sample_posts(), faults=faults, tokens=tokens) as sandbox:
        region = "us-east-1"
        s3 = boto3.client("s3", region_name=region)
        s3.create_bucket(Bucket=BUCKET)
        sesv2 = boto3.client("sesv2", region_name=region)
        sesv2.create_email_identity(EmailIdentity=SENDER)
        sqs = boto3.client("sqs", region_name=region)
        dlq_url = sqs.create_queue(QueueName="socialaudit-accounts-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
        queue_url = sqs.create_queue(QueueName="socialaudit-accounts", Attributes={"RedrivePolicy": redrive})[
            "QueueUrl"
        ]
        doc = document if document is not None else accounts_document(sandbox.url, options)
        secrets = boto3.client("secretsmanager", region_name=region)
        for name, value in secrets_for(doc, tokens).items():
            secrets.create_secret(Name=name, SecretString=json.dumps(value))
        accounts_path = tmp_path / "accounts.yaml"
        accounts_path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        settings = Settings(bucket=BUCKET, accounts_path=str(accounts_path), queue_url=queue_url, sender=SENDER,
                            region=region)
        runtime = FastRuntime(settings)
        runtime.sleeps = Sleeps()
        runtime.clients.update(s3=s3, sqs=sqs, sesv2=sesv2, secretsmanager=secrets)
        runtime.engine = shared_engine()  # type: ignore[misc]
        reset_runtime(runtime)
        try:
            yield Deployment(runtime, sandbox, queue_url, dlq_url, accounts_path, tokens, runtime.sleeps)
        finally:
            reset_runtime()


def sent_messages() -> list[EmailMessage]:
    """Every e-mail moto's SES accepted, parsed."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    raws = [m.raw_data for m in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages]
    return [message_from_bytes(r.encode("utf-8") if isinstance(r, str) else r, policy=policy.default)  # type: ignore[misc]
            for r in raws]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def digest_period_end(moment: datetime) -> date:
    return moment.date() + timedelta(days=1)


# --- the clean twin: what one undisturbed run stores -------------------------------------------------

_CLEAN: dict[str, set[str]] = getattr(_OTHER, "_CLEAN", {})


def clean_findings_by_account(tmp_path: Path) -> dict[str, set[str]]:
    """Account key → finding ids of one clean run (computed once; finding ids do not depend on the run).

    Runs in its own moto, so call it before (not inside) a test's ``aws`` fixture: see ``clean``.
    """
    if not _CLEAN:
        from moto import mock_aws

        tmp_path.mkdir(parents=True, exist_ok=True)
        with mock_aws(), deploy(tmp_path) as clean:
            reply = clean.schedule(now_utc())
            run = clean.run(reply["run_id"])
            assert run.status == "ok", run.errors
            _CLEAN.update(findings_by_account(clean))
        FIGURES["clean twin runs"] += 1
    assert sum(len(ids) for ids in _CLEAN.values()) >= 10  # the sample accounts do hold findings
    return _CLEAN


def findings_by_account(deployment: Deployment) -> dict[str, set[str]]:
    """Account key → ids of the findings stored for it."""
    keys = {(a.platform, a.account.lower()): a.key for a in deployment.runtime.accounts.accounts}
    out: dict[str, set[str]] = {key: set() for key in keys.values()}
    for finding in deployment.findings():
        out[keys[(finding.platform, finding.account.lower())]].add(finding.finding_id)
    return out


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The clean twin's findings per account, set up before any test's own moto starts."""
    return clean_findings_by_account(tmp_path_factory.mktemp("clean"))


# --- fault isolation -----------------------------------------------------------------------------

PLATFORM_ORDER = ("x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky")
FAULTED_PER_RUN = 5  # two accounts per run stay healthy, and must be untouched by the others' faults
# Run i gives platform (i + o) the fault kind (i + 2o): five different faults per run, and over the seven
# runs every platform meets five kinds and every kind five platforms (35 distinct kind × platform pairs).
SCENARIOS = [
    {PLATFORM_ORDER[(i + o) % 7]: FAULT_KINDS[(i + 2 * o) % 7] for o in range(FAULTED_PER_RUN)} for i in range(7)
]
EXPECTED = {  # fault kind → (account status, error kind) recorded in the run
    "slow": ("failed", "unavailable"),
    "server_error": ("failed", "unavailable"),
    "unauthorized": ("failed", "auth"),
    "forbidden": ("failed", "auth"),
    "rate_limit": ("partial", "rate-limited"),
    "malformed": ("partial", "malformed"),
    "truncated": ("partial", "malformed"),
}


def fault(kind: str) -> Fault:
    """A fault that lasts (every request of the account fails); ``slow`` outlasts a 0.1 s client timeout."""
    return Fault(kind, times=None, retry_after=30.0, delay=0.3)


def section(text: str, title: str) -> str:
    """The text digest's section under ``title`` (up to the next underlined heading)."""
    start = text.index(title)
    rest = text[start + len(title):]
    following = re.search(r"\n[A-Z][A-Z ,'-]+\n=+\n", rest[len("\n" + "=" * len(title)):])
    return rest if following is None else rest[: following.start() + len("\n" + "=" * len(title))]


@pytest.mark.parametrize("scenario", range(len(SCENARIOS)), ids=lambda i: "+".join(
    f"{p}:{k}" for p, k in SCENARIOS[i].items()))
def test_faulty_platforms_never_stop_the_other_accounts_and_the_digest_names_them(
    scenario: int, clean: dict[str, set[str]], aws: None, tmp_path: Path
) -> None:
    plan = SCENARIOS[scenario]
    doc = accounts_document("http://unused")
    names = {e["platform"]: (e["key"], e["account"]) for e in doc["accounts"]}
    faults = {f"{p}:{names[p][1]}": fault(kind) for p, kind in plan.items()}
    slow = {p: {"timeout_seconds": 0.1} for p, kind in plan.items() if kind == "slow"}
    with deploy(tmp_path, faults=faults, options=slow) as stack:
        moment = now_utc()
        run = stack.run(stack.schedule(moment)["run_id"])
        stored = findings_by_account(stack)
        sent = stack.send_digest(moment)
        messages = sent_messages()

        assert run.status == "partial" and not [k for k, r in run.accounts.items() if r.status == "pending"]
        for platform, (key, _) in names.items():
            result = run.accounts[key]
            if platform not in plan:  # healthy: exactly what a clean run stores
                assert result.status == "ok" and result.error is None, (key, result)
                assert stored[key] == clean[key], key
                continue
            status, kind = EXPECTED[plan[platform]]
            assert (result.status, result.error_kind) == (status, kind), (plan[platform], key, result)
            assert result.error, result  # the reason, as the digest shows it
            FIGURES[f"fault {plan[platform]} on {platform}"] += 1
        retried = [k for p, (k, _) in names.items() if p in plan and EXPECTED[plan[p]] == ("failed", "unavailable")]
        dead = sorted(json.loads(m["Body"])["account"] for m in stack.dead_letters())
        assert dead == sorted(retried)  # retried alone up to maxReceiveCount, then kept for a person

        # The digest went out and names every faulted account with the kind of its failure.
        assert sent["status"] == "sent" and messages
        everyone = next(m for m in messages if "social-team@lakeshore-cme.example" in str(m["To"]))
        failed_section = section(text_of(everyone), "ACCOUNTS THAT FAILED TO COLLECT")
        html = visible_text(html_of(everyone))
        for platform, (key, _) in names.items():
            if platform in plan:
                assert f"{key}): {EXPECTED[plan[platform]][1]}" in failed_section, (key, failed_section)
                reason = " ".join((run.accounts[key].error or "").split())[:40]
                assert key in html and reason in html, (key, reason)  # the reason, not just the kind
            else:
                assert key not in failed_section

        # Faults gone, the next firing collects what the faulted accounts missed: nothing was lost.
        stack.sandbox.faults.clear()
        again = stack.run(stack.schedule(moment + timedelta(minutes=30))["run_id"])
        assert again.status == "ok", again.errors
        assert findings_by_account(stack) == clean
        FIGURES["fault runs"] += 1
        FIGURES["recovery runs"] += 1
