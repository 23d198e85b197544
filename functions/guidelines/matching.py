"""Matching on a post's views: shared pattern macros, term tries, and Matchers with their prefilters.

A :class:`Matcher` is one group of terms and patterns on one view (``{terms, patterns, view, window}`` in a
policy); detectors combine matchers. Terms compile into one prefix trie, gated by word keys; each pattern
is gated by the literal strings any match must contain (see :mod:`functions.guidelines.prefilter`).

Example::

    matcher = Matcher.build({"terms": ["watch your back"]}, "match")
    matches = matcher.candidates(document)
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from functions.guidelines.normalize import Views, fold
from functions.guidelines.prefilter import (
    KEY_LEN,
    PLACEHOLDER,
    TOKEN_RE,
    WORD_START,
    Substrings,
    literal_word_key,
    required_literal_sets,
    required_literals,
    term_key,
    trie_regex,
    word_key,
)

# A pattern's prefilter: (word keys, substrings); the pattern can match only if one key or substring is there.
# None: nothing is known, always scan.
Gate = tuple[frozenset[str], tuple[str, ...]] | None

Hit = tuple[int, int, float]
Check = tuple[frozenset[str], "Substrings | None"]
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
# Every word key some Matcher (or the engine's gate index) tests. A post's keys cut down to these give the same
# answer to every key test, and the tests then walk a few dozen keys instead of every word prefix of the post.
KNOWN_KEYS: set[str] = set()
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
    masked: bool | None = None  # whether the deleet view holds a masked word (f*ck), found on demand
    live_keys: frozenset[str] | None = None  # ``keys`` & KNOWN_KEYS, the keys any gate tests (None: use keys)

    def view(self, name: str) -> str:
        """The named view of the text."""
        if name == "thread":
            return self.thread
        return getattr(self.views, name)  # type: ignore[no-any-return]


_NO_MATCHES: Iterator[re.Match[str]] = iter(())
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


def string_list(params: dict[str, Any], key: str, field: str) -> list[str]:
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
    by_substring: tuple[tuple[int, Substrings], ...] = ()
    always: tuple[int, ...] = ()
    # Word-prefix keys of the terms, for scans cut short by a window: there a term may match the head of a
    # longer word ("murder" in "murder|er"), which the whole-word ``keys`` would rule out.
    cut_keys: frozenset[str] | None = None
    # Patterns that need no per-post gate work: none, or only key-gated ones.
    keyed_only: bool = True
    raw_test: Substrings | None = None  # the ``raw`` terms as one substring test
    # Per pattern number: every requirement of the pattern as (word keys, literal trie); all must pass before
    # a scan (the gate above opens on one requirement only, often a common word).
    checks: dict[int, tuple[Check, ...]] = field(default_factory=dict)
    # By term key: the word keys of each term with that key (whole words, a ``*`` stem's prefix). A full scan
    # is needed only when some term has all of them, not just its rarest one.
    term_words: dict[str, tuple[frozenset[str], ...]] | None = None

    def __post_init__(self) -> None:
        index: dict[str, list[int]] = {}
        by_substring: list[tuple[int, Substrings]] = []
        always: list[int] = []
        for number, (_regex, gate) in enumerate(self.patterns):
            if gate is None:
                always.append(number)
                continue
            for key in gate[0]:
                index.setdefault(key, []).append(number)
            if gate[1]:
                by_substring.append((number, Substrings(gate[1])))
        self.by_key = {key: tuple(numbers) for key, numbers in index.items()}
        self.pattern_keys = frozenset(index)
        self.by_substring = tuple(by_substring)
        self.always = tuple(always)
        self.keyed_only = not self.always and not self.by_substring
        KNOWN_KEYS.update(self.pattern_keys, self.keys or (), self.cut_keys or ())
        for word_sets in (self.term_words or {}).values():
            for words in word_sets:
                KNOWN_KEYS.update(words)
        for checks in self.checks.values():
            for words, _test in checks:
                KNOWN_KEYS.update(words)
        self.raw_test = Substrings(self.raw) if self.raw else None

    @classmethod
    def build(cls, spec: Any, field: str, *, default_view: str = "norm", extra_terms: list[str] | None = None
              ) -> Matcher:
        """Build from ``{terms, patterns, view, window}``."""
        if not isinstance(spec, dict):
            raise DetectorConfigError(field, "expected a mapping with terms and/or patterns")
        unknown = set(spec) - {"terms", "patterns", "view", "window"}
        if unknown:
            raise DetectorConfigError(f"{field}.{sorted(unknown)[0]}", "unknown key")
        terms = string_list(spec, "terms", f"{field}.terms") + list(extra_terms or [])
        patterns = string_list(spec, "patterns", f"{field}.patterns")
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
        term_regex, keys, raw, cut_keys, term_words = _compile_terms(terms, view, flags)
        checks = {n: c for n, c in enumerate(_checks(p, view) for p in patterns) if c}
        return cls(view, window, term_regex, keys, raw, _compile_patterns(patterns, field, flags, view),
                   cut_keys=cut_keys, checks=checks, term_words=term_words)

    def candidates(self, doc: Document, lo: int = 0, hi: int | None = None) -> Iterator[re.Match[str]]:
        """Matches in the view (terms first), lazily, skipping scans the prefilters rule out."""
        text = doc.views.norm if self.view == "norm" else doc.view(self.view)
        size = len(text)
        end = size if hi is None else hi
        scans: list[Iterator[re.Match[str]]] = []
        live = doc.live_keys if doc.live_keys is not None else doc.keys
        if self.terms is not None:
            if end < size:
                keyed = self.cut_keys is None or not self.cut_keys.isdisjoint(live)
            else:
                keyed = self.keys is None or self._some_term_whole(live)
            if keyed or (self.raw_test and self.raw_test.found(text)):
                scans.append(self.terms.finditer(text, lo, end))
        if self.patterns:
            if self.keyed_only:
                opened = self.pattern_keys & live
                if opened:
                    todo = {n for key in opened for n in self.by_key[key]}
                    scans.extend(self.patterns[n][0].finditer(text, lo, end) for n in sorted(todo)
                                 if n not in self.checks or _passes(self.checks[n], live, text))
            else:
                scans.extend(self.patterns[n][0].finditer(text, lo, end) for n in self._open_patterns(live, text)
                             if n not in self.checks or _passes(self.checks[n], live, text))
        if not scans:
            return _NO_MATCHES
        return scans[0] if len(scans) == 1 else chain.from_iterable(scans)

    def possible(self, doc: Document) -> bool:
        """Whether a scan of any window of the post could find a match (False: every ``candidates`` is empty).

        The tests of a window-cut scan (prefix keys for terms) are used, the loosest the matcher has.
        """
        text = doc.views.norm if self.view == "norm" else doc.view(self.view)
        live = doc.live_keys if doc.live_keys is not None else doc.keys
        if self.terms is not None and (self.cut_keys is None or not self.cut_keys.isdisjoint(live)
                                       or (self.raw_test and self.raw_test.found(text))):
            return True
        if not self.patterns:
            return False
        if self.keyed_only:
            numbers: Iterable[int] = {n for key in self.pattern_keys & live for n in self.by_key[key]}
        else:
            numbers = self._open_patterns(live, text)
        for number in numbers:  # noqa: SIM110  (a loop: any() over a generator is slower on this hot path)
            if number not in self.checks or _passes(self.checks[number], live, text):
                return True
        return False

    def _some_term_whole(self, live: frozenset[str]) -> bool:
        """Whether every word of some keyed term is among the post's keys (full-text scans only)."""
        assert self.keys is not None and self.term_words is not None
        for key in self.keys.intersection(live):
            for words in self.term_words[key]:
                if words.issubset(live):
                    return True
        return False

    def _open_patterns(self, keys: frozenset[str], text: str) -> list[int]:
        todo = set(self.always)
        for key in self.pattern_keys & keys:
            todo.update(self.by_key[key])
        for number, test in self.by_substring:
            if number not in todo and test.found(text):
                todo.add(number)
        return sorted(todo)

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
        first = next(matches, None)
        return first.span() if first is not None else None


