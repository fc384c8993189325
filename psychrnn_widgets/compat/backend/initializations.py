"""PsychRNN's weight initializers: ``WeightInitializer``, ``GaussianSpectralRadius``, ``AlphaIdentity``.

Random values come from NumPy's global RNG in PsychRNN's order: W_in, W_out, W_rec,
init_state, then the spectral-radius draw. Every default is drawn even when an explicit array
replaces it. So ``np.random.seed(s)`` gives the same initial weights as PsychRNN with the same
seed. Dale balancing is the engine's :func:`~psychrnn_widgets.engine.initializers.balance_dale`.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np

from psychrnn_widgets.compat.backend._weight_files import (
    TRANSFER_NAME_KEY,
    WRITER_KEY,
    read_weight_file,
)
from psychrnn_widgets.engine.initializers import balance_dale
from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError

__all__ = ["AlphaIdentity", "GaussianSpectralRadius", "WeightInitializer"]

logger = logging.getLogger(__name__)


def _check_shape(name: str, array: Any, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(array)
    if array.shape != shape:
        raise ShapeMismatchError(
            name, f"{name} must have shape {shape} (got shape {array.shape})", array.shape
        )
    return array


class WeightInitializer:
    """Initial values of every variable of a ``Basic`` network, drawn or given.

    Keyword arguments are PsychRNN's: ``N_in``, ``N_rec``, ``N_out``, ``load_weights_path``,
    ``autapses`` (True), ``dale_ratio`` (None), ``transfer_function`` (None, which the model reads as ``tf.nn.relu``),
    ``which_rand_init`` and ``which_rand_W_rec_init`` (``'glorot_gauss'``, ``'glorot_unif'``,
    ``'const_gauss'`` or ``'const_unif'``), ``init_minval`` (-0.1), ``init_maxval`` (0.1), the
    masks ``input_connectivity``, ``rec_connectivity``, ``output_connectivity`` and the arrays
    ``W_in``, ``W_rec``, ``W_out``, ``b_rec``, ``b_out``, ``init_state``, ``Dale_rec``,
    ``Dale_out``. Other keys are ignored, so a whole network ``params`` dict can be passed.

    Attributes
    ----------
    initializations : dict of str to ndarray
        The values by variable name; a subclass or user model may add entries.
    rand_init, rand_W_rec_init : callable
        The random draw for W_in/W_out and for W_rec, ``f(connectivity) -> ndarray``.

    Notes
    -----
    Differences from PsychRNN: a bad ``dale_ratio`` or shape raises
    :class:`~psychrnn_widgets.errors.InvalidParameterError` (PsychRNN uses ``assert`` and a bare
    ``raise``); ``autapses=False`` zeroes the diagonal of a copy of ``rec_connectivity``, not the
    caller's array; weight files are read without unpickling; ``Dale_out`` defaults to 0 for
    inhibitory units (PsychRNN's main branch; 1.0.0 used -1).
    """

    def __init__(self, **kwargs: Any) -> None:
        self.load_weights_path = kwargs.get("load_weights_path")
        self.N_in = N_in = kwargs.get("N_in")
        self.N_rec = N_rec = kwargs.get("N_rec")
        self.N_out = N_out = kwargs.get("N_out")
        self.autapses = kwargs.get("autapses", True)
        self.initializations: dict[str, Any] = {}
        if self.load_weights_path is not None:
            self._load(self.load_weights_path)
            return

        if kwargs.get("W_rec") is None and type(self) is WeightInitializer:
            warnings.warn(
                "This network may not train since the eigenvalues of W_rec are not regulated in any way.",
                stacklevel=2,
            )
        which = kwargs.get("which_rand_init", "glorot_gauss")
        self.rand_W_rec_init = self.get_rand_init_func(kwargs.get("which_rand_W_rec_init", which))
        self.rand_init = self.get_rand_init_func(which)
        self.init_minval = kwargs.get("init_minval", -0.1)
        self.init_maxval = kwargs.get("init_maxval", 0.1)

        init = self.initializations
        init["input_connectivity"] = _mask(kwargs, "input_connectivity", (N_rec, N_in))
        init["rec_connectivity"] = _mask(kwargs, "rec_connectivity", (N_rec, N_rec))
        init["output_connectivity"] = _mask(kwargs, "output_connectivity", (N_out, N_rec))
        if not self.autapses:
            np.fill_diagonal(init["rec_connectivity"], 0.0)

        dale_ratio = kwargs.get("dale_ratio")
        if isinstance(dale_ratio, np.ndarray):
            dale_ratio = dale_ratio.item()
        if dale_ratio is not None and not 0 <= dale_ratio <= 1:
            raise InvalidParameterError(
                "dale_ratio",
                f"dale_ratio must be in [0, 1] or None (got dale_ratio={dale_ratio})",
                dale_ratio,
            )
        init["dale_ratio"] = dale_ratio
        dale_rec, dale_out = _dale_matrices(N_rec, dale_ratio)
        init["Dale_rec"] = _check_shape(
            "Dale_rec", kwargs.get("Dale_rec", dale_rec), (N_rec, N_rec)
        )
        init["Dale_out"] = _check_shape(
            "Dale_out", kwargs.get("Dale_out", dale_out), (N_rec, N_rec)
        )
        init["transfer_function"] = kwargs.get("transfer_function")

        # Draw every default before looking at the explicit value, so the global RNG advances
        # exactly as in PsychRNN whatever was passed.
        drawn = {
            "W_in": self.rand_init(init["input_connectivity"]),
            "W_out": self.rand_init(init["output_connectivity"]),
            "W_rec": self.rand_W_rec_init(init["rec_connectivity"]),
        }
        shapes = {"W_in": (N_rec, N_in), "W_out": (N_out, N_rec), "W_rec": (N_rec, N_rec)}
        for name in ("W_in", "W_out", "W_rec"):
            value = kwargs.get(name)
            init[name] = drawn[name] if value is None else _check_shape(name, value, shapes[name])
        init["b_rec"] = _check_shape("b_rec", kwargs.get("b_rec", np.zeros(N_rec)), (N_rec,))
        init["b_out"] = _check_shape("b_out", kwargs.get("b_out", np.zeros(N_out)), (N_out,))
        init_state = 0.1 + 0.01 * np.random.randn(N_rec)
        if kwargs.get("init_state") is not None:
            init_state = np.asarray(kwargs["init_state"])
            if init_state.size != N_rec:
                raise ShapeMismatchError(
                    "init_state",
                    f"init_state must hold N_rec={N_rec} values (got shape {init_state.shape})",
                    init_state.shape,
                )
        init["init_state"] = init_state

    def _load(self, path: Any) -> None:
        entries = read_weight_file(path)
        written_here = entries.pop(WRITER_KEY, None) is not None
        if "dale_ratio" not in entries and not written_here:
            warnings.warn(
                f"The weight file {path} has no 'dale_ratio' entry, so Dale's law is not applied; add the "
                "entry to the file if the network was trained with it.",
                stacklevel=3,
            )
        entries.setdefault("dale_ratio", None)
        name = entries.pop(TRANSFER_NAME_KEY, None)
        if name is not None:
            entries["transfer_function"] = name
        self.initializations = entries
        if self.N_rec is None and "W_rec" in entries:
            self.N_rec = int(entries["W_rec"].shape[0])

    def get_rand_init_func(self, which_rand_init: str) -> Any:
        """Return the draw named ``which_rand_init``: const_unif, const_gauss, glorot_unif or glorot_gauss."""
        draws = {
            "const_unif": self.const_unif_init,
            "const_gauss": self.const_gauss_init,
            "glorot_unif": self.glorot_unif_init,
            "glorot_gauss": self.glorot_gauss_init,
        }
        if which_rand_init not in draws:
            raise InvalidParameterError(
                "which_rand_init",
                f"which_rand_init must be one of {', '.join(draws)} (got {which_rand_init!r})",
                which_rand_init,
            )
        return draws[which_rand_init]

    def const_gauss_init(self, connectivity: np.ndarray) -> np.ndarray:
        """Draw N(0, 1) entries with the shape of ``connectivity``."""
        return np.random.randn(connectivity.shape[0], connectivity.shape[1])

    def const_unif_init(self, connectivity: np.ndarray) -> np.ndarray:
        """Draw U(init_minval, init_maxval) entries with the shape of ``connectivity``."""
        span = self.init_maxval - self.init_minval
        return (
            span * np.random.rand(connectivity.shape[0], connectivity.shape[1]) + self.init_minval
        )

    def glorot_unif_init(self, connectivity: np.ndarray) -> np.ndarray:
        """Draw U(+-sqrt(6 / (fan_in_i + fan_out_j))), fans counted on ``connectivity``."""
        bound = np.sqrt(6 / _fans(connectivity))
        return np.random.uniform(-bound, bound)

    def glorot_gauss_init(self, connectivity: np.ndarray) -> np.ndarray:
        """Draw N(0, 2 / (fan_in_i + fan_out_j)), fans counted on ``connectivity``."""
        return np.random.normal(0, np.sqrt(2 / _fans(connectivity)))

    def get_dale_ratio(self) -> float | None:
        """Return the fraction of excitatory units, or None without Dale's law."""
        return self.initializations["dale_ratio"]

    def get_transfer_function(self) -> Any:
        """Return the transfer function given or read from a file (a callable, a name or None)."""
        return self.initializations.get("transfer_function")

    def get(self, tensor_name: str) -> Any:
        """Return a TensorFlow 2 constant initializer, ``init(shape, dtype)``, for ``tensor_name``."""
        import tensorflow as tf

        return tf.constant_initializer(
            np.asarray(self.initializations[tensor_name], dtype=np.float32)
        )

    def save(self, save_path: str) -> None:
        """Write the initial values to ``save_path`` (``.npz``), without pickled entries."""
        from psychrnn_widgets.compat.backend._weight_files import write_weight_file

        write_weight_file(save_path, self.initializations)

    def balance_dale_ratio(self) -> None:
        """Scale the columns of W_rec so that excitation and inhibition balance (no-op without Dale's law)."""
        dale_ratio = self.get_dale_ratio()
        if dale_ratio is not None:
            self.initializations["W_rec"] = balance_dale(
                self.initializations["W_rec"], self.initializations["rec_connectivity"], dale_ratio
            )


class GaussianSpectralRadius(WeightInitializer):
    """W_rec drawn N(0, 1), balanced for Dale's law, then scaled to spectral radius ``spec_rad`` (1.1).

    The radius is that of the raw signed matrix, before masks and Dale's law, as in PsychRNN.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec_rad = kwargs.get("spec_rad", 1.1)
        self.initializations["W_rec"] = np.random.randn(self.N_rec, self.N_rec)
        self.balance_dale_ratio()
        w_rec = self.initializations["W_rec"]
        self.initializations["W_rec"] = (
            self.spec_rad * w_rec / np.max(np.abs(np.linalg.eigvals(w_rec)))
        )


class AlphaIdentity(WeightInitializer):
    """W_rec = ``alpha`` times the identity, balanced for Dale's law; W_in and W_out stay Glorot.

    ``alpha`` is a required keyword. A task's ``get_task_params()`` contains ``alpha = dt / tau``,
    so ``AlphaIdentity(**params)`` uses that value unless ``params['alpha']`` is changed.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = kwargs.get("alpha")
        if self.alpha is None:
            raise InvalidParameterError(
                "alpha", "AlphaIdentity requires the keyword alpha (the W_rec diagonal)", None
            )
        self.initializations["W_rec"] = np.eye(self.N_rec) * self.alpha
        self.balance_dale_ratio()


def _fans(connectivity: np.ndarray) -> np.ndarray:
    return connectivity.sum(axis=1)[:, np.newaxis] + connectivity.sum(axis=0)[np.newaxis, :]


def _mask(kwargs: dict[str, Any], name: str, shape: tuple[int, int]) -> np.ndarray:
    value = kwargs.get(name)
    if value is None:
        return np.ones(shape)
    return np.array(_check_shape(name, value, shape), dtype=np.float64)


def _dale_matrices(n_rec: int, dale_ratio: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Return the default ``(Dale_rec, Dale_out)``: +1/-1 and 1/0 diagonals (identity without Dale's law)."""
    signs = np.ones(n_rec)
    reaches_output = np.ones(n_rec)
    if dale_ratio is not None:
        n_excitatory = int(dale_ratio * n_rec)
        signs[n_excitatory:] = -1.0
        reaches_output[n_excitatory:] = 0.0
    return np.diag(signs), np.diag(reaches_output)
