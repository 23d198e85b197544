"""The ``cooccurrence`` detector: groups of cues (target, harm, intensity, ...) that meet within a window.

A phrase list recognizes sentences it has seen; most violations are instead a *combination* of word
classes: a target (second person, a named doctor, an organization) with a harm verb and a future marker,
a brand with a hidden tie, a price with a contact channel. Each group is one compiled :class:`Matcher`
(terms in a prefix trie, patterns gated by their literals), so a rule costs one anchor scan per post that
passes the gate, and a bounded scan around each anchor hit for the other groups.

Example params::

    window: 12              # at most 12 words between the anchor cue and each other cue
    same_sentence: true     # and no sentence boundary between them
    threshold: 2.0          # sum of the weights of the groups found must reach this
    groups:
      harm:   {terms: [hurt, "burn down"], weight: 1.0, required: true}     # the first required group anchors
      target: {patterns: ["{@named}"], view: plain, weight: 1.0, required: true}
      intensity: {terms: [will, gonna], patterns: ["!!"], weight: 0.5}
    unless: [{terms: ["per the court record"], window: 80}]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from functions.guidelines.detectors import Detector, register
from functions.guidelines.matching import DetectorConfigError, Document, Gate, Hit, Matcher
from functions.guidelines.prefilter import TOKEN_RE

# A sentence ends at . ! ? ; or a line break followed by space/end; "Dr. X" and "3.5" do not end one.
_BOUNDARY = re.compile(r"(?<!\bdr)(?<!\bmr)(?<!\bms)(?<!\bmrs)(?<!\bst)(?<!\bprof)[.!?;]+(?:\s|$)|\n", re.IGNORECASE)
_GROUP_KEYS = {"terms", "patterns", "view", "weight", "required"}
_MATCHER_KEYS = {"terms", "patterns", "view"}
# Characters scanned around an anchor per word of window (words plus spaces are rarely longer on average).
_CHARS_PER_WORD = 14


@dataclass(slots=True)
class CueGroup:
    """One named class of cues with its weight; required groups must all be found."""

    name: str
    matcher: Matcher
    weight: float
    required: bool


@register("cooccurrence")
class Cooccurrence(Detector):
    """Fires when weighted cue groups co-occur near an anchor cue (same sentence and/or within N words).

    params: ``groups`` {name: {terms, patterns, view, weight, required}} (the first required group is the
    anchor), ``window`` (words between cues, default 12), ``same_sentence`` (default true), ``threshold``
    (sum of weights, default: the sum of the required weights), ``unless`` [{terms, patterns, view, window}],
    ``confidence`` (0..1, default 0.8). The hit spans every cue found, so the evidence shows why.
    """

    def __init__(self, params: dict[str, Any], *, extra_terms: list[str] | None = None):
        super().__init__(params)
        unknown = set(params) - {"groups", "window", "same_sentence", "threshold", "unless", "confidence"}
        if unknown:
            raise DetectorConfigError(sorted(unknown)[0], "unknown parameter (cooccurrence takes groups, window, "
                                      "same_sentence, threshold, unless, confidence)")
        self.groups = _groups(params.get("groups"), extra_terms)
        required = [g for g in self.groups if g.required]
        if not required:
            raise DetectorConfigError("groups", "at least one group must be required: true (the anchor)")
        self.anchor = required[0]
        # Required groups first (a miss ends the search early), cheap folded-text groups before original-case ones.
        self.others = sorted((g for g in self.groups if g is not self.anchor),
                             key=lambda g: (not g.required, g.matcher.view != "norm"))
        self.window = _positive_int(params, "window", 12)
        self.same_sentence = params.get("same_sentence", True)
        if not isinstance(self.same_sentence, bool):
            raise DetectorConfigError("same_sentence", "expected true or false")
        self.threshold = _number(params, "threshold", sum(g.weight for g in required))
        if self.threshold > sum(g.weight for g in self.groups):
            raise DetectorConfigError("threshold", "higher than the sum of all group weights: can never fire")
        unless = params.get("unless", [])
        if isinstance(unless, dict):
            unless = [unless]
        if not isinstance(unless, list):
            raise DetectorConfigError("unless", "expected a mapping or a list of mappings")
        self.unless = [Matcher.build(s, f"unless[{i}]") for i, s in enumerate(unless)]
        self.confidence = _number(params, "confidence", 0.8)
        if not 0.0 < self.confidence <= 1.0:
            raise DetectorConfigError("confidence", "must be a number in (0, 1]")
        self.reach = self.window * _CHARS_PER_WORD
        # Every required group must match: each known gate is a necessary condition, all are tested per post.
        self.required_gates = [g for g in (r.matcher.gate() for r in required) if g is not None]

    def gate(self) -> Gate:
        # Any required group's gate is valid for the engine's index; the one likely to open least is chosen.
        if not self.required_gates:
            return None
        return min(self.required_gates, key=_gate_cost)

    def find(self, doc: Document) -> Hit | None:
        norm = doc.views.norm
        for keys, substrings in self.required_gates:
            if keys.isdisjoint(doc.keys) and not any(s in norm for s in substrings):
                return None  # a required group cannot match: skip every scan
        for found in self.anchor.matcher.candidates(doc):
            start, end = found.span()
            if not _whole_word(doc.view(self.anchor.matcher.view), start, end):
                continue
            hit = self._around(doc, norm, start, end)
            if hit is not None:
                return hit
        return None

    def _around(self, doc: Document, norm: str, start: int, end: int) -> Hit | None:
        """Score the groups found near one anchor cue; a hit spanning the cues, or None."""
        score, lo, hi = self.anchor.weight, start, end
        for group in self.others:
            near = self._near(doc, norm, group.matcher, start, end)
            if near is None:
                if group.required:
                    return None
                continue
            score += group.weight
            lo, hi = min(lo, near[0]), max(hi, near[1])
        if score + 1e-9 < self.threshold:
            return None
        if any(g.search_near(doc, start, end) for g in self.unless):
            return None
        bonus = min(0.1, 0.05 * (score - self.threshold))
        return lo, hi, round(min(1.0, self.confidence + bonus), 4)

    def _near(self, doc: Document, norm: str, matcher: Matcher, start: int, end: int) -> tuple[int, int] | None:
        """The first match of ``matcher`` within the window of [start, end) (words, sentence), or None."""
        text = doc.view(matcher.view)
        lo, hi = max(0, start - self.reach), min(len(text), end + self.reach)
        for found in matcher.candidates(doc, lo, hi):
            m_start, m_end = found.span()
            if not _whole_word(text, m_start, m_end):
                continue
            gap = norm[m_end:start] if m_end <= start else norm[end:m_start] if m_start >= end else ""
            if len(TOKEN_RE.findall(gap)) > self.window:
                continue
            if self.same_sentence and _BOUNDARY.search(gap.rstrip()):
                continue
            return m_start, m_end
        return None


def _gate_cost(gate: tuple[frozenset[str], tuple[str, ...]]) -> int:
    """A rough count of posts a gate lets through: short keys and substrings ("." or "@") open most posts."""
    keys, substrings = gate
    return sum(1 if len(k) >= 4 else 3 if len(k) == 3 else 8 for k in keys) + sum(
        4 if len(s) >= 4 else 40 if len(s) >= 2 else 400 for s in substrings)


def _whole_word(text: str, start: int, end: int) -> bool:
    """False when a match was cut by the scan window's end inside a longer word ("kill" in "killer")."""
    return not (end < len(text) and end > start and text[end - 1].isalnum() and text[end].isalnum())


