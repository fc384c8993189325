"""PsychRNN's NumPy simulators: re-run a trained ``Basic`` or ``LSTM`` without TensorFlow.

The simulators use the *saved effective* weights, so masks and Dale's law are already applied,
and ``init_state[0]`` (``init_hidden[0]``, ``init_cell[0]``) for every trial. Recurrent noise is
drawn from NumPy's global RNG, so a noisy run never matches ``model.test`` sample by sample.
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np

from psychrnn_widgets.compat.backend._errors import CompatUsageError

__all__ = ["BasicSimulator", "LSTMSimulator", "Simulator", "relu", "sigmoid"]


def relu(x: np.ndarray) -> np.ndarray:
    """Return ``max(x, 0)`` element-wise."""
    return np.maximum(x, 0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Return ``1 / (1 + exp(-x))`` element-wise."""
    return 1 / (1 + np.exp(-x))


class Simulator(abc.ABC):
    """Weights and time constants of a network to simulate.

    Parameters
    ----------
    rnn_model : RNN or None
        Source of ``alpha``, ``rec_noise`` and (unless another source is given) the weights.
    params : dict or None
        Without ``rnn_model``: ``alpha``, or ``dt`` and ``tau``; and ``rec_noise`` (0).
    weights_path : str or None
        A ``.npz`` weight file, read without unpickling.
    weights : dict or None
        Weights as returned by ``get_weights()``.
    transfer_function : callable, default :func:`relu`
        NumPy transfer function; its ``__name__`` must match ``rnn_model.transfer_function``'s.

    Raises
    ------
    CompatUsageError
        For conflicting or missing sources, with PsychRNN's messages (it raises ``UserWarning``).
    """

    def __init__(
        self,
        rnn_model: Any = None,
        params: dict[str, Any] | None = None,
        weights_path: str | None = None,
        weights: dict[str, Any] | None = None,
        transfer_function: Any = relu,
    ) -> None:
        self.transfer_function = transfer_function
        if rnn_model is not None:
            self.alpha = rnn_model.alpha
            self.rec_noise = rnn_model.rec_noise
            model_name = getattr(rnn_model.transfer_function, "__name__", None)
            if model_name != getattr(transfer_function, "__name__", None):
                raise CompatUsageError(
                    "transfer_function",
                    f"The rnn_model transfer function is {rnn_model.transfer_function} and the current transfer "
                    f"function is {transfer_function}. You should make sure these functions do the same thing -- "
                    "their names do not match.",
                    transfer_function,
                )
            if params is not None:
                raise CompatUsageError(
                    "params",
                    "params was passed in but will not be used. rnn_model takes precedence.",
                    None,
                )
        else:
            if params is None:
                raise CompatUsageError(
                    "params",
                    "params (with alpha, or dt and tau) is required without rnn_model",
                    None,
                )
            self.rec_noise = params.get("rec_noise", 0)
            self.alpha = (
                params["alpha"]
                if params.get("alpha") is not None
                else (1.0 * params["dt"]) / params["tau"]
            )

        if weights is not None:
            if weights_path is not None or rnn_model is not None:
                raise CompatUsageError(
                    "weights",
                    "Weights and either rnn_model or weights_path were passed in. Weights from rnn_model and "
                    "weights_path will be ignored.",
                    None,
                )
            self.weights = weights
        elif weights_path is not None:
            if rnn_model is not None:
                raise CompatUsageError(
                    "weights_path",
                    "rnn_model and weights_path were both passed in. Weights from rnn_model will be ignored.",
                    weights_path,
                )
            from psychrnn_widgets.compat.backend._weight_files import read_weight_file

            self.weights = read_weight_file(weights_path)
        elif rnn_model is not None:
            self.weights = rnn_model.get_weights()
        else:
            raise CompatUsageError(
                "weights", "Either weights, rnn_model, or weights_path must be passed in.", None
            )
        self.W_in = np.asarray(self.weights["W_in"])
        self.W_rec = np.asarray(self.weights["W_rec"])
        self.W_out = np.asarray(self.weights["W_out"])
        self.b_rec = np.asarray(self.weights["b_rec"])
        self.b_out = np.asarray(self.weights["b_out"])
        self.init_state = np.asarray(self.weights["init_state"]).reshape(-1, self.W_rec.shape[0])

    @abc.abstractmethod
    def rnn_step(self, *args: Any) -> Any:
        """Advance the network one time step."""

    @abc.abstractmethod
    def run_trials(self, trial_input: np.ndarray, *args: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(outputs, states)`` for ``trial_input`` of shape (B, N_steps, N_in)."""


class BasicSimulator(Simulator):
    """NumPy ``Basic`` network; ``t_connectivity`` can switch recurrent weights per step."""

    def rnn_step(
        self, state: np.ndarray, rnn_in: np.ndarray, t_connectivity: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(output, new_state)`` with ``W_rec * t_connectivity`` as the recurrent weights."""
        noise = np.sqrt(2.0 * self.alpha * self.rec_noise * self.rec_noise) * np.random.normal(
            0.0, 1.0, size=state.shape
        )
        new_state = (
            (1 - self.alpha) * state
            + self.alpha
            * (
                self.transfer_function(state) @ (self.W_rec * t_connectivity).T
                + rnn_in @ self.W_in.T
                + self.b_rec
            )
            + noise
        )
        output = self.transfer_function(new_state) @ self.W_out.T + self.b_out
        return output, new_state

    def run_trials(
        self, trial_input: np.ndarray, t_connectivity: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run every trial of ``trial_input`` (B, N_steps, N_in), any B.

        ``t_connectivity`` (N_steps, N_rec, N_rec) multiplies ``W_rec`` element-wise at each step.

        Returns
        -------
        outputs : ndarray, shape (B, N_steps, N_out)
        states : ndarray, shape (B, N_steps, N_rec)
        """
        trial_input = np.asarray(trial_input)
        state = np.repeat(self.init_state[:1], trial_input.shape[0], axis=0)
        outputs = []
        states = []
        for t in range(trial_input.shape[1]):
            connectivity = np.ones_like(self.W_rec) if t_connectivity is None else t_connectivity[t]
            output, state = self.rnn_step(state, trial_input[:, t, :], connectivity)
            outputs.append(output)
            states.append(state)
        return np.stack(outputs, axis=1), np.stack(states, axis=1)


class LSTMSimulator(Simulator):
    """NumPy version of PsychRNN's LSTM (hidden = o * sigmoid(c)); row 0 of the initial states for every trial."""

    def __init__(
        self,
        rnn_model: Any = None,
        params: dict[str, Any] | None = None,
        weights_path: str | None = None,
        weights: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            rnn_model=rnn_model,
            params=params,
            weights_path=weights_path,
            weights=weights,
            transfer_function=relu,
        )
        for name in (
            "init_hidden",
            "init_cell",
            "W_f",
            "W_i",
            "W_c",
            "W_o",
            "b_f",
            "b_i",
            "b_c",
            "b_o",
        ):
            setattr(self, name, np.asarray(self.weights[name]))

    def rnn_step(
        self, hidden: np.ndarray, cell: np.ndarray, rnn_in: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(output, new_hidden, new_cell)``."""
        joined = np.concatenate([hidden, rnn_in], 1)
        f = sigmoid(joined @ self.W_f + self.b_f)
        i = sigmoid(joined @ self.W_i + self.b_i)
        c = np.tanh(joined @ self.W_c + self.b_c)
        o = sigmoid(joined @ self.W_o + self.b_o)
        new_cell = f * cell + i * c
        new_hidden = o * sigmoid(new_cell)
        return new_hidden @ self.W_out.T + self.b_out, new_hidden, new_cell

    def run_trials(self, trial_input: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(outputs, hidden states)`` for ``trial_input`` (B, N_steps, N_in), any B."""
        trial_input = np.asarray(trial_input)
        batch = trial_input.shape[0]
        hidden = np.repeat(self.init_hidden[:1], batch, axis=0)
        cell = np.repeat(self.init_cell[:1], batch, axis=0)
        outputs = []
        states = []
        for t in range(trial_input.shape[1]):
            output, hidden, cell = self.rnn_step(hidden, cell, trial_input[:, t, :])
            outputs.append(output)
            states.append(hidden)
        return np.stack(outputs, axis=1), np.stack(states, axis=1)
