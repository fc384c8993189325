"""Weight and firing-rate regularisation added to the training loss.

Every term is a mean, not a sum, and acts on the effective weights (after masks and Dale's
law), as in PsychRNN::

    L1_in mean|W_in~| + L1_rec mean|W_rec~| + L1_out mean|W_out~|
    + L2_in mean(W_in~^2) + L2_rec mean(W_rec~^2) + L2_out mean(W_out~^2)
    + L2_firing_rate mean(f(states)^2) + custom_regularization(network, config)
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from psychrnn_widgets.engine._autograph import user_callable
from psychrnn_widgets.errors import InvalidParameterError

__all__ = [
    "REGULARIZATION_FIELDS",
    "compute_regularization",
    "regularization_weights",
    "regularized_matrices",
    "weight_regularization",
]

REGULARIZATION_FIELDS = ("L1_in", "L1_rec", "L1_out", "L2_in", "L2_rec", "L2_out", "L2_firing_rate")


def regularized_matrices(network: Any) -> dict[str, tf.Tensor]:
    """Return the ``in``, ``rec`` and ``out`` matrices that the weight penalties act on.

    For the rate RNN these are the effective W_in, W_rec and W_out. For the LSTM and GRU,
    ``in`` contains the input rows of every gate matrix, ``rec`` the hidden rows, ``out`` W_out.
    """
    if hasattr(network, "effective_tensors"):
        w_in, w_rec, w_out = network.effective_tensors()
        return {"in": w_in, "rec": w_rec, "out": w_out}
    return network.regularized_matrices()


def compute_regularization(network: Any, states: tf.Tensor, config: Any) -> tf.Tensor:
    """Return the regularisation term as a scalar tensor; traceable in ``tf.function``.

    Parameters
    ----------
    network
        A rate RNN, LSTM or GRU.
    states
        The ``states`` of the same forward pass, (N_batch, N_steps, N_rec).
    config
        Any object with the attributes ``L1_in``, ``L1_rec``, ``L1_out``, ``L2_in``,
        ``L2_rec``, ``L2_out``, ``L2_firing_rate`` (numbers; a missing one counts as 0) and
        ``custom_regularization`` (None or ``fn(network, config) -> scalar``), such as a
        ``TrainingConfig``. Terms whose weight is 0 are not computed.
    """
    weights = regularization_weights(config)
    total = weight_regularization(network, config, weights)
    if weights["L2_firing_rate"]:
        total += weights["L2_firing_rate"] * tf.reduce_mean(
            tf.square(network.rates(tf.cast(states, network.dtype)))
        )
    return total


def regularization_weights(config: Any) -> dict[str, float]:
    """Return the weight of every term in ``REGULARIZATION_FIELDS``, checked (0 when missing)."""
    weights = {}
    for field in REGULARIZATION_FIELDS:
        value = getattr(config, field, 0.0) or 0.0
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise InvalidParameterError(
                field, f"{field} must be a number >= 0 (got {value!r})", value
            )
        weights[field] = float(value)
    return weights


def weight_regularization(network: Any, config: Any, weights: dict[str, float]) -> tf.Tensor:
    """Return the terms that depend on the weights only: L1, L2 and the custom term.

    ``weights`` comes from :func:`regularization_weights`. The firing-rate term is not included.
    """
    total = tf.zeros((), network.dtype)
    if any(weights[field] for field in REGULARIZATION_FIELDS[:6]):
        matrices = regularized_matrices(network)
        for part in ("in", "rec", "out"):
            if weights[f"L1_{part}"]:
                total += weights[f"L1_{part}"] * tf.reduce_mean(tf.abs(matrices[part]))
            if weights[f"L2_{part}"]:
                total += weights[f"L2_{part}"] * tf.reduce_mean(tf.square(matrices[part]))
    custom = getattr(config, "custom_regularization", None)
    if custom is not None:
        total += tf.cast(user_callable(custom)(network, config), network.dtype)
    return total
