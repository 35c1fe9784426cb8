"""The exercises: by assignment, with their points and what each returns (so the grader knows which parts
are values to compare, which is the cache the next function reads, and which arguments it may write)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Exercise:
    name: str
    assignment: str
    points: int
    returns: tuple[str, ...] | None          # names of the returned tuple's parts; None: a single value
    cache: int | None = None                 # index of the cache in the returned tuple
    cache_names: tuple[str, ...] = ()        # what each cache entry is, for messages
    writes: dict = field(default_factory=dict)  # arg index -> name: arguments it may change (by design)
    after: dict = field(default_factory=dict)   # arg index -> name: arguments whose new value is part of the answer
    forward: str | None = None               # a backward's forward (for the gradient check)
    prints: bool = False                      # what it prints is part of the answer
    needs: str | None = None                  # an optional module it needs ("torch")
    value: str = "result"                     # the name of a single returned value, in messages
    loose_axes: bool = False                  # extra axes of length 1 are accepted ((Ty, 1, n) for (Ty, n))


@dataclass(frozen=True)
class Assignment:
    key: str
    title: str
    blurb: str


ASSIGNMENTS = [
    Assignment("step_by_step", "Assignment 1 — a recurrent network, step by step",
               "RNN and LSTM cells, forward over a sequence and backpropagation through time, in NumPy."),
    Assignment("dinosaurus", "Assignment 2 — Dinosaurus Island",
               "A character-level language model: clip the gradients, sample names, one training step, training."),
    Assignment("jazz", "Assignment 3 — jazz improvisation (the NumPy parts)",
               "The course's Keras layers are seqlab's LSTM and Dense behind one `step(x, state)` call; "
               "what is left is the NumPy around them: one-hots, the generation loop, reading out the values."),
    Assignment("textbook", "Textbook exercises 6-1P, 6-3, 6-2P",
               "Backpropagation through time implemented and checked, why h⟨t⟩ = h⟨t−1⟩ + g(x⟨t⟩, h⟨t−1⟩) can "
               "explode (in numbers), and the NumPy backward against PyTorch's autograd."),
]

_CELL = ("a_next", "a_prev", "xt", "parameters")
_LSTM_CELL = ("a_next", "c_next", "a_prev", "c_prev", "ft", "it", "cct", "ot", "xt", "parameters")

EXERCISES = [
    Exercise("rnn_cell_forward", "step_by_step", 2, ("a_next", "yt_pred", "cache"), 2, _CELL),
    Exercise("rnn_forward", "step_by_step", 2, ("a", "y_pred", "caches"), 2, ("caches", "x")),
    Exercise("lstm_cell_forward", "step_by_step", 3, ("a_next", "c_next", "yt_pred", "cache"), 3, _LSTM_CELL),
    Exercise("lstm_forward", "step_by_step", 3, ("a", "y", "c", "caches"), 3, ("caches", "x")),
    Exercise("rnn_cell_backward", "step_by_step", 3, None, forward="rnn_cell_forward", value="gradients"),
    Exercise("rnn_backward", "step_by_step", 3, None, forward="rnn_forward", value="gradients"),
    Exercise("lstm_cell_backward", "step_by_step", 4, None, forward="lstm_cell_forward",
             value="gradients"),
    Exercise("lstm_backward", "step_by_step", 4, None, forward="lstm_forward", value="gradients"),
    Exercise("clip", "dinosaurus", 2, None, writes={0: "gradients"}, value="gradients"),
    Exercise("sample", "dinosaurus", 3, None, value="indices"),
    Exercise("optimize", "dinosaurus", 2, ("loss", "gradients", "a_last"), writes={3: "parameters"},
             after={3: "parameters"}),
    Exercise("model", "dinosaurus", 3, None, prints=True, value="parameters"),
    Exercise("one_hot", "jazz", 1, None, value="one_hot"),
    Exercise("inference_loop", "jazz", 2, None, value="outputs"),
    Exercise("predict_and_sample", "jazz", 2, ("results", "indices"), loose_axes=True),
    Exercise("bptt", "textbook", 4, None, value="gradients"),
    Exercise("residual_jacobian", "textbook", 2, None, value="J"),
    Exercise("jacobian_growth", "textbook", 2, None, value="sigma"),
    Exercise("torch_gradients", "textbook", 2, None, needs="torch", value="gradients"),
]

BY_NAME = {e.name: e for e in EXERCISES}

CALLS = {   # the exercises each one calls, as the templates are written
    "rnn_forward": ("rnn_cell_forward",), "lstm_forward": ("lstm_cell_forward",),
    "rnn_backward": ("rnn_cell_backward",), "lstm_backward": ("lstm_cell_backward",),
    "optimize": ("clip",), "model": ("optimize", "sample", "clip"), "inference_loop": ("one_hot",),
    "jacobian_growth": ("residual_jacobian",),
}


def of_assignment(key: str) -> list[Exercise]:
    return [e for e in EXERCISES if e.assignment == key]


ARG_NAMES = {   # the course's argument names, for "your function changed a_prev"
    "rnn_cell_forward": ("xt", "a_prev", "parameters"), "rnn_forward": ("x", "a0", "parameters"),
    "lstm_cell_forward": ("xt", "a_prev", "c_prev", "parameters"), "lstm_forward": ("x", "a0", "parameters"),
    "rnn_cell_backward": ("da_next", "cache"), "rnn_backward": ("da", "caches"),
    "lstm_cell_backward": ("da_next", "dc_next", "cache"), "lstm_backward": ("da", "caches"),
    "clip": ("gradients", "maxValue"), "sample": ("parameters", "char_to_ix", "seed"),
    "optimize": ("X", "Y", "a_prev", "parameters", "learning_rate"),
    "model": ("data", "ix_to_char", "char_to_ix", "num_iterations", "n_a", "dino_names", "vocab_size"),
    "one_hot": ("x",), "inference_loop": ("step", "x0", "a0", "c0", "Ty"),
    "predict_and_sample": ("inference_model", "x_initializer", "a_initializer", "c_initializer"),
    "bptt": ("x", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "dh"),
    "torch_gradients": ("x", "h0", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "dh"),
    "residual_jacobian": ("h_prev", "xt", "U", "W", "b"), "jacobian_growth": ("x", "h0", "U", "W", "b"),
}
