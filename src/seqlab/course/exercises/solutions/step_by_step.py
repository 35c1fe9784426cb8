"""Assignment 1: a recurrent network, step by step (forward and backward, RNN and LSTM).

Layout: inputs x (n_x, m, T_x), states (n_a, m), weights act on column vectors, biases are (n, 1) columns.
"""

import numpy as np

from seqlab.course.step_by_step import sigmoid, softmax


def rnn_cell_forward(xt, a_prev, parameters):
    """One step of a plain RNN.

    xt (n_x, m): the input at step t; a_prev (n_a, m): the hidden state of step t−1;
    parameters: Wax (n_a, n_x), Waa (n_a, n_a), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1).
    Returns a_next (n_a, m), yt_pred (n_y, m) and cache = (a_next, a_prev, xt, parameters).

    a⟨t⟩ = tanh(Waa·a⟨t−1⟩ + Wax·x⟨t⟩ + ba),  ŷ⟨t⟩ = softmax(Wya·a⟨t⟩ + by)
    """
    Wax, Waa, Wya = parameters["Wax"], parameters["Waa"], parameters["Wya"]
    ba, by = parameters["ba"], parameters["by"]
    ### START CODE HERE ###
    # the new hidden state, then the prediction made from it
    a_next = np.tanh(Waa @ a_prev + Wax @ xt + ba)
    yt_pred = softmax(Wya @ a_next + by)
    ### END CODE HERE ###
    cache = (a_next, a_prev, xt, parameters)
    return a_next, yt_pred, cache


def rnn_forward(x, a0, parameters):
    """The RNN over a whole sequence.

    x (n_x, m, T_x), a0 (n_a, m). Returns a (n_a, m, T_x), y_pred (n_y, m, T_x) and
    caches = (list of the T_x caches of rnn_cell_forward, x).
    """
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wya"].shape
    ### START CODE HERE ###
    # room for every step's state and prediction; the state starts at a0 and is carried on
    a = np.zeros((n_a, m, T_x))
    y_pred = np.zeros((n_y, m, T_x))
    a_next = a0
    for t in range(T_x):
        a_next, yt_pred, cache = rnn_cell_forward(x[:, :, t], a_next, parameters)
        a[:, :, t] = a_next
        y_pred[:, :, t] = yt_pred
        caches.append(cache)
    ### END CODE HERE ###
    caches = (caches, x)
    return a, y_pred, caches


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    """One step of an LSTM.

    xt (n_x, m), a_prev (n_a, m), c_prev (n_a, m); parameters: Wf, Wi, Wc, Wo (n_a, n_a + n_x) acting on
    the stacked [a⟨t−1⟩; x⟨t⟩], bf, bi, bc, bo (n_a, 1), Wy (n_y, n_a), by (n_y, 1).
    Returns a_next, c_next (n_a, m), yt_pred (n_y, m) and
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters).

    Γf = σ(Wf[a⟨t−1⟩; x⟨t⟩] + bf), Γi = σ(Wi[…] + bi), c̃ = tanh(Wc[…] + bc), Γo = σ(Wo[…] + bo),
    c⟨t⟩ = Γf ∗ c⟨t−1⟩ + Γi ∗ c̃,  a⟨t⟩ = Γo ∗ tanh(c⟨t⟩),  ŷ⟨t⟩ = softmax(Wy·a⟨t⟩ + by)
    """
    Wf, bf, Wi, bi = parameters["Wf"], parameters["bf"], parameters["Wi"], parameters["bi"]
    Wc, bc, Wo, bo = parameters["Wc"], parameters["bc"], parameters["Wo"], parameters["bo"]
    Wy, by = parameters["Wy"], parameters["by"]
    ### START CODE HERE ###
    # stack the previous state above the input, then the three gates and the candidate
    concat = np.concatenate([a_prev, xt], axis=0)
    ft = sigmoid(Wf @ concat + bf)
    it = sigmoid(Wi @ concat + bi)
    cct = np.tanh(Wc @ concat + bc)
    ot = sigmoid(Wo @ concat + bo)
    c_next = ft * c_prev + it * cct
    a_next = ot * np.tanh(c_next)
    yt_pred = softmax(Wy @ a_next + by)
    ### END CODE HERE ###
    cache = (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters)
    return a_next, c_next, yt_pred, cache


