"""Course-style versions of the exercises with one known mistake switched on (`m`, a mistake id), so that
the grader can recognise a mistake by its effect: same inputs, same (wrong) outputs. With m=None each one
computes the right answer (tests/test_course_exercises.py checks that against the engine)."""

from __future__ import annotations

import numpy as np

from seqlab.course import dinosaurus as dino
from seqlab.course.step_by_step import sigmoid, softmax


def _softmax_batch(z):
    """The softmax taken over the examples (axis 1) instead of the classes."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --- assignment 1 -------------------------------------------------------------------------------------------
def rnn_cell_forward(xt, a_prev, p, m=None):
    act = sigmoid if m == "sigmoid-for-tanh" else np.tanh
    z = p["Waa"] @ a_prev + p["Wax"] @ xt + (0 if m == "missing-bias" else p["ba"])
    a_next = act(z)
    feed = a_prev if m == "output-from-previous-state" else a_next
    sm = _softmax_batch if m == "softmax-wrong-axis" else softmax
    return a_next, sm(p["Wya"] @ feed + p["by"]), (a_next, a_prev, xt, p)


def rnn_forward(x, a0, p, m=None, cell=rnn_cell_forward):
    n_x, mb, T = x.shape
    a, y, caches = [], [], []
    a_next = a0
    for t in range(T):
        a_prev = a0 if m == "state-not-carried" else a_next
        a_next, yt, cache = cell(x[:, :, t], a_prev, p, None if m == "state-not-carried" else m)
        a.append(a_next)
        y.append(yt)
        caches.append(cache)
    return np.stack(a, axis=2), np.stack(y, axis=2), (caches, x)


def lstm_cell_forward(xt, a_prev, c_prev, p, m=None):
    concat = np.concatenate([xt, a_prev] if m == "concat-order" else [a_prev, xt], axis=0)
    ft = sigmoid(p["Wf"] @ concat + p["bf"])
    it = sigmoid(p["Wi"] @ concat + p["bi"])
    cct = (sigmoid if m == "candidate-sigmoid" else np.tanh)(p["Wc"] @ concat + p["bc"])
    ot = sigmoid(p["Wo"] @ concat + p["bo"])
    keep = 1 if m == "forget-gate-missing" else ft
    write = 1 if m == "input-gate-missing" else it
    c_next = keep * c_prev + write * cct
    a_next = ot * (c_next if m == "output-tanh-missing" else np.tanh(c_next))
    yt = softmax(p["Wy"] @ a_next + p["by"])
    return a_next, c_next, yt, (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p)


def lstm_forward(x, a0, p, m=None):
    n_x, mb, T = x.shape
    n_a = a0.shape[0]
    a, y, c, caches = [], [], [], []
    a_next = a0
    c_next = a0 if m == "c0-from-a0" else np.zeros((n_a, mb))
    for t in range(T):
        if m == "cell-state-not-carried":
            c_next = np.zeros((n_a, mb))
        if m == "lstm-state-not-carried":
            a_next = a0
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, p)
        a.append(a_next)
        c.append(c_next)
        y.append(yt)
        caches.append(cache)
    return np.stack(a, axis=2), np.stack(y, axis=2), np.stack(c, axis=2), (caches, x)


def rnn_cell_backward(da_next, cache, m=None):
    a_next, a_prev, xt, p = cache
    dtanh = (1 - a_next) if m == "tanh-derivative-1-minus-a" else (1 - a_next ** 2)
    dz = dtanh if m == "upstream-gradient-not-multiplied" else da_next * dtanh
    axis = 0 if m == "bias-gradient-wrong-axis" else 1
    return {"dxt": p["Wax"].T @ dz, "da_prev": p["Waa"].T @ dz, "dWax": dz @ xt.T, "dWaa": dz @ a_prev.T,
            "dba": np.sum(dz, axis=axis, keepdims=True)}


def rnn_backward(da, caches, m=None):
    steps, x = caches
    n_a, mb, T = da.shape
    p = steps[0][3]
    dx = np.zeros((x.shape[0], mb, T))
    acc = {k: np.zeros_like(p[k[1:]]) for k in ("dWax", "dWaa", "dba")}
    da_prevt = np.zeros((n_a, mb))
    for t in reversed(range(T)):
        carried = 0 if m == "step-t+1-not-added" else da_prevt
        g = rnn_cell_backward(da[:, :, t] + carried, steps[t])
        dx[:, :, t] = g["dxt"]
        da_prevt = g["da_prev"]
        for k in acc:
            acc[k] = g[k] if m == "gradients-not-accumulated" else acc[k] + g[k]
    return {"dx": dx, "da0": da_prevt, **acc}


def lstm_cell_backward(da_next, dc_next, cache, m=None):
    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
    n_a = a_next.shape[0]
    through_a = da_next * ot * (1 - np.tanh(c_next) ** 2)
    dc = dc_next + through_a
    dot = da_next * np.tanh(c_next) * (1 if m == "gate-sigmoid-derivative-missing" else ot * (1 - ot))
    dcct = dc * it * (1 if m == "candidate-derivative-missing" else (1 - cct ** 2))
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate([a_prev, xt], axis=0)
    g = {"dWf": dft @ concat.T, "dWi": dit @ concat.T, "dWc": dcct @ concat.T, "dWo": dot @ concat.T,
         "dbf": dft.sum(1, keepdims=True), "dbi": dit.sum(1, keepdims=True), "dbc": dcct.sum(1, keepdims=True),
         "dbo": dot.sum(1, keepdims=True)}
    dconcat = p["Wf"].T @ dft + p["Wi"].T @ dit + p["Wc"].T @ dcct + p["Wo"].T @ dot
    dc_prev = (dc_next if m == "dc-prev-missing-a-path" else dc) * ft
    return {"dxt": dconcat[n_a:], "da_prev": dconcat[:n_a], "dc_prev": dc_prev, **g}


def lstm_backward(da, caches, m=None):
    steps, x = caches
    n_a, mb, T = da.shape
    n_x = x.shape[0]
    dx = np.zeros((n_x, mb, T))
    acc = {k: np.zeros((n_a, n_a + n_x)) for k in ("dWf", "dWi", "dWc", "dWo")}
    acc.update({k: np.zeros((n_a, 1)) for k in ("dbf", "dbi", "dbc", "dbo")})
    da_prevt, dc_prevt = np.zeros((n_a, mb)), np.zeros((n_a, mb))
    for t in reversed(range(T)):
        g = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, steps[t])
        dx[:, :, t] = g["dxt"]
        if m not in ("course-lstm-backward", "step-t+1-not-added"):
            da_prevt = g["da_prev"]
        if m not in ("course-lstm-backward", "cell-gradient-not-carried"):
            dc_prevt = g["dc_prev"]
        last_da_prev = g["da_prev"]
        for k in acc:
            acc[k] += g[k]
    return {"dx": dx, "da0": last_da_prev, **acc}


# --- assignment 2 -------------------------------------------------------------------------------------------
def clip(gradients, maxValue, m=None):
    out = {}
    for k in ("dWaa", "dWax", "dWya", "db", "dby"):
        g = gradients[k]
        if m == "clip-one-bound":
            out[k] = np.minimum(g, maxValue)
        elif m == "clip-skips-a-gradient" and k == "dby":
            out[k] = g.copy()
        else:
            out[k] = np.clip(g, -maxValue, maxValue)
    return out


def sample(parameters, char_to_ix, seed, m=None):
    Waa, Wax, Wya, by, b = (parameters[k] for k in ("Waa", "Wax", "Wya", "by", "b"))
    V, n_a = by.shape[0], Waa.shape[1]
    x, a_prev = np.zeros((V, 1)), np.zeros((n_a, 1))
    newline = char_to_ix["\n"]
    indices, idx, counter = [], -1, 0
    if m == "sample-seeded-once":
        np.random.seed(seed)
    while (m == "sample-no-newline-stop" or idx != newline) and counter != 50:
        a = np.tanh(Wax @ x + Waa @ a_prev + b)
        y = softmax(Wya @ a + by)
        if m != "sample-seeded-once":
            np.random.seed(counter + seed)
        idx = int(np.argmax(y)) if m == "sample-argmax" else int(np.random.choice(range(V), p=y.ravel()))
        indices.append(idx)
        if m != "sample-input-not-updated":
            x = np.zeros((V, 1))
            x[idx] = 1
        if m != "sample-state-not-carried":
            a_prev = a
        seed += 1
        counter += 1
    if counter == 50:
        indices.append(newline)
    return indices


def optimize(X, Y, a_prev, parameters, learning_rate=0.01, m=None):
    loss, cache = dino.rnn_forward(X, Y, a_prev, parameters)
    gradients, a = dino.rnn_backward(X, Y, parameters, cache)
    if m != "optimize-no-clip":
        gradients = clip(gradients, 5)
    sign = -1 if m == "optimize-gradient-ascent" else 1
    dino.update_parameters(parameters, {k: sign * v for k, v in gradients.items()}, learning_rate)
    return loss, gradients, a[len(X) - 1]


def model(data, ix_to_char, char_to_ix, num_iterations=35000, n_a=50, dino_names=7, vocab_size=27, m=None):
    if m != "model-first-input-not-none":
        return dino.model(data, ix_to_char, char_to_ix, num_iterations, n_a, dino_names, vocab_size)
    examples = [line.strip() for line in data.lower().splitlines()]
    parameters = dino.initialize_parameters(n_a, vocab_size, vocab_size)
    loss = dino.get_initial_loss(vocab_size, dino_names)
    np.random.seed(0)
    np.random.shuffle(examples)
    a_prev = np.zeros((n_a, 1))
    for j in range(num_iterations):
        X = [char_to_ix[ch] for ch in examples[j % len(examples)]]
        curr_loss, _, a_prev = dino.optimize(X, X[1:] + [char_to_ix["\n"]], a_prev, parameters)
        loss = dino.smooth(loss, curr_loss)
        if j % 2000 == 0:
            print("Iteration: %d, Loss: %f" % (j, loss) + "\n")
            for seed in range(dino_names):
                dino.print_sample(dino.sample(parameters, char_to_ix, seed), ix_to_char)
            print("\n")
    return parameters


# --- assignment 3 -------------------------------------------------------------------------------------------
def one_hot(x, m=None):
    n, V = x.shape
    out = np.zeros((n, 1, V))
    if m == "one-hot-argmin":
        out[np.arange(n), 0, np.argmin(x, axis=1)] = 1.0
    elif m == "one-hot-no-repeat-axis":
        return np.eye(V)[np.argmax(x, axis=1)]
    else:
        out[np.arange(n), 0, np.argmax(x, axis=1)] = 1.0
    return out


def inference_loop(step, x0, a0, c0, Ty, m=None):
    outputs, x, state = [], x0.reshape(1, -1), (a0, c0)
    for _ in range(Ty):
        log_p, new_state = step(x, state)
        p = np.exp(log_p)
        outputs.append(log_p if m == "log-probabilities-kept" else p)
        if m != "inference-input-not-fed-back":
            x = one_hot(p)[:, 0, :]
        state = (a0, c0) if m == "inference-state-not-carried" else new_state
    return outputs


def predict_and_sample(inference_model, x0, a0, c0, m=None):
    pred = np.stack(inference_model.predict([x0, a0, c0]))[:, 0, :]
    indices = np.argmax(pred, axis=-1)[:, None]
    results = pred if m == "results-not-one-hot" else np.eye(pred.shape[1])[indices[:, 0]]
    return results, indices


# --- the textbook ---------------------------------------------------------------------------------------------
def bptt(x, h0, W_ih, W_hh, b_ih, b_hh, dh, m=None):
    hs = [h0]
    for t in range(x.shape[0]):
        hs.append(np.tanh(x[t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    dx = np.zeros_like(x)
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b_ih)
    dnext = np.zeros_like(h0)
    for t in reversed(range(x.shape[0])):
        deriv = (1 - hs[t + 1]) if m == "tanh-derivative-1-minus-a" else (1 - hs[t + 1] ** 2)
        dz = (dh[t] + (0 if m == "step-t+1-not-added" else dnext)) * deriv
        dx[t] = dz @ W_ih
        dW_ih += dz.T @ x[t]
        dW_hh += dz.T @ hs[t]
        db += dz.sum(axis=0)
        dnext = dz @ W_hh
    return {"dx": dx, "dh0": dnext, "dweight_ih": dW_ih, "dweight_hh": dW_hh, "dbias_ih": db, "dbias_hh": db}


def residual_jacobian(h_prev, xt, U, W, b, m=None):
    g = np.tanh(U @ h_prev + W @ xt + b)
    if m == "jacobian-derivative-on-wrong-side":
        return np.eye(len(h_prev)) + U * (1 - g.T ** 2)
    skip = 0 if m == "jacobian-identity-missing" else np.eye(len(h_prev))
    return skip + (1 - g ** 2) * U


def jacobian_growth(x, h0, U, W, b, m=None):
    h, P, sigma = h0, np.eye(len(h0)), []
    for t in range(x.shape[1]):
        xt = x[:, t:t + 1]
        J = residual_jacobian(h, xt, U, W, b)
        P = P @ J if m == "jacobian-product-order" else J @ P
        h = h + np.tanh(U @ h + W @ xt + b)
        sigma.append(np.linalg.svd(P, compute_uv=False)[0])
    return np.array(sigma)
