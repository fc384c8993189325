"""Time loops of the three models with hand-written backward passes.

Automatic differentiation through ``tf.scan`` stores and replays every step's intermediates and
computes the weight gradients as one small matmul per step. The backward passes here run one
reverse loop for the state gradients and form the recurrent-weight gradient as a single large
matmul over all steps and trials, which makes a training update several times faster on a CPU.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from typing import Any

import tensorflow as tf
from tensorflow.compiler.tf2xla.python import xla

# Up to this many inputs, the rate RNN forms its input drive inside the time loop as a sum of
# scaled columns rather than a matmul. In a 5.7 ms update (N_batch 50, N_rec 50, 200 steps),
# XLA on a CPU took about 0.5 ms for a 2-input matmul over all 10,000 step-trial rows and
# about 0.4 ms to sum its gradient over those rows. Inside the loop the same work is
# element-wise and joins the step's other element-wise operations: updates took 4.7 ms.
SMALL_INPUT_COUNT = 8

_COMPILING_FOR_XLA = contextvars.ContextVar("compiling_for_xla", default=False)


def compiling_for_xla() -> bool:
    """Return whether the code being traced now will run under XLA (see :func:`for_xla`)."""
    return _COMPILING_FOR_XLA.get()


@contextlib.contextmanager
def _tracing_for_xla() -> Iterator[None]:
    token = _COMPILING_FOR_XLA.set(True)
    try:
        yield
    finally:
        _COMPILING_FOR_XLA.reset(token)


def for_xla(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``function`` so that time loops traced inside it may use operations XLA runs well.

    Give the wrapper to ``tf.function(jit_compile=True)``. Some writes that XLA does in place
    copy a whole array in TensorFlow's own kernels, so the loops choose them only here.
    """

    @functools.wraps(function)
    def traced(*args: Any, **kwargs: Any) -> Any:
        with _tracing_for_xla():
            return function(*args, **kwargs)

    return traced


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
    candidate.

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
    Measured on 2 cores with one update part of 25 trials, N_rec 50, 200 steps, alone (forward
    and backward pass 10.9 ms before these changes, 6.5 ms after; with two parts side by side,
    as the trainer runs them, 8.2 ms each):

    - One tanh covers all four gate blocks, as ``sigmoid(x) = (1 + tanh(x / 2)) / 2``, with no
      slices or concatenation before it. XLA on a CPU does not fuse a concatenation with its
      operands, and slices of the gate block made slow fused loops.
    - The forward loop keeps gates and cells only; h_t is formed again after the loop.
    - The backward loop reads step t - 1 from storage one step ahead and carries it, so its
      element-wise work reads small loop values, not slices of the stored arrays.
    - dL/d(gates) of step t goes to slot t - 1, next to h_{t-1} in the hidden states, so the
      recurrent-weight gradient needs no shifted copy of them. Step 0 runs after the loop.
    - Under XLA (:func:`compiling_for_xla`) the four gate blocks of dL/d(gates) are written in
      place, with no concatenation. Without XLA those writes took 41 ms per pass against 23 ms
      (TensorFlow's kernel copies the array at every write), so there the blocks are joined and
      written as one.
    - The backward matmul has its N_rec output columns padded to a multiple of 16: 50 columns
      took 5.5 us, 64 took 3.4 us.
    - The input part of the gates is formed inside the loop: as a sum of scaled columns up to
      ``SMALL_INPUT_COUNT`` inputs, else as a matmul. With the input part for all steps as
      one (N_steps, N_batch, 4 N_rec) tensor, XLA's scratch block for the benchmark's update
      once went over 32 MiB, where glibc maps every allocation afresh: about 8,900 page
      faults per update cost more than the arithmetic.
    """
    if hidden_activation == "tanh":
        activation = tf.math.tanh

        def activation_slope(y: tf.Tensor) -> tf.Tensor:
            return 1.0 - tf.square(y)

    else:
        activation = tf.math.sigmoid

        def activation_slope(y: tf.Tensor) -> tf.Tensor:
            return y * (1.0 - y)

    n = int(w_hidden.shape[0])
    dtype = w_hidden.dtype
    half = tf.constant([0.5] * (3 * n) + [1.0] * n, dtype)
    shift = tf.constant([0.5] * (3 * n) + [0.0] * n, dtype)
    n_in = inputs.shape[2]
    columns = n_in is not None and n_in <= SMALL_INPUT_COUNT
    in_place = compiling_for_xla()
    gate_rows = tf.TensorShape([initial_hidden.shape[0], 4 * n])
    # NOTE: only a step count known while tracing can be 0. With an unknown one, 0 steps fail
    # in the backward loop's first read. Training never has trials without steps.
    if inputs.shape[0] == 0:
        return tf.zeros_like(initial_hidden)[tf.newaxis][:0]

    def split(gates: tf.Tensor) -> tuple[tf.Tensor, ...]:
        return gates[:, :n], gates[:, n : 2 * n], gates[:, 2 * n : 3 * n], gates[:, 3 * n :]

    @tf.custom_gradient
    def recurrence(
        inputs: tf.Tensor,
        initial_hidden: tf.Tensor,
        initial_cell: tf.Tensor,
        w_hidden: tf.Tensor,
        w_input: tf.Tensor,
        bias: tf.Tensor,
    ) -> Any:
        n_steps = tf.shape(inputs)[0]
        input_rows = [w_input[j] for j in range(n_in)] if columns else []

        def forward(
            t: tf.Tensor, hidden: tf.Tensor, cell: tf.Tensor, gates_ta: Any, cells_ta: Any
        ) -> Any:
            x_t = inputs[t]
            pre_activation = tf.matmul(hidden, w_hidden) + bias
            if columns:
                for j, row in enumerate(input_rows):
                    pre_activation += x_t[:, j : j + 1] * row
            else:
                pre_activation += tf.matmul(x_t, w_input)
            gates = tf.math.tanh(pre_activation * half) * half + shift
            forget, write, read, candidate = split(gates)
            cell = forget * cell + write * candidate
            hidden = read * activation(cell)
            return t + 1, hidden, cell, gates_ta.write(t, gates), cells_ta.write(t, cell)

        _, _, _, gates_ta, cells_ta = tf.while_loop(
            lambda t, *_: t < n_steps,
            forward,
            (
                tf.constant(0),
                initial_hidden,
                initial_cell,
                tf.TensorArray(dtype, size=n_steps, element_shape=gate_rows),
                tf.TensorArray(dtype, size=n_steps, element_shape=initial_cell.shape),
            ),
        )
        gates_all, cells = gates_ta.stack(), cells_ta.stack()
        hidden = gates_all[:, :, 2 * n : 3 * n] * activation(cells)

        def gradient(upstream: tf.Tensor) -> tuple[tf.Tensor, ...]:
            w_hidden_t = tf.transpose(w_hidden)
            w_hidden_padded = tf.pad(w_hidden_t, [[0, 0], [0, (-n) % 16]])
            n_batch = tf.shape(inputs)[1]

            def step(
                t: tf.Tensor,
                d_gates_next: tf.Tensor,
                d_cell_next: tf.Tensor,
                gates: tf.Tensor,
                cell: tf.Tensor,
            ) -> Any:
                previous = tf.maximum(t - 1, 0)
                previous_gates, previous_cell = gates_all[previous], cells[previous]
                forget, write, read, candidate = split(gates)
                cell_activity = activation(cell)
                d_hidden = upstream[t] + tf.matmul(d_gates_next, w_hidden_padded)[:, :n]
                d_cell = d_cell_next + d_hidden * read * activation_slope(cell_activity)
                before = tf.where(t > 0, previous_cell, initial_cell)
                blocks = [
                    d_cell * before * forget * (1.0 - forget),
                    d_cell * candidate * write * (1.0 - write),
                    d_hidden * cell_activity * read * (1.0 - read),
                    d_cell * write * (1.0 - tf.square(candidate)),
                ]
                return blocks, d_cell * forget, previous_gates, previous_cell

            last = tf.maximum(n_steps - 1, 0)
            if in_place:

                def back(
                    t: tf.Tensor, d_cell: tf.Tensor, gates: tf.Tensor, cell: tf.Tensor, stored: Any
                ) -> Any:
                    blocks, d_cell, gates, cell = step(t, stored[t], d_cell, gates, cell)
                    for k, block in enumerate(blocks):
                        corner = tf.stack([t - 1, 0, k * n])
                        stored = xla.dynamic_update_slice(stored, block[tf.newaxis], corner)
                    return t - 1, d_cell, gates, cell, stored

                # Slot N_steps - 1 stays zero: it would hold the gradient of a step N_steps.
                _, d_cell, gates, cell, shifted = tf.while_loop(
                    lambda t, *_: t >= 1,
                    back,
                    (
                        n_steps - 1,
                        tf.zeros_like(initial_cell),
                        gates_all[last],
                        cells[last],
                        tf.zeros(tf.stack([n_steps, n_batch, 4 * n]), dtype),
                    ),
                )
                d_gates_next = shifted[0]
            else:

                def back(
                    t: tf.Tensor,
                    d_gates: tf.Tensor,
                    d_cell: tf.Tensor,
                    gates: tf.Tensor,
                    cell: tf.Tensor,
                    stored: Any,
                ) -> Any:
                    blocks, d_cell, gates, cell = step(t, d_gates, d_cell, gates, cell)
                    d_gates = tf.concat(blocks, axis=1)
                    return t - 1, d_gates, d_cell, gates, cell, stored.write(t - 1, d_gates)

                # Slot N_steps - 1 is written with zeros first, so that one step (an empty
                # loop) still stacks when the batch size is unknown while tracing.
                zeros = tf.zeros_like(gates_all[0])
                empty = tf.TensorArray(dtype, size=n_steps, element_shape=gate_rows)
                _, d_gates_next, d_cell, gates, cell, stored = tf.while_loop(
                    lambda t, *_: t >= 1,
                    back,
                    (
                        n_steps - 1,
                        zeros,
                        tf.zeros_like(initial_cell),
                        gates_all[last],
                        cells[last],
                        empty.write(last, zeros),
                    ),
                )
                shifted = stored.stack()
            blocks, d_initial_cell, _, _ = step(tf.constant(0), d_gates_next, d_cell, gates, cell)
            d_gates_first = tf.concat(blocks, axis=1)
            shifted = tf.reshape(shifted, [-1, 4 * n])

            d_initial_hidden = tf.matmul(d_gates_first, w_hidden_t)
            d_w_hidden = tf.matmul(tf.reshape(hidden, [-1, n]), shifted, transpose_a=True)
            d_w_hidden += tf.matmul(initial_hidden, d_gates_first, transpose_a=True)
            # The inputs of steps 1, 2, ... pair with the shifted slots, and a column of ones
            # gives the bias gradient in the same matmul.
            later = tf.concat([inputs[1:], tf.zeros_like(inputs[:1])], axis=0)
            later = tf.concat([later, tf.ones_like(later[:, :, :1])], axis=2)
            first = tf.concat([inputs[0], tf.ones_like(inputs[0][:, :1])], axis=1)
            later = tf.reshape(later, [-1, tf.shape(later)[2]])
            d_input_rows = tf.matmul(later, shifted, transpose_a=True)
            d_input_rows += tf.matmul(first, d_gates_first, transpose_a=True)
            d_w_input, d_bias = d_input_rows[:-1], d_input_rows[-1]
            d_later = tf.matmul(shifted, w_input, transpose_b=True)
            d_inputs = tf.concat(
                [
                    tf.matmul(d_gates_first, w_input, transpose_b=True)[tf.newaxis],
                    tf.reshape(d_later, [n_steps, n_batch, -1])[:-1],
                ],
                axis=0,
            )
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
