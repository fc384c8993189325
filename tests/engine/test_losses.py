"""Masked MSE and BCE against their formulas, both normalisations, custom losses."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from psychrnn_widgets.engine.losses import compute_loss
from psychrnn_widgets.errors import InvalidParameterError


def batch(seed=0):
    rng = np.random.default_rng(seed)
    outputs = rng.uniform(-0.5, 1.5, size=(4, 6, 2))
    targets = rng.uniform(0, 1, size=(4, 6, 2))
    mask = (rng.random((4, 6, 2)) < 0.5).astype(np.float64)
    mask[0, 0, 0] = 0.5  # a graded weight counts squared in the MSE
    return outputs, targets, mask


def test_mse_mean_over_all_entries():
    outputs, targets, mask = batch()
    expected = np.sum((mask * (outputs - targets)) ** 2) / outputs.size
    assert compute_loss(tf.constant(outputs), targets, mask).numpy() == pytest.approx(
        expected, rel=1e-12
    )


def test_mse_mask_normalisation():
    outputs, targets, mask = batch()
    expected = np.sum((mask * (outputs - targets)) ** 2) / np.count_nonzero(mask)
    loss = compute_loss(tf.constant(outputs), targets, mask, normalization="mask").numpy()
    assert loss == pytest.approx(expected, rel=1e-12)


def test_mse_hand_value():
    outputs = tf.constant([[[1.0, 0.0], [3.0, 2.0]]], tf.float64)
    targets = np.array([[[0.0, 0.0], [1.0, 1.0]]])
    mask = np.array([[[1.0, 1.0], [0.5, 0.0]]])
    # Errors after masking: 1, 0, 1, 0 over 4 entries; over the 3 unmasked entries it is 2/3.
    assert compute_loss(outputs, targets, mask).numpy() == 0.5
    assert compute_loss(outputs, targets, mask, normalization="mask").numpy() == pytest.approx(
        2 / 3, rel=1e-15
    )


def test_bce_formula():
    outputs, targets, mask = batch(1)
    p = np.clip(outputs, 1e-7, 1 - 1e-7)
    terms = mask * -(targets * np.log(p + 1e-7) + (1 - targets) * np.log(1 - p + 1e-7))
    loss = compute_loss(tf.constant(outputs), targets, mask, "bce").numpy()
    assert loss == pytest.approx(terms.mean(), rel=1e-12)
    by_mask = compute_loss(tf.constant(outputs), targets, mask, "bce", "mask").numpy()
    assert by_mask == pytest.approx(terms.sum() / np.count_nonzero(mask), rel=1e-12)


def test_mask_all_zero_gives_zero():
    outputs, targets, _ = batch()
    assert (
        compute_loss(
            tf.constant(outputs), targets, np.zeros_like(outputs), normalization="mask"
        ).numpy()
        == 0.0
    )


def test_custom_loss_callable():
    outputs, targets, mask = batch()

    def max_error(outputs, targets, mask):
        return tf.reduce_max(tf.abs(outputs - targets) * mask)

    expected = np.max(np.abs(outputs - targets) * mask)
    assert compute_loss(tf.constant(outputs), targets, mask, max_error).numpy() == expected


def test_float32_outputs_keep_dtype():
    outputs, targets, mask = batch()
    loss = compute_loss(tf.constant(outputs, tf.float32), targets, mask)
    assert loss.dtype == tf.float32


@pytest.mark.parametrize(
    ("kind", "normalization", "field"),
    [("mae", "all", "loss"), ("mse", "count", "loss_normalization")],
)
def test_bad_loss_settings(kind, normalization, field):
    outputs, targets, mask = batch()
    with pytest.raises(InvalidParameterError) as caught:
        compute_loss(tf.constant(outputs), targets, mask, kind, normalization)
    assert caught.value.field == field
    assert repr(kind if field == "loss" else normalization) in str(caught.value)
