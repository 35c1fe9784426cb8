"""The words the bundled Shakespeare model may write in a form: the words of the sonnets and the plays that
CMUdict knows, one a line in shakespeare_words.txt (a word list, not the texts).

    python -m seqlab.pretrained.lexicon     # rebuild it from the cached shakespeare and tinyshakespeare
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
WORDS_FILE = HERE / "shakespeare_words.txt"


@cache
def shakespeare_words() -> frozenset[str]:
    return frozenset(WORDS_FILE.read_text(encoding="utf-8").split())


def build() -> int:
    from seqlab import data
    from seqlab.fileio import write_bytes_atomic
    from seqlab.text import prosody

    words = set()
    for name in ("shakespeare", "tinyshakespeare"):
        words |= set(prosody.words_of(data.path(name).read_text(encoding="utf-8")))
    kept = sorted(w for w in words if prosody.in_dictionary(w))
    write_bytes_atomic(WORDS_FILE, ("\n".join(kept) + "\n").encode("utf-8"))
    return len(kept)


if __name__ == "__main__":
    print(f"{build()} words -> {WORDS_FILE}")
