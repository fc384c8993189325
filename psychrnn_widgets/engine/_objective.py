"""The training objective: loss plus regularisation, as one traceable function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from psychrnn_widgets.engine.losses import compute_loss
from psychrnn_widgets.engine.regularizers import compute_regularization

__all__ = ["build_objective"]


def build_objective(network: Any, config: Any) -> Callable[..., tf.Tensor]:
    """Return ``objective(outputs, states, targets, mask) -> scalar tensor`` for ``config``.

    The value is what PsychRNN calls ``reg_loss``: the loss plus every regularisation term.
    """
    kind = config.loss
    normalization = config.loss_normalization

    def objective(outputs: tf.Tensor, states: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        loss = compute_loss(outputs, targets, mask, kind, normalization)
        return loss + compute_regularization(network, states, config)

    return objective
