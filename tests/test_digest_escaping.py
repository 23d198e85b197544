"""Hostile post text, author names and URLs cannot alter the digest's HTML, text or e-mail headers."""

from __future__ import annotations

import email
from datetime import UTC, date, datetime
from email import policy
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.config import AccountConfig, AccountsFile
from functions.digest import build_message, render_digest
from functions.digest.build import Digest, Trend, repeat_offenders
from functions.digest.mail import check_address, unsubscribe_headers
from functions.digest.render import clean, highlight, safe_url, subject_for
from functions.model import Author, Finding, finding_id_for

ALLOWED_TAGS = {"html", "head", "meta", "title", "body", "table", "tbody", "tr", "td", "th", "p", "div", "span",
                "strong", "em", "br", "a", "mark"}  # fmt: skip
HOSTILE_TEXTS = [
    "<script>alert(document.cookie)</script> you idiot",
    '"><img src=x onerror=alert(1)> you idiot',
    "</td></tr></table><h1>FAKE: all clear, no findings</h1><table><tr><td> you idiot",
    "<style>body{display:none}</style><a href=javascript:alert(1)>click</a> you idiot",
    "you idiot <!-- comment --> <![CDATA[ x ]]> &amp; &lt;b&gt;",
    "\u202egnp.exe you idiot \u2066isolated\u2069 \u200fRLM",
    "you idiot {{ 7*7 }} {% raw %} ${7*7}",
    "line1\r\nBcc: victim@example.com\r\n\r\n<b>body</b> you idiot",
]


