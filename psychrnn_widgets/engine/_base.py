"""Behaviour shared by every network class: variables, weights in and out, NumPy runs."""

from __future__ import annotations

import dataclasses
import difflib
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import tensorflow as tf

from psychrnn_widgets.engine import _checks
from psychrnn_widgets.engine.config import NetworkConfig, variable_shapes
from psychrnn_widgets.engine.transfer import numpy_transfer_function, tf_transfer_function
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError

logger = logging.getLogger(__name__)


class NetworkBase:
    """Variables and helpers common to the rate RNN, the LSTM and the GRU.

    Subclasses set ``_train_flags`` (variable name → config flag name), implement
    :meth:`_initial_values` and :meth:`forward`, and may extend :meth:`effective_weights`.
    """

    _train_flags: ClassVar[dict[str, str]] = {}
    # Whether Trainer(batch_shards="auto") splits the batch of this kind of network. Measured
    # on 2 cores (N_batch 50, N_rec 50, 200 steps), two parts made updates 1.4 times faster
    # for the rate RNN and 1.6 times for the GRU and the LSTM.
    split_batch_by_default: ClassVar[bool] = True

    def __init__(self, config: NetworkConfig) -> None:
        if not isinstance(config, NetworkConfig):
            raise InvalidParameterError(
                "config", f"config must be a NetworkConfig (got {type(config).__name__})", config
            )
        # A private copy: later edits of the caller's config cannot desynchronise the network.
        self.config = dataclasses.replace(config)
        self.seed = (
            config.seed
            if config.seed is not None
            else int(np.random.SeedSequence().generate_state(1)[0])
        )
        self.dtype = tf.float32 if config.dtype == "float32" else tf.float64
        self._np_dtype = np.float32 if config.dtype == "float32" else np.float64
        self._transfer = tf_transfer_function(config.transfer_function)
        self._np_transfer = numpy_transfer_function(config.transfer_function)
        self._shapes = variable_shapes(self.config)
        values = self._initial_values(np.random.default_rng(self.seed))
        self.variables: dict[str, tf.Variable] = {
            name: tf.Variable(
                values[name].astype(self._np_dtype),
                trainable=getattr(self.config, self._train_flags[name]),
                name=name,
                dtype=self.dtype,
            )
            for name in self._shapes
        }
        self._run_functions: dict[bool, Any] = {}

    def _initial_values(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def forward(self, inputs: Any, noise: Any = None) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(outputs, states)`` tensors for ``inputs`` of shape (N_batch, N_steps, N_in)."""
        raise NotImplementedError

    @property
    def trainable_variables(self) -> list[tf.Variable]:
        """The variables whose ``*_train`` flag is True, in a fixed order."""
        return [variable for variable in self.variables.values() if variable.trainable]

    def _as_input_tensor(self, inputs: Any) -> tf.Tensor:
        x = tf.convert_to_tensor(inputs)
        if x.dtype != self.dtype:
            if not (x.dtype.is_floating or x.dtype.is_integer or x.dtype.is_bool):
                raise InvalidParameterError(
                    "inputs",
                    f"inputs must be a real numeric tensor (got dtype {x.dtype.name})",
                    None,
                )
            x = tf.cast(x, self.dtype)
        shape = x.shape
        if shape.rank is not None and (
            shape.rank != 3 or shape[-1] not in (None, self.config.N_in)
        ):
            raise ShapeMismatchError(
                "inputs",
                f"inputs must have shape (N_batch, N_steps, N_in={self.config.N_in}) (got shape {tuple(shape)})",
                None,
            )
        return x

    def run(
        self, inputs: Any, seed: int | np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run trials and return NumPy ``(outputs, states)``.

        Parameters
        ----------
        inputs
            Array of shape (N_batch, N_steps, N_in); any batch size and number of steps.
        seed
            Seed or generator of the recurrent noise, used only when ``rec_noise > 0``.

        Returns
        -------
        outputs : ndarray, shape (N_batch, N_steps, N_out)
        states : ndarray, shape (N_batch, N_steps, N_rec)
        """
        x = _checks.check_inputs("inputs", inputs, self.config.N_in).astype(
            self._np_dtype, copy=False
        )
        noisy = self.config.rec_noise > 0
        function = self._run_function(noisy)
        if noisy:
            rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
            shape = (x.shape[0], x.shape[1], self.config.N_rec)
            noise = rng.standard_normal(shape).astype(self._np_dtype)
            outputs, states = function(x, noise)
        else:
            outputs, states = function(x)
        return outputs.numpy(), states.numpy()

    def _run_function(self, noisy: bool) -> Any:
        """Return a traced forward pass that accepts any batch size and trial length."""
        if noisy not in self._run_functions:
            spec = tf.TensorSpec([None, None, self.config.N_in], self.dtype)
            if noisy:
                noise_spec = tf.TensorSpec([None, None, self.config.N_rec], self.dtype)
                function = tf.function(self.forward, input_signature=[spec, noise_spec])
            else:
                function = tf.function(lambda x: self.forward(x), input_signature=[spec])
            self._run_functions[noisy] = function
        return self._run_functions[noisy]

    def rates(self, states: Any) -> Any:
        """Apply the transfer function: a tensor for a tensor, an array for an array."""
        if isinstance(states, (tf.Tensor, tf.Variable)):
            return self._transfer(states)
        return self._np_transfer(np.asarray(states))

    def get_weights(self) -> dict[str, np.ndarray]:
        """Return a copy of every raw variable as a NumPy array."""
        return {name: variable.numpy().copy() for name, variable in self.variables.items()}

    def set_weights(self, weights: Mapping[str, Any]) -> None:
        """Assign some or all variables from arrays; names and shapes are checked first.

        Raises
        ------
        InvalidParameterError
            For an unknown name; :class:`ShapeMismatchError` for a wrong shape. Nothing is
            assigned when any value is rejected.
        """
        checked = {}
        for name, value in weights.items():
            if name not in self.variables:
                close = difflib.get_close_matches(str(name), list(self.variables), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InvalidParameterError(
                    "weights",
                    f"the network has no variable {name!r}; names are {', '.join(self.variables)}{hint}",
                    name,
                )
            shape = self._shapes[name]
            array = np.asarray(value)
            if array.shape == shape[1:] and shape[0] == 1:
                array = array[np.newaxis]
            checked[name] = _checks.check_array(f"weights[{name!r}]", array, shape)
        for name, array in checked.items():
            self.variables[name].assign(array.astype(self._np_dtype))

    def copy_weights(self) -> dict[str, np.ndarray]:
        """Return a snapshot of every variable for :meth:`restore_weights` (NaN recovery)."""
        return self.get_weights()

    def restore_weights(self, snapshot: Mapping[str, np.ndarray]) -> None:
        """Assign every variable back from a :meth:`copy_weights` snapshot."""
        for name, value in snapshot.items():
            self.variables[name].assign(value)

    def effective_weights(self) -> dict[str, np.ndarray]:
        """Return the weights the forward pass uses, after masks and Dale's law."""
        raise NotImplementedError

    def __repr__(self) -> str:
        config = self.config
        return f"{type(self).__name__}(N_in={config.N_in}, N_rec={config.N_rec}, N_out={config.N_out}, seed={self.seed})"
