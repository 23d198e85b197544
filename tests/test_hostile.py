"""Hostile post text and author names, through the whole path: JSON Lines → audit → S3 → digest → SES → logs.

Hypothesis writes posts whose text and author fields carry markup, CR/LF header injections, control
characters, bidi overrides, lone surrogates (as JSON escapes, the way broken clients send them) and
huge strings; each example is audited on moto S3 with the real engine, and the weekly digest is
built, archived and sent through moto SES. Nothing may crash, the digest's HTML may hold only the
template's own markup, no header may be injected, every log line is one JSON object, and S3 keys
come from configuration, never from post text. A second test serves hostile posts through the
sandbox on all seven platforms and runs the real handlers.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.audit import default_context_factory, run_audit
from functions.config import Settings, parse_accounts
from functions.connectors.base import SecretsProvider
from functions.digest import run_weekly_digest
from functions.model import MAX_TEXT_CHARS, PLATFORMS, Post
from functions.store import FindingsStore, new_run_id
from tests.test_reliability import (
    FIGURES,
    SENDER,
    deploy,
    html_of,
    now_utc,
    reliability_figures,
    sample_posts,
    sent_messages,
    shared_engine,
    text_of,
)

EXAMPLES = 40
FLAGGED = "Shut up, you worthless idiot. "  # the engine flags this, so the hostile rest reaches the digest
MARKUP = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</td></tr></table><h1 id=owned>owned</h1>",
    "<a href=\"javascript:alert(1)\">click</a>", "<style>body{display:none}</style>", "<!--", "]]>",
    "{{ 7*7 }}{% endfor %}", "<iframe src=//evil.example>",
]  # fmt: skip
INJECT = ["\r\nBcc: victim@evil.example", "\nX-Injected: yes", "\r\n\r\n<h1>body</h1>", "\x00", "\x1b[2J",
          "\u202e", "\u2028", "\ud800", "\udfff", "\x7f", "\t\x0b\x0c"]
PIECES = st.one_of(st.sampled_from(MARKUP), st.sampled_from(INJECT),
                   st.text(st.characters(codec=None, categories=None), max_size=30))
HOSTILE = st.lists(PIECES, min_size=1, max_size=8).map("".join)
HUGE = st.sampled_from([MAX_TEXT_CHARS + 50]).map(lambda n: ("<b>x</b>\r\n" * (n // 10 + 1)))
TEXT = st.one_of(HOSTILE, HOSTILE, HOSTILE, HOSTILE, HOSTILE, HUGE)
SAFE_KEY = re.compile(
    r"^(findings/dt=\d{4}-\d{2}-\d{2}/account=[A-Za-z0-9._@-]+/run=\d{8}T\d{6}Z-[0-9a-f]{8}\.jsonl"
    r"|state/cursors/[A-Za-z0-9._@-]+\.json"
    r"|runs/\d{8}T\d{6}Z-[0-9a-f]{8}/(run|dispatch)\.json"
    r"|runs/\d{8}T\d{6}Z-[0-9a-f]{8}/accounts/[A-Za-z0-9._@-]+\.json"
    r"|digests/\d{4}-\d{2}-\d{2}/(audience=[a-z0-9._-]+/)?[a-z]+\.(html|txt|eml|json))$"
)
HEADERS = {"subject", "from", "to", "date", "message-id", "auto-submitted", "x-auto-response-suppress", "precedence",
           "list-unsubscribe", "list-unsubscribe-post", "mime-version", "content-type", "content-transfer-encoding"}

__all__ = ["reliability_figures"]  # the session summary of the reliability figures (autouse)


class Tags(HTMLParser):
    """Tag names and attribute names/values of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.values: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)
        self.values.extend(value or "" for _, value in attrs)


