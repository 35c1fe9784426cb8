"""No word N-gram twice (`no_repeat_ngram`, as in the usual generate() APIs), for a character model.

A word is a run of letters and apostrophes; every other character ends one. A character model cannot refuse a
whole word before it is written, so the rule bites where the word would end: when the last N-1 words and the
word being written form an N-gram the text already holds, the characters that would end that word are
masked, and the model must write another word (a longer one) or nothing. N = 1: no word twice.
"""

from __future__ import annotations

import numpy as np

from seqlab.errors import UserError
from seqlab.values import is_whole

MAX_N = 20


def check_no_repeat(n: int | None, name: str = "--no-repeat-ngram") -> None:
    if n is not None and (not is_whole(n) or not 1 <= n <= MAX_N):
        raise UserError(f"{name} must be a whole number between 1 and {MAX_N}, got {n!r}")


def is_word_char(ch: str) -> bool:
    return ch.isalpha() or ch == "'"


def enders(chars) -> np.ndarray:
    """The ids (E,) of the vocabulary's characters that end a word."""
    return np.array([i for i, c in enumerate(chars) if not is_word_char(c)], np.int64)


class WordNgrams:
    """The word N-grams of one text so far. copy() is cheap (the held parts are immutable), for a beam's rows."""

    def __init__(self, n: int, text: str = ""):
        self.n = n
        self.context: tuple[str, ...] = ()     # the last n - 1 whole words
        self.partial = ""                      # the word being written
        self.seen: frozenset[tuple[str, ...]] = frozenset()
        for ch in text:
            self.push(ch)

    def copy(self) -> WordNgrams:
        other = WordNgrams.__new__(WordNgrams)
        other.n, other.context, other.partial, other.seen = self.n, self.context, self.partial, self.seen
        return other

    def _gram(self) -> tuple[str, ...]:
        return self.context + (self.partial,)

    def push(self, ch: str) -> None:
        if is_word_char(ch):
            self.partial += ch
            return
        if not self.partial:
            return
        gram = self._gram()
        if len(gram) == self.n:
            self.seen = self.seen | {gram}
        self.context = gram[len(gram) - self.n + 1:] if self.n > 1 else ()
        self.partial = ""

    def would_repeat(self) -> bool:
        """Would ending the current word now make an N-gram the text already holds?"""
        return bool(self.partial) and self._gram() in self.seen


def mask_repeats(log_probs: np.ndarray, guards: list[WordNgrams], ender_ids: np.ndarray) -> np.ndarray:
    """log_probs (B, V) with -inf on the word-ending characters of every row whose word would repeat an N-gram
    (a copy when any row is masked)."""
    rows = [b for b, g in enumerate(guards) if g.would_repeat()]
    if not rows:
        return log_probs
    out = log_probs.copy()
    out[np.ix_(rows, ender_ids)] = -np.inf
    return out
