"""The `plays` recipe of the model builder (issue 33): tiny-shakespeare with its case kept, nanoGPT's split,
the dev slice held out by the trainer, the validation part scored once. Built here on a tiny network; the
real build is `make models` (about an hour), not run by the tests."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import dataset_path
from seqlab.checkpoint import load_checkpoint
from seqlab.pretrained import build, plays_recipe
from seqlab.text.corpus import read_text
from seqlab.text.model import load_model


@pytest.mark.data
def test_the_split_is_the_benchmarks():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import tinyshakespeare

    train, validation = plays_recipe.plays_split(read_text(dataset_path("tinyshakespeare")))
    assert (len(train), len(validation), len(set(train + validation))) == (1_003_854, 111_540, 65)
    vocab, train_ids, val_ids = tinyshakespeare.split_ids()
    assert vocab.decode(train_ids) == train and vocab.decode(val_ids) == validation
    assert plays_recipe.PLAYS_CONFIG.lower is False and plays_recipe.PLAYS_CONFIG.holdout == plays_recipe.DEV


@pytest.mark.data
def test_a_tiny_plays_build_keeps_the_case_and_scores_the_validation_part(tmp_path, monkeypatch):
    dataset_path("tinyshakespeare")
    tiny = replace(plays_recipe.PLAYS_CONFIG, hidden=8, layers=1, steps=4, decay_steps=4, eval_every=2,
                   checkpoint_every=0, sample_every=0, batch_size=4, seq_len=20)
    monkeypatch.setattr(plays_recipe, "PLAYS_CONFIG", tiny)
    monkeypatch.setattr(build, "MODELS_DIR", tmp_path / "models")
    (tmp_path / "models").mkdir()
    assert build.main(["plays", "--work", str(tmp_path / "work")]) == 0
    path = tmp_path / "models" / "plays.npz"
    meta = load_checkpoint(path)[1]
    lm = load_model(path)
    assert lm.vocab.size == 65 and lm.lower is False and lm.mode == "stream"
    assert meta["heldout"]["chars"] == 111_540 - 1          # every validation character after the first
    assert meta["validation"]["step"] in (2, 4)              # the best on the dev slice
    assert meta["recipe"]["holdout"] == 0.05 and meta["command"].startswith("seqlab train plays-train.txt")
    assert "--keep-case" in meta["command"]
