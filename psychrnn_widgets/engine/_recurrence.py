"""The rate RNN's time loop with a hand-written backward pass.

Automatic differentiation through ``tf.scan`` stores and replays every step's intermediates and
computes the W_rec gradient as one small matmul per step. The backward pass here runs one
reverse scan for the state gradients and then forms the W_rec gradient as a single large matmul
over all steps and trials, which makes a training update several times faster on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf


def rate_recurrence(
    drive: tf.Tensor,
    initial: tf.Tensor,
    w_rec_scaled: tf.Tensor,
    decay: tf.Tensor,
    transfer: Callable[[Any], Any],
    derivative: Callable[[Any], Any] | None,
) -> tf.Tensor:
    """Return states (N_steps, N_batch, N_rec) of ``s_t = decay s_{t-1} + f(s_{t-1}) W + d_t``.

    Parameters
    ----------
    drive
        Time-major input drive ``d_t`` (N_steps, N_batch, N_rec), already multiplied by alpha.
    initial
        s_0, shape (N_batch, N_rec).
    w_rec_scaled
        ``W_rec~^T`` with column j multiplied by alpha_j, shape (N_rec, N_rec).
    decay
        ``1 - alpha``, a scalar or (N_rec,); treated as a constant (no gradient).
    transfer, derivative
        f and f'. Without ``derivative`` the loop is differentiated automatically.
    """

    def step(state: tf.Tensor, drive_t: tf.Tensor) -> tf.Tensor:
        return decay * state + tf.matmul(transfer(state), w_rec_scaled) + drive_t

    if derivative is None:
        return tf.scan(step, drive, initializer=initial)

    @tf.custom_gradient
    def recurrence(drive: tf.Tensor, initial: tf.Tensor, weights: tf.Tensor) -> Any:
        states = tf.scan(step, drive, initializer=initial)

        def gradient(upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
            # a_t = dL/ds_t = G_t + decay a_{t+1} + (a_{t+1} W^T) f'(s_t), with a_{T+1} = 0.
            weights_t = tf.transpose(weights)
            slopes = derivative(states)

            def back(a_next: tf.Tensor, elems: tuple[tf.Tensor, tf.Tensor]) -> tf.Tensor:
                upstream_t, slope_t = elems
                return upstream_t + decay * a_next + tf.matmul(a_next, weights_t) * slope_t

            totals = tf.scan(back, (upstream, slopes), initializer=tf.zeros_like(initial), reverse=True)
            first = totals[0]
            d_initial = decay * first + tf.matmul(first, weights_t) * derivative(initial)

            previous = tf.concat([initial[tf.newaxis], states[:-1]], axis=0)
            n_rec = tf.shape(weights)[0]
            rates = tf.reshape(transfer(previous), [-1, n_rec])
            d_weights = tf.matmul(rates, tf.reshape(totals, [-1, n_rec]), transpose_a=True)
            return totals, d_initial, d_weights

        return states, gradient

    return recurrence(drive, initial, w_rec_scaled)
