"""Syllables and rhymes of English words, from the CMU Pronouncing Dictionary (the `pronouncing` package ships
it), with one stated rule for the words it lacks.

A word's syllables are the vowels of its first CMUdict pronunciation. Its rhyming part is the last stressed
vowel (primary or secondary stress) and every sound after it, stress marks dropped, for each of its
pronunciations that holds a stress ("day" EY, "away" EY, "eyes" AY Z; "them" EH M, not its weak form's
AH M). Two different words rhyme when they share a rhyming part and neither ends with the other ("sight" and
"insight" are the same word at the rhyme, not a rhyme).

Words CMUdict lacks (the sonnets' "o'er", "feed'st") get the vowel-group rule: syllables = the runs of
vowels (a e i o u y) in the spelling, less a silent final e (after a consonant, not in -le) and a silent -ed
(not after t or d), at least 1; rhyming part = the spelling from the last such vowel run on ("provise" ->
"ise"), and it rhymes with the words whose spelled part, by the same rule, is the same ("wise", not
"praise", whose part is "aise").
"""

from __future__ import annotations

import re
from functools import cache

import pronouncing

VOWEL_RUN = re.compile(r"[aeiouy]+")
WORD = re.compile(r"[a-z']+")


def words_of(text: str) -> list[str]:
    """The words of `text`, lower-cased: runs of letters and apostrophes, quote marks around them dropped."""
    out = []
    for w in WORD.findall(text.lower()):
        w = w if w in _dictionary() else w.strip("'")
        if w:
            out.append(w)
    return out


@cache
def _dictionary() -> dict[str, list[str]]:
    """word -> its CMUdict pronunciations (phones with stress digits), in the dictionary's order."""
    pronouncing.init_cmu()
    out: dict[str, list[str]] = {}
    for word, phones in pronouncing.pronunciations:
        out.setdefault(word, []).append(phones)
    return out


def in_dictionary(word: str) -> bool:
    return word in _dictionary()


@cache
def dictionary_words() -> tuple[str, ...]:
    """Every word of CMUdict made only of lower-case letters and apostrophes (what the model can spell)."""
    return tuple(w for w in _dictionary() if WORD.fullmatch(w))


def _silent_tail(word: str) -> int:
    """How many characters at the end of `word` make no syllable by the fallback rule (a final e, an -ed)."""
    if len(VOWEL_RUN.findall(word)) < 2:
        return 0
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and not VOWEL_RUN.fullmatch(word[-2:]):
        return 1
    if word.endswith("ed") and not word.endswith(("ted", "ded")):
        return 2
    return 0


def fallback_syllables(word: str) -> int:
    """Syllables by the vowel-group rule (for words CMUdict lacks)."""
    w = word.replace("'", "")
    stem = w[:len(w) - _silent_tail(w)]
    return max(1, len(VOWEL_RUN.findall(stem)))


def fallback_rhyme(word: str) -> str:
    """The spelled rhyming part by the vowel-group rule: from the last vowel run on, a silent tail kept."""
    w = word.replace("'", "")
    stem = w[:len(w) - _silent_tail(w)]
    runs = list(VOWEL_RUN.finditer(stem))
    return w[runs[-1].start():] if runs else w


@cache
def syllables(word: str) -> int:
    prons = _dictionary().get(word)
    if prons is None:
        return fallback_syllables(word)
    p = prons[0]
    return p.count("0") + p.count("1") + p.count("2")


NO_STRESS = str.maketrans("", "", "012")


def _rhyming_part(phones: str) -> str:
    """From the last stressed vowel (the last vowel when none is stressed) on, stress marks dropped."""
    cut = max(phones.rfind("1"), phones.rfind("2"))
    if cut < 0:
        cut = phones.rfind("0")
    start = phones.rfind(" ", 0, cut) + 1 if cut >= 0 else 0
    return phones[start:].translate(NO_STRESS)


@cache
def rhyming_parts(word: str) -> frozenset[str]:
    """The word's rhyming parts: CMUdict phones without stress marks ("AY Z"), or "~" + the spelled ending
    for a word it lacks ("~ise")."""
    prons = _dictionary().get(word)
    if prons is None:
        return frozenset({"~" + fallback_rhyme(word)})
    strong = [p for p in prons if "1" in p or "2" in p] or prons   # "them" rhymes as DH EH1 M, not DH AH0 M
    return frozenset(_rhyming_part(p) for p in strong)


@cache
def first_part(word: str) -> str:
    """The rhyming part of the word's first pronunciation that holds a stress (its spelled part for a word
    CMUdict lacks): the one a strict reader, or a checker reading only CMUdict's first entries, hears."""
    prons = _dictionary().get(word)
    if prons is None:
        return "~" + fallback_rhyme(word)
    strong = [p for p in prons if "1" in p or "2" in p] or prons
    return _rhyming_part(strong[0])


def rhymes_strictly(a: str, b: str) -> bool:
    """A real rhyme (see `rhymes`) on the first pronunciations of both words ("live" L AY V and "thrive",
    not "live" and "give" by its L IH V). A word CMUdict lacks has one part, its spelled one: as `rhymes`."""
    if not (in_dictionary(a) and in_dictionary(b)):
        return rhymes(a, b)
    return rhymes(a, b) and first_part(a) == first_part(b)


def stressed(word: str) -> bool:
    """Does the word's first pronunciation hold a stressed vowel? ("day" yes, "the" and "a" no): a line may end
    on it."""
    prons = _dictionary().get(word)
    return prons is None or any(p[-1] in "12" for p in prons[0].split())


def rhymes(a: str, b: str) -> bool:
    """A real rhyme: two different words sharing a rhyming part, neither ending with the other."""
    if a == b or a.endswith(b) or b.endswith(a):
        return False
    if not (in_dictionary(a) and in_dictionary(b)):   # a word CMUdict lacks rhymes by its spelled part
        return fallback_rhyme(a) == fallback_rhyme(b)
    return bool(rhyming_parts(a) & rhyming_parts(b))


@cache
def rhyme_index() -> dict[str, tuple[str, ...]]:
    """rhyming part -> the dictionary words (spellable ones) that have it."""
    index: dict[str, list[str]] = {}
    for w in dictionary_words():
        for part in rhyming_parts(w):
            index.setdefault(part, []).append(w)
    return {k: tuple(v) for k, v in index.items()}


def rhyme_partners(word: str, words) -> list[str]:
    """The words of `words` (a collection of dictionary words) that rhyme with `word`."""
    index = rhyme_index()
    found = set()
    for part in rhyming_parts(word):
        if part.startswith("~"):
            found.update(w for w in words if w.endswith(part[1:]) and fallback_rhyme(w) == part[1:])
        else:
            found.update(index.get(part, ()))
    return sorted(w for w in found if w in words and rhymes(word, w))
