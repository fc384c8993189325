"""Training losses on masked outputs: mean squared error, binary cross-entropy, or a callable.

With ``normalization="all"`` (PsychRNN's rule) the mean runs over all
``N_batch * N_steps * N_out`` entries, masked ones included, so the share of masked-out steps
scales the loss and with it the effective learning rate. ``normalization="mask"`` divides the
same sum by the number of entries whose mask is not 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

from psychrnn_widgets.engine._autograph import user_callable
from psychrnn_widgets.errors import InvalidParameterError

__all__ = ["LOSSES", "NORMALIZATIONS", "check_loss", "compute_loss", "loss_divisor", "loss_terms"]

LOSSES = ("mse", "bce")
NORMALIZATIONS = ("all", "mask")
_BCE_EPSILON = 1e-7

LossCallable = Callable[[tf.Tensor, tf.Tensor, tf.Tensor], Any]


def check_loss(kind: object, normalization: object = "all") -> None:
    """Raise :class:`InvalidParameterError` unless ``kind`` and ``normalization`` are valid."""
    if not (callable(kind) or kind in LOSSES):
        raise InvalidParameterError(
            "loss",
            f"loss must be 'mse', 'bce' or a callable (outputs, targets, mask) -> scalar (got {kind!r})",
            kind,
        )
    if normalization not in NORMALIZATIONS:
        raise InvalidParameterError(
            "loss_normalization",
            f"loss_normalization must be 'all' or 'mask' (got {normalization!r})",
            normalization,
        )


def compute_loss(
    outputs: tf.Tensor,
    targets: tf.Tensor,
    mask: tf.Tensor,
    kind: str | LossCallable = "mse",
    normalization: str = "all",
) -> tf.Tensor:
    """Return the scalar loss of ``outputs`` against ``targets``; traceable in ``tf.function``.

    Parameters
    ----------
    outputs, targets, mask
        Tensors of shape (N_batch, N_steps, N_out); ``targets`` and ``mask`` are cast to the
        dtype of ``outputs``.
    kind
        ``"mse"``: ``sum((mask * (outputs - targets))**2) / n``. The mask multiplies the error
        before squaring, so a graded mask weight w counts as w**2.
        ``"bce"``: with ``p = clip(outputs, 1e-7, 1 - 1e-7)``,
        ``sum(mask * -(targets log(p + 1e-7) + (1 - targets) log(1 - p + 1e-7))) / n``.
        A callable ``(outputs, targets, mask) -> scalar`` is used as is, without normalisation.
    normalization
        ``"all"``: n = N_batch * N_steps * N_out (PsychRNN). ``"mask"``: n = number of
        non-zero mask entries (at least 1).
    """
    check_loss(kind, normalization)
    if callable(kind):
        return tf.cast(user_callable(kind)(outputs, targets, mask), outputs.dtype)
    terms = loss_terms(outputs, targets, mask, kind)
    if normalization == "all":
        return tf.reduce_mean(terms)
    return tf.reduce_sum(terms) / loss_divisor(mask, "mask", outputs.dtype)


def loss_terms(outputs: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor, kind: str) -> tf.Tensor:
    """Return the loss of every output entry before normalisation (built-in losses only).

    Summing the terms of every trial and dividing by :func:`loss_divisor` gives
    :func:`compute_loss`, so a batch can be split into parts of trials whose sums are added.
    """
    targets = tf.cast(targets, outputs.dtype)
    mask = tf.cast(mask, outputs.dtype)
    if kind == "mse":
        return tf.square(mask * (outputs - targets))
    p = tf.clip_by_value(outputs, _BCE_EPSILON, 1.0 - _BCE_EPSILON)
    log_likelihood = targets * tf.math.log(p + _BCE_EPSILON) + (1.0 - targets) * tf.math.log(
        1.0 - p + _BCE_EPSILON
    )
    return -mask * log_likelihood


def loss_divisor(mask: tf.Tensor, normalization: str, dtype: tf.DType) -> tf.Tensor:
    """Return n of :func:`compute_loss` for a whole batch: all entries, or non-zero mask entries."""
    if normalization == "all":
        return tf.cast(tf.size(mask), dtype)
    return tf.maximum(tf.cast(tf.math.count_nonzero(mask), dtype), 1.0)
