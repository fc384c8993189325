"""Decode the object-typed entries of PsychRNN weight files without unpickling them.

PsychRNN stores ``dale_ratio=None`` and, on its main branch, ``transfer_function`` as 0-d object
arrays, whose ``.npy`` payload is a pickle. Unpickling runs any callable the file names, so this
module reads the pickle's opcodes with :func:`pickletools.genops` and interprets a small subset
of them on a symbolic stack. Nothing is imported or called. Only NumPy's array reconstruction
and a short list of known transfer functions may appear as globals, and the array must contain
one item: None, a number, a bool, or one of those functions.
"""

from __future__ import annotations

import io
import pickletools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from psychrnn_widgets.errors import WeightFileError

__all__ = ["FunctionReference", "decode_object_npy"]

# Globals that NumPy's own pickling of an ndarray refers to (module names of NumPy 1 and 2).
_NUMPY_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}

# Function name → transfer-function name, for functions defined in TensorFlow, Keras, NumPy or
# PsychRNN's simulator module (its NumPy relu and sigmoid).
_FUNCTION_NAMES = {
    "relu": "relu",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "softplus": "softplus",
    "identity": "linear",
    "linear": "linear",
}
_FUNCTION_MODULES = ("tensorflow", "keras", "numpy", "psychrnn.backend.simulation")

_STRING_OPS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "UNICODE",
    "SHORT_BINSTRING",
    "BINSTRING",
    "STRING",
}
_BYTES_OPS = {"SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "SHORT_BINBYTES8"}
_NUMBER_OPS = {"BININT", "BININT1", "BININT2", "LONG1", "LONG4", "INT", "LONG", "BINFLOAT", "FLOAT"}


@dataclass(frozen=True)
class FunctionReference:
    """A global function named in a pickle: its module, its name and its transfer-function name."""

    module: str
    name: str
    transfer_function: str


@dataclass
class _Reduced:
    """The symbolic result of calling an allowed global (never actually called)."""

    callable: tuple[str, str]
    args: Any
    state: Any = None


@dataclass
class _Mark:
    items: list[Any] = field(default_factory=list)


def _global(module: str, name: str, key: str) -> Any:
    if (module, name) in _NUMPY_GLOBALS:
        return (module, name)
    if name in _FUNCTION_NAMES and any(
        module == root or module.startswith(root + ".") for root in _FUNCTION_MODULES
    ):
        return FunctionReference(module, name, _FUNCTION_NAMES[name])
    raise WeightFileError(
        f"weight file entry {key!r} refers to {module}.{name}, which is not an allowed value; only None, "
        "numbers and the transfer functions relu, tanh, sigmoid, softplus and identity are accepted"
    )


def _pop_to_mark(stack: list[Any], key: str) -> list[Any]:
    for index in range(len(stack) - 1, -1, -1):
        if isinstance(stack[index], _Mark):
            items = stack[index + 1 :]
            del stack[index:]
            return items
    raise WeightFileError(f"weight file entry {key!r} has a malformed pickle (no MARK)")


def _run_opcodes(payload: bytes, key: str) -> Any:
    """Interpret the pickle symbolically and return its top-level object."""
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    try:
        for opcode, argument, _position in pickletools.genops(payload):
            name = opcode.name
            if name in ("PROTO", "FRAME"):
                continue
            if name == "STOP":
                if len(stack) != 1:
                    raise WeightFileError(f"weight file entry {key!r} has a malformed pickle")
                return stack[0]
            if name in _STRING_OPS or name in _BYTES_OPS or name in _NUMBER_OPS:
                stack.append(argument)
            elif name == "NONE":
                stack.append(None)
            elif name in ("NEWTRUE", "NEWFALSE"):
                stack.append(name == "NEWTRUE")
            elif name == "MARK":
                stack.append(_Mark())
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "TUPLE":
                stack.append(tuple(_pop_to_mark(stack, key)))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                count = int(name[-1])
                items = stack[-count:]
                del stack[-count:]
                stack.append(tuple(items))
            elif name == "APPEND":
                item = stack.pop()
                stack[-1].append(item)
            elif name == "APPENDS":
                items = _pop_to_mark(stack, key)
                stack[-1].extend(items)
            elif name == "GLOBAL":
                module, _, attribute = argument.partition(" ")
                stack.append(_global(module, attribute, key))
            elif name == "STACK_GLOBAL":
                attribute = stack.pop()
                module = stack.pop()
                stack.append(_global(str(module), str(attribute), key))
            elif name == "REDUCE":
                args = stack.pop()
                function = stack.pop()
                if not isinstance(function, tuple) or function not in _NUMPY_GLOBALS:
                    raise WeightFileError(
                        f"weight file entry {key!r} calls {function!r} in its pickle, which is not allowed"
                    )
                stack.append(_Reduced(function, args))
            elif name == "BUILD":
                state = stack.pop()
                if not isinstance(stack[-1], _Reduced):
                    raise WeightFileError(
                        f"weight file entry {key!r} sets the state of a non-NumPy object"
                    )
                stack[-1].state = state
            elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
                memo[int(argument)] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("BINGET", "LONG_BINGET", "GET"):
                stack.append(memo[int(argument)])
            else:
                raise WeightFileError(
                    f"weight file entry {key!r} uses the pickle opcode {name}, which is not allowed"
                )
    except WeightFileError:
        raise
    except (ValueError, IndexError, KeyError, AttributeError, TypeError) as error:
        raise WeightFileError(
            f"weight file entry {key!r} has a malformed pickle ({error})"
        ) from None
    raise WeightFileError(f"weight file entry {key!r} has a truncated pickle (no STOP)")


def decode_object_npy(data: bytes, key: str) -> None | bool | int | float | FunctionReference:
    """Return the single item of a 0-d object array stored as ``.npy`` bytes, without unpickling.

    Raises
    ------
    WeightFileError
        If the entry is not a 0-d or 1-item object array whose item is None, a bool, a number or
        an allowed transfer function.
    """
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        else:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    except ValueError as error:
        raise WeightFileError(
            f"weight file entry {key!r} has an invalid .npy header ({error})"
        ) from None
    if not dtype.hasobject:
        raise WeightFileError(f"weight file entry {key!r} is not an object array")
    if int(np.prod(shape)) != 1:
        raise WeightFileError(
            f"weight file entry {key!r} must contain one object (got shape {shape})"
        )
    result = _run_opcodes(stream.read(), key)
    if not isinstance(result, _Reduced) or result.callable[1] != "_reconstruct":
        raise WeightFileError(f"weight file entry {key!r} does not contain a NumPy array")
    state = result.state
    if not (
        isinstance(state, tuple)
        and len(state) == 5
        and isinstance(state[4], list)
        and len(state[4]) == 1
    ):
        raise WeightFileError(f"weight file entry {key!r} has an unexpected array layout")
    item = state[4][0]
    if item is None or isinstance(item, (bool, int, float, FunctionReference)):
        return item
    raise WeightFileError(
        f"weight file entry {key!r} contains {type(item).__name__} data, which is not allowed"
    )
