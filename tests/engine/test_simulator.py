"""Simulator: equals the engine without noise, perturbations, dict and file sources."""

from __future__ import annotations

import numpy as np
import pytest

from psychrnn_widgets.engine import NetworkConfig, Simulator, build_network, save_network
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError


def constrained_config(**changes):
    rng = np.random.default_rng(2)
    values = dict(
        N_in=3,
        N_rec=12,
        N_out=2,
        dale_ratio=0.75,
        autapses=False,
        tau=np.linspace(20, 200, 12),
        rec_connectivity=(rng.random((12, 12)) < 0.6).astype(float),
        transfer_function="softplus",
        seed=4,
    )
    values.update(changes)
    return NetworkConfig(**values)


def with_biases(network):
    rng = np.random.default_rng(9)
    network.set_weights(
        {
            "b_rec": rng.normal(size=network.config.N_rec) * 0.3,
            "b_out": rng.normal(size=network.config.N_out),
        }
    )
    return network


def test_equals_float64_engine():
    network = with_biases(build_network(constrained_config(dtype="float64")))
    inputs = np.random.default_rng(0).normal(size=(5, 200, 3))
    expected_outputs, expected_states = network.run(inputs)
    outputs, states = Simulator(network).run(inputs)
    np.testing.assert_allclose(states, expected_states, rtol=0, atol=1e-6)
    np.testing.assert_allclose(outputs, expected_outputs, rtol=0, atol=1e-6)
    # Both sides compute in float64, so they agree far below the required 1e-6.
    assert np.abs(states - expected_states).max() < 1e-11


def test_close_to_float32_engine():
    network = with_biases(build_network(constrained_config()))
    inputs = np.random.default_rng(1).normal(size=(4, 100, 3)).astype(np.float32)
    expected_outputs, _ = network.run(inputs)
    outputs, _ = Simulator(network).run(inputs)
    assert outputs.dtype == np.float64
    np.testing.assert_allclose(outputs, expected_outputs, rtol=0, atol=1e-5)


def test_effective_weights_match_engine():
    network = build_network(constrained_config(dtype="float64"))
    simulator = Simulator(network)
    for name, value in network.effective_weights().items():
        assert np.array_equal(simulator.effective[name], value)


def test_perturbation_all_ones_changes_nothing():
    network = build_network(constrained_config(dtype="float64"))
    simulator = Simulator(network)
    inputs = np.random.default_rng(3).normal(size=(2, 30, 3))
    plain = simulator.run(inputs)
    ones = simulator.run(inputs, rec_perturbation=np.ones((30, 12, 12)))
    assert np.array_equal(plain[1], ones[1])


def test_perturbation_lesion_from_step():
    network = build_network(constrained_config(dtype="float64"))
    simulator = Simulator(network)
    inputs = np.random.default_rng(3).normal(size=(2, 30, 3))
    perturbation = np.ones((30, 12, 12))
    perturbation[10:] = 0.0  # all recurrent weights cut from step 11 on
    _, plain = simulator.run(inputs)
    _, lesioned = simulator.run(inputs, rec_perturbation=perturbation)
    assert np.array_equal(lesioned[:, :10], plain[:, :10])
    # With W_rec cut, the step is the leak plus the input drive only.
    alpha = simulator.alpha
    drive = inputs @ simulator.effective["W_in"].T + simulator.weights["b_rec"]
    expected = (1 - alpha) * lesioned[:, 10] + alpha * drive[:, 11]
    np.testing.assert_allclose(lesioned[:, 11], expected, rtol=1e-14)


def test_perturbation_shape_checked():
    simulator = Simulator(build_network(constrained_config()))
    with pytest.raises(
        ShapeMismatchError,
        match=r"rec_perturbation must have shape \(N_steps, N_rec, N_rec\) = \(5, 12, 12\) \(got shape \(4, 12, 12\)\)",
    ):
        simulator.run(np.zeros((1, 5, 3)), rec_perturbation=np.ones((4, 12, 12)))


