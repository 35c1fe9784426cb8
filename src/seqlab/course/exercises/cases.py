"""The inputs each exercise is graded on: the course's own test set-up first (its draws, in its order), then
hidden cases of other shapes (m = 1, T_x = 1, n_a ≠ n_x, larger sizes).

A case is (label, args): args are the exercise's positional arguments. Backward functions get the cache of
seqlab's forward pass (the course's layout), so that a backward is graded on its own.
"""

from __future__ import annotations

import string

import numpy as np

from seqlab.course import step_by_step as sbs

CHARS = "\n" + string.ascii_lowercase  # the dinosaur names' 27 characters, in the course's order
CHAR_TO_IX = {ch: i for i, ch in enumerate(CHARS)}
IX_TO_CHAR = dict(enumerate(CHARS))
SAMPLE_PREFIX = 42
# a few made-up names for grading `model` (the dataset is not needed to grade)
NAMES = "aardonyx\nbrachiosaurus\ncoelophysis\ndiplodocus\neoraptor\nfukuiraptor\ngallimimus\nhadrosaurus"


# --- assignment 1 -------------------------------------------------------------------------------------------
def _rnn_params(rng, n_x, n_a, n_y):
    return {"Waa": rng.standard_normal((n_a, n_a)), "Wax": rng.standard_normal((n_a, n_x)),
            "Wya": rng.standard_normal((n_y, n_a)), "ba": rng.standard_normal((n_a, 1)),
            "by": rng.standard_normal((n_y, 1))}


def _lstm_params(rng, n_x, n_a, n_y):
    p = {}
    for k in ("f", "i", "o", "c"):
        p["W" + k] = rng.standard_normal((n_a, n_a + n_x))
        p["b" + k] = rng.standard_normal((n_a, 1))
    p["Wy"], p["by"] = rng.standard_normal((n_y, n_a)), rng.standard_normal((n_y, 1))
    return p


class _Legacy:
    """Draws from NumPy's global generator, as the course's cells do (after their np.random.seed(1))."""

    @staticmethod
    def standard_normal(shape):
        return np.random.randn(*shape)


LEGACY = _Legacy()


# the hidden shapes: (label, n_x, n_a, n_y, m, T_x)
HIDDEN = [("m = 1", 3, 5, 2, 1, 4), ("T_x = 1", 3, 5, 2, 4, 1), ("n_a ≠ n_x, larger", 7, 4, 6, 9, 6)]


def rnn_cell_forward():
    np.random.seed(1)
    xt, a_prev = np.random.randn(3, 10), np.random.randn(5, 10)
    p = {"Waa": np.random.randn(5, 5), "Wax": np.random.randn(5, 3), "Wya": np.random.randn(2, 5),
         "ba": np.random.randn(5, 1), "by": np.random.randn(2, 1)}
    out = [("the course's set-up", (xt, a_prev, p))]
    for k, (label, n_x, n_a, n_y, m, _) in enumerate(HIDDEN):
        rng = np.random.default_rng(10 + k)
        out.append((label, (rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m)),
                            _rnn_params(rng, n_x, n_a, n_y))))
    return out


def rnn_forward():
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 4), np.random.randn(5, 10)
    p = {"Waa": np.random.randn(5, 5), "Wax": np.random.randn(5, 3), "Wya": np.random.randn(2, 5),
         "ba": np.random.randn(5, 1), "by": np.random.randn(2, 1)}
    out = [("the course's set-up", (x, a0, p))]
    for k, (label, n_x, n_a, n_y, m, T) in enumerate(HIDDEN):
        rng = np.random.default_rng(20 + k)
        out.append((label, (rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)),
                            _rnn_params(rng, n_x, n_a, n_y))))
    return out


def lstm_cell_forward():
    np.random.seed(1)
    xt, a_prev, c_prev = np.random.randn(3, 10), np.random.randn(5, 10), np.random.randn(5, 10)
    out = [("the course's set-up", (xt, a_prev, c_prev, _lstm_params(LEGACY, 3, 5, 2)))]
    for k, (label, n_x, n_a, n_y, m, _) in enumerate(HIDDEN):
        rng = np.random.default_rng(30 + k)
        out.append((label, (rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m)),
                            rng.standard_normal((n_a, m)), _lstm_params(rng, n_x, n_a, n_y))))
    return out


