"""PsychRNN's ``RNN`` base class, in eager TensorFlow 2 over the engine's rate RNN.

The constructor reads PsychRNN's ``params`` dict, draws or loads the initial values with a
:mod:`~psychrnn_widgets.compat.backend.initializations` class, and builds a
:class:`~psychrnn_widgets.engine.network.RateRNN` from a
:class:`~psychrnn_widgets.engine.config.NetworkConfig`. Its variables are exposed under
PsychRNN's attribute names (``W_in``, ``W_rec``, ``W_out``, ``b_rec``, ``b_out``), so a subclass
can override ``recurrent_timestep``, ``output_timestep`` and ``forward_pass`` with TensorFlow 2
operations, reading ``self.x`` and ``self.init_state`` as in PsychRNN.
"""

from __future__ import annotations

import abc
import logging
import os
from typing import Any

import numpy as np
import tensorflow as tf

from psychrnn_widgets.compat.backend import _training
from psychrnn_widgets.compat.backend._weight_files import write_weight_file
from psychrnn_widgets.compat.backend.initializations import (
    GaussianSpectralRadius,
    WeightInitializer,
)
from psychrnn_widgets.compat.backend.loss_functions import LossFunction
from psychrnn_widgets.compat.backend.regularizations import Regularizer
from psychrnn_widgets.engine._checks import check_positive_int, check_real
from psychrnn_widgets.engine.config import NetworkConfig
from psychrnn_widgets.engine.network import build_network
from psychrnn_widgets.errors import ShapeMismatchError

__all__ = ["REQUIRED_KEYS", "RNN"]

logger = logging.getLogger(__name__)

REQUIRED_KEYS = ("name", "N_in", "N_rec", "N_out", "N_steps", "dt", "tau", "N_batch")
_TRAIN_FLAGS = (
    "W_in_train",
    "W_rec_train",
    "W_out_train",
    "b_rec_train",
    "b_out_train",
    "init_state_train",
)
_CONSTRAINTS = (
    "Dale_rec",
    "Dale_out",
    "input_connectivity",
    "rec_connectivity",
    "output_connectivity",
)


def _variable_key(variable: tf.Variable, scope: str) -> str:
    """Return a variable's name without ``:0`` and without the model's scope, like PsychRNN's file keys."""
    name = variable.name.split(":")[0]
    prefix = scope + "/"
    return name.removeprefix(prefix)


