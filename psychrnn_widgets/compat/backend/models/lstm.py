"""PsychRNN's ``LSTM``, with its quirks.

Gates act on ``concat([hidden, input])``; the cell is ``f c + i tanh(.)`` and the new hidden
state is ``o * sigmoid(c)`` (not ``tanh(c)``). The output ``hidden W_out^T + b_out`` uses the
raw ``W_out``: no mask and no Dale's law. ``states`` are the hidden states.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from psychrnn_widgets.compat.backend.rnn import RNN

__all__ = ["LSTM"]


class LSTM(RNN):
    """Long short-term memory network with PsychRNN's layout.

    Parameters
    ----------
    params : dict
        See :class:`~psychrnn_widgets.compat.backend.rnn.RNN`. The ``Basic`` variables are
        created too (only ``W_out`` and ``b_out`` are used), as in PsychRNN.

    Notes
    -----
    ``init_hidden`` and ``init_cell`` have one trainable row per trial, shape (N_batch, N_rec),
    drawn N(0, 0.1) from TensorFlow's global generator (``tf.random.set_seed`` fixes them). A
    batch of another size uses row ``b mod N_batch`` for trial b. ``W_f``, ``W_i``, ``W_c``,
    ``W_o`` (N_in + N_rec, N_rec) are drawn N(0, 0.1); the gate biases start at 1. Values in
    ``params`` or in the file of ``load_weights_path`` replace these (PsychRNN ignores them and
    always draws the LSTM variables afresh).
    """

    def __init__(self, params: dict[str, Any]) -> None:
        super().__init__(params)
        self.N_concat = self.N_in + self.N_rec

        loaded = self.initializer.initializations

        def variable(name: str, shape: list[int], random: bool) -> tf.Variable:
            stored = self.params.get(name, loaded.get(name))
            if stored is not None:
                value = tf.constant(np.asarray(stored, dtype=np.float32).reshape(shape))
            elif random:
                value = tf.random.normal(shape, mean=0.0, stddev=0.1)
            else:
                value = tf.ones(shape)
            return tf.Variable(value, trainable=True, name=name)

        self.init_hidden = variable("init_hidden", [self.N_batch, self.N_rec], random=True)
        self.init_cell = variable("init_cell", [self.N_batch, self.N_rec], random=True)
        for gate in "fico":
            setattr(
                self, f"W_{gate}", variable(f"W_{gate}", [self.N_concat, self.N_rec], random=True)
            )
        for gate in "fico":
            setattr(self, f"b_{gate}", variable(f"b_{gate}", [self.N_rec], random=False))

    def recurrent_timestep(
        self, rnn_in: tf.Tensor, hidden: tf.Tensor, cell: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(new_hidden, new_cell)`` from the input (B, N_in) and the previous hidden and cell states."""
        joined = tf.concat([hidden, rnn_in], 1)
        f = tf.nn.sigmoid(tf.matmul(joined, self.W_f) + self.b_f)
        i = tf.nn.sigmoid(tf.matmul(joined, self.W_i) + self.b_i)
        c = tf.nn.tanh(tf.matmul(joined, self.W_c) + self.b_c)
        o = tf.nn.sigmoid(tf.matmul(joined, self.W_o) + self.b_o)
        new_cell = f * cell + i * c
        return o * tf.nn.sigmoid(new_cell), new_cell

    def output_timestep(self, hidden: tf.Tensor) -> tf.Tensor:
        """Return ``hidden W_out^T + b_out`` with the raw ``W_out``."""
        return tf.matmul(hidden, self.W_out, transpose_b=True) + self.b_out

    def _initial_rows(self, variable: tf.Variable) -> tf.Tensor:
        batch = tf.shape(self.x)[0]
        return tf.gather(variable, tf.math.floormod(tf.range(batch), self.N_batch))

    def forward_pass(self) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(predictions (B, N_steps, N_out), hidden states (B, N_steps, N_rec))`` for ``self.x``."""
        hidden = self._initial_rows(self.init_hidden)
        cell = self._initial_rows(self.init_cell)
        outputs = []
        states = []
        for rnn_in in tf.unstack(self.x, axis=1):
            hidden, cell = self.recurrent_timestep(rnn_in, hidden, cell)
            outputs.append(self.output_timestep(hidden))
            states.append(hidden)
        return tf.transpose(outputs, [1, 0, 2]), tf.transpose(states, [1, 0, 2])
