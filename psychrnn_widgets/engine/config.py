"""Network configuration: sizes, time constants, constraints, initialisation and seed.

:class:`NetworkConfig` is a validated dataclass. Every network class reads only this object,
so a saved config rebuilds the same network.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from psychrnn_widgets.engine import _checks
from psychrnn_widgets.engine.transfer import check_transfer_function, transfer_function_name
from psychrnn_widgets.errors import InvalidParameterError

__all__ = ["INITIALIZERS", "MODELS", "NetworkConfig", "variable_shapes"]

MODELS = ("rate", "lstm", "gru")
INITIALIZERS = ("spectral_radius", "alpha_identity", "glorot_normal", "glorot_uniform")
_TRAIN_FLAGS = (
    "W_in_train",
    "W_rec_train",
    "W_out_train",
    "b_rec_train",
    "b_out_train",
    "init_state_train",
)
_MASKS = ("input_connectivity", "rec_connectivity", "output_connectivity")


@dataclasses.dataclass(eq=False)
class NetworkConfig:
    """Settings of one recurrent network.

    Parameters
    ----------
    N_in, N_rec, N_out
        Numbers of input channels, recurrent units and output channels (each > 0).
    dt
        Time step in ms (> 0). Default 10.
    tau
        Unit time constant in ms: a number or an array of shape ``(N_rec,)``, each at least
        ``dt`` so that ``alpha = dt / tau`` is at most 1. Default 100.
    rec_noise
        Standard deviation of the recurrent noise (>= 0); the state receives
        ``sqrt(2 * alpha) * rec_noise`` times a standard normal draw per step. Default 0.
    transfer_function
        ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"softplus"``, ``"linear"`` or a callable that
        maps a tensor to a tensor of the same shape. Default ``"relu"``.
    dale_ratio
        Fraction of excitatory units in [0, 1], or None for no Dale's law. The first
        ``int(dale_ratio * N_rec)`` units are excitatory, so 0 makes every unit inhibitory
        (PsychRNN 1.0.0 treats 0 like None).
    autapses
        If False, the diagonal of the recurrent mask is zeroed when the network is built
        (the array passed in is not changed).
    input_connectivity, rec_connectivity, output_connectivity
        Masks of shape ``(N_rec, N_in)``, ``(N_rec, N_rec)``, ``(N_out, N_rec)`` with finite
        values >= 0 (usually 0/1); None means all ones.
    W_in_train, W_rec_train, W_out_train, b_rec_train, b_out_train, init_state_train
        Whether each variable is trained. For the LSTM and GRU, ``W_rec_train`` covers the gate
        matrices, ``b_rec_train`` the gate biases and ``init_state_train`` the initial states.
    initializer
        ``"spectral_radius"`` (Gaussian W_rec scaled to ``spec_rad``), ``"alpha_identity"``,
        ``"glorot_normal"`` or ``"glorot_uniform"``. Rate model only.
    spec_rad
        Spectral radius of the initial raw W_rec (> 0). Default 1.1.
    identity_gain
        Diagonal of the alpha-identity W_rec; None means ``dt / tau``.
    model
        ``"rate"``, ``"lstm"`` or ``"gru"``.
    seed
        Integer >= 0 that fixes every initial draw; None draws a fresh seed at build time.
    initial_weights
        A dict of arrays (names as in ``network.variables``) or the path of a weight file; these
        values replace the drawn ones.
    dtype
        ``"float32"`` (default, fast) or ``"float64"`` (for exact comparisons).
    dale_out_inhibitory
        Entry of the output Dale diagonal for inhibitory units: 0 (PsychRNN's main branch:
        inhibitory units do not reach the outputs) or -1 (PsychRNN 1.0.0).
    lstm_hidden_activation
        ``"tanh"`` (standard LSTM, hidden = o * tanh(c)) or ``"sigmoid"`` (PsychRNN's LSTM,
        hidden = o * sigmoid(c)).
    """

    N_in: int
    N_rec: int
    N_out: int
    dt: float = 10.0
    tau: float | np.ndarray = 100.0
    rec_noise: float = 0.0
    transfer_function: str | Callable[[Any], Any] = "relu"
    dale_ratio: float | None = None
    autapses: bool = True
    input_connectivity: np.ndarray | None = None
    rec_connectivity: np.ndarray | None = None
    output_connectivity: np.ndarray | None = None
    W_in_train: bool = True
    W_rec_train: bool = True
    W_out_train: bool = True
    b_rec_train: bool = True
    b_out_train: bool = True
    init_state_train: bool = True
    initializer: str = "spectral_radius"
    spec_rad: float = 1.1
    identity_gain: float | None = None
    model: str = "rate"
    seed: int | None = None
    initial_weights: Mapping[str, Any] | str | os.PathLike[str] | None = None
    dtype: str = "float32"
    dale_out_inhibitory: float = 0.0
    lstm_hidden_activation: str = "tanh"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> NetworkConfig:
        """Check every field, normalise it in place (arrays become float64 copies) and return self.

        Raises
        ------
        InvalidParameterError
            Naming the first field that breaks a rule, the rule and the value.
        """
        self.N_in = _checks.check_positive_int("N_in", self.N_in)
        self.N_rec = _checks.check_positive_int("N_rec", self.N_rec)
        self.N_out = _checks.check_positive_int("N_out", self.N_out)
        self.dt = _checks.check_real("dt", self.dt, unit="ms", positive=True)
        self.tau = self._checked_tau()
        self.rec_noise = _checks.check_real("rec_noise", self.rec_noise, nonnegative=True)
        self.transfer_function = check_transfer_function(self.transfer_function)
        if self.dale_ratio is not None:
            ratio = _checks.check_real("dale_ratio", self.dale_ratio)
            if not 0.0 <= ratio <= 1.0:
                raise InvalidParameterError(
                    "dale_ratio",
                    f"dale_ratio must be in [0, 1] or None (got dale_ratio={ratio:g})",
                    ratio,
                )
            self.dale_ratio = ratio
        self.autapses = _checks.check_bool("autapses", self.autapses)
        shapes = {
            "input_connectivity": (self.N_rec, self.N_in),
            "rec_connectivity": (self.N_rec, self.N_rec),
            "output_connectivity": (self.N_out, self.N_rec),
        }
        for name, shape in shapes.items():
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, _checks.check_array(name, value, shape, nonnegative=True))
        for name in _TRAIN_FLAGS:
            setattr(self, name, _checks.check_bool(name, getattr(self, name)))
        self.initializer = _checks.check_choice("initializer", self.initializer, INITIALIZERS)
        self.spec_rad = _checks.check_real("spec_rad", self.spec_rad, positive=True)
        if self.identity_gain is not None:
            self.identity_gain = _checks.check_real("identity_gain", self.identity_gain)
        self.model = _checks.check_choice("model", self.model, MODELS)
        if self.seed is not None:
            if (
                isinstance(self.seed, bool)
                or not isinstance(self.seed, (int, np.integer))
                or self.seed < 0
            ):
                raise InvalidParameterError(
                    "seed", f"seed must be None or an integer >= 0 (got {self.seed!r})", self.seed
                )
            self.seed = int(self.seed)
        self.dtype = _checks.check_choice("dtype", self.dtype, ("float32", "float64"))
        if self.dale_out_inhibitory not in (0, -1) or isinstance(self.dale_out_inhibitory, bool):
            raise InvalidParameterError(
                "dale_out_inhibitory",
                f"dale_out_inhibitory must be 0 or -1 (got {self.dale_out_inhibitory!r})",
                self.dale_out_inhibitory,
            )
        self.dale_out_inhibitory = float(self.dale_out_inhibitory)
        self.lstm_hidden_activation = _checks.check_choice(
            "lstm_hidden_activation", self.lstm_hidden_activation, ("tanh", "sigmoid")
        )
        self._check_model_constraints()
        self.initial_weights = self._checked_initial_weights()
        return self

    def _checked_tau(self) -> float | np.ndarray:
        if np.ndim(self.tau) == 0:
            tau = _checks.check_real("tau", self.tau, unit="ms", positive=True)
            smallest = tau
        else:
            tau = _checks.check_array("tau", self.tau, (self.N_rec,))
            smallest = float(tau.min())
            if smallest <= 0:
                raise InvalidParameterError(
                    "tau",
                    f"tau must be larger than 0 for every unit (got minimum tau={smallest:g} ms)",
                    self.tau,
                )
        if smallest < self.dt:
            raise InvalidParameterError(
                "tau",
                f"tau must be at least dt, so that alpha = dt/tau <= 1 (got tau={smallest:g} ms, "
                f"dt={self.dt:g} ms)",
                self.tau,
            )
        return tau

    def _check_model_constraints(self) -> None:
        if self.model == "rate":
            return
        unsupported = {"dale_ratio": self.dale_ratio is not None, "rec_noise": self.rec_noise > 0}
        unsupported.update({name: getattr(self, name) is not None for name in _MASKS})
        for name, is_set in unsupported.items():
            if is_set:
                raise InvalidParameterError(
                    name,
                    f"{name} applies only to model='rate' (got model={self.model!r})",
                    getattr(self, name),
                )

    def _checked_initial_weights(self) -> Mapping[str, Any] | str | None:
        value = self.initial_weights
        if value is None:
            return None
        if isinstance(value, (str, os.PathLike)):
            return os.fspath(value)
        if not isinstance(value, Mapping):
            raise InvalidParameterError(
                "initial_weights",
                f"initial_weights must be a dict of arrays or a file path (got {type(value).__name__})",
                value,
            )
        shapes = variable_shapes(self)
        checked = {}
        for name, array in value.items():
            if name not in shapes:
                close = difflib.get_close_matches(str(name), list(shapes), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise InvalidParameterError(
                    "initial_weights",
                    f"initial_weights has no variable {name!r} for model={self.model!r}; names are "
                    f"{', '.join(shapes)}{hint}",
                    name,
                )
            array = np.asarray(array)
            if array.shape == shapes[name][1:] and shapes[name][0] == 1:
                array = array[np.newaxis]  # PsychRNN draws init_state with shape (N_rec,)
            checked[name] = _checks.check_array(f"initial_weights[{name!r}]", array, shapes[name])
        return checked

    @property
    def alpha(self) -> float | np.ndarray:
        """``dt / tau``: a float, or an array of shape ``(N_rec,)`` for per-unit tau."""
        return self.dt / self.tau

    @property
    def n_excitatory(self) -> int:
        """Number of excitatory units, ``int(dale_ratio * N_rec)`` (N_rec without Dale's law)."""
        if self.dale_ratio is None:
            return self.N_rec
        return int(self.dale_ratio * self.N_rec)

    def masks(self) -> dict[str, np.ndarray]:
        """Return the three connectivity masks as float64 arrays, with ``autapses`` applied."""
        masks = {
            "input_connectivity": self._mask_or_ones("input_connectivity", (self.N_rec, self.N_in)),
            "rec_connectivity": self._mask_or_ones("rec_connectivity", (self.N_rec, self.N_rec)),
            "output_connectivity": self._mask_or_ones(
                "output_connectivity", (self.N_out, self.N_rec)
            ),
        }
        if not self.autapses:
            np.fill_diagonal(masks["rec_connectivity"], 0.0)
        return masks

    def _mask_or_ones(self, name: str, shape: tuple[int, int]) -> np.ndarray:
        value = getattr(self, name)
        return np.ones(shape) if value is None else np.array(value, dtype=np.float64)

    def dale_vectors(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Return the diagonals ``(D_rec, D_out)`` of the Dale matrices, or None without Dale's law."""
        if self.dale_ratio is None:
            return None
        n_e = self.n_excitatory
        d_rec = np.ones(self.N_rec)
        d_rec[n_e:] = -1.0
        d_out = np.ones(self.N_rec)
        d_out[n_e:] = self.dale_out_inhibitory
        return d_rec, d_out

    @classmethod
    def for_task(cls, task: Any, **overrides: Any) -> NetworkConfig:
        """Build a config whose N_in, N_out, dt and tau come from ``task``; ``overrides`` win."""
        values = {
            "N_in": task.N_in,
            "N_out": task.N_out,
            "dt": task.dt,
            "tau": task.tau,
            "N_rec": 50,
        }
        _check_names(overrides)
        values.update(overrides)
        return cls(**values)

    def replace(self, **changes: Any) -> NetworkConfig:
        """Return a new validated config with ``changes`` applied."""
        _check_names(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dict: arrays become nested lists, a callable becomes its name."""
        result: dict[str, Any] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "transfer_function":
                value = transfer_function_name(value)
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            elif field.name == "initial_weights" and isinstance(value, Mapping):
                value = {name: np.asarray(array).tolist() for name, array in value.items()}
            result[field.name] = value
        return result

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> NetworkConfig:
        """Build a config from :meth:`to_dict` output; unknown keys raise with a hint."""
        _check_names(values)
        return cls(**dict(values))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NetworkConfig):
            return NotImplemented
        return self.to_dict() == other.to_dict()


_dataclass_init = NetworkConfig.__init__


@functools.wraps(_dataclass_init)
def _init_with_name_check(self: NetworkConfig, *args: Any, **kwargs: Any) -> None:
    # The generated __init__ would raise a bare TypeError for a misspelt field; this names it
    # and suggests the closest field instead.
    _check_names(kwargs)
    _dataclass_init(self, *args, **kwargs)


NetworkConfig.__init__ = _init_with_name_check  # type: ignore[method-assign]


def _check_names(values: Mapping[str, Any]) -> None:
    names = [field.name for field in dataclasses.fields(NetworkConfig)]
    for key in values:
        if key not in names:
            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterError(key, f"NetworkConfig has no field {key!r}{hint}", key)


def variable_shapes(config: NetworkConfig) -> dict[str, tuple[int, ...]]:
    """Return the name and shape of every variable of the network that ``config`` describes."""
    n_in, n_rec, n_out = config.N_in, config.N_rec, config.N_out
    readout = {"W_out": (n_out, n_rec), "b_out": (n_out,)}
    if config.model == "rate":
        return {
            "W_in": (n_rec, n_in),
            "W_rec": (n_rec, n_rec),
            "W_out": (n_out, n_rec),
            "b_rec": (n_rec,),
            "b_out": (n_out,),
            "init_state": (1, n_rec),
        }
    gates = "fico" if config.model == "lstm" else "zrh"
    shapes: dict[str, tuple[int, ...]] = {}
    for gate in gates:
        shapes[f"W_{gate}"] = (n_in + n_rec, n_rec)
    for gate in gates:
        shapes[f"b_{gate}"] = (n_rec,)
    shapes.update(readout)
    if config.model == "lstm":
        shapes.update({"init_hidden": (1, n_rec), "init_cell": (1, n_rec)})
    else:
        shapes["init_state"] = (1, n_rec)
    return shapes