def lstm_forward():
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 7), np.random.randn(5, 10)
    out = [("the course's set-up", (x, a0, _lstm_params(LEGACY, 3, 5, 2)))]
    for k, (label, n_x, n_a, n_y, m, T) in enumerate(HIDDEN):
        rng = np.random.default_rng(40 + k)
        out.append((label, (rng.standard_normal((n_x, m, T)), rng.standard_normal((n_a, m)),
                            _lstm_params(rng, n_x, n_a, n_y))))
    return out


def rnn_cell_backward():
    # the course's cell: Wax drawn before Waa, and the parameters take the `ba` of the rnn_forward cell
    leftover = rnn_forward()[0][1][2]["ba"]
    np.random.seed(1)
    xt, a_prev = np.random.randn(3, 10), np.random.randn(5, 10)
    Wax, Waa, Wya = np.random.randn(5, 3), np.random.randn(5, 5), np.random.randn(2, 5)
    np.random.randn(5, 1)  # the course draws a `b` here and never uses it
    p = {"Wax": Wax, "Waa": Waa, "Wya": Wya, "ba": leftover, "by": np.random.randn(2, 1)}
    cache = sbs.rnn_cell_forward(xt, a_prev, p)[2]
    out = [("the course's set-up", (np.random.randn(5, 10), cache))]
    for k, (label, (xt, a_prev, p)) in enumerate(rnn_cell_forward()[1:]):
        rng = np.random.default_rng(50 + k)
        out.append((label, (rng.standard_normal(a_prev.shape), sbs.rnn_cell_forward(xt, a_prev, p)[2])))
    return out


def rnn_backward():
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 4), np.random.randn(5, 10)
    p = {"Wax": np.random.randn(5, 3), "Waa": np.random.randn(5, 5), "Wya": np.random.randn(2, 5),
         "ba": np.random.randn(5, 1), "by": np.random.randn(2, 1)}
    caches = sbs.rnn_forward(x, a0, p)[2]
    out = [("the course's set-up", (np.random.randn(5, 10, 4), caches))]
    for k, (label, (x, a0, p)) in enumerate(rnn_forward()[1:]):
        rng = np.random.default_rng(60 + k)
        out.append((label, (rng.standard_normal(a0.shape + x.shape[2:]), sbs.rnn_forward(x, a0, p)[2])))
    return out


def lstm_cell_backward():
    xt, a_prev, c_prev, p = lstm_cell_forward()[0][1]
    np.random.seed(1)   # replay the draws up to where the course's backward cell goes on drawing
    for shape in [(3, 10), (5, 10), (5, 10)] + [(5, 8), (5, 1)] * 4 + [(2, 5), (2, 1)]:
        np.random.randn(*shape)
    cache = sbs.lstm_cell_forward(xt, a_prev, c_prev, p)[3]
    da_next, dc_next = np.random.randn(5, 10), np.random.randn(5, 10)
    out = [("the course's set-up", (da_next, dc_next, cache))]
    for k, (label, (xt, a_prev, c_prev, p)) in enumerate(lstm_cell_forward()[1:]):
        rng = np.random.default_rng(70 + k)
        out.append((label, (rng.standard_normal(a_prev.shape), rng.standard_normal(a_prev.shape),
                            sbs.lstm_cell_forward(xt, a_prev, c_prev, p)[3])))
    return out


def lstm_backward():
    # the course's cell keeps Wy, by of the lstm_cell_backward cell and passes da over 4 of the 7 steps
    leftover = lstm_cell_forward()[0][1][3]
    np.random.seed(1)
    x, a0 = np.random.randn(3, 10, 7), np.random.randn(5, 10)
    p = {}
    for k in ("f", "i", "o", "c"):
        p["W" + k], p["b" + k] = np.random.randn(5, 8), np.random.randn(5, 1)
    p["Wy"], p["by"] = leftover["Wy"], leftover["by"]
    caches = sbs.lstm_forward(x, a0, p)[3]
    out = [("the course's set-up", (np.random.randn(5, 10, 4), caches))]
    for k, (label, (x, a0, p)) in enumerate(lstm_forward()[1:]):
        rng = np.random.default_rng(80 + k)
        out.append((label, (rng.standard_normal(a0.shape + x.shape[2:]), sbs.lstm_forward(x, a0, p)[3])))
    return out


