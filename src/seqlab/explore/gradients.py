"""Gradient flow through time: how much of a loss's gradient at the last step reaches each earlier step.

    result = gradient_norms(cells=("rnn", "gru", "lstm", "lstm-fb1"), hidden=64, steps=100, batch=32)
    result["distance"]          # (T,) ints 0 … T−1; distance k is step t = T − k (the last step is 0)
    result["norms"]["rnn"]      # (T,) mean over the batch of ‖∂L/∂a⟨T−k⟩‖
    result["c_norms"]["lstm"]   # (T,) the same for the LSTM's cell state c⟨T−k⟩ (LSTM cells only)
    fig = draw_gradients(result)   # a matplotlib Figure (log scale); save_figure(fig, "grad.png")

Random-weight cells (`gradient_norms`): the engine's standard initialisation (Glorot-uniform input weights,
one orthogonal block per gate for the recurrent weights, zero biases; "lstm-fb1" sets the forget-gate bias
to 1), the recurrent weights multiplied by `scale`, inputs x⟨t⟩ ~ N(0, 1) of size `hidden`, float64. The
loss is L = Σ_b g_b · a_b⟨T⟩ with each g_b a random unit vector, so ‖∂L/∂a⟨T⟩‖ = 1 at distance 0.

A trained text model (`text_gradient_norms`): the model (in float64) reads the first `steps` characters of
a text, the same text in every row of the batch with a different g_b per row, and the norms are reported
for every recurrent layer ("lstm.0", "lstm.1", …), the gradient starting on the top layer's last state.

Every number comes from the engine's own forward and backward passes (seqlab.explore.backprop).
"""

from __future__ import annotations

import numpy as np

from seqlab.engine import GRU, LSTM, RNN
from seqlab.errors import UserError
from seqlab.explore.backprop import state_gradients
from seqlab.explore.figures import new_figure
from seqlab.explore.models import float64_copy
from seqlab.explore.threads import one_blas_thread

CELLS = ("rnn", "gru", "lstm", "lstm-fb1")
DEFAULT_CELLS = ("rnn", "gru", "lstm", "lstm-fb1")


def make_cell(name: str, input_size: int, hidden: int, rng: np.random.Generator, *, scale: float = 1.0,
              dtype=np.float64):
    """A layer of cell `name` with the engine's initialisation; W_h multiplied by scale."""
    kw = {"dtype": dtype, "rng": rng}
    if name == "rnn":
        layer = RNN(input_size, hidden, **kw)
    elif name == "gru":
        layer = GRU(input_size, hidden, **kw)
    elif name in ("lstm", "lstm-fb1"):
        layer = LSTM(input_size, hidden, forget_bias=1.0 if name == "lstm-fb1" else 0.0, **kw)
    else:
        raise UserError(f"unknown cell {name!r}; expected one of {', '.join(CELLS)}")
    layer.params["W_h"] *= scale
    return layer


def unit_vectors(rng: np.random.Generator, batch: int, size: int) -> np.ndarray:
    """(batch, size) rows drawn uniformly from the unit sphere."""
    g = rng.standard_normal((batch, size))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def check_sizes(hidden: int, steps: int, batch: int, scale: float = 1.0) -> None:
    for name, v in (("hidden", hidden), ("steps", steps), ("batch", batch)):
        if int(v) != v or v < 1:
            raise UserError(f"{name} must be a whole number of at least 1, got {v}")
    if not np.isfinite(scale) or scale < 0:
        raise UserError(f"scale must be a finite number >= 0, got {scale}")


def problem(name: str, hidden: int, steps: int, batch: int, scale: float, seed: int):
    """(layer, x (T, B, hidden), g (B, hidden)) for cell `name`: the weights and data `gradient_norms`
    uses, from their own generator per cell (so a cell's numbers do not depend on which others are run)."""
    rng = np.random.default_rng([seed, CELLS.index(name) if name in CELLS else 99])
    layer = make_cell(name, hidden, hidden, rng, scale=scale)
    x = rng.standard_normal((steps, batch, hidden))
    g = unit_vectors(rng, batch, hidden)
    return layer, x, g


def _by_distance(d: np.ndarray) -> np.ndarray:
    """(T + 1, B, H) gradients indexed by step -> (T,) mean norm by distance 0 … T−1 (step T − k)."""
    norms = np.linalg.norm(d, axis=2).mean(axis=1)   # (T + 1,)
    return norms[::-1][:-1].copy()


