"""Assignment 3: jazz improvisation, the NumPy parts of seqlab's version.

The course builds its networks from Keras layers; here the LSTM cell and the output layer are seqlab's own
(a `step(x, state)` call does both), and what is left to write is the NumPy around them: turning a softmax
output into the next one-hot input, the generation loop, and reading the values out of its outputs.
"""

import numpy as np


def one_hot(x):
    """The one-hot of each row's most likely value, shaped as the next step's input.

    x (m, n_values): softmax outputs. Returns (m, 1, n_values) floats, 1.0 at each row's arg-max.
    """
    m, n_values = x.shape
    ### START CODE HERE ###
    # the arg-max of each row, then a row of zeros with a single one
    out = np.zeros((m, 1, n_values))
    out[np.arange(m), 0, np.argmax(x, axis=1)] = 1.0
    ### END CODE HERE ###
    return out


def inference_loop(step, x0, a0, c0, Ty):
    """Generates Ty values, feeding each step's most likely value back in as the next input.

    step(x (1, n_values), (a, c)) -> (log-probabilities (1, n_values), (a, c)): one LSTM step and the softmax
    layer (it stands for the course's LSTM_cell and densor). x0 (1, 1, n_values), a0, c0 (1, n_a).
    Returns the list of the Ty probability rows, each (1, n_values).
    """
    outputs = []
    x, state = x0.reshape(1, -1), (a0, c0)
    for t in range(Ty):
        ### START CODE HERE ###
        # a step, its probabilities kept, and the next input made from them
        log_p, state = step(x, state)
        p = np.exp(log_p)
        outputs.append(p)
        x = one_hot(p)[:, 0, :]
        ### END CODE HERE ###
    return outputs


def predict_and_sample(inference_model, x_initializer, a_initializer, c_initializer):
    """Runs the inference model and reads out the chosen values.

    inference_model.predict([x (1, 1, n_values), a (1, n_a), c (1, n_a)]) returns Ty arrays (1, n_values).
    Returns results (Ty, n_values), the one-hot of each step's arg-max, and indices (Ty, 1) of those values.
    """
    ### START CODE HERE ###
    # stack the Ty outputs, the arg-max along the values, and their one-hots
    pred = np.stack(inference_model.predict([x_initializer, a_initializer, c_initializer]))[:, 0, :]
    indices = np.argmax(pred, axis=-1)[:, None]
    results = np.eye(pred.shape[1])[indices[:, 0]]
    ### END CODE HERE ###
    return results, indices
