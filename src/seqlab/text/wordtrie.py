"""A set of words as a trie over a sorted list: which characters may follow a prefix so that it can still
become one of the words. The form search masks the model's next-character distribution with it."""

from __future__ import annotations

from bisect import bisect_left

import numpy as np

END = "\uffff"  # sorts after every character of a word


class WordTrie:
    """words: any iterable of strings. next_mask(prefix) is cached per prefix."""

    def __init__(self, words, chars):
        self.words = sorted(set(words))
        self.index = {c: i for i, c in enumerate(chars)}
        self.size = len(chars)
        self._masks: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        i = bisect_left(self.words, word)
        return i < len(self.words) and self.words[i] == word

    def next_chars(self, prefix: str) -> str:
        """The distinct characters that follow `prefix` in some word (in sorted order): a jump per character,
        not a walk over every word that starts with it."""
        out = []
        lo, hi = bisect_left(self.words, prefix), bisect_left(self.words, prefix + END)
        n = len(prefix)
        while lo < hi:
            w = self.words[lo]
            if len(w) == n:                 # the prefix itself is a word
                lo += 1
                continue
            c = w[n]
            out.append(c)
            lo = bisect_left(self.words, prefix + c + END, lo, hi)
        return "".join(out)

    def next_mask(self, prefix: str) -> np.ndarray:
        """(V,) bool: the vocabulary's characters that keep `prefix` on the way to a word."""
        mask = self._masks.get(prefix)
        if mask is None:
            mask = np.zeros(self.size, bool)
            mask[[self.index[c] for c in self.next_chars(prefix) if c in self.index]] = True
            self._masks[prefix] = mask
        return mask
