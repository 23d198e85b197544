"""Text normalization done once per post: casefold, accents, confusables, zero-width, leetspeak.

Every view keeps one character per original character (zero-width characters become a
space-free deletion only in the rare slow path, which keeps an index map), so a match found
in a normalized view points straight back into the original text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u202a\u202b\u202c\u202d\u202e"

# Look-alike letters from other scripts that evade a plain ASCII word list.
_CONFUSABLES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l",
    "ԛ": "q", "ԝ": "w", "ь": "b", "г": "r", "п": "n", "и": "u", "л": "n", "ш": "w", "д": "d",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ς": "s", "σ": "o", "μ": "u", "ϲ": "c",
    # Latin look-alikes and IPA
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŀ": "l", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ʋ": "u",
    "ß": "s", "æ": "a", "œ": "o", "ð": "d", "þ": "p", "ĸ": "k",
}

# Digits and symbols used as letters; applied only to the view used for word lists.
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s", "€": "e",
         "+": "t"}


def _build_table() -> dict[int, int | None]:
    """One str.translate table: lower case, strip accents, fold confusables, drop zero-width."""
    table: dict[int, int | None] = {}
    ranges = [range(0x41, 0x5B), range(0xC0, 0x250), range(0x370, 0x530), range(0x1E00, 0x1F00),
              range(0xFF01, 0xFF5F), range(0x1D400, 0x1D800), range(0x2460, 0x24EA), range(0x1F130, 0x1F18A),
              range(0x2000, 0x2070)]
    for block in ranges:
        for code in block:
            char = chr(code)
            folded = unicodedata.normalize("NFKD", char)
            folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
            folded = _CONFUSABLES.get(folded, folded)
            if len(folded) == 1 and folded != char:
                table[code] = ord(folded)
            elif char.lower() != char and len(char.lower()) == 1:
                table[code] = ord(_CONFUSABLES.get(char.lower(), char.lower()))
    for src, dst in _CONFUSABLES.items():
        table[ord(src)] = ord(dst)
        upper = src.upper()
        if len(upper) == 1 and ord(upper) not in table:
            table[ord(upper)] = ord(dst)
    # Typographic quotes and dashes fold to ASCII so patterns need one spelling.
    for char in "\u2018\u2019\u201b\u2032\u00b4`":
        table[ord(char)] = ord("'")
    for char in "\u201c\u201d\u201e\u2033\u00ab\u00bb":
        table[ord(char)] = ord('"')
    for char in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212":
        table[ord(char)] = ord("-")
    for char in "\u00a0\u2002\u2003\u2009\u202f\u3000":
        table[ord(char)] = ord(" ")
    for char in ZERO_WIDTH:
        table[ord(char)] = None
    return table


FOLD_TABLE = _build_table()
LEET_TABLE = str.maketrans(_LEET)
_HAS_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]")


@dataclass(slots=True)
class Views:
    """Views of one text; ``plain`` is the original minus zero-width chars, ``index`` maps back if they existed."""

    plain: str
    norm: str
    deleet: str
    index: list[int] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of a view back to the original text."""
        if self.index is None:
            return start, end
        if not self.index:
            return 0, 0
        last = len(self.index) - 1
        begin = self.index[min(start, last)]
        finish = self.index[min(end - 1, last)] + 1 if end > start else begin
        return begin, finish


def fold(text: str) -> str:
    """The normalized form of a term or text (used for policy terms too)."""
    if text.isascii():
        return text.lower()
    return text.translate(FOLD_TABLE)


def views_of(text: str) -> Views:
    """Build the views of ``text`` once; fast path for ASCII, index map only if zero-width chars exist."""
    if text.isascii():
        norm = text.lower()
        return Views(text, norm, norm.translate(LEET_TABLE))
    index: list[int] | None = None
    plain = text
    if _HAS_ZERO_WIDTH.search(text):
        index = [i for i, ch in enumerate(text) if ch not in ZERO_WIDTH]
        plain = "".join(text[i] for i in index)
    norm = plain.translate(FOLD_TABLE)
    if len(norm) != len(plain):  # defensive: a mapping that changed length
        norm = "".join((ch.translate(FOLD_TABLE) or " ")[0] for ch in plain)
    return Views(plain, norm, norm.translate(LEET_TABLE), index)
