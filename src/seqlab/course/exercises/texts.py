"""What the exercise notebooks say around each function (our own words): a short note before it and, for a
few, a cell after its check that runs an experiment with the learner's function."""

NOTES = {
    "rnn_cell_forward": "One time step of a plain RNN: the new state mixes the previous state and the input "
                        "through tanh, and a softmax over the classes (axis 0: one column per example) reads "
                        "a prediction off the new state.",
    "rnn_forward": "The cell applied along the sequence. The state of each step is the input state of the next; "
                   "keep every step's cache, the backward pass will need them in this order.",
    "lstm_cell_forward": "An LSTM step. The three gates and the candidate all read the same stacked vector "
                         "[a⟨t−1⟩; x⟨t⟩] (previous state on top). The memory cell keeps what the forget gate "
                         "lets through and adds what the input gate lets in.",
    "lstm_forward": "The LSTM along the sequence; the memory cell starts at zero and, like the hidden state, is "
                    "carried from step to step.",
    "rnn_cell_backward": "Back through one RNN step. Everything goes through the tanh first; since a⟨t⟩ is "
                         "tanh's output, its slope is 1 − a⟨t⟩². The bias gradient sums over the examples.",
    "rnn_backward": "Backpropagation through time: walk the steps backwards. Step t gets the gradient of its own "
                    "prediction, da⟨t⟩, *plus* the gradient that came back from step t+1; the weights are shared, "
                    "so their gradients add up over the steps.",
    "lstm_cell_backward": "Back through one LSTM step. The cell c⟨t⟩ is reached twice: directly (dc_next) and "
                          "through a⟨t⟩ = Γo ∗ tanh(c⟨t⟩). Add both before going into the gates.",
    "lstm_backward": "Backpropagation through time for the LSTM: each step gets da⟨t⟩ plus da_prev *and* dc_prev "
                     "from step t+1. Careful: the course's own printed expected output for this function leaves "
                     "out what arrives from step t+1, so it is not the gradient. This grader checks the true "
                     "gradient (against seqlab's engine and a gradient check) and tells you if you reproduced "
                     "the course's number instead.",
    "clip": "Exploding gradients are tamed by clipping each entry to [−maxValue, maxValue] (both bounds).",
    "sample": "Sampling a name: feed the zero vector first, draw each character from ŷ, feed it back as a one-hot, "
              "stop at the newline. The reseeding rule is the course's, so that your names are the course's.",
    "optimize": "One training step on one name, with the helpers given: forward, backward, clip at 5, update.",
    "model": "The training loop (graded on a few made-up names, 40 iterations): build X and Y for the j-th name and "
             "call your optimize. X starts with None, the zero input; Y is X shifted by one, ending in the newline.",
    "one_hot": "The course's Keras Lambda layer turned a softmax output into the next input. Here: the arg-max "
               "of each row, as a one-hot shaped (m, 1, n_values).",
    "inference_loop": "Generation, one value at a time. `step` stands for the course's LSTM_cell + densor (seqlab's "
                      "own LSTM and Dense): it returns log-probabilities and the new state.",
    "predict_and_sample": "Reading the chosen values out of the inference model's Ty outputs.",
    "bptt": "Exercise 6-1P asks to derive backpropagation through time; here you implement it for torch.nn.RNN's "
            "layout (rows are examples) and the grader checks it against seqlab's engine.",
    "residual_jacobian": "Exercise 6-3: with the update h⟨t⟩ = h⟨t−1⟩ + g(x⟨t⟩, h⟨t−1⟩), what is ∂h⟨t⟩/∂h⟨t−1⟩? "
                         "Write it down, then compute it.",
    "jacobian_growth": "Exercise 6-3, in numbers: the gradient reaching h⟨0⟩ from h⟨t⟩ is multiplied by "
                       "J⟨t⟩ ⋯ J⟨1⟩. How large can that product get?",
    "torch_gradients": "Exercise 6-2P: the same gradients from PyTorch's torch.nn.RNN and autograd, to set beside "
                       "your NumPy backward.",
}

AFTER = {
    "jacobian_growth": '''# The experiment: a tiny U does not make the product shrink. Why? Answer from the numbers.
rng = np.random.default_rng(0)
for scale in (0.01, 0.1, 0.5):
    U = rng.standard_normal((8, 8)) * scale
    s = jacobian_growth(rng.standard_normal((3, 100)), np.zeros((8, 1)), U, rng.standard_normal((8, 3)),
                        np.zeros((8, 1)))
    print(f"U scaled by {scale}: largest singular value after 1, 10, 100 steps:", s[[0, 9, 99]].round(3))
# Each J = I + diag(1 − g²)·U: the identity keeps every singular value near 1 or above, and any direction
# that U stretches is stretched again at every step. Gates (GRU, LSTM) or gradient clipping are the usual cures.''',
    "torch_gradients": '''# 6-2P: your NumPy backward beside PyTorch's autograd on the same numbers
rng = np.random.default_rng(123)
shapes = ((5, 4), (5, 5), 5, 5)
args = (rng.random((3, 3, 4)), rng.random((3, 5)), *(rng.uniform(-0.4, 0.4, s) for s in shapes), rng.random((3, 3, 5)))
try:
    mine, theirs = bptt(*args), torch_gradients(*args)
    for k in mine:
        print(f"{k:11s} largest difference {np.max(np.abs(np.asarray(mine[k]) - np.asarray(theirs[k]))):.1e}")
except Exception as exc:  # a blank, or PyTorch not installed
    print("not yet:", exc)''',
}