# --- assignment 2 ---------------------------------------------------------------------------------------------
def _dino_grads(rng, n_a, vocab, scale):
    return {"dWax": rng.standard_normal((n_a, vocab)) * scale, "dWaa": rng.standard_normal((n_a, n_a)) * scale,
            "dWya": rng.standard_normal((vocab, n_a)) * scale, "db": rng.standard_normal((n_a, 1)) * scale,
            "dby": rng.standard_normal((vocab, 1)) * scale}


def _dino_params(rng, n_a, vocab, scale=1.0):
    return {"Wax": rng.standard_normal((n_a, vocab)) * scale, "Waa": rng.standard_normal((n_a, n_a)) * scale,
            "Wya": rng.standard_normal((vocab, n_a)) * scale, "b": rng.standard_normal((n_a, 1)) * scale,
            "by": rng.standard_normal((vocab, 1)) * scale}


def clip():
    np.random.seed(3)
    course = {k: np.random.randn(*s) * 10 for k, s in
              (("dWax", (5, 3)), ("dWaa", (5, 5)), ("dWya", (2, 5)), ("db", (5, 1)), ("dby", (2, 1)))}
    return [("the course's set-up", (course, 10)),
            ("maxValue = 5, n_a = 1", (_dino_grads(np.random.default_rng(90), 1, 4, 8.0), 5)),
            ("maxValue = 0.5, larger", (_dino_grads(np.random.default_rng(91), 12, 27, 3.0), 0.5))]


def sample():
    np.random.seed(2)
    n_a, vocab = 100, 27
    course = {"Wax": np.random.randn(n_a, vocab), "Waa": np.random.randn(n_a, n_a),
              "Wya": np.random.randn(vocab, n_a)}
    course["b"], course["by"] = np.random.randn(n_a, 1), np.random.randn(vocab, 1)
    small = _dino_params(np.random.default_rng(92), 6, vocab, 0.05)   # near-uniform: runs to the 50 cap
    sharp = _dino_params(np.random.default_rng(93), 8, vocab, 0.7)
    sharp["by"][CHAR_TO_IX["\n"]] += 2.0   # the newline likely: short names
    # the course's RNN is chaotic: past ~42 draws the indices depend on the BLAS summation order, so only the
    # first PREFIX are compared there (tests/test_course_dinosaurus.py says how that was found)
    return [("the course's set-up", (course, CHAR_TO_IX, 0), {"prefix": SAMPLE_PREFIX}),
            ("seed = 7, small weights", (small, CHAR_TO_IX, 7)),
            ("seed = 3, n_a = 8", (sharp, CHAR_TO_IX, 3))]


def optimize():
    np.random.seed(1)
    vocab, n_a = 27, 100
    a_prev = np.random.randn(n_a, 1)
    course = {"Wax": np.random.randn(n_a, vocab), "Waa": np.random.randn(n_a, n_a),
              "Wya": np.random.randn(vocab, n_a)}
    course["b"], course["by"] = np.random.randn(n_a, 1), np.random.randn(vocab, 1)
    X, Y = [12, 3, 5, 11, 22, 3], [4, 14, 11, 22, 25, 26]
    rng = np.random.default_rng(94)
    small = _dino_params(rng, 7, vocab, 0.3)
    word = [CHAR_TO_IX[ch] for ch in "pteranodon"]
    return [("the course's set-up", (X, Y, a_prev, course, 0.01)),
            ("a name from None, n_a = 7", ([None] + word, word + [0], rng.standard_normal((7, 1)), small, 0.05)),
            ("one character", ([None], [0], np.zeros((7, 1)), _dino_params(rng, 7, vocab, 0.3), 0.01))]


def model():
    return [("8 names, 40 iterations, n_a = 10", (NAMES, IX_TO_CHAR, CHAR_TO_IX, 40, 10, 3, 27))]


