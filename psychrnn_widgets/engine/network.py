"""The continuous-time rate RNN with Dale's law and connectivity masks, and ``build_network``.

Update per time step t = 1..T (alpha = dt / tau, f the transfer function, ~ effective weights)::

    s_t = (1 - alpha) s_{t-1} + alpha (f(s_{t-1}) W_rec~^T + u_t W_in~^T + b_rec)
          + sqrt(2 alpha) rec_noise xi_t
    y_t = f(s_t) W_out~^T + b_out

This is PsychRNN's ``Basic`` model. ``states`` are s_1..s_T before the transfer function.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import tensorflow as tf

from psychrnn_widgets.engine._base import NetworkBase
from psychrnn_widgets.engine._recurrence import rate_recurrence
from psychrnn_widgets.engine.config import NetworkConfig
from psychrnn_widgets.engine.initializers import initial_rate_weights
from psychrnn_widgets.engine.transfer import tf_transfer_derivative

__all__ = ["RateRNN", "build_network"]


class RateRNN(NetworkBase):
    """Continuous-time rate RNN (PsychRNN's ``Basic``) whose trial length and batch are free.

    Parameters
    ----------
    config
        The network's settings; the network keeps its own copy.

    Attributes
    ----------
    variables : dict of tf.Variable
        ``W_in (N_rec, N_in)``, ``W_rec (N_rec, N_rec)``, ``W_out (N_out, N_rec)``,
        ``b_rec (N_rec,)``, ``b_out (N_out,)``, ``init_state (1, N_rec)``: raw values, before
        masks and Dale's law.
    seed : int
        The seed of the initial draws (drawn at random when ``config.seed`` is None).
    """

    _train_flags: ClassVar[dict[str, str]] = {
        "W_in": "W_in_train",
        "W_rec": "W_rec_train",
        "W_out": "W_out_train",
        "b_rec": "b_rec_train",
        "b_out": "b_out_train",
        "init_state": "init_state_train",
    }

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__(config)
        config = self.config
        masks = config.masks()
        self.masks = masks
        self._mask_in = tf.constant(masks["input_connectivity"], self.dtype)
        self._mask_rec = tf.constant(masks["rec_connectivity"], self.dtype)
        self._mask_out = tf.constant(masks["output_connectivity"], self.dtype)
        dale = config.dale_vectors()
        self._dale = (
            None if dale is None else tuple(tf.constant(d[np.newaxis, :], self.dtype) for d in dale)
        )
        alpha = np.asarray(config.alpha, dtype=np.float64)
        self._alpha = tf.constant(alpha, self.dtype)
        self._decay = tf.constant(1.0 - alpha, self.dtype)
        self._noise_scale = tf.constant(np.sqrt(2.0 * alpha) * config.rec_noise, self.dtype)
        self._derivative = tf_transfer_derivative(config.transfer_function)
        #: Use the hand-written backward pass of the time loop when the transfer function has a
        #: known derivative (set False to compare with automatic differentiation).
        self.manual_gradient = self._derivative is not None

    def _initial_values(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        return initial_rate_weights(self.config, rng)

    def effective_tensors(self) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """Return ``(W_in~, W_rec~, W_out~)`` as tensors, differentiable in the raw variables.

        Without Dale's law each is ``W * M``. With it, ``|W_in * M_in|``,
        ``|W_rec * M_rec| D_rec`` and ``|W_out * M_out| D_out``, where the diagonal D sets the
        sign of each column (the outgoing weights of one presynaptic unit).
        """
        w_in = self.variables["W_in"] * self._mask_in
        w_rec = self.variables["W_rec"] * self._mask_rec
        w_out = self.variables["W_out"] * self._mask_out
        if self._dale is not None:
            d_rec, d_out = self._dale
            w_in = tf.abs(w_in)
            w_rec = tf.abs(w_rec) * d_rec
            w_out = tf.abs(w_out) * d_out
        return w_in, w_rec, w_out

    def effective_weights(self) -> dict[str, np.ndarray]:
        """Return the effective ``W_in``, ``W_rec`` and ``W_out`` as NumPy arrays."""
        w_in, w_rec, w_out = self.effective_tensors()
        return {"W_in": w_in.numpy(), "W_rec": w_rec.numpy(), "W_out": w_out.numpy()}

    def forward(self, inputs: Any, noise: Any = None) -> tuple[tf.Tensor, tf.Tensor]:
        """Run the update equation over all time steps; traceable inside ``tf.function``.

        Parameters
        ----------
        inputs
            Tensor (N_batch, N_steps, N_in).
        noise
            None or standard normal draws (N_batch, N_steps, N_rec); the network scales them by
            ``sqrt(2 alpha) rec_noise``. When None and ``rec_noise > 0``, draws come from
            TensorFlow's global generator, so pass ``noise`` for reproducible runs.

        Returns
        -------
        outputs : tf.Tensor, shape (N_batch, N_steps, N_out)
        states : tf.Tensor, shape (N_batch, N_steps, N_rec)
            s_1..s_T before the transfer function.
        """
        config = self.config
        x = self._as_input_tensor(inputs)
        w_in, w_rec, w_out = self.effective_tensors()
        n_batch, n_steps = tf.shape(x)[0], tf.shape(x)[1]

        x_time_major = tf.transpose(x, [1, 0, 2])
        noise_drive = None
        if config.rec_noise > 0:
            if noise is None:
                xi = tf.random.normal(tf.stack([n_steps, n_batch, config.N_rec]), dtype=self.dtype)
            else:
                xi = tf.transpose(tf.cast(noise, self.dtype), [1, 0, 2])
            noise_drive = self._noise_scale * xi

        # Column j of W^T feeds unit j, so scaling columns applies a per-unit alpha.
        w_rec_scaled = tf.transpose(w_rec) * self._alpha
        w_in_scaled = tf.transpose(w_in) * self._alpha
        bias = self._alpha * self.variables["b_rec"]
        initial = tf.tile(self.variables["init_state"], [n_batch, 1])
        derivative = self._derivative if self.manual_gradient else None
        states_time_major = rate_recurrence(
            x_time_major,
            w_in_scaled,
            bias,
            noise_drive,
            initial,
            w_rec_scaled,
            self._decay,
            self._transfer,
            derivative,
        )
        # Outputs are computed time-major and only they are transposed, so a caller that
        # ignores ``states`` never pays for transposing them (traced graphs prune it).
        rates = tf.reshape(self._transfer(states_time_major), [-1, config.N_rec])
        outputs = tf.matmul(rates, w_out, transpose_b=True) + self.variables["b_out"]
        outputs = tf.transpose(tf.reshape(outputs, [n_steps, n_batch, config.N_out]), [1, 0, 2])
        states = tf.transpose(states_time_major, [1, 0, 2])
        return outputs, states


def build_network(config: NetworkConfig) -> Any:
    """Build the network that ``config.model`` names: :class:`RateRNN`, ``LSTM`` or ``GRU``."""
    if not isinstance(config, NetworkConfig):
        from psychrnn_widgets.errors import InvalidParameterError

        raise InvalidParameterError(
            "config", f"config must be a NetworkConfig (got {type(config).__name__})", config
        )
    config.validate()
    if config.model == "rate":
        return RateRNN(config)
    from psychrnn_widgets.engine import recurrent

    return recurrent.LSTM(config) if config.model == "lstm" else recurrent.GRU(config)
