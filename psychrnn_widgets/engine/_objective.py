"""The training objective: loss plus regularisation, as one traceable function."""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from psychrnn_widgets.engine.losses import compute_loss, loss_divisor, loss_terms
from psychrnn_widgets.engine.regularizers import (
    REGULARIZATION_FIELDS,
    compute_regularization,
    regularization_weights,
    weight_regularization,
)

__all__ = ["Objective", "build_objective"]


class Objective:
    """Training objective of one network and config, ``objective(outputs, states, targets, mask)``.

    The value is what PsychRNN calls ``reg_loss``: the loss plus every regularisation term.

    With a built-in loss the objective also splits by trials (``splits_by_trial``). A part of
    the batch then gives its share of the loss and firing-rate terms (:meth:`trial_share`, with
    the divisors of the whole batch from :meth:`trial_scales`), and :meth:`weight_terms` gives
    the rest. The shares of all parts plus the weight terms equal the objective of the whole
    batch up to float rounding. A callable loss may mix trials, so it does not split.
    """

    def __init__(self, network: Any, config: Any) -> None:
        self.network = network
        self.config = config
        self.splits_by_trial = not callable(config.loss)

    def __call__(
        self, outputs: tf.Tensor, states: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor
    ) -> tf.Tensor:
        config = self.config
        loss = compute_loss(outputs, targets, mask, config.loss, config.loss_normalization)
        return loss + compute_regularization(self.network, states, config)

    def trial_scales(self, targets: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """Return the factors of the summed loss terms and squared rates for the whole batch.

        Those are ``[1 / n_loss, L2_firing_rate / n_rates]``, where ``n_rates`` counts the
        state entries, N_batch * N_steps * N_rec.
        """
        dtype = self.network.dtype
        divisor = loss_divisor(mask, self.config.loss_normalization, dtype)
        shape = tf.shape(targets)
        n_rates = tf.cast(shape[0] * shape[1], dtype) * float(self.network.config.N_rec)
        rate_weight = regularization_weights(self.config)["L2_firing_rate"]
        return tf.stack([1.0 / divisor, rate_weight / n_rates])

    def trial_share(
        self,
        outputs: tf.Tensor,
        states: tf.Tensor,
        targets: tf.Tensor,
        mask: tf.Tensor,
        scales: tf.Tensor,
    ) -> tf.Tensor:
        """Return the loss and firing-rate terms of these trials, scaled by ``trial_scales``."""
        share = tf.reduce_sum(loss_terms(outputs, targets, mask, self.config.loss)) * scales[0]
        if regularization_weights(self.config)["L2_firing_rate"]:
            rates = self.network.rates(tf.cast(states, self.network.dtype))
            share += tf.reduce_sum(tf.square(rates)) * scales[1]
        return share

    def weight_terms(self) -> tf.Tensor | None:
        """Return the terms that depend on the weights only, or None when there are none."""
        weights = regularization_weights(self.config)
        if getattr(self.config, "custom_regularization", None) is None and not any(
            weights[field] for field in REGULARIZATION_FIELDS[:6]
        ):
            return None
        return weight_regularization(self.network, self.config, weights)


def build_objective(network: Any, config: Any) -> Objective:
    """Return the :class:`Objective` of ``network`` trained with ``config``."""
    return Objective(network, config)
