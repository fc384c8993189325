"""PsychRNN's ``Regularizer``: L1 and L2 penalties on effective weights and an L2 firing-rate penalty.

Every penalty is a mean, not a sum, computed by the engine's
:func:`~psychrnn_widgets.engine.regularizers.compute_regularization` on the matrices that the
model's ``get_effective_W_in``, ``get_effective_W_rec`` and ``get_effective_W_out`` return, so a
user model that overrides them is regularised on its own weights, as in PsychRNN.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import tensorflow as tf

from psychrnn_widgets.engine.regularizers import REGULARIZATION_FIELDS, compute_regularization

__all__ = ["Regularizer"]


class _ModelView:
    """The engine's view of a compat model: effective weight tensors, rates and dtype."""

    dtype = tf.float32

    def __init__(self, model: Any) -> None:
        self._model = model

    def effective_tensors(self) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        model = self._model
        return model.get_effective_W_in(), model.get_effective_W_rec(), model.get_effective_W_out()

    def rates(self, states: tf.Tensor) -> tf.Tensor:
        return self._model.transfer_function(states)


class Regularizer:
    """Regularisation built from ``params``.

    Keys: ``L1_in``, ``L1_rec``, ``L1_out``, ``L2_in``, ``L2_rec``, ``L2_out``,
    ``L2_firing_rate`` (all 0) and ``custom_regularization``, ``fn(model, params) -> tensor``.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        for name in REGULARIZATION_FIELDS:
            setattr(self, name, params.get(name, 0))
        self.custom_regularization = params.get("custom_regularization")
        self.params = params

    def _terms(self, model: Any, names: tuple[str, ...]) -> tf.Tensor:
        weights = {
            name: getattr(self, name) if name in names else 0.0 for name in REGULARIZATION_FIELDS
        }
        config = SimpleNamespace(**weights, custom_regularization=None)
        return compute_regularization(_ModelView(model), model.states, config)

    def set_model_regularization(self, model: Any) -> tf.Tensor:
        """Return the sum of all penalties for ``model`` (its ``states`` must be set)."""
        reg = self._terms(model, REGULARIZATION_FIELDS)
        if self.custom_regularization is not None:
            reg = reg + self.custom_regularization(model, self.params)
        return reg

    def L1_weight_reg(self, model: Any) -> tf.Tensor:
        """Return ``L1_in mean|W_in~| + L1_rec mean|W_rec~| + L1_out mean|W_out~|``."""
        return self._terms(model, ("L1_in", "L1_rec", "L1_out"))

    def L2_weight_reg(self, model: Any) -> tf.Tensor:
        """Return ``L2_in mean(W_in~^2) + L2_rec mean(W_rec~^2) + L2_out mean(W_out~^2)``."""
        return self._terms(model, ("L2_in", "L2_rec", "L2_out"))

    def L2_firing_rate_reg(self, model: Any) -> tf.Tensor:
        """Return ``L2_firing_rate`` times the mean squared rate ``f(states)`` over batch, time and units."""
        return self._terms(model, ("L2_firing_rate",))