class RNN(abc.ABC):
    """Base of PsychRNN models: parameters, variables, training, testing and weight files.

    Parameters
    ----------
    params : dict
        PsychRNN's network parameters. Required: ``name``, ``N_in``, ``N_rec``, ``N_out``,
        ``N_steps``, ``dt``, ``tau``, ``N_batch``. Optional: ``rec_noise`` (0),
        ``transfer_function`` (``tf.nn.relu``), ``load_weights_path``, ``initializer``, the
        ``*_train`` flags (True), ``loss_function``, the regularisation weights,
        ``custom_regularization``, and any initializer keyword (see
        :class:`~psychrnn_widgets.compat.backend.initializations.WeightInitializer`).

    Raises
    ------
    KeyError
        Naming the first required key that is missing.

    Notes
    -----
    ``N_batch`` only sizes the default ``init_state`` tiling: ``test`` and ``train`` accept any
    batch size. ``N_steps`` is fixed, as in PsychRNN, because a user ``forward_pass`` may unstack
    the time axis.
    """

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        for key in REQUIRED_KEYS:
            if key not in params:
                raise KeyError(f"params has no '{key}': you must pass '{key}' to RNN")
        _check_sizes(params)
        self.name = params["name"]
        self.N_in = params["N_in"]
        self.N_rec = params["N_rec"]
        self.N_out = params["N_out"]
        self.N_steps = params["N_steps"]
        self.dt = params["dt"]
        tau = params["tau"]
        self.tau = tau.astype("float32") if isinstance(tau, np.ndarray) else tau
        self.N_batch = params["N_batch"]
        self.alpha = (1.0 * self.dt) / self.tau
        self.rec_noise = params.get("rec_noise", 0.0)
        self.load_weights_path = params.get("load_weights_path")

        # PsychRNN checks these when it builds the graph; here the constructor is the build.
        self._loss_function = LossFunction(params)
        self._regularizer = Regularizer(params)
        self.initializer = self._choose_initializer(params)
        self.dale_ratio = self.initializer.get_dale_ratio()
        self.transfer_function = self._choose_transfer_function(params)
        for flag in _TRAIN_FLAGS:
            setattr(self, flag, params.get(flag, True))

        self._network = build_network(self._network_config())
        variables = self._network.variables
        self._init_state = variables["init_state"]
        self.W_in = variables["W_in"]
        self.W_rec = variables["W_rec"]
        self.W_out = variables["W_out"]
        self.b_rec = variables["b_rec"]
        self.b_out = variables["b_out"]
        for name in _CONSTRAINTS:
            value = np.asarray(self.initializer.initializations[name], dtype=np.float32)
            setattr(self, name, tf.Variable(value, trainable=False, name=name))
        dale = self._network.config.dale_vectors()
        self._standard_dale = dale is None or (
            np.array_equal(self.Dale_rec.numpy(), np.diag(dale[0]))
            and np.array_equal(self.Dale_out.numpy(), np.diag(dale[1]))
        )
        self._standard_attributes = {name: getattr(self, name) for name in self._attribute_names()}
        self._standard_transfer = self.transfer_function

        self.x: Any = None
        self.y: Any = None
        self.output_mask: Any = None
        self.predictions: Any = None
        self.states: Any = None
        self.optimizers: list[Any] = []
        self._compiled: dict[str, Any] = {}
        self.is_built = True
        self.is_initialized = True

    @staticmethod
    def _attribute_names() -> tuple[str, ...]:
        return ("W_in", "W_rec", "W_out", "b_rec", "b_out", *_CONSTRAINTS)

    def _choose_initializer(self, params: dict[str, Any]) -> WeightInitializer:
        if self.load_weights_path is not None:
            return WeightInitializer(load_weights_path=self.load_weights_path, N_rec=self.N_rec)
        # PsychRNN builds the default initializer even when params contains one, which advances
        # NumPy's global RNG; doing the same keeps seeded runs identical.
        if params.get("W_rec") is not None:
            default = WeightInitializer(**params)
        else:
            default = GaussianSpectralRadius(**params)
        return params.get("initializer", default)

    def _choose_transfer_function(self, params: dict[str, Any]) -> Any:
        """Return the file's transfer function when weights were loaded (PsychRNN's main branch), else params'."""
        stored = self.initializer.get_transfer_function()
        if self.load_weights_path is not None and stored is not None:
            from psychrnn_widgets.engine.transfer import tf_transfer_function

            return tf_transfer_function(stored) if isinstance(stored, str) else stored
        if "transfer_function" in params:
            return params["transfer_function"]
        return tf.nn.relu

    def _network_config(self) -> NetworkConfig:
        init = self.initializer.initializations
        n_rec = self.N_rec
        ratio = self.dale_ratio if self.dale_ratio else None
        dale_out = np.asarray(init["Dale_out"])
        inhibitory = int(ratio * n_rec) if ratio is not None else n_rec
        dale_out_inhibitory = (
            -1 if inhibitory < n_rec and np.any(np.diag(dale_out)[inhibitory:] < 0) else 0
        )
        tau = (
            np.broadcast_to(self.tau, (n_rec,)).astype(np.float64)
            if np.ndim(self.tau)
            else float(self.tau)
        )
        return NetworkConfig(
            N_in=self.N_in,
            N_rec=n_rec,
            N_out=self.N_out,
            dt=float(self.dt),
            tau=tau,
            rec_noise=float(self.rec_noise),
            transfer_function=self.transfer_function,
            dale_ratio=ratio,
            autapses=True,  # the initializer has already zeroed the mask's diagonal
            input_connectivity=init["input_connectivity"],
            rec_connectivity=init["rec_connectivity"],
            output_connectivity=init["output_connectivity"],
            seed=0,  # every value is overridden below, so the engine's own draws are discarded
            initial_weights={
                name: np.asarray(init[name], dtype=np.float64).reshape(shape)
                for name, shape in (
                    ("W_in", (n_rec, self.N_in)),
                    ("W_rec", (n_rec, n_rec)),
                    ("W_out", (self.N_out, n_rec)),
                    ("b_rec", (n_rec,)),
                    ("b_out", (self.N_out,)),
                    ("init_state", (1, n_rec)),
                )
            },
            dale_out_inhibitory=dale_out_inhibitory,
            **{flag: bool(getattr(self, flag)) for flag in _TRAIN_FLAGS},
        )

    def _engine_matches(self) -> bool:
        """Return True when the engine's fused forward pass computes exactly this model's update."""
        if any(
            getattr(self, name) is not value for name, value in self._standard_attributes.items()
        ):
            return False
        if self.transfer_function is not self._standard_transfer:
            return False
        for method in ("get_effective_W_in", "get_effective_W_rec", "get_effective_W_out"):
            if getattr(type(self), method) is not getattr(RNN, method):
                return False
        return self._standard_dale

    @property
    def init_state(self) -> tf.Tensor:
        """The trainable initial state (1, N_rec) tiled to the batch size of ``self.x`` (else N_batch)."""
        batch = self.N_batch if self.x is None else tf.shape(self.x)[0]
        return tf.tile(self._init_state, [batch, 1])

    def build(self) -> None:
        """Do nothing: the network is built in the constructor (kept for PsychRNN scripts)."""

    def destruct(self) -> None:
        """Drop this model's compiled functions; other models are unaffected (no global graph here)."""
        self._compiled.clear()

    def get_effective_W_rec(self) -> tf.Tensor:
        """Return ``W_rec * rec_connectivity``, with Dale's law ``|.| @ Dale_rec`` when ``dale_ratio`` is set."""
        w_rec = self.W_rec * self.rec_connectivity
        if self.dale_ratio:
            w_rec = tf.matmul(tf.abs(w_rec), self.Dale_rec)
        return w_rec

    def get_effective_W_in(self) -> tf.Tensor:
        """Return ``W_in * input_connectivity``, made non-negative when ``dale_ratio`` is set."""
        w_in = self.W_in * self.input_connectivity
        if self.dale_ratio:
            w_in = tf.abs(w_in)
        return w_in

    def get_effective_W_out(self) -> tf.Tensor:
        """Return ``W_out * output_connectivity``, with Dale's law ``|.| @ Dale_out`` when ``dale_ratio`` is set."""
        w_out = self.W_out * self.output_connectivity
        if self.dale_ratio:
            w_out = tf.matmul(tf.abs(w_out), self.Dale_out)
        return w_out

    @abc.abstractmethod
    def forward_pass(self) -> tuple[tf.Tensor, tf.Tensor]:
        """Return ``(predictions (B, N_steps, N_out), states (B, N_steps, N_rec))`` for ``self.x``."""

    def all_variables(self) -> list[tf.Variable]:
        """Return every variable of the model: the engine's and any ``tf.Variable`` attribute a subclass adds."""
        found: dict[int, tf.Variable] = {id(v): v for v in self._network.variables.values()}
        for value in vars(self).values():
            if isinstance(value, tf.Variable):
                found.setdefault(id(value), value)
        return list(found.values())

    def trainable_variables(self) -> list[tf.Variable]:
        """Return the variables that training updates."""
        return [v for v in self.all_variables() if v.trainable]

    def variable_key(self, variable: tf.Variable) -> str:
        """Return the key of ``variable`` in ``get_weights()`` and in weight files."""
        for name, engine_variable in self._network.variables.items():
            if engine_variable is variable:
                return name
        return _variable_key(variable, self.name)

    def _run_forward(self, x: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Set ``self.x``, run ``forward_pass`` and store ``predictions`` and ``states``."""
        self.x = x
        try:
            self.predictions, self.states = self.forward_pass()
            return self.predictions, self.states
        finally:
            self.x = None

    def _objective(self, x: tf.Tensor, y: tf.Tensor, output_mask: tf.Tensor) -> tf.Tensor:
        """Return ``reg_loss = loss + regularisation`` of one batch, as PsychRNN builds it."""
        self.x, self.y, self.output_mask = x, y, output_mask
        try:
            self.predictions, self.states = self.forward_pass()
            loss = self._loss_function.set_model_loss(self)
            reg = self._regularizer.set_model_regularization(self)
            return loss + reg
        finally:
            self.x = self.y = self.output_mask = None

    def _check_batch(self, array: Any, name: str, channels: int) -> np.ndarray:
        array = np.asarray(array, dtype=np.float32)
        if array.ndim != 3 or array.shape[1:] != (self.N_steps, channels):
            raise ShapeMismatchError(
                name,
                f"{name} must have shape (batch, N_steps={self.N_steps}, {channels}) (got shape {array.shape})",
                array.shape,
            )
        return array

    def test(self, trial_batch: Any) -> tuple[np.ndarray, np.ndarray]:
        """Run the network on ``trial_batch`` (B, N_steps, N_in), any B.

        Returns
        -------
        outputs : ndarray, shape (B, N_steps, N_out)
        states : ndarray, shape (B, N_steps, N_rec)
        """
        x = self._check_batch(trial_batch, "trial_batch", self.N_in)
        forward = _training.compiled_forward(self)
        outputs, states = forward(tf.constant(x))
        return outputs.numpy(), states.numpy()

    def get_loss(self, trial_batch: Any, trial_y: Any, output_mask: Any) -> float:
        """Return ``reg_loss`` (loss plus regularisation) on one batch; PsychRNN reads it from its session."""
        tensors = [
            tf.constant(self._check_batch(trial_batch, "trial_batch", self.N_in)),
            tf.constant(self._check_batch(trial_y, "trial_y", self.N_out)),
            tf.constant(self._check_batch(output_mask, "output_mask", self.N_out)),
        ]
        return float(_training.compiled_loss(self)(*tensors))

    def get_weights(self) -> dict[str, Any]:
        """Return every variable by name, with effective ``W_in``, ``W_rec`` and ``W_out``.

        Keys as in PsychRNN: ``init_state``, ``W_in``, ``W_rec``, ``W_out``, ``b_rec``, ``b_out``,
        ``Dale_rec``, ``Dale_out``, the three ``*_connectivity`` masks, ``dale_ratio``, any
        variable a subclass adds, and after training the Adam moments ``<name>/Adam`` and
        ``<name>/Adam_1`` (then ``Adam_2``, ``Adam_3`` for a second ``train`` call).
        """
        weights: dict[str, Any] = {}
        for variable in self.all_variables():
            weights[self.variable_key(variable)] = variable.numpy()
        weights["W_rec"] = self.get_effective_W_rec().numpy()
        weights["W_in"] = self.get_effective_W_in().numpy()
        weights["W_out"] = self.get_effective_W_out().numpy()
        for index, optimizer in enumerate(self.optimizers):
            first = "Adam" if index == 0 else f"Adam_{2 * index}"
            second = f"Adam_{2 * index + 1}"
            unused = getattr(optimizer, "unused", set())
            for name, (m, v) in getattr(optimizer, "slots", {}).items():
                if name in unused:
                    continue
                weights[f"{name}/{first}"] = m.numpy()
                weights[f"{name}/{second}"] = v.numpy()
        weights["dale_ratio"] = self.dale_ratio
        weights["transfer_function"] = self.transfer_function
        return weights

    def save(self, save_path: str | os.PathLike[str]) -> None:
        """Write ``get_weights()`` to ``save_path`` as ``.npz`` (appended when missing), pickling nothing.

        ``dale_ratio=None`` is left out of the file (PsychRNN reads a missing key as None).
        """
        write_weight_file(save_path, self.get_weights())

    def train(
        self, trial_batch_generator: Any, train_params: dict[str, Any] | None = None
    ) -> tuple[list[float], float, float]:
        """Train on a task or a batch generator; see :func:`~psychrnn_widgets.compat.backend._training.train`.

        Returns
        -------
        losses : list of float
            ``reg_loss`` every ``loss_epoch`` updates.
        training_time, initialization_time : float
            Seconds spent in the update loop and before it.
        """
        return _training.train(
            self, trial_batch_generator, {} if train_params is None else train_params
        )

    def train_curric(self, train_params: dict[str, Any]) -> tuple[list[float], float, float]:
        """Train with ``train_params['curriculum']``, which is required."""
        return _training.train_curriculum(self, train_params)


def _check_sizes(params: dict[str, Any]) -> None:
    """Raise InvalidParameterError for a size or time step that no network can have.

    Without this, N_rec=0 failed deep in the initializer with a NumPy error.
    """
    for key in ("N_in", "N_rec", "N_out", "N_steps", "N_batch"):
        check_positive_int(key, params[key])
    check_real("dt", params["dt"], unit="ms", positive=True)
    if np.ndim(params["tau"]) == 0:
        check_real("tau", params["tau"], unit="ms", positive=True)
