"""RateRNN: the update equation, noise, effective weights, flags, seeds and weight access."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import NetworkConfig, RateRNN, build_network
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError

NUMPY_TRANSFER = {
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "linear": lambda x: x,
}


def reference_run(raw, config, inputs, noise=None):
    """Float64 NumPy transcription of the update equation, with Dale matrices as diagonals."""
    f = NUMPY_TRANSFER[config.transfer_function]
    masks = config.masks()
    w_in = raw["W_in"] * masks["input_connectivity"]
    w_rec = raw["W_rec"] * masks["rec_connectivity"]
    w_out = raw["W_out"] * masks["output_connectivity"]
    if config.dale_ratio is not None:
        n_e = int(config.dale_ratio * config.N_rec)
        d_rec = np.diag([1.0] * n_e + [-1.0] * (config.N_rec - n_e))
        d_out = np.diag([1.0] * n_e + [0.0] * (config.N_rec - n_e))
        w_in = np.abs(w_in)
        w_rec = np.abs(w_rec) @ d_rec
        w_out = np.abs(w_out) @ d_out
    alpha = np.asarray(config.dt / np.asarray(config.tau, dtype=np.float64))
    n_batch, n_steps, _ = inputs.shape
    state = np.tile(raw["init_state"], (n_batch, 1))
    states, outputs = [], []
    for t in range(n_steps):
        state = (1 - alpha) * state + alpha * (
            f(state) @ w_rec.T + inputs[:, t] @ w_in.T + raw["b_rec"]
        )
        if noise is not None:
            state = state + np.sqrt(2 * alpha * config.rec_noise**2) * noise[:, t]
        states.append(state)
        outputs.append(f(state) @ w_out.T + raw["b_out"])
    return np.stack(outputs, axis=1), np.stack(states, axis=1)


def constrained_config(**changes):
    rng = np.random.default_rng(5)
    values = dict(
        N_in=3,
        N_rec=10,
        N_out=2,
        dt=10.0,
        tau=np.linspace(20.0, 150.0, 10),
        transfer_function="tanh",
        dale_ratio=0.7,
        autapses=False,
        rec_connectivity=(rng.random((10, 10)) < 0.7).astype(float),
        input_connectivity=(rng.random((10, 3)) < 0.8).astype(float),
        output_connectivity=(rng.random((2, 10)) < 0.8).astype(float),
        seed=3,
        dtype="float64",
    )
    values.update(changes)
    return NetworkConfig(**values)


def with_random_biases(network, seed=0):
    rng = np.random.default_rng(seed)
    network.set_weights(
        {
            "b_rec": rng.normal(size=network.config.N_rec),
            "b_out": rng.normal(size=network.config.N_out),
            "init_state": rng.normal(size=(1, network.config.N_rec)),
        }
    )
    return network


@pytest.mark.parametrize("transfer", sorted(NUMPY_TRANSFER))
def test_update_matches_float64_reference(transfer):
    network = with_random_biases(build_network(constrained_config(transfer_function=transfer)))
    inputs = np.random.default_rng(1).normal(size=(4, 30, 3))
    outputs, states = network.run(inputs)
    expected_outputs, expected_states = reference_run(network.get_weights(), network.config, inputs)
    np.testing.assert_allclose(states, expected_states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(outputs, expected_outputs, rtol=0, atol=1e-12)


def test_float32_close_to_float64_reference():
    network = with_random_biases(
        build_network(constrained_config(dtype="float32", transfer_function="relu"))
    )
    inputs = np.random.default_rng(2).normal(size=(5, 200, 3))
    outputs, states = network.run(inputs)
    raw = {name: value.astype(np.float64) for name, value in network.get_weights().items()}
    expected_outputs, expected_states = reference_run(raw, network.config, inputs)
    assert outputs.dtype == np.float32
    np.testing.assert_allclose(states, expected_states, rtol=0, atol=1e-5)
    np.testing.assert_allclose(outputs, expected_outputs, rtol=0, atol=1e-5)


def test_given_noise_enters_outside_alpha():
    config = constrained_config(rec_noise=0.3)
    network = with_random_biases(build_network(config))
    inputs = np.random.default_rng(3).normal(size=(3, 12, 3))
    noise = np.random.default_rng(4).normal(size=(3, 12, 10))
    outputs, states = network.forward(tf.constant(inputs), tf.constant(noise))
    expected_outputs, expected_states = reference_run(network.get_weights(), config, inputs, noise)
    np.testing.assert_allclose(states.numpy(), expected_states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(outputs.numpy(), expected_outputs, rtol=0, atol=1e-12)


def test_noise_standard_deviation():
    zeros = {
        "W_in": np.zeros((5, 1)),
        "W_rec": np.zeros((5, 5)),
        "W_out": np.zeros((1, 5)),
        "init_state": np.zeros(5),
    }
    config = NetworkConfig(
        N_in=1, N_rec=5, N_out=1, rec_noise=0.5, dtype="float64", initial_weights=zeros
    )
    network = build_network(config)
    _, states = network.run(np.zeros((8000, 1, 1)), seed=0)
    # alpha = 0.1, so the first state has std sqrt(2 * 0.1) * 0.5 = 0.2236; 40000 samples give
    # a standard error of about 0.0008.
    assert abs(states[:, 0].std() - np.sqrt(0.2) * 0.5) < 0.004
    assert abs(states[:, 0].mean()) < 0.004


def test_noise_seed_reproducible():
    network = build_network(NetworkConfig(N_in=1, N_rec=4, N_out=1, rec_noise=0.2, seed=1))
    inputs = np.ones((2, 10, 1))
    first = network.run(inputs, seed=9)[1]
    assert np.array_equal(first, network.run(inputs, seed=9)[1])
    assert not np.array_equal(first, network.run(inputs, seed=10)[1])


def test_effective_weights_dale_and_masks():
    rec_mask = np.ones((4, 4))
    rec_mask[0, 3] = 0.0
    config = NetworkConfig(
        N_in=2,
        N_rec=4,
        N_out=2,
        dale_ratio=0.5,
        rec_connectivity=rec_mask,
        output_connectivity=np.array([[1.0, 0, 1, 1], [1, 1, 1, 1]]),
        dtype="float64",
        seed=0,
    )
    network = build_network(config)
    raw_rec = np.array([[1.0, -2, 3, -4], [-1, 2, -3, 4], [0.5, 0.5, -0.5, -0.5], [2, -2, 2, -2]])
    raw_out = np.array([[-1.0, 2, -3, 4], [5, -6, 7, -8]])
    raw_in = np.array([[-1.0, 2], [3, -4], [-5, 6], [7, -8]])
    network.set_weights({"W_rec": raw_rec, "W_out": raw_out, "W_in": raw_in})
    effective = network.effective_weights()
    expected_rec = np.array(
        [[1.0, 2, -3, 0], [1, 2, -3, -4], [0.5, 0.5, -0.5, -0.5], [2, 2, -2, -2]]
    )
    assert np.array_equal(effective["W_rec"], expected_rec)
    assert np.array_equal(effective["W_out"], np.array([[1.0, 0, 0, 0], [5, 6, 0, 0]]))
    assert np.array_equal(effective["W_in"], np.abs(raw_in))
    # Raw variables keep their signs; only the effective matrices are constrained.
    assert np.array_equal(network.get_weights()["W_rec"], raw_rec)


def test_effective_output_negative_option():
    config = NetworkConfig(
        N_in=1, N_rec=2, N_out=1, dale_ratio=0.5, dale_out_inhibitory=-1, dtype="float64"
    )
    network = build_network(config)
    network.set_weights({"W_out": np.array([[-2.0, -3.0]])})
    assert network.effective_weights()["W_out"].tolist() == [[2.0, -3.0]]


def test_effective_weights_without_dale():
    config = NetworkConfig(
        N_in=1, N_rec=2, N_out=1, rec_connectivity=np.array([[1.0, 0.5], [0, 1]]), dtype="float64"
    )
    network = build_network(config)
    network.set_weights({"W_rec": np.array([[-2.0, 4.0], [3.0, -1.0]])})
    assert network.effective_weights()["W_rec"].tolist() == [[-2.0, 2.0], [0.0, -1.0]]


def test_no_autapses_zero_diagonal():
    mask = np.ones((6, 6))
    network = build_network(
        NetworkConfig(N_in=1, N_rec=6, N_out=1, rec_connectivity=mask, autapses=False, seed=2)
    )
    assert np.array_equal(np.diag(network.effective_weights()["W_rec"]), np.zeros(6))
    assert np.array_equal(mask, np.ones((6, 6)))


def test_trainable_flags():
    config = NetworkConfig(N_in=1, N_rec=3, N_out=1, W_rec_train=False, init_state_train=False)
    names = [variable.name.split(":")[0] for variable in build_network(config).trainable_variables]
    assert names == ["W_in", "W_out", "b_rec", "b_out"]


def test_variable_shapes():
    network = build_network(NetworkConfig(N_in=2, N_rec=7, N_out=3))
    shapes = {name: tuple(variable.shape) for name, variable in network.variables.items()}
    assert shapes == {
        "W_in": (7, 2),
        "W_rec": (7, 7),
        "W_out": (3, 7),
        "b_rec": (7,),
        "b_out": (3,),
        "init_state": (1, 7),
    }
    assert isinstance(network, RateRNN)


def test_seed_reproducible():
    first = build_network(NetworkConfig(N_in=2, N_rec=6, N_out=1, seed=42)).get_weights()
    second = build_network(NetworkConfig(N_in=2, N_rec=6, N_out=1, seed=42)).get_weights()
    other = build_network(NetworkConfig(N_in=2, N_rec=6, N_out=1, seed=43)).get_weights()
    for name in first:
        assert np.array_equal(first[name], second[name])
    assert not np.array_equal(first["W_rec"], other["W_rec"])


def test_drawn_seed_recorded():
    network = build_network(NetworkConfig(N_in=2, N_rec=6, N_out=1))
    again = build_network(NetworkConfig(N_in=2, N_rec=6, N_out=1, seed=network.seed))
    assert np.array_equal(network.get_weights()["W_in"], again.get_weights()["W_in"])


@pytest.mark.parametrize(("n_batch", "n_steps"), [(1, 1), (3, 17), (64, 5)])
def test_any_batch_and_length(n_batch, n_steps):
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=3, seed=0))
    outputs, states = network.run(np.ones((n_batch, n_steps, 2)))
    assert outputs.shape == (n_batch, n_steps, 3)
    assert states.shape == (n_batch, n_steps, 4)


BAD_INPUTS = [
    (
        np.ones((2, 5, 3)),
        ShapeMismatchError,
        "inputs must have N_in=2 channels in its last axis (got shape (2, 5, 3))",
    ),
    (
        np.ones((5, 2)),
        ShapeMismatchError,
        "inputs must have shape (N_batch, N_steps, N_in=2) (got shape (5, 2))",
    ),
    (
        np.ones((0, 5, 2)),
        ShapeMismatchError,
        "inputs must hold at least one trial and one time step (got shape (0, 5, 2))",
    ),
    (
        np.full((1, 5, 2), "x"),
        InvalidParameterError,
        "inputs must be a real numeric array (got dtype <U1)",
    ),
    (
        np.ones((1, 5, 2), dtype=complex),
        InvalidParameterError,
        "inputs must be a real numeric array (got dtype complex128)",
    ),
]


@pytest.mark.parametrize(("inputs", "error", "message"), BAD_INPUTS)
def test_bad_inputs_rejected(inputs, error, message):
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=1, seed=0))
    with pytest.raises(error) as caught:
        network.run(inputs)
    assert str(caught.value) == message


def test_forward_rejects_wrong_channels():
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=1, seed=0))
    with pytest.raises(ShapeMismatchError, match="N_in=2"):
        network.forward(tf.ones((1, 3, 5)))


def test_set_weights_checks_before_assigning():
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=1, seed=0))
    before = network.get_weights()
    with pytest.raises(
        ShapeMismatchError,
        match=r"weights\['W_out'\] must have shape \(1, 4\) \(got shape \(4, 1\)\)",
    ):
        network.set_weights({"W_in": np.zeros((4, 2)), "W_out": np.zeros((4, 1))})
    with pytest.raises(InvalidParameterError, match="did you mean 'W_rec'"):
        network.set_weights({"W_recc": np.zeros((4, 4))})
    for name, value in network.get_weights().items():
        assert np.array_equal(value, before[name])


def test_copy_and_restore_weights():
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=1, seed=0))
    snapshot = network.copy_weights()
    network.variables["W_rec"].assign(tf.fill((4, 4), np.nan))
    network.restore_weights(snapshot)
    assert np.array_equal(network.get_weights()["W_rec"], snapshot["W_rec"])
    assert not np.isnan(snapshot["W_rec"]).any()


@pytest.mark.parametrize("transfer", sorted(NUMPY_TRANSFER))
def test_manual_gradient_equals_autodiff(transfer):
    network = with_random_biases(
        build_network(constrained_config(transfer_function=transfer, N_in=3))
    )
    inputs = tf.constant(np.random.default_rng(6).normal(size=(4, 15, 3)))
    gradients = []
    for manual in (True, False):
        network.manual_gradient = manual
        with tf.GradientTape() as tape:
            outputs, states = network.forward(inputs)
            loss = tf.reduce_sum(outputs**2) + 0.1 * tf.reduce_sum(tf.sin(states))
        gradients.append(tape.gradient(loss, network.trainable_variables))
    for manual, automatic in zip(*gradients):
        np.testing.assert_allclose(manual.numpy(), automatic.numpy(), rtol=1e-10, atol=1e-12)


def assert_manual_equals_automatic(network, inputs, noise=None, target="variables"):
    """Check one loss's gradients with the hand-written backward pass against autodiff.

    ``target`` names what the gradients are taken for: "variables", "inputs" or "noise".
    """
    results = []
    for manual in (True, False):
        network.manual_gradient = manual
        with tf.GradientTape() as tape:
            if target != "variables":
                tape.watch(inputs if target == "inputs" else noise)
            outputs, states = network.forward(inputs, noise)
            loss = tf.reduce_sum(outputs**2) + 0.1 * tf.reduce_sum(tf.sin(states))
        sources = {"variables": network.trainable_variables, "inputs": inputs, "noise": noise}
        gradients = tape.gradient(loss, sources[target])
        results.append(gradients if target == "variables" else [gradients])
    for manual, automatic in zip(*results):
        assert manual is not None
        np.testing.assert_allclose(manual.numpy(), automatic.numpy(), rtol=1e-10, atol=1e-12)


def test_manual_input_gradient_equals_autodiff():
    network = with_random_biases(build_network(constrained_config()))
    inputs = tf.constant(np.random.default_rng(7).normal(size=(4, 15, 3)))
    assert_manual_equals_automatic(network, inputs, target="inputs")


def test_manual_gradient_many_inputs_equals_autodiff():
    # Over 8 inputs the drive is a matmul per step and its gradient one matmul after the loop.
    rng = np.random.default_rng(8)
    config = constrained_config(
        N_in=12, input_connectivity=(rng.random((10, 12)) < 0.8).astype(float)
    )
    network = with_random_biases(build_network(config))
    inputs = tf.constant(rng.normal(size=(4, 15, 12)))
    assert_manual_equals_automatic(network, inputs)


def test_manual_gradient_with_noise_equals_autodiff():
    network = with_random_biases(build_network(constrained_config(rec_noise=0.2)))
    rng = np.random.default_rng(9)
    inputs = tf.constant(rng.normal(size=(4, 15, 3)))
    noise = tf.constant(rng.normal(size=(4, 15, 10)))
    assert_manual_equals_automatic(network, inputs, noise)


def test_manual_noise_gradient_equals_autodiff():
    network = with_random_biases(build_network(constrained_config(rec_noise=0.2)))
    rng = np.random.default_rng(10)
    inputs = tf.constant(rng.normal(size=(4, 15, 3)))
    noise = tf.constant(rng.normal(size=(4, 15, 10)))
    assert_manual_equals_automatic(network, inputs, noise, target="noise")


def test_traced_states_keep_static_shape():
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=1, seed=0))
    traced = tf.function(
        lambda x: network.forward(x)[1], input_signature=[tf.TensorSpec([3, 7, 2], tf.float32)]
    )
    assert traced.get_concrete_function().structured_outputs.shape == (3, 7, 4)


def test_forward_with_no_steps():
    network = build_network(NetworkConfig(N_in=2, N_rec=4, N_out=1, seed=0))
    outputs, states = network.forward(np.zeros((2, 0, 2), np.float32))
    assert outputs.shape == (2, 0, 1)
    assert states.shape == (2, 0, 4)


def test_forward_compiles_with_xla():
    network = build_network(NetworkConfig(N_in=2, N_rec=5, N_out=2, seed=1, dale_ratio=0.8))
    inputs = np.random.default_rng(0).normal(size=(3, 20, 2)).astype(np.float32)
    compiled = tf.function(lambda x: network.forward(x), jit_compile=True)
    outputs, states = compiled(tf.constant(inputs))
    expected_outputs, expected_states = network.run(inputs)
    np.testing.assert_allclose(outputs.numpy(), expected_outputs, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(states.numpy(), expected_states, rtol=1e-5, atol=1e-6)


def test_custom_transfer_callable():
    def squared_relu(x):
        return tf.nn.relu(x) ** 2

    network = build_network(
        NetworkConfig(
            N_in=1, N_rec=3, N_out=1, transfer_function=squared_relu, dtype="float64", seed=0
        )
    )
    assert network.manual_gradient is False
    _, states = network.run(np.ones((1, 4, 1)))
    np.testing.assert_allclose(network.rates(states), np.maximum(states, 0) ** 2, rtol=1e-14)


def test_rates_match_transfer():
    network = build_network(
        NetworkConfig(N_in=1, N_rec=3, N_out=1, transfer_function="sigmoid", seed=0)
    )
    states = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_allclose(network.rates(states), 1 / (1 + np.exp(-states)), rtol=1e-12)
    np.testing.assert_allclose(
        network.rates(tf.constant(states)).numpy(), 1 / (1 + np.exp(-states)), rtol=1e-7
    )


def test_config_copied():
    config = NetworkConfig(N_in=1, N_rec=3, N_out=1, seed=0)
    network = build_network(config)
    config.rec_noise = 0.5
    assert network.config.rec_noise == 0.0


def test_build_network_rejects_dict():
    with pytest.raises(InvalidParameterError, match="config must be a NetworkConfig"):
        build_network({"N_in": 1})
