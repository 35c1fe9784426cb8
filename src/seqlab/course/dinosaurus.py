"""The course's "Dinosaurus Island" character-level language model, as thin adapters over the engine.

The course's layout: one example at a time, column vectors — x⟨t⟩ one-hot (vocab_size, 1), a⟨t⟩ (n_a, 1),
parameters Wax (n_a, vocab), Waa (n_a, n_a), Wya (vocab, n_a), b (n_a, 1), by (vocab, 1). Underneath,
the recurrence is the engine's `RNN` and the output layer its `Dense` and `softmax_cross_entropy`; this
module only reshapes and keeps the course's dicts, caches, random draws and log format.
"""

from __future__ import annotations

import numpy as np

from seqlab.engine import RNN, Dense, activations, softmax_cross_entropy
from seqlab.engine.base import one_hot

F64 = np.float64
GRAD_KEYS = ("dWaa", "dWax", "dWya", "db", "dby")


# --- small helpers (the course's utils.py) ---------------------------------------------------------------------
def softmax(x):
    """Softmax over axis 0: x (vocab, 1) or (vocab,)."""
    return activations.softmax(np.asarray(x, F64), axis=0)


def smooth(loss, cur_loss):
    """Exponential moving average of the loss, as the course logs it."""
    return loss * 0.999 + cur_loss * 0.001


def get_initial_loss(vocab_size, seq_length):
    """The loss of uniform guessing over seq_length characters: −log(1/vocab_size)·seq_length."""
    return -np.log(1.0 / vocab_size) * seq_length


def get_sample(sample_ix, ix_to_char):
    """Indices -> the name as text, first letter capitalised (ends with the sampled newline)."""
    txt = "".join(ix_to_char[ix] for ix in sample_ix)
    return txt[0].upper() + txt[1:]


def print_sample(sample_ix, ix_to_char):
    print(get_sample(sample_ix, ix_to_char), end="")


def initialize_parameters(n_a, n_x, n_y):
    """The course's init: np.random.seed(1), then randn·0.01 for Wax, Waa, Wya; zero biases."""
    np.random.seed(1)
    Wax = np.random.randn(n_a, n_x) * 0.01
    Waa = np.random.randn(n_a, n_a) * 0.01
    Wya = np.random.randn(n_y, n_a) * 0.01
    return {"Wax": Wax, "Waa": Waa, "Wya": Wya, "b": np.zeros((n_a, 1)), "by": np.zeros((n_y, 1))}


def update_parameters(parameters, gradients, lr):
    """Plain gradient descent, in place: p ← p − lr·dp."""
    for name in ("Wax", "Waa", "Wya", "b", "by"):
        parameters[name] += -lr * gradients["d" + name]
    return parameters


def clip(gradients, maxValue):
    """Clips dWaa, dWax, dWya, db, dby to [−maxValue, maxValue] in place; returns a dict of those five."""
    if not maxValue > 0:   # a negative one set every entry to it
        raise ValueError(f"maxValue must be positive, got {maxValue}")
    clipped = {}
    for key in GRAD_KEYS:
        np.clip(gradients[key], -maxValue, maxValue, out=gradients[key])
        clipped[key] = gradients[key]
    return clipped


# --- the engine underneath -------------------------------------------------------------------------------------
def _layers(parameters):
    """(RNN, Dense) holding the course's parameters: W_x = Waxᵀ, W_h = Waaᵀ, b = b; Dense W = Wyaᵀ, b = by."""
    n_a, vocab_size = parameters["Wax"].shape
    rnn = RNN(vocab_size, n_a, dtype=F64)
    rnn.set_params(W_x=parameters["Wax"].T, W_h=parameters["Waa"].T, b=parameters["b"][:, 0])
    dense = Dense(n_a, parameters["Wya"].shape[0], dtype=F64)
    dense.set_params(W=parameters["Wya"].T, b=parameters["by"][:, 0])
    return rnn, dense


def _one_hots(X, vocab_size):
    """Inputs as (T, 1, vocab): one-hot of each index, the zero vector for None (the course's first input)."""
    bad = [ix for ix in X if ix is not None and not (isinstance(ix, (int, np.integer)) and 0 <= ix < vocab_size)]
    if bad:   # -1 is how None is passed on below: a -3 became a zero input, 1.7 became 1
        raise ValueError(f"X: expected indices in [0, {vocab_size}) or None, got {bad[0]!r}")
    ids = np.array([-1 if ix is None else ix for ix in X], np.int64)
    return one_hot(ids[:, None], vocab_size, F64)


def _course_grads(rnn, dense, da0):
    g, d = rnn.grads, dense.grads
    return {"dWax": g["W_x"].T.copy(), "dWaa": g["W_h"].T.copy(), "dWya": d["W"].T.copy(),
            "db": g["b"][:, None].copy(), "dby": d["b"][:, None].copy(), "da_next": da0.T.copy()}


def rnn_step_forward(parameters, a_prev, x):
    """One step: a_prev (n_a, 1), x (vocab, 1) -> (a_next (n_a, 1), p_t (vocab, 1) = softmax(Wya·a_next + by))."""
    rnn, dense = _layers(parameters)
    out, _ = rnn.forward(np.asarray(x, F64).T[None].copy(), np.asarray(a_prev, F64).T.copy(), cache=False)
    a_next = out[0].T.copy()
    return a_next, softmax(dense.forward(out[0], cache=False).T)


