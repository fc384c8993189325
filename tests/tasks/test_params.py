"""Tests of single-parameter declarations."""

from __future__ import annotations

import numpy as np
import pytest

from psychrnn_widgets.errors import InvalidParameterError
from psychrnn_widgets.tasks import Param

DT = Param("dt", "float", 10.0, "Time step.", unit="ms", minimum=0.0, min_inclusive=False)
COUNT = Param("N_batch", "int", 50, "Trials.", minimum=1, maximum=1000)
FLAG = Param("flag", "bool", False, "A switch.")
SIDE = Param("side", "choice", None, "Side.", choices=(0, 1), allow_none=True)
LEVELS = Param("levels", "float_list", (0.1, 0.5), "Levels.", minimum=0.0, maximum=1.0)


def test_canonical_values():
    assert DT.validate(5) == 5.0
    assert isinstance(DT.validate(5), float)
    assert COUNT.validate(3.0) == 3
    assert isinstance(COUNT.validate(np.int64(7)), int)
    assert FLAG.validate(np.bool_(True)) is True
    assert SIDE.validate(None) is None
    assert SIDE.validate(np.int64(1)) == 1
    assert LEVELS.validate([0, 1]) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        (DT, 0, "dt must be larger than 0 ms (got dt=0 ms)"),
        (DT, -2.5, "dt must be larger than 0 ms (got dt=-2.5 ms)"),
        (DT, float("nan"), "dt must be finite (got dt=nan ms)"),
        (DT, "10", "dt must be a number (got dt='10' ms)"),
        (DT, True, "dt must be a number (got dt=True ms)"),
        (DT, None, "dt must not be None (got dt=None)"),
        (COUNT, 2.5, "N_batch must be a whole number (got N_batch=2.5)"),
        (COUNT, 0, "N_batch must be at least 1 (got N_batch=0)"),
        (COUNT, 1001, "N_batch must be at most 1000 (got N_batch=1001)"),
        (FLAG, 1, "flag must be True or False (got flag=1)"),
        (SIDE, 2, "side must be one of 0, 1 (got side=2)"),
        (SIDE, True, "side must be one of 0, 1 (got side=True)"),
        (SIDE, [0, 1], "side must be one of 0, 1 (got side=[0, 1])"),
        (LEVELS, [], "levels must contain at least one value (got levels=[])"),
        (LEVELS, [0.2, 1.5], "levels must be at most 1 (got levels=[0.2, 1.5])"),
        (LEVELS, "0.2", "levels must be a list of numbers (got levels='0.2')"),
    ],
)
def test_invalid_value_message(param, value, message):
    with pytest.raises(InvalidParameterError) as info:
        param.validate(value)
    assert str(info.value) == message
    assert info.value.field == param.name


def test_bad_declaration_rejected():
    with pytest.raises(ValueError, match="kind must be one of"):
        Param("x", "complex", 0, "x")
    with pytest.raises(InvalidParameterError, match="x must be at least 1"):
        Param("x", "int", 0, "x", minimum=1)
