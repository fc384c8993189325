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

            totals = tf.scan(
                back, (upstream, slopes), initializer=tf.zeros_like(initial), reverse=True
            )
            first = totals[0]
            d_initial = decay * first + tf.matmul(first, weights_t) * derivative(initial)

            previous = tf.concat([initial[tf.newaxis], states[:-1]], axis=0)
            n_rec = tf.shape(weights)[0]
            rates = tf.reshape(transfer(previous), [-1, n_rec])
            d_weights = tf.matmul(rates, tf.reshape(totals, [-1, n_rec]), transpose_a=True)
            return totals, d_initial, d_weights

        return states, gradient

    return recurrence(drive, initial, w_rec_scaled)


def lstm_recurrence(
    inputs: tf.Tensor,
    initial_hidden: tf.Tensor,
    initial_cell: tf.Tensor,
    w_hidden: tf.Tensor,
    w_input: tf.Tensor,
    bias: tf.Tensor,
    hidden_activation: str,
) -> tf.Tensor:
    """Return hidden states (N_steps, N_batch, N_rec) of an LSTM, with a hand-written gradient.

    Gates are ``h_{t-1} W_h + x_t W_x + b`` in the order forget, input (write), output (read),
    candidate. The three sigmoid gates come first so that one sigmoid covers them. With four
    activations over column slices the compiled forward loop took about twice as long (measured
    with N_batch 50, N_rec 50, 200 steps).

    Parameters
    ----------
    inputs
        Time-major inputs x_t, (N_steps, N_batch, N_in).
    initial_hidden, initial_cell
        h_0 and c_0, shape (N_batch, N_rec).
    w_hidden, w_input, bias
        Hidden rows (N_rec, 4 N_rec), input rows (N_in, 4 N_rec) and biases (4 N_rec,) of the
        four gate matrices side by side in that order.
    hidden_activation
        ``"tanh"`` (h = o tanh(c)) or ``"sigmoid"`` (h = o sigmoid(c), PsychRNN's LSTM).

    Notes
    -----
    The input part of the gates is formed inside the loop, not for all steps beforehand. With
    that (N_steps, N_batch, 4 N_rec) tensor, XLA's scratch block for the benchmark's update was
    36 MB. By default glibc maps blocks over 32 MiB afresh on every allocation, so each update
    took about 8,900 page faults, which cost more time than the arithmetic.

    NOTE: larger N_batch, N_steps or N_rec push the scratch block over 32 MiB again, and the
    page faults come back. A process-wide malloc or allocator setting avoids them for any size.
    """
    if hidden_activation == "tanh":
        activation = tf.math.tanh

        def activation_slope(y: tf.Tensor) -> tf.Tensor:
            return 1.0 - tf.square(y)

    else:
        activation = tf.math.sigmoid

        def activation_slope(y: tf.Tensor) -> tf.Tensor:
            return y * (1.0 - y)

    # A static width keeps the slices below static, which XLA fuses best.
    n_rec = w_hidden.shape[0] if w_hidden.shape[0] is not None else tf.shape(w_hidden)[0]

    @tf.custom_gradient
    def recurrence(
        inputs: tf.Tensor,
        initial_hidden: tf.Tensor,
        initial_cell: tf.Tensor,
        w_hidden: tf.Tensor,
        w_input: tf.Tensor,
        bias: tf.Tensor,
    ) -> Any:
        # The step carries one row per trial, [h, c, sigmoid gates, candidate]. One stacked
        # output was faster than four, because each output is a separate write in every step.
        def step(row: tf.Tensor, x_t: tf.Tensor) -> tf.Tensor:
            hidden, cell = row[:, :n_rec], row[:, n_rec : 2 * n_rec]
            pre_activation = tf.matmul(hidden, w_hidden) + tf.matmul(x_t, w_input) + bias
            gates = tf.math.sigmoid(pre_activation[:, : 3 * n_rec])
            candidate = tf.math.tanh(pre_activation[:, 3 * n_rec :])
            forget, write, read = tf.split(gates, 3, axis=1)
            cell = forget * cell + write * candidate
            return tf.concat([read * activation(cell), cell, gates, candidate], axis=1)

        # Only h_0 and c_0 of the initial row are read.
        gate_zeros = tf.zeros_like(tf.tile(initial_hidden, [1, 4]))
        first = tf.concat([initial_hidden, initial_cell, gate_zeros], axis=1)
        rows = tf.scan(step, inputs, initializer=first)
        hidden = rows[:, :, :n_rec]

        def gradient(upstream: tf.Tensor) -> tuple[tf.Tensor, ...]:
            w_hidden_t = tf.transpose(w_hidden)
            n_steps = tf.shape(rows)[0]

            # Each step forms its coefficients from the stored row, so no stacked coefficient
            # tensors take scratch memory. A while loop writes only dL/d(gates) at every step.
            def back(
                t: tf.Tensor, d_gates_next: tf.Tensor, d_cell_next: tf.Tensor, d_gates: Any
            ) -> tuple[Any, ...]:
                row = rows[t]
                cell = row[:, n_rec : 2 * n_rec]
                forget = row[:, 2 * n_rec : 3 * n_rec]
                write = row[:, 3 * n_rec : 4 * n_rec]
                read = row[:, 4 * n_rec : 5 * n_rec]
                candidate = row[:, 5 * n_rec :]
                previous_cell = tf.where(
                    t > 0, rows[tf.maximum(t - 1, 0)][:, n_rec : 2 * n_rec], initial_cell
                )
                cell_activity = activation(cell)
                d_hidden = upstream[t] + tf.matmul(d_gates_next, w_hidden_t)
                d_cell = d_cell_next + d_hidden * read * activation_slope(cell_activity)
                d_gates_t = tf.concat(
                    [
                        d_cell * previous_cell * forget * (1.0 - forget),
                        d_cell * candidate * write * (1.0 - write),
                        d_hidden * cell_activity * read * (1.0 - read),
                        d_cell * write * (1.0 - tf.square(candidate)),
                    ],
                    axis=1,
                )
                return t - 1, d_gates_t, d_cell * forget, d_gates.write(t, d_gates_t)

            _, d_gates_first, d_initial_cell, d_gates = tf.while_loop(
                lambda t, *_: t >= 0,
                back,
                (
                    n_steps - 1,
                    gate_zeros,
                    tf.zeros_like(initial_cell),
                    tf.TensorArray(upstream.dtype, size=n_steps),
                ),
            )
            d_gates = tf.reshape(d_gates.stack(), [-1, 4 * n_rec])
            d_initial_hidden = tf.matmul(d_gates_first, w_hidden_t)
            previous_hidden = tf.concat([initial_hidden[tf.newaxis], hidden[:-1]], axis=0)
            d_w_hidden = tf.matmul(
                tf.reshape(previous_hidden, [-1, n_rec]), d_gates, transpose_a=True
            )
            n_in = tf.shape(inputs)[2]
            flat_inputs = tf.reshape(inputs, [-1, n_in])
            d_w_input = tf.matmul(flat_inputs, d_gates, transpose_a=True)
            d_bias = tf.reduce_sum(d_gates, axis=0)
            d_inputs = tf.reshape(tf.matmul(d_gates, w_input, transpose_b=True), tf.shape(inputs))
            return d_inputs, d_initial_hidden, d_initial_cell, d_w_hidden, d_w_input, d_bias

        return hidden, gradient

    return recurrence(inputs, initial_hidden, initial_cell, w_hidden, w_input, bias)


