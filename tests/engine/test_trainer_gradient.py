"""The trainer's hand-written backward pass matches automatic differentiation of RateRNN."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import NetworkConfig, Trainer, TrainingConfig, build_network
from psychrnn_widgets.engine._bptt import fast_forward
from psychrnn_widgets.tasks import PerceptualDiscrimination

N_REC = 12


def loss_and_gradients(network, forward, inputs, targets, noise):
    with tf.GradientTape() as tape:
        outputs, states = forward(tf.constant(inputs), tf.constant(noise))
        loss = tf.reduce_mean(tf.square(outputs - targets)) + 0.1 * tf.reduce_mean(tf.square(states))
    gradients = tape.gradient(loss, network.trainable_variables)
    return outputs.numpy(), states.numpy(), [g.numpy() for g in gradients]


@pytest.mark.parametrize("transfer_function", ["relu", "tanh", "sigmoid", "softplus", "linear"])
def test_fast_gradient_matches_autodiff(transfer_function):
    rng = np.random.default_rng(3)
    config = NetworkConfig(
        N_in=3,
        N_rec=N_REC,
        N_out=2,
        tau=rng.uniform(20.0, 200.0, N_REC),
        rec_noise=0.2,
        transfer_function=transfer_function,
        dale_ratio=0.75,
        autapses=False,
        rec_connectivity=(rng.random((N_REC, N_REC)) > 0.2).astype(float),
        seed=2,
    )
    network = build_network(config)
    forward = fast_forward(network)
    assert forward is not None
    inputs = rng.normal(size=(5, 17, 3)).astype(np.float32)
    targets = rng.normal(size=(5, 17, 2)).astype(np.float32)
    noise = rng.normal(size=(5, 17, N_REC)).astype(np.float32)

    expected = loss_and_gradients(network, network.forward, inputs, targets, noise)
    got = loss_and_gradients(network, forward, inputs, targets, noise)

    np.testing.assert_allclose(got[0], expected[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-5, atol=1e-6)
    for name, g_got, g_expected in zip(network.variables, got[2], expected[2]):
        np.testing.assert_allclose(g_got, g_expected, rtol=1e-4, atol=1e-6, err_msg=name)


def test_custom_transfer_function_uses_network_forward():
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=2, transfer_function=lambda x: x * x, seed=0))
    assert fast_forward(network) is None


def test_fast_and_autodiff_training_agree():
    task = PerceptualDiscrimination(dt=10, tau=100, T=200, N_batch=8)
    weights = []
    for fast in (True, False):
        network = build_network(NetworkConfig.for_task(task, N_rec=N_REC, seed=1))
        Trainer(network, task, TrainingConfig(max_updates=5, seed=0), fast_gradient=fast, jit_compile=False).run()
        weights.append(network.get_weights())
    for name in weights[0]:
        np.testing.assert_allclose(weights[0][name], weights[1][name], rtol=1e-4, atol=1e-5, err_msg=name)
