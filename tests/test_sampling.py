"""The one sampler (seqlab.sampling) that text and music share: argmax at temperature 0, the temperature law,
top-k, the nucleus (top-p) mass property, and the course's `sample` drawing exactly what it drew before."""

from __future__ import annotations

import numpy as np
import pytest

from seqlab.errors import UserError
from seqlab.sampling import check_options, choose, next_distribution, nucleus


def test_temperature_zero_is_the_argmax_and_draws_nothing():
    lp = np.log(np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]))
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    assert choose(lp, rng, 0.0).tolist() == [1, 0]
    assert rng.bit_generator.state == state


def test_draws_follow_p_to_the_one_over_temperature():
    p = np.array([0.1, 0.6, 0.3])
    draws = choose(np.log(np.tile(p, (8000, 1))), np.random.default_rng(0), 0.5)
    expected = p ** 2 / (p ** 2).sum()  # T = 0.5 squares the probabilities
    assert np.abs(np.bincount(draws, minlength=3) / 8000 - expected).max() < 0.02


@pytest.mark.parametrize("seed", range(5))
def test_nucleus_is_the_smallest_set_of_the_likeliest_reaching_top_p(seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(12, 0.5), size=50)
    for top_p in (0.05, 0.3, 0.5, 0.9, 0.999):
        q = next_distribution(np.log(p), top_p=top_p)
        np.testing.assert_allclose(q.sum(axis=1), 1.0)
        for row, kept in zip(p, q > 0):
            mass = row[kept].sum()
            assert mass >= top_p - 1e-12                          # reaches top_p ...
            assert mass - row[kept].min() < top_p                 # ... and no kept symbol is spare
            assert row[kept].min() >= row[~kept].max(initial=0)   # the likeliest ones
        np.testing.assert_allclose(q[q > 0], (p / np.where(q > 0, p, 0).sum(1, keepdims=True))[q > 0])


def test_nucleus_edges_and_ties():
    p = np.array([[0.25, 0.25, 0.25, 0.25]])
    assert (nucleus(p, 0.5) > 0).tolist() == [[True, True, False, False]]   # ties: the lower index first
    assert (nucleus(p, 1.0) > 0).all()
    assert (nucleus(np.array([[0.7, 0.2, 0.1]]), 1e-9) > 0).tolist() == [[True, False, False]]
    q = next_distribution(np.log(np.array([[0.5, 0.3, 0.15, 0.05]])), top_k=3, top_p=0.8)
    np.testing.assert_allclose(q, [[0.625, 0.375, 0, 0]])                    # top-k first, then the nucleus


@pytest.mark.parametrize("kwargs, word", [({"top_p": 0.0}, "top-p"), ({"top_p": 1.5}, "top-p"),
                                          ({"top_k": 0}, "top-k"), ({"temperature": -1.0}, "temperature")])
def test_bad_options_are_user_errors(kwargs, word):
    with pytest.raises(UserError, match=word):
        check_options(**kwargs)


@pytest.mark.parametrize("kwargs, says", [
    ({"temperature": float("nan")}, "temperature must be a number >= 0, got nan"),   # picked symbol 0 always
    ({"temperature": -1.0}, "temperature must be a number >= 0, got -1.0"),         # inverted the distribution
    ({"temperature": None}, "temperature must be a number >= 0, got None"),
    ({"top_k": -1}, "top-k must be a whole number of at least 1, got -1"),          # dropped the least likely
    ({"top_k": True}, "top-k must be a whole number of at least 1, got True"),
    ({"top_p": float("nan")}, r"top-p must be in \(0, 1\], got nan"),
])
def test_the_sampler_itself_refuses_bad_options(kwargs, says):
    # the music's sampler calls choose() directly: these used to give a plausible, wrong result
    lp = np.log(np.array([[0.2, 0.3, 0.5]]))
    rng = np.random.default_rng(0)
    with pytest.raises(UserError, match=says):
        choose(lp, rng, **{"temperature": 1.0, **kwargs})
    if kwargs.get("temperature", 1.0) != 0:
        with pytest.raises(UserError, match=says):
            next_distribution(lp, **{"temperature": 1.0, **kwargs})


def test_course_sample_draws_as_the_inverse_cdf_of_one_uniform():
    from seqlab.course.shakespeare import sample

    preds = np.array([0.05, 0.5, 0.2, 0.25])
    for seed in range(20):
        u = np.random.default_rng(seed).random()
        expected = int(np.searchsorted(np.cumsum(preds), u, side="right"))
        assert sample(preds, 1.0, np.random.default_rng(seed)) == expected
    np.random.seed(3)
    first = sample(preds)
    np.random.seed(3)
    assert sample(preds) == first                    # the global generator, as the course uses it
