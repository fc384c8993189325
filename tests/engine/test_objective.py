"""The objective split by trials: parts' shares plus weight terms equal the whole batch."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine import TrainingConfig
from psychrnn_widgets.engine._objective import build_objective


def batch():
    rng = np.random.default_rng(7)
    outputs = tf.constant(rng.uniform(0.05, 0.95, size=(5, 4, 3)))
    states = tf.constant(rng.normal(size=(5, 4, 6)))
    targets = tf.constant(rng.uniform(0, 1, size=(5, 4, 3)))
    mask = tf.constant((rng.random((5, 4, 3)) < 0.6).astype(np.float64))
    return outputs, states, targets, mask


def bias_penalty(network, config):
    return 0.5 * tf.reduce_sum(tf.square(network.variables["b_rec"] + 0.25))


@pytest.mark.parametrize("loss", ["mse", "bce"])
@pytest.mark.parametrize("normalization", ["all", "mask"])
def test_shares_add_up_to_whole_batch(network, loss, normalization):
    config = TrainingConfig(
        loss=loss,
        loss_normalization=normalization,
        L1_in=0.1,
        L2_rec=0.2,
        L2_out=0.3,
        L2_firing_rate=0.4,
        custom_regularization=bias_penalty,
    )
    objective = build_objective(network, config)
    outputs, states, targets, mask = batch()
    scales = objective.trial_scales(targets, mask)
    # Parts of 2 and 3 trials.
    shares = [
        objective.trial_share(
            outputs[start:stop], states[start:stop], targets[start:stop], mask[start:stop], scales
        )
        for start, stop in [(0, 2), (2, 5)]
    ]
    split_total = tf.add_n(shares) + objective.weight_terms()

    assert objective.splits_by_trial is True
    assert split_total.numpy() == pytest.approx(
        objective(outputs, states, targets, mask).numpy(), rel=1e-13
    )


def test_trial_scales_are_whole_batch_divisors(network):
    config = TrainingConfig(loss_normalization="mask", L2_firing_rate=0.4)
    objective = build_objective(network, config)
    _, _, targets, mask = batch()

    scales = objective.trial_scales(targets, mask).numpy()

    assert scales[0] == 1.0 / np.count_nonzero(mask.numpy())
    assert scales[1] == pytest.approx(0.4 / (5 * 4 * 6), rel=1e-15)


def test_no_weight_penalties_no_terms(network):
    objective = build_objective(network, TrainingConfig(L2_firing_rate=0.4))
    assert objective.weight_terms() is None


def test_callable_loss_does_not_split(network):
    def loss(outputs, targets, mask):
        return tf.reduce_max(tf.abs(outputs - targets))

    objective = build_objective(network, TrainingConfig(loss=loss))
    assert objective.splits_by_trial is False