# --- assignment 3 -------------------------------------------------------------------------------------------
def _softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_hot():
    rng = np.random.default_rng(95)
    return [("m = 4, 90 values", (_softmax_rows(rng.standard_normal((4, 90)) * 3),)),
            ("m = 1", (_softmax_rows(rng.standard_normal((1, 12))),)),
            ("m = 30, 7 values", (_softmax_rows(rng.standard_normal((30, 7)) * 2),))]


def _jazz_net(n_values, n_a, seed):
    from seqlab.music.model import JazzModel

    return JazzModel(n_values, n_a, rng=np.random.default_rng(seed), dtype=np.float64)


def inference_loop():
    out = []
    for label, V, n_a, Ty, seed in (("90 values, n_a = 16, Ty = 12", 90, 16, 12, 96), ("Ty = 1", 9, 4, 1, 97),
                                    ("13 values, n_a = 5, Ty = 30", 13, 5, 30, 98)):
        net = _jazz_net(V, n_a, seed)
        rng = np.random.default_rng(seed)
        x0 = np.zeros((1, 1, V))
        a0, c0 = rng.standard_normal((1, n_a)) * 0.5, rng.standard_normal((1, n_a)) * 0.5
        out.append((label, (net.step, x0, a0, c0, Ty)))
    return out


def predict_and_sample():
    from seqlab.course.jazz import InferenceModel

    out = []
    for label, V, n_a, Ty, seed in (("90 values, n_a = 16, Ty = 20", 90, 16, 20, 99), ("Ty = 1", 9, 4, 1, 100),
                                    ("11 values, Ty = 40", 11, 6, 40, 101)):
        net = _jazz_net(V, n_a, seed)
        model = InferenceModel(net.lstm, net.dense, V, n_a, Ty)
        out.append((label, (model, np.zeros((1, 1, V)), np.zeros((1, n_a)), np.zeros((1, n_a)))))
    return out


# --- the textbook -----------------------------------------------------------------------------------------------
def bptt():
    out = []
    for label, T, m, n_x, n_h, seed in (("T = 3, m = 3, n_x = 4, n_h = 5 (as 6-2P)", 3, 3, 4, 5, 123),
                                        ("T = 1, m = 1", 1, 1, 2, 3, 124), ("T = 8, m = 6, n_h = 9", 8, 6, 5, 9, 125)):
        rng = np.random.default_rng(seed)
        k = 1 / np.sqrt(n_h)
        out.append((label, (rng.random((T, m, n_x)), rng.random((m, n_h)),
                            rng.uniform(-k, k, (n_h, n_x)), rng.uniform(-k, k, (n_h, n_h)),
                            rng.uniform(-k, k, n_h), rng.uniform(-k, k, n_h), rng.random((T, m, n_h)))))
    return out


torch_gradients = bptt


def residual_jacobian():
    out = []
    for label, n_h, n_x, scale, seed in (("n_h = 4, n_x = 3", 4, 3, 0.5, 126), ("n_h = 1", 1, 2, 1.0, 127),
                                         ("n_h = 10, small U", 10, 4, 0.05, 128)):
        rng = np.random.default_rng(seed)
        out.append((label, (rng.standard_normal((n_h, 1)), rng.standard_normal((n_x, 1)),
                            rng.standard_normal((n_h, n_h)) * scale, rng.standard_normal((n_h, n_x)),
                            rng.standard_normal((n_h, 1)))))
    return out


def jacobian_growth():
    out = []
    for label, n_h, n_x, T, scale, seed in (("n_h = 4, T = 20", 4, 3, 20, 0.3, 129), ("T = 1", 3, 2, 1, 0.5, 130),
                                            ("n_h = 8, T = 50, small U", 8, 3, 50, 0.05, 131)):
        rng = np.random.default_rng(seed)
        out.append((label, (rng.standard_normal((n_x, T)), rng.standard_normal((n_h, 1)),
                            rng.standard_normal((n_h, n_h)) * scale, rng.standard_normal((n_h, n_x)) * 0.5,
                            rng.standard_normal((n_h, 1)) * 0.1)))
    return out