def markup_of(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


_BENIGN: dict[str, set[str]] = {}


def template_markup() -> dict[str, set[str]]:
    """The tags and attributes the digest template itself uses (rendered once from benign posts)."""
    if not _BENIGN:
        with audited([hostile_post(0, FLAGGED + "Plain words.", "Jane Roe", "janeroe")]) as (html, _text, _msg, _k):
            parsed = markup_of(html)
        _BENIGN.update(tags=parsed.tags, attributes=parsed.attributes)
    return _BENIGN


@contextmanager
def json_log_lines() -> Iterator[io.StringIO]:
    """What the service's JSON log handler writes meanwhile."""
    buffer = io.StringIO()
    handlers = [h for h in logging.getLogger("socialaudit").handlers if isinstance(h, logging.StreamHandler)]
    saved = [h.setStream(buffer) for h in handlers]
    try:
        yield buffer
    finally:
        for handler, stream in zip(handlers, saved, strict=True):
            handler.setStream(stream)


def hostile_post(n: int, text: str, name: str, handle: str) -> dict[str, Any]:
    """A comment as the JSON Lines corpus holds it, with hostile text and author fields."""
    moment = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "id": f"x:{9_000 + n}", "platform": "x", "account": "LakeshoreCME", "kind": "comment",
        "author": {"id": f"x:user:{n}", "handle": handle or "h", "name": name, "is_org": False},
        "text": text, "created_at": moment, "url": f"https://x.com/h/status/{9_000 + n}", "parent_id": None,
        "lang": "en",
    }  # fmt: skip


_RUNS = [0]


@contextmanager
def audited(posts: list[dict[str, Any]]) -> Iterator[tuple[str, str, Any, list[str]]]:
    """Audit ``posts`` (one X account, read from JSON Lines) in a fresh bucket, send the weekly digest.

    Call inside moto (the ``aws`` fixture); yields the digest's HTML, text, message and the bucket's keys.
    """
    _RUNS[0] += 1
    bucket = f"hostile-{_RUNS[0]}"
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    sesv2 = boto3.client("sesv2", region_name="us-east-1")
    sesv2.create_email_identity(EmailIdentity=SENDER)
    store = FindingsStore(s3, bucket)
    path = Path(f"/tmp/socialaudit-{bucket}.jsonl")
    # ensure_ascii: lone surrogates travel as \udXXX escapes, as a broken client would send them
    path.write_text("".join(json.dumps(p, ensure_ascii=True) + "\n" for p in posts), encoding="ascii")
    accounts = parse_accounts({"organization": "Lakeshore CME", "recipients": ["social@lakeshore-cme.example"],
                               "accounts": [{"key": "x-lakeshorecme", "platform": "x", "account": "LakeshoreCME",
                                             "options": {"source": "file", "path": str(path)}}]})
    try:
        run = run_audit(list(accounts.accounts), engine=shared_engine(), store=store, run_id=new_run_id(),
                        trigger="test", make_context=default_context_factory(SecretsProvider(), max_requests=5,
                                                                            budget_seconds=30))
        assert run.status == "ok", run.errors
        result = run_weekly_digest(store, sesv2, accounts, Settings(bucket=bucket, accounts_path="-", sender=SENDER),
                                   period_end=now_utc().date() + timedelta(days=1), run_id=new_run_id())
        assert result.status == "sent" and result.findings >= 1
        message = sent_messages()[-1]
        yield html_of(message), text_of(message), message, sorted(store._keys(""))
    finally:
        path.unlink()


def check_outputs(html: str, text: str, message: Any, keys: list[str], logged: str, hostile: list[str]) -> None:
    """The invariants every hostile input must leave standing."""
    benign = template_markup()
    parsed = markup_of(html)
    assert parsed.tags <= benign["tags"], parsed.tags - benign["tags"]
    assert parsed.attributes <= benign["attributes"], parsed.attributes - benign["attributes"]
    assert not any(v.strip().lower().startswith("javascript:") for v in parsed.values)
    assert {name.lower() for name in message} <= HEADERS
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])
    assert text.strip()
    for key in keys:
        assert SAFE_KEY.match(key), key
    lines = logged.splitlines()
    assert lines and all(isinstance(json.loads(line), dict) for line in lines)
    for value in hostile:
        fragment = value.strip()[:12]
        if len(fragment) >= 6 and re.search(r"[^A-Za-z0-9._@ -]", fragment):
            assert all(fragment not in key for key in keys)


