"""The digest's content on golden inputs: counts, trends, new vs open, repeat offenders, failed accounts.

Golden outputs live in tests/fixtures/digest/expected/; regenerate them (after checking the change is
intended) with ``SOCIALAUDIT_UPDATE_GOLDEN=1 pytest tests/test_digest.py``.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from functions.digest import build_digest, render_digest
from functions.digest.build import assemble_digest, load_period
from tests.fixtures.digest import seed

EXPECTED = Path(seed.__file__).resolve().parent / "expected"


@pytest.fixture
def seeded(store):
    seed.seed_all(store)
    return store


@pytest.fixture
def digest(seeded):
    return build_digest(seeded, seed.accounts(), period_end=seed.PERIOD_END, now=seed.NOW)


def _golden(name: str, actual: str) -> None:
    path = EXPECTED / name
    if os.environ.get("SOCIALAUDIT_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"golden file {path} missing; run with SOCIALAUDIT_UPDATE_GOLDEN=1 once"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the golden output"


def test_period_holds_only_findings_detected_in_its_days(digest):
    assert len(digest.findings) == 10
    assert {f.detected_at[:10] for f in digest.findings} <= {"2026-11-17", "2026-11-19", "2026-11-21"}
    assert digest.period_start == date(2026, 11, 16)
    assert digest.accounts_audited == 7


def test_findings_are_ordered_most_severe_then_most_recent(digest):
    severities = [f.severity for f in digest.findings]
    assert severities == ["critical"] * 2 + ["high"] * 4 + ["medium"] * 2 + ["low"] * 2
    highs = [f.created_at for f in digest.findings if f.severity == "high"]
    assert highs == sorted(highs, reverse=True)
    assert [f.severity for f in digest.action_now] == ["critical"] * 2 + ["high"] * 4


def test_counts_and_trends_against_the_previous_week(digest):
    assert digest.total.current == 10 and digest.total.previous == 5 and digest.total.label == "▲ 5"
    assert (digest.by_severity["critical"].current, digest.by_severity["critical"].previous) == (2, 0)
    assert digest.by_severity["medium"].label == "▼ 1"  # 2 now, 3 the week before
    assert digest.by_category["spam"].current == 1 and digest.by_category["spam"].previous == 2
    assert digest.by_category["private-conversation"].current == 0  # shown falling to zero
    assert "profanity" in digest.by_category and "copyright" not in digest.by_category
    assert digest.by_account == {
        "CMEAdvance (Facebook)": 3,
        "CMEAdvance (X)": 3,
        "CMEAdvanceTV (YouTube)": 1,
        "cmeadvance (Bluesky)": 1,
        "cmeadvance (Instagram)": 1,
        "cmeadvance (Mastodon)": 1,
    }


def test_new_since_last_digest_and_still_open_skip_acknowledged(digest):
    assert digest.new_ids == {f.finding_id for f in digest.findings}
    assert digest.previous_digest == date(2026, 11, 16)
    open_posts = {f.post_id.split(":")[1][-3:] for f in digest.still_open}
    assert open_posts == {"201", "202", "203", "204", "205", "301"}  # 302 was acknowledged
    assert digest.still_open[0].severity == "high"


def test_a_finding_already_reported_is_not_new(seeded):
    first = seed.findings()[0]
    seeded.put_digest_summary(date(2026, 11, 20), {"finding_ids": [first.finding_id]})
    digest = build_digest(seeded, seed.accounts(), period_end=seed.PERIOD_END, now=seed.NOW)
    assert first.finding_id not in digest.new_ids and len(digest.new_ids) == 9
    rendered = render_digest(digest)
    assert "9 new this week (1 already reported)" in rendered.text
    assert "<strong>9</strong> new this week (1 already reported)" in rendered.html
    assert "Reported before" in rendered.html  # the item's badge instead of NEW


def test_repeat_offenders_over_the_window_with_staff_excluded(digest):
    offenders = {o.author.handle: o for o in digest.repeat_offenders}
    assert list(offenders) == ["trollmaster99", "CryptoKing"]
    troll = offenders["trollmaster99"]
    assert (troll.posts, troll.categories, troll.worst_severity) == (4, ("harassment",), "high")
    assert len(troll.post_urls) == 4
    assert "cmeadvance" not in offenders  # staff are never proposed for blocking


def test_repeat_window_and_threshold_are_configurable(seeded):
    short = build_digest(seeded, seed.accounts(), period_end=seed.PERIOD_END, now=seed.NOW, repeat_window_days=7)
    assert short.repeat_offenders == []  # nobody has 3 posts inside one week
    data = load_period(seeded, period_end=seed.PERIOD_END, repeat_window_days=7, now=seed.NOW)
    loose = assemble_digest(data, seed.accounts(), repeat_min_posts=2)
    assert [o.author.handle for o in loose.repeat_offenders] == ["trollmaster99"]


def test_failed_accounts_are_listed_with_their_reason(digest):
    failed = {a.key: a for a in digest.failed_accounts}
    assert set(failed) == {"linkedin-cme-advance", "youtube-CMEAdvanceTV", "bluesky-cmeadvance"}
    linkedin = failed["linkedin-cme-advance"]
    assert (linkedin.error_kind, linkedin.failures, linkedin.runs, linkedin.recovered) == (
        "PlatformAuthError",
        3,
        3,
        False,
    )
    assert "401 Unauthorized" in linkedin.error
    assert failed["youtube-CMEAdvanceTV"].recovered and failed["youtube-CMEAdvanceTV"].error_kind == "RateLimited"
    assert failed["bluesky-cmeadvance"].error_kind == "not-collected"
    assert [a.recovered for a in digest.failed_accounts] == [False, False, True]  # still failing first


def test_a_week_without_any_run_shows_every_account_as_not_collected(store):
    digest = build_digest(store, seed.accounts(), period_end=seed.PERIOD_END, now=seed.NOW)
    assert digest.findings == [] and len(digest.failed_accounts) == 7
    assert {a.error_kind for a in digest.failed_accounts} == {"not-collected"}
    rendered = render_digest(digest)
    assert rendered.subject.startswith("[socialaudit] No findings across 7 accounts")
    assert "7 accounts not collected" in rendered.subject
    assert not digest.has_history  # nothing to compare with: no trend arrows, no "▲ 0"
    assert "first week audited" in rendered.html and "(first week audited)" in rendered.text
    assert "▲" not in rendered.html and "▼" not in rendered.html


def test_history_is_known_when_the_previous_week_had_runs(digest):
    assert digest.has_history


def test_a_run_that_died_marks_its_pending_accounts_failed(seeded):
    from functions.model import AccountResult, RunRecord

    pending = {"x-CMEAdvance": AccountResult(account="CMEAdvance", platform="x", status="pending")}
    died = RunRecord("20261122T060000Z-0a1b2c09", "schedule", "2026-11-22T06:00:00Z", status="failed", accounts=pending)
    died.finished_at = "2026-11-22T06:10:00Z"
    seeded.put_run(died)  # the header only: the account's own result was never written
    digest = build_digest(seeded, seed.accounts(), period_end=seed.PERIOD_END, now=seed.NOW)
    x = next(a for a in digest.failed_accounts if a.key == "x-CMEAdvance")
    assert x.error_kind == "incomplete" and not x.recovered


def test_team_digest_covers_only_the_team_accounts(seeded):
    accounts = seed.accounts()
    data = load_period(seeded, period_end=seed.PERIOD_END, now=seed.NOW)
    team = tuple(c for c in accounts.accounts if c.team == "education")
    digest = assemble_digest(data, accounts, only=team, scope="Team education")
    assert {f.platform for f in digest.findings} == {"instagram", "youtube"}
    assert {a.key for a in digest.failed_accounts} == {"youtube-CMEAdvanceTV"}
    assert digest.accounts_audited == 2
    assert render_digest(digest).subject.endswith("· Team education")


def test_findings_of_an_unconfigured_account_still_reach_the_full_digest(seeded):
    accounts = seed.accounts()
    fewer = replace(accounts, accounts=tuple(c for c in accounts.accounts if c.platform != "mastodon"))
    digest = build_digest(seeded, fewer, period_end=seed.PERIOD_END, now=seed.NOW)
    assert any(f.platform == "mastodon" for f in digest.findings)


def test_golden_subject_text_and_html(digest):
    rendered = render_digest(digest, report_url=seed.REPORT_URL)
    assert rendered.subject == (
        "[socialaudit] 2 critical, 4 high — 10 findings across 6 accounts, week of Nov 16, 2026"
        " · 2 accounts not collected"
    )
    _golden("digest.txt", rendered.text)
    _golden("digest.html", rendered.html)


def test_html_has_every_section_and_inlined_css(digest):
    html = render_digest(digest, report_url=seed.REPORT_URL).html
    for heading in (
        "Needs action now",
        "By category",
        "By account",
        "Other findings this week",
        "Repeat offenders",
        "New since last digest vs still open",
        "Accounts that failed to collect",
    ):
        assert heading in html
    assert "<style" not in html and 'style="' in html  # css-inline moved the stylesheet onto elements
    assert "max-width:640px" in html and ' class="' not in html  # classes dropped once inlined
    assert html.count("<mark") == 10 + 6  # every shown item highlights its evidence
    assert "Open the full report" in html and seed.REPORT_URL.replace("&", "&amp;") in html
    assert "block or unsubscribe repeat offenders" in html


def test_full_report_is_uncapped_and_has_no_email_only_parts(digest):
    report = render_digest(digest, report_url=seed.REPORT_URL).report_html
    assert "Full report" in report and "Open the full report" not in report and "unsubscribe button" not in report
    assert report.count("<mark") == 16
    assert """http-equiv="Content-Security-Policy" content="default-src 'none';""" in report


