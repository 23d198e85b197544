"""Cheap prefilters that let the engine skip a rule's regexes on posts that cannot match.

Three tools, all computed once (at policy load, or once per post):
- ``token_keys``: the set of word keys of a text (first 4 letters of each word, or the whole short word);
  a term can only match when its first word's key is in the set.
- ``required_literals``: strings one of which every match of a regex must contain (None when unknown),
  read from the parsed regex; a trie of them is searched before the real pattern.
- ``trie_regex``: an alternation factored by common prefixes, which Python's ``re`` scans much faster
  than a flat list of alternatives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from functions.guidelines.normalize import LEET_TABLE

try:  # Python 3.11+
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - older interpreters
    import sre_parse  # type: ignore[no-redef]

TOKEN_RE = re.compile(r"[a-z0-9]+")
# Words in most posts make useless keys; a key is taken from another word of the same phrase when possible.
_COMMON_WORDS = """
a an the and or but if so as at by for from in into of on onto to with without about over under up out off
i me my mine we us our ours you your yours he him his she her hers it its they them their theirs this that these
those is are was were be been being am do does did done have has had will would shall should can could may might
must not no yes all any every each some just only also very really too than then there here now what which who whom
when where why how get got make made go going come see know like one more most such own same other
"""
STOPWORDS = frozenset(_COMMON_WORDS.split())
KEY_LEN = 4
MIN_LITERAL = 3


def key_of(token: str) -> str:
    """The prefilter key of one word."""
    return token[:KEY_LEN]


def token_keys(text: str) -> frozenset[str]:
    """Keys of every word of an already-normalized text: the whole word and its first 4, 3 and 2 letters."""
    tokens = TOKEN_RE.findall(text)
    keys = set(tokens)
    for token in tokens:
        if len(token) > 2:  # a shorter word is its own prefix keys
            keys.add(token[:2])
            keys.add(token[:3])
            keys.add(token[:KEY_LEN])
    return frozenset(keys)


def term_key(folded_term: str) -> str | None:
    """Key of the rarest-looking (longest) word of a folded term, or None when the term has no word.

    Any word works as a key, since the term matches only when all its words are there; the longest one
    is the least likely to be in an unrelated post. Short words and stems key on their 2-3 letters,
    which posts carry as prefix keys of their words.
    """
    tokens = TOKEN_RE.findall(folded_term.rstrip("*"))
    if not tokens:
        return None
    word = max(tokens, key=lambda t: (t not in STOPWORDS, len(t)))
    return word[:KEY_LEN] if len(word) >= 2 else None


def word_key(folded_term: str) -> str | None:
    """Like :func:`term_key`, but the whole word when the term holds it whole (every word but a ``*`` stem).

    A term's regex only matches with a non-word character (or the text's end) on both sides of each of its
    words, so a post it matches has that exact word among its tokens: "share" no longer opens on "shareholder".
    """
    stem = folded_term.rstrip("*")
    tokens = TOKEN_RE.findall(stem)
    if not tokens:
        return None
    number, word = max(enumerate(tokens), key=lambda item: (item[1] not in STOPWORDS, len(item[1])))
    if len(word) < 2:
        return None
    prefix_only = folded_term.endswith("*") and number == len(tokens) - 1
    return word[:KEY_LEN] if prefix_only else word


def literal_word_key(literal: str) -> str | None:
    """Like :func:`literal_key`, but the whole word when a space follows it in ``literal`` (so it ends there)."""
    bare = literal.lstrip(WORD_START)
    if not literal.startswith(WORD_START) and not bare.startswith(" "):
        return None
    words = bare.strip(" ").split(" ")
    usable = [(n, w) for n, w in enumerate(words) if w and TOKEN_RE.fullmatch(w)]
    if not usable or (usable[0][0] != 0 and len(words) == 1):
        return None
    number, word = max(usable, key=lambda item: (item[1] not in STOPWORDS, len(item[1])))
    if len(word) < 2:
        return None
    whole = number < len(words) - 1 or bare.endswith(" ")
    return word if whole else word[:KEY_LEN]


_ELONGATED = re.compile(r"([a-z])\1\1")
_RUN = re.compile(r"([a-z])\1{2,}")


# A run of word and leet characters; leetspeak changed it when it holds one of the leet characters.
_LEET_RUN = re.compile(r"[a-z0-9@$€+]+")
_LEET_CHAR = re.compile(r"[0-9@$€+]")


def deleet_keys(norm: str, deleet: str, keys: frozenset[str]) -> frozenset[str]:
    """Word keys of the deleet view, built from the norm view's ``keys`` plus the few words leetspeak changes."""
    if _ELONGATED.search(deleet):
        return elongation_keys(deleet)
    if _LEET_CHAR.search(norm) is None:
        return keys
    # Runs of only a-z are unchanged by leetspeak; their keys are in ``keys`` already.
    changed = [run for run in _LEET_RUN.findall(norm) if not run.isalpha()]
    if not changed:
        return keys
    return keys | token_keys(" ".join(changed).translate(LEET_TABLE))


