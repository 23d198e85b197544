"""Hostile platform payloads: every connector, fed its recorded pages with fields replaced by hostile values.

Hypothesis takes each platform's recorded first run (tests/fixtures/<platform>/recording.json),
replaces some fields with hostile text (markup, CR/LF, control characters, lone surrogates sent as
JSON escapes, bytes that are not UTF-8, huge strings), wrong types, or deeply nested JSON, and replays
the pages over HTTP with ``responses``. Whatever arrives, the connector yields valid posts (that survive
JSON Lines, UTF-8 and a parse back) and the audit records a clear outcome for the account.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from responses import matchers

from functions.audit import audit_one
from functions.model import MAX_TEXT_CHARS, Post, dumps_line
from functions.store import FindingsStore, new_run_id
from tests.test_connector_recordings import Sleeps, make_connector, recording
from tests.test_reliability import FIGURES, reliability_figures, shared_engine

PLATFORMS = ("x", "facebook", "instagram", "linkedin", "youtube", "mastodon", "bluesky")
EXAMPLES = 25  # per platform
DEEP = "\u2063DEEP\u2063"  # placeholder for a nesting too deep to build as Python objects
BAD_UTF8 = "\u2063BAD\u2063"  # placeholder for a string holding bytes that are not UTF-8

MARKUP = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</td></tr></table><h1>owned</h1>",
    "<a href=\"javascript:alert(1)\">x</a>", "&lt;b&gt;", "]]><!--", "{{ 7*7 }}", "{% raw %}",
])  # fmt: skip
CONTROL = st.sampled_from(
    ["\r\n", "\rBcc: evil@attacker.example\r\n", "\x00", "\x1b[31m", "\u202e", "\ud800", "\udfff"]
)
HOSTILE_TEXT = st.lists(
    st.one_of(MARKUP, CONTROL, st.text(st.characters(codec=None, categories=None), max_size=40)), max_size=6
).map("".join)
HUGE_TEXT = st.sampled_from([MAX_TEXT_CHARS // 4, MAX_TEXT_CHARS + 4]).map(lambda n: "A<b>" * (n // 4))
REPLACEMENT = st.one_of(
    HOSTILE_TEXT, HOSTILE_TEXT, HOSTILE_TEXT, HUGE_TEXT,
    st.integers(), st.none(), st.booleans(), st.just([]), st.just({}), st.just(DEEP), st.just(BAD_UTF8),
    st.dictionaries(st.text(max_size=5), HOSTILE_TEXT, max_size=3),
)  # fmt: skip

__all__ = ["reliability_figures"]  # the session summary of the reliability figures (autouse)


def leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every value in a JSON document (containers included), in a stable order."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key in node:
            found += leaves(node[key], (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += leaves(item, (*path, index))
    return found


def replaced(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        return {k: (replaced(v, rest, value) if k == head else v) for k, v in node.items()}
    return [replaced(v, rest, value) if i == head else v for i, v in enumerate(node)]


def wire(body: Any) -> bytes:
    """JSON as a platform sends it: ASCII escapes (``\\udXXX`` for lone surrogates), deep nests and bad bytes."""
    text = json.dumps(body, ensure_ascii=True)
    text = text.replace(json.dumps(DEEP, ensure_ascii=True), "[" * 100_000 + "]" * 100_000)
    bad = b'"\xc3\x28 \xff\xfe \xed\xa0\x80"'  # a broken sequence, two stray bytes, an encoded surrogate
    return text.encode("ascii").replace(json.dumps(BAD_UTF8, ensure_ascii=True).encode(), bad)


@st.composite
def mutated_exchanges(draw: st.DrawFn, platform: str) -> list[dict[str, Any]]:
    """The platform's recorded first run with up to six values replaced per page."""
    exchanges = []
    for exchange in recording(platform)["scenarios"]["first_run"]["exchanges"]:
        body = exchange.get("body")
        if body is not None:
            paths = leaves(body)
            chosen = draw(st.lists(st.sampled_from(paths), max_size=6, unique=True)) if paths else []
            for path in sorted(chosen, key=len, reverse=True):  # deepest first: outer paths stay valid
                body = replaced(body, path, draw(REPLACEMENT))
            exchange = {**exchange, "raw": wire(body)}
        exchanges.append(exchange)
    return exchanges


def serve(mock: responses.RequestsMock, conn: Any, exchanges: list[dict[str, Any]]) -> None:
    base = urlsplit(conn.base_url)
    for exchange in exchanges:
        url = f"{base.scheme}://{base.netloc}{base.path}{exchange['path']}"
        match = [matchers.query_param_matcher(exchange.get("query", {}), strict_match=False)]
        body = exchange["raw"] if "raw" in exchange else json.dumps(exchange["body"]).encode()
        mock.add(exchange.get("method", "GET"), url, body=body, status=exchange.get("status", 200),
                 headers=exchange.get("headers", {}), match=match)


def check_post(post: Post) -> None:
    """A yielded post is what the rest of the pipeline can store and parse back."""
    line = dumps_line(post)
    line.encode("utf-8")  # strict: a lone surrogate here would break the S3 write and the e-mail
    assert "\n" not in line[:-1]
    assert Post.from_dict(json.loads(line)).id == post.id
    assert len(post.text) <= MAX_TEXT_CHARS


@pytest.mark.parametrize("platform", PLATFORMS)
def test_hostile_payloads_yield_valid_posts_or_a_recorded_error(platform: str) -> None:
    import boto3
    from moto import mock_aws

    outcomes: Counter[str] = Counter()
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="hostile")
        store = FindingsStore(boto3.client("s3", region_name="us-east-1"), "hostile")

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(exchanges=mutated_exchanges(platform))
        def property_(exchanges: list[dict[str, Any]]) -> None:
            FIGURES["hostile payloads tried"] += 1
            conn = make_connector(platform, Sleeps())
            collected: list[Post] = []
            collect = conn.collect

            def observed(cursor: dict[str, Any] | None) -> Iterator[Post]:  # watches what the audit is given
                for post in collect(cursor):
                    collected.append(post)
                    yield post

            conn.collect = observed  # type: ignore[method-assign]
            with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
                serve(mock, conn, exchanges)
                result = audit_one(conn.account, engine=shared_engine(), store=store, run_id=new_run_id(),
                                   make_context=lambda account: conn.context, make_connector=lambda a, c: conn)
            outcomes[result.error_kind or result.status] += 1
            assert result.status in ("ok", "partial", "failed")
            assert result.error_kind != "internal", result.error  # bad input gets a clear error
            assert result.status == "ok" or result.error
            for post in collected:
                check_post(post)
            if result.findings_key:
                stored = store.read_findings_object(result.findings_key)
                assert len(stored) == result.findings

        property_()
    assert outcomes["ok"] + outcomes["malformed"] > 0, outcomes  # most mutations leave something to collect
