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
from dataclasses import dataclass, field
from typing import Any, ClassVar

from functions.guidelines.normalize import Views, fold
from functions.guidelines.prefilter import (
    PLACEHOLDER,
    WORD_START,
    elongation_keys,
    literal_key,
    required_literals,
    term_key,
    trie_regex,
)

# A pattern's prefilter: (word keys, substrings); the pattern can match only if one key or substring is there.
# None: nothing is known, always scan.
Gate = tuple[frozenset[str], tuple[str, ...]] | None

Hit = tuple[int, int, float]
# norm: folded text; deleet: norm with leetspeak undone; plain: original case; thread: the author's own parent post
VIEWS = ("norm", "deleet", "plain", "thread")

# Reusable pieces for rule patterns, written ``{@name}`` inside a pattern.
MACROS: dict[str, str] = {
    "phone": r"(?<![\w+])(?:\+?\d{1,3}[ .\-]?)?(?:\(\d{3}\)|\d{3})[ .\-]?\d{3}[ .\-]?\d{4}(?!\d)"
    r"|(?<![\w])\+\d{1,3}(?:[ .\-]?\d{2,4}){2,4}(?!\d)|(?<!\d)555[ .\-]\d{4}(?!\d)",
    "email": r"[\w.+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}",
    "url": r"(?:https?://|www\.)\S+|\b[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|org|net|io|ly|gl|gd|at|me|co|shop|store"
    r"|biz|info|link|xyz|site|online|example|cc|to|app)(?:/\S*)?",
    "street": r"\b\d{1,5}\s+(?:[a-z][a-z.'\-]*\s+){1,3}(?:street|st|avenue|ave|road|rd|court|ct|lane|ln|drive|dr"
    r"|boulevard|blvd|way|place|pl|terrace|circle|cir|parkway|pkwy|highway|hwy|calle|rue|avenida)\b",
    "money": r"(?:[$€£]\s?[1-9][\d,.]*\s?(?:k|m|mil|million|figures?)?"
    r"|\d[\d,.]*\s?(?:k\s)?(?:dollars|usd|euros?|bucks))",
    "per_period": r"(?:/|\s?(?:per|a|an|every|each|/)\s?)(?:day|week|wk|month|mo|hour|hr|year)\b",
    # A named person or organization, on the original-case view.
    "named": r"(?:\b(?:Dr|Prof|Professor|Mr|Mrs|Ms|Sen|Senator|Rep|Nurse)\.?\s+[A-Z][\w'\-]+"
    r"|@\w{2,}"
    r"|\b(?!(?:The|This|That|These|Those|They|He|She|We|It|Everyone|Everybody|Nobody|Someone|Anyone|You|Our|My"
    r"|His|Her|Their|Yes|No|And|But|So|If|As|In|On|At|For|Fact|Just|Also|Why|What|How|When|Who|Honestly|Sure"
    r"|Ask|Look|Well|Oh|Wow|Lol|Imagine|I|A|An|Not|Never|All|Some|Many|Most|Because|Everyone's|There|Here"
    r"|Apparently|Word|Rumor|Funny|Interesting|Remember|Note|Sources|Source|Insiders)\b)"
    r"[A-Z][\w'\-]*[a-zA-Z](?:\s+(?:of\s+|at\s+)?[A-Z][\w'\-]+)*"
    r"|\b(?i:the|their|our|your|this|that|its|his|her)\s+"
    r"(?:(?i:medical|program|clinical|executive|course|managing|nursing|residency|research)\s+)?"
    r"(?i:head of \w+|ceo|cfo|coo|cmo|director|program\s+director|dean|chair|chief\w*"
    r"|president|owner|founder|speaker|presenter|author|editor|company|hospital|department|organization|society"
    r"|board|committee|faculty|manager|provider|vendor|sponsor|lab|clinic|firm|keynote|moderator|panelist|host)\b)",
}
_MACRO_REF = re.compile(r"\{@(\w+)\}")
_DIGITS = set("0123456789")
# Strings one of which every match of a macro contains (prefilter); a macro without an entry cannot gate.
MACRO_GATES: dict[str, set[str]] = {
    "phone": _DIGITS,
    "email": {"@"},
    "url": {"."},
    "street": _DIGITS,
    "money": {"$", "€", "£", "dollar", "usd", "euro", "buck"},
}


