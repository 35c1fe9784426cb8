"""`seqlab train --init MODEL` (start from another model's weights, with every mismatch named), `--vocab-from`,
and the poem model's pre-training corpus (the plays in the sonnets' alphabet)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import dataset_path
from seqlab.cli import main
from seqlab.text.model import load_model

TEXT = "when in disgrace with fortune and men's eyes,\ni all alone beweep my outcast state,\n" * 6
ARCH = ["--mode", "stream", "--hidden", "12", "--layers", "2", "--embed", "4", "--batch-size", "4",
        "--seq-len", "20", "--eval-every", "2", "--checkpoint-every", "0", "--sample-every", "0", "--quiet"]


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("warm")
    corpus = d / "verses.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    assert main(["train", str(corpus), "-o", str(d / "base.npz"), *ARCH, "--steps", "4", "--lr", "0.01"]) == 0
    return d, corpus


def _params(path):
    return load_model(path).model.arrays()


def test_init_starts_from_the_models_weights(base, capsys):
    d, corpus = base
    start = _params(d / "base.npz")
    assert main(["train", str(corpus), "-o", str(d / "tuned.npz"), *ARCH, "--steps", "2", "--lr", "1e-9",
                 "--init", str(d / "base.npz"), "--dropout", "0.3"]) == 0
    tuned = load_model(d / "tuned.npz")
    for k, v in tuned.model.arrays().items():
        np.testing.assert_allclose(v, start[k], atol=1e-6)    # two steps of 1e-9 from the same weights
    assert tuned.meta["train"]["init"] == str(d / "base.npz")
    assert main(["train", str(corpus), "-o", str(d / "fresh.npz"), *ARCH, "--steps", "2", "--lr", "1e-9"]) == 0
    assert not np.allclose(_params(d / "fresh.npz")["dense.W"], start["dense.W"], atol=1e-3)
    capsys.readouterr()


@pytest.mark.parametrize("change, words", [
    (["--hidden", "10"], ["hidden 12 (model) vs 10 (this run)"]),
    (["--layers", "1", "--embed", "0"], ["layers 2 (model) vs 1", "embed 4 (model) vs 0"]),
    (["--cell", "gru"], ["cell lstm (model) vs gru"]),
    (["--keep-case"], ["case kept (this run)"]),
    (["CORPUS=other"], ["vocabulary of", "only in the corpus: 'q' 'x' 'z'", "only in the model: "]),
    (["--resume", "BASE"], ["--init and --resume"]),
])
def test_init_that_does_not_fit_is_one_line_naming_the_difference(base, capsys, change, words):
    d, corpus = base
    if change == ["CORPUS=other"]:
        corpus = d / "other.txt"
        corpus.write_text("quiz the lazy fox\n" * 20, encoding="utf-8")
        change = []
    change = [str(d / "base.npz") if a == "BASE" else a for a in change]
    args = [*ARCH, *change]
    capsys.readouterr()
    assert main(["train", str(corpus), "-o", str(d / "bad.npz"), *args, "--steps", "6",
                 "--init", str(d / "base.npz")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1, err
    for w in words:
        assert w in err, err
    assert not (d / "bad.npz").exists()


def test_vocab_from_gives_the_files_alphabet_and_refuses_other_characters(base, capsys, tmp_path):
    d, corpus = base
    wider = tmp_path / "wider.txt"
    wider.write_text(TEXT + "(quiz)\n", encoding="utf-8")
    assert main(["train", str(corpus), "-o", str(tmp_path / "v.npz"), *ARCH, "--steps", "1",
                 "--vocab-from", str(wider)]) == 0
    assert load_model(tmp_path / "v.npz").vocab.chars == sorted(set(TEXT + "(quiz)\n"))
    capsys.readouterr()
    assert main(["train", str(wider), "-o", str(tmp_path / "w.npz"), *ARCH, "--steps", "1",
                 "--vocab-from", str(corpus)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'('" in err and "'q'" in err and "outside the given vocabulary" in err


def test_plays_map_to_the_sonnets_alphabet():
    from seqlab.pretrained.shakespeare_recipe import plays_corpus

    alphabet = "\n !'(),-.:;?abcdefghijklmnopqrstuvwxyz"
    raw = "Senators, &C:\r\n3 KING HENRY VI\nmy sea sha$l suck them dry # [x]\n"
    assert plays_corpus(raw, alphabet) == "senators, etc:\nthird king henry vi\nmy sea shall suck them dry  x\n"


@pytest.mark.data
def test_real_plays_corpus_and_the_nanogpt_split():
    from seqlab.pretrained.shakespeare_recipe import plays_corpus, shakespeare_split
    from seqlab.text.corpus import read_text

    plays = read_text(dataset_path("tinyshakespeare"))
    assert len(plays) == 1_115_394 and len(set(plays)) == 65
    cut = int(0.9 * len(plays))
    assert (cut, len(plays) - cut) == (1_003_854, 111_540)
    train, _ = shakespeare_split(read_text(dataset_path("shakespeare")))
    text = plays_corpus(plays, "".join(set(train)))
    assert set(text) == set(train) - {"(", ")"}                          # the plays have no parentheses
    assert len(text) == len(plays) + 3 * 1 + 27 * 4                      # &->et, 3->third, $->l