def elongation_keys(text: str) -> frozenset[str]:
    """Word keys of ``text``, plus those of its words with stretched letters cut to one and to two
    ("fuuuck" -> "fuck", "asssss" -> "ass"), so elongated spellings still reach their rules."""
    keys = token_keys(text)
    if _ELONGATED.search(text):
        keys = keys | token_keys(_RUN.sub(r"\1", text)) | token_keys(_RUN.sub(r"\1\1", text))
    return keys


def trie_regex(sequences: Iterable[Sequence[str]]) -> str:
    """One alternation regex over sequences of regex atoms, factored by common prefixes."""
    root: dict[str, dict] = {}
    for atoms in sequences:
        node = root
        for atom in atoms:
            node = node.setdefault(atom, {})
        node[""] = {}
    return _emit(root)


def _emit(node: dict[str, dict]) -> str:
    ends = "" in node
    branches = [atom + _emit(child) for atom, child in sorted(node.items()) if atom != ""]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends:
        return f"(?:{body})?"
    return body


def literal_trie(literals: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    """A compiled trie that finds any of ``literals`` as a substring."""
    return re.compile(trie_regex([re.escape(ch) for ch in lit] for lit in sorted(set(literals))), flags)


class Substrings:
    """A test for whether a text holds any of some strings: one character-class search for the single
    characters (digits, "@", "$"), then ``in`` for the others, longest first (a literal trie is slower)."""

    __slots__ = ("chars", "strings")

    def __init__(self, strings: Iterable[str]):
        unique = sorted(set(strings), key=lambda s: (-len(s), s))
        singles = [s for s in unique if len(s) == 1]
        self.chars = re.compile("[" + "".join(re.escape(c) for c in singles) + "]") if singles else None
        self.strings = tuple(s for s in unique if len(s) > 1)

    def found(self, text: str) -> bool:
        """Whether ``text`` holds one of the strings."""
        if self.chars is not None and self.chars.search(text) is not None:
            return True
        for string in self.strings:  # noqa: SIM110  (a loop: any() over a generator is slower on this hot path)
            if string in text:
                return True
        return False


PLACEHOLDER = "\x01{}\x01"  # stands for a macro whose own gate strings are known


WORD_START = "\x02"  # marks a required string that begins at a word start (so it can be gated by word keys)
_SPACE_CATEGORIES = ("CATEGORY_SPACE",)


def required_literals(pattern: str, flags: int = 0, macro_gates: dict[str, set[str]] | None = None
                      ) -> set[str] | None:
    """Strings of which every match of ``pattern`` contains at least one, or None if none can be proven.

    A string starting with WORD_START begins at a word start in every match. ``pattern`` may hold macro
    placeholders (``PLACEHOLDER.format(name)``); a placeholder chosen as the requirement is replaced by
    that macro's gate strings.
    """
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:
        return None
    found = _sequence(list(parsed), False)
    if found is None:
        return None
    return _usable(found, macro_gates)


def required_literal_sets(pattern: str, flags: int = 0, macro_gates: dict[str, set[str]] | None = None
                          ) -> list[set[str]]:
    """All the requirements of ``pattern`` (each as :func:`required_literals` gives its best one): a match
    holds one string of every set, so a post must pass every set's test."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:
        return []
    found = (_usable(clause, macro_gates) for clause in _requirements(list(parsed), False))
    return [clause for clause in found if clause]


def _usable(found: set[str], macro_gates: dict[str, set[str]] | None) -> set[str] | None:
    """A requirement with macro placeholders resolved, or None when it is too weak or unknown to test."""
    result: set[str] = set()
    for literal in found:
        bare = literal.lstrip(WORD_START)
        if bare.startswith("\x01") and bare.endswith("\x01") and macro_gates is not None:
            result |= macro_gates.get(bare.strip("\x01"), {""})
        else:
            result.add(literal)
    if "" in result or any("\x01" in s for s in result):
        return None
    # A short run of letters ("a", "mr") is in most posts; symbols ("$", "@") and digits are rare enough.
    if any(len(b) < MIN_LITERAL and b.strip(" ").isalpha() and literal_key(s) is None
           for s in result for b in [s.lstrip(WORD_START)]):
        return None
    return result


def literal_key(literal: str) -> str | None:
    """Word key that every text containing ``literal`` (marked WORD_START) has, or None."""
    bare = literal.lstrip(WORD_START)
    if not literal.startswith(WORD_START) and not bare.startswith(" "):
        return None
    words = bare.strip(" ").split(" ")
    # Every word of the literal starts a word of the text, so the longest one is the rarest key.
    usable = [w for w in words if w and TOKEN_RE.fullmatch(w)]
    if not usable or (words[0] not in usable and len(words) == 1):
        return None
    word = max(usable, key=lambda w: (w not in STOPWORDS, len(w)))
    return word[:KEY_LEN] if len(word) >= 2 else None


def _size(literal: str) -> int:
    return len(literal.lstrip(WORD_START))


def _is_space(name: str, arg: Any) -> bool:
    if name == "LITERAL":
        return arg == 32
    if name == "IN":
        return any(str(o) == "CATEGORY" and str(a) in _SPACE_CATEGORIES or (str(o) == "LITERAL" and a == 32)
                   for o, a in arg)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, sub = arg
        return low >= 1 and len(sub) == 1 and _is_space(str(sub[0][0]), sub[0][1])
    return False


def _repeat_keeps_boundary(name: str, arg: Any, before: bool) -> bool:
    """After ``(?:\\w+\\s+){0,2}`` a word starts if one did before (no repeat) or every repeat ends in a space."""
    if name not in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return False
    low, _high, sub = arg
    return _ends_in_space(list(sub)) and (before or low >= 1)


def _ends_in_space(items: list) -> bool:
    """Whether every way through ``items`` ends with a whitespace character."""
    if not items:
        return False
    name, arg = str(items[-1][0]), items[-1][1]
    if name == "SUBPATTERN":
        return _ends_in_space(list(arg[-1]))
    if name == "BRANCH":
        return all(_ends_in_space(list(branch)) for branch in arg[1])
    return _is_space(name, arg)


def _sequence(items: list, boundary: bool) -> set[str] | None:
    candidates = _requirements(items, boundary)
    if not candidates:
        return None
    return max(candidates, key=_rank)


def _requirements(items: list, boundary: bool) -> list[set[str]]:
    """Every requirement of a sequence: one set per item, each a set of strings one of which every match holds."""
    candidates: list[set[str]] = []
    run: list[str] = []
    run_start = False
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            if not run:
                run_start = boundary
            run.append(chr(arg))
            boundary = arg == 32
            continue
        if name == "AT":
            if not run and str(arg) in ("AT_BOUNDARY", "AT_BEGINNING", "AT_BEGINNING_STRING"):
                boundary = True
            continue  # zero-width: the literal run stays contiguous
        if name in ("ASSERT", "ASSERT_NOT"):
            continue
        if run:
            head = (WORD_START if run_start else "") + "".join(run)
            # sre factors common prefixes out of alternations ("ssn|social" -> "s" + "sn|ocial"); glue them back.
            lead = _leading(list(arg[1])) if name == "BRANCH" else None
            candidates.append({head + tail for tail in lead} if lead else {head})
            run = []
        found = _node(name, arg, boundary)
        if found is not None:
            candidates.append(found)
        boundary = _is_space(name, arg) or _repeat_keeps_boundary(name, arg, boundary)
    if run:
        candidates.append({(WORD_START if run_start else "") + "".join(run)})
    return candidates


def _rank(strings: set[str]) -> tuple[int, int, int]:
    """Best requirement: word-keyed strings (a set lookup per post) before substrings (a test per string);
    then longer shortest strings (rarer, "for" is in most posts); then fewer strings."""
    shortest = min(_size(s) for s in strings)
    keys = [literal_key(s) for s in strings]
    keyed = all(k is not None for k in keys)
    common = any(k in STOPWORDS for k in keys)
    if keyed and not common:
        return (3, min(shortest, 5), -len(strings))
    if shortest >= 5 and len(strings) <= 4:
        return (2, min(shortest, 5), -len(strings))  # a few long substrings beat a stopword key
    return (1 if keyed else 0 if shortest < MIN_LITERAL else 1, min(shortest, 5), -len(strings))


def _leading(branches: list) -> set[str] | None:
    """The literal text each alternative starts with, or None if one starts with something else."""
    heads: set[str] = set()
    for branch in branches:
        head = []
        for op, arg in branch:
            if str(op) != "LITERAL":
                break
            head.append(chr(arg))
        if not head:
            return None
        heads.add("".join(head))
    return heads


def _node(name: str, arg: Any, boundary: bool) -> set[str] | None:
    if name == "SUBPATTERN":
        return _sequence(list(arg[-1]), boundary)
    if name == "ATOMIC_GROUP":
        return _sequence(list(arg), boundary)
    if name == "BRANCH":
        union: set[str] = set()
        for branch in arg[1]:
            found = _sequence(list(branch), boundary)
            if found is None:
                return None
            union |= found
        return union
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, sub = arg
        return _sequence(list(sub), boundary) if low >= 1 else None
    return None
