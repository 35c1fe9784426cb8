"""Mutants of seqlab's solutions, one per entry of the mistake catalogue: (exercise, mistake id, [(old, new)]),
each a plain text edit of the solution's source (written independently of flawed.py, which the grader uses)."""

MUTANTS = [
    (
        "rnn_cell_forward",
        "sigmoid-for-tanh",
        [("a_next = np.tanh(Waa @ a_prev + Wax @ xt + ba)", "a_next = sigmoid(Wax @ xt + Waa @ a_prev + ba)")],
    ),
    (
        "rnn_cell_forward",
        "missing-bias",
        [("np.tanh(Waa @ a_prev + Wax @ xt + ba)", "np.tanh(np.dot(Waa, a_prev) + np.dot(Wax, xt))")],
    ),
    (
        "rnn_cell_forward",
        "softmax-wrong-axis",
        [
            (
                "yt_pred = softmax(Wya @ a_next + by)",
                "z = Wya @ a_next + by\n    yt_pred = np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)",
            )
        ],
    ),
    ("rnn_cell_forward", "output-from-previous-state", [("softmax(Wya @ a_next + by)", "softmax(Wya @ a_prev + by)")]),
    (
        "rnn_forward",
        "state-not-carried",
        [("rnn_cell_forward(x[:, :, t], a_next, parameters)", "rnn_cell_forward(x[:, :, t], a0, parameters)")],
    ),
    ("lstm_cell_forward", "concat-order", [("np.concatenate([a_prev, xt], axis=0)", "np.vstack((xt, a_prev))")]),
    ("lstm_cell_forward", "input-gate-missing", [("c_next = ft * c_prev + it * cct", "c_next = ft * c_prev + cct")]),
    ("lstm_cell_forward", "forget-gate-missing", [("c_next = ft * c_prev + it * cct", "c_next = c_prev + it * cct")]),
    ("lstm_cell_forward", "output-tanh-missing", [("a_next = ot * np.tanh(c_next)", "a_next = ot * c_next")]),
    (
        "lstm_cell_forward",
        "candidate-sigmoid",
        [("cct = np.tanh(Wc @ concat + bc)", "cct = sigmoid(Wc @ concat + bc)")],
    ),
    (
        "lstm_forward",
        "cell-state-not-carried",
        [
            (
                "lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)",
                "lstm_cell_forward(x[:, :, t], a_next, np.zeros((n_a, m)), parameters)",
            )
        ],
    ),
    (
        "lstm_forward",
        "lstm-state-not-carried",
        [
            (
                "lstm_cell_forward(x[:, :, t], a_next, c_next, parameters)",
                "lstm_cell_forward(x[:, :, t], a0, c_next, parameters)",
            )
        ],
    ),
    ("lstm_forward", "c0-from-a0", [("c_next = np.zeros((n_a, m))", "c_next = a0.copy()")]),
    (
        "rnn_cell_backward",
        "tanh-derivative-1-minus-a",
        [("dz = da_next * (1 - a_next ** 2)", "dz = da_next * (1 - a_next)")],
    ),
    (
        "rnn_cell_backward",
        "upstream-gradient-not-multiplied",
        [("dz = da_next * (1 - a_next ** 2)", "dz = 1 - a_next ** 2")],
    ),
    (
        "rnn_cell_backward",
        "bias-gradient-wrong-axis",
        [("dba = np.sum(dz, axis=1, keepdims=True)", "dba = np.sum(dz, axis=0, keepdims=True)")],
    ),
    (
        "rnn_backward",
        "step-t+1-not-added",
        [("rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])", "rnn_cell_backward(da[:, :, t], caches[t])")],
    ),
    (
        "rnn_backward",
        "gradients-not-accumulated",
        [
            ('dWax += gradients["dWax"]', 'dWax = gradients["dWax"]'),
            ('dWaa += gradients["dWaa"]', 'dWaa = gradients["dWaa"]'),
            ('dba += gradients["dba"]', 'dba = gradients["dba"]'),
        ],
    ),
    ("lstm_cell_backward", "dc-prev-missing-a-path", [("dc_prev = dc * ft", "dc_prev = dc_next * ft")]),
    ("lstm_cell_backward", "candidate-derivative-missing", [("dcct = dc * it * (1 - cct ** 2)", "dcct = dc * it")]),
    (
        "lstm_cell_backward",
        "gate-sigmoid-derivative-missing",
        [("dot = da_next * np.tanh(c_next) * ot * (1 - ot)", "dot = da_next * np.tanh(c_next)")],
    ),
    (
        "lstm_backward",
        "course-lstm-backward",
        [
            (
                "lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])",
                "lstm_cell_backward(da[:, :, t], dc_prevt, caches[t])",
            ),
            ('da_prevt, dc_prevt = step["da_prev"], step["dc_prev"]', 'da_prevt = step["da_prev"]'),
        ],
    ),
    (
        "lstm_backward",
        "step-t+1-not-added",
        [
            (
                "lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])",
                "lstm_cell_backward(da[:, :, t], dc_prevt, caches[t])",
            )
        ],
    ),
    (
        "lstm_backward",
        "cell-gradient-not-carried",
        [('da_prevt, dc_prevt = step["da_prev"], step["dc_prev"]', 'da_prevt = step["da_prev"]')],
    ),
    ("clip", "clip-one-bound", [("np.clip(g, -maxValue, maxValue)", "np.minimum(g, maxValue)")]),
    (
        "clip",
        "clip-skips-a-gradient",
        [
            (
                "dWaa, dWax, dWya, db, dby = (np.clip(g, -maxValue, maxValue) for g in (dWaa, dWax, dWya, db, dby))",
                "dWaa, dWax, dWya, db = (np.clip(g, -maxValue, maxValue) for g in (dWaa, dWax, dWya, db))",
            )
        ],
    ),
    (
        "sample",
        "sample-no-newline-stop",
        [("while idx != newline_character and counter != 50:", "while counter < 50:")],
    ),
    (
        "sample",
        "sample-seeded-once",
        [
            ("        np.random.seed(counter + seed)\n", ""),
            ("    indices = []\n", "    indices = []\n    np.random.seed(seed)\n"),
        ],
    ),
    (
        "sample",
        "sample-argmax",
        [("idx = int(np.random.choice(range(vocab_size), p=y.ravel()))", "idx = int(np.argmax(y))")],
    ),
    ("sample", "sample-input-not-updated", [("        x = np.zeros((vocab_size, 1))\n        x[idx] = 1\n", "")]),
    ("sample", "sample-state-not-carried", [("        a_prev = a\n", "")]),
    ("optimize", "optimize-no-clip", [("    gradients = clip(gradients, 5)\n", "")]),
    (
        "optimize",
        "optimize-gradient-ascent",
        [
            (
                "update_parameters(parameters, gradients, learning_rate)",
                "update_parameters(parameters, gradients, -learning_rate)",
            )
        ],
    ),
    (
        "model",
        "model-first-input-not-none",
        [("X = [None] + [char_to_ix[ch] for ch in examples[index]]", "X = [char_to_ix[ch] for ch in examples[index]]")],
    ),
    ("one_hot", "one-hot-argmin", [("np.argmax(x, axis=1)", "np.argmin(x, axis=1)")]),
    (
        "one_hot",
        "one-hot-no-repeat-axis",
        [
            (
                "    out = np.zeros((m, 1, n_values))\n    out[np.arange(m), 0, np.argmax(x, axis=1)] = 1.0\n",
                "    out = np.eye(n_values)[x.argmax(axis=1)]\n",
            )
        ],
    ),
    ("inference_loop", "log-probabilities-kept", [("outputs.append(p)", "outputs.append(log_p)")]),
    ("inference_loop", "inference-input-not-fed-back", [("        x = one_hot(p)[:, 0, :]\n", "")]),
    ("inference_loop", "inference-state-not-carried", [("log_p, state = step(x, state)", "log_p, _ = step(x, state)")]),
    (
        "predict_and_sample",
        "results-not-one-hot",
        [("results = np.eye(pred.shape[1])[indices[:, 0]]", "results = pred")],
    ),
    (
        "bptt",
        "step-t+1-not-added",
        [("dz = (dh[t] + dnext) * (1 - hs[t + 1] ** 2)", "dz = dh[t] * (1 - hs[t + 1] ** 2)")],
    ),
    (
        "bptt",
        "tanh-derivative-1-minus-a",
        [("dz = (dh[t] + dnext) * (1 - hs[t + 1] ** 2)", "dz = (dh[t] + dnext) * (1 - hs[t + 1])")],
    ),
    (
        "residual_jacobian",
        "jacobian-identity-missing",
        [("J = np.eye(n_h) + (1 - g ** 2) * U", "J = (1 - g ** 2) * U")],
    ),
    (
        "residual_jacobian",
        "jacobian-derivative-on-wrong-side",
        [("J = np.eye(n_h) + (1 - g ** 2) * U", "J = np.eye(n_h) + U @ np.diag(1 - g[:, 0] ** 2)")],
    ),
    (
        "jacobian_growth",
        "jacobian-product-order",
        [
            (
                "P = residual_jacobian(h, x[:, t:t + 1], U, W, b) @ P",
                "P = P @ residual_jacobian(h, x[:, t:t + 1], U, W, b)",
            )
        ],
    ),
]