def test_file_source(tmp_path):
    network = with_biases(build_network(constrained_config(dtype="float64")))
    path = save_network(tmp_path / "net.npz", network)
    inputs = np.random.default_rng(5).normal(size=(3, 40, 3))
    np.testing.assert_allclose(
        Simulator(path).run(inputs)[0], network.run(inputs)[0], rtol=0, atol=1e-11
    )


def test_dict_source_with_config():
    network = build_network(constrained_config(dtype="float64"))
    simulator = Simulator(network.get_weights(), network.config)
    inputs = np.ones((1, 10, 3))
    assert np.array_equal(simulator.run(inputs)[0], Simulator(network).run(inputs)[0])


def test_psychrnn_style_dict():
    rng = np.random.default_rng(0)
    weights = {
        "W_in": rng.normal(size=(4, 2)),
        "W_rec": rng.normal(size=(4, 4)) * 0.3,
        "W_out": rng.normal(size=(1, 4)),
        "init_state": np.full(4, 0.1),
    }
    simulator = Simulator(weights, {"dt": 10, "tau": 50})
    assert simulator.alpha == 0.2
    _, states = simulator.run(np.zeros((1, 1, 2)))
    expected = 0.8 * 0.1 + 0.2 * (np.full((1, 4), 0.1) @ weights["W_rec"].T)
    np.testing.assert_allclose(states[:, 0], expected, rtol=1e-14)


def test_noise_seeded():
    simulator = Simulator(build_network(constrained_config(rec_noise=0.1, dtype="float64")))
    inputs = np.zeros((2, 10, 3))
    first = simulator.run(inputs, seed=3)[1]
    assert np.array_equal(first, simulator.run(inputs, seed=3)[1])
    assert not np.array_equal(first, simulator.run(inputs, noise=False)[1])


def test_bad_source():
    with pytest.raises(
        InvalidParameterError, match="source must be a network, a dict of weights or a file path"
    ):
        Simulator(3)


def test_missing_weight():
    with pytest.raises(InvalidParameterError, match="weights dict is missing 'W_out'"):
        Simulator(
            {"W_in": np.zeros((2, 1)), "W_rec": np.zeros((2, 2))},
            NetworkConfig(N_in=1, N_rec=2, N_out=1),
        )


@pytest.mark.parametrize(
    ("model", "changes"),
    [("lstm", {}), ("lstm", {"lstm_hidden_activation": "sigmoid"}), ("gru", {})],
)
def test_gated_equals_float64_engine(model, changes):
    network = build_network(
        NetworkConfig(N_in=2, N_rec=6, N_out=3, model=model, seed=1, dtype="float64", **changes)
    )
    inputs = np.random.default_rng(0).normal(size=(4, 50, 2))
    expected_outputs, expected_states = network.run(inputs)
    outputs, states = Simulator(network).run(inputs)
    np.testing.assert_allclose(states, expected_states, rtol=0, atol=1e-12)
    np.testing.assert_allclose(outputs, expected_outputs, rtol=0, atol=1e-12)


def test_gated_rejects_perturbation():
    simulator = Simulator(
        build_network(NetworkConfig(N_in=1, N_rec=2, N_out=1, model="gru", seed=0))
    )
    with pytest.raises(
        InvalidParameterError, match="rec_perturbation applies to model='rate' only"
    ):
        simulator.run(np.zeros((1, 3, 1)), rec_perturbation=np.ones((3, 2, 2)))


def test_psychrnn_lstm_dict():
    rng = np.random.default_rng(0)
    weights = {f"W_{gate}": rng.normal(size=(4, 3)) for gate in "fico"}
    weights.update({f"b_{gate}": np.ones(3) for gate in "fico"})
    weights.update(
        W_out=rng.normal(size=(1, 3)),
        b_out=np.zeros(1),
        init_hidden=rng.normal(size=(5, 3)),
        init_cell=rng.normal(size=(5, 3)),
    )
    simulator = Simulator(weights)
    assert simulator.config.lstm_hidden_activation == "sigmoid"
    assert np.array_equal(simulator.weights["init_hidden"], weights["init_hidden"][:1])
    assert simulator.run(np.zeros((2, 4, 1)))[0].shape == (2, 4, 1)
