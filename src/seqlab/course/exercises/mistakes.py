"""The catalogue of common mistakes, each recognised by its effect: the grader runs flawed.py's version with
that mistake on the failing case and, when the learner's answer matches it, names the mistake."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    id: str
    exercise: str
    title: str
    explanation: str


_ENTRIES = [
    # assignment 1: forward
    ("sigmoid-for-tanh", "rnn_cell_forward", "sigmoid where tanh belongs",
     "the hidden state is a⟨t⟩ = tanh(Waa·a⟨t−1⟩ + Wax·x⟨t⟩ + ba); a sigmoid keeps it in (0, 1) instead of (−1, 1)"),
    ("missing-bias", "rnn_cell_forward", "the bias ba is missing",
     "add ba (n_a, 1) inside the tanh; broadcasting spreads it over the m examples"),
    ("softmax-wrong-axis", "rnn_cell_forward", "softmax over the wrong axis",
     "each column (one example) must sum to 1: the softmax runs over the n_y classes, axis 0, not over the batch"),
    ("output-from-previous-state", "rnn_cell_forward", "the prediction made from a⟨t−1⟩",
     "ŷ⟨t⟩ = softmax(Wya·a⟨t⟩ + by) uses the new state a_next, not a_prev"),
    ("state-not-carried", "rnn_forward", "the state is not carried from step to step",
     "each step must start from the previous step's a_next; starting every step from a0 forgets the sequence"),
    ("concat-order", "lstm_cell_forward", "the concatenation in the wrong order",
     "the weights act on [a⟨t−1⟩; x⟨t⟩]: a_prev on top, xt below (np.concatenate([a_prev, xt], axis=0))"),
    ("input-gate-missing", "lstm_cell_forward", "the input gate left out",
     "the candidate enters the cell through the input gate: c⟨t⟩ = Γf ∗ c⟨t−1⟩ + Γi ∗ c̃⟨t⟩"),
    ("forget-gate-missing", "lstm_cell_forward", "the forget gate left out",
     "the old cell passes through the forget gate: c⟨t⟩ = Γf ∗ c⟨t−1⟩ + Γi ∗ c̃⟨t⟩"),
    ("output-tanh-missing", "lstm_cell_forward", "the tanh of the cell left out of a⟨t⟩",
     "a⟨t⟩ = Γo ∗ tanh(c⟨t⟩), not Γo ∗ c⟨t⟩"),
    ("candidate-sigmoid", "lstm_cell_forward", "sigmoid for the candidate value",
     "the candidate is c̃⟨t⟩ = tanh(Wc[a⟨t−1⟩; x⟨t⟩] + bc): it can be negative, the gates cannot"),
    ("cell-state-not-carried", "lstm_forward", "the memory cell is not carried from step to step",
     "pass each step's c_next into the next step; only c⟨0⟩ is zero"),
    ("lstm-state-not-carried", "lstm_forward", "the hidden state is not carried from step to step",
     "pass each step's a_next into the next step; only the first step starts from a0"),
    ("c0-from-a0", "lstm_forward", "the memory cell starts at a0",
     "c⟨0⟩ is zeros of shape (n_a, m); a0 is the hidden state's start only"),
    # assignment 1: backward
    ("tanh-derivative-1-minus-a", "rnn_cell_backward", "the tanh derivative written as 1 − a",
     "d tanh(z)/dz = 1 − tanh²(z) = 1 − a⟨t⟩², squared"),
    ("upstream-gradient-not-multiplied", "rnn_cell_backward", "da_next not multiplied in",
     "the chain rule: dz = da_next ∗ (1 − a⟨t⟩²); without da_next it is only tanh's slope"),
    ("bias-gradient-wrong-axis", "rnn_cell_backward", "dba summed over the wrong axis",
     "dba sums dz over the m examples: np.sum(dz, axis=1, keepdims=True), shape (n_a, 1)"),
    ("step-t+1-not-added", "rnn_backward", "the gradient from step t+1 not added",
     "step t receives da⟨t⟩ from its prediction and da_prev from step t+1: call the cell with da[:, :, t] + da_prevt"),
    ("gradients-not-accumulated", "rnn_backward", "the weights' gradients not summed over time",
     "the same weights are used at every step, so dWax, dWaa, dba add up the steps' gradients (+=)"),
    ("dc-prev-missing-a-path", "lstm_cell_backward", "dc_prev missing the path through a⟨t⟩",
     "c⟨t⟩ also reaches the loss through a⟨t⟩ = Γo ∗ tanh(c⟨t⟩): "
     "dc_prev = (dc_next + da_next ∗ Γo ∗ (1 − tanh²(c⟨t⟩))) ∗ Γf"),
    ("candidate-derivative-missing", "lstm_cell_backward", "the candidate's tanh derivative left out",
     "dc̃ is taken before the tanh: multiply by (1 − c̃²)"),
    ("gate-sigmoid-derivative-missing", "lstm_cell_backward", "the output gate's sigmoid derivative left out",
     "dΓo is taken before the sigmoid: multiply by Γo ∗ (1 − Γo)"),
    ("course-lstm-backward", "lstm_backward", "the course's printed lstm_backward",
     "the course's loop passes each step only its own da⟨t⟩ and a zero dc: it leaves out the gradient arriving "
     "from step t+1 (da_prev and dc_prev of the later step). That is not the gradient of the loss"),
    ("step-t+1-not-added", "lstm_backward", "the hidden-state gradient from step t+1 not added",
     "step t receives da⟨t⟩ plus da_prev from step t+1: call the cell with da[:, :, t] + da_prevt"),
    ("cell-gradient-not-carried", "lstm_backward", "the cell's gradient from step t+1 not carried",
     "each step's dc_prev is the next (earlier) step's dc_next; starting each step from zero drops it"),
    # assignment 2
    ("clip-one-bound", "clip", "clip with one bound",
     "clip to [−maxValue, maxValue]: large negative gradients explode as well as large positive ones"),
    ("clip-skips-a-gradient", "clip", "one of the gradients not clipped",
     "all five arrays are clipped: dWaa, dWax, dWya, db and dby"),
    ("sample-no-newline-stop", "sample", "sampling does not stop at the newline",
     "the loop ends when the drawn index is the newline's (or at 50 characters)"),
    ("sample-seeded-once", "sample", "the generator seeded once instead of before each draw",
     "as the course: np.random.seed(counter + seed) right before each np.random.choice"),
    ("sample-argmax", "sample", "the most likely character instead of a draw",
     "draw the index with np.random.choice(range(vocab_size), p=y.ravel()); "
     "the arg-max gives the same name every time"),
    ("sample-input-not-updated", "sample", "the drawn character not fed back as the next input",
     "after the draw, x becomes the one-hot of idx (zeros with x[idx] = 1)"),
    ("sample-state-not-carried", "sample", "the state not carried from one character to the next",
     "after each step a_prev = a"),
    ("optimize-no-clip", "optimize", "the gradients not clipped",
     "clip(gradients, 5) between rnn_backward and update_parameters"),
    ("optimize-gradient-ascent", "optimize", "the update goes up the gradient",
     "gradient descent subtracts: update_parameters(parameters, gradients, learning_rate)"),
    ("model-first-input-not-none", "model", "the first input is a character, not None",
     "X = [None] + [char_to_ix[ch] for ch in name]: the first step sees the zero vector and learns the first letter"),
    # assignment 3
    ("one-hot-argmin", "one_hot", "arg-min instead of arg-max", "the next input is the most likely value"),
    ("one-hot-no-repeat-axis", "one_hot", "the one-hot without the time axis",
     "the next input is shaped (m, 1, n_values), as the course's RepeatVector(1) gives"),
    ("log-probabilities-kept", "inference_loop", "log-probabilities kept instead of probabilities",
     "step returns log-probabilities: keep np.exp of them"),
    ("inference-input-not-fed-back", "inference_loop", "the chosen value not fed back",
     "each step's input is the one-hot of the previous step's arg-max"),
    ("inference-state-not-carried", "inference_loop", "the LSTM state not carried",
     "keep the state that step returns and pass it to the next call"),
    ("results-not-one-hot", "predict_and_sample", "the probabilities returned instead of their one-hots",
     "results holds, for each step, 1 at the chosen value and 0 elsewhere"),
    # textbook
    ("step-t+1-not-added", "bptt", "the gradient from step t+1 not added",
     "dL/dh⟨t⟩ is dh⟨t⟩ plus what comes back from step t+1 (dz⟨t+1⟩·W_hh)"),
    ("tanh-derivative-1-minus-a", "bptt", "the tanh derivative written as 1 − h",
     "d tanh(z)/dz = 1 − h⟨t⟩², squared"),
    ("jacobian-identity-missing", "residual_jacobian", "the identity of the skip path left out",
     "h⟨t⟩ = h⟨t−1⟩ + g(…): the h⟨t−1⟩ term contributes I, which is why the products of these Jacobians "
     "do not shrink and can grow"),
    ("jacobian-derivative-on-wrong-side", "residual_jacobian", "tanh′ scales U's columns instead of its rows",
     "∂g_i/∂h_j = (1 − g_i²)·U[i, j]: the derivative of unit i scales row i (diag(1 − g²)·U)"),
    ("jacobian-product-order", "jacobian_growth", "the Jacobians multiplied in the wrong order",
     "∂h⟨t⟩/∂h⟨0⟩ = J⟨t⟩ ⋯ J⟨1⟩: each new Jacobian goes on the left"),
]

CATALOGUE = [Mistake(*e) for e in _ENTRIES]


def for_exercise(name: str) -> list[Mistake]:
    return [m for m in CATALOGUE if m.exercise == name]
