"""The guideline engine: a pure function from a post (and its parent) to at most one verdict per category.

Example::

    engine = load_engine()
    for verdict in engine.evaluate(post):
        print(verdict.rule, verdict.evidence)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from functions.guidelines.detectors import Document
from functions.guidelines.matching import KNOWN_KEYS, Gate
from functions.guidelines.normalize import Views, fold, views_of
from functions.guidelines.policy import Policy, Rule, load_policy
from functions.guidelines.prefilter import Substrings, token_keys
from functions.model import SEVERITY_RANK, Finding, Post, finding_id_for

EXCERPT_CHARS = 240
EVIDENCE_MAX = 160


@dataclass(frozen=True, slots=True)
class Verdict:
    """One category a post breaks: the strongest rule of that category and the span that shows why."""

    category: str
    rule: str
    severity: str
    action: str
    confidence: float
    evidence: str
    start: int
    end: int
    clause: str


class Engine:
    """Evaluates posts against a compiled policy; keeps no per-post state."""

    def __init__(self, policy: Policy, *, clients: dict[str, Any] | None = None):
        self.policy = policy
        self.policy_name = policy.name
        self.policy_version = policy.version
        # Strongest first, so the first hit of a category is its verdict and the rest of it can be skipped.
        self.rules: list[Rule] = sorted(policy.rules, key=lambda r: (SEVERITY_RANK[r.severity], r.id))
        # A rule whose detector gives a cheap gate is skipped without a call when the post cannot match.
        self._plan = [(rule, rule.detector.gate()) for rule in self.rules]
        self._gates = _GateIndex([gate for _rule, gate in self._plan])
        KNOWN_KEYS.update(self._gates.keys)
        self._allow = _allow_regex(policy.allow_terms, policy.allow_domains)
        # Per rule, what the hot loop needs without attribute look-ups: category, conditions (None: none), find.
        self._steps = [(rule.category, rule.when or None, rule.detector.find) for rule in self.rules]
        self.extra: list[Any] = []
        if any(config.get("enabled") for config in policy.evaluators.values()):
            from functions.guidelines.evaluators import build_evaluators

            self.extra = build_evaluators(policy.evaluators, {} if clients is None else clients, policy.rules)

    def evaluator_stats(self) -> dict[str, dict[str, Any]]:
        """Calls, failures and budget skips of each enabled extra evaluator."""
        return {e.name: {"calls": e.stats.calls, "failures": e.stats.failures, "budget_skips": e.stats.budget_skips,
                         "budget_left": e.budget.remaining} for e in self.extra}

    def evaluate(self, post: Post, *, parent: Post | None = None) -> list[Verdict]:
        """Verdicts for ``post``, one per category at most, strongest rule of each category."""
        if self.policy.allow_authors and post.author.handle.lower().lstrip("@") in self.policy.allow_authors:
            return []
        # The parent's text matters as the author's own earlier words in a thread (a disclosure made there).
        thread = parent.text if parent is not None and parent.author.id == post.author.id else None
        doc = self.document(post.text, is_org=post.author.is_org, kind=post.kind, thread_text=thread,
                            has_parent=parent is not None or post.parent_id is not None)
        verdicts = self._local(doc)
        if self.extra:
            verdicts = self._with_extra(post, doc, verdicts)
        return verdicts

    def document(self, text: str, *, is_org: bool = False, kind: str = "comment", thread_text: str | None = None,
                 has_parent: bool = False) -> Document:
        """Prepare a text once for every detector (views, allow-lists blanked out)."""
        views = views_of(text)
        if self._allow is not None:
            views = _blank_allowed(views, self._allow)
        thread = fold(thread_text) if thread_text else ""
        keys = token_keys(views.norm)
        return Document(text, views, is_org, kind, has_parent, thread, keys, live_keys=keys.intersection(KNOWN_KEYS))

    def _local(self, doc: Document) -> list[Verdict]:
        found: dict[str, Verdict] = {}
        steps = self._steps
        for number in self._gates.open_for(doc.live_keys or doc.keys, doc.views.norm):
            category, when, find = steps[number]
            if category in found or (when is not None and not _applies(when, doc)):
                continue
            hit = find(doc)
            if hit is not None:
                found[category] = self._verdict(self.rules[number], doc, hit)
        return list(found.values())

    def _verdict(self, rule: Rule, doc: Document, hit: tuple[int, int, float]) -> Verdict:
        start, end = doc.views.original_span(hit[0], hit[1])
        start, end = _word_span(doc.text, start, end)
        return Verdict(rule.category, rule.id, rule.severity, rule.action, round(hit[2], 4),
                       doc.text[start:end], start, end, rule.clause)

    def _with_extra(self, post: Post, doc: Document, verdicts: list[Verdict]) -> list[Verdict]:
        by_category = {v.category: v for v in verdicts}
        for evaluator in self.extra:
            for verdict in evaluator.review(post, doc, dict(by_category)):
                current = by_category.get(verdict.category)
                if current is None or verdict.confidence > current.confidence:
                    by_category[verdict.category] = verdict
        return list(by_category.values())

    def findings(self, post: Post, *, run_id: str, detected_at: str, parent: Post | None = None) -> list[Finding]:
        """Findings (model.Finding) for ``post``: one per verdict, with a stable id and an excerpt."""
        return [
            Finding(
                finding_id=finding_id_for(post.id, v.rule, post.text),
                post_id=post.id,
                platform=post.platform,
                account=post.account,
                category=v.category,
                rule=v.rule,
                severity=v.severity,
                action=v.action,
                confidence=v.confidence,
                evidence=v.evidence,
                post_url=post.url,
                author=post.author,
                created_at=post.created_at,
                detected_at=detected_at,
                policy=self.policy_name,
                policy_version=self.policy_version,
                run_id=run_id,
                clause=v.clause,
                kind=post.kind,
                excerpt=excerpt(post.text, v.start, v.end),
            )
            for v in self.evaluate(post, parent=parent)
        ]


class _GateIndex:
    """The rules' gates inverted: from a post's word keys and substrings to the rules it can match.

    One set intersection per post, then one substring test for each rule with substrings that no key opened.
    """

    def __init__(self, gates: list[Gate]):
        by_key: dict[str, list[int]] = {}
        by_text: list[tuple[int, Substrings]] = []
        always: list[int] = []
        for number, gate in enumerate(gates):
            if gate is None:
                always.append(number)
                continue
            for key in gate[0]:
                by_key.setdefault(key, []).append(number)
            if gate[1]:
                by_text.append((number, Substrings(gate[1])))
        self.keys = frozenset(by_key)
        self.by_key = {key: tuple(numbers) for key, numbers in by_key.items()}
        self.by_text = tuple(by_text)
        self.always = tuple(always)

    def open_for(self, keys: frozenset[str], text: str) -> list[int]:
        """Numbers of the rules whose gate the post passes, in rule order."""
        todo = set(self.always)
        for key in self.keys & keys:
            todo.update(self.by_key[key])
        for number, test in self.by_text:
            if number not in todo and test.found(text):
                todo.add(number)
        return sorted(todo)


def load_engine(policy_path: str | None = None, *, clients: dict[str, Any] | None = None) -> Engine:
    """Engine for a policy file (None = the Alliance for CME policy); ``clients`` = boto3 clients by service."""
    return Engine(load_policy(policy_path), clients=clients)


def _applies(when: dict[str, Any], doc: Document) -> bool:
    if not when:
        return True
    if "is_org" in when and when["is_org"] != doc.is_org:
        return False
    if "has_parent" in when and when["has_parent"] != doc.has_parent:
        return False
    kinds = when.get("kinds")
    return not (kinds is not None and doc.kind not in kinds)


def _word_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span to whole words (never past EVIDENCE_MAX characters) so evidence reads naturally."""
    while start > 0 and text[start - 1].isalnum() and end - start < EVIDENCE_MAX:
        start -= 1
    while end < len(text) and text[end].isalnum() and end - start < EVIDENCE_MAX:
        end += 1
    if end - start > EVIDENCE_MAX:
        end = start + EVIDENCE_MAX
    if end <= start:
        end = min(len(text), start + 1)
    return start, end