class DetectorConfigError(ValueError):
    """A detector's params do not fit; names the field."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(slots=True)
class Document:
    """One post prepared for the detectors: views of its text and the context that matters."""

    text: str
    views: Views
    is_org: bool
    kind: str
    has_parent: bool
    thread: str  # normalized text of the parent post when the same author wrote it (a thread), else ""
    keys: frozenset[str]
    spaced: list[tuple[int, int, str]] | None = None
    deleet_keys: frozenset[str] | None = None  # word keys of the deleet view (elongation-aware), built on demand

    def view(self, name: str) -> str:
        """The named view of the text."""
        if name == "thread":
            return self.thread
        return getattr(self.views, name)  # type: ignore[no-any-return]


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


_SEP = r"[\s\-_.,:;'\"]+"
_WILD = r"[\w'\-]*"


def term_atoms(term: str) -> list[str]:
    """A policy term as regex atoms: folded letters, any non-word run between words, ``*`` = any word ending."""
    folded = fold(term.strip())
    words = [w for w in re.split(r"\s+", folded.rstrip("*")) if w]
    atoms: list[str] = []
    for number, word in enumerate(words):
        if number:
            atoms.append(_SEP)
        atoms.extend(re.escape(ch) for ch in word)
    if folded.endswith("*"):
        atoms.append(_WILD)
    return atoms


def term_to_regex(term: str) -> str:
    """A policy term as one regex (see :func:`term_atoms`)."""
    return "".join(term_atoms(term))


def expand_macros(pattern: str, field: str) -> str:
    """Replace ``{@name}`` references with the library pattern."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in MACROS:
            raise DetectorConfigError(field, f"unknown macro {{@{name}}} (known: {', '.join(sorted(MACROS))})")
        return f"(?:{MACROS[name]})"

    return _MACRO_REF.sub(sub, pattern)


def _string_list(params: dict[str, Any], key: str, field: str) -> list[str]:
    value = params.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DetectorConfigError(field, "expected a list of non-empty strings")
    return value


@dataclass(slots=True)
class Matcher:
    """Compiled terms (a prefix trie, gated by word keys) and patterns (gated by required literals) on one view."""

    view: str
    window: int | None
    terms: re.Pattern[str] | None
    keys: frozenset[str] | None  # None: the terms cannot be gated by keys, always scan
    raw: tuple[str, ...]  # terms without a word key (emoji, symbols), checked as substrings
    patterns: list[tuple[re.Pattern[str], Gate]]  # each with its gate
    # Index of the patterns by gate: which to scan for the word keys a post has, which need a substring test.
    by_key: dict[str, tuple[int, ...]] = field(default_factory=dict)
    pattern_keys: frozenset[str] = frozenset()
    by_substring: tuple[tuple[int, tuple[str, ...]], ...] = ()
    always: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        index: dict[str, list[int]] = {}
        by_substring: list[tuple[int, tuple[str, ...]]] = []
        always: list[int] = []
        for number, (_regex, gate) in enumerate(self.patterns):
            if gate is None:
                always.append(number)
                continue
            for key in gate[0]:
                index.setdefault(key, []).append(number)
            if gate[1]:
                by_substring.append((number, gate[1]))
        self.by_key = {key: tuple(numbers) for key, numbers in index.items()}
        self.pattern_keys = frozenset(index)
        self.by_substring = tuple(by_substring)
        self.always = tuple(always)

    @classmethod
    def build(cls, spec: Any, field: str, *, default_view: str = "norm", extra_terms: list[str] | None = None
              ) -> Matcher:
        """Build from ``{terms, patterns, view, window}``."""
        if not isinstance(spec, dict):
            raise DetectorConfigError(field, "expected a mapping with terms and/or patterns")
        unknown = set(spec) - {"terms", "patterns", "view", "window"}
        if unknown:
            raise DetectorConfigError(f"{field}.{sorted(unknown)[0]}", "unknown key")
        terms = _string_list(spec, "terms", f"{field}.terms") + list(extra_terms or [])
        patterns = _string_list(spec, "patterns", f"{field}.patterns")
        if not terms and not patterns:
            raise DetectorConfigError(field, "needs at least one of terms, patterns")
        view = spec.get("view", default_view)
        if view not in VIEWS:
            raise DetectorConfigError(f"{field}.view", f"must be one of {', '.join(VIEWS)}")
        window = spec.get("window")
        if window is not None and (not isinstance(window, int) or isinstance(window, bool) or window < 1):
            raise DetectorConfigError(f"{field}.window", "must be a positive integer (characters)")
        # The norm and deleet views are already lower case; only the original-case view needs no flag either.
        flags = 0
        term_regex, keys, raw = _compile_terms(terms, view, flags)
        return cls(view, window, term_regex, keys, raw, _compile_patterns(patterns, field, flags, view))

    def candidates(self, doc: Document, lo: int = 0, hi: int | None = None) -> list[re.Match[str]]:
        """Every match in the view (terms first), skipping scans the prefilters rule out."""
        text = doc.view(self.view)
        end = len(text) if hi is None else hi
        found: list[re.Match[str]] = []
        if self.terms is not None and (self.keys is None or not self.keys.isdisjoint(doc.keys)
                                       or any(r in text for r in self.raw)):
            found.extend(self.terms.finditer(text, lo, end))
        if not self.patterns:
            return found
        todo = set(self.always)
        for key in self.pattern_keys & doc.keys:
            todo.update(self.by_key[key])
        for number, substrings in self.by_substring:
            if number not in todo and any(g in text for g in substrings):
                todo.add(number)
        for number in sorted(todo):
            found.extend(self.patterns[number][0].finditer(text, lo, end))
        return found

    def gate(self) -> Gate:
        """One prefilter for the whole matcher (keys, substrings), or None when some part cannot be gated."""
        if self.view != "norm":
            return None
        keys: set[str] = set()
        substrings: list[str] = list(self.raw)
        if self.terms is not None:
            if self.keys is None:
                return None
            keys |= self.keys
        for _regex, gate in self.patterns:
            if gate is None:
                return None
            keys |= gate[0]
            substrings.extend(gate[1])
        return frozenset(keys), tuple(sorted(set(substrings), key=len, reverse=True))

    def search_near(self, doc: Document, start: int, end: int) -> tuple[int, int] | None:
        """A match within ``window`` characters of [start, end), or anywhere without a window."""
        if self.window is None or self.view == "thread":
            matches = self.candidates(doc)
        else:
            matches = self.candidates(doc, max(0, start - self.window), end + self.window)
        return matches[0].span() if matches else None


