"""PsychRNN's "new model" extension path, written with TensorFlow 2 operations.

``BasicWithFeedforward`` mirrors PsychRNN's NewModel notebook: a trainable feedforward layer
``W_in_first`` in front of a Basic RNN, built by subclassing ``RNN`` and overriding
``recurrent_timestep``, ``output_timestep`` and ``forward_pass``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from compat_helpers import small_params

from psychrnn_widgets.compat.backend.rnn import RNN


class BasicWithFeedforward(RNN):
    def __init__(self, params):
        self.N_feedforward_out = params.get("N_feedforward_out", 6)
        self.W_in_first_train = params.get("W_in_first_train", True)
        super().__init__(params)
        init = self.initializer.initializations
        init["W_in_first"] = self.initializer.rand_init(
            np.ones((self.N_feedforward_out, self.N_in))
        )
        init["feedforward_input_connectivity"] = np.ones((self.N_rec, self.N_feedforward_out))
        init["feedforward_W_in"] = self.initializer.rand_init(
            np.ones((self.N_rec, self.N_feedforward_out))
        )

        def variable(name, trainable):
            value = np.asarray(init[name], dtype=np.float32)
            return tf.Variable(
                self.initializer.get(name)(value.shape, tf.float32), trainable=trainable, name=name
            )

        self.W_in_first = variable("W_in_first", self.W_in_first_train)
        self.input_connectivity = variable("feedforward_input_connectivity", False)
        self.W_in = variable("feedforward_W_in", self.W_in_train)

    def recurrent_timestep(self, rnn_in, state):
        processed = self.transfer_function(tf.matmul(rnn_in, self.W_in_first, transpose_b=True))
        return (
            (1 - self.alpha) * state
            + self.alpha
            * (
                tf.matmul(
                    self.transfer_function(state), self.get_effective_W_rec(), transpose_b=True
                )
                + tf.matmul(processed, self.get_effective_W_in(), transpose_b=True)
                + self.b_rec
            )
            + tf.sqrt(2.0 * self.alpha * self.rec_noise * self.rec_noise)
            * tf.random.normal(tf.shape(state))
        )

    def output_timestep(self, state):
        return (
            tf.matmul(self.transfer_function(state), self.get_effective_W_out(), transpose_b=True)
            + self.b_out
        )

    def forward_pass(self):
        state = self.init_state
        outputs = []
        states = []
        for rnn_in in tf.unstack(self.x, axis=1):
            state = self.recurrent_timestep(rnn_in, state)
            outputs.append(self.output_timestep(state))
            states.append(state)
        return tf.transpose(outputs, [1, 0, 2]), tf.transpose(states, [1, 0, 2])


def _numpy_forward(weights, x):
    state = np.repeat(weights["init_state"], x.shape[0], axis=0).astype(np.float64)
    outputs = []
    for t in range(x.shape[1]):
        processed = np.maximum(x[:, t] @ weights["W_in_first"].T, 0)
        rate = np.maximum(state, 0)
        state = 0.9 * state + 0.1 * (
            rate @ weights["W_rec"].T + processed @ weights["W_in"].T + weights["b_rec"]
        )
        outputs.append(np.maximum(state, 0) @ weights["W_out"].T + weights["b_out"])
    return np.stack(outputs, axis=1)


def test_new_model_forward_matches_numpy():
    np.random.seed(8)
    model = BasicWithFeedforward(small_params(name="feedforward"))
    weights = model.get_weights()
    assert weights["W_in_first"].shape == (6, 2)
    assert weights["W_in"].shape == (10, 6)
    assert weights["feedforward_input_connectivity"].shape == (10, 6)
    x = np.random.default_rng(9).normal(0.5, 0.5, size=(3, 30, 2)).astype(np.float32)
    outputs, states = model.test(x)
    assert states.shape == (3, 30, 10)
    np.testing.assert_allclose(outputs, _numpy_forward(weights, x), atol=1e-5)


def test_new_model_trains_its_own_layer():
    np.random.seed(9)
    model = BasicWithFeedforward(small_params(name="feedforward_train"))
    before = model.get_weights()
    rng = np.random.default_rng(10)

    def batches():
        while True:
            yield (
                rng.normal(0.5, 0.5, size=(4, 30, 2)),
                rng.uniform(size=(4, 30, 2)),
                np.ones((4, 30, 2)),
                None,
            )

    losses, _, _ = model.train(
        batches(), {"training_iters": 12, "loss_epoch": 1, "verbosity": False}
    )
    after = model.get_weights()
    assert len(losses) == 3
    assert np.max(np.abs(after["W_in_first"] - before["W_in_first"])) > 0
    assert np.max(np.abs(after["W_in"] - before["W_in"])) > 0
    assert "W_in_first/Adam" in after
    assert "feedforward_W_in/Adam_1" in after
    # The replaced W_in variable gets no gradient, so it has no Adam slots, as in TensorFlow 1.
    assert "W_in/Adam" not in after
    np.testing.assert_array_equal(
        after["feedforward_input_connectivity"], before["feedforward_input_connectivity"]
    )
