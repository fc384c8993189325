"""Declared task parameters: name, kind, default, bounds, unit and help, checked one at a time."""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from psychrnn_widgets.errors import InvalidParameterError

__all__ = ["PARAM_KINDS", "Param", "format_value", "unknown_name_error"]

PARAM_KINDS = ("float", "int", "bool", "choice", "float_list")


def format_value(value: Any, unit: str = "") -> str:
    """Format a value for an error message, with its unit (``"5 ms"``, ``"0.3"``, ``"None"``)."""
    if (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, int))
        and float(value).is_integer()
        and abs(value) < 1e15
    ):
        text = str(int(value))
    elif isinstance(value, numbers.Real) and not isinstance(value, bool):
        text = str(value)
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(format_value(v) for v in value) + "]"
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    return f"{text} {unit}" if unit and value is not None else text


def unknown_name_error(
    name: str, known: Iterable[str], what: str = "parameter"
) -> InvalidParameterError:
    """Build the error for an unknown parameter name, with a "did you mean" hint where one fits."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known names: {', '.join(known)}"
    return InvalidParameterError(name, f"unknown {what} {name!r}{hint}", name)


@dataclass(frozen=True)
class Param:
    """Declaration of one task parameter; widget forms are generated from these fields.

    Parameters
    ----------
    name : str
        Attribute name on the task, e.g. ``"coherence"``.
    kind : str
        One of ``"float"``, ``"int"``, ``"bool"``, ``"choice"``, ``"float_list"``.
    default : Any
        Value used when the caller gives none.
    help : str
        One line shown under the form field.
    unit : str
        Unit of the value (``"ms"``, ``""``...), used in messages and forms.
    minimum, maximum : float or None
        Bounds for numbers and for every item of a float list.
    min_inclusive, max_inclusive : bool
        Whether the bounds themselves are allowed.
    choices : tuple
        Allowed values for ``kind="choice"``.
    allow_none : bool
        Whether ``None`` is allowed; for trial variables it means "drawn at random per trial".
    """

    name: str
    kind: str
    default: Any
    help: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    choices: tuple = ()
    allow_none: bool = False

    def __post_init__(self) -> None:
        # Declarations are code, not user input, but a typo here would only surface in a form.
        if self.kind not in PARAM_KINDS:
            raise ValueError(
                f"Param {self.name!r}: kind must be one of {PARAM_KINDS}, got {self.kind!r}"
            )
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"Param {self.name!r}: kind 'choice' needs choices")
        self.validate(self.default)

    def validate(self, value: Any) -> Any:
        """Check ``value`` against this declaration and return it in canonical form.

        Integers become ``int``, floats ``float``, float lists a tuple of floats.

        Raises
        ------
        InvalidParameterError
            If the value has the wrong type, is not finite, or is out of bounds or choices.
        """
        if value is None:
            if self.allow_none:
                return None
            raise self._error("must not be None", value)
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            raise self._error("must be True or False", value)
        if self.kind == "choice":
            if np.ndim(value) == 0:
                for choice in self.choices:
                    # True == 1 in Python; a bool must not select the choice 1 or the reverse.
                    if isinstance(value, bool) == isinstance(choice, bool) and value == choice:
                        return choice
            allowed = ", ".join(format_value(c) for c in self.choices)
            raise self._error(f"must be one of {allowed}", value)
        if self.kind == "float_list":
            return self._validate_list(value)
        number = self._to_number(value)
        self._check_bounds(number, value)
        return number

    def _to_number(self, value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            noun = "an integer" if self.kind == "int" else "a number"
            raise self._error(f"must be {noun}", value)
        if not math.isfinite(float(value)):
            raise self._error("must be finite", value)
        if self.kind == "int":
            # Forms and JSON hand over 3.0 for 3; accept whole floats, reject 2.5.
            if float(value) != math.floor(float(value)):
                raise self._error("must be a whole number", value)
            return int(value)
        return float(value)

    def _check_bounds(self, number: float, shown: Any) -> None:
        if self.minimum is not None:
            low_ok = number >= self.minimum if self.min_inclusive else number > self.minimum
            if not low_ok:
                rule = "at least" if self.min_inclusive else "larger than"
                raise self._error(f"must be {rule} {format_value(self.minimum, self.unit)}", shown)
        if self.maximum is not None:
            high_ok = number <= self.maximum if self.max_inclusive else number < self.maximum
            if not high_ok:
                rule = "at most" if self.max_inclusive else "smaller than"
                raise self._error(f"must be {rule} {format_value(self.maximum, self.unit)}", shown)

    def _validate_list(self, value: Any) -> tuple[float, ...]:
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, Iterable)):
            raise self._error("must be a list of numbers", value)
        items = list(value)
        if not items:
            raise self._error("must contain at least one value", value)
        result = []
        for item in items:
            if (
                isinstance(item, bool)
                or not isinstance(item, numbers.Real)
                or not math.isfinite(float(item))
            ):
                raise self._error("must contain only finite numbers", items)
            number = float(item)
            self._check_bounds(number, items)
            result.append(number)
        return tuple(result)

    def _error(self, rule: str, value: Any) -> InvalidParameterError:
        shown = format_value(value, self.unit)
        return InvalidParameterError(
            self.name, f"{self.name} {rule} (got {self.name}={shown})", value
        )
