"""Exceptions shared by every layer of the package.

Every error that bad user input can cause is an :class:`InvalidParameterError`, which is also a
:class:`ValueError`, so ``except ValueError`` keeps working for callers who do not know this
package. The message names the field, the rule that failed and the value received.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "PsychRNNWidgetsError",
    "InvalidParameterError",
    "ShapeMismatchError",
    "WeightFileError",
    "TrainingError",
]


class PsychRNNWidgetsError(Exception):
    """Base class of every exception this package raises on purpose."""


class InvalidParameterError(PsychRNNWidgetsError, ValueError):
    """A parameter value breaks a rule.

    Parameters
    ----------
    field
        Name of the parameter, as the user spells it (``"tau"``, ``"rec_connectivity"``).
    message
        The full sentence shown to the user; it names the field, the rule and the value.
    value
        The value received, kept for programs that want to show it differently.
    """

    def __init__(self, field: str, message: str, value: Any = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class ShapeMismatchError(InvalidParameterError):
    """An array has a shape that does not match the network or task sizes."""


class WeightFileError(PsychRNNWidgetsError, ValueError):
    """A weight file is missing, unreadable, truncated or holds data this package rejects."""


class TrainingError(PsychRNNWidgetsError, RuntimeError):
    """Training cannot start or go on (for example, a second run while one is active)."""
