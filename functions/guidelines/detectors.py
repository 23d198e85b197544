"""Detectors: small classes found by name through a registry, configured by a rule's ``params``.

A new detector is a class with ``@register("name")``; the policy refers to it by that name.
Every detector works on a :class:`Document` (the post with its normalized views, built once)
and returns the strongest :data:`Hit` (start, end, confidence) in view offsets, or None.

Example::

    @register("always")
    class Always(Detector):
        def find(self, doc: Document) -> Hit | None:
            return (0, 0, 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from functions.guidelines.matching import (
    DetectorConfigError,
    Document,
    Gate,
    Hit,
    Matcher,
    string_list,
    term_atoms,
    term_to_regex,
)
from functions.guidelines.normalize import fold
from functions.guidelines.prefilter import deleet_keys, term_key, trie_regex

# term_atoms / term_to_regex are re-exported: other modules (and the benchmark) build tries from policy terms.
__all__ = ["DETECTORS", "Detector", "DetectorConfigError", "Document", "Hit", "register", "term_atoms",
           "term_to_regex"]

class Detector:
    """Base class: build from params once (compile everything), then ``find`` per post."""

    name: ClassVar[str] = ""

    def __init__(self, params: dict[str, Any]):
        self.params = params

    def gate(self) -> Gate:
        """Word keys / substrings one of which a post must contain to match (None: no cheap test known)."""
        return None

    def find(self, doc: Document) -> Hit | None:
        """Return the strongest hit in ``doc`` or None."""
        raise NotImplementedError


DETECTORS: dict[str, type[Detector]] = {}


def register(name: str) -> Callable[[type[Detector]], type[Detector]]:
    """Class decorator that makes a detector available to policies under ``name``."""

    def wrap(cls: type[Detector]) -> type[Detector]:
        cls.name = name
        DETECTORS[name] = cls
        return cls

    return wrap


@register("phrases")
class Phrases(Detector):
    """Terms/patterns, optionally required ``near`` other groups, vetoed by ``unless`` groups.

    params: ``match`` {terms, patterns, view}, ``near`` [{terms, patterns, view, window}],
    ``unless`` [{terms, patterns, view, window}], ``confidence`` (0..1).
    """

    def __init__(self, params: dict[str, Any], *, extra_terms: list[str] | None = None):
        super().__init__(params)
        unknown = set(params) - {"match", "near", "unless", "confidence"}
        if unknown:
            raise DetectorConfigError(sorted(unknown)[0], "unknown parameter (phrases takes match, near, unless, "
                                      "confidence)")
        if "match" not in params:
            raise DetectorConfigError("match", "missing")
        self.primary = Matcher.build(params["match"], "match", extra_terms=extra_terms)
        self.near = [Matcher.build(s, f"near[{i}]") for i, s in enumerate(_spec_list(params, "near"))]
        self.unless = [Matcher.build(s, f"unless[{i}]") for i, s in enumerate(_spec_list(params, "unless"))]
        self.confidence = _confidence(params)

    def gate(self) -> Gate:
        return self.primary.gate()

    def find(self, doc: Document) -> Hit | None:
        for group in self.near:  # a required group that cannot match anywhere: skip the primary scan
            if not group.possible(doc):
                return None
        for found in self.primary.candidates(doc):
            start, end = found.span()
            span_start, span_end, ok = start, end, True
            for group in self.near:
                near = group.search_near(doc, start, end)
                if near is None:
                    ok = False
                    break
                if group.window is not None:
                    span_start, span_end = min(span_start, near[0]), max(span_end, near[1])
            if not ok or any(g.search_near(doc, start, end) for g in self.unless):
                continue
            return span_start, span_end, self.confidence
        return None


def _spec_list(params: dict[str, Any], key: str) -> list[Any]:
    value = params.get(key, [])
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise DetectorConfigError(key, "expected a mapping or a list of mappings")
    return value


def _confidence(params: dict[str, Any]) -> float:
    value = params.get("confidence", 0.8)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 < float(value) <= 1.0:
        raise DetectorConfigError("confidence", "must be a number in (0, 1]")
    return float(value)


_SUFFIXES = ("", "s", "es", "ing", "in", "ed", "er", "ers", "y", "ty", "head", "heads", "hole", "holes", "face",
             "show", "shows", "storm", "bag", "bags", "load", "ter", "tard", "wit")
_MASK = "*#%!?"
# A mask inside a word (sh!t, f*ck) or a star/hash after letters (f***); "great!" is punctuation.
_HAS_MASK = re.compile(r"[a-z][*#%!?]+[a-z]|[a-z][*#%]")
_MASKED_TOKEN = re.compile(r"(?<![\w*#%!?])[a-z][a-z*#%!?]*[*#%!?][a-z*#%!?]*(?![\w*#%!?])")
_SPACED = re.compile(r"(?<![\w])(?:[a-z][ .\-_*/]{1,2}){2,}[a-z](?![\w])")


def _made_of_digits(norm: str, start: int, end: int) -> bool:
    """Whether a deleet-view match stands on digits with under two real letters (a code, not a swear word)."""
    span = norm[start:end]
    return any(c.isdigit() for c in span) and sum(c.isalpha() for c in span) < 2


@register("obfuscated_terms")
class ObfuscatedTerms(Detector):
    """A word list that survives leetspeak, masking (f*ck), spacing (s h i t), elongation and look-alikes.

    params: ``terms`` (words; ``*`` = any ending), ``unless`` [{terms, patterns, window}], ``confidence``,
    ``masked_min_letters`` (visible letters a masked word needs, default 2; 1 lets "f***" count).
    """

    def __init__(self, params: dict[str, Any], *, extra_terms: list[str] | None = None):
        super().__init__(params)
        unknown = set(params) - {"terms", "unless", "confidence", "masked_min_letters"}
        if unknown:
            raise DetectorConfigError(sorted(unknown)[0], "unknown parameter (obfuscated_terms takes terms, unless, "
                                      "confidence, masked_min_letters)")
        self.masked_min_letters = params.get("masked_min_letters", 2)
        if self.masked_min_letters not in (1, 2, 3):
            raise DetectorConfigError("masked_min_letters", "must be 1, 2 or 3")
        terms = string_list(params, "terms", "terms") + list(extra_terms or [])
        if not terms:
            raise DetectorConfigError("terms", "needs at least one term")
        words: list[str] = []
        sequences: list[list[str]] = []
        for term in terms:
            folded = fold(term.strip())
            stem = folded.rstrip("*")
            wild = folded.endswith("*")
            # Elongation: every letter may repeat (fuuuck, shiiit).
            atoms = [re.escape(ch) + "+" if ch.isalpha() else (r"[\s\-_.]+" if ch == " " else re.escape(ch))
                     for ch in stem]
            sequences.append(atoms + [r"[a-z]*" if wild else r"(?:s|es|ed|ing|in)?"])
            words.extend(stem + s for s in (_SUFFIXES if wild else ("", "s")))
        self.regex = re.compile(r"(?<![a-z])" + trie_regex(sequences) + r"(?![a-z])")
        keyed = [(t, term_key(fold(t.strip()))) for t in terms]
        self.keys = frozenset(k for _t, k in keyed if k)
        self.raw = tuple(fold(t.strip()).rstrip("*") for t, k in keyed if k is None)  # emoji: substring test
        self.vocabulary = "\n" + "\n".join(sorted(set(words))) + "\n"
        self.unless = [Matcher.build(s, f"unless[{i}]") for i, s in enumerate(_spec_list(params, "unless"))]
        self.confidence = _confidence(params)

    def _vetoed(self, doc: Document, start: int, end: int) -> bool:
        return any(g.search_near(doc, start, end) for g in self.unless)

    def find(self, doc: Document) -> Hit | None:
        text = doc.views.deleet
        if doc.deleet_keys is None:
            doc.deleet_keys = deleet_keys(doc.views.norm, text, doc.keys)
        if not self.keys.isdisjoint(doc.deleet_keys) or any(r in text for r in self.raw):
            for found in self.regex.finditer(text):
                if _made_of_digits(doc.views.norm, *found.span()):
                    continue  # "4F" is a drug-name suffix, not leetspeak for "af"
                if not self._vetoed(doc, *found.span()):
                    return found.start(), found.end(), self.confidence
        if doc.masked is None:
            doc.masked = _HAS_MASK.search(text) is not None
        if doc.masked:
            for token in _MASKED_TOKEN.finditer(text):
                if self._masked_word_matches(token.group().rstrip("!?")) and not self._vetoed(doc, *token.span()):
                    return token.start(), token.end(), self.confidence * 0.95
        if doc.spaced is None:
            doc.spaced = [(m.start(), m.end(), re.sub(r"[^a-z]", "", m.group())) for m in _SPACED.finditer(text)]
        for start, end, joined in doc.spaced:
            if self.regex.fullmatch(joined) and not self._vetoed(doc, start, end):
                return start, end, self.confidence * 0.95
        return None

    def _masked_word_matches(self, token: str) -> bool:
        letters = sum(ch.isalpha() for ch in token)
        masks = len(token) - letters
        # "f***" (one letter, several masks) reads as a word only where the policy allows it (profanity);
        # "a*" or "f*" alone never does.
        if len(token) < 3 or letters < self.masked_min_letters or (letters < 2 and masks < 2):
            return False
        if not any(ch in _MASK for ch in token):
            return bool(self.regex.fullmatch(token))
        # Tokens hold only letters and mask characters, so the letters need no escaping.
        pattern = re.sub(r"[*#%!?]+", lambda m: f"[a-z]{{1,{len(m.group()) + 1}}}", token)
        return re.search(r"\n" + pattern + r"\n", self.vocabulary) is not None


@register("link_domains")
class LinkDomains(Detector):
    """Links to listed domains (petition sites, URL shorteners, shops), optionally near cue words.

    params: ``domains`` (list; a domain matches itself and its subdomains), ``near`` [{terms, patterns, window}],
    ``unless``, ``confidence``.
    """

    _LINK = re.compile(r"(?:https?://)?(?:www\.)?((?:[a-z0-9\-]+\.)+[a-z]{2,})(?:/[^\s]*)?")

    def __init__(self, params: dict[str, Any], *, extra_terms: list[str] | None = None):
        super().__init__(params)
        unknown = set(params) - {"domains", "near", "unless", "confidence"}
        if unknown:
            raise DetectorConfigError(sorted(unknown)[0], "unknown parameter (link_domains takes domains, near, "
                                      "unless, confidence)")
        domains = string_list(params, "domains", "domains") + list(extra_terms or [])
        if not domains:
            raise DetectorConfigError("domains", "needs at least one domain")
        self.domains = tuple(d.lower().lstrip(".") for d in domains)
        self.near = [Matcher.build(s, f"near[{i}]") for i, s in enumerate(_spec_list(params, "near"))]
        self.unless = [Matcher.build(s, f"unless[{i}]") for i, s in enumerate(_spec_list(params, "unless"))]
        self.confidence = _confidence(params)

    def gate(self) -> Gate:
        return frozenset(), self.domains

    def find(self, doc: Document) -> Hit | None:
        text = doc.views.norm
        if "." not in text:
            return None
        for found in self._LINK.finditer(text):
            host = found.group(1)
            if not any(host == d or host.endswith("." + d) for d in self.domains):
                continue
            start, end = found.span()
            if any(g.search_near(doc, start, end) is None for g in self.near):
                continue
            if any(g.search_near(doc, start, end) for g in self.unless):
                continue
            return start, end, self.confidence
        return None