@settings(max_examples=EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(texts=st.lists(TEXT, min_size=1, max_size=2), name=HOSTILE, handle=HOSTILE)
def test_hostile_text_and_names_are_stored_and_reported_only_as_text(
    aws: None, texts: list[str], name: str, handle: str
) -> None:
    template_markup()
    posts = [hostile_post(n, FLAGGED + text, name, handle) for n, text in enumerate(texts)]
    FIGURES["hostile texts tried"] += len(texts)
    with json_log_lines() as logged, audited(posts) as (html, text, message, keys):
        check_outputs(html, text, message, keys, logged.getvalue(), [*texts, name, handle])
    assert sum(k.startswith("findings/") for k in keys) == 1


HOSTILE_SET = [
    *MARKUP,
    "Line one\r\nBcc: victim@evil.example\r\n\r\nforged body", "\x00\x1b[2J\x07 bell", "\u202eevil\u202c text",
    "A" * (MAX_TEXT_CHARS + 10), "<" * 500 + ">" * 500, "&amp;&lt;script&gt;", "%0d%0aX-Injected: yes",
]  # fmt: skip


def hostile_corpus() -> list[Post]:
    """The demo accounts' items with hostile texts (flagged) and hostile author names, on all seven platforms."""
    import dataclasses

    posts = sample_posts()
    out = []
    for n, post in enumerate(posts):
        if post.kind == "post" or post.author.is_org:
            out.append(post)
            continue
        hostile = HOSTILE_SET[n % len(HOSTILE_SET)]
        author = dataclasses.replace(post.author, name=f"{post.author.name}\r\nX-Injected: {hostile[:40]}")
        out.append(dataclasses.replace(post, text=FLAGGED + hostile, author=author))
    assert {p.platform for p in out if p.text.startswith(FLAGGED)} == set(PLATFORMS)
    return out


def test_hostile_posts_on_every_platform_pass_the_real_handlers_as_text(aws: None, tmp_path: Path) -> None:
    template_markup()
    corpus = hostile_corpus()
    with json_log_lines() as logged, deploy(tmp_path, posts=corpus) as stack:
        moment = now_utc()
        run = stack.run(stack.schedule(moment)["run_id"])
        sent = stack.send_digest(moment)
        keys = stack.object_keys()
        messages = sent_messages()
    assert run.status == "ok", run.errors
    hostile_ids = {p.id for p in corpus if p.text.startswith(FLAGGED)}
    assert {f.platform for f in stack.findings() if f.post_id in hostile_ids} == set(PLATFORMS)
    assert sent["status"] == "sent" and messages
    for message in messages:
        check_outputs(html_of(message), text_of(message), message, keys, logged.getvalue(), HOSTILE_SET)
    FIGURES["hostile texts tried"] += sum(p.text.startswith(FLAGGED) for p in corpus)


def test_the_checks_fail_on_raw_markup_an_injected_header_or_a_broken_log_line(aws: None) -> None:
    """Negative controls: each invariant of ``check_outputs`` does fail when its guard is broken."""
    from email.message import EmailMessage

    with audited([hostile_post(0, FLAGGED + "Plain words.", "Jane Roe", "janeroe")]) as (html, text, message, keys):
        check_outputs(html, text, message, keys, '{"message": "ok"}', [])
        broken_html = html.replace("</body>", "<script>alert(1)</script></body>")
        injected = EmailMessage()
        for name, value in message.items():
            injected[name] = value
        injected["Bcc"] = "victim@evil.example"
        for args in [(broken_html, text, message, keys, '{"m": 1}'), (html, text, injected, keys, '{"m": 1}'),
                     (html, text, message, keys, '{"m": 1}\nforged line'),
                     (html, text, message, [*keys, "findings/<script>.jsonl"], '{"m": 1}')]:
            with pytest.raises((AssertionError, json.JSONDecodeError)):
                check_outputs(*args, [])


def test_bytes_that_are_not_utf8_in_a_posts_file_are_replaced_not_fatal(aws: None, tmp_path: Path) -> None:
    line = json.dumps(hostile_post(1, FLAGGED + "BROKEN", "Jane Roe", "janeroe")).encode()
    path = tmp_path / "posts.jsonl"
    path.write_bytes(line.replace(b"BROKEN", b"\xc3\x28 \xff\xfe \xed\xa0\x80") + b"\n")
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="hostile-bytes")
    store = FindingsStore(s3, "hostile-bytes")
    accounts = parse_accounts({"accounts": [{"key": "x-lakeshorecme", "platform": "x", "account": "LakeshoreCME",
                                             "options": {"source": "file", "path": str(path)}}]})
    run = run_audit(list(accounts.accounts), engine=shared_engine(), store=store, run_id=new_run_id(), trigger="test",
                    make_context=default_context_factory(SecretsProvider(), max_requests=5, budget_seconds=30))
    assert run.status == "ok", run.errors
    (finding,) = [f for f in store.iter_findings(now_utc().date(), now_utc().date() + timedelta(days=1))]
    assert finding.post_id == "x:9001"
    FIGURES["hostile texts tried"] += 1
