"""The training objective: loss plus regularisation, as one traceable function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

__all__ = ["build_objective"]


def build_objective(network: Any, config: Any) -> Callable[..., tf.Tensor]:
    """Return ``objective(outputs, states, targets, mask) -> scalar tensor`` for ``config``."""
    # TODO: switch to the engine's losses and regularizers modules once they land.
    normalization = config.loss_normalization
    loss = config.loss

    def data_loss(outputs: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        if callable(loss):
            return tf.cast(loss(outputs, targets, mask), outputs.dtype)
        if loss == "mse":
            terms = tf.square(mask * (outputs - targets))
        else:
            p = tf.clip_by_value(outputs, 1e-7, 1 - 1e-7)
            terms = mask * -(targets * tf.math.log(p + 1e-7) + (1 - targets) * tf.math.log(1 - p + 1e-7))
        if normalization == "mask":
            return tf.reduce_sum(terms) / tf.maximum(tf.reduce_sum(mask), 1.0)
        return tf.reduce_mean(terms)

    def objective(outputs: tf.Tensor, states: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        return data_loss(outputs, targets, mask)

    return objective
