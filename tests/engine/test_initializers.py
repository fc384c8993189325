"""Initial weights: spectral radius, Glorot fans from masks, alpha-identity, Dale balancing."""

from __future__ import annotations

import numpy as np
import pytest

from psychrnn_widgets.engine import NetworkConfig, build_network
from psychrnn_widgets.engine.initializers import (
    balance_dale,
    glorot_normal,
    glorot_uniform,
    spectral_radius_init,
)


def radius(matrix):
    return float(np.max(np.abs(np.linalg.eigvals(matrix))))


@pytest.mark.parametrize("spec_rad", [1.1, 0.8])
def test_spectral_radius_of_initial_w_rec(spec_rad):
    network = build_network(
        NetworkConfig(N_in=2, N_rec=50, N_out=2, spec_rad=spec_rad, seed=0, dtype="float64")
    )
    assert radius(network.get_weights()["W_rec"]) == pytest.approx(spec_rad, rel=1e-10)


def test_spectral_radius_default_is_raw_with_dale():
    rng = np.random.default_rng(1)
    config = NetworkConfig(
        N_in=2,
        N_rec=30,
        N_out=2,
        dale_ratio=0.8,
        autapses=False,
        rec_connectivity=(rng.random((30, 30)) < 0.7).astype(float),
        seed=2,
        dtype="float64",
    )
    network = build_network(config)
    assert radius(network.get_weights()["W_rec"]) == pytest.approx(1.1, rel=1e-10)
    # The effective |W| D matrix is a different matrix, so its radius is not 1.1.
    assert abs(radius(network.effective_weights()["W_rec"]) - 1.1) > 1e-3


def test_balance_formula():
    mask = np.array([[1.0, 1, 1, 1], [0, 1, 1, 1], [1, 1, 0, 1], [1, 1, 1, 1]])
    w_rec = np.arange(1.0, 17.0).reshape(4, 4)
    # dale_ratio 0.75: units 0-2 are excitatory (d = 1), unit 3 inhibitory (d = 0.75 / 0.25 = 3).
    balanced = balance_dale(w_rec, mask, 0.75)
    d = np.array([1.0, 1.0, 1.0, 3.0])
    norms = np.array([np.linalg.norm(mask[j] * d) for j in range(4)])
    expected = w_rec * (d / norms)[np.newaxis, :]
    np.testing.assert_allclose(balanced, expected, rtol=1e-15)
    assert norms.tolist() == pytest.approx([np.sqrt(12), np.sqrt(11), np.sqrt(11), np.sqrt(12)])


@pytest.mark.parametrize("dale_ratio", [1.0, 0.0, 0.01])
def test_one_population_dale_ratio(dale_ratio):
    network = build_network(
        NetworkConfig(N_in=1, N_rec=20, N_out=1, dale_ratio=dale_ratio, seed=3, dtype="float64")
    )
    assert radius(network.get_weights()["W_rec"]) == pytest.approx(1.1, rel=1e-10)
    signs = np.sign(network.effective_weights()["W_rec"])
    expected = 1.0 if dale_ratio == 1.0 else -1.0
    assert set(np.unique(signs[signs != 0])) == {expected}


def test_zero_mask_row_no_division_by_zero():
    mask = np.ones((3, 3))
    mask[1] = 0.0
    balanced = balance_dale(np.ones((3, 3)), mask, 0.5)
    assert np.all(np.isfinite(balanced))


def test_alpha_identity_default_gain():
    network = build_network(
        NetworkConfig(
            N_in=1,
            N_rec=4,
            N_out=1,
            initializer="alpha_identity",
            tau=[10, 20, 50, 100],
            dtype="float64",
        )
    )
    assert np.array_equal(network.get_weights()["W_rec"], np.diag([1.0, 0.5, 0.2, 0.1]))


def test_alpha_identity_given_gain_and_dale():
    config = NetworkConfig(
        N_in=1,
        N_rec=4,
        N_out=1,
        initializer="alpha_identity",
        identity_gain=0.5,
        dale_ratio=0.5,
        dtype="float64",
    )
    w_rec = build_network(config).get_weights()["W_rec"]
    # d = [1, 1, 1, 1] at ratio 0.5; every mask row has norm 2, so the diagonal is 0.5 / 2.
    assert np.array_equal(w_rec, np.eye(4) * 0.25)


def test_glorot_normal_fans_from_mask():
    rng = np.random.default_rng(0)
    mask = np.ones((400, 300))
    mask[:, 200:] = 0.0  # rows have fan_in 200; columns 0-199 fan_out 400, the rest 0
    draws = glorot_normal(mask, rng)
    assert draws[:, :200].std() == pytest.approx(np.sqrt(2.0 / 600), rel=0.02)
    assert draws[:, 200:].std() == pytest.approx(np.sqrt(2.0 / 200), rel=0.02)


def test_glorot_uniform_bounds():
    mask = np.ones((100, 50))
    draws = glorot_uniform(mask, np.random.default_rng(0))
    bound = np.sqrt(6.0 / 150)
    assert np.abs(draws).max() <= bound
    assert np.abs(draws).max() > 0.95 * bound


def test_glorot_zero_fans_give_zero():
    draws = glorot_normal(np.zeros((3, 2)), np.random.default_rng(0))
    assert np.array_equal(draws, np.zeros((3, 2)))


def test_glorot_initializer_choice():
    config = NetworkConfig(N_in=2, N_rec=300, N_out=2, initializer="glorot_normal", seed=5)
    w_rec = build_network(config).get_weights()["W_rec"]
    assert w_rec.std() == pytest.approx(np.sqrt(2.0 / 600), rel=0.02)


def test_init_state_and_biases():
    weights = build_network(
        NetworkConfig(N_in=2, N_rec=500, N_out=3, seed=6, dtype="float64")
    ).get_weights()
    assert weights["init_state"].mean() == pytest.approx(0.1, abs=0.002)
    assert weights["init_state"].std() == pytest.approx(0.01, rel=0.1)
    assert np.array_equal(weights["b_rec"], np.zeros(500))
    assert np.array_equal(weights["b_out"], np.zeros(3))


def test_initial_weights_override():
    w_rec = np.eye(3) * 0.3
    network = build_network(
        NetworkConfig(
            N_in=1, N_rec=3, N_out=1, initial_weights={"W_rec": w_rec}, seed=0, dtype="float64"
        )
    )
    assert np.array_equal(network.get_weights()["W_rec"], w_rec)
    drawn = build_network(
        NetworkConfig(N_in=1, N_rec=3, N_out=1, seed=0, dtype="float64")
    ).get_weights()
    assert np.array_equal(network.get_weights()["W_in"], drawn["W_in"])


def test_spectral_radius_zero_matrix_error():
    from psychrnn_widgets.errors import InvalidParameterError

    class ZeroGenerator:
        def standard_normal(self, shape):
            return np.zeros(shape)

    with pytest.raises(InvalidParameterError, match="spectral radius 0"):
        spectral_radius_init(3, 1.1, ZeroGenerator(), np.ones((3, 3)), None)
