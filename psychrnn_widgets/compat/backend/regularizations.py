"""PsychRNN's ``Regularizer``: L1 and L2 penalties on effective weights and an L2 firing-rate penalty.

Every penalty is a mean, not a sum, and every term is always computed (a zero weight removes
it), as in PsychRNN.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

__all__ = ["Regularizer"]


class Regularizer:
    """Regularisation built from ``params``.

    Keys: ``L1_in``, ``L1_rec``, ``L1_out``, ``L2_in``, ``L2_rec``, ``L2_out``,
    ``L2_firing_rate`` (all 0) and ``custom_regularization``, ``fn(model, params) -> tensor``.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        self.L1_in = params.get("L1_in", 0)
        self.L1_rec = params.get("L1_rec", 0)
        self.L1_out = params.get("L1_out", 0)
        self.L2_in = params.get("L2_in", 0)
        self.L2_rec = params.get("L2_rec", 0)
        self.L2_out = params.get("L2_out", 0)
        self.L2_firing_rate = params.get("L2_firing_rate", 0)
        self.custom_regularization = params.get("custom_regularization")
        self.params = params

    def set_model_regularization(self, model: Any) -> tf.Tensor:
        """Return the sum of all penalties for ``model`` (its ``states`` must be set)."""
        reg = self.L1_weight_reg(model) + self.L2_weight_reg(model) + self.L2_firing_rate_reg(model)
        if self.custom_regularization is not None:
            reg = reg + self.custom_regularization(model, self.params)
        return reg

    def L1_weight_reg(self, model: Any) -> tf.Tensor:
        """Return ``L1_in mean|W_in~| + L1_rec mean|W_rec~| + L1_out mean|W_out~|``."""
        return (
            self.L1_in * tf.reduce_mean(tf.abs(model.get_effective_W_in()))
            + self.L1_rec * tf.reduce_mean(tf.abs(model.get_effective_W_rec()))
            + self.L1_out * tf.reduce_mean(tf.abs(model.get_effective_W_out()))
        )

    def L2_weight_reg(self, model: Any) -> tf.Tensor:
        """Return ``L2_in mean(W_in~^2) + L2_rec mean(W_rec~^2) + L2_out mean(W_out~^2)``."""
        return (
            self.L2_in * tf.reduce_mean(tf.square(model.get_effective_W_in()))
            + self.L2_rec * tf.reduce_mean(tf.square(model.get_effective_W_rec()))
            + self.L2_out * tf.reduce_mean(tf.square(model.get_effective_W_out()))
        )

    def L2_firing_rate_reg(self, model: Any) -> tf.Tensor:
        """Return ``L2_firing_rate`` times the mean squared rate ``f(states)`` over batch, time and units."""
        return self.L2_firing_rate * tf.reduce_mean(
            tf.square(model.transfer_function(model.states))
        )