def rnn_step_backward(dy, gradients, parameters, x, a, a_prev):
    """Adds one step's gradients into `gradients` (dWax, dWaa, dWya, db, dby) and sets its da_next.

    dy (vocab, 1) = ŷ − y; x (vocab, 1); a, a_prev (n_a, 1); gradients["da_next"] holds dL/da from the next step.
    """
    rnn, dense = _layers(parameters)
    a_row = np.asarray(a, F64).T.copy()
    dense.forward(a_row)
    da = dense.backward(np.asarray(dy, F64).T.copy()) + np.asarray(gradients["da_next"], F64).T
    rnn.forward(np.asarray(x, F64).T[None].copy(), np.asarray(a_prev, F64).T.copy())
    _, da_prev = rnn.backward(da[None])
    step = _course_grads(rnn, dense, da_prev)
    for key in GRAD_KEYS:
        gradients[key] += step[key]
    gradients["da_next"] = step["da_next"]
    return gradients


def rnn_forward(X, Y, a0, parameters, vocab_size=27):
    """Forward over one example: X, Y lists of indices (X[0] may be None: a zero input), a0 (n_a, 1).

    Returns (loss, cache): loss = −Σ_t log ŷ⟨t⟩[Y[t]] (nats), cache = (y_hat, a, x), dicts keyed by t
    (a also holds a[−1] = a0), y_hat[t] (vocab, 1), a[t] (n_a, 1), x[t] (vocab, 1).
    """
    rnn, dense = _layers(parameters)
    xs = _one_hots(X, vocab_size)
    out, _ = rnn.forward(xs, np.asarray(a0, F64).T.copy(), cache=False)
    logits = dense.forward(out[:, 0, :], cache=False)
    loss, _, _ = softmax_cross_entropy(logits, np.asarray(Y, np.int64))
    probs = activations.softmax(logits, axis=1)
    x, a, y_hat = {}, {-1: np.copy(a0)}, {}
    for t in range(len(X)):
        x[t] = xs[t, 0][:, None]
        a[t] = out[t, 0][:, None].copy()
        y_hat[t] = probs[t][:, None]
    return loss, (y_hat, a, x)


def rnn_backward(X, Y, parameters, cache):
    """Backpropagation through time over one example -> (gradients, a).

    gradients: dWax, dWaa, dWya, db, dby (shaped like the parameters) and da_next = dL/da0 (n_a, 1); a is the
    cache's dict of hidden states.
    """
    _, a, x = cache
    rnn, dense = _layers(parameters)
    xs = np.stack([x[t][:, 0] for t in range(len(X))])[:, None, :]
    out, _ = rnn.forward(xs, a[-1].T.copy())
    logits = dense.forward(out[:, 0, :])
    _, _, dlogits = softmax_cross_entropy(logits, np.asarray(Y, np.int64))
    dout = dense.backward(dlogits)[:, None, :]
    _, da0 = rnn.backward(dout)
    return _course_grads(rnn, dense, da0), a


def optimize(X, Y, a_prev, parameters, learning_rate=0.01):
    """One training step on one example: forward, backward, clip at 5, gradient descent (in place).

    Returns (loss, gradients (the five clipped ones), a[len(X) − 1] (n_a, 1), the last hidden state).
    """
    loss, cache = rnn_forward(X, Y, a_prev, parameters)
    gradients, a = rnn_backward(X, Y, parameters, cache)
    gradients = clip(gradients, 5)
    update_parameters(parameters, gradients, learning_rate)
    return loss, gradients, a[len(X) - 1]


def sample(parameters, char_to_ix, seed):
    """Samples a name, one character at a time, until a newline or 50 characters (then a newline is added).

    As the course: the first input is the zero vector, and before each draw the global NumPy generator is
    reseeded with counter + seed, both of which then grow by one. Returns the list of indices.
    """
    rnn, dense = _layers(parameters)
    vocab_size = parameters["by"].shape[0]
    n_a = parameters["Waa"].shape[1]
    x = np.zeros((1, 1, vocab_size))
    state = np.zeros((1, n_a))
    newline = char_to_ix["\n"]
    indices = []
    idx = -1
    counter = 0
    while idx != newline and counter != 50:
        out, state = rnn.forward(x, state, cache=False)
        y = softmax(dense.forward(out[0], cache=False).T)
        np.random.seed(counter + seed)
        idx = int(np.random.choice(list(range(vocab_size)), p=y.ravel()))
        indices.append(idx)
        x = one_hot(np.array([[idx]]), vocab_size, F64)
        seed += 1
        counter += 1
    if counter == 50:
        indices.append(newline)
    return indices


def model(data, ix_to_char, char_to_ix, num_iterations=35000, n_a=50, dino_names=7, vocab_size=27):
    """Trains the course's character-level RNN one name at a time, printing the course's log.

    data: the names, one a line (a string, or a list of lines). Examples are shuffled after np.random.seed(0);
    the hidden state is carried from one name to the next, as in the course. Every 2000 iterations prints
    `Iteration: %d, Loss: %f` and dino_names sampled names. Returns the learned parameters.
    """
    lines = data.splitlines() if isinstance(data, str) else list(data)
    examples = [line.lower().strip() for line in lines]
    n_x, n_y = vocab_size, vocab_size
    parameters = initialize_parameters(n_a, n_x, n_y)
    loss = get_initial_loss(vocab_size, dino_names)
    np.random.seed(0)
    np.random.shuffle(examples)
    a_prev = np.zeros((n_a, 1))
    for j in range(num_iterations):
        index = j % len(examples)
        X = [None] + [char_to_ix[ch] for ch in examples[index]]
        Y = X[1:] + [char_to_ix["\n"]]
        curr_loss, gradients, a_prev = optimize(X, Y, a_prev, parameters, learning_rate=0.01)
        loss = smooth(loss, curr_loss)
        if j % 2000 == 0:
            print("Iteration: %d, Loss: %f" % (j, loss) + "\n")
            seed = 0
            for _ in range(dino_names):
                print_sample(sample(parameters, char_to_ix, seed), ix_to_char)
                seed += 1
            print("\n")
    return parameters
