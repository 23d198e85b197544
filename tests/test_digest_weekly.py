"""End to end on moto (S3 + SES v2): the weekly step archives, sends once per period and recovers from failures."""

from __future__ import annotations

import email
from datetime import date
from email import policy
from email.message import EmailMessage

import boto3
import pytest
from botocore.exceptions import ClientError

from functions.config import ConfigError, Settings
from functions.digest import run_weekly_digest
from tests.conftest import BUCKET
from tests.fixtures.digest import seed

SENDER = "digest@cmeadvance.example"
RUN_1 = "20261123T070000Z-00000001"
RUN_2 = "20261123T080000Z-00000002"


def settings(**overrides) -> Settings:
    values = {"bucket": BUCKET, "accounts_path": "unused", "sender": SENDER, "recipients": ("boss@cmeadvance.example",)}
    return Settings(**{**values, **overrides})


@pytest.fixture
def ses(aws):
    client = boto3.client("sesv2", region_name="us-east-1")
    client.create_email_identity(EmailIdentity=SENDER)
    return client


@pytest.fixture
def seeded(store):
    seed.seed_all(store)
    return store


def sent_messages() -> list:
    """What SES really accepted, read back from moto's backend."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)


def parse(raw: str | bytes) -> EmailMessage:
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    return email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def weekly(store, ses, **kwargs):
    return run_weekly_digest(
        store, ses, seed.accounts(), kwargs.pop("settings", settings()), period_end=seed.PERIOD_END,
        run_id=kwargs.pop("run_id", RUN_1), now=seed.NOW,
    )  # fmt: skip


def test_weekly_digest_sends_one_multipart_message_per_audience(seeded, ses):
    result = weekly(seeded, ses)
    assert result.status == "sent" and result.findings == 10 and len(result.message_ids) == 4
    messages = sent_messages()
    assert len(messages) == 4
    assert [sorted(set(m.destinations)) for m in messages] == [
        ["boss@cmeadvance.example", "comms@cmeadvance.example"],
        ["outreach-lead@cmeadvance.example", "social@cmeadvance.example"],
        ["education@cmeadvance.example"],
        ["linkedin-owner@cmeadvance.example"],
    ]
    mime = parse(messages[0].raw_data)
    assert mime.get_content_type() == "multipart/alternative"
    parts = [(p.get_content_type(), p.get_content_charset()) for p in mime.iter_parts()]
    assert parts == [("text/plain", "utf-8"), ("text/html", "utf-8")]
    assert mime["Subject"] == result.audiences[0].subject and mime["Subject"].startswith(
        "[socialaudit] 2 critical, 4 high"
    )
    assert mime["From"] == SENDER and mime["Auto-Submitted"] == "auto-generated"
    assert mime["List-Unsubscribe"] == f"<mailto:{SENDER}?subject=unsubscribe>"
    html = mime.get_body(("html",)).get_content()
    assert html.count("<mark") == 16 and "Open the full report" in html
    assert "NEEDS ACTION NOW" in mime.get_body(("plain",)).get_content()


def test_each_team_gets_a_digest_of_its_own_accounts(seeded, ses):
    result = weekly(seeded, ses)
    by_label = {a.label: a for a in result.audiences}
    assert set(by_label) == {None, "Team outreach", "Team education", "cme-advance (LinkedIn)"}
    education = parse(sent_messages()[2].raw_data)
    html = education.get_body(("html",)).get_content()
    assert "instagram.com" in html and "youtube.com" in html and "x.com/" not in html and "facebook.com" not in html
    assert education["Subject"].endswith("· Team education")
    linkedin = by_label["cme-advance (LinkedIn)"]
    assert linkedin.findings == 0  # its account failed all week, which its digest says
    body = parse(sent_messages()[3].raw_data).get_body(("plain",)).get_content()
    assert "PlatformAuthError" in body and "1 account not collected" in linkedin.subject


def test_archive_holds_html_text_eml_and_a_presigned_full_report(seeded, ses, s3):
    import requests

    result = weekly(seeded, ses)
    keys = result.keys
    files = {"report": "report.html", "html": "digest.html", "text": "digest.txt", "eml": "digest.eml"}
    assert keys == {name: f"digests/2026-11-23/{file}" for name, file in files.items()}
    archived = s3.get_object(Bucket=BUCKET, Key=keys["eml"])["Body"].read()
    assert parse(archived)["Message-ID"] == parse(sent_messages()[0].raw_data)["Message-ID"]
    team_keys = result.audiences[1].keys
    assert team_keys["report"].startswith("digests/2026-11-23/audience=team-outreach-")
    report = requests.get(result.report_url, timeout=10)  # moto serves the pre-signed GET
    assert report.status_code == 200 and "Full report" in report.text and report.text.count("<mark") == 16
    assert s3.head_object(Bucket=BUCKET, Key=keys["html"])["ContentType"].startswith("text/html")


def test_a_second_firing_for_the_same_period_sends_nothing(seeded, ses):
    assert weekly(seeded, ses).status == "sent"
    again = weekly(seeded, ses, run_id=RUN_2)
    assert again.status == "already-sent" and again.message_ids == []
    assert len(sent_messages()) == 4


def test_a_failed_send_releases_the_claim_so_a_retry_sends(seeded, aws):
    ses = boto3.client("sesv2", region_name="us-east-1")  # the sender is not verified yet
    with pytest.raises(ClientError) as error:
        weekly(seeded, ses)
    assert error.value.response["Error"]["Code"] == "MessageRejected"
    assert seeded.get_digest_file(seed.PERIOD_END, "sent.json") is None
    ses.create_email_identity(EmailIdentity=SENDER)
    assert weekly(seeded, ses, run_id=RUN_2).status == "sent"
    assert len(sent_messages()) == 4


def test_a_retry_after_a_partial_failure_skips_audiences_already_sent(seeded, ses):
    calls = {"n": 0}

    def fail_third_send(**_):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("SES endpoint unreachable")  # a fault in the network, not in our code

    ses.meta.events.register("before-call.sesv2.SendEmail", fail_third_send)
    with pytest.raises(ConnectionError):
        weekly(seeded, ses)
    assert len(sent_messages()) == 2
    retry = weekly(seeded, ses, run_id=RUN_2)
    assert [a.skipped for a in retry.audiences] == [True, True, False, False]
    assert len(sent_messages()) == 4  # nobody got the digest twice


def test_next_weeks_digest_knows_what_this_one_reported(seeded, ses):
    weekly(seeded, ses)
    summary = seeded.previous_digest_summary(before=date(2026, 11, 30))
    assert summary["period_end"] == "2026-11-23" and len(summary["finding_ids"]) == 10
    from functions.digest import build_digest

    nxt = build_digest(seeded, seed.accounts(), period_end=date(2026, 11, 30), now=seed.NOW)
    assert nxt.previous_digest == date(2026, 11, 23)
    assert len(nxt.still_open) == 16  # this week's ten plus six older, none acknowledged


def test_without_recipients_nothing_is_claimed_or_sent(seeded, ses):
    from dataclasses import replace

    bare = replace(seed.accounts(), recipients=(), teams={}, accounts=tuple(
        replace(c, recipients=()) for c in seed.accounts().accounts))  # fmt: skip
    result = run_weekly_digest(seeded, ses, bare, settings(recipients=()), period_end=seed.PERIOD_END, run_id=RUN_1)
    assert result.status == "no-recipients" and sent_messages() == []
    assert seeded.get_digest_file(seed.PERIOD_END, "sent.json") is None


def test_a_missing_sender_is_a_configuration_error(seeded, ses):
    with pytest.raises(ConfigError, match="SOCIALAUDIT_SENDER"):
        weekly(seeded, ses, settings=settings(sender=None))
    assert seeded.get_digest_file(seed.PERIOD_END, "sent.json") is None


def test_send_digest_sends_one_raw_message_with_unsubscribe_headers(seeded, ses):
    from functions.digest import build_digest, render_digest, send_digest

    rendered = render_digest(build_digest(seeded, seed.accounts(), period_end=seed.PERIOD_END, now=seed.NOW))
    message_id = send_digest(
        ses, rendered, sender=SENDER, recipients=["a@cmeadvance.example", "b@cmeadvance.example"],
        unsubscribe_url="https://audit.cmeadvance.example/unsubscribe",
    )  # fmt: skip
    (sent,) = sent_messages()
    assert sent.id == message_id and sorted(sent.destinations) == ["a@cmeadvance.example", "b@cmeadvance.example"]
    mime = parse(sent.raw_data)
    assert mime["List-Unsubscribe"] == (
        f"<https://audit.cmeadvance.example/unsubscribe>, <mailto:{SENDER}?subject=unsubscribe>"
    )
    assert mime["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for kind, body in (("html", rendered.html), ("plain", rendered.text)):  # the wire uses CRLF line ends
        assert mime.get_body((kind,)).get_content().replace("\r\n", "\n").rstrip("\n") == body.rstrip("\n")


def _claim(s3, claimed_at: str) -> None:
    """A claim as a run that started sending at ``claimed_at`` left it."""
    body = f'{{"run_id": "{RUN_1}", "claimed_at": "{claimed_at}"}}'
    s3.put_object(Bucket=BUCKET, Key="digests/2026-11-23/sent.json", Body=body.encode())


def test_a_claim_left_by_a_run_that_died_is_taken_over_once_stale(seeded, ses, s3):
    _claim(s3, "2026-11-23T07:00:00Z")  # long ago: that Lambda was killed mid-send
    result = weekly(seeded, ses, run_id=RUN_2)
    assert result.status == "sent" and len(sent_messages()) == 4
    claim = s3.get_object(Bucket=BUCKET, Key="digests/2026-11-23/sent.json")["Body"].read()
    assert RUN_2.encode() in claim
    assert weekly(seeded, ses, run_id="20261123T090000Z-00000003").status == "already-sent"


def test_a_fresh_claim_of_a_live_run_is_left_alone(seeded, ses, s3):
    from functions.model import utc_now

    _claim(s3, utc_now())
    result = weekly(seeded, ses, run_id=RUN_2)
    assert result.status == "in-progress" and sent_messages() == []


def test_a_takeover_loses_to_a_run_that_wrote_the_claim_first(seeded, s3):
    from datetime import timedelta

    _claim(s3, "2026-11-23T07:00:00Z")
    racing = {"done": False}

    def competitor_writes_first(params, **_):
        # Between our read of the stale claim and our conditional write, another run takes it.
        if params.get("Key") == "digests/2026-11-23/sent.json" and "IfMatch" in params and not racing["done"]:
            racing["done"] = True
            _claim(s3, "2026-11-23T09:00:00Z")

    s3.meta.events.register("provide-client-params.s3.PutObject", competitor_writes_first)
    assert seeded.take_over_digest_claim(seed.PERIOD_END, RUN_2, older_than=timedelta(minutes=20)) is False
    assert racing["done"]
