"""Gated recurrent networks with the rate RNN's interface: an LSTM and a GRU.

Both act on ``concat([hidden, input])`` with one weight matrix of shape (N_rec + N_in, N_rec)
per gate, as PsychRNN's LSTM does, so PsychRNN LSTM weights map one to one. The output is
``hidden W_out^T + b_out``. Dale's law, connectivity masks and recurrent noise apply to the rate
model only; ``NetworkConfig`` rejects them here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from psychrnn_widgets.engine._base import NetworkBase
from psychrnn_widgets.engine._recurrence import gru_recurrence, lstm_recurrence
from psychrnn_widgets.engine.initializers import glorot_normal, override_weights

__all__ = ["GRU", "LSTM"]


class _GatedNetwork(NetworkBase):
    """Shared code: gate-matrix draws, input projection for all steps, readout, accessors."""

    _gates = ""

    def __init__(self, config: Any) -> None:
        self._train_flags = {f"W_{gate}": "W_rec_train" for gate in self._gates}
        self._train_flags.update({f"b_{gate}": "b_rec_train" for gate in self._gates})
        self._train_flags.update({"W_out": "W_out_train", "b_out": "b_out_train"})
        self._train_flags.update({name: "init_state_train" for name in self._initial_state_names()})
        super().__init__(config)

    def _initial_state_names(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _gate_bias(self) -> float:
        raise NotImplementedError

    def _initial_values(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        config = self.config
        size = (config.N_rec + config.N_in, config.N_rec)
        values = {f"W_{gate}": 0.1 * rng.standard_normal(size) for gate in self._gates}
        values.update(
            {f"b_{gate}": np.full(config.N_rec, self._gate_bias()) for gate in self._gates}
        )
        values["W_out"] = glorot_normal(np.ones((config.N_out, config.N_rec)), rng)
        values["b_out"] = np.zeros(config.N_out)
        for name in self._initial_state_names():
            values[name] = 0.1 * rng.standard_normal((1, config.N_rec))
        return override_weights(config, values)

    def _split(self, gates: str) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Return the hidden rows, the input rows and the biases of ``gates``, concatenated."""
        n_rec = self.config.N_rec
        matrices = [self.variables[f"W_{gate}"] for gate in gates]
        hidden = tf.concat([matrix[:n_rec] for matrix in matrices], axis=1)
        inputs = tf.concat([matrix[n_rec:] for matrix in matrices], axis=1)
        biases = tf.concat([self.variables[f"b_{gate}"] for gate in gates], axis=0)
        return hidden, inputs, biases

    def _input_projection(self, x: tf.Tensor, w_x: tf.Tensor, bias: tf.Tensor) -> tf.Tensor:
        """Return the time-major input part of every gate for all steps at once."""
        n_batch, n_steps = tf.shape(x)[0], tf.shape(x)[1]
        x_time_major = tf.reshape(tf.transpose(x, [1, 0, 2]), [-1, self.config.N_in])
        projected = tf.matmul(x_time_major, w_x) + bias
        return tf.reshape(projected, [n_steps, n_batch, -1])

    def _readout(self, hidden_time_major: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        # The readout runs time-major and only the outputs are transposed. When the caller does
        # not use the states, as in a training step without a firing-rate penalty, XLA drops
        # their transpose and the one of their gradient. In a profile of one LSTM update part
        # (25 trials, N_rec 50, 200 steps) that removed about 0.3 ms of transposes.
        shape = tf.shape(hidden_time_major)
        flat = tf.reshape(hidden_time_major, [-1, self.config.N_rec])
        outputs = (
            tf.matmul(flat, self.variables["W_out"], transpose_b=True) + self.variables["b_out"]
        )
        outputs = tf.reshape(outputs, [shape[0], shape[1], self.config.N_out])
        return tf.transpose(outputs, [1, 0, 2]), tf.transpose(hidden_time_major, [1, 0, 2])

    def rates(self, states: Any) -> Any:
        """Return the hidden states unchanged: they are already the units' activity."""
        return states

    def effective_weights(self) -> dict[str, np.ndarray]:
        """Return ``W_out`` and the gate matrices; no masks or Dale's law apply here."""
        names = ["W_out", *(f"W_{gate}" for gate in self._gates)]
        return {name: self.variables[name].numpy() for name in names}

    def regularized_matrices(self) -> dict[str, tf.Tensor]:
        """Return the ``in`` (input rows), ``rec`` (hidden rows) and ``out`` weight penalties' targets."""
        hidden, inputs, _ = self._split(self._gates)
        return {"in": inputs, "rec": hidden, "out": self.variables["W_out"]}


class LSTM(_GatedNetwork):
    """Long short-term memory network in PsychRNN's layout.

    ``f, i, o = sigmoid([h, x] W_{f,i,o} + b)``, ``g = tanh([h, x] W_c + b_c)``,
    ``c = f c + i g``, ``h = o tanh(c)``. With ``config.lstm_hidden_activation="sigmoid"`` the
    hidden state is ``o sigmoid(c)`` as in PsychRNN 1.0.0. Gate matrices start from N(0, 0.1²),
    gate biases at 1, ``init_hidden`` and ``init_cell`` (1, N_rec) from N(0, 0.1²), one initial
    state shared by every trial.
    """

    _gates = "fico"

    def _initial_state_names(self) -> tuple[str, ...]:
        return ("init_hidden", "init_cell")

    def _gate_bias(self) -> float:
        return 1.0

    def forward(self, inputs: Any, noise: Any = None) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(outputs, hidden states)``; ``noise`` is ignored (the LSTM has none)."""
        x = self._as_input_tensor(inputs)
        # The recurrence wants the three sigmoid gates side by side, before the candidate.
        w_h, w_x, bias = self._split("fioc")
        n_batch = tf.shape(x)[0]
        initial_hidden = tf.tile(self.variables["init_hidden"], [n_batch, 1])
        initial_cell = tf.tile(self.variables["init_cell"], [n_batch, 1])
        hidden = lstm_recurrence(
            tf.transpose(x, [1, 0, 2]),
            initial_hidden,
            initial_cell,
            w_h,
            w_x,
            bias,
            self.config.lstm_hidden_activation,
        )
        return self._readout(hidden)


class GRU(_GatedNetwork):
    """Gated recurrent unit network.

    ``z = sigmoid([h, x] W_z + b_z)``, ``r = sigmoid([h, x] W_r + b_r)``,
    ``n = tanh([r h, x] W_h + b_h)``, ``h = (1 - z) h + z n`` (the reset gate scales h before
    the matmul). Gate matrices start from N(0, 0.1²), biases at 0 and
    ``init_state`` (1, N_rec) from N(0, 0.1²).
    """

    _gates = "zrh"

    def _initial_state_names(self) -> tuple[str, ...]:
        return ("init_state",)

    def _gate_bias(self) -> float:
        return 0.0

    def forward(self, inputs: Any, noise: Any = None) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(outputs, hidden states)``; ``noise`` is ignored (the GRU has none)."""
        x = self._as_input_tensor(inputs)
        w_h_gates, w_x, bias = self._split(self._gates)
        n_rec = self.config.N_rec
        w_h_update = w_h_gates[:, : 2 * n_rec]
        w_h_candidate = w_h_gates[:, 2 * n_rec :]
        projected = self._input_projection(x, w_x, bias)
        initial = tf.tile(self.variables["init_state"], [tf.shape(x)[0], 1])
        hidden = gru_recurrence(projected, initial, w_h_update, w_h_candidate)
        return self._readout(hidden)
