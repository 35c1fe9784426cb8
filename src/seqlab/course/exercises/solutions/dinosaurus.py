"""Assignment 2: Dinosaurus Island, a character-level language model that invents names.

One example at a time, column vectors: x⟨t⟩ one-hot (vocab_size, 1), a⟨t⟩ (n_a, 1); parameters Wax
(n_a, vocab_size), Waa (n_a, n_a), Wya (vocab_size, n_a), b (n_a, 1), by (vocab_size, 1).
"""

import numpy as np

from seqlab.course.dinosaurus import (
    get_initial_loss,
    initialize_parameters,
    print_sample,
    rnn_backward,
    rnn_forward,
    smooth,
    softmax,
    update_parameters,
)


def clip(gradients, maxValue):
    """Clips every gradient to [−maxValue, maxValue], so that one bad step cannot blow the weights up.

    gradients: dict with dWaa (n_a, n_a), dWax (n_a, vocab), dWya (vocab, n_a), db (n_a, 1), dby (vocab, 1).
    Returns a dict with the same five keys, every entry clipped.
    """
    dWaa, dWax, dWya = gradients["dWaa"], gradients["dWax"], gradients["dWya"]
    db, dby = gradients["db"], gradients["dby"]
    ### START CODE HERE ###
    # both bounds, on all five arrays
    dWaa, dWax, dWya, db, dby = (np.clip(g, -maxValue, maxValue) for g in (dWaa, dWax, dWya, db, dby))
    ### END CODE HERE ###
    return {"dWaa": dWaa, "dWax": dWax, "dWya": dWya, "db": db, "dby": dby}


def sample(parameters, char_to_ix, seed):
    """Draws one name, character by character, from the model's distribution.

    The first input is the zero vector and the state starts at zero. Before each draw the global generator is
    reseeded with np.random.seed(counter + seed); seed and counter then grow by one. Stops at the newline or
    after 50 characters (then a newline is appended). Returns the list of drawn indices.
    """
    Waa, Wax, Wya, by, b = (parameters[k] for k in ("Waa", "Wax", "Wya", "by", "b"))
    vocab_size = by.shape[0]
    n_a = Waa.shape[1]
    ### START CODE HERE ###
    # a zero input and a zero state to start from
    x = np.zeros((vocab_size, 1))
    a_prev = np.zeros((n_a, 1))
    ### END CODE HERE ###
    indices = []
    idx = -1
    counter = 0
    newline_character = char_to_ix["\n"]
    while idx != newline_character and counter != 50:
        ### START CODE HERE ###
        # one step forward, a seeded draw from ŷ, and the drawn character becomes the next input
        a = np.tanh(Wax @ x + Waa @ a_prev + b)
        y = softmax(Wya @ a + by)
        np.random.seed(counter + seed)
        idx = int(np.random.choice(range(vocab_size), p=y.ravel()))
        indices.append(idx)
        x = np.zeros((vocab_size, 1))
        x[idx] = 1
        a_prev = a
        ### END CODE HERE ###
        seed += 1
        counter += 1
    if counter == 50:
        indices.append(char_to_ix["\n"])
    return indices


def optimize(X, Y, a_prev, parameters, learning_rate=0.01):
    """One step of training on one example: forward, backward through time, clip at 5, gradient descent.

    X, Y: lists of indices (Y is X shifted left by one, ending with the newline); a_prev (n_a, 1).
    Updates parameters in place and returns (loss, the five clipped gradients, a⟨T⟩ (n_a, 1), the last state).
    """
    ### START CODE HERE ###
    # rnn_forward, rnn_backward, clip and update_parameters are given
    loss, cache = rnn_forward(X, Y, a_prev, parameters)
    gradients, a = rnn_backward(X, Y, parameters, cache)
    gradients = clip(gradients, 5)
    parameters = update_parameters(parameters, gradients, learning_rate)
    ### END CODE HERE ###
    return loss, gradients, a[len(X) - 1]


def model(data, ix_to_char, char_to_ix, num_iterations=35000, n_a=50, dino_names=7, vocab_size=27):
    """Trains the model one name at a time and prints a few sampled names every 2000 iterations.

    data: the names, one a line. Returns the learned parameters.
    """
    n_x, n_y = vocab_size, vocab_size
    parameters = initialize_parameters(n_a, n_x, n_y)
    loss = get_initial_loss(vocab_size, dino_names)
    examples = [line.strip() for line in data.lower().splitlines()]
    np.random.seed(0)
    np.random.shuffle(examples)
    a_prev = np.zeros((n_a, 1))
    for j in range(num_iterations):
        ### START CODE HERE ###
        # the j-th name (wrapping round); X starts with None (a zero input), Y is X shifted, ending in "\n"
        index = j % len(examples)
        X = [None] + [char_to_ix[ch] for ch in examples[index]]
        Y = X[1:] + [char_to_ix["\n"]]
        curr_loss, gradients, a_prev = optimize(X, Y, a_prev, parameters, learning_rate=0.01)
        ### END CODE HERE ###
        loss = smooth(loss, curr_loss)
        if j % 2000 == 0:
            print("Iteration: %d, Loss: %f" % (j, loss) + "\n")
            seed = 0
            for name in range(dino_names):
                print_sample(sample(parameters, char_to_ix, seed), ix_to_char)
                seed += 1
            print("\n")
    return parameters
