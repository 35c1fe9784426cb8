"""The textbook exercises: 6-1P (backpropagation through time, implemented and checked), 6-3 (why a
residual state update can explode, answered with numbers) and 6-2P (the NumPy backward against PyTorch).

6-1P and 6-2P use torch.nn.RNN's layout: x (T, m, n_x), h (m, n_h), weight_ih (n_h, n_x), weight_hh
(n_h, n_h), bias_ih, bias_hh (n_h,); h⟨t⟩ = tanh(x⟨t⟩·W_ihᵀ + b_ih + h⟨t−1⟩·W_hhᵀ + b_hh).
6-3 uses column vectors: h (n_h, 1), x⟨t⟩ (n_x, 1), h⟨t⟩ = h⟨t−1⟩ + tanh(U·h⟨t−1⟩ + W·x⟨t⟩ + b).
"""

import numpy as np


def bptt(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, dh):
    """6-1P: the gradients of L = Σ_t Σ dh⟨t⟩ ∗ h⟨t⟩ for the RNN above.

    x (T, m, n_x), h0 (m, n_h), dh (T, m, n_h): dL/dh⟨t⟩ from above at each step. Returns a dict: dx (T, m, n_x),
    dh0 (m, n_h), dweight_ih (n_h, n_x), dweight_hh (n_h, n_h), dbias_ih (n_h,), dbias_hh (n_h,).
    """
    T = x.shape[0]
    ### START CODE HERE ###
    # the forward pass, keeping every state; then backwards, adding what comes from step t+1
    hs = [h0]
    for t in range(T):
        hs.append(np.tanh(x[t] @ weight_ih.T + bias_ih + hs[-1] @ weight_hh.T + bias_hh))
    dx = np.zeros_like(x)
    dW_ih, dW_hh, db = np.zeros_like(weight_ih), np.zeros_like(weight_hh), np.zeros_like(bias_ih)
    dnext = np.zeros_like(h0)
    for t in reversed(range(T)):
        dz = (dh[t] + dnext) * (1 - hs[t + 1] ** 2)
        dx[t] = dz @ weight_ih
        dW_ih += dz.T @ x[t]
        dW_hh += dz.T @ hs[t]
        db += dz.sum(axis=0)
        dnext = dz @ weight_hh
    ### END CODE HERE ###
    return {"dx": dx, "dh0": dnext, "dweight_ih": dW_ih, "dweight_hh": dW_hh, "dbias_ih": db,
            "dbias_hh": db.copy()}


def residual_jacobian(h_prev, xt, U, W, b):
    """6-3: ∂h⟨t⟩/∂h⟨t−1⟩ for h⟨t⟩ = h⟨t−1⟩ + tanh(U·h⟨t−1⟩ + W·x⟨t⟩ + b).

    h_prev (n_h, 1), xt (n_x, 1), U (n_h, n_h), W (n_h, n_x), b (n_h, 1). Returns J (n_h, n_h),
    J[i, j] = ∂h⟨t⟩_i / ∂h⟨t−1⟩_j.
    """
    n_h = h_prev.shape[0]
    ### START CODE HERE ###
    # g is the tanh term; differentiate both terms of the update with respect to h⟨t−1⟩
    g = np.tanh(U @ h_prev + W @ xt + b)
    J = np.eye(n_h) + (1 - g ** 2) * U
    ### END CODE HERE ###
    return J


def jacobian_growth(x, h0, U, W, b):
    """6-3: how ∂h⟨t⟩/∂h⟨0⟩ grows: its largest singular value after each step.

    x (n_x, T): the inputs as columns, h0 (n_h, 1). Returns sigma (T,): sigma[t−1] = the largest singular value
    of J⟨t⟩·J⟨t−1⟩ ⋯ J⟨1⟩, each J⟨s⟩ = residual_jacobian at step s.
    """
    T = x.shape[1]
    sigma = np.zeros(T)
    ### START CODE HERE ###
    # run the update, multiplying each new Jacobian on the left
    h = h0
    P = np.eye(h0.shape[0])
    for t in range(T):
        P = residual_jacobian(h, x[:, t:t + 1], U, W, b) @ P
        h = h + np.tanh(U @ h + W @ x[:, t:t + 1] + b)
        sigma[t] = np.linalg.svd(P, compute_uv=False)[0]
    ### END CODE HERE ###
    return sigma


def torch_gradients(x, h0, weight_ih, weight_hh, bias_ih, bias_hh, dh):
    """6-2P: the same gradients as bptt, from torch.nn.RNN and autograd (float64).

    Same arguments as bptt (NumPy arrays); returns the same dict, as NumPy arrays.
    """
    import torch

    ### START CODE HERE ###
    # an RNN holding these weights, autograd from dh, and the gradients back as NumPy
    rnn = torch.nn.RNN(x.shape[2], h0.shape[1]).double()
    with torch.no_grad():
        for name, value in (("weight_ih_l0", weight_ih), ("weight_hh_l0", weight_hh),
                            ("bias_ih_l0", bias_ih), ("bias_hh_l0", bias_hh)):
            getattr(rnn, name).copy_(torch.from_numpy(value))
    xt = torch.tensor(x, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, _ = rnn(xt, h0t)
    out.backward(torch.from_numpy(dh))
    grads = {"dx": xt.grad.numpy(), "dh0": h0t.grad[0].numpy(), "dweight_ih": rnn.weight_ih_l0.grad.numpy(),
             "dweight_hh": rnn.weight_hh_l0.grad.numpy(), "dbias_ih": rnn.bias_ih_l0.grad.numpy(),
             "dbias_hh": rnn.bias_hh_l0.grad.numpy()}
    ### END CODE HERE ###
    return grads
