"""Sampling (seed, top-k, prefix, stop at end of line, novelty) and evaluation against a manual computation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from seqlab.errors import UserError
from seqlab.text.evaluate import evaluate_file, evaluate_text
from seqlab.text.model import CharModel, LanguageModel
from seqlab.text.sampling import beam_search, generate, next_distribution, novelty, sample_lines
from seqlab.text.vocab import Vocabulary


def _lm(mode="lines", cell="lstm", seed=0) -> LanguageModel:
    vocab = Vocabulary.from_text("\nabcde")
    model = CharModel(vocab.size, cell, hidden=8, layers=2, rng=np.random.default_rng(seed))
    model.dense.params["W"] *= 4.0   # a sharper distribution than at initialisation
    return LanguageModel(model, vocab, True, mode, frozenset({"abc", "de"}))


def test_same_seed_same_samples_other_seed_other_samples():
    lm = _lm()
    a = sample_lines(lm, 8, seed=5)
    assert a == sample_lines(lm, 8, seed=5)
    assert a != sample_lines(lm, 8, seed=6)
    assert all("\n" not in s for s in a)                  # lines mode stops at the end of the line


def test_top_k_keeps_exactly_the_k_likeliest():
    lp = np.log(np.array([[0.1, 0.4, 0.2, 0.3], [0.25, 0.25, 0.3, 0.2]]))
    p = next_distribution(lp, top_k=2)
    np.testing.assert_allclose(p[0], [0, 4 / 7, 0, 3 / 7])
    np.testing.assert_allclose(p[1].sum(), 1.0)
    assert np.count_nonzero(p[1]) == 3                      # a tie at the cut keeps both
    np.testing.assert_allclose(next_distribution(lp, temperature=0.5)[0], np.array([1, 16, 4, 9]) / 30)


def test_top_k_one_is_the_greedy_path():
    lm = _lm(mode="stream")
    out = generate(lm, 2, prefix="ab", max_len=6, top_k=1, seed=0)
    assert out[0] == out[1]
    ids = list(lm.encode("\nab"))
    lp, states = lm.model.log_probs(np.array(ids)[:, None])
    greedy, last = "", lp[-1, 0]
    for _ in range(6):
        nxt = int(np.argmax(last))
        greedy += lm.vocab.chars[nxt]
        last, states = lm.model.step(np.array([nxt]), states)
        last = last[0]
    assert out[0] == greedy


def test_samples_over_many_draws_follow_the_model_support_with_top_k():
    lm = _lm(mode="stream")
    firsts = {s[0] for s in generate(lm, 300, max_len=1, top_k=2, seed=1)}
    lp, _ = lm.model.log_probs(np.array([[lm.start_id]]))
    assert firsts == {lm.vocab.chars[i] for i in np.argsort(lp[-1, 0])[-2:]}


def test_prefix_is_normalised_and_unknown_characters_are_errors():
    lm = _lm()
    assert all(s.startswith("ab") for s in sample_lines(lm, 3, prefix="AB", seed=0))
    with pytest.raises(UserError, match=r"'z'"):
        generate(lm, 1, prefix="abz")
    with pytest.raises(UserError, match="temperature"):
        generate(lm, 1, temperature=0)
    with pytest.raises(UserError, match="top-k"):
        generate(lm, 1, top_k=0)
    with pytest.raises(UserError, match="number of samples must be between 1 and 100,000, got -1"):
        generate(lm, -1)                                  # checked before anything is allocated
    with pytest.raises(UserError, match="maximum length must be between 1 and 1,000,000, got -2"):
        generate(lm, 2, max_len=-2)
    with pytest.raises(UserError, match="maximum length must be between 1 and 1,000,000, got 2.5"):
        generate(lm, 2, max_len=2.5)
    with pytest.raises(UserError, match="times the maximum length 1,000 is 20,000,000 characters"):
        generate(lm, 20_000, max_len=1000)
    with pytest.raises(UserError, match="temperature must be a positive number, got '1'"):
        generate(lm, 1, temperature="1")
    with pytest.raises(UserError, match="top-k must be a whole number of at least 1, got 2.5"):
        generate(lm, 1, top_k=2.5)
    with pytest.raises(UserError, match="beam width must be between 1 and 1,000, got 2.5"):
        beam_search(lm, "", 5, 2.5)


def test_max_len_caps_samples_and_novelty_counts_new_lines():
    lm = _lm(mode="stream")
    assert {len(s) for s in generate(lm, 4, max_len=7, seed=2)} == {7}
    assert novelty(["abc", "xyz", "de", "abd"], lm.training_lines) == 2


def _manual_nll(lm, sequences):
    """Sum of −log p over each sequence read one step at a time, from a fresh state."""
    total, count = 0.0, 0
    for seq in sequences:
        ids = lm.vocab.encode(seq)
        states = None
        for t in range(len(ids) - 1):
            lp, states = lm.model.step(ids[t:t + 1], states)
            total -= lp[0, ids[t + 1]]
            count += 1
    return total, count


def test_lines_eval_matches_a_manual_step_by_step_computation(tmp_path):
    lm = _lm(cell="gru")
    (tmp_path / "f.txt").write_text("Abc\n\n  ded \nbadcab\r\n", encoding="utf-8")
    got = evaluate_file(lm, tmp_path / "f.txt")
    total, count = _manual_nll(lm, ["\nabc\n", "\nded\n", "\nbadcab\n"])
    assert got["chars"] == count == 3 + 1 + 3 + 1 + 6 + 1
    assert got["nats_per_char"] == pytest.approx(total / count, rel=1e-6)


def test_stream_eval_reads_the_file_as_one_sequence():
    lm = _lm(mode="stream")
    text = "abc\nde\nabcde" * 90
    got = evaluate_text(lm, text)          # longer than one chunk of 1000: the state is carried across
    total, count = _manual_nll(lm, [text])
    assert got["chars"] == count == len(text) - 1
    assert got["nats_per_char"] == pytest.approx(total / count, rel=1e-5)
    assert 0 < got["nats_per_char"] < math.log(6) * 2


def test_eval_of_unknown_characters_is_a_user_error():
    with pytest.raises(UserError, match="not in the model's vocabulary"):
        evaluate_text(_lm(), "abc\nxyz\n")
    assert json.dumps(evaluate_text(_lm(), "abc"))  # plain floats and ints
