"""Large weeks: the e-mail stays small (Gmail's clip, SES's 10 MB), the full report keeps everything."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy

import boto3
import pytest

from functions.config import AccountConfig, AccountsFile, Settings
from functions.digest import build_message, render_digest, run_weekly_digest
from functions.digest.build import AccountOutcome, PeriodData, PeriodRun, assemble_digest
from functions.digest.mail import MAX_RAW_BYTES, MAX_RECIPIENTS_PER_MESSAGE, message_bytes
from functions.digest.render import MAX_EMAIL_HTML_BYTES, MAX_EMAIL_TEXT_BYTES, Caps, highlight
from functions.model import SEVERITIES, Author, Finding, finding_id_for
from tests.conftest import BUCKET

SES_RAW_LIMIT = 10 * 1024 * 1024
PLATFORM_CYCLE = ("x", "facebook", "instagram", "youtube")


def flood(count: int, *, text_chars: int = 2000) -> tuple[AccountsFile, PeriodData]:
    """``count`` findings with long posts across 40 accounts, 200 authors and every severity."""
    configs = tuple(AccountConfig(key=f"x-acct{n}", platform="x", account=f"acct{n}") for n in range(40))
    findings = []
    for n in range(count):
        text = ("word " * (text_chars // 10)) + f"offensive phrase {n} " + ("tail " * (text_chars // 10))
        post_id = f"x:{n}"
        rule = "harassment/insult"
        findings.append(
            Finding(
                finding_id_for(post_id, rule, text),
                post_id,
                "x",
                f"acct{n % 40}",
                "harassment",
                rule,
                SEVERITIES[n % 4],
                "hide",
                0.9,
                f"offensive phrase {n}",
                f"https://x.com/a/status/{n}",
                Author(f"x:user:{n % 200}", f"author{n % 200}", f"Author {n % 200}"),
                "2026-11-20T10:00:00Z",
                "2026-11-21T06:00:00Z",
                "alliance-cme",
                "1",
                "20261121T060000Z-00000001",
                kind="comment",
                excerpt=text,
            )  # fmt: skip
        )
    data = PeriodData(
        period_start=date(2026, 11, 16), period_end=date(2026, 11, 23), days=7, repeat_window_days=30,
        generated_at=datetime(2026, 11, 23, 7, tzinfo=UTC), current=findings, previous=[], window=findings,
        earlier_open=findings[: count // 2], reported_before=frozenset(), previous_digest=None, has_history=True,
        runs=[PeriodRun("20261121T060000Z-00000001", datetime(2026, 11, 21, 6, tzinfo=UTC),
                        {c.key: AccountOutcome("failed", "RateLimited", "quota " * 100) for c in configs})],
    )  # fmt: skip
    return AccountsFile(organization="Big Org", accounts=configs, recipients=("a@big.example",)), data


def test_a_huge_week_is_capped_to_fit_one_unclipped_email_and_links_the_report():
    accounts, data = flood(3000)
    digest = assemble_digest(data, accounts, repeat_min_posts=2)
    rendered = render_digest(digest, report_url="https://bucket.example/report.html?sig=1")
    assert len(rendered.html.encode()) <= MAX_EMAIL_HTML_BYTES
    assert len(rendered.text.encode()) <= MAX_EMAIL_TEXT_BYTES
    assert rendered.caps.action < Caps().action  # it had to shrink
    assert "more critical or high findings" in rendered.html and "full report</a>" in rendered.html
    assert "more critical or high findings in the full report: https://bucket.example/report.html" in rendered.text
    assert rendered.subject.startswith("[socialaudit] 750 critical, 750 high — 3000 findings across 40 accounts")
    assert rendered.report_html.count("<mark") == 3000 + 1500  # the archive keeps every item
    raw = message_bytes(build_message(rendered, sender="d@big.example", recipients=["a@big.example"]))
    assert len(raw) < SES_RAW_LIMIT and len(raw) <= MAX_RAW_BYTES


def test_caps_bound_each_section_of_a_normal_email():
    accounts, data = flood(200, text_chars=100)
    rendered = render_digest(assemble_digest(data, accounts), caps=Caps(action=5, other=3, still_open=2))
    html = rendered.html
    assert html.count("<mark") == 5 + 3 + 2
    assert "+ 95 more critical or high findings" in html and "+ 97 more medium or low findings" in html
    assert "+ 98 more still-open findings" in html
    assert "+ 28 more accounts with findings" in html  # 40 accounts, 12 shown


def test_a_long_post_is_trimmed_around_its_evidence():
    text = "a" * 5000 + " the insult here " + "b" * 5000
    marked = str(highlight(text, "the insult here", limit=120))
    assert "<mark>the insult here</mark>" in marked
    assert len(marked) < 160 and marked.startswith("…") and marked.endswith("…")


def test_too_many_recipients_for_one_message_are_refused():
    accounts, data = flood(1, text_chars=10)
    rendered = render_digest(assemble_digest(data, accounts))
    too_many = [f"r{n}@big.example" for n in range(MAX_RECIPIENTS_PER_MESSAGE + 1)]
    with pytest.raises(ValueError, match="at most 50"):
        build_message(rendered, sender="d@big.example", recipients=too_many)


def test_many_recipients_are_split_into_messages_of_at_most_fifty(store, aws):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    ses = boto3.client("sesv2", region_name="us-east-1")
    ses.create_email_identity(EmailIdentity="d@big.example")
    accounts = AccountsFile(organization="Org", accounts=(AccountConfig(key="x-a", platform="x", account="a"),))
    recipients = tuple(f"r{n}@big.example" for n in range(120))
    settings = Settings(bucket=BUCKET, accounts_path="-", sender="d@big.example", recipients=recipients)
    result = run_weekly_digest(
        store, ses, accounts, settings, period_end=date(2026, 11, 23), run_id="20261123T070000Z-0000000a"
    )
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert len(result.message_ids) == 3 and [len(m.destinations) for m in sent] == [50, 50, 20]
    got = {
        addr for m in sent for addr in email.message_from_string(m.raw_data, policy=policy.default)["To"].split(", ")
    }
    assert got == set(recipients)
