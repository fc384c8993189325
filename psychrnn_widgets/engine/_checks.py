"""Small validators shared by the engine's configs, networks and files.

Each raises :class:`InvalidParameterError` (or :class:`ShapeMismatchError`) with a message that
names the field, the rule and the value received.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError, ShapeMismatchError


def check_positive_int(field: str, value: Any) -> int:
    """Return ``value`` as an ``int`` if it is an integer larger than 0."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(
            field, f"{field} must be an integer larger than 0 (got {value!r})", value
        )
    if value <= 0:
        raise InvalidParameterError(
            field, f"{field} must be larger than 0 (got {field}={value})", value
        )
    return int(value)


def check_real(
    field: str,
    value: Any,
    *,
    unit: str = "",
    positive: bool = False,
    nonnegative: bool = False,
) -> float:
    """Return ``value`` as a finite ``float``, optionally larger than 0 or at least 0."""
    suffix = f" {unit}" if unit else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(field, f"{field} must be a number (got {value!r})", value)
    number = float(value)
    if not np.isfinite(number):
        raise InvalidParameterError(field, f"{field} must be finite (got {field}={number})", value)
    if positive and number <= 0:
        raise InvalidParameterError(
            field, f"{field} must be larger than 0 (got {field}={number:g}{suffix})", value
        )
    if nonnegative and number < 0:
        raise InvalidParameterError(
            field, f"{field} must be at least 0 (got {field}={number:g}{suffix})", value
        )
    return number


def check_bool(field: str, value: Any) -> bool:
    """Return ``value`` if it is a ``bool`` (NumPy booleans included)."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(field, f"{field} must be True or False (got {value!r})", value)
    return bool(value)


def check_choice(field: str, value: Any, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise raise with a "did you mean" hint."""
    options = tuple(choices)
    if isinstance(value, str) and value in options:
        return value
    close = difflib.get_close_matches(str(value), options, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InvalidParameterError(
        field,
        f"{field} must be one of {', '.join(map(repr, options))} (got {value!r}){hint}",
        value,
    )


def check_array(
    field: str,
    value: Any,
    shape: tuple[int, ...],
    *,
    nonnegative: bool = False,
) -> np.ndarray:
    """Return a float64 copy of a finite real array of exactly ``shape``."""
    try:
        array = np.array(value, copy=True)
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(
            field, f"{field} must be a numeric array ({error})", value
        ) from None
    if array.dtype.kind not in "biuf":
        raise InvalidParameterError(
            field, f"{field} must be a real numeric array (got dtype {array.dtype})", value
        )
    if array.shape != tuple(shape):
        raise ShapeMismatchError(
            field, f"{field} must have shape {tuple(shape)} (got shape {array.shape})", value
        )
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise InvalidParameterError(
            field,
            f"{field} must contain only finite values (got {field}{list(index)}={array[index]})",
            value,
        )
    if nonnegative and np.any(array < 0):
        raise InvalidParameterError(
            field, f"{field} must not contain negative values (got minimum {array.min():g})", value
        )
    return array


def check_inputs(field: str, value: Any, n_in: int) -> np.ndarray:
    """Return network inputs as a C-contiguous array of shape ``(N_batch, N_steps, N_in)``."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise InvalidParameterError(
            field, f"{field} must be a real numeric array (got dtype {array.dtype})", value
        )
    if array.ndim != 3:
        raise ShapeMismatchError(
            field,
            f"{field} must have shape (N_batch, N_steps, N_in={n_in}) (got shape {array.shape})",
            value,
        )
    if array.shape[2] != n_in:
        raise ShapeMismatchError(
            field,
            f"{field} must have N_in={n_in} channels in its last axis (got shape {array.shape})",
            value,
        )
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ShapeMismatchError(
            field,
            f"{field} must hold at least one trial and one time step (got shape {array.shape})",
            value,
        )
    return array
