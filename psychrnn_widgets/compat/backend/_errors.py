"""The error PsychRNN raises as ``UserWarning``, kept catchable both ways."""

from __future__ import annotations

from psychrnn_widgets.errors import InvalidParameterError

__all__ = ["CompatUsageError"]


class CompatUsageError(InvalidParameterError, UserWarning):
    """Invalid use of a PsychRNN API.

    PsychRNN raises ``UserWarning`` as an exception in these cases, so scripts may catch that;
    this class is also an :class:`~psychrnn_widgets.errors.InvalidParameterError` (a
    ``ValueError``), like every input error of this package.
    """