_Terms = tuple[re.Pattern[str] | None, frozenset[str] | None, tuple[str, ...], frozenset[str] | None,
               dict[str, tuple[frozenset[str], ...]] | None]


def _compile_terms(terms: list[str], view: str, flags: int) -> _Terms:
    """The terms' trie regex, whole-word keys, unkeyable raw terms, prefix keys for window-cut scans, and
    each key's terms as the sets of word keys they need."""
    if not terms:
        return None, None, (), None, None
    regex = re.compile(r"(?<![\w])" + trie_regex(term_atoms(t) for t in terms) + r"(?![\w])", flags)
    if view != "norm":
        return regex, None, (), None, None
    keys: set[str] = set()
    cut_keys: set[str] = set()
    raw: list[str] = []
    words: dict[str, list[frozenset[str]]] = {}
    for term in terms:
        folded = fold(term.strip())
        key = word_key(folded)
        if key is not None:
            keys.add(key)
            cut_keys.add(term_key(folded) or key)
            words.setdefault(key, []).append(_term_words(folded) | {key})
        elif re.search(r"[a-z0-9]", fold(term)):
            return regex, None, (), None, None  # a short wildcard stem: cannot be keyed, always scan
        else:
            raw.append(folded.rstrip("*"))
    return regex, frozenset(keys), tuple(raw), frozenset(cut_keys), {k: tuple(v) for k, v in words.items()}


def _term_words(folded_term: str) -> frozenset[str]:
    """Word keys every post a term matches holds: each of its words whole, a ``*`` stem's first 2-4 letters."""
    tokens = TOKEN_RE.findall(folded_term.rstrip("*"))
    wild = folded_term.endswith("*")
    needed = set()
    for number, token in enumerate(tokens):
        if wild and number == len(tokens) - 1:
            if len(token) >= 2:
                needed.add(token[:KEY_LEN])
        else:
            needed.add(token)
    return frozenset(needed)


def _passes(checks: tuple[Check, ...], keys: frozenset[str], text: str) -> bool:
    """Whether a post meets every requirement of a pattern (a word key or a literal of each)."""
    for words, test in checks:  # noqa: SIM110  (a loop: all() over a generator is slower on this hot path)
        if words.isdisjoint(keys) and (test is None or not test.found(text)):
            return False
    return True


def _checks(pattern: str, view: str) -> tuple[Check, ...]:
    """Every requirement of a norm-view pattern as a check; none where case folding inside it could fool one."""
    if view != "norm" or "(?i" in pattern or "(?a" in pattern:
        return ()
    marked = _MACRO_REF.sub(lambda m: re.escape(PLACEHOLDER.format(m.group(1))), pattern)
    checks: list[Check] = []
    for needed in required_literal_sets(marked, 0, MACRO_GATES):
        gate = _gate(needed, view)
        if gate is not None:
            checks.append((gate[0], Substrings(gate[1]) if gate[1] else None))
    return tuple(checks)


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
        key = literal_word_key(literal) if view == "norm" else None
        if key is None:
            substrings.append(literal.lstrip(WORD_START))
        else:
            keys.add(key)
    return frozenset(keys), tuple(sorted(substrings, key=len, reverse=True))
