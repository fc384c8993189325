"""Time loops of the three models with hand-written backward passes.

Automatic differentiation through ``tf.scan`` stores and replays every step's intermediates and
computes the weight gradients as one small matmul per step. The backward passes here run one
reverse loop for the state gradients and form the recurrent-weight gradient as a single large
matmul over all steps and trials, which makes a training update several times faster on a CPU.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import tensorflow as tf

# Up to this many inputs, the rate RNN forms its input drive inside the time loop as a sum of
# scaled columns rather than a matmul. In a 5.7 ms update (N_batch 50, N_rec 50, 200 steps),
# XLA on a CPU took about 0.5 ms for a 2-input matmul over all 10,000 step-trial rows and
# about 0.4 ms to sum its gradient over those rows. Inside the loop the same work is
# element-wise and joins the step's other element-wise operations: updates took 4.7 ms.
SMALL_INPUT_COUNT = 8


def rate_recurrence(
    inputs: tf.Tensor,
    input_weights: tf.Tensor,
    bias: tf.Tensor,
    noise: tf.Tensor | None,
    initial: tf.Tensor,
    w_rec_scaled: tf.Tensor,
    decay: tf.Tensor,
    transfer: Callable[[Any], Any],
    derivative: Callable[[Any], Any] | None,
) -> tf.Tensor:
    """Return the states (N_steps, N_batch, N_rec) of the rate RNN's time loop.

    ``s_t = decay s_{t-1} + f(s_{t-1}) W + x_t U + b + n_t``, with s_0 = ``initial``.

    Parameters
    ----------
    inputs
        Time-major inputs x_t (N_steps, N_batch, N_in).
    input_weights
        ``U = W_in~^T`` with column j multiplied by alpha_j, shape (N_in, N_rec).
    bias
        ``alpha * b_rec``, shape (N_rec,).
    noise
        None or the scaled recurrent noise n_t (N_steps, N_batch, N_rec).
    initial
        s_0, shape (N_batch, N_rec).
    w_rec_scaled
        ``W_rec~^T`` with column j multiplied by alpha_j, shape (N_rec, N_rec).
    decay
        ``1 - alpha``, a scalar or (N_rec,); treated as a constant (no gradient).
    transfer, derivative
        f and f'. Without ``derivative`` the loop is differentiated automatically.
    """
    n_in = inputs.shape[-1]
    columns = n_in is not None and n_in <= SMALL_INPUT_COUNT

    def input_drive(x_t: tf.Tensor, weights: tf.Tensor) -> tf.Tensor:
        if columns:
            return tf.add_n([x_t[:, k : k + 1] * weights[k] for k in range(n_in)])
        return tf.matmul(x_t, weights)

    def step_with(
        weights: tf.Tensor, drive_weights: tf.Tensor, drive_bias: tf.Tensor
    ) -> Callable[..., tf.Tensor]:
        def step(state: tf.Tensor, elems: Any) -> tf.Tensor:
            x_t = elems[0]
            total = decay * state + tf.matmul(transfer(state), weights)
            total += input_drive(x_t, drive_weights) + drive_bias
            return total if noise is None else total + elems[1]

        return step

    noise_given = () if noise is None else (noise,)
    elems = (inputs, *noise_given)
    if derivative is None:
        return tf.scan(step_with(w_rec_scaled, input_weights, bias), elems, initializer=initial)

    @tf.custom_gradient
    def recurrence(
        inputs: tf.Tensor,
        input_weights: tf.Tensor,
        bias: tf.Tensor,
        initial: tf.Tensor,
        weights: tf.Tensor,
        *noise_given: tf.Tensor,
    ) -> Any:
        step = step_with(weights, input_weights, bias)
        n_steps = tf.shape(inputs)[0]
        chosen = (inputs, *noise_given)

        def forward(t: tf.Tensor, state: tf.Tensor, states: Any) -> tuple[Any, ...]:
            state = step(state, [x[t] for x in chosen])
            return t + 1, state, states.write(t, state)

        _, _, states = tf.while_loop(
            lambda t, *_: t < n_steps,
            forward,
            (0, initial, new_steps()),
        )
        states = stacked(states)

        def gradient(upstream: tf.Tensor) -> tuple[tf.Tensor, ...]:
            # a_t = dL/ds_t = G_t + decay a_{t+1} + (a_{t+1} W^T) f'(s_t), with a_{T+1} = 0.
            # The loop also sums a_t and x_t a_t over the steps for the bias and input weights.
            weights_t = tf.transpose(weights)

            def back(t: tf.Tensor, a_next: tf.Tensor, sums: Any, totals: Any) -> tuple[Any, ...]:
                a_t = (
                    upstream[t]
                    + decay * a_next
                    + tf.matmul(a_next, weights_t) * derivative(states[t])
                )
                x_t = inputs[t]
                bias_sum, input_sums = sums
                bias_sum += a_t
                if columns:
                    input_sums = tuple(
                        total + x_t[:, k : k + 1] * a_t for k, total in enumerate(input_sums)
                    )
                return t - 1, a_t, (bias_sum, input_sums), totals.write(t, a_t)

            zeros = tf.zeros_like(initial)
            _, first, (bias_sum, input_sums), totals = tf.while_loop(
                lambda t, *_: t >= 0,
                back,
                (
                    n_steps - 1,
                    zeros,
                    (zeros, (zeros,) * (n_in if columns else 0)),
                    new_steps(),
                ),
            )
            totals = stacked(totals)
            d_initial = decay * first + tf.matmul(first, weights_t) * derivative(initial)

            n_rec = tf.shape(weights)[0]
            flat_totals = tf.reshape(totals, [-1, n_rec])
            previous = tf.concat([initial[tf.newaxis], states[:-1]], axis=0)
            rates = tf.reshape(transfer(previous), [-1, n_rec])
            d_weights = tf.matmul(rates, flat_totals, transpose_a=True)
            d_bias = tf.reduce_sum(bias_sum, axis=0)
            if columns:
                d_input_weights = tf.stack([tf.reduce_sum(s, axis=0) for s in input_sums])
            else:
                flat_inputs = tf.reshape(inputs, [-1, tf.shape(inputs)[2]])
                d_input_weights = tf.matmul(flat_inputs, flat_totals, transpose_a=True)
            d_inputs = tf.matmul(totals, input_weights, transpose_b=True)
            # The noise enters every step as it is, so its gradient is a_t itself.
            d_noise = (totals,) * len(noise_given)
            return (d_inputs, d_input_weights, d_bias, d_initial, d_weights, *d_noise)

        return states, gradient

    def new_steps() -> tf.TensorArray:
        # The element shape keeps the stacked time axis static where the inputs' is, and lets
        # an input with no steps stack to an empty array.
        return tf.TensorArray(initial.dtype, size=tf.shape(inputs)[0], element_shape=initial.shape)

    def stacked(steps: tf.TensorArray) -> tf.Tensor:
        values = steps.stack()
        values.set_shape(inputs.shape[:1].concatenate(initial.shape))
        return values

    return recurrence(inputs, input_weights, bias, initial, w_rec_scaled, *noise_given)


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
