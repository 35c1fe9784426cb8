"""The measurement behind `seqlab poem`'s default sampling (docs/poems-form.md): for each temperature and
top-p, samples of 600 characters after one prompt, over several seeds of a batch each, scored by
  - the real-word rate: the share of words found in the sonnets or the plays (cached datasets needed);
  - variety: distinct lines / lines, distinct words / words (over all samples of a setting), and the
    repeated word 3-grams within a sample (occurrences beyond the first, per sample).

    PYTHONPATH=src python bench/poem_defaults.py [--seeds 3] [--rows 8]
"""

from __future__ import annotations

import argparse
from collections import Counter

from threadpoolctl import threadpool_limits

from seqlab import data
from seqlab.errors import UserError
from seqlab.text.model import load_model
from seqlab.text.prosody import words_of
from seqlab.text.sampling import generate

PROMPT = "shall i compare thee to a summer's day\n"
SETTINGS = [(1.0, None), (0.9, None), (0.8, None), (0.7, None), (0.6, None), (0.5, None),
            (1.0, 0.9), (0.9, 0.9), (0.8, 0.9), (0.8, 0.95), (0.7, 0.95)]


def repeats(words: list[str], n: int = 3) -> int:
    grams = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    return sum(c - 1 for c in grams.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, allow_abbrev=False)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rows", type=int, default=8)
    args = ap.parse_args()
    known = set()
    for name in ("shakespeare", "tinyshakespeare"):
        try:
            known |= set(words_of(data.path(name).read_text(encoding="utf-8")))
        except UserError as exc:
            ap.exit(2, f"poem_defaults.py: {exc}\n")
    lm = load_model("shakespeare")
    print("| temperature | top-p | real-word rate | distinct lines | distinct words | repeated word 3-grams "
          "per sample |")
    print("| --- | --- | --- | --- | --- | --- |")
    for t, p in SETTINGS:
        real = total = lines = distinct = rep = 0
        vocabulary = set()
        for seed in range(args.seeds):
            with threadpool_limits(1):
                texts = generate(lm, args.rows, prefix=PROMPT, max_len=600, temperature=t, top_p=p, seed=seed)
            for text in texts:
                words = words_of(text)
                real += sum(w in known for w in words)
                vocabulary.update(words)
                total += len(words)
                ls = [ln.strip() for ln in text.split("\n")[:-1] if ln.strip()]   # the last may be cut short
                lines += len(ls)
                distinct += len(set(ls))
                rep += repeats(words)
        n = args.seeds * args.rows
        print(f"| {t} | {p if p is not None else '-'} | {real / total:.3f} | {distinct / max(lines, 1):.3f} "
              f"| {len(vocabulary) / total:.3f} | {rep / n:.1f} |", flush=True)


if __name__ == "__main__":
    main()
