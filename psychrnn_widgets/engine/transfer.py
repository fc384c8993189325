"""Transfer functions (firing-rate nonlinearities) looked up by name, in TensorFlow and NumPy.

A network config names its transfer function (``"relu"``) or passes a callable. Names map to a
TensorFlow function for the engine and a NumPy function for the float64 simulator. A known
TensorFlow callable such as ``tf.nn.relu`` maps back to its name, so configs stay JSON-safe.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError

__all__ = [
    "TRANSFER_FUNCTIONS",
    "check_transfer_function",
    "numpy_transfer_function",
    "tf_transfer_derivative",
    "tf_transfer_function",
    "transfer_function_name",
]

TRANSFER_FUNCTIONS: tuple[str, ...] = ("relu", "tanh", "sigmoid", "softplus", "linear")


def _np_sigmoid(x: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(x / 2)) equals 1 / (1 + exp(-x)) without overflow for large negative x.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_NUMPY = {
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": _np_sigmoid,
    "softplus": lambda x: np.logaddexp(0.0, x),
    "linear": lambda x: x,
}


def _tf_functions() -> dict[str, Callable[[Any], Any]]:
    import tensorflow as tf

    return {
        "relu": tf.nn.relu,
        "tanh": tf.math.tanh,
        "sigmoid": tf.math.sigmoid,
        "softplus": tf.math.softplus,
        "linear": tf.identity,
    }


def _known_callables() -> dict[int, str]:
    """Map the id of every TensorFlow or NumPy function that has a name here to that name."""
    import tensorflow as tf

    pairs = [
        (tf.nn.relu, "relu"),
        (tf.math.tanh, "tanh"),
        (tf.nn.tanh, "tanh"),
        (tf.math.sigmoid, "sigmoid"),
        (tf.nn.sigmoid, "sigmoid"),
        (tf.math.softplus, "softplus"),
        (tf.nn.softplus, "softplus"),
        (tf.identity, "linear"),
        (np.tanh, "tanh"),
    ]
    return {id(function): name for function, name in pairs}


def check_transfer_function(value: object) -> str | Callable[[Any], Any]:
    """Validate a transfer function given by name or callable, and return its canonical form.

    A known TensorFlow callable (``tf.nn.relu``) becomes its name; other callables are kept.

    Raises
    ------
    InvalidParameterError
        For an unknown name (with a "did you mean" hint) or a value that is neither a name nor
        a callable.
    """
    if isinstance(value, str):
        name = value.strip().lower()
        if name in TRANSFER_FUNCTIONS:
            return name
        close = difflib.get_close_matches(name, TRANSFER_FUNCTIONS, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise InvalidParameterError(
            "transfer_function",
            f"transfer_function must be one of {', '.join(TRANSFER_FUNCTIONS)} or a callable "
            f"(got {value!r}){hint}",
            value,
        )
    if callable(value):
        return _known_callables().get(id(value), value)
    raise InvalidParameterError(
        "transfer_function",
        "transfer_function must be a name such as 'relu' or a callable "
        f"(got {type(value).__name__} {value!r})",
        value,
    )


def transfer_function_name(value: str | Callable[[Any], Any]) -> str:
    """Return the name of a transfer function: its canonical name or the callable's ``__name__``."""
    checked = check_transfer_function(value)
    if isinstance(checked, str):
        return checked
    return getattr(checked, "__name__", type(checked).__name__)


def tf_transfer_function(value: str | Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Return the TensorFlow function for a name, or the callable itself."""
    checked = check_transfer_function(value)
    if isinstance(checked, str):
        return _tf_functions()[checked]
    from psychrnn_widgets.engine._autograph import user_callable  # imports TensorFlow

    return user_callable(checked)


def numpy_transfer_function(
    value: str | Callable[[Any], Any],
) -> Callable[[np.ndarray], np.ndarray]:
    """Return a NumPy function for a name; a custom callable is called and its result converted.

    A custom callable written with TensorFlow ops also accepts NumPy arrays, so the simulator
    converts its result back with ``np.asarray`` and keeps the input's dtype.
    """
    checked = check_transfer_function(value)
    if isinstance(checked, str):
        return _NUMPY[checked]

    def call(x: np.ndarray) -> np.ndarray:
        result = checked(x)
        if hasattr(result, "numpy"):
            result = result.numpy()
        return np.asarray(result, dtype=x.dtype)

    return call


def tf_transfer_derivative(value: str | Callable[[Any], Any]) -> Callable[[Any], Any] | None:
    """Return f'(x) as a TensorFlow function of the pre-activation x, or None for a callable.

    The rate RNN's hand-written backward pass needs it; a custom callable falls back to
    automatic differentiation.
    """
    import tensorflow as tf

    checked = check_transfer_function(value)
    if not isinstance(checked, str):
        return None

    def sigmoid_slope(x: Any) -> Any:
        y = tf.math.sigmoid(x)
        return y * (1.0 - y)

    derivatives = {
        # ReLU's slope at exactly 0 is taken as 0, as TensorFlow's own gradient does.
        "relu": lambda x: tf.cast(x > 0, x.dtype),
        "tanh": lambda x: 1.0 - tf.math.square(tf.math.tanh(x)),
        "sigmoid": sigmoid_slope,
        "softplus": tf.math.sigmoid,
        "linear": tf.ones_like,
    }
    return derivatives[checked]
