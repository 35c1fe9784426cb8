"""What a poem in a form is worth, measured: its rhyme pairs, syllables, real-word rate, the model's nats/char
of its own poem, and the longest run it copies from the training text."""

from __future__ import annotations

import numpy as np

from seqlab.text import prosody
from seqlab.text.model import START, LanguageModel


def longest_copied_run(text: str, source: str) -> tuple[int, str]:
    """The longest substring of `text` found in `source`: (its length, it). One growing check per start,
    so about len(text) substring searches."""
    best = ""
    for i in range(len(text)):
        j = i + len(best) + 1
        while j <= len(text) and text[i:j] in source:
            best = text[i:j]
            j += 1
    return len(best), best


def real_word_rate(text: str, known) -> float:
    """The share of the words of `text` that are in `known` (a set of lower-case words)."""
    words = prosody.words_of(text)
    return sum(w in known for w in words) / len(words) if words else 1.0


def nats_per_char(lm: LanguageModel, first: str, rest: str) -> float:
    """The model's -log-probability per character of `rest` after the line `first` (each line ends with
    a newline, the last included)."""
    ids = lm.encode(START + first + START + rest)
    lp, _ = lm.model.log_probs(ids[:-1, None])
    start = len(first) + 1                                    # the first predicted character of `rest`
    picked = lp[start:, 0, :][np.arange(len(ids) - 1 - start), ids[start + 1:]]
    return float(-picked.mean())


def rhyme_pairs(lines) -> list[dict]:
    """Each line whose letter came before, with the first word of its letter: {lines: [i, j] (1-based),
    words: [w_i, w_j], held: real rhyme?}."""
    first: dict[str, int] = {}
    pairs = []
    for j, ln in enumerate(lines):
        if ln.letter in first:
            i = first[ln.letter]
            pairs.append({"lines": [i + 1, j + 1], "words": [lines[i].word, ln.word],
                          "held": prosody.rhymes(lines[i].word, ln.word)})
        else:
            first[ln.letter] = j
    return pairs


def report(lm: LanguageModel, lines, known=None, source: str | None = None, seconds: float | None = None) -> dict:
    """The report of a poem (FormLines): known, a set of real words (the training text's; None: CMUdict's);
    source, the training text for the copied run (None: not measured)."""
    first, rest = lines[0].text, "".join(ln.text + START for ln in lines[1:])
    written = "".join(ln.text + " " for ln in lines[1:])
    pairs = rhyme_pairs(lines)
    known_words = known if known is not None else set(prosody.dictionary_words())
    run = longest_copied_run(START + rest, source) if source is not None else None   # the prompt is the user's
    return {
        "lines": [ln.text for ln in lines],
        "letters": "".join(ln.letter for ln in lines),
        "syllables": [line_syllables(ln.text) for ln in lines],
        "rhyme_pairs": pairs,
        "rhymes_held": sum(p["held"] for p in pairs),
        "real_word_rate": real_word_rate(written, known_words),
        "real_words_against": "the training text" if known is not None else "CMUdict",
        "nats_per_char": nats_per_char(lm, first, rest) if lines[1:] else None,
        "longest_copied_run": None if run is None else {"chars": run[0], "text": run[1]},
        "seconds": seconds,
    }


def line_syllables(text: str) -> int:
    return sum(prosody.syllables(w) for w in prosody.words_of(text))
