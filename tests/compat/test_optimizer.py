"""The compat TF1Adam against TensorFlow's own tf.compat.v1.train.AdamOptimizer (run eagerly)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from psychrnn_widgets.compat.backend._optimizer import TF1Adam


def test_matches_tensorflow_1_adam():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 4)).astype(np.float32)
    gradients = [
        rng.normal(scale=10.0 ** (k - 2), size=(3, 4)).astype(np.float32) for k in range(5)
    ]

    ours = tf.Variable(start)
    adam = TF1Adam(learning_rate=0.01)
    adam.build([ours], ["w"])
    reference = tf.Variable(start)
    reference_adam = tf.compat.v1.train.AdamOptimizer(learning_rate=0.01)
    for gradient in gradients:
        adam.apply([tf.constant(gradient)], [ours])
        reference_adam.apply_gradients([(tf.constant(gradient), reference)])
    np.testing.assert_array_equal(ours.numpy(), reference.numpy())
    m, v = adam.slots["w"]
    np.testing.assert_array_equal(m.numpy(), reference_adam.get_slot(reference, "m").numpy())
    np.testing.assert_array_equal(v.numpy(), reference_adam.get_slot(reference, "v").numpy())


def test_first_step_is_learning_rate_times_sign():
    variable = tf.Variable([1.0, 1.0, 1.0])
    adam = TF1Adam(learning_rate=0.001)
    adam.build([variable], ["w"])
    adam.apply([tf.constant([3.0, -0.5, 0.0])], [variable])
    # m = 0.1 g, v = 0.001 g^2, lr_t = 0.001 sqrt(0.001) / 0.1, so the step is 0.001 g / (|g| + 1e-8 / sqrt(0.001)).
    expected = 1.0 - 0.001 * np.array([3.0, -0.5, 0.0]) / (
        np.abs([3.0, -0.5, 0.0]) + 1e-8 / np.sqrt(0.001)
    )
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6)