def excerpt(text: str, start: int, end: int, width: int = EXCERPT_CHARS) -> str:
    """A window of at most ``width`` characters of ``text`` around [start, end), marked with … where cut."""
    if len(text) <= width:
        return text
    spare = max(0, width - (end - start))
    lo = max(0, start - spare // 2)
    hi = min(len(text), lo + width)
    lo = max(0, hi - width)
    return ("…" if lo > 0 else "") + text[lo:hi] + ("…" if hi < len(text) else "")


def _allow_regex(terms: list[str], domains: list[str]) -> re.Pattern[str] | None:
    from functions.guidelines.detectors import term_to_regex

    parts = [r"(?<![\w])(?:" + "|".join(term_to_regex(t) for t in terms) + r")(?![\w])"] if terms else []
    if domains:
        hosts = "|".join(re.escape(d) for d in domains)
        parts.append(r"(?:https?://)?(?:[a-z0-9\-]+\.)*(?:" + hosts + r")(?:/\S*)?")
    return re.compile("|".join(parts)) if parts else None


def _blank_allowed(views: Views, allow: re.Pattern[str]) -> Views:
    """Blank allowed terms and links out of every view (same length, so offsets still hold)."""
    spans = [m.span() for m in allow.finditer(views.norm)]
    if not spans:
        return views

    def blank(text: str) -> str:
        chars = list(text)
        for lo, hi in spans:
            chars[lo:hi] = " " * (hi - lo)
        return "".join(chars)

    return Views(blank(views.plain), blank(views.norm), blank(views.deleet), views.index)
