"""PsychRNN's ``Basic`` and ``BasicScan`` continuous-time rate RNNs.

Update (alpha = dt / tau, f the transfer function, ~ the effective weights)::

    s_t = (1 - alpha) s_{t-1} + alpha (f(s_{t-1}) W_rec~^T + u_t W_in~^T + b_rec)
          + sqrt(2 alpha rec_noise^2) N(0, 1)
    y_t = f(s_t) W_out~^T + b_out

When a subclass keeps the step methods and the standard variables, the forward pass is the
engine's :meth:`~psychrnn_widgets.engine.network.RateRNN.forward`; otherwise it steps through
``recurrent_timestep`` and ``output_timestep`` as PsychRNN does.
"""

from __future__ import annotations

import tensorflow as tf

from psychrnn_widgets.compat.backend.rnn import RNN

__all__ = ["Basic", "BasicScan"]


class Basic(RNN):
    """Continuous-time rate RNN with Dale's law and connectivity masks.

    Parameters
    ----------
    params : dict
        See :class:`~psychrnn_widgets.compat.backend.rnn.RNN`.
    """

    def recurrent_timestep(self, rnn_in: tf.Tensor, state: tf.Tensor) -> tf.Tensor:
        """Return the next state (B, N_rec) from the input (B, N_in) and the previous state."""
        noise_std = tf.sqrt(2.0 * self.alpha * self.rec_noise * self.rec_noise)
        return (
            (1 - self.alpha) * state
            + self.alpha
            * (
                tf.matmul(
                    self.transfer_function(state), self.get_effective_W_rec(), transpose_b=True
                )
                + tf.matmul(rnn_in, self.get_effective_W_in(), transpose_b=True)
                + self.b_rec
            )
            + tf.cast(noise_std, state.dtype) * tf.random.normal(tf.shape(state))
        )

    def output_timestep(self, state: tf.Tensor) -> tf.Tensor:
        """Return the output (B, N_out) of a state (B, N_rec)."""
        return (
            tf.matmul(self.transfer_function(state), self.get_effective_W_out(), transpose_b=True)
            + self.b_out
        )

    def _uses_standard_steps(self) -> bool:
        cls = type(self)
        return (
            cls.recurrent_timestep in (Basic.recurrent_timestep, BasicScan.recurrent_timestep)
            and cls.output_timestep in (Basic.output_timestep, BasicScan.output_timestep)
            and self._engine_matches()
        )

    def forward_pass(self) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(predictions (B, N_steps, N_out), states (B, N_steps, N_rec))`` for ``self.x``."""
        if self._uses_standard_steps():
            return self._network.forward(self.x)
        state = self.init_state
        outputs = []
        states = []
        for rnn_in in tf.unstack(self.x, axis=1):
            state = self.recurrent_timestep(rnn_in, state)
            outputs.append(self.output_timestep(state))
            states.append(state)
        return tf.transpose(outputs, [1, 0, 2]), tf.transpose(states, [1, 0, 2])


class BasicScan(Basic):
    """``Basic`` whose step-by-step path runs in two ``tf.scan`` loops (states, then outputs).

    Its step methods take ``tf.scan``'s argument order: ``recurrent_timestep(state, rnn_in)`` and
    ``output_timestep(dummy, state)``.
    """

    def recurrent_timestep(self, state: tf.Tensor, rnn_in: tf.Tensor) -> tf.Tensor:  # type: ignore[override]
        """Return the next state; arguments in ``tf.scan`` order."""
        return super().recurrent_timestep(rnn_in, state)

    def output_timestep(self, dummy: tf.Tensor, state: tf.Tensor) -> tf.Tensor:  # type: ignore[override]
        """Return the output of ``state``; ``dummy`` is the previous output that ``tf.scan`` passes."""
        return super().output_timestep(state)

    def forward_pass(self) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(predictions, states)`` for ``self.x``, scanning over time."""
        if self._uses_standard_steps():
            return self._network.forward(self.x)
        batch = tf.shape(self.x)[0]
        states = tf.scan(
            self.recurrent_timestep, tf.transpose(self.x, [1, 0, 2]), initializer=self.init_state
        )
        outputs = tf.scan(self.output_timestep, states, initializer=tf.zeros([batch, self.N_out]))
        return tf.transpose(outputs, [1, 0, 2]), tf.transpose(states, [1, 0, 2])