def gru_recurrence(
    projected: tf.Tensor, initial: tf.Tensor, w_update: tf.Tensor, w_candidate: tf.Tensor
) -> tf.Tensor:
    """Return hidden states (N_steps, N_batch, N_rec) of a GRU, with a hand-written gradient.

    Parameters
    ----------
    projected
        Time-major input part of the gates, ``x_t W_x + b`` (N_steps, N_batch, 3 N_rec), in the
        order update, reset, candidate.
    initial
        h_0, shape (N_batch, N_rec).
    w_update
        Hidden rows of the update and reset gate matrices side by side, (N_rec, 2 N_rec).
    w_candidate
        Hidden rows of the candidate matrix, (N_rec, N_rec); it acts on ``reset * h``.
    """

    def step(carry: tuple[tf.Tensor, ...], projected_t: tf.Tensor) -> tuple[tf.Tensor, ...]:
        hidden = carry[0]
        n_rec = tf.shape(hidden)[1]
        gates = tf.math.sigmoid(tf.matmul(hidden, w_update) + projected_t[:, : 2 * n_rec])
        update, reset = tf.split(gates, 2, axis=1)
        candidate = tf.math.tanh(
            tf.matmul(reset * hidden, w_candidate) + projected_t[:, 2 * n_rec :]
        )
        # With one unit, (N_batch, 1) + (N_batch, unknown) broadcasts to an unknown width, and
        # tf.scan rejects a carry whose static shape changes.
        candidate = tf.reshape(candidate, tf.shape(hidden))
        return (1.0 - update) * hidden + update * candidate, update, reset, candidate

    @tf.custom_gradient
    def recurrence(
        projected: tf.Tensor, initial: tf.Tensor, w_update: tf.Tensor, w_candidate: tf.Tensor
    ) -> Any:
        zeros = tf.zeros_like(initial)
        hidden, update, reset, candidate = tf.scan(
            step, projected, initializer=(initial, zeros, zeros, zeros)
        )

        def gradient(upstream: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
            n_rec = tf.shape(initial)[1]
            previous = tf.concat([initial[tf.newaxis], hidden[:-1]], axis=0)
            # With a_t = dL/dh_t: dL/d(candidate pre-activation) = a_t c_n, dL/d(update
            # pre-activation) = a_t c_z, and dL/d(reset pre-activation) = (dL/d(r h)) c_r.
            c_n = update * (1.0 - tf.square(candidate))
            c_z = (candidate - previous) * update * (1.0 - update)
            c_r = previous * reset * (1.0 - reset)
            keep = 1.0 - update
            w_update_t = tf.transpose(w_update)
            w_candidate_t = tf.transpose(w_candidate)

            def back(carry: tuple[tf.Tensor, ...], elems: Any) -> tuple[tf.Tensor, ...]:
                upstream_t, c_n_t, c_z_t, c_r_t, keep_t, reset_t = elems
                total = upstream_t + carry[0]
                d_candidate = total * c_n_t
                d_update = total * c_z_t
                d_reset_hidden = tf.matmul(d_candidate, w_candidate_t)
                d_reset = d_reset_hidden * c_r_t
                d_gates = tf.concat([d_update, d_reset], axis=1)
                d_previous = (
                    total * keep_t + d_reset_hidden * reset_t + tf.matmul(d_gates, w_update_t)
                )
                return d_previous, d_gates, d_candidate

            initializer = (
                tf.zeros_like(initial),
                tf.zeros_like(projected[0, :, : 2 * n_rec]),
                tf.zeros_like(initial),
            )
            d_previous, d_gates, d_candidate = tf.scan(
                back, (upstream, c_n, c_z, c_r, keep, reset), initializer=initializer, reverse=True
            )
            d_projected = tf.concat([d_gates, d_candidate], axis=2)
            d_w_update = tf.matmul(
                tf.reshape(previous, [-1, n_rec]),
                tf.reshape(d_gates, [-1, 2 * n_rec]),
                transpose_a=True,
            )
            d_w_candidate = tf.matmul(
                tf.reshape(reset * previous, [-1, n_rec]),
                tf.reshape(d_candidate, [-1, n_rec]),
                transpose_a=True,
            )
            return d_projected, d_previous[0], d_w_update, d_w_candidate

        return hidden, gradient

    return recurrence(projected, initial, w_update, w_candidate)
