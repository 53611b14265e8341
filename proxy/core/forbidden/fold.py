"""Text folding for phrase matching: one skeleton for every way of writing the same phrase.

The fold is a function of each code point alone, so a whole text folds by table lookup (one
`str.translate`, or one numpy gather for long texts) and every folded character leads back to
the original character it came from.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import numpy as np
import numpy.typing as npt
import opencc

# Letters of other scripts that pass for Latin ones, by case (capital Greek Eta looks like H,
# small eta like n), and Latin letters that pass for each other in common fonts (I, l).
_LOOK_ALIKES = {
    # Cyrillic
    "А": "a", "а": "a", "В": "b", "в": "b", "Ь": "b", "Е": "e", "е": "e", "Ё": "e", "ё": "e",
    "Һ": "h", "һ": "h", "Н": "h", "н": "h", "І": "i", "і": "i", "Ї": "i", "ї": "i", "Ӏ": "i",
    "ӏ": "i", "Ј": "j", "ј": "j", "К": "k", "к": "k", "М": "m", "м": "m", "О": "o", "о": "o",
    "Р": "p", "р": "p", "Ԛ": "q", "ԛ": "q", "С": "c", "с": "c", "Ѕ": "s", "ѕ": "s", "Т": "t",
    "т": "t", "У": "y", "у": "y", "Ү": "y", "ү": "y", "Х": "x", "х": "x", "Ԝ": "w", "ԝ": "w",
    "ԁ": "d", "ɡ": "g", "п": "n", "г": "r",
    # Greek
    "Α": "a", "α": "a", "Β": "b", "β": "b", "Ε": "e", "ε": "e", "Ζ": "z", "Η": "h", "η": "n",
    "Ι": "i", "ι": "i", "Κ": "k", "κ": "k", "Μ": "m", "μ": "u", "Ν": "n", "ν": "v", "Ο": "o",
    "ο": "o", "Ρ": "p", "ρ": "p", "Τ": "t", "τ": "t", "Υ": "y", "υ": "u", "Χ": "x", "χ": "x",
    "γ": "y", "ω": "w", "ϲ": "c", "Ϲ": "c", "ϳ": "j", "Ϳ": "j",
    # Latin among itself
    "l": "i", "ı": "i", "ɩ": "i", "ɑ": "a", "ʏ": "y", "ɢ": "g", "ʜ": "h", "ᴋ": "k", "ʟ": "i",
}  # fmt: skip

# Dropped without a trace: invisible in any rendering, so they split no word. Everything else
# that folds to nothing (spaces, punctuation, symbols, controls) is a visible word separator.
_INVISIBLE_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
_INVISIBLE_EXTRA = frozenset("\u115f\u1160\u3164\uffa0\u180e\u2800")
_KEPT_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mc", "Nd", "Nl", "No"})

# Scripts written without spaces between words: their phrases match anywhere. Everything else
# alphabetic (Latin, Cyrillic, Greek, Hangul jamo after folding…) matches at word boundaries.
_UNSPACED_RANGES = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x2E80, 0x10FFFF))

LETTER, DIGIT, OTHER = "L", "D", "O"
"""Character classes for word boundaries: a spaced-script letter, a digit, anything else."""

# Beyond this many cached code points (only hostile text gets there) folds are still right,
# just computed again each time.
_CACHE_LIMIT = 200_000

_t2s = opencc.OpenCC("t2s")


def _is_invisible(char: str) -> bool:
    return unicodedata.category(char) in _INVISIBLE_CATEGORIES or char in _INVISIBLE_EXTRA


def _simplified(char: str) -> str:
    if ord(char) < 0x2E80:
        return char
    return str(_t2s.convert(char))


def fold_char(char: str) -> str:
    """The skeleton of one code point: compatibility forms (full-width, circled, mathematical)
    to plain ones, case folded, accents and invisible marks dropped, spaces and punctuation
    dropped, look-alike letters to one Latin letter, traditional Chinese to simplified."""
    out: list[str] = []
    for part in unicodedata.normalize("NFKD", char):
        if part in _LOOK_ALIKES:
            out.append(_LOOK_ALIKES[part])
            continue
        for piece in unicodedata.normalize("NFKD", part.casefold()):
            if piece in _INVISIBLE_EXTRA or unicodedata.category(piece) not in _KEPT_CATEGORIES:
                continue
            out.append(_LOOK_ALIKES.get(piece) or _simplified(piece))
    return "".join(out)


def is_separator(char: str) -> bool:
    """A character that folds away but that a reader sees between words (space, punctuation)."""
    return _FOLD_TABLE[ord(char)] == "" and not _is_invisible(char)


def char_class(folded_char: str) -> str:
    """LETTER, DIGIT or OTHER, for a character of folded text."""
    if folded_char.isdigit():
        return DIGIT
    code = ord(folded_char)
    if any(low <= code <= high for low, high in _UNSPACED_RANGES) or not folded_char.isalpha():
        return OTHER
    return LETTER


class _FoldTable(dict[int, str]):
    """`str.translate` table computed on first sight of each code point."""

    def __missing__(self, code: int) -> str:
        folded = fold_char(chr(code))
        if len(self) < _CACHE_LIMIT:
            self[code] = folded
        return folded


class _LengthTable(dict[int, str]):
    """`str.translate` table: each code point to chr(length of its fold)."""

    def __missing__(self, code: int) -> str:
        length = chr(len(_FOLD_TABLE[code]))
        if len(self) < _CACHE_LIMIT:
            self[code] = length
        return length


_FOLD_TABLE = _FoldTable()
_LENGTH_TABLE = _LengthTable()


def fold(text: str) -> str:
    """The skeleton of a text: see `fold_char`, applied to every character. The reference
    that the vectorised path of FoldedText must agree with."""
    return text.translate(_FOLD_TABLE)


# The same fold as one array lookup per character, for texts long enough that a per-character
# `str.translate` (about 70 ns a character of Chinese) would cost more than numpy's setup.
_UNKNOWN = np.uint32(0xFFFFFFFF)
_SEVERAL = np.uint32(0xFFFFFFFE)
"""The code point folds to more than one character (ß → ss, ㍻ → 平成): translate handles it."""
_DROPPED = np.uint32(0)
_VECTOR_MIN_CHARS = 512
_VECTOR_CHUNK = 1 << 20
"""Characters folded at a time: the arrays of a long body's fold are a few MB each rather than
several times the body (a 10 MB reply folded at once peaked at 118 MB)."""
_CODE_POINTS = 0x110000


@cache
def _vector_table() -> npt.NDArray[np.uint32]:
    """Fold of every code point seen so far, the others _UNKNOWN: 4 MB per process."""
    return np.full(_CODE_POINTS, _UNKNOWN, dtype=np.uint32)


def _vector_fold(text: str) -> npt.NDArray[np.uint32] | None:
    """Per character of `text`, the code point it folds to (0: dropped), or None when some
    character folds to several."""
    table = _vector_table()
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    folded = table[codes]
    unknown = folded == _UNKNOWN
    if unknown.any():
        for code in np.unique(codes[unknown]).tolist():
            skeleton = _FOLD_TABLE[code]
            table[code] = ord(skeleton) if len(skeleton) == 1 else _SEVERAL if skeleton else 0
        folded = table[codes]
    if (folded == _SEVERAL).any():
        return None
    return folded


class FoldedText:
    """A text and its skeleton, with the way back from skeleton positions to original ones."""

    # a plain class with slots: built once per request body, so its cost counts
    __slots__ = ("_ends", "_kept", "folded", "original")

    def __init__(
        self, original: str, folded: str, kept: npt.NDArray[np.bool_] | None = None
    ) -> None:
        self.original = original
        self.folded = folded
        self._kept = kept
        """Per original character, whether it folds to one character (vectorised path)."""
        self._ends: npt.NDArray[np.int64] | None = None

    @classmethod
    def of(cls, text: str) -> FoldedText:
        if len(text) >= _VECTOR_MIN_CHARS:
            pieces: list[str] = []
            kept: list[npt.NDArray[np.bool_]] = []
            for start in range(0, len(text), _VECTOR_CHUNK):
                folded = _vector_fold(text[start : start + _VECTOR_CHUNK])
                if folded is None:
                    break  # a character folds to several: translate's way, for the whole text
                kept.append(folded != _DROPPED)
                pieces.append(folded[kept[-1]].tobytes().decode("utf-32-le", "surrogatepass"))
            else:
                return cls(
                    text, "".join(pieces), kept[0] if len(kept) == 1 else np.concatenate(kept)
                )
        return cls(text, text.translate(_FOLD_TABLE))

    @property
    def ends(self) -> npt.NDArray[np.int64]:
        """For each original character, the folded length up to and including it. Built only
        when a phrase was found, so clean text never pays for it."""
        if self._ends is None:
            if self._kept is not None:
                self._ends = np.cumsum(self._kept, dtype=np.int64)
            else:
                lengths = self.original.translate(_LENGTH_TABLE).encode("latin-1")
                self._ends = np.cumsum(np.frombuffer(lengths, dtype=np.uint8), dtype=np.int64)
        return self._ends

    def original_index(self, folded_index: int) -> int:
        """Index of the original character that folded position `folded_index` comes from."""
        return int(np.searchsorted(self.ends, folded_index, side="right"))

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original slice whose characters fold to folded[start:end] (end > start)."""
        return self.original_index(start), self.original_index(end - 1) + 1

    def is_boundary(self, folded_index: int) -> bool:
        """Whether a word boundary lies just before folded position `folded_index`: the text's
        edge, a change of character class, or a visible separator between the two characters."""
        if folded_index <= 0 or folded_index >= len(self.folded):
            return True
        before, after = self.folded[folded_index - 1], self.folded[folded_index]
        if char_class(before) != char_class(after):
            return True
        left, right = self.original_index(folded_index - 1), self.original_index(folded_index)
        return any(is_separator(char) for char in self.original[left + 1 : right])