def lstm_forward(x, a0, parameters):
    """The LSTM over a whole sequence, the memory cell starting at zero.

    x (n_x, m, T_x), a0 (n_a, m). Returns a (n_a, m, T_x), y (n_y, m, T_x), c (n_a, m, T_x) and
    caches = (list of the T_x caches of lstm_cell_forward, x).
    """
    caches = []
    n_x, m, T_x = x.shape
    n_y, n_a = parameters["Wy"].shape
    ### START CODE HERE ###
    # both the hidden state and the memory cell are carried from step to step
    a = np.zeros((n_a, m, T_x))
    c = np.zeros((n_a, m, T_x))
    y = np.zeros((n_y, m, T_x))
    a_next = a0
    c_next = np.zeros((n_a, m))
    for t in range(T_x):
        a_next, c_next, yt, cache = lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)
        a[:, :, t] = a_next
        c[:, :, t] = c_next
        y[:, :, t] = yt
        caches.append(cache)
    ### END CODE HERE ###
    caches = (caches, x)
    return a, y, c, caches


def rnn_cell_backward(da_next, cache):
    """The gradients of one RNN step.

    da_next (n_a, m): dL/da⟨t⟩; cache from rnn_cell_forward. Returns a dict: dxt (n_x, m), da_prev (n_a, m),
    dWax (n_a, n_x), dWaa (n_a, n_a), dba (n_a, 1).

    dz = da⟨t⟩ ∗ (1 − a⟨t⟩²) (tanh′ written with the output), then dWax = dz·xᵀ, dWaa = dz·a⟨t−1⟩ᵀ,
    dba = Σ_m dz, dxt = Waxᵀ·dz, da_prev = Waaᵀ·dz
    """
    a_next, a_prev, xt, parameters = cache
    Wax, Waa = parameters["Wax"], parameters["Waa"]
    ### START CODE HERE ###
    # back through the tanh first; everything else is a product with dz
    dz = da_next * (1 - a_next ** 2)
    dxt = Wax.T @ dz
    dWax = dz @ xt.T
    da_prev = Waa.T @ dz
    dWaa = dz @ a_prev.T
    dba = np.sum(dz, axis=1, keepdims=True)
    ### END CODE HERE ###
    return {"dxt": dxt, "da_prev": da_prev, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def rnn_backward(da, caches):
    """Backpropagation through time for the RNN.

    da (n_a, m, T_x): dL/da⟨t⟩ coming from above (the predictions) at every step; caches from rnn_forward.
    Returns a dict: dx (n_x, m, T_x), da0 (n_a, m), dWax (n_a, n_x), dWaa (n_a, n_a), dba (n_a, 1).
    """
    (caches, x) = caches
    (a1, a0, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    ### START CODE HERE ###
    # walk backwards; step t gets its own da⟨t⟩ plus what came back from step t+1
    dx = np.zeros((n_x, m, T_x))
    dWax = np.zeros((n_a, n_x))
    dWaa = np.zeros((n_a, n_a))
    dba = np.zeros((n_a, 1))
    da_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])
        dx[:, :, t] = gradients["dxt"]
        da_prevt = gradients["da_prev"]
        dWax += gradients["dWax"]
        dWaa += gradients["dWaa"]
        dba += gradients["dba"]
    da0 = da_prevt
    ### END CODE HERE ###
    return {"dx": dx, "da0": da0, "dWax": dWax, "dWaa": dWaa, "dba": dba}


