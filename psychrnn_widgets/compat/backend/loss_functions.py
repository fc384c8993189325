"""PsychRNN's ``LossFunction``: masked mean squared error, binary cross-entropy or a custom loss.

Both built-in losses are the engine's :func:`~psychrnn_widgets.engine.losses.compute_loss` with
``normalization="all"``: they divide by every entry of the batch (``N_batch * N_steps * N_out``),
masked or not, as PsychRNN does, and the mask multiplies the error before squaring.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from psychrnn_widgets.compat.backend._errors import CompatUsageError
from psychrnn_widgets.engine.losses import compute_loss

__all__ = ["LossFunction"]

_BUILT_IN = ("mean_squared_error", "binary_cross_entropy")


class LossFunction:
    """Select the loss named by ``params['loss_function']`` (default ``"mean_squared_error"``).

    Any other name ``s`` must be a key of ``params`` holding ``fn(predictions, y, output_mask)``
    that returns a scalar tensor.

    Raises
    ------
    CompatUsageError
        If a custom loss name has no function in ``params`` (a ``UserWarning`` and a
        ``ValueError``, as PsychRNN raises ``UserWarning``).
    """

    def __init__(self, params: dict[str, Any]) -> None:
        self.type = params.get("loss_function", "mean_squared_error")
        self.custom_loss_function = None
        if self.type not in _BUILT_IN:
            self.custom_loss_function = params.get(self.type)
            if self.custom_loss_function is None:
                raise CompatUsageError(
                    "loss_function",
                    f"Loss type is '{self.type}' but '{self.type}' is not an entry in params. Use "
                    f"'mean_squared_error' or 'binary_cross_entropy', or pass a function in params as '{self.type}'.",
                    self.type,
                )

    def set_model_loss(self, model: Any) -> tf.Tensor:
        """Return the loss of ``model.predictions`` against ``model.y`` under ``model.output_mask``."""
        if self.type == "mean_squared_error":
            return self.mean_squared_error(model.predictions, model.y, model.output_mask)
        if self.type == "binary_cross_entropy":
            return self.binary_cross_entropy(model.predictions, model.y, model.output_mask)
        return self.custom_loss_function(model.predictions, model.y, model.output_mask)

    def mean_squared_error(self, predictions: Any, y: Any, output_mask: Any) -> tf.Tensor:
        """Return ``mean((mask * (predictions - y))**2)`` over all entries."""
        return compute_loss(predictions, y, output_mask, "mse", "all")

    def binary_cross_entropy(self, predictions: Any, y: Any, output_mask: Any) -> tf.Tensor:
        """Return the masked binary cross-entropy averaged over all entries.

        Predictions are clipped to [1e-7, 1 - 1e-7] and shifted by 1e-7 inside the logarithms.
        """
        return compute_loss(predictions, y, output_mask, "bce", "all")