@one_blas_thread
def gradient_norms(cells=DEFAULT_CELLS, hidden: int = 64, steps: int = 100, batch: int = 32,
                   scale: float = 1.0, seed: int = 0) -> dict:
    """{"distance": (T,), "norms": {cell: (T,)}, "c_norms": {lstm cell: (T,)}} for random-weight cells."""
    check_sizes(hidden, steps, batch, scale)
    cells = list(cells)
    if not cells:
        raise UserError("no cells given; expected some of " + ", ".join(CELLS))
    norms, c_norms = {}, {}
    for name in cells:
        layer, x, g = problem(name, hidden, steps, batch, scale, seed)
        grads = state_gradients([layer], x, g)
        norms[name] = _by_distance(grads["a"][0])
        if grads["c"][0] is not None:
            c_norms[name] = _by_distance(grads["c"][0])
    return {"distance": np.arange(steps), "norms": norms, "c_norms": c_norms}


@one_blas_thread
def text_gradient_norms(lm, text: str, steps: int = 100, batch: int = 32, seed: int = 0) -> dict:
    """The same measurement on a trained LanguageModel reading the first `steps` characters of `text`
    (raw text; normalised and encoded here: a character the model lacks is a UserError)."""
    check_sizes(1, steps, batch)
    chars = lm.normalize(text)[:steps]
    ids = lm.encode(chars)
    if ids.size < steps:
        raise UserError(f"the text has {ids.size} characters; --steps {steps} needs at least that many")
    model = float64_copy(lm)
    ids = np.repeat(ids[:, None], batch, axis=1)                     # (T, B)
    x = model.input.forward(ids, cache=False) if model.embed else ids
    layers = model.rnn.layers
    g = unit_vectors(np.random.default_rng(seed), batch, layers[-1].hidden_size)
    grads = state_gradients(layers, x, g)
    norms, c_norms = {}, {}
    for k, layer in enumerate(layers):
        key = f"{model.cell}.{k}"
        norms[key] = _by_distance(grads["a"][k])
        if grads["c"][k] is not None:
            c_norms[key] = _by_distance(grads["c"][k])
    return {"distance": np.arange(steps), "norms": norms, "c_norms": c_norms}


def falls(result: dict, distance: int) -> dict:
    """{cell: norm at distance 0 / norm at `distance`}: by how much each cell's gradient has fallen."""
    return {name: float(n[0] / n[distance]) if n[distance] > 0 else float("inf")
            for name, n in result["norms"].items()}


COLORS = {"rnn": "#d62728", "gru": "#2ca02c", "lstm": "#1f77b4", "lstm-fb1": "#9467bd"}
LABELS = {"rnn": "RNN (tanh)", "gru": "GRU", "lstm": "LSTM, forget bias 0", "lstm-fb1": "LSTM, forget bias 1"}


WHY = ("Along the LSTM's cell path the gradient is multiplied by the forget gate f at every step: with bias 0, "
       "f starts near σ(0) = 0.5 and the gradient halves each step; with bias 1, f starts near σ(1) ≈ 0.73.")


def draw_gradients(result: dict, title: str | None = None):
    """A matplotlib Figure: mean ‖∂L/∂a⟨t⟩‖ (solid) and ‖∂L/∂c⟨t⟩‖ (dashed) against the distance T − t,
    log scale."""
    fig, ax = new_figure(7.5, 4.6)
    d = np.asarray(result["distance"])
    tiny = np.finfo(np.float64).tiny
    for k, (name, n) in enumerate(result["norms"].items()):
        base = name.split(".")[0] if "." in name else name
        color = COLORS.get(base) if "." not in name else f"C{k}"
        label = LABELS.get(name, name)
        line, = ax.semilogy(d, np.maximum(n, tiny), color=color, lw=2, label=f"{label}: ‖∂L/∂a‖")
        if name in result.get("c_norms", {}):
            ax.semilogy(d, np.maximum(result["c_norms"][name], tiny), color=line.get_color(), lw=1.3, ls="--",
                        label=f"{label}: ‖∂L/∂c‖")
    ax.set_xlabel("distance back from the last step, T − t")
    ax.set_ylabel("mean gradient norm")
    ax.set_title(title or "How far back the last step's gradient reaches")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    if {"lstm", "lstm-fb1"} <= set(result["norms"]):
        fig.text(0.01, 0.01, WHY, fontsize=7.5, color="#444", va="bottom", wrap=True)
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    else:
        fig.tight_layout()
    return fig