def _compile_terms(terms: list[str], view: str, flags: int
                   ) -> tuple[re.Pattern[str] | None, frozenset[str] | None, tuple[str, ...]]:
    if not terms:
        return None, None, ()
    regex = re.compile(r"(?<![\w])" + trie_regex(term_atoms(t) for t in terms) + r"(?![\w])", flags)
    if view != "norm":
        return regex, None, ()
    keys: set[str] = set()
    raw: list[str] = []
    for term in terms:
        key = term_key(fold(term.strip()))
        if key is not None:
            keys.add(key)
        elif re.search(r"[a-z0-9]", fold(term)):
            return regex, None, ()  # a short wildcard stem: cannot be keyed, always scan
        else:
            raw.append(fold(term.strip()).rstrip("*"))
    return regex, frozenset(keys), tuple(raw)


def _compile_patterns(patterns: list[str], field: str, flags: int, view: str
                      ) -> list[tuple[re.Pattern[str], Gate]]:
    compiled = []
    for number, pattern in enumerate(patterns):
        text = expand_macros(pattern, f"{field}.patterns[{number}]")
        try:
            regex = re.compile(text, flags)
        except re.error as exc:
            raise DetectorConfigError(f"{field}.patterns[{number}]", f"invalid regex: {exc}") from None
        marked = _MACRO_REF.sub(lambda m: re.escape(PLACEHOLDER.format(m.group(1))), pattern)
        compiled.append((regex, _gate(required_literals(marked, flags, MACRO_GATES), view)))
    return compiled


def _gate(needed: set[str] | None, view: str) -> Gate:
    """Word keys for required strings that start a word (norm view only), substrings for the others."""
    if not needed:
        return None
    keys: set[str] = set()
    substrings: list[str] = []
    for literal in needed:
        key = literal_key(literal) if view == "norm" else None
        if key is None:
            substrings.append(literal.lstrip(WORD_START))
        else:
            keys.add(key)
    return frozenset(keys), tuple(sorted(substrings, key=len, reverse=True))


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
        terms = _string_list(params, "terms", "terms") + list(extra_terms or [])
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
            doc.deleet_keys = elongation_keys(text)
        if not self.keys.isdisjoint(doc.deleet_keys) or any(r in text for r in self.raw):
            for found in self.regex.finditer(text):
                if not self._vetoed(doc, *found.span()):
                    return found.start(), found.end(), self.confidence
        if _HAS_MASK.search(text):
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
        domains = _string_list(params, "domains", "domains") + list(extra_terms or [])
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
