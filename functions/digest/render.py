"""Render a :class:`Digest` to e-mail HTML (CSS inlined), plain text and the full un-capped report.

Post text is hostile: every value goes through Jinja autoescaping, and every string printed by a
template first loses control and bidirectional-override characters (``_finalize``), so a post can
neither alter the markup nor reorder what the reader sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from functions.digest import texts
from functions.digest.build import PLATFORM_LABELS, Digest, account_label
from functions.model import SEVERITIES, parse_time

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Gmail clips messages whose HTML passes ~102 KB; staying under keeps the whole digest visible.
MAX_EMAIL_HTML_BYTES = 95_000
MAX_EMAIL_TEXT_BYTES = 60_000

# Bidi embeddings/overrides/isolates, and C0/C1 controls except tab and newline.
_UNSAFE_CHARS = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"\s+")
_CLASS_ATTR = re.compile(r' class="[^"<>]*"')
_INDENT = re.compile(r"\n[ \t]+")
_LINE_BREAKS = re.compile("[\r\n\t\v\f\x85\u2028\u2029]")
_EDGE = " \t\n…."  # evidence spans are often quoted with ellipses around them


@dataclass(frozen=True, slots=True)
class Caps:
    """How much of each section the e-mail shows; the rest is in the full report."""

    action: int = 25
    other: int = 15
    still_open: int = 10
    offenders: int = 10
    failed: int = 50
    accounts: int = 12
    excerpt_chars: int = 280

    def shrunk(self) -> Caps:
        """A quarter less of every list, for a week too large for one e-mail (fine steps keep the most)."""
        return Caps(
            action=_less(self.action),
            other=_less(self.other),
            still_open=_less(self.still_open),
            offenders=_less(self.offenders),
            failed=max(_less(self.failed), 10),
            accounts=max(_less(self.accounts), 5),
            excerpt_chars=max(_less(self.excerpt_chars), 120),
        )


def _less(limit: int) -> int:
    return max(min(limit - 1, limit * 3 // 4), 0)


UNCAPPED = Caps(10**9, 10**9, 10**9, 10**9, failed=10**9, accounts=10**9, excerpt_chars=1000)


@dataclass(frozen=True, slots=True)
class RenderedDigest:
    """A digest ready to send: subject, e-mail HTML and text, and the full report for the archive."""

    subject: str
    html: str
    text: str
    report_html: str
    caps: Caps


def clean(value: str) -> str:
    """One line of display text: control and bidi-override characters replaced, whitespace collapsed."""
    return _SPACES.sub(" ", _finalize(value)).strip()


def _finalize(value: Any) -> Any:
    # Applied by Jinja to every {{ value }}: Markup (ours, or a macro marked |safe) is already clean;
    # a plain string may hold line breaks that would forge structure in the text e-mail.
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return _UNSAFE_CHARS.sub("\ufffd", _LINE_BREAKS.sub(" ", value))


def safe_url(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) URL without spaces or controls, else None (never linked)."""
    if not url or len(url) > 2048 or _UNSAFE_CHARS.search(url) or any(ch.isspace() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def excerpt_parts(text: str, evidence: str, *, limit: int = 280) -> tuple[str, str, str]:
    """(before, evidence, after) of a cleaned excerpt, trimmed to about ``limit`` characters."""
    text, needle = clean(text), clean(evidence).strip(_EDGE)
    match = re.search(re.escape(needle), text, re.IGNORECASE) if needle else None
    if match is None:
        # The evidence is a span of the post; when the excerpt does not contain it, show it alone.
        return "", _trim(needle or text, limit), ""
    start, end = match.span()
    room = max(limit - (end - start), 0)
    before_start = max(start - room // 2, 0)
    after_end = min(end + (room - (start - before_start)), len(text))
    before = ("…" if before_start > 0 else "") + text[before_start:start]
    after = text[end:after_end] + ("…" if after_end < len(text) else "")
    return before, _trim(text[start:end], limit), after


def highlight(text: str, evidence: str, *, limit: int = 280) -> Markup:
    """Escaped excerpt around ``evidence`` with the evidence wrapped in ``<mark>``.

    ``Markup.format`` escapes the plain pieces first; only our own ``<mark>`` tags are markup.
    """
    return Markup("{}<mark>{}</mark>{}").format(*excerpt_parts(text, evidence, limit=limit))


def highlight_text(text: str, evidence: str, *, limit: int = 280) -> str:
    """Plain-text excerpt with the evidence between »…« marks."""
    before, mark, after = excerpt_parts(text, evidence, limit=limit)
    return f"{before}»{mark}«{after}"


def _trim(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def week_label(digest: Digest) -> str:
    """E.g. ``Nov 17 – 23, 2026`` for the days the digest covers (period_end is exclusive)."""
    first, last = digest.period_start, digest.period_end - timedelta(days=1)
    if first == last:
        return _day(first, year=True)
    if first.year != last.year:
        return f"{_day(first, year=True)} – {_day(last, year=True)}"
    if first.month != last.month:
        return f"{_day(first)} – {_day(last)}, {last.year}"
    return f"{_day(first)} – {last.day}, {last.year}"


def _day(day: date, *, year: bool = False) -> str:
    return f"{day.strftime('%b')} {day.day}" + (f", {day.year}" if year else "")


def when(stamp: str | None) -> str:
    """A record timestamp as ``Nov 20, 14:03 UTC`` (the raw text if it does not parse)."""
    if not stamp:
        return ""
    try:
        moment = parse_time(stamp)
    except ValueError:
        return stamp
    return f"{_day(moment.date())}, {moment.strftime('%H:%M')} UTC"


def subject_for(digest: Digest) -> str:
    """The subject line with the counts; one line, no control characters, bounded length."""
    counts = {name: trend.current for name, trend in digest.by_severity.items()}
    urgent = [f"{counts[s]} {s}" for s in ("critical", "high") if counts.get(s)]
    if digest.findings:
        body = f"{_count(len(digest.findings), 'finding')} across {_count(digest.accounts_with_findings, 'account')}"
    else:
        body = f"no findings across {_count(digest.accounts_audited, 'account')}"
    head = ", ".join(urgent) + " — " + body if urgent else body[0].upper() + body[1:]
    parts = [f"[socialaudit] {head}, week of {_day(digest.period_start, year=True)}"]
    if digest.still_failing:
        parts.append(f"{_count(len(digest.still_failing), 'account')} not collected")
    if digest.scope:
        parts.append(digest.scope)
    return _trim(clean(" · ".join(parts)), 200)


def preheader_for(digest: Digest) -> str:
    """The inbox preview line: what needs action, in a sentence."""
    urgent = len(digest.action_now)
    parts = [f"{urgent} need{'s' if urgent == 1 else ''} action now" if urgent else "Nothing critical or high"]
    trend = f"{digest.total.label} versus the week before" if digest.has_history else "the first week audited"
    parts.append(f"{len(digest.findings)} findings in total, {trend}")
    if digest.still_failing:
        parts.append(f"{_count(len(digest.still_failing), 'account')} not collected")
    return "; ".join(parts) + "."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: not (name or "").endswith(".txt"),
        finalize=_finalize,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        highlight=highlight,
        highlight_text=highlight_text,
        safe_url=safe_url,
        when=when,
        category=texts.category_label,
        clause=texts.clause_text,
        action=texts.suggested_action,
        platform=lambda p: PLATFORM_LABELS.get(p, p),
        account=lambda f: account_label(f.account, f.platform),
    )
    env.globals.update(
        SEVERITIES=SEVERITIES,
        SEVERITY_COLOR=texts.SEVERITY_COLOR,
        SEVERITY_BG=texts.SEVERITY_BG,
        KIND_TEXT=texts.KIND_TEXT,
    )
    return env


_ENV: Environment | None = None


def environment() -> Environment:
    """The shared Jinja environment (templates are parsed once per process)."""
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


def _context(digest: Digest, caps: Caps, *, report_url: str | None, full: bool) -> dict[str, Any]:
    bar_max = max((t.current for t in digest.by_category.values()), default=0) or 1
    return {
        "d": digest,
        "caps": caps,
        "full": full,
        "report_url": safe_url(report_url),
        "week": week_label(digest),
        "bar_max": bar_max,
        "categories": sorted(digest.by_category.items(), key=lambda kv: (-kv[1].current, -kv[1].previous, kv[0])),
        "generated": when(digest.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")),
        "previous_digest": _last_day(digest.previous_digest),
        "failing": digest.still_failing,
        "preheader": preheader_for(digest),
    }


def _last_day(period_end: date | None) -> str | None:
    return _day(period_end - timedelta(days=1), year=True) if period_end else None


def _render_html(digest: Digest, caps: Caps, *, report_url: str | None, full: bool) -> str:
    html = environment().get_template("digest.html").render(**_context(digest, caps, report_url=report_url, full=full))
    return _compact(css_inline.inline(html, keep_style_tags=False, load_remote_stylesheets=False, minify_css=True))


def _compact(html: str) -> str:
    """Drop class attributes (their styles are inlined now) and indentation: a third fewer bytes.

    Safe on our output only: every quote inside data was escaped to ``&#34;``, so a ``class="``
    match is always one of our attributes, and data never spans lines.
    """
    return _INDENT.sub("\n", _CLASS_ATTR.sub("", html))


def _render_text(digest: Digest, caps: Caps, *, report_url: str | None) -> str:
    return environment().get_template("digest.txt").render(**_context(digest, caps, report_url=report_url, full=False))


def render_report(digest: Digest) -> str:
    """The full, un-capped report (HTML with inlined CSS) archived beside the e-mail."""
    return _render_html(digest, UNCAPPED, report_url=None, full=True)


def render_digest(
    digest: Digest, *, report_url: str | None = None, caps: Caps | None = None, report_html: str | None = None
) -> RenderedDigest:
    """Render the e-mail (HTML + text, shrunk until within size limits) and the full report.

    Pass ``report_html`` when the report was already rendered (to archive it before linking to it).
    """
    caps = caps or Caps()
    while True:
        html = _render_html(digest, caps, report_url=report_url, full=False)
        text = _render_text(digest, caps, report_url=report_url)
        small_enough = len(html.encode()) <= MAX_EMAIL_HTML_BYTES and len(text.encode()) <= MAX_EMAIL_TEXT_BYTES
        if small_enough or caps.action == caps.other == caps.still_open == caps.offenders == 0:
            break
        caps = caps.shrunk()
    report = render_report(digest) if report_html is None else report_html
    return RenderedDigest(subject=subject_for(digest), html=html, text=text, report_html=report, caps=caps)

