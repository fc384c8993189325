"""NumPy float64 re-run of a rate RNN, for analysis and perturbation experiments.

The simulator needs no TensorFlow graph. It reads the weights of a network, a dict or a weight
file and builds the effective matrices (masks and Dale's law) once. It then runs the update
equation step by step. For lesions or optogenetic-style perturbations, it can multiply the
effective W_rec by a different matrix at every step.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from psychrnn_widgets.engine import _checks, _psychrnn_files
from psychrnn_widgets.engine.config import NetworkConfig, variable_shapes
from psychrnn_widgets.engine.transfer import numpy_transfer_function
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError

__all__ = ["Simulator"]


class Simulator:
    """Float64 NumPy forward pass of a rate RNN, an LSTM or a GRU.

    Parameters
    ----------
    source
        A network built by this package, a dict of weight arrays, or the path of a weight
        file (saved here or by PsychRNN).
    config
        For a dict source: the ``NetworkConfig`` that goes with the weights. For a dict
        without one, or for a PsychRNN file, it may be a dict of ``NetworkConfig`` fields
        (``dt``, ``tau``...) applied on top of what the weights imply; a dict source then uses
        PsychRNN's keys.

    Notes
    -----
    The dict and file sources treat the stored ``W_in``, ``W_rec`` and ``W_out`` as raw
    values and apply masks and Dale's law to them. PsychRNN stores effective values; applying
    0/1 masks and Dale's law again changes nothing, but graded mask values are applied twice.
    """

    def __init__(
        self, source: Any, config: NetworkConfig | Mapping[str, Any] | None = None
    ) -> None:
        weights, self.config = _resolve(source, config)
        self.weights = {
            name: np.asarray(value, dtype=np.float64) for name, value in weights.items()
        }
        self._transfer = numpy_transfer_function(self.config.transfer_function)
        self.alpha = np.asarray(self.config.alpha, dtype=np.float64)
        self.effective = (
            _effective(self.weights, self.config) if self.config.model == "rate" else {}
        )

    def run(
        self,
        inputs: Any,
        rec_perturbation: Any = None,
        seed: int | np.random.Generator | None = None,
        noise: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run trials and return float64 ``(outputs, states)``.

        Parameters
        ----------
        inputs
            Array (N_batch, N_steps, N_in); any batch size and length.
        rec_perturbation
            None or an array (N_steps, N_rec, N_rec) that multiplies the effective W_rec
            element-wise at each step (rate model only).
        seed, noise
            Recurrent noise is drawn from ``seed`` when ``rec_noise > 0`` and ``noise`` is True.
            NumPy's stream differs from TensorFlow's, so noisy runs never match the engine
            sample by sample.

        Returns
        -------
        outputs : ndarray, shape (N_batch, N_steps, N_out)
        states : ndarray, shape (N_batch, N_steps, N_rec)
        """
        config = self.config
        x = _checks.check_inputs("inputs", inputs, config.N_in).astype(np.float64)
        n_batch, n_steps, _ = x.shape
        if config.model != "rate":
            if rec_perturbation is not None:
                raise InvalidParameterError(
                    "rec_perturbation",
                    f"rec_perturbation applies to model='rate' only (got model={config.model!r})",
                    None,
                )
            return _run_gated(self.weights, config, x)
        if rec_perturbation is not None:
            rec_perturbation = np.asarray(rec_perturbation, dtype=np.float64)
            expected = (n_steps, config.N_rec, config.N_rec)
            if rec_perturbation.shape != expected:
                raise ShapeMismatchError(
                    "rec_perturbation",
                    f"rec_perturbation must have shape (N_steps, N_rec, N_rec) = {expected} "
                    f"(got shape {rec_perturbation.shape})",
                    rec_perturbation,
                )
        noise_scale = np.sqrt(2.0 * self.alpha) * config.rec_noise
        rng = None
        if noise and config.rec_noise > 0:
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

        w_in, w_rec, w_out = (
            self.effective["W_in"],
            self.effective["W_rec"],
            self.effective["W_out"],
        )
        drive = x @ w_in.T + self.weights["b_rec"]
        state = np.repeat(self.weights["init_state"].reshape(1, -1), n_batch, axis=0)
        states = np.empty((n_batch, n_steps, config.N_rec))
        for t in range(n_steps):
            w_rec_t = w_rec if rec_perturbation is None else w_rec * rec_perturbation[t]
            recurrent = self._transfer(state) @ w_rec_t.T
            state = (1.0 - self.alpha) * state + self.alpha * (recurrent + drive[:, t])
            if rng is not None:
                state = state + noise_scale * rng.standard_normal(state.shape)
            states[:, t] = state
        outputs = self._transfer(states) @ w_out.T + self.weights["b_out"]
        return outputs, states


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _run_gated(
    weights: Mapping[str, np.ndarray], config: NetworkConfig, x: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Run the LSTM or GRU equations of ``recurrent.py`` in float64."""
    n_batch, n_steps, _ = x.shape
    states = np.empty((n_batch, n_steps, config.N_rec))
    if config.model == "lstm":
        activation = np.tanh if config.lstm_hidden_activation == "tanh" else _sigmoid
        hidden = np.repeat(weights["init_hidden"], n_batch, axis=0)
        cell = np.repeat(weights["init_cell"], n_batch, axis=0)
        for t in range(n_steps):
            joint = np.concatenate([hidden, x[:, t]], axis=1)
            forget = _sigmoid(joint @ weights["W_f"] + weights["b_f"])
            write = _sigmoid(joint @ weights["W_i"] + weights["b_i"])
            candidate = np.tanh(joint @ weights["W_c"] + weights["b_c"])
            read = _sigmoid(joint @ weights["W_o"] + weights["b_o"])
            cell = forget * cell + write * candidate
            hidden = read * activation(cell)
            states[:, t] = hidden
    else:
        hidden = np.repeat(weights["init_state"], n_batch, axis=0)
        for t in range(n_steps):
            joint = np.concatenate([hidden, x[:, t]], axis=1)
            update = _sigmoid(joint @ weights["W_z"] + weights["b_z"])
            reset = _sigmoid(joint @ weights["W_r"] + weights["b_r"])
            candidate = np.tanh(
                np.concatenate([reset * hidden, x[:, t]], axis=1) @ weights["W_h"] + weights["b_h"]
            )
            hidden = (1.0 - update) * hidden + update * candidate
            states[:, t] = hidden
    return states @ weights["W_out"].T + weights["b_out"], states


def _effective(weights: Mapping[str, np.ndarray], config: NetworkConfig) -> dict[str, np.ndarray]:
    masks = config.masks()
    w_in = weights["W_in"] * masks["input_connectivity"]
    w_rec = weights["W_rec"] * masks["rec_connectivity"]
    w_out = weights["W_out"] * masks["output_connectivity"]
    dale = config.dale_vectors()
    if dale is not None:
        w_in = np.abs(w_in)
        w_rec = np.abs(w_rec) * dale[0][np.newaxis, :]
        w_out = np.abs(w_out) * dale[1][np.newaxis, :]
    return {"W_in": w_in, "W_rec": w_rec, "W_out": w_out}


def _resolve(source: Any, config: Any) -> tuple[dict[str, np.ndarray], NetworkConfig]:
    """Return raw weights and a config from a network, a dict or a file path."""
    if hasattr(source, "get_weights") and hasattr(source, "config"):
        return source.get_weights(), source.config
    if isinstance(source, (str, os.PathLike)):
        from psychrnn_widgets.engine.io import load_network

        overrides = dict(config) if isinstance(config, Mapping) else {}
        network = load_network(source, **overrides)
        return network.get_weights(), network.config
    if isinstance(source, Mapping):
        if isinstance(config, NetworkConfig):
            resolved = config
        else:
            resolved = _psychrnn_files.config_from_entries(source, dict(config or {}))
        shapes = variable_shapes(resolved)
        if resolved.model == "lstm":
            source = _psychrnn_files.lstm_arrays(source)
        weights = {}
        for name, shape in shapes.items():
            if name not in source:
                if name in ("b_rec", "b_out"):
                    weights[name] = np.zeros(shape)
                    continue
                raise InvalidParameterError(
                    "source", f"weights dict is missing {name!r}", sorted(source)
                )
            value = np.asarray(source[name])
            if value.shape == shape[1:] and shape[0] == 1:
                value = value.reshape(shape)
            weights[name] = _checks.check_array(f"weights[{name!r}]", value, shape)
        return weights, resolved
    raise InvalidParameterError(
        "source",
        f"source must be a network, a dict of weights or a file path (got {type(source).__name__})",
        source,
    )
