"""Weight and firing-rate regularisation formulas on effective weights."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine.regularizers import compute_regularization
from psychrnn_widgets.errors import InvalidParameterError


def settings(**values):
    fields = dict.fromkeys(
        ["L1_in", "L1_rec", "L1_out", "L2_in", "L2_rec", "L2_out", "L2_firing_rate"], 0.0
    )
    fields["custom_regularization"] = None
    fields.update(values)
    return SimpleNamespace(**fields)


def test_zero_weights_give_zero(network):
    assert (
        compute_regularization(network, tf.zeros((1, 2, 6), tf.float64), settings()).numpy() == 0.0
    )


def test_weight_terms_are_means_of_effective(network):
    values = dict(L1_in=0.1, L1_rec=0.2, L1_out=0.3, L2_in=0.4, L2_rec=0.5, L2_out=0.6)
    effective = network.effective_weights()
    expected = (
        0.1 * np.abs(effective["W_in"]).mean()
        + 0.2 * np.abs(effective["W_rec"]).mean()
        + 0.3 * np.abs(effective["W_out"]).mean()
        + 0.4 * (effective["W_in"] ** 2).mean()
        + 0.5 * (effective["W_rec"] ** 2).mean()
        + 0.6 * (effective["W_out"] ** 2).mean()
    )
    total = compute_regularization(
        network, tf.zeros((1, 2, 6), tf.float64), settings(**values)
    ).numpy()
    assert total == pytest.approx(expected, rel=1e-12)
    # The mask zeroes 6 of 36 recurrent entries, so the means differ from those of the raw matrix.
    raw = network.get_weights()["W_rec"]
    assert effective["W_rec"][0, 3] == 0.0
    assert raw[0, 3] != 0.0


def test_firing_rate_term(network):
    states = np.random.default_rng(0).normal(size=(3, 5, 6))
    expected = 0.7 * np.mean(np.maximum(states, 0) ** 2)
    total = compute_regularization(
        network, tf.constant(states), settings(L2_firing_rate=0.7)
    ).numpy()
    assert total == pytest.approx(expected, rel=1e-12)


def test_custom_term_added(network):
    def bias_penalty(net, config):
        return 2.0 * tf.reduce_sum(net.variables["b_rec"] + 1.0)

    total = compute_regularization(
        network, tf.zeros((1, 1, 6), tf.float64), settings(custom_regularization=bias_penalty)
    )
    assert total.numpy() == 12.0


def test_missing_fields_count_as_zero(network):
    total = compute_regularization(
        network, tf.zeros((1, 1, 6), tf.float64), SimpleNamespace(L2_rec=1.0)
    )
    assert total.numpy() == pytest.approx(
        np.mean(network.effective_weights()["W_rec"] ** 2), rel=1e-12
    )


def test_negative_weight_rejected(network):
    with pytest.raises(InvalidParameterError, match=r"L1_rec must be a number >= 0 \(got -1.0\)"):
        compute_regularization(network, tf.zeros((1, 1, 6), tf.float64), settings(L1_rec=-1.0))


def test_regularization_gradient_flows(network):
    with tf.GradientTape() as tape:
        total = compute_regularization(
            network, tf.zeros((1, 1, 6), tf.float64), settings(L2_rec=1.0)
        )
    gradient = tape.gradient(total, network.variables["W_rec"]).numpy()
    assert gradient[0, 3] == 0.0
    assert np.count_nonzero(gradient) == 30