class TagCollector(HTMLParser):
    """Every start tag and attribute the rendered HTML really has."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector


def hostile_finding(text: str, *, url: str | None = "javascript:alert(1)", name: str | None = None) -> Finding:
    author = Author(id="x:user:666", handle='evil"><script>x</script>', name=name or "Eve\r\nBcc: victim@example.com")
    return Finding(
        finding_id=finding_id_for("x:666", "harassment/insult", text),
        post_id="x:666",
        platform="x",
        account="CMEAdvance",
        category="harassment",
        rule="harassment/insult",
        severity="high",
        action="hide",
        confidence=0.9,
        evidence="you idiot",
        post_url=url,
        author=author,
        created_at="2026-11-20T10:00:00Z",
        detected_at="2026-11-21T06:00:00Z",
        policy="alliance-cme",
        policy_version="1",
        run_id="20261121T060000Z-00000001",
        kind="comment",
        excerpt=text,
    )


def digest_of(findings: list[Finding], *, scope: str | None = None, organization: str = "CME Advance") -> Digest:
    return Digest(
        organization=organization,
        scope=scope,
        period_start=date(2026, 11, 16),
        period_end=date(2026, 11, 23),
        generated_at=datetime(2026, 11, 23, 7, tzinfo=UTC),
        days=7,
        repeat_window_days=30,
        findings=findings,
        new_ids=frozenset(f.finding_id for f in findings),
        still_open=[],
        previous_findings=0,
        by_severity={"high": Trend(len(findings), 0)},
        by_category={"harassment": Trend(len(findings), 0)},
        by_account={"CMEAdvance (X)": len(findings)},
        repeat_offenders=repeat_offenders(findings, min_posts=1),
        failed_accounts=[],
        accounts_audited=1,
    )


def assert_markup_is_ours(html: str) -> TagCollector:
    parsed = parse(html)
    for tag, attrs in parsed.tags:
        assert tag in ALLOWED_TAGS, f"unexpected <{tag}> in the digest"
        assert not any(name.startswith("on") for name in attrs), f"event handler on <{tag}>"
        if tag == "a":
            assert attrs["href"] and attrs["href"].startswith(("https://", "http://")), attrs["href"]
    return parsed


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_post_text_is_shown_as_text_never_as_markup(text):
    rendered = render_digest(digest_of([hostile_finding(text)]))
    for html in (rendered.html, rendered.report_html):
        parsed = assert_markup_is_ours(html)
        shown = "".join(parsed.text)
        assert "you idiot" in shown
        assert "<script>" not in html and "<img" not in html and "<h1>" not in html and "<style" not in html
    assert sum(1 for tag, _ in parse(rendered.html).tags if tag == "mark") >= 1


def test_evidence_is_escaped_before_it_is_marked():
    marked = highlight('a <b>"x"</b> and you <i>idiot</i> here', "you <i>idiot</i>")
    assert str(marked) == "a &lt;b&gt;&#34;x&#34;&lt;/b&gt; and <mark>you &lt;i&gt;idiot&lt;/i&gt;</mark> here"


def test_bidi_overrides_and_controls_never_reach_the_output():
    rendered = render_digest(digest_of([hostile_finding(HOSTILE_TEXTS[5], name="\u202eredro\u202c Bob\x07")]))
    for out in (rendered.html, rendered.text, rendered.subject):
        assert not any(ch in out for ch in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200f\x07")
    assert "\ufffdgnp.exe" in rendered.text  # the override is visibly replaced, not silently dropped


def test_line_breaks_in_author_names_cannot_forge_lines_in_the_text_digest():
    rendered = render_digest(digest_of([hostile_finding("you idiot", name="Eve\n\nNEEDS ACTION NOW\n- fake")]))
    lines = rendered.text.splitlines()
    assert "NEEDS ACTION NOW" in lines and lines.count("NEEDS ACTION NOW") == 1
    assert not any(line.startswith("Bcc:") for line in lines)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox",
        "//evil.example/x",
        "https://ok.example/\u202egnp",
        "https://ok.example/a b",
        "file:///etc/passwd",
        "",
        None,
    ],
)
def test_only_http_and_https_urls_are_linked(url):
    assert safe_url(url) is None
    html = render_digest(digest_of([hostile_finding("you idiot", url=url)])).html
    assert not [attrs for tag, attrs in parse(html).tags if tag == "a" and "x.com" not in (attrs.get("href") or "")]
    assert "No link to the item on X" in html


def test_a_quote_in_a_valid_url_stays_inside_the_href():
    url = 'https://x.com/a"onmouseover="alert(1)'
    html = render_digest(digest_of([hostile_finding("you idiot", url=url)])).html
    links = [attrs for tag, attrs in parse(html).tags if tag == "a" and "x.com" in (attrs.get("href") or "")]
    assert links == [{"href": url, "style": links[0]["style"]}]


def test_subject_has_no_line_breaks_whatever_the_scope_or_organization():
    digest = digest_of([hostile_finding("you idiot")], scope="Team a\r\nBcc: victim@example.com\x00")
    subject = subject_for(digest)
    assert "\r" not in subject and "\n" not in subject and "\x00" not in subject
    message = build_message(render_digest(digest), sender="digest@cme.example", recipients=["a@cme.example"])
    parsed = email.message_from_bytes(message.as_bytes(), policy=policy.default)
    assert parsed["Bcc"] is None and parsed["To"] == "a@cme.example"
    assert "Team a Bcc: victim@example.com" in parsed["Subject"]


@pytest.mark.parametrize(
    "address",
    ["a@b.example\r\nBcc: x@y.example", "Eve <eve@b.example>", "a@b.example, c@d.example", "not-an-address", "a@b\n.c"],
)
def test_addresses_that_could_inject_headers_are_refused(address):
    with pytest.raises(ValueError):
        check_address(address)
    with pytest.raises(ValueError):
        build_message(render_digest(digest_of([])), sender="digest@cme.example", recipients=[address])


def test_unsubscribe_headers_never_claim_one_click_without_https():
    assert unsubscribe_headers("d@cme.example", None) == {
        "List-Unsubscribe": "<mailto:d@cme.example?subject=unsubscribe>"
    }
    assert "List-Unsubscribe-Post" not in unsubscribe_headers("d@cme.example", "http://cme.example/unsub")
    assert "List-Unsubscribe-Post" not in unsubscribe_headers("d@cme.example", "javascript:alert(1)")
    both = unsubscribe_headers("d@cme.example", "https://cme.example/unsubscribe")
    assert both["List-Unsubscribe"].startswith("<https://cme.example/unsubscribe>, <mailto:")
    assert both["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_hostile_organization_and_account_names_are_escaped():
    accounts = AccountsFile(organization="<b>Org</b>", accounts=(AccountConfig(key="x-a", platform="x", account="a"),))
    digest = digest_of([hostile_finding("you idiot")], organization=accounts.organization)
    html = render_digest(digest).html
    assert "&lt;b&gt;Org&lt;/b&gt;" in html
    assert_markup_is_ours(html)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(min_size=1, max_size=200),
    evidence=st.text(min_size=1, max_size=40),
    name=st.text(max_size=40),
    handle=st.text(min_size=1, max_size=20),
)
def test_any_text_renders_to_our_markup_only(text, evidence, name, handle):
    base = hostile_finding(text)
    finding = Finding(**{**{k: getattr(base, k) for k in base.__slots__}, "evidence": evidence,  # type: ignore[attr-defined]
                         "author": Author(id="x:user:1", handle=handle, name=name)})  # fmt: skip
    rendered = render_digest(digest_of([finding]))
    assert_markup_is_ours(rendered.html)
    assert clean(rendered.subject) == rendered.subject
    assert not any(ch in rendered.text for ch in "\u202e\u2066\x00\x1b")