@pytest.mark.parametrize(
    ("started", "counted_failed"), [("2026-11-22T06:00:00Z", True), ("2026-11-22T23:30:00Z", False)]
)
def test_a_run_stuck_running_counts_as_failed_only_once_it_is_stale(seeded, started, counted_failed):
    from datetime import UTC, datetime

    from functions.model import AccountResult, RunRecord

    run_id = started[:4] + started[5:7] + started[8:13] + started[14:16] + "00Z-0a1b2c0a"
    pending = {"x-CMEAdvance": AccountResult(account="CMEAdvance", platform="x", status="pending")}
    seeded.put_run(RunRecord(run_id, "schedule", started, accounts=pending))
    now = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    digest = build_digest(seeded, seed.accounts(), period_end=seed.PERIOD_END, now=now)
    assert any(a.key == "x-CMEAdvance" for a in digest.failed_accounts) is counted_failed


def test_inbox_preview_line_says_what_needs_action(digest):
    html = render_digest(digest).html
    assert "6 need action now; 10 findings in total, ▲ 5 versus the week before; 2 accounts not collected." in html
    assert '<div style="display:none;max-height:0;overflow:hidden;' in html


@pytest.mark.parametrize(
    ("action", "category", "expected"),
    [
        ("hide,warn", "harassment", "Hide the item and warn the author."),
        ("remove", "defamation", "Remove the item. Ask legal to review."),
        ("remove,escalate", "threat", "Remove the item and escalate."),
        ("Remove now and rotate the credential", "confidential-information", "Remove now and rotate the credential."),
        ("  ", "spam", "Review the item."),
    ],
)
def test_suggested_action_reads_as_a_sentence(action, category, expected):
    from functions.digest.texts import suggested_action

    finding = replace(seed.findings()[0], action=action, category=category, rule=f"{category}/x")
    assert suggested_action(finding) == expected