def _groups(raw: Any, extra_terms: list[str] | None) -> list[CueGroup]:
    if not isinstance(raw, dict) or not raw:
        raise DetectorConfigError("groups", "expected a mapping of group name to {terms, patterns, weight, required}")
    groups: list[CueGroup] = []
    for number, (name, spec) in enumerate(raw.items()):
        field = f"groups.{name}"
        if not isinstance(spec, dict):
            raise DetectorConfigError(field, "expected a mapping")
        unknown = set(spec) - _GROUP_KEYS
        if unknown:
            raise DetectorConfigError(f"{field}.{sorted(unknown)[0]}", "unknown key")
        weight = _number(spec, "weight", 1.0)
        if weight <= 0:
            raise DetectorConfigError(f"{field}.weight", "must be positive")
        required = spec.get("required", False)
        if not isinstance(required, bool):
            raise DetectorConfigError(f"{field}.required", "expected true or false")
        # An override's extra_terms extend the anchor, the group that names what the rule is about.
        extra = extra_terms if number == 0 else None
        matcher = Matcher.build({k: v for k, v in spec.items() if k in _MATCHER_KEYS}, field, extra_terms=extra)
        groups.append(CueGroup(str(name), matcher, float(weight), required))
    return groups


def _number(params: dict[str, Any], key: str, default: float) -> float:
    value = params.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise DetectorConfigError(key, "expected a number")
    return float(value)


def _positive_int(params: dict[str, Any], key: str, default: int) -> int:
    value = params.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise DetectorConfigError(key, "must be a positive integer")
    return value
