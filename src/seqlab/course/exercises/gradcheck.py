"""The central-difference check of a backward function against the learner's own forward function:
L = Σ da ∗ a (+ Σ dc ∗ c for the LSTM cell), each input and weight nudged by ±ε.

When the learner's forward is missing or gives other values than seqlab's, seqlab's forward is used instead
(and the message says so), so that a wrong forward does not blame a right backward.
"""

from __future__ import annotations

import copy

import numpy as np

from seqlab.course import step_by_step as sbs
from seqlab.course.exercises.compare import same

EPS = 1e-6
TOL = 1e-5
_LSTM_W = ("Wf", "bf", "Wi", "bi", "Wc", "bc", "Wo", "bo")


def _problem(name, rng):
    """(forward args, the forward's name, outputs' weights, the backward's keys -> where each input lives)."""
    n_x, n_a, n_y, m, T = 3, 4, 2, 3, 3
    if name.startswith("rnn"):
        p = {"Wax": rng.standard_normal((n_a, n_x)), "Waa": rng.standard_normal((n_a, n_a)) * 0.5,
             "Wya": rng.standard_normal((n_y, n_a)), "ba": rng.standard_normal((n_a, 1)),
             "by": rng.standard_normal((n_y, 1))}
        keys = {"dWax": (2, "Wax"), "dWaa": (2, "Waa"), "dba": (2, "ba")}
    else:
        p = {k: rng.standard_normal((n_a, 1) if k[0] == "b" else (n_a, n_a + n_x)) for k in _LSTM_W}
        p["Wy"], p["by"] = rng.standard_normal((n_y, n_a)), rng.standard_normal((n_y, 1))
        keys = {"d" + k: (-1, k) for k in _LSTM_W}
    if name == "rnn_cell_backward":
        args = [rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m)), p]
        keys.update({"dxt": (0, None), "da_prev": (1, None)})
    elif name == "lstm_cell_backward":
        args = [rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m)), rng.standard_normal((n_a, m)), p]
        keys.update({"dxt": (0, None), "da_prev": (1, None), "dc_prev": (2, None)})
    else:
        args = [rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)), p]
        keys.update({"dx": (0, None), "da0": (1, None)})
    keys = {k: (len(args) - 1 if i == -1 else i, sub) for k, (i, sub) in keys.items()}
    return args, keys


def _outputs(name, out):
    """The forward's state outputs that the loss weighs: (a,) or (a, c) for the LSTM cell."""
    return (out[0], out[1]) if name == "lstm_cell_backward" else (out[0],)


def _loss(forward, name, args, weights):
    outs = _outputs(name, forward(*copy.deepcopy(args)))
    return sum(float(np.sum(w * o)) for w, o in zip(weights, outs))


def _numeric(forward, name, args, weights, where):
    i, sub = where
    arr = args[i] if sub is None else args[i][sub]
    grad = np.zeros_like(arr)
    for idx in np.ndindex(arr.shape):
        old = arr[idx]
        arr[idx] = old + EPS
        up = _loss(forward, name, args, weights)
        arr[idx] = old - EPS
        down = _loss(forward, name, args, weights)
        arr[idx] = old
        grad[idx] = (up - down) / (2 * EPS)
    return grad


def _agrees(forward, name, args) -> bool:
    reference = getattr(sbs, name.replace("backward", "forward"))
    try:
        mine = forward(*copy.deepcopy(args))
        true = reference(*copy.deepcopy(args))
        return same({str(k): v for k, v in enumerate(_outputs(name, mine))},
                    {str(k): v for k, v in enumerate(_outputs(name, true))})
    except Exception:
        return False


def check(name: str, backward, learner_forward) -> tuple[str | None, str]:
    """(None when the backward's gradients are the central differences of the forward's loss, else a message;
    whose forward was used)."""
    rng = np.random.default_rng(2024)
    args, keys = _problem(name, rng)
    forward_name = name.replace("backward", "forward")
    use_own = learner_forward is not None and _agrees(learner_forward, name, args)
    forward = learner_forward if use_own else getattr(sbs, forward_name)
    whose = f"your {forward_name}" if use_own else f"seqlab's {forward_name}, yours being " + \
        ("not defined" if learner_forward is None else "not yet right")
    out = forward(*copy.deepcopy(args))
    weights = [rng.standard_normal(o.shape) for o in _outputs(name, out)]
    cache = out[-1]
    grads = backward(*weights, cache) if name == "lstm_cell_backward" else backward(weights[0], cache)
    for key, where in keys.items():
        num = _numeric(forward, name, args, weights, where)
        ana = np.asarray(grads[key], np.float64)
        if ana.shape != num.shape:
            return f"gradient check with {whose}: {key} has shape {ana.shape}, expected {num.shape}", whose
        rel = np.linalg.norm(num - ana) / max(np.linalg.norm(num) + np.linalg.norm(ana), 1e-12)
        if rel > TOL:
            return (f"gradient check with {whose}: {key} is not the derivative of L = Σ da ∗ a "
                    f"(central differences, ε = {EPS:g}): relative error {rel:.1e}"), whose
    return None, whose