def lstm_cell_backward(da_next, dc_next, cache):
    """The gradients of one LSTM step.

    da_next, dc_next (n_a, m): dL/da⟨t⟩ and dL/dc⟨t⟩; cache from lstm_cell_forward. Returns a dict: dxt (n_x, m),
    da_prev (n_a, m), dc_prev (n_a, m), dWf, dWi, dWc, dWo (n_a, n_a + n_x), dbf, dbi, dbc, dbo (n_a, 1).

    dc = dc⟨t⟩ + da⟨t⟩ ∗ Γo ∗ (1 − tanh²(c⟨t⟩)) is everything that reaches c⟨t⟩; then
    dΓo = da⟨t⟩ ∗ tanh(c⟨t⟩) ∗ Γo(1 − Γo), dc̃ = dc ∗ Γi ∗ (1 − c̃²), dΓi = dc ∗ c̃ ∗ Γi(1 − Γi),
    dΓf = dc ∗ c⟨t−1⟩ ∗ Γf(1 − Γf) (each taken before its activation), dc_prev = dc ∗ Γf.
    """
    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache
    n_a, m = a_next.shape
    ### START CODE HERE ###
    # all that reaches c⟨t⟩, then each gate's pre-activation gradient, then the products
    dc = dc_next + da_next * ot * (1 - np.tanh(c_next) ** 2)
    dot = da_next * np.tanh(c_next) * ot * (1 - ot)
    dcct = dc * it * (1 - cct ** 2)
    dit = dc * cct * it * (1 - it)
    dft = dc * c_prev * ft * (1 - ft)
    concat = np.concatenate([a_prev, xt], axis=0)
    dWf, dWi, dWc, dWo = dft @ concat.T, dit @ concat.T, dcct @ concat.T, dot @ concat.T
    dbf, dbi = np.sum(dft, axis=1, keepdims=True), np.sum(dit, axis=1, keepdims=True)
    dbc, dbo = np.sum(dcct, axis=1, keepdims=True), np.sum(dot, axis=1, keepdims=True)
    dconcat = (parameters["Wf"].T @ dft + parameters["Wi"].T @ dit
               + parameters["Wc"].T @ dcct + parameters["Wo"].T @ dot)
    da_prev = dconcat[:n_a]
    dxt = dconcat[n_a:]
    dc_prev = dc * ft
    ### END CODE HERE ###
    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, "dWf": dWf, "dbf": dbf, "dWi": dWi,
            "dbi": dbi, "dWc": dWc, "dbc": dbc, "dWo": dWo, "dbo": dbo}


def lstm_backward(da, caches):
    """Backpropagation through time for the LSTM.

    da (n_a, m, T_x): dL/da⟨t⟩ coming from above at every step; caches from lstm_forward. Returns a dict:
    dx (n_x, m, T_x), da0 (n_a, m), dWf, dWi, dWc, dWo (n_a, n_a + n_x), dbf, dbi, dbc, dbo (n_a, 1).
    """
    (caches, x) = caches
    (a1, c1, a0, c0, f1, i1, cc1, o1, x1, parameters) = caches[0]
    n_a, m, T_x = da.shape
    n_x, m = x1.shape
    ### START CODE HERE ###
    # step t gets da⟨t⟩ plus da_prev and dc_prev from step t+1; the weights' gradients add up
    dx = np.zeros((n_x, m, T_x))
    grads = {k: np.zeros((n_a, n_a + n_x)) for k in ("dWf", "dWi", "dWc", "dWo")}
    grads.update({k: np.zeros((n_a, 1)) for k in ("dbf", "dbi", "dbc", "dbo")})
    da_prevt = np.zeros((n_a, m))
    dc_prevt = np.zeros((n_a, m))
    for t in reversed(range(T_x)):
        step = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])
        dx[:, :, t] = step["dxt"]
        da_prevt, dc_prevt = step["da_prev"], step["dc_prev"]
        for k in grads:
            grads[k] += step[k]
    da0 = da_prevt
    ### END CODE HERE ###
    return {"dx": dx, "da0": da0, **grads}
